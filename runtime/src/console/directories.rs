/*!
Directory pages: browse, search and edit the directory data systems (government services,
welfare facilities, social organizations and volunteers, market providers), and browse the
vulnerable-household registry (masked and audited as the registry's API does).

Same rules as `/api/v1/directory`: every role but the auditor may browse, analysts see phone
numbers masked ([`EntryView`]), only [`WRITERS`] edit, input goes through the API's
[`validate`], and the store's `directory_update` writes the entry and its audit row together
with the optimistic version check. The edit form leaves the grid unit and handling unit links
as they are (those are maintained through the API, which checks them against the region).
*/

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::Value;
use serde::Deserialize;
use serde_json::json;

use super::errors::{self, status_of};
use super::i18n::Lang;
use super::pages::{error_page, page_response, url_encode};
use super::session::{ConsoleUser, csrf_rejected};
use crate::engine::directories::{EntryBody, EntryView, validate};
use crate::engine::households::HouseholdEntry;
use crate::http::AppState;
use crate::model::{DirectorySystem, Role};
use crate::policy::access::{
    HouseholdView, household_scope, household_view, may_write_directories,
};
use crate::store::StoreError;
use crate::store::directory::DirectoryQuery;
use crate::store::households::HouseholdQuery;

/// Rows a directory page shows.
const LIMIT: i64 = 100;

fn tab_key(s: DirectorySystem) -> &'static str {
    match s {
        DirectorySystem::GovernmentServices => "dir.services",
        DirectorySystem::WelfareFacilities => "dir.welfare",
        DirectorySystem::SocialOrganizations => "dir.social",
        DirectorySystem::MarketProviders => "dir.providers",
    }
}

fn may_browse(role: Role) -> bool {
    role != Role::Auditor
}

#[derive(Deserialize, Default)]
pub struct DirQuery {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    // Read by the language middleware from the query string; accepted here so that a
    // `?lang=` on a form or link is not an unknown field.
    #[allow(dead_code)]
    lang: Option<String>,
}

/// `GET /console/directories?kind=…&q=…`.
pub async fn list(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<DirQuery>,
) -> Response {
    let lang = user.lang;
    if !may_browse(user.principal.role) {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let text =
        q.q.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(50).collect::<String>());
    if q.kind.as_deref() == Some("households") {
        return households(&state, &user, text).await;
    }
    let system = q
        .kind
        .as_deref()
        .and_then(DirectorySystem::parse)
        .unwrap_or(DirectorySystem::GovernmentServices);
    let (records, _total) = match state
        .store
        .directory_search(&DirectoryQuery {
            system: Some(system),
            q: text.clone(),
            limit: LIMIT,
            ..Default::default()
        })
        .await
    {
        Ok(r) => r,
        Err(e) => return store_error(&user, e),
    };
    let can_edit = may_write_directories(user.principal.role);
    let rows: Vec<_> = records
        .into_iter()
        .map(|r| {
            let id = r.id;
            let v = EntryView::new(r, user.principal.role);
            let status = match (v.status.as_str(), lang) {
                ("active", Lang::Zh) => "在用",
                ("active", Lang::En) => "Active",
                (_, Lang::Zh) => "暂停",
                (_, Lang::En) => "Suspended",
            };
            json!({
                "cells": [
                    v.name,
                    v.category.unwrap_or_default(),
                    v.phone.unwrap_or_default(),
                    v.address.unwrap_or_default(),
                    status,
                ],
                "edit_href": format!("/console/directories/{}/{id}/edit", system.as_str()),
            })
        })
        .collect();
    let headers = [
        "dir.name",
        "case.category",
        "case.phone",
        "case.address",
        "case.status",
    ]
    .map(|k| lang.t(k).to_string());
    let flash = q
        .saved
        .is_some()
        .then(|| json!({"kind": "ok", "text": format!("{} ✓", lang.t("common.save"))}));
    let data = json!({
        "kind": system.as_str(),
        "q": text.unwrap_or_default(),
        "tabs": tabs(user.principal.role, system.as_str()),
        "headers": headers,
        "rows": rows,
        "can_edit": can_edit,
        "flash": flash,
    });
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "directories.html",
        "directories",
        Value::from_serialize(data),
    )
}

