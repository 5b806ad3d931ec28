//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers and
//! every embedded migration is applied), for load balancers and `m110 up`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "version": crate::VERSION}))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let db = state.store.ping().await;
    let migrations = match &db {
        Ok(()) => state.store.migrations_current().await,
        Err(_) => Ok(false),
    };
    let (status, body) = match (db, migrations) {
        (Ok(()), Ok(true)) => (
            StatusCode::OK,
            json!({"status": "ready", "database": "ok", "migrations": "current",
                   "engine": state.store.engine().as_str(), "region": state.region.code}),
        ),
        (Ok(()), Ok(false)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "not_ready", "database": "ok", "migrations": "pending"}),
        ),
        (Err(e), _) | (Ok(()), Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"status": "not_ready", "database": "unreachable"}),
            )
        }
    };
    (status, Json(body)).into_response()
}
