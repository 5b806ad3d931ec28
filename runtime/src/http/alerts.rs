/*!
`/api/v1/alerts`: the early-warning alerts (`docs/early-warning.md`) — aggregates (a category, an
area, counts), so the analyst may read them; admins, supervisors and dispatchers act on them.

- `GET /api/v1/alerts?from&to&category&area&state&limit`: newest first; `from`/`to` bound the day
  of detection (`YYYY-MM-DD`), `area` takes a grid unit of any tier with everything under it;
- `GET /api/v1/alerts/{id}`: one alert with the actions its state allows;
- `POST /api/v1/alerts/{id}/actions` `{"action": "acknowledge|dispatch|resolve|dismiss",
  "reason": …}` ([`crate::engine::alerts`]).
*/

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::engine::alerts::{AlertActionInput, act, allowed};
use crate::model::Principal;
use crate::model::time::day_start_ms;
use crate::store::alerts::{Alert, AlertFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alerts", get(list))
        .route("/api/v1/alerts/{id}", get(one))
        .route("/api/v1/alerts/{id}/actions", post(action))
}

/// Most alerts one list returns.
pub const MAX_LIMIT: i64 = 500;

/// The states an alert can be in.
pub const STATES: [&str; 5] = ["new", "acknowledged", "dispatched", "resolved", "dismissed"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertQuery {
    from: Option<String>,
    to: Option<String>,
    category: Option<String>,
    area: Option<String>,
    state: Option<String>,
    limit: Option<i64>,
}

fn some(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// An alert as the API shows it.
pub fn alert_json(a: &Alert) -> Value {
    let mut v = serde_json::to_value(a).unwrap_or_default();
    v["allowed_actions"] = json!(allowed(&a.state));
    v
}

async fn list(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> ApiResult<Json<Value>> {
    for (field, v) in [("from", &q.from), ("to", &q.to)] {
        if let Some(d) = some(v)
            && day_start_ms(&d).is_none()
        {
            return Err(ApiError::invalid(field, "a date, YYYY-MM-DD"));
        }
    }
    let category = some(&q.category);
    if let Some(c) = &category
        && state.region.category(c).is_none()
    {
        return Err(ApiError::invalid(
            "category",
            format!("{c} is not a category"),
        ));
    }
    let areas = match some(&q.area) {
        Some(a) if state.region.grid(&a).is_none() => {
            return Err(ApiError::invalid("area", format!("{a} is not a grid unit")));
        }
        Some(a) => Some(state.region.grid_reach(&[a])),
        None => None,
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("between 1 and {MAX_LIMIT}"),
        ));
    }
    let st = some(&q.state);
    if let Some(s) = &st
        && !STATES.contains(&s.as_str())
    {
        return Err(ApiError::invalid("state", STATES.join(", ")));
    }
    let items = state
        .store
        .alerts(&AlertFilter {
            from_day: some(&q.from),
            to_day: some(&q.to),
            category,
            areas,
            state: st,
            limit,
        })
        .await?;
    Ok(Json(json!({
        "items": items.iter().map(alert_json).collect::<Vec<_>>(),
    })))
}

async fn one(
    State(state): State<AppState>,
    _principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let a = state
        .store
        .alert(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("alert {id}")))?;
    Ok(Json(alert_json(&a)))
}

async fn action(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AlertActionInput>,
) -> ApiResult<Json<Value>> {
    let a = act(&state.store, &state.region, &principal, id, input).await?;
    Ok(Json(alert_json(&a)))
}
