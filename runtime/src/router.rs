/*!
The application: the one place every route of every front-end (JSON API, Open311, console) is
mounted. Each resource module's `router()` is merged here, then the
stack is wrapped in the cross-cutting layers (outermost first):

1. metrics — request count and latency by matched route, a fixed method set and status;
2. request timeout — a request whose answer has not started `limits.request_timeout_seconds`
   after its body's last byte gets a 503 with `Retry-After` in its front-end's format;
3. trace — one span per request (`tower_http::trace`);
4. body limit — bodies over the configured limit are refused with a 413 JSON error;
5. input guard — NUL and non-UTF-8 input refused with a 400 in the front-end's format
   ([`crate::http::guard`]), before authorization;
6. authorize — the route × role table of [`crate::http::auth::ROUTES`].

Unknown paths get a 404 JSON error, wrong methods a 405 JSON error. The live-update streams'
bound ([`Streams`]) reaches the console's handler as an extension.

Errors raised outside a front-end's handlers (the guard's refusals, the request timeout) are
rendered here, where all three front-ends are in reach ([`render`]).
*/

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::{Extension, Router};

use crate::console::i18n::Lang;
use crate::console::sse::Streams;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::guard::{BodyProgress, FrontEnd, Guard, Refusal};
use crate::open311::format::{Format, Open311Error};

/// The whole HTTP application with its state attached, with its own live-update bound.
pub fn router(state: AppState) -> Router {
    let limits = &state.config.limits;
    let streams = Streams::new(limits.max_streams, limits.max_streams_per_user);
    app(state, streams)
}

/// [`router`] with the live-update streams given (the server closes them at shutdown).
pub fn app(state: AppState, streams: Arc<Streams>) -> Router {
    let limit = state.config.body_limit;
    let timeout = state.config.limits.request_timeout;
    Router::new()
        .merge(crate::http::health::router())
        .merge(crate::http::metrics::router())
        .merge(crate::http::openapi::router())
        .merge(crate::http::auth::router())
        .merge(crate::http::audit::router())
        .merge(crate::http::scorecards::router())
        .merge(crate::http::analytics::router())
        .merge(crate::http::alerts::router())
        .merge(crate::http::knowledge::router())
        .merge(crate::http::offers::router())
        .merge(crate::http::cases::router())
        .merge(crate::http::attachments::router())
        .merge(crate::open311::media::router())
        .merge(crate::http::calls::router())
        .merge(crate::http::sms::router())
        .merge(crate::console::router())
        .merge(crate::http::directories::router())
        .merge(crate::http::households::router())
        .merge(crate::open311::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::http::auth::authorize,
        ))
        .layer(middleware::from_fn_with_state(
            Guard {
                body_limit: limit,
                render,
            },
            crate::http::guard::guard,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .layer(Extension(streams))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(timeout, request_timeout))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::http::metrics::track,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

async fn method_not_allowed() -> Response {
    crate::http::auth::method_not_allowed(&[])
}

/// A refusal in its front-end's format: the JSON error, Open311's error document (JSON or XML
/// by the resource's extension, XML when it has none), or a console error page in the
/// request's language.
pub fn render(front: FrontEnd, parts: &Parts, r: &Refusal) -> Response {
    let mut resp = match front {
        FrontEnd::Api => return r.json(),
        FrontEnd::Open311 => {
            let file = parts.uri.path().rsplit('/').next().unwrap_or("");
            let format = Format::split(file).map_or(Format::Xml, |(_, f)| f);
            let e = Open311Error::new(r.status.as_u16(), format!("{} / {}", r.zh, r.en));
            crate::open311::handlers::error_response(format, &e)
        }
        FrontEnd::Console => {
            let (lang, _) =
                crate::console::session::request_lang(&parts.headers, parts.uri.query());
            let message = match lang {
                Lang::Zh => &r.zh,
                Lang::En => &r.en,
            };
            crate::console::pages::error_page(lang, None, r.status, message)
        }
    };
    r.add_retry_after(&mut resp);
    resp
}

/// `Retry-After` of a request that ran out of time: the server is overloaded or a database
/// wait is long; a few seconds later is a fair guess.
const TIMEOUT_RETRY_SECS: u64 = 5;

/// Middleware: a request whose answer has not started within `limit` gets a 503 with
/// `Retry-After` (the handler is dropped: its transaction rolls back). The clock restarts while
/// the body is still arriving — a slow upload is the body deadline's business (`server`), not
/// this one's. Streams are not cut: only the start of the answer counts.
async fn request_timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let progress = req.extensions().get::<Arc<BodyProgress>>().cloned();
    // What rendering the error needs: the path, the query (`lang`), the language cookie.
    let mut head = Request::new(()).into_parts().0;
    head.uri = req.uri().clone();
    if let Some(cookie) = req.headers().get(header::COOKIE) {
        head.headers.insert(header::COOKIE, cookie.clone());
    }
    let answer = next.run(req);
    tokio::pin!(answer);
    let mut deadline = tokio::time::Instant::now() + limit;
    loop {
        tokio::select! {
            resp = &mut answer => return resp,
            () = tokio::time::sleep_until(deadline) => {
                if progress.as_ref().is_some_and(|p| p.arriving(limit)) {
                    deadline = tokio::time::Instant::now() + limit;
                    continue;
                }
                tracing::warn!(path = %head.uri.path(), ?limit, "request timed out");
                let r = Refusal {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    code: "request_timeout",
                    field: "request".into(),
                    en: format!("the request took longer than {}s; nothing was saved if it did not finish, try again", limit.as_secs()),
                    zh: "请求处理超时，请稍后重试".into(),
                    retry_after: Some(TIMEOUT_RETRY_SECS),
                };
                return render(FrontEnd::of(head.uri.path()), &head, &r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt as _;

    /// A slow handler behind the request timeout: 503 with `Retry-After`, in the front-end's
    /// format; a quick one passes.
    #[tokio::test]
    async fn a_slow_answer_is_a_503_in_its_front_ends_format() {
        let app = Router::new()
            .route(
                "/{*rest}",
                axum::routing::get(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "late"
                }),
            )
            .route("/quick", axum::routing::get(|| async { "ok" }))
            .layer(middleware::from_fn_with_state(
                Duration::from_millis(50),
                request_timeout,
            ));
        let get = |uri: &str| {
            app.clone()
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        };
        let resp = get("/api/v1/cases").await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "5");
        let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "request_timeout");
        let resp = get("/open311/v2/requests.xml").await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            resp.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/xml")
        );
        let resp = get("/quick").await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
}
