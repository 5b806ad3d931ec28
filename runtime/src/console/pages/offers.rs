/*!
Nearest-resource dispatch in the console (docs/matching.md), over the same
[`crate::engine::offers`] the JSON API calls:

- `/console/offers`: a provider's phone page (its handler) — the open offers with the job, the
  place and the time left, one large 接单 and 拒单 button each; then what it answered before;
- `/console/providers`: the center's admission page (准入) — every provider, volunteer team and
  social organization with its admission, rating, open cases and whether matching offers it
  cases now (else why not); admins and supervisors admit, suspend (with a reason), reinstate;
- the case page's offer history (`case_offers.html`, built by [`offers_view`]) and its 就近派单
  button (`POST /console/cases/{id}/offers`).
*/

use super::*;
use crate::engine::matching::{Rules, standing};
use crate::engine::offers::{
    AdmitInput, PutOutInput, accept, admit, decline, matchable, provider_of, put_out, suspend,
};
use crate::model::time::{day_start_ms, render_time};
use crate::store::offers::OfferRow;

/// Roles that admit, suspend and reinstate providers.
const ADMITTERS: &[Role] = &[Role::Admin, Role::Supervisor];

fn field<'a>(form: &'a [(String, String)], k: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn forbidden(user: &ConsoleUser) -> Response {
    error_page(
        user.lang,
        Some(user),
        StatusCode::FORBIDDEN,
        user.lang.t("error.forbidden"),
    )
}

fn offer_view(state: &AppState, lang: Lang, o: &OfferRow) -> serde_json::Value {
    json!({
        "id": o.id,
        "case": o.case_public_id,
        "unit": o.unit_name,
        "unit_id": o.unit_id,
        "round": o.round,
        "rank": o.rank,
        "distance": o.distance_km.map(|d| format!("{d:.1}")),
        "cost": format!("{:.1}", o.cost),
        "state": o.state,
        "state_label": lang.t(&format!("offer.state.{}", o.state)),
        "offered_at": o.offered_at,
        "expires_at": o.expires_at,
        "answered_at": o.answered_at,
        "region": state.region.name,
    })
}

/// The case page's offer history and whether the reader may put the case out now; `None` for
/// roles that do not see offers (units, grid workers, analysts).
pub(super) async fn offers_view(
    state: &AppState,
    user: &ConsoleUser,
    row: &CaseRow,
) -> Result<Option<serde_json::Value>, Response> {
    if !CENTER.contains(&user.principal.role) {
        return Ok(None);
    }
    let is_matchable = matchable(&state.region, row.category_code.as_deref());
    let offers = match state.store.offers_of_case(row.id).await {
        Ok(v) => v,
        Err(e) => return Err(store_error_page(user, e)),
    };
    if !is_matchable && offers.is_empty() {
        return Ok(None);
    }
    let price = match state.store.price_of(row.id).await {
        Ok(v) => v,
        Err(e) => return Err(store_error_page(user, e)),
    };
    let yuan = |fen: Option<i64>| fen.map(|f| format!("{:.2}", f as f64 / 100.0));
    let open = offers.iter().any(|o| o.state == "offered");
    let waiting = matches!(row.status.as_str(), "received" | "returned");
    Ok(Some(json!({
        "items": offers.iter().map(|o| offer_view(state, user.lang, o)).collect::<Vec<_>>(),
        "can_put_out": is_matchable && waiting && !open,
        "open": open,
        "quoted": price.as_ref().and_then(|p| yuan(p.quoted_fen)),
        "charged": price.as_ref().and_then(|p| yuan(p.charged_fen)),
    })))
}

