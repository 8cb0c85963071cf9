//! Image files to 8-bit RGB pixels: the one decoder behind `load_rgb` (Rust),
//! `emotion_image_load` (C), `emotion.load_image` (Python) and the command-line tool, so every
//! front door sees the same pixels for the same file.
//!
//! Damaged files are refused by default. The `image` crate's JPEG decoder (zune-jpeg in lenient
//! mode) fills whatever a truncated or corrupt file lacks with grey and reports success, so a
//! photo cut at half its bytes would be analysed as half a photo. JPEG files are therefore
//! decoded with zune-jpeg in strict mode (the same decoder and colour settings `image` uses, so
//! intact files give the same pixels); the other formats' decoders already return an error when
//! data ends early. [`LoadOptions::allow_partial`] accepts such files and marks the result.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use image::{DynamicImage, ImageDecoder, ImageFormat};

use crate::error::{Error, Result};
use crate::files::{self, MAX_FILE_BYTES};
use crate::pixels::DEFAULT_MAX_PIXELS;

/// How many bytes of a file are read first to recognise its format by its signature.
const SIGNATURE_BYTES: u64 = 64;

/// How [`load_image`] treats a file. The default is strict: any decoding error, including data
/// that ends early, is an [`Error::Decode`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Accept files whose pixel data is truncated or damaged after a readable header: the pixels
    /// the decoder produced are kept, the rest are black (grey for JPEG), and
    /// [`LoadedImage::partial`] is `true`. A file whose header cannot be read is still an error.
    pub allow_partial: bool,
}

impl LoadOptions {
    /// Sets [`LoadOptions::allow_partial`].
    pub fn allow_partial(mut self, allow: bool) -> Self {
        self.allow_partial = allow;
        self
    }
}

/// A decoded image file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedImage {
    /// 8-bit RGB pixels, EXIF orientation applied (width and height are those after rotation).
    pub image: image::RgbImage,
    /// `true` when the data was incomplete or damaged and [`LoadOptions::allow_partial`] let it
    /// through; never `true` with the default options.
    pub partial: bool,
    /// The decoder's complaint when `partial` is `true` (e.g. "Premature end of buffer").
    pub decode_error: Option<String>,
    /// `true` when the file holds frames or pages after the first (an animated GIF or WebP, a
    /// TIFF with several pages, an MPO multi-picture JPEG): only the first is decoded, the others
    /// are not looked at.
    pub more_frames: bool,
}

/// Decodes an image file (PNG, JPEG, BMP, GIF, TIFF, WebP) to 8-bit RGB, applying its EXIF
/// orientation, refusing damaged data: `load_image(path, &LoadOptions::default())`.
///
/// # Errors
/// As [`load_image`].
pub fn load_rgb(path: impl AsRef<Path>) -> Result<image::RgbImage> {
    load_image(path, &LoadOptions::default()).map(|loaded| loaded.image)
}

/// Decodes an image file (PNG, JPEG, BMP, GIF, TIFF, WebP) to 8-bit RGB, applying its EXIF
/// orientation. Of a file with several frames or pages (animated GIF or WebP, multi-page TIFF,
/// MPO) only the first is decoded, and [`LoadedImage::more_frames`] is set. 16-bit images are scaled to 8 bits, gray and palette images expanded
/// to RGB, alpha dropped.
///
/// The size the file declares is checked against [`DEFAULT_MAX_PIXELS`] before anything is
/// decoded, and the decoder may allocate at most 8 bytes a pixel of that limit, so a small file
/// declaring a huge image fails fast instead of exhausting memory.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read or has more than [`MAX_FILE_BYTES`] bytes,
/// [`Error::ImageTooLarge`] when it declares more than [`DEFAULT_MAX_PIXELS`] pixels,
/// [`Error::Decode`] when it is not an image in a supported format (a file whose first 64 bytes
/// carry no image signature is refused without reading further) or (unless
/// `options.allow_partial`) its data is truncated or damaged.
pub fn load_image(path: impl AsRef<Path>, options: &LoadOptions) -> Result<LoadedImage> {
    let path = path.as_ref();
    let with_path = |e| match e {
        Error::Decode { message, .. } => Error::Decode { path: path.to_path_buf(), message },
        other => other,
    };
    let mut file = files::open(path)?;
    // The first bytes tell the format (each supported one starts with a signature): a file that
    // starts with none is refused without reading the rest, however long it is (`/dev/zero`).
    let mut bytes = Vec::new();
    files::read_at_most(&mut file, &mut bytes, SIGNATURE_BYTES, path)?;
    if bytes.len() as u64 == SIGNATURE_BYTES && image::guess_format(&bytes).is_err() {
        if let Err(e) = decode_image(&bytes, options) {
            return Err(with_path(e));
        }
    }
    files::read_up_to(&mut file, &mut bytes, MAX_FILE_BYTES, path)?;
    decode_image(&bytes, options).map_err(with_path)
}

