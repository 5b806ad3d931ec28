/*!
`GET /api/v1/audit`: the audit log for the auditor and the admin — who did what to which record,
when — newest first, with filters (actor id, action, target, a period of Shanghai days) and
paging backwards by id (`before`, the response's `next_before`). `?format=csv` gives the same
entries (up to 10,000) as a CSV file with neutralized cells. Reading the log is itself audited
(`audit.view`, with the filter).
*/

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::error::{ApiError, ApiQuery, ApiResult};
use crate::engine::export::{Sheet, to_csv};
use crate::model::Principal;
use crate::model::time::{day_start_ms, render_time};
use crate::store::audit::{AuditFilter, NewAudit};

/// Most entries a CSV export carries.
const MAX_EXPORT: usize = 10_000;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(list))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    actor: Option<i64>,
    action: Option<String>,
    target: Option<String>,
    /// First and last day, `YYYY-MM-DD` (Asia/Shanghai), both included.
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

fn day(field: &'static str, v: &Option<String>) -> ApiResult<Option<i64>> {
    match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(d) => day_start_ms(d)
            .map(Some)
            .ok_or_else(|| ApiError::invalid(field, "a date, YYYY-MM-DD")),
    }
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "json or csv")),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "between 1 and 1000"));
    }
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut filter = AuditFilter {
        actor_id: q.actor,
        action: clean(&q.action),
        target: clean(&q.target),
        since: day("from", &q.from)?,
        until: day("to", &q.to)?.map(|t| t + 86_400_000),
        before_id: q.before.filter(|b| *b > 0),
        limit: Some(limit),
    };
    state
        .store
        .audit(
            &NewAudit::by(&principal, "audit.view", None).with_detail(json!({
                "actor": q.actor, "action": filter.action, "target": filter.target,
                "from": q.from, "to": q.to, "format": if csv { "csv" } else { "json" },
            })),
        )
        .await?;
    if !csv {
        let entries = state.store.audit_entries(&filter).await?;
        let next_before = (entries.len() as i64 == limit)
            .then(|| entries.last().map(|e| e.id))
            .flatten();
        let items: Vec<_> = entries
            .iter()
            .map(|e| {
                json!({
                    "id": e.id, "at": render_time(e.at), "actor_id": e.actor_id,
                    "actor_name": e.actor_name, "action": e.action, "target": e.target,
                    "detail": e.detail,
                })
            })
            .collect();
        return Ok(axum::Json(json!({"items": items, "next_before": next_before})).into_response());
    }
    let mut rows = Vec::new();
    filter.limit = Some(1000);
    while rows.len() < MAX_EXPORT {
        let page = state.store.audit_entries(&filter).await?;
        let done = page.len() < 1000;
        filter.before_id = page.last().map(|e| e.id);
        rows.extend(page.into_iter().map(|e| {
            vec![
                e.id.to_string(),
                render_time(e.at),
                e.actor_id.map(|a| a.to_string()).unwrap_or_default(),
                e.actor_name.unwrap_or_default(),
                e.action,
                e.target.unwrap_or_default(),
                e.detail.map(|d| d.to_string()).unwrap_or_default(),
            ]
        }));
        if done {
            break;
        }
    }
    rows.truncate(MAX_EXPORT);
    let sheet = Sheet {
        name: "audit".into(),
        headers: [
            "id",
            "at",
            "actor_id",
            "actor_name",
            "action",
            "target",
            "detail",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    };
    let bytes = to_csv(&sheet)?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"m110-audit.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
