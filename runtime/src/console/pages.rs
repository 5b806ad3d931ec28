/*!
The console's pages: login, the call-taker's screen pop and new-case form, the queues, the case
page with the actions this role may take, and the dashboard.

Every handler is thin: it reads the form or query, calls the same service the JSON API calls
([`crate::engine::intake::create_case`], [`crate::engine::actions::perform`], the store's case
queries, the same scope rule [`crate::engine::actions::can_see`]) and renders a template. Every POST checks the session's
CSRF token first; every page is rendered with autoescape on.
*/

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::Value;
use minijinja::value::merge_maps;
use serde::Deserialize;
use serde_json::json;

use super::errors::{self, status_of};
use super::i18n::{self, Lang};
use super::session::{
    ConsoleUser, LOGIN_CSRF_COOKIE, constant_time_eq, csrf_rejected, lang_cookie, request_lang,
};
use super::svg;
use super::templates;
use crate::engine::actions::{self, ActionInput, allowed_for, can_see};
use crate::engine::intake::{self, CallerInput, CaseInput, LocationInput, normalize_phone};
use crate::engine::{Error as EngineError, ErrorKind};
use crate::http::AppState;
use crate::http::auth::{SESSION_COOKIE, SESSION_TTL, cookie_value};
use crate::model::time::now_ms;
use crate::model::{Action, Channel, Principal, Role, Satisfaction, Status};
use crate::policy::access::{HouseholdAccess, household_access, sees_caller_phone};
use crate::policy::masking::{mask_name, mask_phone};
use crate::store::StoreError;
use crate::store::audit::NewAudit;
use crate::store::cases::{CaseFilter, CaseRow};

/// Center roles: take calls, dispatch, follow up.
const CENTER: &[Role] = &[
    Role::Admin,
    Role::Supervisor,
    Role::Operator,
    Role::Dispatcher,
];
/// Rows a queue page shows (sorted in memory, so sorting by deadline covers all of them).
const QUEUE_LIMIT: i64 = 200;
/// Queue sort orders offered in the filter bar.
const SORTS: [&str; 4] = ["due", "created_desc", "created_asc", "priority"];

// ----- small helpers ---------------------------------------------------------------------

/// Percent-encodes a string for a query parameter.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A local redirect target: only paths on this site, never `//host` or a scheme.
fn safe_next(next: &str) -> &str {
    if next.starts_with("/console") && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/console"
    }
}

fn nav_items(role: Role, active: &str) -> Vec<serde_json::Value> {
    let mut v = Vec::new();
    let mut add = |href: &str, key: &str, id: &str| {
        v.push(json!({"href": href, "key": key, "active": id == active}))
    };
    if CENTER.contains(&role) {
        add("/console/call", "nav.call", "call");
    }
    if !matches!(role, Role::Analyst | Role::Auditor) {
        add("/console/queue", "nav.queues", "queue");
    }
    if matches!(
        role,
        Role::Admin | Role::Supervisor | Role::Operator | Role::Dispatcher | Role::Analyst
    ) {
        add("/console/dashboard", "nav.dashboard", "dashboard");
    }
    if role != Role::Auditor {
        add("/console/directories", "nav.directories", "directories");
    }
    v
}

/// The context every page shares: language, user, navigation, CSRF token, region.
fn base_context(
    lang: Lang,
    user: Option<&ConsoleUser>,
    unit_name: Option<&str>,
    region_name: &str,
    active: &str,
) -> Value {
    let other = match lang {
        Lang::Zh => Lang::En,
        Lang::En => Lang::Zh,
    };
    Value::from_serialize(json!({
        "lang": lang.tag(),
        "other_lang": other.tag(),
        "user": user.map(|u| json!({
            "name": u.principal.name,
            "role": u.principal.role.as_str(),
            "unit_name": unit_name,
        })),
        "nav": user.map(|u| nav_items(u.principal.role, active)).unwrap_or_default(),
        "csrf": user.map(|u| u.csrf.clone()).unwrap_or_default(),
        "region_name": region_name,
        "version": crate::VERSION,
        "flash": null,
    }))
}

