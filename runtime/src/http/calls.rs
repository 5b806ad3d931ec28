/*!
CTI screen pop: `POST /api/v1/calls {"phone": "…"}` — when a call rings, the center sees who is
calling, their recent history and their open cases. Center roles see the number in full; every
lookup of a known caller is audited (`caller.lookup`).

The number is normalized first (`+86 138-0000-1234` is `13800001234`), as every stored number
is, so the caller and the vulnerable-household flag (`vulnerable`: kind and grid cell, for the
roles the registry policy lets see it; audited as `household.flag` with the number hashed) are
found however the number arrives. The history shows each case's caller as given on that case.
*/

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::cases::case_json;
use super::error::{ApiError, ApiJson, ApiResult};
use crate::engine::intake::normalize_phone;
use crate::model::Principal;
use crate::model::Status;
use crate::model::time::render_time;
use crate::policy::access::{HouseholdAccess, household_access, sees_caller_phone};
use crate::policy::masking::{mask_name, mask_phone};
use crate::store::audit::NewAudit;
use crate::store::cases::CaseFilter;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/calls", post(call))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallRequest {
    phone: String,
}

/// Cases shown in the history.
const HISTORY: i64 = 20;

async fn call(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(req): ApiJson<CallRequest>,
) -> ApiResult<Json<Value>> {
    let phone = normalize_phone(&req.phone).ok_or_else(|| {
        ApiError::invalid("phone", "not a phone number (3–20 digits, optional +)")
    })?;
    let reveal = sees_caller_phone(principal.role);
    let shown_phone = if reveal {
        phone.clone()
    } else {
        mask_phone(&phone)
    };
    let vulnerable: Vec<Value> = if household_access(principal.role) == HouseholdAccess::None {
        Vec::new()
    } else {
        state
            .store
            .household_flags(&phone, &principal)
            .await?
            .into_iter()
            .map(|(kind, grid)| json!({"kind": kind, "grid": grid}))
            .collect()
    };
    let Some(caller) = state.store.caller_by_phone(&phone).await? else {
        return Ok(Json(json!({
            "known": false,
            "phone": shown_phone,
            "caller": null,
            "vulnerable": vulnerable,
            "history": [],
            "open_cases": [],
            "total_cases": 0,
        })));
    };
    let target = format!("caller:{}", caller.id);
    state
        .store
        .audit(&NewAudit::by(&principal, "caller.lookup", Some(&target)))
        .await?;
    let (rows, total) = state
        .store
        .list_cases(&CaseFilter {
            caller_id: Some(caller.id),
            limit: HISTORY,
            ..Default::default()
        })
        .await?;
    let open: Vec<Value> = rows
        .iter()
        .filter(|r| Status::parse(&r.status).is_some_and(|s| s.is_open()))
        .map(|r| case_json(r, &state.region, reveal))
        .collect();
    let history: Vec<Value> = rows
        .iter()
        .map(|r| case_json(r, &state.region, reveal))
        .collect();
    Ok(Json(json!({
        "known": true,
        "phone": shown_phone,
        "caller": {
            "id": caller.id,
            "phone": shown_phone,
            "name": caller.name.as_deref().map(|n| if reveal { n.to_string() } else { mask_name(n) }),
            "gender": caller.gender,
            "age_band": caller.age_band,
            "occupation": caller.occupation,
            "first_seen": render_time(caller.created_at),
        },
        "vulnerable": vulnerable,
        "history": history,
        "open_cases": open,
        "total_cases": total,
    })))
}
