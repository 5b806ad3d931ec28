/*!
Nearest-resource dispatch over JSON (docs/matching.md):

- `POST /api/v1/offers` `{"cases": [...], "k": 3, "timeout_seconds": 600}`: the center puts
  cases of matchable categories out to offer (several at once: assigned together);
- `GET /api/v1/offers`: a provider's handler's offers, open ones first, with the case's text;
- `POST /api/v1/offers/{id}/accept`, `POST /api/v1/offers/{id}/decline` `{"reason": …}`;
- `GET /api/v1/cases/{id}/offers`: a case's offer history (and price of a paid service);
- `PUT /api/v1/cases/{id}/price` `{"quoted_fen": …, "charged_fen": …}`: 有偿服务's prices;
- `GET /api/v1/providers`: providers, volunteer teams and social organizations with their
  admission, rating, load and whether matching may offer them anything now (else why not);
- `PUT /api/v1/providers/{unit}/admission`, `POST /api/v1/providers/{unit}/suspend`
  `{"reason": …}`, `POST /api/v1/providers/{unit}/reinstate`: admission, audited.
*/

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Access, RouteSpec};
use super::error::{ApiError, ApiJson, ApiPath, ApiResult};
use crate::engine::matching::{Rules, standing};
use crate::engine::offers::{
    AdmitInput, PriceInput, PutOutInput, accept, admit, decline, provider_of, put_out, set_price,
    suspend,
};
use crate::model::Principal;
use crate::model::Role::{Admin, Dispatcher, Operator, Supervisor, UnitHandler};
use crate::model::time::now_ms;
use crate::store::offers::OfferRow;

const CENTER: &[crate::model::Role] = &[Admin, Supervisor, Operator, Dispatcher];
const ADMITTERS: &[crate::model::Role] = &[Admin, Supervisor];

pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "POST",
        path: "/api/v1/offers",
        access: Access::Roles(CENTER),
        tag: "offers",
        summary: "Put cases of matchable categories out to the nearest admitted providers (top k each; several cases assigned together by minimum total cost); docs/matching.md",
        request: Some("OfferRequest"),
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/offers",
        access: Access::Roles(&[UnitHandler]),
        tag: "offers",
        summary: "The offers made to the caller's unit, open ones first, with the case's text and place",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/offers/{id}/accept",
        access: Access::Roles(&[UnitHandler]),
        tag: "offers",
        summary: "Accept an open offer: the case is dispatched to the caller's unit, the other offers withdrawn (409 when another accepted first)",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/offers/{id}/decline",
        access: Access::Roles(&[UnitHandler]),
        tag: "offers",
        summary: "Decline an open offer (body {\"reason\": …}, the reason optional); when none of the case's offers stays open, the next candidates get it",
        request: Some("Object"),
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/cases/{id}/offers",
        access: Access::Roles(CENTER),
        tag: "offers",
        summary: "A case's offers: round, rank, unit, distance, cost, state and times; the price of a paid service",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/cases/{id}/price",
        access: Access::Roles(&[Admin, Supervisor, Operator, Dispatcher, UnitHandler]),
        tag: "offers",
        summary: "有偿服务: the price quoted and the price charged (fen) of a case with a provider — by that provider or the center; audited",
        request: Some("PriceRequest"),
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/providers",
        access: Access::Roles(CENTER),
        tag: "offers",
        summary: "Providers, volunteer teams and social organizations: admission, suspension, rating from 回访, open cases, and whether matching may offer them cases now (else why not)",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/providers/{unit}/admission",
        access: Access::Roles(ADMITTERS),
        tag: "offers",
        summary: "Admit a provider or change its admission: qualification, valid from/until (epoch ms), place (lat, lon); audited",
        request: Some("AdmissionRequest"),
        response: (200, "Object"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/providers/{unit}/suspend",
        access: Access::Roles(ADMITTERS),
        tag: "offers",
        summary: "Suspend an admitted provider (reason required): it is offered nothing until reinstated; audited",
        request: Some("Object"),
        response: (200, "Object"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/providers/{unit}/reinstate",
        access: Access::Roles(ADMITTERS),
        tag: "offers",
        summary: "Lift a provider's suspension; audited",
        request: None,
        response: (200, "Object"),
    },
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/offers", post(make).get(mine))
        .route("/api/v1/offers/{id}/accept", post(accept_one))
        .route("/api/v1/offers/{id}/decline", post(decline_one))
        .route("/api/v1/cases/{id}/offers", get(of_case))
        .route("/api/v1/cases/{id}/price", put(price))
        .route("/api/v1/providers", get(providers))
        .route("/api/v1/providers/{unit}/admission", put(admission))
        .route("/api/v1/providers/{unit}/suspend", post(suspend_one))
        .route("/api/v1/providers/{unit}/reinstate", post(reinstate_one))
}