/// Renders a template to an HTML response (template errors are bugs: 500, logged).
fn html(status: StatusCode, template: &str, ctx: Value, set_lang: Option<Lang>) -> Response {
    match templates::render(template, ctx) {
        Ok(body) => {
            let mut resp = (status, axum::response::Html(body)).into_response();
            let h = resp.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                     script-src 'self'; frame-ancestors 'none'; form-action 'self'",
                ),
            );
            if let Some(lang) = set_lang
                && let Ok(v) = HeaderValue::from_str(&lang_cookie(lang))
            {
                h.append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => {
            tracing::error!(template, error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// A page for a signed-in user: base context + page data.
pub(crate) fn page_response(
    state: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    template: &str,
    active: &str,
    data: Value,
) -> Response {
    let unit_name = user
        .principal
        .unit_id
        .as_deref()
        .and_then(|u| state.region.unit(u))
        .map(|u| u.name.as_str());
    // Later maps win: page data overrides the base (e.g. its own `flash`).
    let ctx = merge_maps([
        base_context(user.lang, Some(user), unit_name, &state.region.name, active),
        data,
    ]);
    html(
        status,
        template,
        ctx,
        user.lang_from_query.then_some(user.lang),
    )
}

/// An error page (403, 404, 409 …) in the user's language.
pub fn error_page(
    lang: Lang,
    user: Option<&ConsoleUser>,
    status: StatusCode,
    message: &str,
) -> Response {
    let ctx = merge_maps([
        base_context(lang, user, None, "", ""),
        Value::from_serialize(json!({"status": status.as_u16(), "message": message})),
    ]);
    html(status, "error.html", ctx, None)
}

fn store_error_page(user: &ConsoleUser, err: StoreError) -> Response {
    errors::store_error_response(user, err)
}

fn category_name(state: &AppState, lang: Lang, code: Option<&str>) -> String {
    match code {
        Some(c) => state
            .region
            .category(c)
            .map(|cat| lang.pick(&cat.name_zh, &cat.name_en).to_string())
            .unwrap_or_else(|| c.to_string()),
        None => "—".into(),
    }
}

fn grid_name(state: &AppState, code: Option<&str>) -> String {
    code.map(|c| {
        state
            .region
            .grid(c)
            .map(|g| g.name.clone())
            .unwrap_or_else(|| c.to_string())
    })
    .unwrap_or_else(|| "—".into())
}

fn unit_name(state: &AppState, id: Option<&str>) -> String {
    id.map(|u| {
        state
            .region
            .unit(u)
            .map(|i| i.name.clone())
            .unwrap_or_else(|| u.to_string())
    })
    .unwrap_or_else(|| "—".into())
}

/// The deadline that runs now: 签收 while dispatched, 办结 while the unit works.
fn running_deadline(row: &CaseRow) -> Option<i64> {
    match Status::parse(&row.status)? {
        Status::Dispatched => row.sign_due.or(row.close_due),
        Status::Signed | Status::InProgress => row.close_due,
        _ => None,
    }
}

// ----- login / logout / language ---------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

/// `GET /` → the console.
pub async fn root() -> Redirect {
    Redirect::to("/console")
}

/// `GET /console/login`: the form, with a fresh double-submit CSRF cookie.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let (lang, from_query) = request_lang(
        &headers,
        q.lang.as_deref().map(|l| format!("lang={l}")).as_deref(),
    );
    login_page(
        &state,
        lang,
        from_query,
        q.next.as_deref(),
        None,
        StatusCode::OK,
    )
}

fn login_page(
    state: &AppState,
    lang: Lang,
    set_lang: bool,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = crate::policy::credentials::random_hex(16);
    let ctx = merge_maps([
        base_context(lang, None, None, &state.region.name, "login"),
        Value::from_serialize(json!({
            "csrf": token,
            "error": error,
            "next": safe_next(next.unwrap_or("/console")),
        })),
    ]);
    let mut resp = html(status, "login.html", ctx, set_lang.then_some(lang));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/console/login"
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /console/login`: checks the double-submit token, then the password (same store call
/// and session as the JSON login), and redirects to `next`.
pub async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let (lang, _) = request_lang(&headers, None);
    let cookie = cookie_value(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !constant_time_eq(cookie.as_bytes(), form.csrf.as_bytes()) {
        return login_page(
            &state,
            lang,
            false,
            Some(&form.next),
            Some(lang.t("error.csrf")),
            StatusCode::FORBIDDEN,
        );
    }
    let name = form.username.trim();
    if name.is_empty() || form.password.is_empty() {
        return login_page(
            &state,
            lang,
            false,
            Some(&form.next),
            Some(lang.t("login.failed")),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let principal = match state
        .store
        .authenticate_password(name, &form.password)
        .await
    {
        Ok(p) => p,
        Err(StoreError::NotFound) => {
            tracing::info!(name, "console login refused");
            return login_page(
                &state,
                lang,
                false,
                Some(&form.next),
                Some(lang.t("login.failed")),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "console login failed");
            return error_page(
                lang,
                None,
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t("error.title"),
            );
        }
    };
    let session = match state
        .store
        .create_session(principal.user_id, SESSION_TTL.as_millis() as i64)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "console session failed");
            return error_page(
                lang,
                None,
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t("error.title"),
            );
        }
    };
    if let Err(e) = state
        .store
        .audit(&NewAudit::by(&principal, "login", None))
        .await
    {
        tracing::error!(error = %e, "audit of console login failed");
    }
    let target = if form.next.is_empty() || form.next == "/console" {
        home_for(principal.role).to_string()
    } else {
        safe_next(&form.next).to_string()
    };
    let mut resp = Redirect::to(&target).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        session.id,
        SESSION_TTL.as_secs()
    )) {
        h.append(header::SET_COOKIE, v);
    }
    h.append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "m110_csrf=; HttpOnly; SameSite=Strict; Path=/console/login; Max-Age=0",
        ),
    );
    resp
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/logout`.
pub async fn logout(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !user.csrf_ok(&form.csrf) {
        return csrf_rejected(user.lang);
    }
    if let Some(cookie) = cookie_value(&headers, SESSION_COOKIE)
        && let Err(e) = state.store.delete_session(&cookie).await
    {
        return store_error_page(&user, e);
    }
    let mut resp = Redirect::to("/console/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("m110_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    resp
}

/// Where a role lands after login.
fn home_for(role: Role) -> &'static str {
    match role {
        Role::Operator => "/console/call",
        Role::Analyst | Role::Auditor => "/console/dashboard",
        _ => "/console/queue",
    }
}

/// `GET /console`.
pub async fn home(user: ConsoleUser) -> Redirect {
    Redirect::to(home_for(user.principal.role))
}

// ----- queues ----------------------------------------------------------------------------

/// The queue views and which roles see them.
fn views_for(role: Role) -> &'static [&'static str] {
    match role {
        Role::Admin | Role::Supervisor | Role::Operator | Role::Dispatcher => &[
            "new",
            "overdue",
            "returned",
            "to_sign",
            "in_progress",
            "mine",
        ],
        Role::UnitHandler => &["to_sign", "in_progress", "overdue"],
        Role::GridWorker => &["mine"],
        Role::Analyst | Role::Auditor => &[],
    }
}

fn view_key(view: &str) -> &'static str {
    match view {
        "new" => "queue.new",
        "overdue" => "queue.overdue",
        "returned" => "queue.returned",
        "to_sign" => "queue.to_sign",
        "in_progress" => "queue.in_progress",
        _ => "queue.mine",
    }
}

const OPEN_STATUSES: &[&str] = &[
    "received",
    "dispatched",
    "signed",
    "in_progress",
    "replied",
    "followed_up",
    "returned",
];

/// The store filter of a view for a principal, scope included (same rules as the JSON list).
fn view_filter(state: &AppState, p: &Principal, view: &str) -> Option<CaseFilter> {
    let mut f = CaseFilter {
        limit: QUEUE_LIMIT,
        ..Default::default()
    };
    let statuses: &[&str] = match view {
        "new" => &["received"],
        "returned" => &["returned"],
        "to_sign" => &["dispatched"],
        "in_progress" => &["signed", "in_progress"],
        "overdue" => {
            f.overdue = Some(true);
            OPEN_STATUSES
        }
        _ => &[],
    };
    f.statuses = statuses.iter().map(|s| s.to_string()).collect();
    match p.role {
        Role::UnitHandler => f.unit = Some(p.unit_id.clone()?),
        Role::GridWorker => {
            f.channel = Some("grid".into());
            f.grid_codes = state.region.grid_reach(&p.grid_codes);
            if f.grid_codes.is_empty() {
                return None;
            }
        }
        Role::Analyst | Role::Auditor => return None,
        _ => {
            if view == "mine" {
                f.operator_id = Some(p.user_id);
                f.statuses = OPEN_STATUSES.iter().map(|s| s.to_string()).collect();
            }
        }
    }
    Some(f)
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    view: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    // Read by the language middleware from the query string; accepted here so that a
    // `?lang=` on a form or link is not an unknown field.
    #[allow(dead_code)]
    lang: Option<String>,
}

/// `GET /console/queue`: one view, its tab counts, filter and sort.
pub async fn queue(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<QueueQuery>,
) -> Response {
    let p = &user.principal;
    let lang = user.lang;
    let views = views_for(p.role);
    let Some(&default_view) = views.first() else {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    };
    let view = q
        .view
        .as_deref()
        .filter(|v| views.contains(v))
        .unwrap_or(default_view);
    let text =
        q.q.clone()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
    let category = q
        .category
        .clone()
        .filter(|c| state.region.category(c).is_some());
    let deadline_view = matches!(view, "to_sign" | "in_progress" | "overdue");
    let sort = match q.sort.as_deref() {
        Some(s @ ("due" | "created_desc" | "created_asc" | "priority" | "id")) => s,
        _ if deadline_view => "due",
        _ => "created_desc",
    };

    let mut tabs = Vec::new();
    let mut rows: Vec<CaseRow> = Vec::new();
    for v in views {
        let Some(mut f) = view_filter(&state, p, v) else {
            continue;
        };
        if *v == view {
            f.q = text.clone();
            f.category = category.clone();
            match state.store.list_cases(&f).await {
                Ok((r, total)) => {
                    rows = r;
                    tabs.push((v, total));
                }
                Err(e) => return store_error_page(&user, e),
            }
        } else {
            f.limit = 1;
            match state.store.list_cases(&f).await {
                Ok((_, total)) => tabs.push((v, total)),
                Err(e) => return store_error_page(&user, e),
            }
        }
    }
    let prio_rank = |p: &str| match p {
        "urgent" => 0,
        "high" => 1,
        "normal" => 2,
        _ => 3,
    };
    match sort {
        "due" => rows.sort_by_key(|r| (running_deadline(r).unwrap_or(i64::MAX), r.id)),
        "created_asc" | "id" => rows.sort_by_key(|r| r.id),
        "priority" => rows.sort_by_key(|r| (prio_rank(&r.priority), std::cmp::Reverse(r.id))),
        _ => rows.sort_by_key(|r| std::cmp::Reverse(r.id)),
    }
    let now = now_ms();
    let base_q = |extra: &str| {
        let mut s = format!("/console/queue?view={view}");
        if let Some(t) = &text {
            s.push_str(&format!("&q={}", url_encode(t)));
        }
        if let Some(c) = &category {
            s.push_str(&format!("&category={}", url_encode(c)));
        }
        s.push_str(extra);
        s
    };
    let row_json: Vec<_> = rows
        .iter()
        .map(|r| {
            let due = running_deadline(r);
            let (due_text, overdue) = match due {
                Some(d) => i18n::time_left(lang, d, now),
                None => (String::from("—"), false),
            };
            json!({
                "public_id": r.public_id,
                "href": format!("/console/cases/{}", r.public_id),
                "content": r.content.chars().take(60).collect::<String>(),
                "category": category_name(&state, lang, r.category_code.as_deref()),
                "grid": grid_name(&state, r.grid_code.as_deref()),
                "unit": unit_name(&state, r.unit_id.as_deref()),
                "status": r.status,
                "priority": r.priority,
                "supervised": r.supervised != 0,
                "created": r.created_at,
                "due_ms": due,
                "due_text": due_text,
                "overdue": overdue || r.overdue_sign != 0 || r.overdue_close != 0,
            })
        })
        .collect();
    let sort_label = |s: &str| -> String {
        match (s, lang) {
            ("due", Lang::Zh) => "时限最近优先".into(),
            ("due", Lang::En) => "Deadline first".into(),
            ("created_desc", Lang::Zh) => "最新受理优先".into(),
            ("created_desc", Lang::En) => "Newest first".into(),
            ("created_asc", Lang::Zh) => "最早受理优先".into(),
            ("created_asc", Lang::En) => "Oldest first".into(),
            (_, Lang::Zh) => "优先级".into(),
            (_, Lang::En) => "Priority".into(),
        }
    };
    let data = json!({
        "title_key": view_key(view),
        "view": view,
        "tabs": tabs.iter().map(|(v, n)| json!({
            "href": format!("/console/queue?view={v}"),
            "key": view_key(v),
            "active": **v == view,
            "count": n,
        })).collect::<Vec<_>>(),
        "filter": {"q": text.clone().unwrap_or_default(), "category": category.clone().unwrap_or_default()},
        "categories": state.region.categories.iter().map(|c| json!({
            "code": c.code, "name": lang.pick(&c.name_zh, &c.name_en),
        })).collect::<Vec<_>>(),
        "sorts": SORTS.iter().map(|s| json!({
            "value": s, "label": sort_label(s), "selected": *s == sort,
        })).collect::<Vec<_>>(),
        "sort_links": {
            "id": base_q("&sort=created_asc"),
            "created": base_q(if sort == "created_desc" { "&sort=created_asc" } else { "&sort=created_desc" }),
            "due": base_q("&sort=due"),
        },
        "rows": row_json,
    });
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "queue.html",
        "queue",
        Value::from_serialize(data),
    )
}

