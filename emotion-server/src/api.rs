//! The HTTP handlers: analyze, info, health, the page.

use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use emotion_core::Expression;
use serde_json::json;

use crate::engine::{AnalyzeOptions, Analysis};
use crate::error::ApiError;
use crate::report;
use crate::AppState;

/// The webcam page: one file, no external resources.
const PAGE: &str = include_str!("page.html");

/// Media types accepted as a raw body (the content decides the decoder; these only gate).
const IMAGE_TYPES: [&str; 8] =
    ["image/png", "image/jpeg", "image/jpg", "image/bmp", "image/gif", "image/tiff", "image/webp", "application/octet-stream"];

/// `POST /v1/analyze`.
pub async fn analyze(
    State(state): State<Arc<AppState>>,
    query: Result<Query<AnalyzeOptions>, QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    let options = request_options(&state, query)?;
    let body_timeout = state.config.body_timeout;
    // Refuse before buffering the body: an overloaded server should not hold megabytes first.
    if let Err(e) = state.engine.check_room() {
        let _ = tokio::time::timeout(body_timeout, discard_body(request)).await;
        return Err(e);
    }
    // The body is read within its own deadline and before taking a place among the admitted
    // requests: a client that stalls its upload holds no place, and gets 408.
    let (name, bytes) = match tokio::time::timeout(body_timeout, read_image(request)).await {
        Ok(read) => read?,
        Err(_) => return Err(ApiError::body_timeout(body_timeout)),
    };
    if bytes.is_empty() {
        return Err(ApiError::empty_image());
    }
    let admission = state.engine.try_admit()?;
    let analysis = state.engine.run(admission, move |e| e.analyze_bytes(&bytes, &options)).await??;
    Ok(json_response(report_json(&state, &name, &analysis)))
}

/// The query's options, checked against the library's ranges (400 `invalid_option` naming the
/// option otherwise).
pub fn request_options(
    state: &AppState,
    query: Result<Query<AnalyzeOptions>, QueryRejection>,
) -> Result<AnalyzeOptions, ApiError> {
    let Query(options) = query.map_err(|e| {
        // axum says "Failed to deserialize query string: max_faces: invalid digit found in string"
        // (and "colour: unknown field `colour`, ..."), but a repeated parameter comes without
        // the name in front: "duplicate field `max_faces`". Every message becomes
        // "invalid option NAME: what is wrong".
        let text = e.body_text();
        let detail = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text);
        let message = match detail.strip_prefix("duplicate field `").and_then(|rest| rest.split_once('`')) {
            Some((name, _)) => format!("invalid option {name}: {detail}"),
            None => format!("invalid option {detail}"),
        };
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_option", message)
    })?;
    state.engine.check(&options)?;
    Ok(options)
}

/// The CLI's JSON object for one image; `name` goes in its `file` field.
pub fn report_json<F>(state: &AppState, name: &str, a: &Analysis<F>) -> String
where
    for<'f> report::FaceJson: From<&'f F>,
{
    report::image_json(Path::new(name), &a.image, state.engine.analyzer(), &a.faces, &a.timings)
}

fn json_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The image bytes and their name (the multipart file name, or empty) from either body form.
async fn read_image(request: Request) -> Result<(String, Bytes), ApiError> {
    check_encoding(request.headers())?;
    let content_type = media_type(request.headers());
    if content_type == "multipart/form-data" {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|e| ApiError::new(e.status(), "invalid_request", e.body_text()))?;
        // The whole body is read: a second `image` field is refused (400), as a repeated query
        // option is, rather than silently ignored.
        let mut image = None;
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            if field.name() != Some("image") {
                continue;
            }
            if image.is_some() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "more than one multipart field named `image`: send one image a request (or frames over /v1/stream)",
                ));
            }
            if let Some(t) = field.content_type() {
                check_type(t)?;
            }
            let name = field.file_name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(multipart_error)?;
            image = Some((name, bytes));
        }
        return image.ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", "no multipart field named `image`"));
    }
    if content_type.is_empty() {
        return Err(ApiError::unsupported_media_type(
            "no Content-Type: send the image with its type (e.g. image/jpeg) or as multipart field `image`",
        ));
    }
    check_type(&content_type)?;
    let bytes = Bytes::from_request(request, &()).await.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::body_too_large(),
        status => ApiError::new(status, "invalid_request", e.body_text()),
    })?;
    Ok((String::new(), bytes))
}