/// OpenAPI component schemas of this area's bodies.
pub fn schemas() -> Value {
    json!({
        "OfferRequest": {
            "type": "object",
            "required": ["cases"],
            "additionalProperties": false,
            "properties": {
                "cases": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 500, "description": "case ids (1–500)"},
                "k": {"type": "integer", "minimum": 1, "maximum": 10, "description": "offers per case and round (default 3)"},
                "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 86400, "description": "answer time (default 600)"}
            }
        },
        "PriceRequest": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "quoted_fen": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000_i64},
                "charged_fen": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000_i64}
            }
        },
        "AdmissionRequest": {
            "type": "object",
            "required": ["qualification", "valid_from"],
            "additionalProperties": false,
            "properties": {
                "qualification": {"type": "string"},
                "valid_from": {"type": "integer", "description": "epoch ms"},
                "valid_until": {"type": "integer", "description": "epoch ms, exclusive; absent: no expiry"},
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lon": {"type": "number", "minimum": -180, "maximum": 180}
            }
        }
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonInput {
    #[serde(default)]
    reason: Option<String>,
}

fn offer_json(o: &OfferRow) -> Value {
    serde_json::to_value(o).unwrap_or_default()
}

async fn make(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<PutOutInput>,
) -> ApiResult<Json<Value>> {
    let made = put_out(&state.store, &state.region, &principal, input).await?;
    Ok(Json(json!({
        "items": made.iter().map(|(case, offers)| json!({
            "case": case,
            "offers": offers.iter().map(offer_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })))
}

async fn mine(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    let Some(unit) = principal.unit_id.as_deref() else {
        return Ok(Json(json!({"items": []})));
    };
    let mut items = Vec::new();
    for o in state.store.offers_of_unit(unit).await? {
        let mut v = offer_json(&o);
        if o.state == "offered"
            && let Ok(c) = state.store.case_by_public_id(&o.case_public_id).await
        {
            v["content"] = json!(c.content);
            v["address"] = json!(c.address);
            v["category"] = json!(c.category_code);
            v["grid"] = json!(c.grid_code.as_deref().map(|g| state.region.grid_path(g)));
        }
        items.push(v);
    }
    Ok(Json(json!({"items": items})))
}

async fn accept_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let o = accept(&state.store, &state.region, &principal, id).await?;
    Ok(Json(offer_json(&o)))
}

async fn decline_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReasonInput>,
) -> ApiResult<Json<Value>> {
    let reason = body.reason;
    let o = decline(&state.store, &state.region, &principal, id, reason).await?;
    Ok(Json(offer_json(&o)))
}

async fn of_case(
    State(state): State<AppState>,
    _principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let row = state
        .store
        .case_by_public_id(&id)
        .await
        .map_err(|_| ApiError::not_found(format!("case {id}")))?;
    let offers = state.store.offers_of_case(row.id).await?;
    let price = state.store.price_of(row.id).await?;
    Ok(Json(json!({
        "case": row.public_id,
        "items": offers.iter().map(offer_json).collect::<Vec<_>>(),
        "price": price,
    })))
}

async fn providers(State(state): State<AppState>, _principal: Principal) -> ApiResult<Json<Value>> {
    let now = now_ms();
    let rules = Rules::default();
    let items: Vec<Value> = state
        .store
        .providers()
        .await?
        .iter()
        .map(|r| {
            let p = provider_of(&state.region, r);
            let mut v = serde_json::to_value(r).unwrap_or_default();
            v["offerable"] = json!(standing(&p, &rules, now).is_ok());
            v["not_offered_because"] = json!(standing(&p, &rules, now).err().map(|e| e.as_str()));
            v["location"] = json!(p.location.map(|l| [l.lat, l.lon]));
            v
        })
        .collect();
    Ok(Json(
        json!({"items": items, "rating_floor": rules.rating_floor, "min_ratings": rules.min_ratings}),
    ))
}

async fn admission(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(unit): ApiPath<String>,
    ApiJson(input): ApiJson<AdmitInput>,
) -> ApiResult<Json<Value>> {
    admit(&state.store, &state.region, &principal, &unit, input).await?;
    Ok(Json(json!({"unit": unit, "admitted": true})))
}

async fn suspend_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(unit): ApiPath<String>,
    ApiJson(input): ApiJson<ReasonInput>,
) -> ApiResult<Json<Value>> {
    let Some(reason) = input.reason.filter(|r| !r.trim().is_empty()) else {
        return Err(ApiError::invalid("reason", "a suspension needs a reason"));
    };
    suspend(
        &state.store,
        &state.region,
        &principal,
        &unit,
        Some(&reason),
    )
    .await?;
    Ok(Json(json!({"unit": unit, "suspended": true})))
}

async fn reinstate_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(unit): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    suspend(&state.store, &state.region, &principal, &unit, None).await?;
    Ok(Json(json!({"unit": unit, "suspended": false})))
}

async fn price(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<PriceInput>,
) -> ApiResult<Json<Value>> {
    set_price(&state.store, &state.region, &principal, &id, input).await?;
    let row = state
        .store
        .case_by_public_id(&id)
        .await
        .map_err(|_| ApiError::not_found(format!("case {id}")))?;
    Ok(Json(
        json!({"case": id, "price": state.store.price_of(row.id).await?}),
    ))
}
