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
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// tests/data/oversized/declared-WxH.png (written by make_declared_size_pngs.py there): a valid
/// PNG header declaring `w` x `h` pixels, one byte of pixel data.
fn declared_png(w: u32, h: u32) -> Vec<u8> {
    std::fs::read(repo_file(&format!("tests/data/oversized/declared-{w}x{h}.png"))).unwrap()
}

fn astronaut() -> (PathBuf, Vec<u8>) {
    let path = repo_file("examples/data/astronaut.png");
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// A photo under `../shared/photos` (or `$EMOTION_SHARED/photos`), or `None` with a visible
/// `SKIP` line where that test-only material is absent (a failure under
/// `EMOTION_REQUIRE_SHARED=1`, as on CI).
fn shared_photo(rel: &str) -> Option<(PathBuf, Vec<u8>)> {
    use std::io::Write;
    let shared = std::env::var_os("EMOTION_SHARED").map(PathBuf::from).unwrap_or_else(|| repo_file("../shared"));
    let path = shared.join("photos").join(rel);
    if let Ok(bytes) = std::fs::read(&path) {
        return Some((path, bytes));
    }
    let message = format!("needs {} (test-only photos beside the repository), absent", path.display());
    if std::env::var_os("EMOTION_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!("{message} and EMOTION_REQUIRE_SHARED=1");
    }
    // Straight to the stderr handle: libtest captures `eprintln!` of passing tests, not this.
    let test = std::thread::current().name().unwrap_or("test").to_string();
    let _ = writeln!(std::io::stderr(), "SKIP part of {test}: {message}");
    None
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

/// The server's faces equal the library's (default settings) on the same file, field by field.
fn assert_same_faces(json: &Value, path: &std::path::Path) {
    assert_faces_of(json, path, &Analyzer::new().unwrap());
}

/// The server's faces equal those of `analyzer` on the same file, field by field.
fn assert_faces_of(json: &Value, path: &std::path::Path, analyzer: &Analyzer) {
    let img = emotion_core::load_rgb(path).unwrap();
    let expected = analyzer.analyze(&ImageView::try_from(&img).unwrap()).unwrap();
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

    // Landmarks: five [x, y] points from the default detector (yunet), null from seeta, the
    // subject's right eye on the image's left.
    let (status, _, json) = post(&format!("{base}/v1/analyze"), Some("image/png"), bytes.clone()).await;
    assert_eq!(status, 200, "{json}");
    let l = json["faces"][0]["landmarks"].as_array().expect("landmarks").clone();
    assert_eq!(l.len(), 5);
    assert!(l[0][0].as_f64().unwrap() < l[1][0].as_f64().unwrap(), "{l:?}");
    let (status, _, json) = post(&format!("{base}/v1/analyze?detector=seeta"), Some("image/png"), bytes.clone()).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["faces"].as_array().unwrap().len(), 1);
    assert!(json["faces"][0]["landmarks"].is_null(), "{json}");

    // 0 means "no limit", as everywhere in the library.
    let (status, _, json) = post(&format!("{base}/v1/analyze?max_faces=0"), Some("image/png"), bytes.clone()).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["faces"].as_array().unwrap().len(), 1);

    for (query, named) in [
        ("min_face_size=5", "min_face_size"),
        ("min_face_size=abc", "min_face_size"),
        ("max_faces=-1", "max_faces"),
        ("whole_image=maybe", "whole_image"),
        ("max_face_size=30&min_face_size=40", "max_face_size"),
        ("colour=red", "colour"),
    ] {
        let (status, _, json) = post(&format!("{base}/v1/analyze?{query}"), Some("image/png"), bytes.clone()).await;
        assert_eq!((status, error_code(&json)), (400, "invalid_option"), "{query}: {json}");
        assert!(json["error"]["message"].as_str().unwrap().contains(named), "{query}: {json}");
    }

    // Every option error reads "invalid option NAME: what is wrong".
    for (query, message) in [
        ("min_face_size=40&min_face_size=50", "invalid option min_face_size: duplicate field `min_face_size`"),
        ("max_faces=abc", "invalid option max_faces: invalid digit found in string"),
    ] {
        let (status, _, json) = post(&format!("{base}/v1/analyze?{query}"), Some("image/png"), bytes.clone()).await;
        assert_eq!((status, error_code(&json)), (400, "invalid_option"), "{query}: {json}");
        assert_eq!(json["error"]["message"], message, "{query}");
    }
    let (_, _, json) = post(&format!("{base}/v1/analyze?colour=red"), Some("image/png"), bytes.clone()).await;
    let message = json["error"]["message"].as_str().unwrap();
    let unknown = "invalid option colour: unknown field `colour`, expected one of `min_face_size`";
    assert!(message.starts_with(unknown), "{message}");

    // Flip averaging: the library's numbers with flip_average on.
    let (status, _, json) = post(&format!("{base}/v1/analyze?flip_average=true"), Some("image/png"), bytes.clone()).await;
    assert_eq!(status, 200, "{json}");
    let (path, _) = astronaut();
    assert_faces_of(&json, &path, &Analyzer::builder().flip_average(true).build().unwrap());
    let (_, _, plain) = post(&format!("{base}/v1/analyze"), Some("image/png"), bytes.clone()).await;
    assert_ne!(json["faces"][0]["valence"], plain["faces"][0]["valence"], "flip_average changed nothing");

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

#[tokio::test]
async fn bad_input_gets_the_documented_errors() {
    let max_body = 100_000;
    let base = start(Config { max_body, ..Config::default() }).await;
    let url = format!("{base}/v1/analyze");
    let (_, png) = astronaut();
    assert!(png.len() > max_body);
    let small_png = small_png();
    // (case, content type, body, status, code, a phrase of the message)
    let cases: Vec<(&str, Option<&str>, Vec<u8>, u16, &str, &str)> = vec![
        ("empty", Some("image/png"), vec![], 400, "bad_image", "empty (0 bytes)"),
        ("truncated", Some("image/png"), small_png[..small_png.len() / 2].to_vec(), 400, "bad_image", "cannot decode image"),
        ("not an image", Some("image/jpeg"), b"hello, this is text".to_vec(), 400, "bad_image", "format could not be determined"),
        ("huge declared size", Some("image/png"), declared_png(100_000, 100_000), 413, "image_too_large", "100000x100000"),
        // One row too long for the PNG decoder's own memory limit: still the library's size check.
        ("huge declared width", Some("image/png"), declared_png(200_000_000, 1), 413, "image_too_large", "200000000x1"),
        ("over --max-body", Some("image/png"), png.clone(), 413, "body_too_large", "--max-body"),
        ("text type", Some("text/plain"), small_png.clone(), 415, "unsupported_media_type", "\"text/plain\""),
        ("form type", Some("application/x-www-form-urlencoded"), small_png.clone(), 415, "unsupported_media_type", "multipart"),
        ("no type", None, small_png.clone(), 415, "unsupported_media_type", "no Content-Type"),
        ("bad multipart", Some("multipart/form-data; boundary=x"), b"--x\r\ngarbage".to_vec(), 400, "invalid_request", "multipart"),
    ];
    for (name, content_type, body, want_status, want_code, phrase) in cases {
        let (status, headers, json) = post(&url, content_type, body).await;
        assert_eq!((status, error_code(&json)), (want_status, want_code), "{name}: {json}");
        assert!(json["error"]["message"].as_str().unwrap().contains(phrase), "{name}: {json}");
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

    // Two `image` fields: refused, as a repeated query option is, not the first one analysed.
    let part = || reqwest::multipart::Part::bytes(small_png.clone()).file_name("a.png").mime_str("image/png").unwrap();
    let form = reqwest::multipart::Form::new().part("image", part()).text("note", "x").part("image", part());
    let resp = reqwest::Client::new().post(&url).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let json: Value = resp.json().await.unwrap();
    assert_eq!(error_code(&json), "invalid_request");
    assert!(json["error"]["message"].as_str().unwrap().contains("more than one multipart field named `image`"), "{json}");

    // A content coding the server does not decode: 415 naming it (a gzipped PNG would otherwise
    // fail as "format could not be determined"); `identity` is no coding.
    for (encoding, want) in [("gzip", 415), ("br, identity", 415), ("identity", 200)] {
        let resp = reqwest::Client::new()
            .post(&url)
            .header("content-type", "image/png")
            .header("content-encoding", encoding)
            .body(small_png.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), want, "{encoding}");
        if want == 415 {
            let json: Value = resp.json().await.unwrap();
            assert_eq!(error_code(&json), "unsupported_media_type");
            assert!(json["error"]["message"].as_str().unwrap().contains("Content-Encoding"), "{json}");
        }
    }

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
    assert_eq!(info["library_version"], emotion_core::VERSION);
    let model = Analyzer::new().unwrap();
    assert_eq!(info["model"]["version"], model.model().info().version.as_str());
    assert_eq!(info["model"]["input_width"], model.model().preprocessing().width);
    assert_eq!(info["model"]["flip_average"], false);
    let names: Vec<&str> = emotion_core::Expression::ALL.iter().map(|e| e.name()).collect();
    assert_eq!(info["expressions"], serde_json::json!(names));
    assert_eq!(info["limits"]["max_concurrency"], 3);
    assert_eq!(info["limits"]["workers"], 2);
    assert_eq!(info["limits"]["body_timeout_s"], 10.0);

    let health: Value = reqwest::get(format!("{base}/healthz")).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");

    let page = reqwest::get(format!("{base}/")).await.unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("/v1/stream") && html.contains("getUserMedia"));
    // Self-contained: no address anywhere but the SVG namespace name (an identifier, never loaded).
    let html = html.replace("http://www.w3.org/2000/svg", "");
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script src"));
    assert!(!html.contains("<link") && !html.contains("import "), "the page loads nothing else");
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

/// Writes `request` on a fresh connection to the server at `base` and returns everything it answers
/// until it closes the connection (blocking: call on a blocking thread).
fn raw_exchange(base: &str, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_stalled_upload_holds_no_place_and_gets_408() {
    use std::io::{Read, Write};
    let config =
        Config { max_concurrency: 1, workers: 1, body_timeout: Duration::from_millis(300), ..Config::default() };
    let base = start(config).await;
    let url = format!("{base}/v1/analyze");
    let addr = base.trim_start_matches("http://").to_string();
    // Headers announcing 100 000 bytes, then 1000 of them, then nothing. The server sends
    // `100 Continue` once the handler starts reading the body: from then on the upload is the
    // handler's.
    let stalled = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        let head = format!(
            "POST /v1/analyze HTTP/1.1\r\nHost: {addr}\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\
             Expect: 100-continue\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = [0u8; 25];
        stream.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"HTTP/1.1 100 Continue\r\n\r\n");
        stream.write_all(&astronaut().1[..1000]).unwrap();
        stream
    })
    .await
    .unwrap();
    // Meanwhile the one place is free: another request is analysed.
    let (status, _, json) = post(&url, Some("image/png"), small_png()).await;
    assert_eq!(status, 200, "{json}");
    // The stalled upload gets 408 with the API's error when --body-timeout passes.
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = stalled;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{answer}");
    let json: Value = serde_json::from_str(body).unwrap();
    assert_eq!(error_code(&json), "body_timeout");
    assert_eq!(json["error"]["message"], "the request body did not arrive within 0.3 s (--body-timeout)");
}