/// The directory tabs a role sees: the four systems, plus the household registry when the
/// registry policy lets the role see records.
fn tabs(role: Role, active: &str) -> Vec<serde_json::Value> {
    let mut v: Vec<_> = DirectorySystem::ALL
        .iter()
        .map(|s| {
            json!({
                "href": format!("/console/directories?kind={}", s.as_str()),
                "key": tab_key(*s),
                "active": s.as_str() == active,
            })
        })
        .collect();
    if matches!(
        household_view(role),
        HouseholdView::Full | HouseholdView::Masked
    ) {
        v.push(json!({
            "href": "/console/directories?kind=households",
            "key": "dir.households",
            "active": active == "households",
        }));
    }
    v
}

/// The vulnerable-household registry (困难群体), read-only here: the registry's own access
/// rules ([`household_view`], [`household_scope`]), masking ([`HouseholdEntry`]) and the audited store read.
async fn households(state: &AppState, user: &ConsoleUser, text: Option<String>) -> Response {
    let lang = user.lang;
    let p = &user.principal;
    let view = household_view(p.role);
    if !matches!(view, HouseholdView::Full | HouseholdView::Masked) {
        return error_page(
            lang,
            Some(user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    // A masked view shows neither names nor addresses, so it may not search by them either: the
    // refusal is audited with the search text hashed.
    if view != HouseholdView::Full && text.is_some() {
        if let Err(e) = state
            .store
            .household_refused(
                p,
                "household.search_denied",
                None,
                text.as_deref(),
                view.as_str(),
            )
            .await
        {
            return store_error(user, e);
        }
        return error_page(
            lang,
            Some(user),
            StatusCode::FORBIDDEN,
            lang.t("dir.households_search_denied"),
        );
    }
    let query = HouseholdQuery {
        phone: text
            .as_deref()
            .and_then(crate::engine::intake::normalize_phone),
        q: text.clone(),
        limit: LIMIT,
        ..Default::default()
    };
    let (records, _) = match state
        .store
        .household_list(&query, &household_scope(p), view.as_str(), p)
        .await
    {
        Ok(r) => r,
        Err(e) => return store_error(user, e),
    };
    let rows: Vec<_> = records
        .into_iter()
        .map(|r| {
            let h = HouseholdEntry::new(r, view);
            let kind_key = format!("household.{}", h.kind);
            let kind = if super::i18n::has_key(&kind_key) {
                lang.t(&kind_key).to_string()
            } else {
                h.kind.clone()
            };
            let grid = h
                .grid
                .as_deref()
                .and_then(|g| state.region.grid(g))
                .map(|g| g.name.clone())
                .unwrap_or_default();
            json!({
                "cells": [
                    h.head_name,
                    kind,
                    grid,
                    h.phone.unwrap_or_default(),
                    h.id_number.unwrap_or_default(),
                    h.address.unwrap_or_default(),
                ],
                "edit_href": "",
            })
        })
        .collect();
    let headers = [
        "dir.head_name",
        "dir.household_kind",
        "case.grid",
        "case.phone",
        "dir.id_number",
        "case.address",
    ]
    .map(|k| lang.t(k).to_string());
    let data = json!({
        "kind": "households",
        "q": text.unwrap_or_default(),
        "tabs": tabs(p.role, "households"),
        "headers": headers,
        "rows": rows,
        "can_edit": false,
        "can_search": view == HouseholdView::Full,
        "flash": null,
    });
    page_response(
        state,
        user,
        StatusCode::OK,
        "directories.html",
        "directories",
        Value::from_serialize(data),
    )
}

fn store_error(user: &ConsoleUser, e: StoreError) -> Response {
    let lang = user.lang;
    match e {
        StoreError::NotFound => error_page(
            lang,
            Some(user),
            StatusCode::NOT_FOUND,
            lang.t("error.not_found"),
        ),
        other => errors::store_error_response(user, other),
    }
}

fn parse_target(system: &str, id: &str) -> Option<(DirectorySystem, i64)> {
    Some((DirectorySystem::parse(system)?, id.parse().ok()?))
}

/// `GET /console/directories/{system}/{id}/edit`.
pub async fn edit_form(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path((system, id)): Path<(String, String)>,
) -> Response {
    render_edit(&state, &user, &system, &id, None, None, StatusCode::OK).await
}

async fn render_edit(
    state: &AppState,
    user: &ConsoleUser,
    system: &str,
    id: &str,
    submitted: Option<&EditForm>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = user.lang;
    if !may_write_directories(user.principal.role) {
        return error_page(
            lang,
            Some(user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let Some((sys, id)) = parse_target(system, id) else {
        return error_page(
            lang,
            Some(user),
            StatusCode::NOT_FOUND,
            lang.t("error.not_found"),
        );
    };
    let rec = match state.store.directory_get(sys, id).await {
        Ok(r) => r,
        Err(e) => return store_error(user, e),
    };
    let val = |f: Option<&str>, stored: &Option<String>| -> String {
        f.map(str::to_string)
            .unwrap_or_else(|| stored.clone().unwrap_or_default())
    };
    let s = submitted;
    let fields = json!([
        {"name": "name", "label": lang.t("dir.name"), "required": true, "multiline": false,
         "value": s.map(|f| f.name.clone()).unwrap_or_else(|| rec.name.clone())},
        {"name": "category", "label": lang.t("case.category"), "required": false, "multiline": false,
         "value": val(s.map(|f| f.category.as_str()), &rec.category)},
        {"name": "phone", "label": lang.t("case.phone"), "required": false, "multiline": false,
         "value": val(s.map(|f| f.phone.as_str()), &rec.phone)},
        {"name": "address", "label": lang.t("case.address"), "required": false, "multiline": false,
         "value": val(s.map(|f| f.address.as_str()), &rec.address)},
        {"name": "qualification", "label": lang.t("dir.qualification"), "required": false, "multiline": false,
         "value": val(s.map(|f| f.qualification.as_str()), &rec.qualification)},
        {"name": "description", "label": lang.t("dir.description"), "required": false, "multiline": true,
         "value": val(s.map(|f| f.description.as_str()), &rec.description)},
        {"name": "status", "label": lang.t("dir.status_field"), "required": true, "multiline": false,
         "value": s.map(|f| f.status.clone()).unwrap_or_else(|| rec.status.clone())},
    ]);
    let data = json!({
        "title": rec.name,
        "action": format!("/console/directories/{}/{id}", sys.as_str()),
        "back": format!("/console/directories?kind={}", sys.as_str()),
        "version": rec.version,
        "fields": fields,
        "error": error,
    });
    page_response(
        state,
        user,
        status,
        "directory_edit.html",
        "directories",
        Value::from_serialize(data),
    )
}

#[derive(Deserialize, Default)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    qualification: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    status: String,
}

/// `POST /console/directories/{system}/{id}`: the API's validation, then the store update.
pub async fn save(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path((system, id)): Path<(String, String)>,
    Form(form): Form<EditForm>,
) -> Response {
    if !user.csrf_ok(&form.csrf) {
        return csrf_rejected(user.lang);
    }
    let lang = user.lang;
    if !may_write_directories(user.principal.role) {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let Some((sys, rid)) = parse_target(&system, &id) else {
        return error_page(
            lang,
            Some(&user),
            StatusCode::NOT_FOUND,
            lang.t("error.not_found"),
        );
    };
    let rec = match state.store.directory_get(sys, rid).await {
        Ok(r) => r,
        Err(e) => return store_error(&user, e),
    };
    let some = |s: &str| Some(s.to_string());
    let body = EntryBody {
        name: form.name.clone(),
        category: some(&form.category),
        phone: some(&form.phone),
        address: some(&form.address),
        // Links stay as stored; the API maintains them with its reference checks.
        grid: rec.grid_code.clone(),
        description: some(&form.description),
        qualification: some(&form.qualification),
        status: some(&form.status),
        unit: rec.unit_id.clone(),
        version: form.version,
    };
    let input = match validate(sys, &body) {
        Ok(i) => i,
        Err(e) => {
            let status = status_of(&e);
            return render_edit(
                &state,
                &user,
                &system,
                &id,
                Some(&form),
                Some(errors::message(user.lang, &e)),
                status,
            )
            .await;
        }
    };
    match state
        .store
        .directory_update(sys, rid, &input, form.version, &user.principal)
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "/console/directories?kind={}&saved=1&q={}",
            sys.as_str(),
            url_encode(&input.name)
        ))
        .into_response(),
        Err(StoreError::Conflict(msg)) => {
            render_edit(
                &state,
                &user,
                &system,
                &id,
                Some(&form),
                Some(msg),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => store_error(&user, e),
    }
}
