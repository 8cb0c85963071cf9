//! The server in-process on an ephemeral loopback port, driven by a real HTTP client: answers
//! equal the library's, every bad input gets its documented status and error code, overload gets
//! 503 while the server goes on serving.

use std::path::PathBuf;
use std::time::Duration;

use emotion_core::{Analyzer, ImageView};
use emotion_server::Config;
use serde_json::Value;

/// Starts a server with `config` on 127.0.0.1:0; returns its base URL.
async fn start(config: Config) -> String {
    let router = emotion_server::app(config).expect("server starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

fn astronaut() -> (PathBuf, Vec<u8>) {
    let path = repo_file("examples/data/astronaut.png");
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// A photo under `../shared/photos`, or `None` (with a visible line) where it is absent.
fn shared_photo(rel: &str) -> Option<(PathBuf, Vec<u8>)> {
    let path = repo_file("../shared/photos").join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => Some((path, bytes)),
        Err(_) => {
            eprintln!("SKIP: {} is absent (test photos live in ../shared)", path.display());
            None
        }
    }
}

async fn post(url: &str, content_type: Option<&str>, body: Vec<u8>) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new().post(url).body(body);
    if let Some(t) = content_type {
        req = req.header("content-type", t);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, headers, json)
}

/// Asserts the API's error shape and returns the error code.
fn error_code(json: &Value) -> &str {
    let e = &json["error"];
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {json}");
    e["code"].as_str().unwrap_or_else(|| panic!("no error code: {json}"))
}

/// The server's faces equal the library's on the same file, field by field.
fn assert_same_faces(json: &Value, path: &std::path::Path) {
    let img = emotion_core::load_rgb(path).unwrap();
    let expected = Analyzer::new().unwrap().analyze(&ImageView::try_from(&img).unwrap()).unwrap();
    assert_eq!(json["width"], img.width());
    assert_eq!(json["height"], img.height());
    let faces = json["faces"].as_array().unwrap();
    assert_eq!(faces.len(), expected.len(), "{}: face count", path.display());
    let close = |v: &Value, x: f32| (v.as_f64().unwrap() as f32 - x).abs() <= 1e-5;
    for (got, want) in faces.iter().zip(&expected) {
        let b = &got["bbox"];
        for (k, x) in [("x", want.bbox.x), ("y", want.bbox.y), ("width", want.bbox.width), ("height", want.bbox.height)] {
            assert!(close(&b[k], x), "bbox {k}: {} vs {x}", b[k]);
        }
        assert!(close(&got["detection_score"], want.detection_score.unwrap()));
        assert_eq!(got["expression"], want.expression.name());
        for e in emotion_core::Expression::ALL {
            assert!(close(&got["probabilities"][e.name()], want.probability(e)), "{}", e.name());
        }
        assert!(close(&got["valence"], want.valence) && close(&got["arousal"], want.arousal));
    }
}

#[tokio::test]
async fn photos_give_the_same_faces_as_the_library() {
    let base = start(Config::default()).await;
    let url = format!("{base}/v1/analyze");
    let (path, bytes) = astronaut();
    let (status, _, raw) = post(&url, Some("image/png"), bytes.clone()).await;
    assert_eq!(status, 200, "{raw}");
    assert_eq!(raw["faces"].as_array().unwrap().len(), 1);
    assert_same_faces(&raw, &path);
    for key in ["decode_ms", "detect_ms", "classify_ms", "total_ms"] {
        assert!(raw["timings"][key].as_f64().is_some_and(|t| t >= 0.0), "{key}");
    }

    // The same bytes as multipart field `image`: the same faces, the file name in `file`.
    let form = reqwest::multipart::Form::new()
        .part("image", reqwest::multipart::Part::bytes(bytes).file_name("astronaut.png").mime_str("image/png").unwrap());
    let resp = reqwest::Client::new().post(&url).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let multipart: Value = resp.json().await.unwrap();
    assert_eq!(multipart["file"], "astronaut.png");
    assert_eq!(multipart["faces"], raw["faces"]);

    // Four faces at four scales, in the repository.
    let grid = repo_file("tests/data/astronaut-grid.png");
    let (status, _, json) = post(&url, Some("image/png"), std::fs::read(&grid).unwrap()).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["faces"].as_array().unwrap().len(), 4);
    assert_same_faces(&json, &grid);

    if let Some((path, bytes)) = shared_photo("misc/multiface.jpg") {
        let (status, _, json) = post(&url, Some("image/jpeg"), bytes).await;
        assert_eq!(status, 200, "{json}");
        assert_eq!(json["faces"].as_array().unwrap().len(), 6);
        assert_same_faces(&json, &path);
    }
}

