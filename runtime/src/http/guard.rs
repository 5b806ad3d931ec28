/*!
The one input guard every front-end shares, run before authorization: a NUL character (raw,
percent-encoded `%00`, or `\u0000` inside a JSON string) or bytes that are not UTF-8 in the
path, a query parameter, a form field or a JSON body are refused with a 400 that names the
field (`q`, `description`, `caller.phone`, `path`, `body`). PostgreSQL `TEXT` cannot hold NUL
(it answered 500), SQLite stored it; neither is text anyone typed.

Each front-end answers in its own format — the JSON error under `/api` (and everywhere else),
Open311's error document under `/open311` (JSON or XML by the resource's extension), an error
page under `/console`. `http` may not reach into `open311` or `console`, so the router hands the
guard a [`Render`] that knows all three ([`Guard::render`]).

The guard also turns a body that arrived too slowly ([`BodyReadTimeout`], raised by the
server's body deadline) into a 408 in the same formats, and carries the body's progress
([`BodyProgress`]) the request timeout reads.

Only bodies whose type says they are text the handlers decode are read here (`application/
x-www-form-urlencoded`, `application/json`, `application/…+json`), up to the body limit; a
larger body goes on unread, whole, to the handler, whose extractor answers 413.
*/

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;

use super::error::ApiError;

/// Why a request is refused before any handler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    /// The JSON error's `code`: `nul_character`, `invalid_utf8`, `body_timeout`, …
    pub code: &'static str,
    /// The query parameter, form field or JSON path (`caller.phone`); `path` or `body` when the
    /// problem is not in a named field.
    pub field: String,
    /// The sentence in English and in Chinese (console and Open311 show both languages).
    pub en: String,
    pub zh: String,
    /// Seconds for `Retry-After` (503s).
    pub retry_after: Option<u64>,
}

impl Refusal {
    fn nul(field: String) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "nul_character",
            en: format!("{field}: contains a NUL character, which is not accepted"),
            zh: format!("{field}：含有不允许的空字符（NUL）"),
            field,
            retry_after: None,
        }
    }

    fn utf8(field: String) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_utf8",
            en: format!("{field}: is not valid UTF-8 text"),
            zh: format!("{field}：不是有效的 UTF-8 文本"),
            field,
            retry_after: None,
        }
    }

    fn slow_body() -> Refusal {
        Refusal {
            status: StatusCode::REQUEST_TIMEOUT,
            code: "body_timeout",
            field: "body".into(),
            en: "the request body arrived too slowly".into(),
            zh: "请求内容传输过慢，已中止".into(),
            retry_after: None,
        }
    }

    fn unreadable(why: String) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "unreadable_body",
            field: "body".into(),
            en: format!("the request body cannot be read: {why}"),
            zh: "请求内容无法读取".into(),
            retry_after: None,
        }
    }

    /// The JSON error document (`{"error": {code, message, field}}`) with this status.
    pub fn json(&self) -> Response {
        let mut resp = ApiError::BadRequest {
            code: self.code,
            message: self.en.clone(),
            field: Some(self.field.clone()),
        }
        .into_response();
        *resp.status_mut() = self.status;
        self.add_retry_after(&mut resp);
        resp
    }

    /// Sets `Retry-After` when the refusal has one.
    pub fn add_retry_after(&self, resp: &mut Response) {
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(s));
        }
    }
}

/// The front-end a path belongs to, which decides the error format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontEnd {
    Api,
    Open311,
    Console,
}

impl FrontEnd {
    pub fn of(path: &str) -> FrontEnd {
        if path == "/open311" || path.starts_with("/open311/") {
            FrontEnd::Open311
        } else if path == "/" || path == "/console" || path.starts_with("/console/") {
            FrontEnd::Console
        } else {
            FrontEnd::Api
        }
    }
}

/// Renders a refusal in a front-end's format (the router's, which knows every front-end).
pub type Render = fn(FrontEnd, &Parts, &Refusal) -> Response;

/// The guard's state: the body limit and the renderer.
#[derive(Clone)]
pub struct Guard {
    pub body_limit: usize,
    pub render: Render,
}

