//! `GET /v1/stream`: a WebSocket for live video. The client sends each frame as one binary
//! message (an encoded image, e.g. a JPEG from a canvas) and waits for the reply before sending
//! the next, so a connection has at most one frame in flight. Replies are text messages: the
//! CLI's JSON object for the frame plus `frame` (0-based count of binary messages on this
//! connection), or `{"frame": n, "error": {...}}` (the connection stays open; on `overloaded` the
//! client should wait a little). A text message gets `{"error": ...}` without `frame`.
//! A message over `--max-body` bytes ends the connection with close code 1009, a text message
//! that is not UTF-8 with 1007, other malformed WebSocket data with 1002.
//!
//! Each connection has its own `emotion_core::Tracker` (the library's default tracker settings):
//! faces carry a `track_id` stable from frame to frame, smoothed probabilities, valence and
//! arousal in the usual fields and this frame's own values under `raw`, as in the CLI's video
//! output; a frame's time is when the server received it. With `whole_image=true` each frame is
//! classified as one face, untracked. A frame that times out takes its tracker with it: the next
//! frame starts new tracks.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::api::{report_json, request_options};
use emotion_core::Tracker;

use crate::engine::{AnalyzeOptions, Engine};
use crate::error::ApiError;
use crate::AppState;

/// `GET /v1/stream`: checks the query's options (400 `invalid_option` before the upgrade), then
/// upgrades to a WebSocket whose messages and frames may have at most `--max-body` bytes.
pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    query: Result<Query<AnalyzeOptions>, QueryRejection>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let options = request_options(&state, query)?;
    let max = state.config.max_body;
    Ok(ws.max_message_size(max).max_frame_size(max).on_upgrade(move |socket| session(socket, state, options)))
}

async fn session(mut socket: WebSocket, state: Arc<AppState>, options: AnalyzeOptions) {
    let mut session = Session::new(state, options);
    while let Some(received) = socket.recv().await {
        let message = match received {
            Ok(m) => m,
            Err(e) => {
                // The WebSocket layer refuses a message over the size limit before we see it and
                // the connection cannot go on; say why in the close frame (1009 = too big).
                // A text message that is not UTF-8 is refused there too: 1007 (invalid payload data).
                let text = e.to_string();
                let (code, reason) = if text.contains("too long") {
                    (close_code::SIZE, format!("message over the {} byte limit (--max-body)", session.state.config.max_body))
                } else if text.contains("UTF-8") {
                    (close_code::INVALID, "text message is not valid UTF-8".to_string())
                } else {
                    (close_code::PROTOCOL, "malformed WebSocket data".to_string())
                };
                let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                break;
            }
        };
        let reply = match session.reply(message).await {
            Reply::Text(reply) => reply,
            Reply::Nothing => continue,
            Reply::Close => break,
        };
        if socket.send(Message::Text(reply.into())).await.is_err() {
            break;
        }
    }
}

/// What a [`Session`] answers to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A text message: the frame's JSON report or an error object.
    Text(String),
    /// Nothing (pings and pongs, which the WebSocket layer answers).
    Nothing,
    /// The client closed the connection.
    Close,
}

/// One WebSocket connection's state after the upgrade (its options, frame count and tracker),
/// apart from the socket: [`Session::reply`] answers each message the socket delivers. Public so
/// that the fuzz target can drive it in-process with arbitrary messages.
pub struct Session {
    state: Arc<AppState>,
    options: AnalyzeOptions,
    frame: u64,
    start: std::time::Instant,
    tracker: Option<Tracker>,
    previous_ms: f64,
}

impl Session {
    /// A connection with checked `options` (see [`request_options`]).
    pub fn new(state: Arc<AppState>, options: AnalyzeOptions) -> Self {
        Session { state, options, frame: 0, start: std::time::Instant::now(), tracker: None, previous_ms: f64::NEG_INFINITY }
    }

    /// The answer to one message: binary messages are frames (counted from 0, analysed and
    /// tracked), text messages get `invalid_request`.
    pub async fn reply(&mut self, message: Message) -> Reply {
        match message {
            Message::Binary(bytes) => {
                // The tracker wants strictly increasing times.
                let time_ms = (self.start.elapsed().as_secs_f64() * 1e3).max(self.previous_ms + 1e-3);
                self.previous_ms = time_ms;
                let (state, options) = (&self.state, &self.options);
                let reply = if bytes.is_empty() {
                    ApiError::empty_image().to_json()
                } else if options.whole_image {
                    analyze_frame(state, bytes, options).await
                } else {
                    track_frame(state, &mut self.tracker, bytes, options, time_ms).await
                };
                let reply = with_frame(&reply, self.frame);
                self.frame += 1;
                Reply::Text(reply)
            }
            Message::Text(_) => Reply::Text(
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", "send frames as binary messages").to_json(),
            ),
            Message::Close(_) => Reply::Close,
            Message::Ping(_) | Message::Pong(_) => Reply::Nothing,
        }
    }
}

/// Waits for `work` on the engine's pool, within the request timeout.
async fn admitted<T, F>(state: &Arc<AppState>, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Engine) -> T + Send + 'static,
{
    let admission = state.engine.try_admit()?;
    match tokio::time::timeout(state.config.timeout, state.engine.run(admission, work)).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the frame was not analysed in time")),
    }
}

/// The reply to one frame classified as a whole (`whole_image=true`): the report, or an error
/// object.
async fn analyze_frame(state: &Arc<AppState>, bytes: axum::body::Bytes, options: &AnalyzeOptions) -> String {
    let options = options.clone();
    match admitted(state, move |e| e.analyze_bytes(&bytes, &options)).await {
        Ok(Ok(analysis)) => report_json(state, "", &analysis),
        Ok(Err(e)) => ApiError::from(e).to_json(),
        Err(e) => e.to_json(),
    }
}

/// The reply to one tracked frame. The tracker travels to the worker thread and back; it is
/// made on the first frame (and again after a frame that timed out took it along).
async fn track_frame(
    state: &Arc<AppState>,
    tracker: &mut Option<Tracker>,
    bytes: axum::body::Bytes,
    options: &AnalyzeOptions,
    time_ms: f64,
) -> String {
    let mut own = match tracker.take() {
        Some(t) => t,
        None => match state.engine.tracker(options) {
            Ok(t) => t,
            Err(e) => return ApiError::from(e).to_json(),
        },
    };
    let options = options.clone();
    let work = move |e: &Engine| {
        let result = e.track_bytes(&mut own, &bytes, &options, time_ms);
        (own, result)
    };
    match admitted(state, work).await {
        Ok((back, result)) => {
            *tracker = Some(back);
            match result {
                Ok(analysis) => report_json(state, "", &analysis),
                Err(e) => ApiError::from(e).to_json(),
            }
        }
        Err(e) => e.to_json(),
    }
}

/// `{"frame": n, ...}`: the report or error object with the frame count in front.
fn with_frame(report: &str, frame: u64) -> String {
    match report.strip_prefix('{') {
        Some(rest) => format!("{{\"frame\":{frame},{rest}"),
        None => report.to_string(),
    }
}
