/*!
The operator console: server-rendered pages for call-takers, dispatchers, handling units,
supervisors and coordinators, mounted at `/` and `/console/…` by [`router`].

- [`pages`]: one module per page — `login`, `queue`, `case` (page and actions), `call` (screen
  pop and new case), `dashboard` — over shared helpers in `pages/mod.rs`.
- [`directories`]: browse, search and edit the directory data systems.
- [`session`]: the signed-in user (session cookie), CSRF checks, the request's language.
- [`sse`]: live updates (`/console/events`).
- [`templates`]: the embedded minijinja environment (autoescape on).
- [`i18n`]: zh-CN / English catalog, language choice, Asia/Shanghai times.
- [`svg`]: dashboard charts and the grid density map, drawn by the server.
- [`assets`]: the stylesheet and script, served from the binary.

Invariant: the console holds no business rules. Forms call the same service functions as the
JSON API (intake, lifecycle actions, the store's scoped queries); this module only turns
requests into those calls and results into pages. Every route authorizes in its handler (the
`ConsoleUser` extractor plus role checks), which is why the server's route table lists
`/console` as self-authorized.
*/

pub mod assets;
mod catalog;
pub mod directories;
pub mod errors;
pub mod heatmap;
pub mod i18n;
pub mod pages;
pub mod report;
pub mod session;
pub mod sse;
pub mod svg;
pub mod templates;

use axum::Router;
use axum::routing::{get, post};

use crate::http::AppState;

/// Largest patrol report body: its photos (at most `pages::MAX_PHOTOS`, each within the
/// attachment limit, and phones send them downscaled) and the form.
const FIELD_REPORT_BODY_LIMIT: usize = 48 * 1024 * 1024;

/// Every console route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::root))
        .route("/console", get(pages::home))
        .route(
            "/console/login",
            get(pages::login_form).post(pages::login_submit),
        )
        .route("/console/logout", post(pages::logout))
        .route("/console/queue", get(pages::queue))
        .route("/console/queue/export", get(pages::queue_export))
        .route("/console/call", get(pages::call_page))
        .route("/console/cases", post(pages::create_case))
        .route("/console/cases/{id}", get(pages::case_page))
        .route(
            "/console/cases/{id}/actions/{action}",
            post(pages::case_action),
        )
        .route("/console/cases/{id}/merge", post(pages::case_merge))
        .route(
            "/console/cases/{id}/attachments",
            // The upload stops at the attachment limit itself, not the JSON body limit.
            post(pages::case_attach).route_layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/console/cases/{id}/similar/{other}/dismiss",
            post(pages::case_dismiss),
        )
        .route("/console/classify", get(pages::classify))
        .route("/console/dashboard", get(pages::dashboard))
        .route("/console/integrations", get(pages::integrations))
        .route("/console/audit", get(pages::audit_log))
        .route(
            "/console/password",
            get(pages::password_form).post(pages::password_submit),
        )
        .route(
            "/console/reset/{token}",
            get(pages::reset_form).post(pages::reset_submit),
        )
        .route("/console/grid", get(pages::grid_home))
        .route(
            "/console/grid/report",
            get(pages::grid_report_form)
                .post(pages::grid_report)
                // Up to four phone photos: above the API's body limit, below what hurts.
                .layer(axum::extract::DefaultBodyLimit::max(
                    FIELD_REPORT_BODY_LIMIT,
                )),
        )
        .route("/console/grid/visits", get(pages::grid_visits))
        .route("/console/grid/households/{id}", get(pages::grid_household))
        .route(
            "/console/grid/households/{id}/visit",
            post(pages::grid_visit),
        )
        .route("/console/scorecards", get(pages::scorecards_page))
        .route("/console/analytics", get(pages::analytics_page))
        .route("/console/analytics/report", get(pages::report_download))
        .route("/console/alerts", get(pages::alerts_page))
        .route(
            "/console/knowledge",
            get(pages::knowledge_page).post(pages::knowledge_create),
        )
        .route("/console/knowledge/new", get(pages::knowledge_new))
        .route("/console/cameras", get(pages::cameras_page))
        .route("/console/knowledge/suggest", get(pages::knowledge_suggest))
        .route(
            "/console/knowledge/{id}",
            get(pages::knowledge_edit).post(pages::knowledge_save),
        )
        .route(
            "/console/knowledge/{id}/retire",
            post(pages::knowledge_retire),
        )
        .route("/console/alerts/{id}", get(pages::alert_page))
        .route("/console/alerts/{id}/action", post(pages::alert_action))
        .route("/console/offers", get(pages::provider_offers_page))
        .route(
            "/console/offers/{id}/{answer}",
            post(pages::provider_answer),
        )
        .route("/console/providers", get(pages::providers_page))
        .route("/console/providers/{unit}/{op}", post(pages::provider_edit))
        .route("/console/cases/{id}/offers", post(pages::case_put_out))
        .route("/console/admin/users", get(pages::admin_users))
        .route(
            "/console/admin/users/new",
            get(pages::admin_user_new).post(pages::admin_user_create),
        )
        .route(
            "/console/admin/users/import",
            get(pages::admin_import_form)
                .post(pages::admin_import)
                .layer(axum::extract::DefaultBodyLimit::max(
                    pages::MAX_IMPORT_BYTES,
                )),
        )
        .route(
            "/console/admin/users/{id}",
            get(pages::admin_user_edit).post(pages::admin_user_save),
        )
        .route(
            "/console/admin/users/{id}/reset",
            post(pages::admin_user_reset),
        )
        .route(
            "/console/admin/users/{id}/unlock",
            post(pages::admin_user_unlock),
        )
        .route("/console/admin/units", get(pages::admin_units))
        .route(
            "/console/admin/routing",
            get(pages::admin_routing).post(pages::admin_routing_save),
        )
        .route(
            "/console/admin/routing/{id}/delete",
            post(pages::admin_routing_delete),
        )
        .route(
            "/console/admin/units/{id}",
            get(pages::admin_unit_edit).post(pages::admin_unit_save),
        )
        .route("/console/cases/{id}/print", get(pages::case_print))
        .route("/console/integrations/replay/{id}", post(pages::replay))
        .route("/console/events", get(sse::events))
        .route("/console/directories", get(directories::list))
        .route(
            "/console/directories/{system}/{id}/edit",
            get(directories::edit_form),
        )
        .route(
            "/console/directories/{system}/{id}",
            post(directories::save),
        )
        .merge(assets::router())
}
