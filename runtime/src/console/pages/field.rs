/*!
The grid worker's phone pages for the walk: 巡查上报 (a patrol report with photos and the phone's
position, or settled on the spot) and 走访 (household visits in their cells).

The report form works without script (a plain multipart POST, then back to 我的网格 with the case
number). With script (`static/field.js`), the phone sends it with `fetch` and, without signal,
keeps it in the browser (IndexedDB) and sends it when the phone is back online; the server-made
idempotency key in the form makes every resend of one report land on one case
([`crate::engine::field::report`]). Photos are checked (type, size) before the case is created, so
a bad photo loses nothing and makes nothing.

Households: the list and each record are read through the audited registry reads
(`household.list`, `household.read`), and a visit is written with its audit row
([`crate::engine::field::visit`]).
*/

use axum::extract::Multipart;

use super::*;
use crate::engine::attachments::{self, Stage};
use crate::engine::field::{self as fieldwork, PatrolReport, VisitInput};
use crate::store::field::Situation;
use crate::store::households::HouseholdQuery;

/// Photos one report may carry.
pub const MAX_PHOTOS: usize = 4;
/// Households one visits page lists (a grid worker's cells hold a few hundred).
const VISIT_LIST_LIMIT: i64 = 500;

fn grid_worker_only(user: &ConsoleUser) -> Option<Response> {
    (user.principal.role != Role::GridWorker).then(|| {
        error_page(
            user.lang,
            Some(user),
            StatusCode::FORBIDDEN,
            user.lang.t("error.forbidden"),
        )
    })
}

/// A fresh idempotency key for a form (the phone's script makes its own for the next report).
fn new_key() -> String {
    format!("r-{}", crate::policy::credentials::random_hex(16))
}

/// Whether the request came from the page's script (it wants JSON back, not a page).
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.starts_with("application/json"))
}

/// The form's values, kept when it comes back with an error.
#[derive(Debug, Default, Clone)]
struct ReportForm {
    csrf: String,
    key: String,
    category: String,
    content: String,
    lat: String,
    lon: String,
    cell: String,
    address: String,
    on_spot: bool,
    on_spot_note: String,
    photos: Vec<(String, Vec<u8>)>,
}

fn report_context(state: &AppState, user: &ConsoleUser, form: &ReportForm) -> serde_json::Value {
    let lang = user.lang;
    let categories: Vec<_> = super::category_choices(&state.region.categories, lang)
        .into_iter()
        .filter(|c| c["police"] != true)
        .collect();
    let cells: Vec<_> = state
        .region
        .grid_reach(&user.principal.grid_codes)
        .into_iter()
        .map(|code| json!({"code": code, "path": state.region.grid_path(&code)}))
        .collect();
    json!({
        "categories": categories,
        "cells": cells,
        "max_photos": MAX_PHOTOS,
        "max_mb": state.attachments.max_bytes / (1024 * 1024),
        "error_field": null,
        "form": {
            "key": if form.key.is_empty() { new_key() } else { form.key.clone() },
            "category": form.category,
            "content": form.content,
            "lat": form.lat,
            "lon": form.lon,
            "cell": form.cell,
            "address": form.address,
            "on_spot": form.on_spot,
            "on_spot_note": form.on_spot_note,
        },
    })
}

fn report_page(
    state: &AppState,
    user: &ConsoleUser,
    form: &ReportForm,
    status: StatusCode,
    error: Option<(String, Option<String>)>,
) -> Response {
    let mut ctx = report_context(state, user, form);
    if let Some((text, field)) = error {
        ctx["flash"] = json!({"kind": "error", "text": text});
        ctx["error_field"] = json!(field);
    }
    page_response(
        state,
        user,
        status,
        "grid_report.html",
        "grid",
        Value::from_serialize(ctx),
    )
}

/// `GET /console/grid/report`: the patrol report form.
pub async fn grid_report_form(State(state): State<AppState>, user: ConsoleUser) -> Response {
    if let Some(r) = grid_worker_only(&user) {
        return r;
    }
    report_page(&state, &user, &ReportForm::default(), StatusCode::OK, None)
}

