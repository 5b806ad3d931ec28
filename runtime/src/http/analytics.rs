/*!
`/api/v1/analytics/…`: the analytics of [`crate::engine::analytics`] — aggregates only, so the
analyst may read them. Every route takes the period (`month=YYYY-MM`, or `from` and `to` as
`YYYY-MM-DD`, both days included; this month when absent) and the filters `category`, `area`
(a grid unit of any tier, with everything under it), `unit` and `channel`.

- `summary`: the period's figures beside the previous period (环比: the month before for a
  month, else as many days before) and the same dates a year earlier (同比);
- `breakdown?by=…`: one row per category, area (`tier=N`), unit, channel, caller gender / age
  band / occupation (cells under 5 cases withheld) or time slot (hour, weekday, day, week,
  month); `format=csv|xlsx` downloads it;
- `heatmap`: cases received by weekday × hour of day.
*/

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiQuery, ApiResult};
use crate::engine::analytics::{self, Figures, Invalid, Params, Query, Row};
use crate::engine::export::{Sheet, to_csv, to_xlsx};
use crate::model::Principal;
use crate::model::time::{now_ms, shanghai};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/analytics/summary", get(summary))
        .route("/api/v1/analytics/breakdown", get(breakdown))
        .route("/api/v1/analytics/heatmap", get(heatmap))
}

fn this_month() -> String {
    shanghai(now_ms()).format("%Y-%m").to_string()
}

fn checked(state: &AppState, p: &Params) -> ApiResult<Query> {
    p.query(&state.region, &this_month())
        .map_err(|Invalid { field, message }| ApiError::invalid(field, message))
}

/// The period and filters as the response repeats them.
pub fn period_json(q: &Query) -> Value {
    json!({
        "from": shanghai(q.from).format("%Y-%m-%d").to_string(),
        "to": shanghai(q.to - 1).format("%Y-%m-%d").to_string(),
        "category": q.category,
        "area": q.area,
        "unit": q.unit,
        "channel": q.channel,
    })
}

async fn summary(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(p): ApiQuery<Params>,
) -> ApiResult<Json<Value>> {
    let q = checked(&state, &p)?;
    let s = analytics::summary(&state.store, &state.region, &q).await?;
    Ok(Json(json!({
        "period": period_json(&q),
        "figures": s.period,
        "previous": s.previous,
        "year_ago": s.year_ago,
        "received_mom": s.received_mom,
        "received_yoy": s.received_yoy,
        "closed_mom": s.closed_mom,
        "closed_yoy": s.closed_yoy,
    })))
}

/// The columns of a breakdown export: (header, value of a row's figures).
type Column = (&'static str, fn(&Figures) -> String);

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

const COLUMNS: &[Column] = &[
    ("受理 received", |f| f.counts.received.to_string()),
    ("派单 dispatched", |f| f.counts.dispatched.to_string()),
    ("签收 signed", |f| f.counts.signed.to_string()),
    ("超时签收 sign_late", |f| f.counts.sign_late.to_string()),
    ("答复 replied", |f| f.counts.replied.to_string()),
    ("超时答复 reply_late", |f| {
        f.counts.reply_late.to_string()
    }),
    ("退单 returned", |f| f.counts.returned.to_string()),
    ("办结 closed", |f| f.counts.closed.to_string()),
    ("回访 followed_up", |f| f.counts.followed_up.to_string()),
    ("满意 satisfied", |f| f.counts.satisfied.to_string()),
    ("不满意 unsatisfied", |f| {
        f.counts.unsatisfied.to_string()
    }),
    ("按时签收率 sign_on_time_rate", |f| {
        opt(f.sign_on_time_rate)
    }),
    ("按时答复率 reply_on_time_rate", |f| {
        opt(f.reply_on_time_rate)
    }),
    ("满意率 satisfaction_rate", |f| opt(f.satisfaction_rate)),
    ("签收用时中位数(分) sign_minutes_median", |f| {
        opt(f.sign_minutes_median)
    }),
    ("办结用时中位数(分) close_minutes_median", |f| {
        opt(f.close_minutes_median)
    }),
    ("办结用时P90(分) close_minutes_p90", |f| {
        opt(f.close_minutes_p90)
    }),
];

/// A breakdown as a sheet (a withheld cell reads "<5").
pub fn breakdown_sheet(by: &str, rows: &[Row]) -> Sheet {
    let mut headers = vec!["项目 label".to_string(), "代码 key".to_string()];
    headers.extend(COLUMNS.iter().map(|(h, _)| h.to_string()));
    Sheet {
        name: format!("analytics-{by}"),
        headers,
        rows: rows
            .iter()
            .map(|r| {
                let mut row = vec![r.label.clone(), r.key.clone()];
                match &r.figures {
                    Some(f) => row.extend(COLUMNS.iter().map(|(_, v)| v(f))),
                    None => row.extend(COLUMNS.iter().map(|_| "<5".to_string())),
                }
                row
            })
            .collect(),
    }
}

async fn breakdown(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(p): ApiQuery<Params>,
) -> ApiResult<Response> {
    let q = checked(&state, &p)?;
    let by = p
        .by()
        .map_err(|Invalid { field, message }| ApiError::invalid(field, message))?;
    let rows = analytics::breakdown(&state.store, &state.region, &q, by).await?;
    let download = |bytes: Vec<u8>, ctype: &'static str, ext: &str| {
        let mut resp = bytes.into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        if let Ok(v) = HeaderValue::from_str(&format!(
            "attachment; filename=\"m110-analytics-{}.{ext}\"",
            by.as_str()
        )) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        resp
    };
    match p.format.as_deref() {
        None | Some("json") => {}
        Some("csv") => {
            let bytes = to_csv(&breakdown_sheet(by.as_str(), &rows))?;
            return Ok(download(bytes, "text/csv; charset=utf-8", "csv"));
        }
        Some("xlsx") => {
            let bytes = to_xlsx(&breakdown_sheet(by.as_str(), &rows))?;
            return Ok(download(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
            ));
        }
        Some(_) => return Err(ApiError::invalid("format", "json, csv or xlsx")),
    }
    let total = analytics::merged(
        rows.iter()
            .filter_map(|r| r.figures.as_ref().map(|f| &f.counts)),
    );
    Ok(Json(json!({
        "period": period_json(&q),
        "by": by.as_str(),
        "tier": match by { analytics::By::Area(t) => Some(t), _ => None },
        "rows": rows,
        "total": total.figures(),
        "min_cell": analytics::MIN_CELL,
    }))
    .into_response())
}

async fn heatmap(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(p): ApiQuery<Params>,
) -> ApiResult<Json<Value>> {
    let q = checked(&state, &p)?;
    let cells = analytics::heatmap(&state.store, &state.region, &q).await?;
    Ok(Json(json!({
        "period": period_json(&q),
        "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "received": cells,
    })))
}
