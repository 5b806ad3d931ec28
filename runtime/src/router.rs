/*!
The application: the one place every route of every front-end (JSON API, Open311, console) is
mounted. Each resource module's `router()` is merged here, then the
stack is wrapped in the cross-cutting layers (outermost first):

1. metrics — request count and latency by matched route and status;
2. trace — one span per request (`tower_http::trace`);
3. body limit — bodies over the configured limit are refused with a 413 JSON error;
4. authorize — the route × role table of [`crate::http::auth::ROUTES`].

Unknown paths get a 404 JSON error, wrong methods a 405 JSON error.
*/

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;

use crate::http::AppState;
use crate::http::error::ApiError;

/// The whole HTTP application with its state attached.
pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit;
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
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::http::metrics::track,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

async fn method_not_allowed() -> impl IntoResponse {
    let mut resp = ApiError::bad_request("method_not_allowed", "method not allowed on this route")
        .into_response();
    *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    resp
}
