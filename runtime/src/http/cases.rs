/*!
Case endpoints: intake (`POST /api/v1/cases`), list, detail with timeline, lifecycle actions,
plus the triage suggestion endpoint and the region summary the case forms need.

Handlers translate HTTP to the services ([`crate::engine::intake`], [`crate::engine::actions`]) and render cases
as JSON. Personal data: lists always mask the caller's phone and name; the detail view shows them
in full to roles that call citizens back ([`crate::policy::access::sees_caller_phone`]) and writes an
audit row (`case.read_caller`) for every such read.
*/

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::engine::actions::{self, ActionInput, can_see};
use crate::engine::intake::{self, CaseInput, LocationInput};
use crate::engine::merge;
use crate::engine::region::RegionIndex;
use crate::model::time::now_ms;
use crate::model::time::render_time;
use crate::model::{Action, Principal, Role, Status};
use crate::policy::access::sees_caller_phone;
use crate::policy::masking::{mask_name, mask_phone};
use crate::store::StoreError;
use crate::store::audit::NewAudit;
use crate::store::cases::{COUNT_CAP, CaseFilter, CaseRow, EventRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases", post(create).get(list))
        .route("/api/v1/cases/{id}", get(detail))
        .route("/api/v1/cases/{id}/actions", post(act))
        .route("/api/v1/cases/{id}/similar", get(similar))
        .route("/api/v1/cases/{id}/merge", post(merge))
        .route("/api/v1/cases/{id}/similar/{other}/dismiss", post(dismiss))
        .route("/api/v1/triage", post(triage))
        .route("/api/v1/region", get(region))
}

/// A case as JSON; the caller's phone and name in full only when `reveal`.
pub fn case_json(row: &CaseRow, region: &RegionIndex, reveal: bool) -> Value {
    let category = row
        .category_code
        .as_deref()
        .map(|c| match region.category(c) {
            Some(cat) => json!({"code": cat.code, "name_zh": cat.name_zh, "name_en": cat.name_en}),
            None => json!({"code": c}),
        });
    let grid = row.grid_code.as_deref().map(|g| match region.grid(g) {
        Some(u) => json!({"code": u.code, "name": u.name, "tier": u.tier}),
        None => json!({"code": g}),
    });
    let unit = row.unit_id.as_deref().map(|u| match region.unit(u) {
        Some(info) => json!({"id": info.id, "name": info.name, "kind": info.kind.as_str()}),
        None => json!({"id": u}),
    });
    let caller = if row.caller_id.is_some() {
        json!({
            "phone": row.caller_phone.as_deref().map(|p| if reveal { p.to_string() } else { mask_phone(p) }),
            "name": row.caller_name.as_deref().map(|n| if reveal { n.to_string() } else { mask_name(n) }),
            "gender": row.caller_gender,
            "age_band": row.caller_age_band,
            "occupation": row.caller_occupation,
            "masked": !reveal,
        })
    } else {
        Value::Null
    };
    let status = Status::parse(&row.status);
    json!({
        "id": row.public_id,
        "status": row.status,
        "status_zh": status.map(|s| s.name_zh()),
        "emergency_line": row.emergency_line,
        "handoff": row.handoff_state.as_ref().map(|state| json!({
            "state": state,
            "reference": row.handoff_ref,
            "at": row.handoff_at.map(render_time),
        })),
        // A case of a unit reached through another platform (12345): where it went, and the
        // id it has there once the platform took it.
        "forward": row
            .unit_id
            .as_deref()
            .and_then(|u| region.unit(u))
            .and_then(|u| u.platform.clone())
            .map(|platform| json!({
                "platform": platform,
                "reference": row.forward_ref,
                "at": row.forward_at.map(render_time),
            })),
        "channel": row.channel,
        "content": row.content,
        "category": category,
        "priority": row.priority,
        "grid": grid,
        "address": row.address,
        "lat": row.lat,
        "lon": row.lon,
        "unit": unit,
        "operator_id": row.operator_id,
        "caller": caller,
        "sign_due": row.sign_due.map(render_time),
        "close_due": row.close_due.map(render_time),
        "dispatched_at": row.dispatched_at.map(render_time),
        "signed_at": row.signed_at.map(render_time),
        "replied_at": row.replied_at.map(render_time),
        "closed_at": row.closed_at.map(render_time),
        "flags": {
            "extension_requested": row.extension_requested != 0,
            "supervised": row.supervised != 0,
            "overdue_sign": row.overdue_sign != 0,
            "overdue_close": row.overdue_close != 0,
        },
        "escalation_step": row.escalation_step,
        "redo_count": row.redo_count,
        "satisfaction": row.satisfaction,
        "external_id": row.external_id,
        "created_at": render_time(row.created_at),
        "updated_at": render_time(row.updated_at),
        "version": row.version,
    })
}

