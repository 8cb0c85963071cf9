//! The one error shape of the API: `{"error": {"code": "...", "message": "..."}}` with the HTTP
//! status that goes with the code, and the middleware that gives the same shape to errors produced
//! outside our handlers (body limit, timeout, unknown routes, bad WebSocket upgrades).

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use emotion_core::ErrorKind;
use serde::Serialize;

/// Seconds a client is asked to wait (`Retry-After`) when the server is overloaded.
pub const RETRY_AFTER_S: u64 = 1;

/// An API error: HTTP status, a stable machine-readable `code` and a human message.
///
/// Codes: `bad_image` (400: empty, truncated or undecodable body), `invalid_option` (400: a
/// query parameter out of range; also the library's other argument errors, see
/// [`status_and_code`]), `invalid_request` (400: other malformed requests), `not_found` (404),
/// `method_not_allowed` (405), `body_timeout` (408: the body did not arrive within
/// `--body-timeout`), `body_too_large` (413: more bytes than `--max-body`), `image_too_large`
/// (413: the image declares more pixels than the library's limit), `unsupported_media_type`
/// (415), `overloaded` (503: `--max-concurrency` requests in flight; `Retry-After` set),
/// `timeout` (503: not answered within `--timeout`; `Retry-After` set), `internal` (500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    pub fn bad_image(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_image", message)
    }

    /// 400 `bad_image` for an empty body or WebSocket message (nothing to decode).
    pub fn empty_image() -> Self {
        Self::bad_image("the image is empty (0 bytes)")
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
    }

    pub fn overloaded(limit: usize) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            format!("{limit} requests are already being analysed; retry later"),
        )
    }

    /// 413 `body_too_large`: the body (or its declared length) is over `--max-body`.
    pub fn body_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is over the server's size limit (--max-body; limits.max_body_bytes in GET /v1/info)",
        )
    }

    /// 408 `body_timeout`: the request body did not arrive within `--body-timeout`.
    pub fn body_timeout(limit: std::time::Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the request body did not arrive within {} s (--body-timeout)", limit.as_secs_f64()),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// The JSON body, `{"error": {"code", "message"}}`.
    pub fn to_json(&self) -> String {
        let body = Envelope { error: Inner { code: self.code, message: &self.message } };
        serde_json::to_string(&body).unwrap_or_else(|_| r#"{"error":{"code":"internal","message":""}}"#.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, [(header::CONTENT_TYPE, "application/json")], self.to_json()).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
        }
        response
    }
}

impl From<emotion_core::Error> for ApiError {
    fn from(e: emotion_core::Error) -> Self {
        let (status, code) = status_and_code(e.kind());
        let message = match &e {
            // The path in a decode error is the placeholder for in-memory bytes: leave it out.
            emotion_core::Error::Decode { message, .. } => format!("cannot decode image: {message}"),
            _ => e.to_string(),
        };
        ApiError::new(status, code, message)
    }
}

/// The HTTP status and `code` of each kind of library error: the one table (no catch-all, so a
/// new [`ErrorKind`] does not compile until it is placed here).
pub fn status_and_code(kind: ErrorKind) -> (StatusCode, &'static str) {
    match kind {
        ErrorKind::InvalidImage | ErrorKind::Decode => (StatusCode::BAD_REQUEST, "bad_image"),
        ErrorKind::ImageTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "image_too_large"),
        ErrorKind::InvalidArgument | ErrorKind::InvalidBox => (StatusCode::BAD_REQUEST, "invalid_option"),
        ErrorKind::Model | ErrorKind::Detector | ErrorKind::Io | ErrorKind::Inference | ErrorKind::Internal => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
    }
}

/// The `code` for an error status produced outside our handlers.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        // The per-request timeout layer answers 503.
        StatusCode::SERVICE_UNAVAILABLE => "timeout",
        s if s.is_client_error() => "invalid_request",
        _ => "internal",
    }
}

/// Response middleware: any 4xx/5xx that is not already JSON (axum's rejections, tower-http's
/// body limit and timeout, the router's 404/405) gets the API's error shape; its text, if any,
/// becomes the message, and its other headers (e.g. `Allow`) are kept.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // These bodies are short rejection texts; anything longer is cut.
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = match status {
        // tower-http's and axum's limits say only "length limit exceeded".
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::body_too_large().message,
        StatusCode::SERVICE_UNAVAILABLE if text.is_empty() => "the request was not answered in time; retry later".into(),
        _ if text.is_empty() => status.canonical_reason().unwrap_or("error").to_string(),
        _ => text,
    };
    let error = ApiError::new(status, code_for(status), message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        parts.headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
    }
    Response::from_parts(parts, Body::from(error.to_json()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use emotion_core::Error;

    #[test]
    fn each_kind_has_its_status_and_code() {
        let expected = [
            (ErrorKind::InvalidImage, 400, "bad_image"),
            (ErrorKind::ImageTooLarge, 413, "image_too_large"),
            (ErrorKind::InvalidArgument, 400, "invalid_option"),
            (ErrorKind::InvalidBox, 400, "invalid_option"),
            (ErrorKind::Model, 500, "internal"),
            (ErrorKind::Detector, 500, "internal"),
            (ErrorKind::Io, 500, "internal"),
            (ErrorKind::Decode, 400, "bad_image"),
            (ErrorKind::Inference, 500, "internal"),
            (ErrorKind::Internal, 500, "internal"),
        ];
        assert_eq!(expected.len(), ErrorKind::ALL.len());
        for (kind, status, code) in expected {
            assert_eq!(status_and_code(kind), (StatusCode::from_u16(status).unwrap(), code), "{kind:?}");
        }
    }

    #[test]
    fn a_bad_frame_time_is_the_clients_error() {
        let e = Error::InvalidTimestamp { time_ms: 5.0, previous_ms: Some(10.0), reason: "not later than the previous frame" };
        let api = ApiError::from(e);
        assert_eq!((api.status, api.code), (StatusCode::BAD_REQUEST, "invalid_option"));
        assert_eq!(api.message, "invalid frame time 5 ms: not later than the previous frame (previous frame at 10 ms)");
    }

    #[test]
    fn decode_errors_leave_the_placeholder_path_out() {
        let e = Error::Decode { path: "<memory>".into(), message: "truncated".into() };
        let api = ApiError::from(e);
        assert_eq!((api.status, api.code, api.message.as_str()), (StatusCode::BAD_REQUEST, "bad_image", "cannot decode image: truncated"));
    }
}