/// Reads and drops a request's body, chunk by chunk (the body limit still bounds it; callers
/// bound the time). A client that is still sending its body when an early answer arrives and the
/// connection closes sees a broken pipe instead of the answer; drained, it reads the 503.
async fn discard_body(request: Request) {
    use futures_util::StreamExt;
    let mut chunks = request.into_body().into_data_stream();
    while let Some(Ok(_)) = chunks.next().await {}
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::body_too_large(),
        status => ApiError::new(status, "invalid_request", e.body_text()),
    }
}

/// The media type of a request, lower case, without parameters (`""` when absent).
fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// 415 `unsupported_media_type` for a body with a `Content-Encoding` other than `identity`: the
/// server decodes no content coding (RFC 9110 section 15.5.16), and a gzipped image read as it is
/// would fail as "format could not be determined".
fn check_encoding(headers: &HeaderMap) -> Result<(), ApiError> {
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let text = String::from_utf8_lossy(value.as_bytes());
        for coding in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if !coding.eq_ignore_ascii_case("identity") {
                return Err(ApiError::unsupported_media_type(format!(
                    "unsupported Content-Encoding {coding:?}: send the image file's bytes as they are (no content coding)"
                )));
            }
        }
    }
    Ok(())
}

fn check_type(media_type: &str) -> Result<(), ApiError> {
    let t = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if IMAGE_TYPES.contains(&t.as_str()) {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type(format!(
            "unsupported content type {t:?}: send PNG, JPEG, BMP, GIF, TIFF or WebP (image/*, application/octet-stream) \
             or multipart/form-data with a field `image`"
        )))
    }
}

/// `GET /v1/info`: versions, the model's information (the CLI's `--model-info` object), the
/// expression names, the default analysis settings and the limits.
pub async fn info(State(state): State<Arc<AppState>>) -> Response {
    let analyzer = state.engine.analyzer();
    let model: serde_json::Value = serde_json::from_str(&report::model_info_json(analyzer)).unwrap_or_default();
    let s = state.engine.settings();
    let det = &s.detector;
    let c = &state.config;
    let body = json!({
        "server": {"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")},
        "library_version": emotion_core::VERSION,
        "model": model,
        "expressions": Expression::ALL.iter().map(|e| e.name()).collect::<Vec<_>>(),
        "defaults": {
            "min_face_size": det.min_face_size,
            "max_face_size": det.max_face_size.unwrap_or(0),
            "max_faces": s.max_faces,
            "score_threshold": det.score_threshold,
            "pyramid_scale_factor": det.pyramid_scale_factor,
            "window_step": det.window_step,
            "flip_average": s.flip_average,
            "detector": det.detector.name(),
            "align": s.align,
            "threads": analyzer.threads(),
        },
        "limits": {
            "max_body_bytes": c.max_body,
            "max_concurrency": c.max_concurrency,
            "workers": c.workers,
            "timeout_s": c.timeout.as_secs_f64(),
            "body_timeout_s": c.body_timeout.as_secs_f64(),
            "max_pixels": emotion_core::DEFAULT_MAX_PIXELS,
        },
    });
    json_response(body.to_string())
}

/// `GET /healthz`.
pub async fn healthz() -> Response {
    json_response(r#"{"status":"ok"}"#.to_string())
}

/// `GET /`.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// Any other route.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route; see GET /v1/info")
}