fn event_json(e: &EventRow, region: &RegionIndex) -> Value {
    json!({
        "seq": e.seq,
        "kind": e.kind,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "actor": e.actor_id.map(|id| json!({"id": id, "name": e.actor_name})),
        "unit": e.unit_id.as_deref().map(|u| json!({
            "id": u,
            "name": region.unit(u).map(|i| i.name.clone()),
        })),
        "note": e.note,
        "detail": e.detail.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
        "at": render_time(e.at),
    })
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<CaseInput>,
) -> ApiResult<impl IntoResponse> {
    let created = intake::create_case(&state.store, &state.region, &principal, input).await?;
    let mut body = case_json(&created.case, &state.region, false);
    body["classification"] = json!(created.classification);
    body["location"] = json!(created.location);
    body["routed_by"] = json!(match &created.route {
        Some(crate::engine::routing::RouteVia::Rule { category, scope }) =>
            json!({"rule": {"category": category, "scope": scope}}),
        Some(crate::engine::routing::RouteVia::Fallback) => json!("fallback"),
        None => Value::Null,
    });
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Comma-separated statuses.
    status: Option<String>,
    unit: Option<String>,
    category: Option<String>,
    channel: Option<String>,
    overdue: Option<bool>,
    q: Option<String>,
    /// Only cases this user is responsible for.
    mine: Option<bool>,
    /// Created on or after this day / up to and including this day (`YYYY-MM-DD`, Shanghai).
    from: Option<String>,
    to: Option<String>,
    /// Deprecated beyond [`MAX_OFFSET`] rows: follow `next_cursor` instead.
    page: Option<i64>,
    page_size: Option<i64>,
    /// The `next_cursor` of the previous page (keyset paging: every page costs the same).
    cursor: Option<String>,
}

/// The deepest row `page` may start at: an offset makes the database walk every row before
/// it, so deep pages go through the cursor.
pub const MAX_OFFSET: i64 = 10_000;

/// The opaque cursor of a page that ends at case `id` (the next page holds older cases).
pub fn encode_cursor(id: i64) -> String {
    hex::encode(format!("c1:{id}"))
}

/// The case id a cursor ends at; `None` when it is not one [`encode_cursor`] made.
pub fn decode_cursor(cursor: &str) -> Option<i64> {
    let raw = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
    raw.strip_prefix("c1:")?.parse().ok().filter(|id| *id > 0)
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let page = q.page.unwrap_or(1);
    if page < 1 {
        return Err(ApiError::invalid("page", "pages start at 1"));
    }
    let page_size = q.page_size.unwrap_or(20);
    if !(1..=200).contains(&page_size) {
        return Err(ApiError::invalid("page_size", "between 1 and 200"));
    }
    let before_id = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(_) if q.page.is_some() => {
            return Err(ApiError::invalid("cursor", "give either page or cursor"));
        }
        Some(c) => Some(decode_cursor(c).ok_or_else(|| {
            ApiError::invalid("cursor", "not a cursor from this list's next_cursor")
        })?),
        None => None,
    };
    let offset = (page - 1).saturating_mul(page_size);
    if offset > MAX_OFFSET {
        return Err(ApiError::invalid(
            "page",
            format!("pages reach row {MAX_OFFSET}; follow next_cursor for older cases"),
        ));
    }
    // An unknown channel would match nothing: say so instead of answering an empty list.
    if let Some(c) = q.channel.as_deref().filter(|c| !c.is_empty())
        && crate::model::Channel::parse(c).is_none()
    {
        return Err(ApiError::invalid(
            "channel",
            format!("unknown channel {c} (phone, web, grid, sms or open311)"),
        ));
    }
    let mut filter = CaseFilter {
        limit: page_size,
        offset,
        before_id,
        unit: q.unit.filter(|s| !s.is_empty()),
        category: q.category.filter(|s| !s.is_empty()),
        channel: q.channel.filter(|s| !s.is_empty()),
        overdue: q.overdue,
        q: q.q.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    if let Some(s) = q.status.filter(|s| !s.is_empty()) {
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if Status::parse(part).is_none() {
                return Err(ApiError::invalid(
                    "status",
                    format!("unknown status {part}"),
                ));
            }
            filter.statuses.push(part.to_string());
        }
    }
    if q.mine == Some(true) {
        filter.operator_id = Some(principal.user_id);
    }
    for (field, value, slot) in [
        ("from", &q.from, &mut filter.created_from),
        ("to", &q.to, &mut filter.created_to),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            let start = crate::model::time::day_start_ms(v)
                .ok_or_else(|| ApiError::invalid(field, "a date, YYYY-MM-DD"))?;
            // `to` includes its whole day.
            *slot = Some(if field == "to" {
                start + 86_400_000
            } else {
                start
            });
        }
    }
    match principal.role {
        Role::UnitHandler => {
            let own = principal
                .unit_id
                .clone()
                .ok_or_else(|| ApiError::forbidden("your account is not bound to a unit"))?;
            if filter.unit.as_ref().is_some_and(|u| *u != own) {
                return Err(ApiError::forbidden(
                    "unit handlers list their own unit's cases",
                ));
            }
            filter.unit = Some(own);
        }
        Role::GridWorker => {
            filter.grid_work = true;
            filter.grid_codes = state.region.grid_reach(&principal.grid_codes);
            if filter.grid_codes.is_empty() {
                return Ok(Json(
                    json!({"items": [], "total": 0, "total_exact": true, "page": page,
                        "page_size": page_size, "next_cursor": null}),
                ));
            }
        }
        _ => {}
    }
    let (rows, total) = state.store.list_cases(&filter).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| case_json(r, &state.region, false))
        .collect();
    // A full page may have a next one; the cursor is its last (oldest) case.
    let next_cursor = (rows.len() as i64 == page_size)
        .then(|| rows.last().map(|r| encode_cursor(r.id)))
        .flatten();
    Ok(Json(json!({
        "items": items,
        "total": total.min(COUNT_CAP),
        "total_exact": total <= COUNT_CAP,
        "page": page,
        "page_size": page_size,
        "next_cursor": next_cursor,
    })))
}

