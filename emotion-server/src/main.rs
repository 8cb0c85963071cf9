//! `emotion-server`: the HTTP API and the webcam page (see the crate docs for the routes).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use emotion_server::{Config, Settings};

// The analyzer's flags are the CLI's, from its source: one definition, the same names and help.
#[path = "../../emotion-cli/src/analyzer_args.rs"]
mod analyzer_args;
use analyzer_args::AnalyzerArgs;

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
    /// Longest time receiving one request body may take, seconds (then 408 `body_timeout`). Bodies
    /// are read before a request counts against --max-concurrency, so a stalled upload holds no
    /// place; keep it below --timeout.
    #[arg(long, default_value_t = Config::default().body_timeout.as_secs_f64())]
    body_timeout: f64,

    /// The CLI's analyzer flags; a request may change the detector settings, max_faces and
    /// flip_average for itself (query parameters of the same names).
    #[command(flatten)]
    analyzer: AnalyzerArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    for (flag, seconds) in [("--timeout", args.timeout), ("--body-timeout", args.body_timeout)] {
        if !(seconds > 0.0 && Duration::try_from_secs_f64(seconds).is_ok()) {
            eprintln!("emotion-server: {flag} must be > 0 seconds");
            return ExitCode::from(2);
        }
    }
    let a = &args.analyzer;
    let config = Config {
        model: args.model,
        overrides: a.model_overrides(),
        settings: Settings { detector: a.detector_options(), max_faces: a.max_faces, flip_average: a.flip_average, align: a.align },
        threads: a.threads,
        max_body: args.max_body,
        max_concurrency: args.max_concurrency,
        workers: args.workers,
        timeout: Duration::from_secs_f64(args.timeout),
        body_timeout: Duration::from_secs_f64(args.body_timeout),
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
