//! `emotion-server`: faces, expressions, valence and arousal over HTTP, and a live webcam page.
//!
//! Routes (every error is `{"error": {"code", "message"}}`, see [`error::ApiError`], except
//! hyper's own empty `400` to a request it cannot parse, sent before the router sees it):
//! - `POST /v1/analyze`: one encoded image (raw body with an `image/*` or
//!   `application/octet-stream` content type, or the multipart field `image`) -> the CLI's JSON
//!   object for one image. Query: every analyzer option ([`engine::AnalyzeOptions`]: `min_face_size`,
//!   `max_face_size`, `max_faces`, `score_threshold`, `pyramid_scale_factor`, `window_step`,
//!   `flip_average`, `detector`, `align`) plus `whole_image` and `allow_partial`. The body is read
//!   within `--body-timeout` (408 `body_timeout`) before the request is admitted.
//! - `GET /v1/stream`: WebSocket; each binary message is an encoded frame, each reply the same
//!   JSON object plus `frame` (0-based count on this connection), or an error object.
//! - `GET /v1/info`: versions, model metadata, expression names, limits.
//! - `GET /healthz`: `{"status": "ok"}`.
//! - `GET /`: the webcam page.

pub mod api;
pub mod engine;
pub mod error;
#[path = "../../emotion-cli/src/report.rs"]
pub mod report;
pub mod stream;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use engine::{AnalyzeOptions, Config, Engine, Settings};

/// Everything the handlers share.
pub struct AppState {
    pub engine: Arc<Engine>,
    pub config: Config,
}

/// Loads the model and builds the router.
///
/// # Errors
/// The library's model and option errors (see [`Engine::new`]).
pub fn app(config: Config) -> emotion_core::Result<Router> {
    let engine = Arc::new(Engine::new(&config)?);
    Ok(router(Arc::new(AppState { engine, config })))
}

/// The routes and their middleware.
pub fn router(state: Arc<AppState>) -> Router {
    let config = &state.config;
    // Body limit twice: tower-http refuses a declared Content-Length over the limit before
    // reading anything; axum's limit stops a chunked body that grows past it.
    let analyze = post(api::analyze).layer((
        RequestBodyLimitLayer::new(config.max_body),
        TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, config.timeout),
        DefaultBodyLimit::max(config.max_body),
    ));
    Router::new()
        .route("/", get(api::page))
        .route("/healthz", get(api::healthz))
        .route("/v1/info", get(api::info))
        .route("/v1/analyze", analyze)
        .route("/v1/stream", get(stream::upgrade))
        .fallback(api::not_found)
        .with_state(state)
        // Outermost: a panicking handler answers 500 (JSON) and leaves the other connections be.
        .layer((CatchPanicLayer::custom(panic_response), axum::middleware::map_response(error::json_errors)))
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    error::ApiError::internal("the request handler panicked").into_response()
}

/// Serves `router` on `listener` until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
