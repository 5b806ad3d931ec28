/*!
The one place every route is mounted: each resource module's `router()` is merged here, then the
stack is wrapped in the cross-cutting layers (outermost first):

1. metrics — request count and latency by matched route and status;
2. trace — one span per request (`tower_http::trace`);
3. body limit — bodies over the configured limit are refused with a 413 JSON error;
4. authorize — the route × role table of [`super::auth::ROUTES`].

Unknown paths get a 404 JSON error, wrong methods a 405 JSON error.
*/

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;

use super::AppState;
use super::error::ApiError;

/// The whole HTTP application with its state attached.
pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit;
    Router::new()
        .merge(super::health::router())
        .merge(super::metrics::router())
        .merge(super::openapi::router())
        .merge(super::auth::router())
        .merge(super::cases::router())
        .merge(super::calls::router())
        .merge(crate::console::router())
        .merge(super::directories::router())
        .merge(super::households::router())
        .merge(crate::open311::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            super::auth::authorize,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            super::metrics::track,
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