/// As [`load_image`], from the bytes of an image file in memory ([`Error::Decode`] then carries
/// an empty path).
///
/// # Errors
/// As [`load_image`], without [`Error::Io`].
pub fn decode_image(bytes: &[u8], options: &LoadOptions) -> Result<LoadedImage> {
    let rewrapped = webp_lossless_16384(bytes);
    let bytes = rewrapped.as_deref().unwrap_or(bytes);
    let decode = |message: String| Error::Decode { path: Default::default(), message };
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| decode(e.to_string()))?;
    let format = reader.format();
    // The size the header declares, read from the bytes before any decoder runs: decoders refuse
    // some huge sizes with their own errors ("Memory limit exceeded", "Image too large") or
    // reserve memory for them while reading the header.
    if let Some((width, height)) = format.and_then(|f| declared_size(bytes, f)) {
        check_size(width, height)?;
    }
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(DEFAULT_MAX_PIXELS * 8);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| decode(e.to_string()))?;
    // Again as the decoder sees it (formats or header forms `declared_size` does not read).
    let (width, height) = decoder.dimensions();
    check_size(width, height)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);

    let strict = if format == Some(ImageFormat::Jpeg) { jpeg_strict_complete(bytes) } else { Ok(None) };
    let (mut img, decode_error) = match strict {
        Ok(Some(img)) => (img, None),
        Err(e) if !options.allow_partial => return Err(decode(format!("damaged or truncated JPEG data: {e}"))),
        strict => {
            // Lenient decoding: keep what the decoder wrote before it failed.
            let failure = Rc::new(RefCell::new(strict.err()));
            let lenient = Lenient { inner: decoder, failure: Rc::clone(&failure), allow: options.allow_partial };
            let img = DynamicImage::from_decoder(lenient).map_err(|e| decode(e.to_string()))?;
            let failure = failure.borrow_mut().take();
            (img, failure)
        }
    };
    img.apply_orientation(orientation);
    let more_frames = format.is_some_and(|f| crate::frames::more_than_one(bytes, f));
    Ok(LoadedImage { image: img.into_rgb8(), partial: decode_error.is_some(), decode_error, more_frames })
}

/// [`Error::ImageTooLarge`] when `width` x `height` is over [`DEFAULT_MAX_PIXELS`].
fn check_size(width: u32, height: u32) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > DEFAULT_MAX_PIXELS {
        return Err(Error::ImageTooLarge { width, height, pixels, limit: DEFAULT_MAX_PIXELS });
    }
    Ok(())
}

/// The width and height a PNG, GIF, BMP, JPEG, TIFF or WebP header declares, as the `imagesize`
/// crate reads them; `None` where it cannot read them or takes the file for another format than
/// `format` (the decoder then reports what is wrong, or its own dimensions are checked).
fn declared_size(bytes: &[u8], format: ImageFormat) -> Option<(u32, u32)> {
    use imagesize::ImageType;
    let same_format = matches!(
        (format, imagesize::image_type(bytes).ok()?),
        (ImageFormat::Png, ImageType::Png)
            | (ImageFormat::Jpeg, ImageType::Jpeg)
            | (ImageFormat::Gif, ImageType::Gif)
            | (ImageFormat::Bmp, ImageType::Bmp)
            | (ImageFormat::Tiff, ImageType::Tiff)
            | (ImageFormat::WebP, ImageType::Webp)
    );
    if !same_format {
        return None;
    }
    let size = imagesize::blob_size(bytes).ok()?;
    let (width, height) = (u32::try_from(size.width).ok()?, u32::try_from(size.height).ok()?);
    match format {
        // imagesize reads a BMP's sides as unsigned 32-bit numbers after the 14-byte file header,
        // whatever the form of the DIB header there. In the old 12-byte form (BITMAPCOREHEADER)
        // they are 16-bit, so that reading is wrong: left to the decoder, whose dimensions are
        // checked before any pixel is read. In the others they are signed, and a negative height
        // is a top-down image, not one over 4 billion rows high.
        ImageFormat::Bmp if bytes.get(14..18) == Some(&12u32.to_le_bytes()[..]) => None,
        ImageFormat::Bmp => Some(((width as i32).unsigned_abs(), (height as i32).unsigned_abs())),
        // A lossy WebP frame's sides are 14 bits; imagesize keeps the 2 upscaling bits above them.
        ImageFormat::WebP if bytes.get(12..16) == Some(&b"VP8 "[..]) => Some((width & 0x3FFF, height & 0x3FFF)),
        _ => Some((width, height)),
    }
}