async fn read_report(multipart: &mut Multipart) -> Result<ReportForm, String> {
    let mut form = ReportForm::default();
    while let Some(f) = multipart.next_field().await.map_err(|e| e.to_string())? {
        let name = f.name().unwrap_or("").to_string();
        let filename = f.file_name().unwrap_or("").to_string();
        let bytes = f.bytes().await.map_err(|e| e.to_string())?;
        let text = || String::from_utf8_lossy(&bytes).trim().to_string();
        match name.as_str() {
            "csrf" => form.csrf = text(),
            "key" => form.key = text(),
            "category" => form.category = text(),
            "content" => form.content = text(),
            "lat" => form.lat = text(),
            "lon" => form.lon = text(),
            "cell" => form.cell = text(),
            "address" => form.address = text(),
            "on_spot" => form.on_spot = text() == "1",
            "on_spot_note" => form.on_spot_note = text(),
            // An empty file input still sends a part with no name and no bytes.
            "photos" if !bytes.is_empty() => form.photos.push((filename, bytes.to_vec())),
            _ => {}
        }
    }
    Ok(form)
}

/// A report's error: JSON for the script, the form again for a plain POST.
fn report_error(
    state: &AppState,
    user: &ConsoleUser,
    headers: &HeaderMap,
    form: &ReportForm,
    err: EngineError,
) -> Response {
    let status = status_of(&err);
    if status.is_server_error() {
        return errors::error_response(user, err);
    }
    let text = errors::message(user.lang, &err);
    if wants_json(headers) {
        let body = json!({"error": {"code": err.key, "message": text, "field": err.field}});
        return (status, Json(body)).into_response();
    }
    report_page(state, user, form, status, Some((text, err.field.clone())))
}

fn parse_coord(field: &'static str, v: &str, range: f64) -> Result<Option<f64>, EngineError> {
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && x.abs() <= range)
        .map(Some)
        .ok_or_else(|| {
            EngineError::invalid(
                field,
                "coordinate_invalid",
                format!("{field} is not a coordinate"),
            )
        })
}

/// `POST /console/grid/report` (multipart): files the report, then its photos.
pub async fn grid_report(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    if let Some(r) = grid_worker_only(&user) {
        return r;
    }
    let form = match read_report(&mut multipart).await {
        Ok(f) => f,
        Err(e) => {
            let err = EngineError::invalid(
                "photos",
                "upload_unreadable",
                format!("the report could not be read: {e}"),
            );
            return report_error(&state, &user, &headers, &ReportForm::default(), err);
        }
    };
    if !user.csrf_ok(&form.csrf) {
        return csrf_rejected(user.lang);
    }
    match file_report(&state, &user, &form).await {
        Ok((public_id, created)) => {
            if wants_json(&headers) {
                let status = if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                return (
                    status,
                    Json(json!({
                        "case": public_id,
                        "created": created,
                        "href": format!("/console/cases/{}", url_encode(&public_id)),
                    })),
                )
                    .into_response();
            }
            let again = if created { "" } else { "&again=1" };
            Redirect::to(&format!(
                "/console/grid?reported={}{again}",
                url_encode(&public_id)
            ))
            .into_response()
        }
        Err(e) => report_error(&state, &user, &headers, &form, e),
    }
}

/// Checks the photos, files the report, attaches the photos. `(case, created)`.
async fn file_report(
    state: &AppState,
    user: &ConsoleUser,
    form: &ReportForm,
) -> Result<(String, bool), EngineError> {
    if form.photos.len() > MAX_PHOTOS {
        return Err(EngineError::invalid(
            "photos",
            "too_many_photos",
            format!("at most {MAX_PHOTOS} photos a report"),
        )
        .arg("max", MAX_PHOTOS));
    }
    for (_, bytes) in &form.photos {
        attachments::check(bytes, state.attachments.max_bytes)
            .map_err(|e| e.for_field("photos"))?;
    }
    if form.on_spot && form.on_spot_note.trim().is_empty() {
        return Err(EngineError::invalid(
            "on_spot_note",
            "on_spot_note_missing",
            "say what was done on the spot",
        ));
    }
    let report = PatrolReport {
        key: form.key.clone(),
        category: Some(form.category.clone()),
        content: form.content.clone(),
        lat: parse_coord("lat", &form.lat, 90.0)?,
        lon: parse_coord("lon", &form.lon, 180.0)?,
        cell: Some(form.cell.clone()),
        address: Some(form.address.clone()),
        solved_on_spot: form.on_spot.then(|| form.on_spot_note.clone()),
    };
    let p = &user.principal;
    let done = fieldwork::report(&state.store, &state.region, p, report).await?;
    // A resend re-attaches too: photos are stored once per case (by content), so a send cut off
    // between the case and its photos is completed by the next one.
    for (name, bytes) in &form.photos {
        attachments::attach(
            &state.store,
            &state.region,
            &state.attachments,
            p,
            done.case.id,
            name,
            bytes,
            Some(Stage::Patrol),
        )
        .await?;
    }
    Ok((done.case.public_id, done.created))
}

