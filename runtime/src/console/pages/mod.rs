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
use crate::engine::intake::{
    self, CallerInput, CaseInput, EmergencyInput, LocationInput, normalize_phone,
};
use crate::engine::{Error as EngineError, ErrorKind};
use crate::http::AppState;
use crate::http::auth::{SESSION_COOKIE, SESSION_TTL, cookie_value};
use crate::model::time::now_ms;
use crate::model::{Action, Channel, EmergencyLine, Principal, Role, Satisfaction, Status};
use crate::policy::access::{HouseholdAccess, household_access, sees_caller_phone};
use crate::policy::masking::{display_phone, mask_display_phone, mask_name};
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
    if role == Role::GridWorker {
        add("/console/grid", "nav.grid", "grid");
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
    if matches!(
        role,
        Role::Admin | Role::Supervisor | Role::Dispatcher | Role::Analyst
    ) {
        add("/console/analytics", "nav.analytics", "analytics");
        add("/console/alerts", "nav.alerts", "alerts");
        add("/console/scorecards", "nav.scorecards", "scorecards");
    }
    if role == Role::UnitHandler {
        add("/console/offers", "nav.offers", "offers");
    }
    if CENTER.contains(&role) {
        add("/console/providers", "nav.providers", "providers");
    }
    if role != Role::Auditor {
        add("/console/directories", "nav.directories", "directories");
    }
    if CENTER.contains(&role) {
        add("/console/knowledge", "nav.knowledge", "knowledge");
        add("/console/cameras", "nav.cameras", "cameras");
    }
    if matches!(role, Role::Admin | Role::Supervisor | Role::Dispatcher) {
        add("/console/integrations", "nav.integrations", "integrations");
    }
    if audit::AUDIT_ROLES.contains(&role) {
        add("/console/audit", "nav.audit", "audit");
    }
    if role == Role::Admin {
        add("/console/admin/users", "nav.admin_users", "admin_users");
        add("/console/admin/units", "nav.admin_units", "admin_units");
        add(
            "/console/admin/routing",
            "nav.admin_routing",
            "admin_routing",
        );
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

/// The administration pages' gate: `Some(403 page)` unless the user is an admin.
fn admin_only(user: &ConsoleUser) -> Option<Response> {
    (user.principal.role != Role::Admin).then(|| {
        error_page(
            user.lang,
            Some(user),
            StatusCode::FORBIDDEN,
            user.lang.t("error.forbidden"),
        )
    })
}

fn store_error_page(user: &ConsoleUser, err: StoreError) -> Response {
    errors::store_error_response(user, err)
}

/// The categories as a picker lists them: the taxonomy's tree in depth-first order, each name
/// indented by its level (full-width spaces, which a `<select>` keeps), so 停电 reads under
/// 公共设施 › 水电气 and a call-taker can pick the 大类 or go down to the 小类.
pub(crate) fn category_choices(
    categories: &[crate::model::Category],
    lang: Lang,
) -> Vec<serde_json::Value> {
    crate::model::region::categories_in_tree_order(categories)
        .into_iter()
        .map(|(c, depth)| {
            json!({
                "code": c.code,
                "name": format!("{}{}", "\u{3000}".repeat(depth), lang.pick(&c.name_zh, &c.name_en)),
                "police": c.police,
                "depth": depth,
            })
        })
        .collect()
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

mod account;
mod admin_routing;
mod admin_units;
mod admin_users;
mod alerts;
mod analytics;
mod attachments;
mod audit;
mod call;
mod cameras;
mod case;
mod dashboard;
mod export;
mod field;
mod grid;
mod integrations;
mod knowledge;
mod login;
mod merge;
mod offers;
mod queue;
mod scorecards;

pub use account::*;
pub use admin_routing::*;
pub use admin_units::*;
pub use admin_users::*;
pub use alerts::*;
pub use analytics::*;
pub use attachments::case_attach;
pub use audit::*;
pub use call::*;
pub use cameras::cameras_page;
pub use case::*;
pub use dashboard::*;
pub use export::*;
pub use field::*;
pub use grid::*;
pub use integrations::*;
pub use knowledge::*;
pub use login::*;
pub use merge::{case_dismiss, case_merge};
pub use offers::*;
pub use queue::*;
pub use scorecards::*;

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
            [
                "nav.call",
                "nav.queues",
                "nav.dashboard",
                "nav.providers",
                "nav.directories",
                "nav.knowledge",
                "nav.cameras"
            ]
        );
        assert_eq!(
            keys(Role::UnitHandler),
            ["nav.queues", "nav.offers", "nav.directories"]
        );
        assert_eq!(
            keys(Role::Analyst),
            [
                "nav.dashboard",
                "nav.analytics",
                "nav.alerts",
                "nav.scorecards",
                "nav.directories"
            ]
        );
        // The auditor's one page is the audit log (it used to land on a 403 with no menu).
        assert_eq!(keys(Role::Auditor), ["nav.audit"]);
        assert!(views_for(Role::UnitHandler).contains(&"to_sign"));
        assert!(!views_for(Role::UnitHandler).contains(&"new"));
    }

    /// Every message key the console's Rust code looks up with `Lang::t` is in the catalog.
    #[test]
    fn rust_message_keys_exist() {
        for (name, src) in [
            ("pages/mod.rs", include_str!("mod.rs")),
            ("pages/login.rs", include_str!("login.rs")),
            ("pages/queue.rs", include_str!("queue.rs")),
            ("pages/case.rs", include_str!("case.rs")),
            ("pages/call.rs", include_str!("call.rs")),
            ("pages/dashboard.rs", include_str!("dashboard.rs")),
            ("pages/audit.rs", include_str!("audit.rs")),
            ("pages/account.rs", include_str!("account.rs")),
            ("pages/admin_users.rs", include_str!("admin_users.rs")),
            ("pages/admin_units.rs", include_str!("admin_units.rs")),
            ("pages/admin_routing.rs", include_str!("admin_routing.rs")),
            ("pages/grid.rs", include_str!("grid.rs")),
            ("pages/export.rs", include_str!("export.rs")),
            ("pages/scorecards.rs", include_str!("scorecards.rs")),
            ("pages/analytics.rs", include_str!("analytics.rs")),
            ("pages/alerts.rs", include_str!("alerts.rs")),
            ("pages/knowledge.rs", include_str!("knowledge.rs")),
            ("pages/offers.rs", include_str!("offers.rs")),
            ("pages/cameras.rs", include_str!("cameras.rs")),
            ("directories.rs", include_str!("../directories.rs")),
            ("session.rs", include_str!("../session.rs")),
            ("errors.rs", include_str!("../errors.rs")),
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
    fn the_panel_leads_with_the_next_step() {
        use Action::*;
        assert_eq!(
            primary_action(&[Dispatch, Answer, TransferPolice], false, false),
            Some(Dispatch)
        );
        // A consultation is answered on the call.
        assert_eq!(
            primary_action(&[Dispatch, Answer, TransferPolice], true, false),
            Some(Answer)
        );
        assert_eq!(
            primary_action(&[Sign, Return, RequestExtension], false, false),
            Some(Sign)
        );
        // The center after a missed sign deadline: re-dispatch.
        assert_eq!(
            primary_action(&[Redispatch, Urge, Supervise], false, true),
            Some(Redispatch)
        );
        assert_eq!(
            primary_action(&[Redispatch, Urge, Supervise], false, false),
            None
        );
        assert!(DESTRUCTIVE.contains(&Return) && !DESTRUCTIVE.contains(&Close));
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
