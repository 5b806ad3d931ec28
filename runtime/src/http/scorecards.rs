/*!
`GET /api/v1/scorecards?from=YYYY-MM-DD&to=YYYY-MM-DD`: every handling unit's card for the
assignments dispatched in the period (both days included, Asia/Shanghai), with the profile's
weights, the score and the rank — aggregates only, so the analyst may read it. Deadlines are
judged as of now (an assignment still unsigned past its deadline counts as late).
*/

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiQuery, ApiResult};
use crate::engine::scorecards::{for_period, trend};
use crate::model::Principal;
use crate::model::time::{day_start_ms, now_ms, shanghai};

/// Longest period one request covers (a year and a day, so a leap year fits).
const MAX_DAYS: i64 = 367;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/scorecards", get(scorecards))
        .route("/api/v1/scorecards/trend", get(scorecard_trend))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Period {
    from: Option<String>,
    to: Option<String>,
}

async fn scorecards(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(q): ApiQuery<Period>,
) -> ApiResult<Json<Value>> {
    let day = |field: &'static str, v: &Option<String>| -> ApiResult<(String, i64)> {
        let v = v
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::invalid(field, "required: a date, YYYY-MM-DD"))?;
        let ms = day_start_ms(v).ok_or_else(|| ApiError::invalid(field, "a date, YYYY-MM-DD"))?;
        Ok((v.to_string(), ms))
    };
    let (from_s, from) = day("from", &q.from)?;
    let (to_s, to_start) = day("to", &q.to)?;
    let to = to_start + 86_400_000;
    if to <= from {
        return Err(ApiError::invalid("to", "the period ends before it starts"));
    }
    if to - from > MAX_DAYS * 86_400_000 {
        return Err(ApiError::invalid("to", format!("at most {MAX_DAYS} days")));
    }
    let region = &state.region;
    let cards = for_period(&state.store, region, from, to).await?;
    let units: Vec<Value> = cards
        .iter()
        .map(|c| {
            json!({
                "unit_id": c.unit_id,
                "unit_name": region.unit(&c.unit_id).map(|u| u.name.clone()),
                "assigned": c.counts.assigned,
                "sign_on_time_rate": c.sign_on_time_rate,
                "close_on_time_rate": c.close_on_time_rate,
                "return_rate": c.return_rate,
                "follow_up_rate": c.follow_up_rate,
                "satisfaction_rate": c.satisfaction_rate,
                "redo_rate": c.redo_rate,
                "score": c.score,
                "rank": c.rank,
                "counts": c.counts,
            })
        })
        .collect();
    Ok(Json(json!({
        "from": from_s,
        "to": to_s,
        "weights": region.appraisal,
        "units": units,
    })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrendQuery {
    /// The last month, `YYYY-MM` (this month when absent).
    to: Option<String>,
    /// How many months, 1–24 (6 when absent).
    months: Option<u32>,
}

/// Most months one trend covers.
const MAX_TREND_MONTHS: u32 = 24;

async fn scorecard_trend(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(q): ApiQuery<TrendQuery>,
) -> ApiResult<Json<Value>> {
    // Empty is absent, as for every filter (a form's untouched field).
    let last =
        q.to.filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| shanghai(now_ms()).format("%Y-%m").to_string());
    let months = q.months.unwrap_or(6);
    if !(1..=MAX_TREND_MONTHS).contains(&months) {
        return Err(ApiError::invalid(
            "months",
            format!("1 to {MAX_TREND_MONTHS}"),
        ));
    }
    let region = &state.region;
    let units = trend(&state.store, region, &last, months)
        .await?
        .ok_or_else(|| ApiError::invalid("to", "a month, YYYY-MM"))?;
    let units: Vec<Value> = units
        .into_iter()
        .map(|(id, points)| {
            json!({
                "unit_id": id,
                "unit_name": region.unit(&id).map(|u| u.name.clone()),
                "months": points,
            })
        })
        .collect();
    Ok(Json(json!({"to": last, "months": months, "units": units})))
}