// ----- 走访 ---------------------------------------------------------------------------------

fn situation_options(lang: Lang) -> Vec<serde_json::Value> {
    Situation::ALL
        .iter()
        .map(|s| {
            json!({"value": s.as_str(), "name": lang.t(&format!("visit.situation.{}", s.as_str()))})
        })
        .collect()
}

/// `GET /console/grid/visits`: the households of my cells, least recently visited first.
pub async fn grid_visits(State(state): State<AppState>, user: ConsoleUser) -> Response {
    if let Some(r) = grid_worker_only(&user) {
        return r;
    }
    let p = &user.principal;
    let scope = crate::policy::access::household_scope(p);
    let query = HouseholdQuery {
        limit: VISIT_LIST_LIMIT,
        ..Default::default()
    };
    let (rows, total) = match state.store.household_list(&query, &scope, "full", p).await {
        Ok(r) => r,
        Err(e) => return store_error_page(&user, e),
    };
    let ids: Vec<i64> = rows.iter().map(|h| h.id).collect();
    let last = match state.store.last_visits(&ids).await {
        Ok(m) => m,
        Err(e) => return store_error_page(&user, e),
    };
    let mut items: Vec<_> = rows
        .iter()
        .map(|h| {
            let visited = last.get(&h.id).copied();
            (
                visited.unwrap_or(0),
                json!({
                    "id": h.id,
                    "href": format!("/console/grid/households/{}", h.id),
                    "head_name": h.head_name,
                    "kind": h.kind,
                    "grid": grid_name(&state, h.grid_code.as_deref()),
                    "address": h.address,
                    "last_visit": visited,
                }),
            )
        })
        .collect();
    // Never visited first, then the longest ago.
    items.sort_by_key(|(t, _)| *t);
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "grid_visits.html",
        "grid",
        Value::from_serialize(json!({
            "households": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
            "total": total,
            "shown": rows.len(),
        })),
    )
}

async fn household_page(
    state: &AppState,
    user: &ConsoleUser,
    id: i64,
    status: StatusCode,
    flash: Option<serde_json::Value>,
) -> Response {
    let p = &user.principal;
    let scope = crate::policy::access::household_scope(p);
    let h = match state.store.household_read(id, &scope, "full", p).await {
        Ok(h) => h,
        Err(e) => return store_error_page(user, e),
    };
    let visits = match state.store.household_visits(id).await {
        Ok(v) => v,
        Err(e) => return store_error_page(user, e),
    };
    page_response(
        state,
        user,
        status,
        "grid_household.html",
        "grid",
        Value::from_serialize(json!({
            "h": h,
            "grid": state.region.grid_path(h.grid_code.as_deref().unwrap_or("")),
            "visits": visits,
            "situations": situation_options(user.lang),
            "flash": flash,
        })),
    )
}

/// `GET /console/grid/households/{id}`: one household, its visits and the visit form.
pub async fn grid_household(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
) -> Response {
    if let Some(r) = grid_worker_only(&user) {
        return r;
    }
    household_page(&state, &user, id, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct VisitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    situation: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    members: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    household_notes: String,
}

/// `POST /console/grid/households/{id}/visit`.
pub async fn grid_visit(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
    Form(form): Form<VisitForm>,
) -> Response {
    if !user.csrf_ok(&form.csrf) {
        return csrf_rejected(user.lang);
    }
    if let Some(r) = grid_worker_only(&user) {
        return r;
    }
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.to_string());
    let input = VisitInput {
        situation: form.situation.clone(),
        notes: some(&form.notes),
        members: some(&form.members),
        phone: some(&form.phone),
        household_notes: some(&form.household_notes),
    };
    match fieldwork::visit(&state.store, &user.principal, id, input).await {
        Ok(_) => {
            let flash = json!({"kind": "ok", "text": user.lang.t("visit.recorded")});
            household_page(&state, &user, id, StatusCode::OK, Some(flash)).await
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            let flash = json!({"kind": "error", "text": errors::message(user.lang, &e)});
            household_page(&state, &user, id, status_of(&e), Some(flash)).await
        }
        Err(e) => errors::error_response(&user, e),
    }
}