// ----- case page and actions -------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    // Read by the language middleware from the query string; accepted here so that a
    // `?lang=` on a form or link is not an unknown field.
    #[allow(dead_code)]
    lang: Option<String>,
}

/// `GET /console/cases/{id}`.
pub async fn case_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let flash = q.done.as_deref().and_then(Action::parse).map(|a| {
        json!({"kind": "ok", "text": format!("{} ✓", user.lang.t(&format!("action.{}", a.as_str())))})
    });
    render_case(&state, &user, &id, StatusCode::OK, flash).await
}

async fn render_case(
    state: &AppState,
    user: &ConsoleUser,
    id: &str,
    status: StatusCode,
    flash: Option<serde_json::Value>,
) -> Response {
    let p = &user.principal;
    let lang = user.lang;
    let row = match state.store.case_by_public_id(id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            return error_page(
                lang,
                Some(user),
                StatusCode::NOT_FOUND,
                lang.t("error.not_found"),
            );
        }
        Err(e) => return store_error_page(user, e),
    };
    if !can_see(p, &state.region, &row) {
        return error_page(
            lang,
            Some(user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let reveal = sees_caller_phone(p.role) && row.caller_id.is_some();
    if reveal
        && let Err(e) = state
            .store
            .audit(&NewAudit::by(
                p,
                "case.read_caller",
                Some(&format!("case:{}", row.public_id)),
            ))
            .await
    {
        return store_error_page(user, e);
    }
    let events = match state.store.case_events(row.id).await {
        Ok(e) => e,
        Err(e) => return store_error_page(user, e),
    };
    let due = |d: Option<i64>| d.map(i18n::format_time);
    let st = Status::parse(&row.status);
    let operator = match row.operator_id {
        Some(uid) => match state.store.user(uid).await {
            Ok(u) => u.name,
            Err(StoreError::NotFound) => format!("#{uid}"),
            Err(e) => return store_error_page(user, e),
        },
        None => "—".into(),
    };
    let phone = row.caller_phone.as_deref().map(|ph| {
        if reveal {
            ph.to_string()
        } else {
            mask_phone(ph)
        }
    });
    let name = row
        .caller_name
        .as_deref()
        .map(|n| if reveal { n.to_string() } else { mask_name(n) });
    let suggested_unit = row.category_code.as_deref().map(|c| {
        state
            .region
            .routing
            .resolve(c, row.grid_code.as_deref())
            .unit
    });
    let actions: Vec<_> = allowed_for(p, &row)
        .into_iter()
        .filter_map(Action::parse)
        .map(|a| {
            let (field, required) = text_field(a, st);
            json!({
                "action": a.as_str(),
                "href": format!("/console/cases/{}/actions/{}", row.public_id, a.as_str()),
                "note": field.is_some(),
                "note_key": if field == Some("reason") { "case.reason" } else { "case.note" },
                "note_required": required,
                "hours": a == Action::RequestExtension,
                "suggested_unit": suggested_unit,
                "style": match a {
                    Action::TransferPolice | Action::Return => "danger",
                    Action::DenyExtension => "",
                    _ => "primary",
                },
            })
        })
        .collect();
    let events_json: Vec<_> = events
        .iter()
        .map(|e| {
            let label = match Status::parse(e.to_status.as_deref().unwrap_or("")) {
                Some(s) if e.from_status.as_deref() != e.to_status.as_deref() => {
                    let key = format!("status.{}", s.as_str());
                    lang.t(&key).to_string()
                }
                _ => {
                    let key = format!("action.{}", e.kind);
                    if i18n::has_key(&key) {
                        lang.t(&key).to_string()
                    } else {
                        e.kind.clone()
                    }
                }
            };
            let unit = e
                .unit_id
                .as_deref()
                .and_then(|u| state.region.unit(u))
                .map(|u| format!(" → {}", u.name))
                .unwrap_or_default();
            json!({
                "kind": e.kind,
                "at": e.at,
                "label": format!("{label}{unit}"),
                "actor": e.actor_name,
                "note": e.note,
            })
        })
        .collect();
    let data = json!({
        "case": {
            "public_id": row.public_id,
            "status": row.status,
            "content": row.content,
            "category": category_name(state, lang, row.category_code.as_deref()),
            "category_code": row.category_code,
            "priority": row.priority,
            "channel": row.channel,
            "grid": grid_name(state, row.grid_code.as_deref()),
            "address": row.address.clone().unwrap_or_else(|| "—".into()),
            "caller_name": name.unwrap_or_else(|| "—".into()),
            "caller_phone": phone.unwrap_or_default(),
            "unit": unit_name(state, row.unit_id.as_deref()),
            "operator": operator,
            "created": row.created_at,
            "sign_due": due(row.sign_due),
            "sign_due_ms": if st == Some(Status::Dispatched) { row.sign_due } else { None },
            "close_due": due(row.close_due),
            "close_due_ms": if st.is_some_and(|s| s.awaits_close()) { row.close_due } else { None },
            "satisfaction": row.satisfaction,
            "supervised": row.supervised != 0,
            "extension_requested": row.extension_requested != 0,
            "version": row.version,
        },
        "actions": actions,
        "units": state.region.units.iter().map(|u| json!({"id": u.id, "name": u.name})).collect::<Vec<_>>(),
        "categories": state.region.categories.iter().map(|c| json!({
            "code": c.code, "name": lang.pick(&c.name_zh, &c.name_en),
        })).collect::<Vec<_>>(),
        "events": events_json,
        "flash": flash,
    });
    page_response(
        state,
        user,
        status,
        "case.html",
        "queue",
        Value::from_serialize(data),
    )
}

/// Which free-text field an action's textarea fills, and whether it is required.
fn text_field(a: Action, status: Option<Status>) -> (Option<&'static str>, bool) {
    match a {
        Action::Reply => (Some("note"), true),
        Action::Return | Action::RequestExtension => (Some("reason"), true),
        Action::DenyExtension => (Some("reason"), false),
        // Closing a replied case skips the follow-up: the lifecycle wants a reason then.
        Action::Close => (Some("reason"), status == Some(Status::Replied)),
        Action::Sign | Action::Start | Action::GrantExtension => (None, false),
        _ => (Some("note"), false),
    }
}

/// `POST /console/cases/{id}/actions/{action}`: CSRF, then the lifecycle service.
pub async fn case_action(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !user.csrf_ok(form.get("csrf").map(String::as_str).unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    let lang = user.lang;
    let Some(action) = Action::parse(&action) else {
        return error_page(
            lang,
            Some(&user),
            StatusCode::NOT_FOUND,
            lang.t("error.not_found"),
        );
    };
    let get = |k: &str| {
        form.get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let text = get("note");
    let (field, _) = text_field(action, None);
    let mut input = ActionInput {
        action,
        note: None,
        unit: get("unit_id"),
        category: get("category"),
        reason: None,
        satisfaction: None,
        hours: None,
        expected_version: get("version").and_then(|v| v.parse().ok()),
    };
    match field {
        Some("reason") => input.reason = text,
        _ => input.note = text,
    }
    if let Some(s) = get("satisfaction") {
        match Satisfaction::parse(&s) {
            Some(s) => input.satisfaction = Some(s),
            None => {
                let err = EngineError::invalid(
                    "satisfaction",
                    "satisfaction_invalid",
                    "unknown satisfaction",
                );
                return render_case(
                    &state,
                    &user,
                    &id,
                    status_of(&err),
                    Some(flash_error(&user, &err)),
                )
                .await;
            }
        }
    }
    if let Some(h) = get("hours") {
        match h.parse::<u32>() {
            Ok(h) => input.hours = Some(h),
            Err(_) => {
                let err = EngineError::invalid(
                    "hours",
                    "hours_invalid",
                    "hours must be a whole number 1–720",
                );
                return render_case(
                    &state,
                    &user,
                    &id,
                    status_of(&err),
                    Some(flash_error(&user, &err)),
                )
                .await;
            }
        }
    }
    match actions::perform(&state.store, &state.region, &user.principal, &id, input).await {
        Ok(row) => Redirect::to(&format!(
            "/console/cases/{}?done={}",
            url_encode(&row.public_id),
            action.as_str()
        ))
        .into_response(),
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict) => {
            render_case(
                &state,
                &user,
                &id,
                status_of(&e),
                Some(flash_error(&user, &e)),
            )
            .await
        }
        Err(e) => errors::error_response(&user, e),
    }
}

fn flash_error(user: &ConsoleUser, err: &EngineError) -> serde_json::Value {
    json!({"kind": "error", "text": errors::message(user.lang, err)})
}

// ----- call-taker: screen pop and new case ----------------------------------------------

#[derive(Deserialize, Default)]
pub struct CallQuery {
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    // Read by the language middleware from the query string; accepted here so that a
    // `?lang=` on a form or link is not an unknown field.
    #[allow(dead_code)]
    lang: Option<String>,
}

fn household_kind(lang: Lang, kind: &str) -> String {
    let key = format!("household.{kind}");
    if i18n::has_key(&key) {
        lang.t(&key).to_string()
    } else {
        kind.to_string()
    }
}

/// `GET /console/call?phone=…`: the screen pop and the new-case form.
pub async fn call_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<CallQuery>,
) -> Response {
    if !CENTER.contains(&user.principal.role) {
        let lang = user.lang;
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let phone = q.phone.unwrap_or_default();
    render_call(
        &state,
        &user,
        &phone,
        NewCaseForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn render_call(
    state: &AppState,
    user: &ConsoleUser,
    phone_raw: &str,
    mut form: NewCaseForm,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let p = &user.principal;
    let lang = user.lang;
    let mut data = json!({
        "phone": phone_raw,
        "looked_up": false,
        "caller": null,
        "vulnerable": [],
        "open_cases": [],
        "history": [],
        "error": error,
    });
    let mut error = error;
    let phone_raw = phone_raw.trim();
    if !phone_raw.is_empty() {
        match normalize_phone(phone_raw) {
            None => {
                error = Some(format!(
                    "{}: {}",
                    lang.t("call.phone"),
                    match lang {
                        Lang::Zh => "号码格式不正确（3–20位数字）",
                        Lang::En => "not a phone number (3–20 digits)",
                    }
                ));
            }
            Some(phone) => {
                if form.phone.is_empty() {
                    form.phone = phone.clone();
                }
                data["looked_up"] = json!(true);
                let caller = match state.store.caller_by_phone(&phone).await {
                    Ok(c) => c,
                    Err(e) => return store_error_page(user, e),
                };
                if let Some(c) = caller {
                    if let Err(e) = state
                        .store
                        .audit(&NewAudit::by(
                            p,
                            "caller.lookup",
                            Some(&format!("caller:{}", c.id)),
                        ))
                        .await
                    {
                        return store_error_page(user, e);
                    }
                    let reveal = sees_caller_phone(p.role);
                    if form.caller_name.is_empty() {
                        form.caller_name = c.name.clone().unwrap_or_default();
                    }
                    let (rows, _) = match state
                        .store
                        .list_cases(&CaseFilter {
                            caller_id: Some(c.id),
                            limit: 20,
                            ..Default::default()
                        })
                        .await
                    {
                        Ok(r) => r,
                        Err(e) => return store_error_page(user, e),
                    };
                    let mini = |r: &CaseRow| {
                        json!({
                            "public_id": r.public_id,
                            "href": format!("/console/cases/{}", r.public_id),
                            "status": r.status,
                            "content": r.content.chars().take(40).collect::<String>(),
                            "created": r.created_at,
                        })
                    };
                    data["caller"] = json!({
                        "name": c.name.as_deref().map(|n| if reveal { n.to_string() } else { mask_name(n) }).unwrap_or_else(|| "—".into()),
                        "phone": if reveal { phone.clone() } else { mask_phone(&phone) },
                    });
                    data["open_cases"] = json!(
                        rows.iter()
                            .filter(|r| Status::parse(&r.status).is_some_and(|s| s.is_open()))
                            .map(mini)
                            .collect::<Vec<_>>()
                    );
                    data["history"] = json!(rows.iter().map(mini).collect::<Vec<_>>());
                }
                // The vulnerable-household flag: only roles the registry policy lets see it,
                // and each look is audited like any read of the registry.
                if household_access(p.role) != HouseholdAccess::None {
                    match state.store.console_households_by_phone(&phone).await {
                        Ok(list) if !list.is_empty() => {
                            if let Err(e) = state
                                .store
                                .audit(&NewAudit::by(
                                    p,
                                    "household.flag",
                                    Some(&format!("phone:{}", mask_phone(&phone))),
                                ))
                                .await
                            {
                                return store_error_page(user, e);
                            }
                            data["vulnerable"] = json!(
                                list.iter()
                                    .map(|(kind, grid)| json!({
                                        "kind": household_kind(lang, kind),
                                        "note": grid_name(state, grid.as_deref()),
                                    }))
                                    .collect::<Vec<_>>()
                            );
                            if data["caller"].is_null() {
                                data["caller"] = json!({"name": "—", "phone": mask_phone(&phone)});
                            }
                        }
                        Ok(_) => {}
                        Err(e) => return store_error_page(user, e),
                    }
                }
            }
        }
    }
    data["error"] = json!(error);
    // Grid picker: townships with their villages/communities.
    let mut grid = Vec::new();
    for t in state.region.grid_units.iter().filter(|g| g.tier == 1) {
        let children: Vec<_> = state
            .region
            .grid_units
            .iter()
            .filter(|g| g.parent.as_deref() == Some(t.code.as_str()))
            .map(|g| json!({"code": g.code, "name": g.name}))
            .collect();
        grid.push(json!({"code": t.code, "name": t.name, "children": children}));
    }
    data["grid"] = json!(grid);
    data["categories"] = json!(state
        .region
        .categories
        .iter()
        .map(|c| json!({"code": c.code, "name": lang.pick(&c.name_zh, &c.name_en), "police": c.police}))
        .collect::<Vec<_>>());
    data["form"] = json!({
        "phone": form.phone,
        "caller_name": form.caller_name,
        "content": form.content,
        "category": form.category,
        "grid_code": form.grid_code,
        "address": form.address,
    });
    page_response(
        state,
        user,
        status,
        "call.html",
        "call",
        Value::from_serialize(data),
    )
}

#[derive(Deserialize, Default, Clone)]
pub struct NewCaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    caller_name: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    grid_code: String,
    #[serde(default)]
    address: String,
    /// Set by the one-click 转警 button.
    #[serde(default)]
    police: Option<String>,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// `POST /console/cases`: intake through the same service as `POST /api/v1/cases`. The 转警
/// button picks the region's police category so intake transfers the case in its transaction.
pub async fn create_case(
    State(state): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<NewCaseForm>,
) -> Response {
    if !user.csrf_ok(&form.csrf) {
        return csrf_rejected(user.lang);
    }
    let lang = user.lang;
    if !CENTER.contains(&user.principal.role) {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let police = form.police.as_deref() == Some("1");
    let mut category = opt(&form.category);
    if police
        && !category
            .as_deref()
            .and_then(|c| state.region.category(c))
            .is_some_and(|c| c.police)
    {
        category = state
            .region
            .categories
            .iter()
            .find(|c| c.police)
            .map(|c| c.code.clone());
    }
    let mut content = form.content.trim().to_string();
    if police && content.is_empty() {
        // One click during an emergency: the operator may not have typed anything yet.
        content = match lang {
            Lang::Zh => "紧急警情，转公安110处置".into(),
            Lang::En => "Police emergency, transferred to police dispatch".into(),
        };
    }
    let input = CaseInput {
        channel: Channel::Phone,
        caller: Some(CallerInput {
            phone: opt(&form.phone),
            name: opt(&form.caller_name),
            ..Default::default()
        }),
        content,
        category,
        location: Some(LocationInput {
            grid_code: opt(&form.grid_code),
            address: opt(&form.address),
            lat: None,
            lon: None,
        }),
        priority: None,
        external_id: None,
        open311_token: None,
    };
    match intake::create_case(&state.store, &state.region, &user.principal, input).await {
        Ok(created) => Redirect::to(&format!(
            "/console/cases/{}",
            url_encode(&created.case.public_id)
        ))
        .into_response(),
        Err(e) if e.kind == ErrorKind::Invalid => {
            let status = status_of(&e);
            let phone = form.phone.clone();
            let text = errors::message(user.lang, &e);
            render_call(&state, &user, &phone, form, Some(text), status).await
        }
        Err(e) => errors::error_response(&user, e),
    }
}

#[derive(Deserialize)]
pub struct ClassifyQuery {
    #[serde(default)]
    text: String,
}

/// `GET /console/classify?text=…`: category suggestions for the new-case form (JSON).
pub async fn classify(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<ClassifyQuery>,
) -> Response {
    if !CENTER.contains(&user.principal.role) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"error": {"code": "forbidden", "message": "role may not classify"}})),
        )
            .into_response();
    }
    let text = q.text.trim();
    if text.is_empty() || text.chars().count() > intake::MAX_CONTENT_CHARS {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": {"code": "invalid_field", "field": "text", "message": "empty or too long"}})),
        )
            .into_response();
    }
    let (class, _) = intake::triage(&state.region, text, &LocationInput::default());
    let lang = user.lang;
    let mut out = Vec::new();
    let mut push = |code: &str, score: f64| {
        if let Some(c) = state.region.category(code)
            && !out.iter().any(|v: &serde_json::Value| v["code"] == code)
        {
            out.push(json!({"code": c.code, "name": lang.pick(&c.name_zh, &c.name_en), "score": score, "police": c.police}));
        }
    };
    if let Some(c) = &class.category {
        push(c, class.confidence);
    }
    for alt in class.alternatives.iter().take(3) {
        push(&alt.category, alt.confidence);
    }
    Json(out).into_response()
}