#[tokio::test]
async fn malformed_http_is_answered_by_hyper_with_an_empty_400() {
    // hyper refuses a request it cannot parse before the router sees it, with a fixed empty
    // answer (no hook to give it a body): documented in the README.
    let base = start(Config::default()).await;
    let answer = tokio::task::spawn_blocking(move || raw_exchange(&base, b"GARBAGE\r\n\r\n")).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n"), "a body: {answer}");
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
    // Tracked: a new track starts at this frame's own values, which are the library's.
    assert_same_faces(&first, &path);
    let face = &first["faces"][0];
    assert_eq!(face["track_id"], 1);
    assert_eq!(face["raw"]["probabilities"], face["probabilities"]);
    assert!(first["timings"]["track_ms"].as_f64().is_some_and(|t| t >= 0.0), "{first}");
    // A bad frame gets an error and the connection stays usable.
    let bad = exchange(&mut ws, Message::binary(b"not an image".to_vec())).await;
    assert_eq!(error_code(&bad), "bad_image");
    assert_eq!(bad["frame"], 1, "an error names the frame it answers");
    let text = exchange(&mut ws, Message::text("hello")).await;
    assert_eq!(error_code(&text), "invalid_request");
    let third = exchange(&mut ws, Message::binary(bytes.clone())).await;
    assert_eq!(third["frame"], 2);
    assert_eq!(third["faces"].as_array().unwrap().len(), 1);
    assert_eq!(third["faces"][0]["track_id"], 1, "the same face continues its track");

    // whole_image=true: each frame is one untracked face.
    let whole_url = format!("{}/v1/stream?whole_image=true", base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(whole_url).await.expect("websocket connects");
    let whole = exchange(&mut ws, Message::binary(bytes)).await;
    assert_eq!(whole["faces"].as_array().unwrap().len(), 1);
    assert!(whole["faces"][0].get("track_id").is_none(), "{whole}");
    assert_eq!(whole["faces"][0]["detection_score"], Value::Null);
}

/// The shared option table (`tests/options.json`): (option, value, valid).
fn option_table() -> Vec<(String, Value, bool)> {
    let table: Value = serde_json::from_str(&std::fs::read_to_string(repo_file("tests/options.json")).unwrap()).unwrap();
    table["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["option"].as_str().unwrap().to_string(), c["value"].clone(), c["valid"].as_bool().unwrap()))
        .collect()
}

/// The options a request may set as query parameters.
const REQUEST_OPTIONS: [&str; 8] =
    ["min_face_size", "max_face_size", "max_faces", "score_threshold", "pyramid_scale_factor", "window_step", "flip_average", "detector"];

/// A 128 x 128 PNG of the astronaut: quick to analyse with any detector setting.
fn small_png() -> Vec<u8> {
    let img = emotion_core::load_rgb(repo_file("examples/data/astronaut.png")).unwrap();
    let small = image::imageops::resize(&img, 128, 128, image::imageops::FilterType::Triangle);
    let mut out = std::io::Cursor::new(Vec::new());
    small.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn the_option_table_as_query_parameters() {
    let base = start(Config::default()).await;
    let png = small_png();
    let mut checked = 0;
    for (option, value, valid) in option_table().into_iter().filter(|(o, _, _)| REQUEST_OPTIONS.contains(&o.as_str())) {
        // Numbers as written, the table's "nan"/"inf" strings as such, booleans as true/false.
        let text = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
        let (status, _, json) = post(&format!("{base}/v1/analyze?{option}={text}"), Some("image/png"), png.clone()).await;
        if valid {
            assert_eq!(status, 200, "{option} = {text}: {json}");
        } else {
            assert_eq!((status, error_code(&json)), (400, "invalid_option"), "{option} = {text}: {json}");
            let message = json["error"]["message"].as_str().unwrap();
            assert!(message.contains(&option), "{option} = {text}: {message}");
        }
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} cases");
}

fn float(v: &Value) -> f32 {
    match v.as_str() {
        Some("nan") => f32::NAN,
        Some("inf") => f32::INFINITY,
        Some("-inf") => f32::NEG_INFINITY,
        _ => v.as_f64().unwrap() as f32,
    }
}

/// A server configuration with one start-only option of the table set; `None` where Rust's
/// types cannot hold the value (negative counts, unknown colour names), which the command line
/// rejects while parsing (the CLI's tests cover those flags, defined once for both binaries).
fn config_with(option: &str, v: &Value) -> Option<Config> {
    let mut c = Config::default();
    let floats = || v.as_array().unwrap().iter().map(float).collect::<Vec<f32>>();
    let o = &mut c.overrides;
    match option {
        "threads" => c.threads = v.as_u64()? as usize,
        "input_color" => {
            o.color = Some(match v.as_str()? {
                "gray" => emotion_core::InputColor::Gray,
                "rgb" => emotion_core::InputColor::Rgb,
                _ => return None,
            })
        }
        "input_size" => {
            let s = v.as_array().unwrap();
            o.size = Some((s[0].as_u64()? as usize, s[1].as_u64()? as usize));
        }
        "mean" => o.mean = Some(floats()),
        "std" => o.std = Some(floats()),
        "crop_scale" => o.crop_scale = Some(float(v)),
        "crop_shift_y" => o.crop_shift_y = Some(float(v)),
        "batch_size" => o.batch_size = Some(v.as_u64()? as usize),
        other => panic!("option {other} is neither a request nor a start option of the server"),
    }
    Some(c)
}

#[test]
fn the_option_table_as_server_settings() {
    let (mut checked, mut skipped) = (0, 0);
    for (option, value, valid) in option_table().into_iter().filter(|(o, _, _)| !REQUEST_OPTIONS.contains(&o.as_str())) {
        let Some(config) = config_with(&option, &value) else {
            skipped += 1;
            continue;
        };
        match (emotion_server::app(config), valid) {
            (Ok(_), true) => {}
            (Err(emotion_core::Error::InvalidOption { name, .. }), false) => assert_eq!(name, option, "{option} = {value}"),
            (got, _) => panic!("{option} = {value}: expected valid = {valid}, got {:?}", got.err()),
        }
        checked += 1;
    }
    assert!(checked >= 20 && skipped <= 5, "{checked} checked, {skipped} skipped");
    // The server's own limits follow the same rule: a count of 0 workers is refused by name.
    match emotion_server::app(Config { workers: 0, ..Config::default() }) {
        Err(emotion_core::Error::InvalidOption { name, .. }) => assert_eq!(name, "workers"),
        other => panic!("workers = 0 accepted: {:?}", other.err()),
    }
}

#[tokio::test]
async fn server_defaults_apply_and_requests_override_them() {
    let settings = emotion_server::Settings { max_faces: 1, ..Default::default() };
    let base = start(Config { settings, ..Config::default() }).await;
    let grid = repo_file("tests/data/astronaut-grid.png");
    let bytes = std::fs::read(&grid).unwrap();
    let count = |json: &Value| json["faces"].as_array().unwrap().len();
    let (_, _, json) = post(&format!("{base}/v1/analyze"), Some("image/png"), bytes.clone()).await;
    assert_eq!(count(&json), 1, "{json}");
    // 0 = all faces, as everywhere.
    let (_, _, json) = post(&format!("{base}/v1/analyze?max_faces=0"), Some("image/png"), bytes.clone()).await;
    assert_eq!(count(&json), 4, "{json}");
    assert_same_faces(&json, &grid);
    let info: Value = reqwest::get(format!("{base}/v1/info")).await.unwrap().json().await.unwrap();
    assert_eq!(info["defaults"]["max_faces"], 1);
    assert_eq!(info["defaults"]["min_face_size"], 20);
    assert_eq!(info["defaults"]["detector"], "yunet");
}

#[tokio::test]
async fn truncated_images_are_refused_unless_partial_is_allowed() {
    let base = start(Config::default()).await;
    let png = small_png();
    let cut = png[..png.len() * 2 / 3].to_vec();
    let (status, _, json) = post(&format!("{base}/v1/analyze"), Some("image/png"), cut.clone()).await;
    assert_eq!((status, error_code(&json)), (400, "bad_image"), "{json}");
    let (status, _, json) = post(&format!("{base}/v1/analyze?allow_partial=true"), Some("image/png"), cut).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!((json["partial"].as_bool(), json["width"].as_u64()), (Some(true), Some(128)));
    let (_, _, json) = post(&format!("{base}/v1/analyze?allow_partial=true"), Some("image/png"), png).await;
    assert_eq!(json["partial"], false);
}

#[tokio::test]
async fn websocket_refuses_bad_options_and_oversized_frames() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{self, Message};
    let base = start(Config { max_body: 100_000, ..Config::default() }).await;
    let ws_base = format!("{}/v1/stream", base.replace("http://", "ws://"));
    // Options are checked before the upgrade: a plain 400 with the API's error.
    match tokio_tungstenite::connect_async(format!("{ws_base}?min_face_size=5")).await {
        Err(tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 400);
            let json: Value = serde_json::from_slice(resp.body().as_deref().unwrap_or_default()).unwrap();
            assert_eq!(error_code(&json), "invalid_option");
        }
        other => panic!("expected HTTP 400, got {:?}", other.map(|_| ())),
    }
    // A frame over --max-body closes that connection with 1009 (message too big) ...
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_base).await.unwrap();
    ws.send(Message::binary(vec![0u8; 200_000])).await.unwrap();
    let closed = loop {
        match ws.next().await {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(other)) => panic!("unexpected reply {other:?}"),
            Some(Err(e)) => panic!("no close frame: {e}"),
            None => break None,
        }
    };
    assert_eq!(closed, Some(1009));
    // A text message that is not UTF-8 closes with 1007 (invalid payload data).
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_base).await.unwrap();
    let bad_text = tungstenite::protocol::frame::Frame::message(
        vec![0x66, 0x6F, 0xFF, 0x6F],
        tungstenite::protocol::frame::coding::OpCode::Data(tungstenite::protocol::frame::coding::Data::Text),
        true,
    );
    ws.send(Message::Frame(bad_text)).await.unwrap();
    let closed = loop {
        match ws.next().await {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| (u16::from(f.code), f.reason.to_string())),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(other)) => panic!("unexpected reply {other:?}"),
            Some(Err(e)) => panic!("no close frame: {e}"),
            None => break None,
        }
    };
    assert_eq!(closed, Some((1007, "text message is not valid UTF-8".to_string())));
    // ... and the others go on.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{ws_base}?max_faces=1")).await.unwrap();
    let reply = exchange(&mut ws, Message::binary(small_png())).await;
    assert_eq!((reply["frame"].as_u64(), reply["width"].as_u64()), (Some(0), Some(128)), "{reply}");
}

#[test]
fn the_binary_serves_and_refuses_bad_flags_by_name() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_emotion-server");
    let out = Command::new(bin).args(["--port", "0", "--min-face-size", "5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("min_face_size"), "{}", String::from_utf8_lossy(&out.stderr));
    for flag in ["--timeout", "--body-timeout"] {
        for value in ["0", "nan", "1e300"] {
            let out = Command::new(bin).args(["--port", "0", flag, value]).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{flag} {value}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(stderr.trim(), format!("emotion-server: {flag} must be > 0 seconds"), "{flag} {value}");
        }
    }

    let mut child = Command::new(bin)
        .args(["--port", "0", "--max-faces", "1", "--workers", "1", "--body-timeout", "2.5"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let info: Value = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async { reqwest::get(format!("{url}v1/info")).await.unwrap().json().await.unwrap() });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(info["defaults"]["max_faces"], 1);
    assert_eq!(info["limits"]["workers"], 1);
    assert_eq!(info["limits"]["body_timeout_s"], 2.5);
}