/// A simple-format lossless WebP (`RIFF....WEBPVP8L`) with a side of exactly 16384 pixels, the
/// largest WebP allows, put in an extended-format container (`VP8X`) that declares the same
/// size; `None` for every other file.
///
/// image-webp 0.2.4 (the latest) reads a `VP8L` header's sides as `(1 + field) & 0x3FFF`, so
/// 16384 comes out as 0; it takes an extended file's size from the `VP8X` chunk (24-bit fields),
/// and its lossless decoder then checks the `VP8L` header against that size correctly.
fn webp_lossless_16384(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < 25 || &bytes[..4] != b"RIFF" || &bytes[8..16] != b"WEBPVP8L" || bytes[20] != 0x2F {
        return None;
    }
    let header = u32::from_le_bytes(bytes[21..25].try_into().ok()?);
    let (w, h) = (header & 0x3FFF, (header >> 14) & 0x3FFF); // sides minus 1
    if w != 0x3FFF && h != 0x3FFF {
        return None;
    }
    let alpha = if header & (1 << 28) != 0 { 0x10 } else { 0 };
    let mut out = Vec::with_capacity(bytes.len() + 18);
    out.extend_from_slice(b"RIFF\0\0\0\0WEBPVP8X");
    out.extend_from_slice(&10u32.to_le_bytes());
    out.extend_from_slice(&[alpha, 0, 0, 0]);
    out.extend_from_slice(&w.to_le_bytes()[..3]);
    out.extend_from_slice(&h.to_le_bytes()[..3]);
    out.extend_from_slice(&bytes[12..]);
    let riff_size = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    Some(out)
}

/// [`jpeg_strict`] on the file with [`SENTINEL`] before its EOI, so that data ending before the
/// last block the header declares is an error too. Where only the sentinel makes it fail, the
/// message says that the data ends early.
fn jpeg_strict_complete(bytes: &[u8]) -> std::result::Result<Option<DynamicImage>, String> {
    let guarded = jpeg_with_sentinel(bytes);
    match jpeg_strict(&guarded) {
        Err(e) if matches!(guarded, std::borrow::Cow::Owned(_)) && jpeg_strict(bytes).is_ok() => {
            Err(format!("the data ends before the last row the header declares ({e})"))
        }
        other => other,
    }
}

/// Bytes of 1 bits put before a JPEG's EOI marker by [`jpeg_with_sentinel`] (`FF 00` is a
/// stuffed `FF` data byte): 64 bits, longer than any Huffman code (16 bits) plus its extra bits.
const SENTINEL: [u8; 16] = [0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00];

/// The JPEG `bytes` with [`SENTINEL`] inserted before the EOI marker that ends the first image,
/// or `bytes` unchanged where that marker is not found (a truncated file: the decoder then reports
/// the missing data itself).
///
/// A JPEG whose header declares more rows than its entropy-coded data holds, ending with a proper
/// EOI, is decoded by zune-jpeg as complete even in strict mode: at a marker it feeds 0 bits, which
/// decode as ordinary coefficients. A run of 1 bits is no Huffman code (JPEG never assigns the
/// all-ones code), so with the sentinel in place the decoder fails on the first block it reads past
/// the real data. On an intact file it is never read: the last block ends before it, and the
/// decoder's read-ahead does not change pixels. The pixels of an intact file are therefore
/// unchanged (tested against the `image` crate on real photos).
fn jpeg_with_sentinel(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match first_eoi(bytes) {
        Some(at) => {
            let mut out = Vec::with_capacity(bytes.len() + SENTINEL.len());
            out.extend_from_slice(&bytes[..at]);
            out.extend_from_slice(&SENTINEL);
            out.extend_from_slice(&bytes[at..]);
            std::borrow::Cow::Owned(out)
        }
        None => std::borrow::Cow::Borrowed(bytes),
    }
}