#[tokio::test]
async fn query_options_change_the_analysis() {
    let base = start(Config::default()).await;
    let (_, bytes) = astronaut();

    // Whole image: one face, the full frame, no detection score.
    let (status, _, json) = post(&format!("{base}/v1/analyze?whole_image=true"), Some("image/png"), bytes.clone()).await;
    assert_eq!(status, 200, "{json}");
    let faces = json["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 1);
    assert_eq!(faces[0]["bbox"], serde_json::json!({"x": 0.0, "y": 0.0, "width": 512.0, "height": 512.0}));
    assert!(faces[0]["detection_score"].is_null());

    // The astronaut's face is ~150 px: a smallest face of 300 px finds nothing.
    let (status, _, json) = post(&format!("{base}/v1/analyze?min_face_size=300"), Some("image/png"), bytes.clone()).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["faces"].as_array().unwrap().len(), 0);

    // 0 means "no limit", as everywhere in the library.
    let (status, _, json) = post(&format!("{base}/v1/analyze?max_faces=0"), Some("image/png"), bytes.clone()).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["faces"].as_array().unwrap().len(), 1);

    for query in ["min_face_size=5", "min_face_size=abc", "max_faces=-1", "whole_image=maybe", "colour=red"] {
        let (status, _, json) = post(&format!("{base}/v1/analyze?{query}"), Some("image/png"), bytes.clone()).await;
        assert_eq!((status, error_code(&json)), (400, "invalid_option"), "{query}: {json}");
    }

    {
        // max_faces keeps the largest faces.
        let path = repo_file("tests/data/astronaut-grid.png");
        let bytes = std::fs::read(&path).unwrap();
        let img = emotion_core::load_rgb(&path).unwrap();
        let all = Analyzer::new().unwrap().analyze(&ImageView::try_from(&img).unwrap()).unwrap();
        let largest = all.iter().map(|f| f.bbox.width * f.bbox.height).fold(0.0, f32::max);
        assert_eq!(all.len(), 4);
        let (status, _, json) = post(&format!("{base}/v1/analyze?max_faces=1"), Some("image/png"), bytes).await;
        assert_eq!(status, 200, "{json}");
        let faces = json["faces"].as_array().unwrap();
        assert_eq!(faces.len(), 1);
        let b = &faces[0]["bbox"];
        assert_eq!((b["width"].as_f64().unwrap() * b["height"].as_f64().unwrap()) as f32, largest);
    }
}

/// A PNG whose header declares `w` x `h` RGB pixels but that holds a single byte of pixel data.
fn huge_png(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut c = !0u32;
        for &b in &out[start..] {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        out.extend_from_slice(&(!c).to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &[0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x01]);
    chunk(&mut png, b"IEND", &[]);
    png
}

#[tokio::test]
async fn bad_input_gets_the_documented_errors() {
    let max_body = 100_000;
    let base = start(Config { max_body, ..Config::default() }).await;
    let url = format!("{base}/v1/analyze");
    let (_, png) = astronaut();
    assert!(png.len() > max_body);
    let small_png = {
        let img = emotion_core::load_rgb(repo_file("examples/data/astronaut.png")).unwrap();
        let small = image::imageops::resize(&img, 128, 128, image::imageops::FilterType::Triangle);
        let mut out = std::io::Cursor::new(Vec::new());
        small.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let cases: Vec<(&str, Option<&str>, Vec<u8>, u16, &str)> = vec![
        ("empty", Some("image/png"), vec![], 400, "bad_image"),
        ("truncated", Some("image/png"), small_png[..small_png.len() / 2].to_vec(), 400, "bad_image"),
        ("not an image", Some("image/jpeg"), b"hello, this is text".to_vec(), 400, "bad_image"),
        ("huge declared size", Some("image/png"), huge_png(100_000, 100_000), 413, "image_too_large"),
        ("over --max-body", Some("image/png"), png.clone(), 413, "body_too_large"),
        ("text type", Some("text/plain"), small_png.clone(), 415, "unsupported_media_type"),
        ("form type", Some("application/x-www-form-urlencoded"), small_png.clone(), 415, "unsupported_media_type"),
        ("no type", None, small_png.clone(), 415, "unsupported_media_type"),
        ("bad multipart", Some("multipart/form-data; boundary=x"), b"--x\r\ngarbage".to_vec(), 400, "invalid_request"),
    ];
    for (name, content_type, body, want_status, want_code) in cases {
        let (status, headers, json) = post(&url, content_type, body).await;
        assert_eq!((status, error_code(&json)), (want_status, want_code), "{name}: {json}");
        assert_eq!(headers["content-type"], "application/json", "{name}");
    }

    // Multipart without a field `image`, and with an `image` of a type we refuse.
    let form = reqwest::multipart::Form::new().text("photo", "x");
    let resp = reqwest::Client::new().post(&url).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let form = reqwest::multipart::Form::new()
        .part("image", reqwest::multipart::Part::bytes(small_png.clone()).mime_str("text/html").unwrap());
    let resp = reqwest::Client::new().post(&url).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), 415);
    let json: Value = resp.json().await.unwrap();
    assert_eq!(error_code(&json), "unsupported_media_type");

    // Routes and methods.
    let resp = reqwest::get(format!("{base}/nope")).await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(error_code(&resp.json().await.unwrap()), "not_found");
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(error_code(&resp.json().await.unwrap()), "method_not_allowed");

    // After all that, the server still answers.
    let (status, _, json) = post(&url, Some("image/png"), small_png).await;
    assert_eq!(status, 200, "{json}");
}

