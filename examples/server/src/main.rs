//! `emotion-server`: the HTTP API and the webcam page (see the crate docs for the routes).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use emotion_core::DetectorOptions;
use emotion_server::Config;

#[derive(Parser, Debug)]
#[command(name = "emotion-server", version, about = "HTTP API and live webcam page for facial expression, valence and arousal")]
struct Args {
    /// Address to listen on (0.0.0.0 to accept other machines).
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// TCP port (0: any free port, printed at start).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// ONNX emotion model meeting the model contract (default: the bundled model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Smallest face side to find, pixels [10, 10000] (a request may ask for another).
    #[arg(long, default_value_t = DetectorOptions::default().min_face_size)]
    min_face_size: u32,
    /// Largest face side to look for, pixels.
    #[arg(long)]
    max_face_size: Option<u32>,
    /// Minimum detection score (> 0).
    #[arg(long, default_value_t = DetectorOptions::default().score_threshold)]
    score_threshold: f32,
    /// Image pyramid ratio [0.01, 0.99].
    #[arg(long, default_value_t = DetectorOptions::default().pyramid_scale_factor)]
    pyramid_scale_factor: f32,
    /// Detector window step, pixels [1, 64].
    #[arg(long, default_value_t = DetectorOptions::default().window_step)]
    window_step: u32,
    /// Largest request body or WebSocket frame, bytes (larger: 413).
    #[arg(long, default_value_t = Config::default().max_body)]
    max_body: usize,
    /// Most analyses in flight (running or waiting for a worker); more get 503 with Retry-After.
    #[arg(long, default_value_t = Config::default().max_concurrency)]
    max_concurrency: usize,
    /// Threads running analyses (default: the available cores).
    #[arg(long, default_value_t = Config::default().workers)]
    workers: usize,
    /// Longest time one request may take, seconds (then 503 `timeout`).
    #[arg(long, default_value_t = Config::default().timeout.as_secs_f64())]
    timeout: f64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        eprintln!("emotion-server: --timeout must be > 0 seconds");
        return ExitCode::from(2);
    }
    let config = Config {
        model: args.model,
        detector: DetectorOptions::default()
            .with_min_face_size(args.min_face_size)
            .with_max_face_size(args.max_face_size)
            .with_score_threshold(args.score_threshold)
            .with_pyramid_scale_factor(args.pyramid_scale_factor)
            .with_window_step(args.window_step),
        max_body: args.max_body,
        max_concurrency: args.max_concurrency,
        workers: args.workers,
        timeout: Duration::from_secs_f64(args.timeout),
    };
    let router = match emotion_server::app(config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("emotion-server: {e}");
            return ExitCode::from(2);
        }
    };
    // The async threads only parse HTTP and move bytes; analyses run on the engine's own
    // bounded blocking pool.
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("emotion-server: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        let addr = SocketAddr::new(args.bind, args.port);
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("emotion-server: cannot listen on {addr}: {e}");
                return ExitCode::from(2);
            }
        };
        match listener.local_addr() {
            Ok(a) => eprintln!("emotion-server: listening on http://{a}/"),
            Err(_) => eprintln!("emotion-server: listening on {addr}"),
        }
        match emotion_server::serve(listener, router).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("emotion-server: {e}");
                ExitCode::from(1)
            }
        }
    })
}
