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
pub mod directories;
pub mod errors;
pub mod i18n;
pub mod pages;
pub mod session;
pub mod sse;
pub mod svg;
pub mod templates;

use axum::Router;
use axum::routing::{get, post};

use crate::http::AppState;

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
        .route("/console/call", get(pages::call_page))
        .route("/console/cases", post(pages::create_case))
        .route("/console/cases/{id}", get(pages::case_page))
        .route(
            "/console/cases/{id}/actions/{action}",
            post(pages::case_action),
        )
        .route("/console/classify", get(pages::classify))
        .route("/console/dashboard", get(pages::dashboard))
        .route("/console/integrations", get(pages::integrations))
        .route("/console/audit", get(pages::audit_log))
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