#[tokio::test]
async fn info_health_and_page() {
    let base = start(Config { max_concurrency: 3, workers: 2, ..Config::default() }).await;
    let info: Value = reqwest::get(format!("{base}/v1/info")).await.unwrap().json().await.unwrap();
    assert_eq!(info["library"]["version"], emotion_core::VERSION);
    let model = Analyzer::new().unwrap();
    assert_eq!(info["model"]["version"], model.model().info().version.as_str());
    assert_eq!(info["model"]["input"]["width"], model.model().preprocessing().width);
    let names: Vec<&str> = emotion_core::Expression::ALL.iter().map(|e| e.name()).collect();
    assert_eq!(info["expressions"], serde_json::json!(names));
    assert_eq!(info["limits"]["max_concurrency"], 3);
    assert_eq!(info["limits"]["workers"], 2);

    let health: Value = reqwest::get(format!("{base}/healthz")).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");

    let page = reqwest::get(format!("{base}/")).await.unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("/v1/stream") && html.contains("getUserMedia"));
    // Self-contained: nothing loaded from elsewhere.
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script src"));
}

/// A slow request: the astronaut searched down to 20 px faces (4x the pixels of the default).
async fn slow_request(url: &str) -> reqwest::Response {
    let (_, bytes) = astronaut();
    reqwest::Client::new()
        .post(format!("{url}?min_face_size=20"))
        .header("content-type", "image/png")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn overload_gets_503_and_the_server_keeps_serving() {
    let base = start(Config { max_concurrency: 2, workers: 1, ..Config::default() }).await;
    let url = format!("{base}/v1/analyze");
    let responses = futures_util::future::join_all((0..8).map(|_| slow_request(&url))).await;
    let (mut ok, mut refused) = (0, 0);
    for resp in responses {
        match resp.status().as_u16() {
            200 => ok += 1,
            503 => {
                assert_eq!(resp.headers()["retry-after"], "1");
                assert_eq!(error_code(&resp.json().await.unwrap()), "overloaded");
                refused += 1;
            }
            s => panic!("unexpected status {s}"),
        }
    }
    // Two admitted (one running, one waiting for the single worker); the rest refused at once.
    assert!(ok >= 2 && refused >= 1 && ok + refused == 8, "ok {ok}, refused {refused}");
    let (status, _, json) = post(&url, Some("image/png"), astronaut().1).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["faces"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn slow_requests_time_out_with_503() {
    let base = start(Config { timeout: Duration::from_millis(20), ..Config::default() }).await;
    let url = format!("{base}/v1/analyze");
    let resp = slow_request(&url).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(error_code(&resp.json().await.unwrap()), "timeout");
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends one message and returns the JSON of the next text reply.
async fn exchange(ws: &mut Socket, msg: tokio_tungstenite::tungstenite::Message) -> Value {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    ws.send(msg).await.unwrap();
    loop {
        match ws.next().await.expect("a reply").unwrap() {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected message {other:?}"),
        }
    }
}

#[tokio::test]
async fn websocket_streams_frames() {
    use tokio_tungstenite::tungstenite::Message;
    let base = start(Config::default()).await;
    let (path, bytes) = astronaut();
    let ws_url = format!("{}/v1/stream", base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.expect("websocket connects");
    let first = exchange(&mut ws, Message::binary(bytes.clone())).await;
    assert_eq!(first["frame"], 0);
    assert_same_faces(&first, &path);
    // A bad frame gets an error and the connection stays usable.
    let bad = exchange(&mut ws, Message::binary(b"not an image".to_vec())).await;
    assert_eq!(error_code(&bad), "bad_image");
    let text = exchange(&mut ws, Message::text("hello")).await;
    assert_eq!(error_code(&text), "invalid_request");
    let third = exchange(&mut ws, Message::binary(bytes)).await;
    assert_eq!(third["frame"], 2);
    assert_eq!(third["faces"].as_array().unwrap().len(), 1);
}