// ----- dashboard -------------------------------------------------------------------------

/// `GET /console/dashboard`: today's numbers and the charts, all drawn by the server.
pub async fn dashboard(State(state): State<AppState>, user: ConsoleUser) -> Response {
    let lang = user.lang;
    if !matches!(
        user.principal.role,
        Role::Admin | Role::Supervisor | Role::Operator | Role::Dispatcher | Role::Analyst
    ) {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let now = now_ms();
    let today = i18n::day_start(now);
    let since = today - 29 * 86_400_000;
    let store = &state.store;
    let (headline, by_cat, by_grid, daily) = match tokio::try_join!(
        store.console_headline(today),
        store.console_by_category(since),
        store.console_by_grid(since),
        store.console_daily(since),
    ) {
        Ok(v) => v,
        Err(e) => return store_error_page(&user, e),
    };
    let empty = lang.t("common.empty");

    let cat_bars: Vec<svg::Bar> = by_cat
        .iter()
        .take(12)
        .map(|(code, n)| svg::Bar {
            label: category_name(&state, lang, code.as_deref()),
            value: *n as f64,
            href: code
                .as_ref()
                .map(|c| format!("/console/queue?view=overdue&category={}", url_encode(c))),
        })
        .collect();

    // Fold grid codes into their township (tier 1).
    let mut town_cases: HashMap<String, i64> = HashMap::new();
    for (code, n) in &by_grid {
        if let Some(t) = code.as_deref().and_then(|c| township_of(&state, c)) {
            *town_cases.entry(t).or_default() += n;
        }
    }
    let towns: Vec<_> = state
        .region
        .grid_units
        .iter()
        .filter(|g| g.tier == 1)
        .collect();
    let mut town_bars: Vec<svg::Bar> = towns
        .iter()
        .map(|t| {
            svg::Bar::new(
                t.name.clone(),
                *town_cases.get(&t.code).unwrap_or(&0) as f64,
            )
        })
        .collect();
    town_bars.sort_by(|a, b| b.value.total_cmp(&a.value));
    town_bars.truncate(12);

    let map_units: Vec<svg::MapUnit> = towns
        .iter()
        .map(|t| {
            // A township's population: its own figure, else the sum of its children's.
            let pop = t.population.map(|p| p as f64).or_else(|| {
                let s: u64 = state
                    .region
                    .grid_units
                    .iter()
                    .filter(|g| g.parent.as_deref() == Some(t.code.as_str()))
                    .filter_map(|g| g.population)
                    .sum();
                (s > 0).then_some(s as f64)
            });
            svg::MapUnit {
                code: t.code.clone(),
                name: t.name.clone(),
                lat: t.centroid.map(|c| c.lat),
                lon: t.centroid.map(|c| c.lon),
                cases: *town_cases.get(&t.code).unwrap_or(&0) as f64,
                population: pop,
            }
        })
        .collect();

    let by_day: HashMap<i64, i64> = daily.into_iter().collect();
    let first_day = crate::store::console::shanghai_day(since);
    let points: Vec<svg::Point> = (0..30)
        .map(|i| {
            let day = first_day + i;
            svg::Point {
                label: i18n::format_day(day * 86_400_000),
                value: *by_day.get(&day).unwrap_or(&0) as f64,
            }
        })
        .collect();

    let satisfaction = if headline.followed_up > 0 {
        format!(
            "{:.1}%",
            headline.satisfied as f64 * 100.0 / headline.followed_up as f64
        )
    } else {
        "—".into()
    };
    let kpis = json!([
        {"id": "today", "key": "dash.today", "value": headline.received_today, "alert": false},
        {"id": "closed", "key": "dash.closed_today", "value": headline.closed_today, "alert": false},
        {"id": "open", "key": "dash.open", "value": headline.open, "alert": false},
        {"id": "overdue", "key": "dash.overdue", "value": headline.overdue, "alert": headline.overdue > 0},
        {"id": "satisfaction", "key": "dash.satisfaction", "value": satisfaction, "alert": false},
    ]);
    let data = merge_maps([
        minijinja::context! {
            trend => templates::safe(svg::trend_line(lang.t("dash.trend"), &points, empty)),
            map => templates::safe(svg::grid_map(lang.t("dash.map"), &map_units, lang.t("dash.map_legend"), lang.t("dash.map_legend_count"), empty)),
            by_category => templates::safe(svg::bar_chart(lang.t("dash.by_category"), &cat_bars, empty)),
            by_township => templates::safe(svg::bar_chart(lang.t("dash.by_township"), &town_bars, empty)),
        },
        Value::from_serialize(json!({"kpis": kpis, "now": now})),
    ]);
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "dashboard.html",
        "dashboard",
        data,
    )
}