/// `POST /console/cases/{id}/offers`: put the case out to the nearest providers (default k and
/// answer time), then show it again.
pub async fn case_put_out(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if !user.csrf_ok(field(&form, "csrf").unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    if !CENTER.contains(&user.principal.role) {
        return forbidden(&user);
    }
    let input = PutOutInput {
        cases: vec![id.clone()],
        k: None,
        timeout_seconds: None,
    };
    match put_out(&state.store, &state.region, &user.principal, input).await {
        Ok(_) => {
            Redirect::to(&format!("/console/cases/{}#offers", url_encode(&id))).into_response()
        }
        Err(e) => error_page(
            user.lang,
            Some(&user),
            errors::status_of(&e),
            &errors::message(user.lang, &e),
        ),
    }
}

/// `GET /console/offers`: the provider's phone page.
pub async fn provider_offers_page(State(state): State<AppState>, user: ConsoleUser) -> Response {
    render_provider_page(&state, &user, StatusCode::OK, None).await
}

async fn render_provider_page(
    state: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    flash: Option<serde_json::Value>,
) -> Response {
    if user.principal.role != Role::UnitHandler {
        return forbidden(user);
    }
    let lang = user.lang;
    let unit = user.principal.unit_id.clone().unwrap_or_default();
    let offers = match state.store.offers_of_unit(&unit).await {
        Ok(v) => v,
        Err(e) => return store_error_page(user, e),
    };
    let now = now_ms();
    let mut open = Vec::new();
    let mut past = Vec::new();
    for o in offers.iter().take(100) {
        let mut v = offer_view(state, lang, o);
        if o.state == "offered" && o.expires_at > now {
            if let Ok(c) = state.store.case_by_public_id(&o.case_public_id).await {
                v["content"] = json!(c.content);
                v["address"] = json!(c.address);
                v["category"] = json!(category_name(state, lang, c.category_code.as_deref()));
                v["place"] = json!(c.grid_code.as_deref().map(|g| state.region.grid_path(g)));
                v["minutes_left"] = json!((o.expires_at - now).div_euclid(60_000) + 1);
            }
            open.push(v);
        } else {
            past.push(v);
        }
    }
    let unit_name = state
        .region
        .unit(&unit)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    page_response(
        state,
        user,
        status,
        "offers.html",
        "offers",
        Value::from_serialize(json!({
            "open": open, "past": past, "unit_name": unit_name, "flash": flash,
        })),
    )
}

/// `POST /console/offers/{id}/accept` and `…/decline` (`answer` is the last path segment).
pub async fn provider_answer(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path((id, answer)): Path<(i64, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if !user.csrf_ok(field(&form, "csrf").unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    if user.principal.role != Role::UnitHandler {
        return forbidden(&user);
    }
    let r = match answer.as_str() {
        "accept" => accept(&state.store, &state.region, &user.principal, id).await,
        "decline" => {
            let reason = field(&form, "reason").map(String::from);
            decline(&state.store, &state.region, &user.principal, id, reason).await
        }
        _ => {
            return error_page(
                user.lang,
                Some(&user),
                StatusCode::NOT_FOUND,
                user.lang.t("error.not_found"),
            );
        }
    };
    match r {
        Ok(o) if o.state == "accepted" => {
            Redirect::to(&format!("/console/cases/{}", url_encode(&o.case_public_id)))
                .into_response()
        }
        Ok(_) => Redirect::to("/console/offers").into_response(),
        Err(e) => {
            let flash = json!({"kind": "error", "text": errors::message(user.lang, &e)});
            render_provider_page(&state, &user, errors::status_of(&e), Some(flash)).await
        }
    }
}

/// `GET /console/providers`: the admission page.
pub async fn providers_page(State(state): State<AppState>, user: ConsoleUser) -> Response {
    render_providers(&state, &user, StatusCode::OK, None).await
}

async fn render_providers(
    state: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    flash: Option<serde_json::Value>,
) -> Response {
    if !CENTER.contains(&user.principal.role) {
        return forbidden(user);
    }
    let lang = user.lang;
    let records = match state.store.providers().await {
        Ok(v) => v,
        Err(e) => return store_error_page(user, e),
    };
    let now = now_ms();
    let rules = Rules::default();
    let day = |ms: i64| render_time(ms).chars().take(10).collect::<String>();
    let rows: Vec<_> = records
        .iter()
        .map(|r| {
            let p = provider_of(&state.region, r);
            let why = standing(&p, &rules, now).err().map(|e| e.as_str());
            let a = r.admission.as_ref();
            json!({
                "unit": r.unit_id,
                "name": r.name,
                "kind": lang.t(&format!("unit_kind.{}", r.kind)),
                "categories": r.service_categories.iter()
                    .map(|c| category_name(state, lang, Some(c))).collect::<Vec<_>>(),
                "admitted": a.is_some(),
                "qualification": a.map(|a| a.qualification.clone()),
                "valid_from": a.map(|a| day(a.valid_from)),
                "valid_until": a.and_then(|a| a.valid_until).map(day),
                "lat": a.and_then(|a| a.lat),
                "lon": a.and_then(|a| a.lon),
                "suspended": a.is_some_and(|a| a.suspended_at.is_some()),
                "suspended_reason": a.and_then(|a| a.suspended_reason.clone()),
                "rating": r.rating.map(|x| format!("{x:.1}")),
                "ratings": r.ratings,
                "load": r.load,
                "offerable": why.is_none(),
                "why": why.map(|w| lang.t(&format!("provider.why.{w}")).to_string()),
            })
        })
        .collect();
    page_response(
        state,
        user,
        status,
        "providers.html",
        "providers",
        Value::from_serialize(json!({
            "rows": rows,
            "can_edit": ADMITTERS.contains(&user.principal.role),
            "floor": format!("{:.1}", rules.rating_floor),
            "min_ratings": rules.min_ratings,
            "flash": flash,
        })),
    )
}

/// `POST /console/providers/{unit}/{op}`: `admit`, `suspend` or `reinstate`.
pub async fn provider_edit(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path((unit, op)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if !user.csrf_ok(field(&form, "csrf").unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    if !ADMITTERS.contains(&user.principal.role) {
        return forbidden(&user);
    }
    let lang = user.lang;
    let bad = |key: &str| json!({"kind": "error", "text": lang.t(key)});
    let r = match op.as_str() {
        "admit" => {
            let from = field(&form, "valid_from").and_then(day_start_ms);
            let until = field(&form, "valid_until").map(day_start_ms);
            let num = |k: &str| field(&form, k).map(|v| v.parse::<f64>().ok());
            let (Some(valid_from), Some(qualification)) = (from, field(&form, "qualification"))
            else {
                let flash = bad("provider.form_incomplete");
                return render_providers(
                    &state,
                    &user,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(flash),
                )
                .await;
            };
            // Absent fields read as "no place"; a value that is not a number is refused.
            let (lat, lon) = (num("lat"), num("lon"));
            if matches!(lat, Some(None)) || matches!(lon, Some(None)) {
                let flash = bad("provider.coordinate_invalid");
                return render_providers(
                    &state,
                    &user,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(flash),
                )
                .await;
            }
            let (lat, lon) = (lat.flatten(), lon.flatten());
            if matches!(until, Some(None)) || lat.is_some() != lon.is_some() {
                let flash = bad("provider.form_incomplete");
                return render_providers(
                    &state,
                    &user,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(flash),
                )
                .await;
            }
            let input = AdmitInput {
                qualification: qualification.to_string(),
                valid_from,
                valid_until: until.flatten(),
                lat,
                lon,
            };
            admit(&state.store, &state.region, &user.principal, &unit, input).await
        }
        "suspend" => match field(&form, "reason") {
            Some(reason) => {
                suspend(
                    &state.store,
                    &state.region,
                    &user.principal,
                    &unit,
                    Some(reason),
                )
                .await
            }
            None => {
                let flash = bad("provider.reason_required");
                return render_providers(
                    &state,
                    &user,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(flash),
                )
                .await;
            }
        },
        "reinstate" => suspend(&state.store, &state.region, &user.principal, &unit, None).await,
        _ => {
            return error_page(
                lang,
                Some(&user),
                StatusCode::NOT_FOUND,
                lang.t("error.not_found"),
            );
        }
    };
    match r {
        Ok(()) => Redirect::to("/console/providers").into_response(),
        Err(e) => {
            let flash = json!({"kind": "error", "text": errors::message(lang, &e)});
            render_providers(&state, &user, errors::status_of(&e), Some(flash)).await
        }
    }
}