/// The error a request body yields when it arrives too slowly (see `server`'s body deadline).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body arrived too slowly")]
pub struct BodyReadTimeout;

/// How far a request's body has come, shared by the server's body wrapper (which writes it) and
/// the request timeout (which reads it: a body still arriving is the body deadline's business,
/// not the request's).
#[derive(Debug)]
pub struct BodyProgress {
    start: Instant,
    done: AtomicBool,
    /// The body was read to its end (not cut short by an error, a timeout or a handler that
    /// answered without reading it).
    complete: AtomicBool,
    /// Milliseconds after `start` of the last frame received.
    last_ms: AtomicU64,
}

impl BodyProgress {
    pub fn new(done: bool) -> Arc<BodyProgress> {
        Arc::new(BodyProgress {
            start: Instant::now(),
            done: AtomicBool::new(done),
            complete: AtomicBool::new(done),
            last_ms: AtomicU64::new(0),
        })
    }

    /// A frame arrived.
    pub fn frame(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// The body ended (or failed: either way nothing more arrives).
    pub fn finish(&self) {
        self.done.store(true, Ordering::Relaxed);
    }

    /// The body was read to its end.
    pub fn complete(&self) {
        self.complete.store(true, Ordering::Relaxed);
        self.finish();
    }

    /// Whether the body was read to its end: if not when the answer goes out, the rest of it
    /// is still on the connection, which therefore cannot carry another request.
    pub fn is_complete(&self) -> bool {
        self.complete.load(Ordering::Relaxed)
    }

    /// True while the body is unfinished and a frame arrived within `window`.
    pub fn arriving(&self, window: std::time::Duration) -> bool {
        if self.done.load(Ordering::Relaxed) {
            return false;
        }
        let last = std::time::Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last) < window
    }
}

/// Middleware: refuses NUL and non-UTF-8 input in the front-end's format.
pub async fn guard(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let front = FrontEnd::of(parts.uri.path());
    if let Err(r) = check_path(parts.uri.path()).and_then(|()| check_pairs(parts.uri.query())) {
        return (g.render)(front, &parts, &r);
    }
    let Some(kind) = body_kind(&parts) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > g.body_limit) {
        // Over the limit: the handler's extractor answers 413 without reading it all.
        return next.run(Request::from_parts(parts, body)).await;
    }
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                buf.extend_from_slice(&bytes);
                if buf.len() > g.body_limit {
                    // Larger than any text body may be: pass it on whole, unchecked.
                    let head = futures::stream::once(async move { Ok(Bytes::from(buf)) });
                    let body = Body::from_stream(head.chain(stream));
                    return next.run(Request::from_parts(parts, body)).await;
                }
            }
            Err(e) => return (g.render)(front, &parts, &read_failure(&e)),
        }
    }
    if let Err(r) = check_body(kind, &buf) {
        return (g.render)(front, &parts, &r);
    }
    next.run(Request::from_parts(parts, Body::from(buf))).await
}

/// A body that could not be read: too slow (408), or broken off.
fn read_failure(e: &axum::Error) -> Refusal {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<BodyReadTimeout>() {
            return Refusal::slow_body();
        }
        source = s.source();
    }
    Refusal::unreadable(e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Form,
    Json,
}

fn body_kind(parts: &Parts) -> Option<BodyKind> {
    let ct = parts.headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mime = ct.split(';').next()?.trim().to_ascii_lowercase();
    if mime == "application/x-www-form-urlencoded" {
        Some(BodyKind::Form)
    } else if mime == "application/json"
        || (mime.starts_with("application/") && mime.ends_with("+json"))
    {
        Some(BodyKind::Json)
    } else {
        None
    }
}

fn check_body(kind: BodyKind, bytes: &[u8]) -> Result<(), Refusal> {
    match kind {
        BodyKind::Form => {
            // A form body is a query string (`+` for space included).
            let text = std::str::from_utf8(bytes).map_err(|_| Refusal::utf8("body".into()))?;
            check_pairs(Some(text))
        }
        BodyKind::Json => check_json(bytes),
    }
}