/// The tier-1 ancestor of a grid code.
fn township_of(state: &AppState, code: &str) -> Option<String> {
    let mut cur = state.region.grid(code)?;
    for _ in 0..8 {
        if cur.tier <= 1 {
            return Some(cur.code.clone());
        }
        cur = state.region.grid(cur.parent.as_deref()?)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_and_safe_redirects() {
        assert_eq!(
            url_encode("/console/queue?view=new"),
            "/console/queue%3Fview%3Dnew"
        );
        assert_eq!(url_encode("道路"), "%E9%81%93%E8%B7%AF");
        assert_eq!(safe_next("/console/cases/X"), "/console/cases/X");
        assert_eq!(safe_next("https://evil.example/"), "/console");
        assert_eq!(safe_next("//evil.example/console"), "/console");
        assert_eq!(safe_next("/console\\@evil"), "/console");
    }

    #[test]
    fn navigation_depends_on_role() {
        let keys = |r| -> Vec<String> {
            nav_items(r, "")
                .iter()
                .map(|v| v["key"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            keys(Role::Operator),
            ["nav.call", "nav.queues", "nav.dashboard", "nav.directories"]
        );
        assert_eq!(keys(Role::UnitHandler), ["nav.queues", "nav.directories"]);
        assert_eq!(keys(Role::Analyst), ["nav.dashboard", "nav.directories"]);
        assert!(keys(Role::Auditor).is_empty());
        assert!(views_for(Role::UnitHandler).contains(&"to_sign"));
        assert!(!views_for(Role::UnitHandler).contains(&"new"));
    }

    /// Every message key the console's Rust code looks up with `Lang::t` is in the catalog.
    #[test]
    fn rust_message_keys_exist() {
        for (name, src) in [
            ("pages.rs", include_str!("pages.rs")),
            ("directories.rs", include_str!("directories.rs")),
            ("session.rs", include_str!("session.rs")),
        ] {
            for (pos, _) in src.match_indices(".t(\"") {
                let rest = &src[pos + 4..];
                let key = &rest[..rest.find('"').unwrap()];
                assert!(i18n::has_key(key), "{name}: unknown message key {key:?}");
            }
            // Keys handed to templates as data.
            for (pos, _) in src.match_indices("\"key\": \"") {
                let rest = &src[pos + 8..];
                let key = &rest[..rest.find('"').unwrap()];
                assert!(i18n::has_key(key), "{name}: unknown message key {key:?}");
            }
        }
    }

    #[test]
    fn action_text_fields() {
        assert_eq!(text_field(Action::Reply, None), (Some("note"), true));
        assert_eq!(text_field(Action::Return, None), (Some("reason"), true));
        assert_eq!(
            text_field(Action::Close, Some(Status::Replied)),
            (Some("reason"), true)
        );
        assert_eq!(
            text_field(Action::Close, Some(Status::FollowedUp)),
            (Some("reason"), false)
        );
        assert_eq!(text_field(Action::Sign, None), (None, false));
    }
}
