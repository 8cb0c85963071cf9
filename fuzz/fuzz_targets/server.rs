//! The server's request handling in-process (the router, no socket): arbitrary methods, routes,
//! query strings, content types and codings, raw and multipart bodies; and WebSocket sessions
//! fed arbitrary messages after an arbitrary query. Every answer must be a documented one: no
//! 500 (a caught panic), every `/v1/...` and error answer valid JSON, every WebSocket reply a
//! JSON object.
#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::extract::ws::Message;
use axum::extract::Query;
use axum::http::{Request, StatusCode};
use axum::Router;
use emotion_server::stream::{Reply, Session};
use emotion_server::{AppState, Config, Engine};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

#[derive(Arbitrary, Debug)]
struct Part {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    data: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
enum Body_ {
    Raw(Vec<u8>),
    /// A well-formed multipart body built from parts (the boundary is `fuzz`), with a tail of
    /// arbitrary bytes.
    Multipart(Vec<Part>, Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Ws {
    Binary(Vec<u8>),
    Text(String),
    Ping(Vec<u8>),
    Close,
}

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    route: u8,
    query: String,
    content_type: Option<String>,
    content_encoding: Option<String>,
    body: Body_,
    ws_query: String,
    ws: Vec<Ws>,
}

struct Server {
    runtime: tokio::runtime::Runtime,
    router: Router,
    state: Arc<AppState>,
}

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let config = Config {
            workers: 1,
            max_concurrency: 2,
            max_body: 1 << 20,
            timeout: std::time::Duration::from_secs(20),
            ..Config::default()
        };
        let engine = Arc::new(Engine::new(&config).expect("the bundled analyzer"));
        let state = Arc::new(AppState { engine, config });
        let router = emotion_server::router(Arc::clone(&state));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        Server { runtime, router, state }
    })
}

const ROUTES: [&str; 6] = ["/v1/analyze", "/v1/info", "/healthz", "/", "/v1/stream", "/nope"];
const METHODS: [&str; 4] = ["POST", "GET", "PUT", "DELETE"];

fn multipart(parts: &[Part], tail: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for p in parts.iter().take(4) {
        body.extend_from_slice(b"--fuzz\r\nContent-Disposition: form-data; name=\"");
        body.extend_from_slice(p.name.as_bytes());
        body.extend_from_slice(b"\"");
        if let Some(f) = &p.file_name {
            body.extend_from_slice(b"; filename=\"");
            body.extend_from_slice(f.as_bytes());
            body.extend_from_slice(b"\"");
        }
        body.extend_from_slice(b"\r\n");
        if let Some(t) = &p.content_type {
            body.extend_from_slice(b"Content-Type: ");
            body.extend_from_slice(t.as_bytes());
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&p.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--fuzz--\r\n");
    body.extend_from_slice(tail);
    body
}

fuzz_target!(|input: Input| {
    let s = server();
    let route = ROUTES[usize::from(input.route) % ROUTES.len()];
    let method = METHODS[usize::from(input.method) % METHODS.len()];
    let uri = format!("{route}?{}", input.query);
    let mut builder = Request::builder().method(method).uri(&uri);
    let body = match &input.body {
        Body_::Raw(b) => {
            if let Some(t) = &input.content_type {
                builder = builder.header("content-type", t.as_str());
            }
            b.clone()
        }
        Body_::Multipart(parts, tail) => {
            builder = builder.header("content-type", "multipart/form-data; boundary=fuzz");
            multipart(parts, tail)
        }
    };
    if let Some(e) = &input.content_encoding {
        builder = builder.header("content-encoding", e.as_str());
    }
    // Headers or URIs that `http` refuses never reach a server (hyper refuses them first).
    if let Ok(request) = builder.body(Body::from(body)) {
        let (status, bytes) = s.runtime.block_on(async {
            let response = s.router.clone().oneshot(request).await.expect("the router is infallible");
            let status = response.status();
            (status, axum::body::to_bytes(response.into_body(), 16 << 20).await.expect("a body"))
        });
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{}", String::from_utf8_lossy(&bytes));
        if route != "/" || status.is_client_error() {
            let json: Result<serde_json::Value, _> = serde_json::from_slice(&bytes);
            assert!(json.is_ok(), "{method} {uri} -> {status}: not JSON: {}", String::from_utf8_lossy(&bytes));
        }
    }

    // A WebSocket session after the upgrade: the query is checked first (as `upgrade` does).
    let Ok(uri) = format!("/v1/stream?{}", input.ws_query).parse::<axum::http::Uri>() else { return };
    let Ok(options) = emotion_server::api::request_options(&s.state, Query::try_from_uri(&uri)) else { return };
    let mut session = Session::new(Arc::clone(&s.state), options);
    s.runtime.block_on(async {
        for m in input.ws.into_iter().take(6) {
            let message = match m {
                Ws::Binary(b) => Message::Binary(b.into()),
                Ws::Text(t) => Message::Text(t.into()),
                Ws::Ping(b) => Message::Ping(b.into()),
                Ws::Close => Message::Close(None),
            };
            match session.reply(message).await {
                Reply::Text(text) => {
                    let json: serde_json::Value = serde_json::from_str(&text).expect("a JSON reply");
                    assert!(json.is_object(), "{text}");
                    if let Some(code) = json.pointer("/error/code") {
                        assert_ne!(code, "internal", "{text}");
                    }
                }
                Reply::Nothing => {}
                Reply::Close => break,
            }
        }
    });
});