async fn load_visible(state: &AppState, principal: &Principal, id: &str) -> ApiResult<CaseRow> {
    if id.contains('\0') {
        return Err(ApiError::not_found(format!(
            "case {}",
            id.replace('\0', "")
        )));
    }
    let row = match state.store.case_by_public_id(id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Err(ApiError::not_found(format!("case {id}"))),
        Err(e) => return Err(e.into()),
    };
    if !can_see(principal, &state.region, &row) {
        return Err(ApiError::forbidden(format!(
            "case {id} is outside your scope"
        )));
    }
    Ok(row)
}

async fn detail(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let row = load_visible(&state, &principal, &id).await?;
    let reveal = sees_caller_phone(principal.role) && row.caller_id.is_some();
    if reveal {
        let target = format!("case:{}", row.public_id);
        state
            .store
            .audit(&NewAudit::by(&principal, "case.read_caller", Some(&target)))
            .await?;
    }
    let events = state.store.case_events(row.id).await?;
    let mut body = case_json(&row, &state.region, reveal);
    body["events"] = Value::Array(
        events
            .iter()
            .map(|e| event_json(e, &state.region))
            .collect(),
    );
    // 一事多诉: the case this one was merged into, the cases merged into it; a parked child
    // takes no action of its own.
    let parent = state.store.merged_into(row.id).await?;
    let parked = merge::parked_in(&state.store, &row).await?.is_some();
    body["merged_into"] = json!(parent.map(|p| p.public_id));
    body["merged"] = json!(
        state
            .store
            .merged_children(row.id)
            .await?
            .into_iter()
            .map(|c| c.public_id)
            .collect::<Vec<_>>()
    );
    body["allowed_actions"] = if parked {
        json!([])
    } else {
        json!(actions::allowed_for(&principal, &row, &state.region.center))
    };
    Ok(Json(body))
}

/// `POST /api/v1/cases/{id}/merge` `{"into", "note"}`: 一事多诉, this case repeats `into`.
async fn merge(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<merge::MergeInput>,
) -> ApiResult<Json<Value>> {
    let merged = merge::merge(&state.store, &state.region, &principal, &id, &input).await?;
    Ok(Json(json!(merged)))
}

/// `POST /api/v1/cases/{id}/similar/{other}/dismiss` (body optional: `{"note"}`): `other` is
/// not the same problem, and is never suggested again.
async fn dismiss(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, other)): ApiPath<(String, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let input: merge::DismissInput = if body.iter().all(u8::is_ascii_whitespace) {
        merge::DismissInput::default()
    } else {
        // A body, when there is one, is JSON like every other (same 415 / 400 / 422).
        let content_type = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !content_type.is_some_and(super::error::is_utf8_json) {
            return Err(ApiError::UnsupportedMediaType);
        }
        super::error::parse_json(&body)?
    };
    merge::dismiss(&state.store, &state.region, &principal, &id, &other, &input).await?;
    Ok(Json(json!({"id": id, "dismissed": other})))
}

/// `GET /api/v1/cases/{id}/similar`: the open cases this one may repeat (一事多诉).
async fn similar(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let row = load_visible(&state, &principal, &id).await?;
    let items =
        crate::engine::duplicates::similar(&state.store, &state.region, &principal, &row).await?;
    Ok(Json(json!({"id": row.public_id, "items": items})))
}