/// The offset of the EOI marker (`FF D9`) that ends the first image of a JPEG, found by walking
/// its marker segments (by their lengths, so an EXIF thumbnail's EOI is skipped) and the
/// entropy-coded data after each SOS (where `FF` is followed by `00` for a data byte or `D0`-`D7`
/// for a restart marker). `None` when the walk runs off the end.
fn first_eoi(bytes: &[u8]) -> Option<usize> {
    let mut at = 2; // after SOI
    loop {
        // Fill bytes (`FF FF ...`) may precede a marker.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        match marker {
            0xD9 => return Some(at),
            0x01 | 0xD0..=0xD7 => at += 2, // markers without a length
            _ => {
                let length = usize::from(u16::from_be_bytes([*bytes.get(at + 2)?, *bytes.get(at + 3)?]));
                at += 2 + length;
                if marker == 0xDA {
                    // Entropy-coded data up to the next marker that is neither a data byte nor RST.
                    loop {
                        let ff = at + bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
                        match *bytes.get(ff + 1)? {
                            0x00 | 0xD0..=0xD7 | 0xFF => at = ff + 1,
                            _ => {
                                at = ff;
                                break;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Decodes a JPEG with zune-jpeg in strict mode, with the output colour space `image` would
/// choose (RGB, RGBA, luma, luma + alpha; CMYK and YCCK converted to RGB), so intact files give
/// exactly the pixels of `DynamicImage::from_decoder`. `Err` carries the decoder's message.
fn jpeg_strict(bytes: &[u8]) -> std::result::Result<Option<DynamicImage>, String> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let options = || DecoderOptions::default().set_strict_mode(true).set_max_width(usize::MAX).set_max_height(usize::MAX);
    let mut headers = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options());
    headers.decode_headers().map_err(|e| e.to_string())?;
    let input = headers.input_colorspace().ok_or("no colour space in the header")?;
    let output = match input {
        ColorSpace::RGB | ColorSpace::RGBA | ColorSpace::Luma | ColorSpace::LumaA => input,
        _ => ColorSpace::RGB,
    };
    let mut decoder =
        zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options().jpeg_set_out_colorspace(output));
    let pixels = decoder.decode().map_err(|e| e.to_string())?;
    let (w, h) = decoder.dimensions().ok_or("no dimensions in the header")?;
    let (w, h) = (w as u32, h as u32);
    let size = || "decoded size does not match the header".to_string();
    Ok(Some(match output {
        ColorSpace::RGBA => DynamicImage::ImageRgba8(image::RgbaImage::from_raw(w, h, pixels).ok_or_else(size)?),
        ColorSpace::Luma => DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, pixels).ok_or_else(size)?),
        ColorSpace::LumaA => DynamicImage::ImageLumaA8(image::GrayAlphaImage::from_raw(w, h, pixels).ok_or_else(size)?),
        _ => DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, pixels).ok_or_else(size)?),
    }))
}

/// A decoder that, when `allow` is set, turns a pixel-reading failure into success and records
/// the message, leaving the buffer as far as the inner decoder filled it.
struct Lenient<D> {
    inner: D,
    failure: Rc<RefCell<Option<String>>>,
    allow: bool,
}

impl<D: ImageDecoder> ImageDecoder for Lenient<D> {
    fn dimensions(&self) -> (u32, u32) {
        self.inner.dimensions()
    }

    fn color_type(&self) -> image::ColorType {
        self.inner.color_type()
    }

    fn original_color_type(&self) -> image::ExtendedColorType {
        self.inner.original_color_type()
    }

    fn read_image(self, buf: &mut [u8]) -> image::ImageResult<()>
    where
        Self: Sized,
    {
        match self.inner.read_image(buf) {
            Err(e) if self.allow => {
                self.failure.borrow_mut().get_or_insert_with(|| e.to_string());
                Ok(())
            }
            other => other,
        }
    }

    fn read_image_boxed(self: Box<Self>, buf: &mut [u8]) -> image::ImageResult<()> {
        (*self).read_image(buf)
    }
}
