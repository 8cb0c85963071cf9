//! `GET /v1/stream`: a WebSocket for live video. The client sends each frame as one binary
//! message (an encoded image, e.g. a JPEG from a canvas) and waits for the reply before sending
//! the next, so a connection has at most one frame in flight. Replies are text messages: the
//! CLI's JSON object for the frame plus `frame` (0-based count on this connection), or
//! `{"error": {...}}` (the connection stays open; on `overloaded` the client should wait a little).
//! A message over `--max-body` bytes ends the connection with close code 1009.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::api::{report_json, request_options};
use crate::engine::AnalyzeOptions;
use crate::error::ApiError;
use crate::AppState;

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
    let mut frame: u64 = 0;
    while let Some(received) = socket.recv().await {
        let message = match received {
            Ok(m) => m,
            Err(e) => {
                // The WebSocket layer refuses a message over the size limit before we see it and
                // the connection cannot go on; say why in the close frame (1009 = too big).
                let (code, reason) = if e.to_string().contains("too long") {
                    (close_code::SIZE, format!("message over the {} byte limit (--max-body)", state.config.max_body))
                } else {
                    (close_code::PROTOCOL, "malformed WebSocket data".to_string())
                };
                let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                break;
            }
        };
        let reply = match message {
            Message::Binary(bytes) => {
                let reply = analyze_frame(&state, bytes, &options, frame).await;
                frame += 1;
                reply
            }
            Message::Text(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", "send frames as binary messages").to_json()
            }
            Message::Close(_) => break,
            // Pings are answered by the WebSocket layer itself.
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if socket.send(Message::Text(reply.into())).await.is_err() {
            break;
        }
    }
}

/// The reply to one frame: the report with `frame` added, or an error object.
async fn analyze_frame(state: &Arc<AppState>, bytes: axum::body::Bytes, options: &AnalyzeOptions, frame: u64) -> String {
    let result = async {
        if bytes.is_empty() {
            return Err(ApiError::bad_image("the image is empty (0 bytes)"));
        }
        let admission = state.engine.try_admit()?;
        let options = options.clone();
        let work = state.engine.run(admission, move |e| e.analyze_bytes(&bytes, &options));
        match tokio::time::timeout(state.config.timeout, work).await {
            Ok(result) => Ok(result??),
            Err(_) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the frame was not analysed in time")),
        }
    }
    .await;
    match result {
        Ok(analysis) => with_frame(&report_json(state, "", &analysis), frame),
        Err(e) => e.to_json(),
    }
}

/// `{"frame": n, ...report}`: the report object with the frame count in front.
fn with_frame(report: &str, frame: u64) -> String {
    match report.strip_prefix('{') {
        Some(rest) => format!("{{\"frame\":{frame},{rest}"),
        None => report.to_string(),
    }
}