/// Percent-decodes `s` (`+` as a space when `plus` is set); a `%` not followed by two hex
/// digits stays as it is.
fn decode(s: &[u8], plus: bool) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// A field's name as it can be shown: lossy UTF-8, NUL spelled out, at most 64 characters.
fn shown(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name).replace('\0', "\\0");
    if s.is_empty() {
        return "query".into();
    }
    s.chars().take(64).collect()
}

/// Checks decoded bytes of `field`.
fn check_text(field: impl FnOnce() -> String, bytes: &[u8]) -> Result<(), Refusal> {
    if bytes.contains(&0) {
        return Err(Refusal::nul(field()));
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(Refusal::utf8(field()));
    }
    Ok(())
}

fn check_path(path: &str) -> Result<(), Refusal> {
    check_text(|| "path".into(), &decode(path.as_bytes(), false))
}

/// A query string or form body: every name and value, decoded.
fn check_pairs(query: Option<&str>) -> Result<(), Refusal> {
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(k.as_bytes(), true);
        check_text(|| shown(&name), &name)?;
        check_text(|| shown(&name), &decode(v.as_bytes(), true))?;
    }
    Ok(())
}

fn check_json(bytes: &[u8]) -> Result<(), Refusal> {
    if bytes.contains(&0) {
        return Err(Refusal::nul("body".into()));
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(Refusal::utf8("body".into()));
    }
    // Only a body that spells `\u0000` somewhere can hold a NUL; find the field it is in. A
    // malformed body goes on: the handler's JSON extractor names the syntax error.
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Ok(());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => match nul_path(&v, String::new()) {
            Some(p) if p.is_empty() => Err(Refusal::nul("body".into())),
            Some(p) => Err(Refusal::nul(p)),
            None => Ok(()),
        },
        Err(_) => Ok(()),
    }
}

