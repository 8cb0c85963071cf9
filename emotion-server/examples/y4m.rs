//! Writes a still photo as a short YUV4MPEG2 clip (4:2:0, BT.601 full range), the format
//! Chromium's fake camera reads (`--use-file-for-fake-video-capture=clip.y4m`).
//!
//! `cargo run --release -p emotion-server --example y4m -- photo.png clip.y4m [frames]`

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: y4m PHOTO OUT.y4m [FRAMES]".into());
    }
    let frames: usize = args.get(3).map(|f| f.parse()).transpose()?.unwrap_or(10);
    let img = emotion_core::load_rgb(&args[1])?;
    // 4:2:0 needs even sides: drop a last odd row or column.
    let (w, h) = (img.width() & !1, img.height() & !1);
    let px = |x: u32, y: u32| {
        let p = img.get_pixel(x, y).0;
        (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]))
    };
    let clamp = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    let mut y_plane = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = px(x, y);
            y_plane.push(clamp(0.299 * r + 0.587 * g + 0.114 * b));
        }
    }
    // Chroma from the mean of each 2x2 block.
    let (mut u_plane, mut v_plane) = (Vec::new(), Vec::new());
    for y in (0..h).step_by(2) {
        for x in (0..w).step_by(2) {
            let (mut r, mut g, mut b) = (0.0, 0.0, 0.0);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let p = px(x + dx, y + dy);
                (r, g, b) = (r + p.0 / 4.0, g + p.1 / 4.0, b + p.2 / 4.0);
            }
            u_plane.push(clamp(128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b));
            v_plane.push(clamp(128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b));
        }
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[2])?);
    writeln!(out, "YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 C420jpeg")?;
    for _ in 0..frames {
        out.write_all(b"FRAME\n")?;
        out.write_all(&y_plane)?;
        out.write_all(&u_plane)?;
        out.write_all(&v_plane)?;
    }
    out.flush()?;
    Ok(())
}