async fn act(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ActionInput>,
) -> ApiResult<Json<Value>> {
    refuse_unused_fields(&input)?;
    let row = actions::perform(&state.store, &state.region, &principal, &id, input).await?;
    let mut body = case_json(&row, &state.region, false);
    body["allowed_actions"] = json!(actions::allowed_for(&principal, &row, &state.region.center));
    Ok(Json(body))
}

/// The fields of an action request that only some actions read, and those actions. `note`,
/// `reason` (recorded on every event) and `expected_version` go with any action.
const ACTION_FIELDS: &[(&str, &[Action])] = &[
    ("unit", &[Action::Dispatch, Action::Redispatch]),
    ("category", &[Action::Dispatch]),
    ("satisfaction", &[Action::FollowUp]),
    ("hours", &[Action::RequestExtension]),
    ("reference", &[Action::PoliceAck]),
    ("line", &[Action::TransferPolice]),
    ("assignee", &[Action::Sign]),
    ("knowledge", &[Action::Answer]),
];

/// A field the action would ignore (`hours` on `reply`) is a 422 naming it: the client meant
/// something the service would silently not do.
fn refuse_unused_fields(input: &ActionInput) -> ApiResult<()> {
    let given = |field: &str| match field {
        "unit" => input.unit.is_some(),
        "category" => input.category.is_some(),
        "satisfaction" => input.satisfaction.is_some(),
        "hours" => input.hours.is_some(),
        "reference" => input.reference.is_some(),
        "line" => input.line.is_some(),
        "assignee" => input.assignee.is_some(),
        "knowledge" => input.knowledge.is_some(),
        _ => false,
    };
    for (field, actions) in ACTION_FIELDS {
        if given(field) && !actions.contains(&input.action) {
            let users: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
            return Err(ApiError::invalid(
                *field,
                format!(
                    "{} does not take {field} (only {} does)",
                    input.action.as_str(),
                    users.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriageRequest {
    content: String,
    #[serde(default)]
    location: Option<LocationInput>,
}

async fn triage(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TriageRequest>,
) -> ApiResult<Json<Value>> {
    if req.content.trim().is_empty() {
        return Err(ApiError::invalid("content", "the request text is empty"));
    }
    let loc = req.location.unwrap_or_default();
    let (class, location) = intake::triage(&state.region, req.content.trim(), &loc);
    Ok(Json(json!({"classification": class, "location": location})))
}

async fn region(State(state): State<AppState>) -> Json<Value> {
    let r = &state.region;
    Json(json!({
        "code": r.code,
        "name": r.name,
        "categories": r.categories.iter().map(|c| json!({
            "code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "parent": c.parent,
            "priority": c.priority.as_str(), "police": c.police,
            "sign_minutes": c.sign_minutes, "close_hours": c.close_hours,
        })).collect::<Vec<_>>(),
        "units": r.units.iter().map(|u| json!({"id": u.id, "name": u.name, "kind": u.kind.as_str()})).collect::<Vec<_>>(),
        "grid_units": r.grid_units.len(),
        "now": render_time(now_ms()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_the_action_ignores_is_refused_by_name() {
        let parse = |body: &str| {
            super::super::error::parse_json::<ActionInput>(body.as_bytes()).expect("parses")
        };
        let e = refuse_unused_fields(&parse(r#"{"action":"reply","note":"ok","hours":5}"#))
            .unwrap_err();
        assert!(
            matches!(&e, ApiError::Invalid { field, .. } if field == "hours"),
            "{e:?}"
        );
        for body in [
            r#"{"action":"request_extension","hours":5,"reason":"rain"}"#,
            r#"{"action":"dispatch","unit":"u","category":"c","note":"n","expected_version":1}"#,
            r#"{"action":"redispatch","unit":"u","reason":"wrong unit"}"#,
            r#"{"action":"follow_up","satisfaction":"satisfied"}"#,
            r#"{"action":"sign","assignee":"张三"}"#,
            r#"{"action":"close","reason":"declined"}"#,
        ] {
            assert!(refuse_unused_fields(&parse(body)).is_ok(), "{body}");
        }
        for (body, field) in [
            (
                r#"{"action":"close","satisfaction":"satisfied"}"#,
                "satisfaction",
            ),
            (r#"{"action":"sign","unit":"u"}"#, "unit"),
            (r#"{"action":"start","line":"110"}"#, "line"),
            (
                r#"{"action":"reply","note":"x","knowledge":3}"#,
                "knowledge",
            ),
        ] {
            let e = refuse_unused_fields(&parse(body)).unwrap_err();
            assert!(
                matches!(&e, ApiError::Invalid { field: f, .. } if f == field),
                "{body}: {e:?}"
            );
        }
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name(""), "");
    }
}