/// The path (`caller.phone`, `items[2]`) of the first string or key holding a NUL.
fn nul_path(v: &Value, at: String) -> Option<String> {
    match v {
        Value::String(s) => s.contains('\0').then_some(at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let here = if at.is_empty() {
                k.replace('\0', "\\0")
            } else {
                format!("{at}.{}", k.replace('\0', "\\0"))
            };
            if k.contains('\0') {
                return Some(here);
            }
            nul_path(item, here)
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<(), Refusal>) -> (String, &'static str) {
        let r = r.unwrap_err();
        (r.field, r.code)
    }

    #[test]
    fn decoding() {
        assert_eq!(decode(b"a%00b", false), b"a\0b");
        assert_eq!(decode(b"a+b%2", true), b"a b%2");
        assert_eq!(decode(b"%zz%4", false), b"%zz%4");
        assert_eq!(decode(b"%E4%B8%AD", false), "中".as_bytes());
        assert_eq!(decode(b"%", false), b"%");
    }

    #[test]
    fn paths_and_queries() {
        assert!(check_path("/console/cases/MS-1").is_ok());
        assert!(check_path("/open311/v2/requests/%E4%B8%AD.json").is_ok());
        assert_eq!(
            field_of(check_path("/open311/v2/requests/a%00b.json")),
            ("path".into(), "nul_character")
        );
        assert_eq!(
            field_of(check_path("/api/v1/cases/%FF")),
            ("path".into(), "invalid_utf8")
        );
        assert!(check_pairs(Some("q=%E8%B7%AF%E7%81%AF&view=all&flag")).is_ok());
        assert!(check_pairs(None).is_ok());
        assert_eq!(
            field_of(check_pairs(Some("view=all&q=a%00b"))),
            ("q".into(), "nul_character")
        );
        assert_eq!(
            field_of(check_pairs(Some("service_request_id=a%C3"))),
            ("service_request_id".into(), "invalid_utf8")
        );
        assert_eq!(
            field_of(check_pairs(Some("a%00=1"))),
            ("a\\0".into(), "nul_character")
        );
    }

    #[test]
    fn form_and_json_bodies() {
        assert!(check_body(BodyKind::Form, b"name=op&password=x+y").is_ok());
        assert_eq!(
            field_of(check_body(BodyKind::Form, b"csrf=1&description=a%00b")),
            ("description".into(), "nul_character")
        );
        assert_eq!(
            field_of(check_body(BodyKind::Form, b"name=\xff")),
            ("body".into(), "invalid_utf8")
        );
        assert!(check_body(BodyKind::Json, br#"{"content":"ok \\u0000 literal"}"#).is_ok());
        assert_eq!(
            field_of(check_body(
                BodyKind::Json,
                br#"{"caller":{"phone":"1\u0000"},"content":"x"}"#
            )),
            ("caller.phone".into(), "nul_character")
        );
        assert_eq!(
            field_of(check_body(BodyKind::Json, br#"{"items":["a","b\u0000"]}"#)),
            ("items[1]".into(), "nul_character")
        );
        assert_eq!(
            field_of(check_body(BodyKind::Json, br#""\u0000""#)),
            ("body".into(), "nul_character")
        );
        assert_eq!(
            field_of(check_body(BodyKind::Json, b"{\"a\":\"\xc3\"}")),
            ("body".into(), "invalid_utf8")
        );
        assert_eq!(
            field_of(check_body(BodyKind::Json, b"{\"a\":\"\0\"}")),
            ("body".into(), "nul_character")
        );
        // Malformed JSON is the handler's to report.
        assert!(check_body(BodyKind::Json, br#"{"a":"\u0000"#).is_ok());
    }

    #[test]
    fn front_ends_by_path() {
        assert_eq!(FrontEnd::of("/open311/v2/services.xml"), FrontEnd::Open311);
        assert_eq!(FrontEnd::of("/console/queue"), FrontEnd::Console);
        assert_eq!(FrontEnd::of("/"), FrontEnd::Console);
        assert_eq!(FrontEnd::of("/api/v1/cases"), FrontEnd::Api);
        assert_eq!(FrontEnd::of("/consoles"), FrontEnd::Api);
        assert_eq!(FrontEnd::of("/healthz"), FrontEnd::Api);
    }

    #[test]
    fn progress_of_a_body() {
        let p = BodyProgress::new(false);
        p.frame();
        assert!(p.arriving(std::time::Duration::from_secs(60)));
        assert!(!p.arriving(std::time::Duration::ZERO));
        p.finish();
        assert!(!p.arriving(std::time::Duration::from_secs(60)));
        assert!(!BodyProgress::new(true).arriving(std::time::Duration::from_secs(60)));
    }

    fn render(front: FrontEnd, _: &Parts, r: &Refusal) -> Response {
        let mut resp = r.json();
        resp.headers_mut().insert(
            "x-front",
            header::HeaderValue::from_static(match front {
                FrontEnd::Api => "api",
                FrontEnd::Open311 => "open311",
                FrontEnd::Console => "console",
            }),
        );
        resp
    }

    #[tokio::test]
    async fn middleware_refuses_before_the_handler_and_passes_the_rest() {
        use tower::ServiceExt as _;
        let app = axum::Router::new()
            .route(
                "/{*rest}",
                axum::routing::any(|body: Bytes| async move { body }),
            )
            .layer(axum::middleware::from_fn_with_state(
                Guard {
                    body_limit: 32,
                    render,
                },
                guard,
            ));
        let call = |uri: &str, ct: &str, body: &'static [u8]| {
            let req = Request::builder()
                .method("POST")
                .uri(uri)
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap();
            app.clone().oneshot(req)
        };
        let resp = call(
            "/open311/v2/requests.json",
            "application/x-www-form-urlencoded",
            b"description=a%00b",
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(resp.headers()["x-front"], "open311");
        let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["field"], "description");
        // Passed on whole: a clean body, a body of another type, a body over the limit.
        for (ct, body) in [
            ("application/x-www-form-urlencoded", &b"a=1"[..]),
            ("text/plain", &b"a\0b"[..]),
            (
                "application/json",
                &b"{\"a\":\"0123456789abcdef0123456789abcdef\\u0000\"}"[..],
            ),
        ] {
            let resp = call("/api/v1/x", ct, body).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{ct}");
            let got = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
            assert_eq!(&got[..], body);
        }
        let resp = call("/console/queue?q=a%00b", "text/plain", b"")
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(resp.headers()["x-front"], "console");
    }
}
