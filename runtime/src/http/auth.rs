/*!
Who is calling and what they may do: the [`Principal`] extractor, the route × role table
([`ROUTES`]) enforced by the [`authorize`] middleware, and login / logout / me.

Credentials: a session cookie (`m110_session`, HttpOnly, SameSite=Strict, Path=/) from
`POST /api/v1/login`, or `Authorization: Bearer m110_…` API tokens for integrations (the same
token is Open311's `api_key`). JSON endpoints accept only `application/json` bodies, which a
cross-site form cannot send, so together with SameSite=Strict the cookie needs no CSRF token here;
the console's HTML forms carry their own.

Every `/api/v1` route of this crate's server core is declared in [`ROUTES`] with the roles that
may call it; the middleware looks the matched route up, authenticates, checks the role and hands
the [`Principal`] to the handler through the request extensions. Routes marked
[`Access::Handler`] (directories, households) declare their roles here for the documentation and
the route × role test, but their handlers check them, because a refused household read is itself
audited. A route missing from the table is refused (fail closed), except the Open311 and console
routers, which authenticate their own way ([`self_authorized`]). Finer rules (a unit handler sees
only its unit's cases, a grid worker only its grid units, the lifecycle's role × action matrix)
are checked by the services.
*/

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::error::{ApiError, ApiJson, ApiResult};
use crate::engine::login::LoginError;
use crate::model::{Principal, Role};
use crate::store::StoreError;
use crate::store::audit::NewAudit;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "m110_session";
/// Session lifetime: one long shift.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// How long a verified Bearer token stays in the cache. Not what makes revocation work (the
/// credentials epoch does, on every request): only how long an unused entry takes memory.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(300);

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials needed (health, metrics, login, the OpenAPI document).
    Public,
    /// Any authenticated principal.
    Authenticated,
    /// Only these roles.
    Roles(&'static [Role]),
    /// Only these roles, checked by the handler itself (it also audits or scopes the refusal);
    /// the middleware only requires authentication.
    Handler(&'static [Role]),
}

impl Access {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public | Access::Authenticated => true,
            Access::Roles(roles) | Access::Handler(roles) => roles.contains(&role),
        }
    }
}

/// One declared route: the single source for authorization, the OpenAPI document and the
/// route × role test.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    /// axum path syntax (`/api/v1/cases/{id}`).
    pub path: &'static str,
    pub access: Access,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Component schema of the JSON request body, if any.
    pub request: Option<&'static str>,
    /// Success status and component schema of the response.
    pub response: (u16, &'static str),
}

use Role::*;

/// Center staff who take and coordinate cases.
pub const CENTER: &[Role] = &[Admin, Supervisor, Operator, Dispatcher];
/// Roles that may create cases (grid workers: grid channel only, in their grid units).
pub const INTAKE: &[Role] = &[Admin, Supervisor, Operator, Dispatcher, GridWorker];
/// Roles that may read cases (each sees only what its scope allows). Not the analyst: analysts
/// work with aggregates (dashboard, scorecards), never a case's words, place or caller.
pub const CASE_READERS: &[Role] = &[
    Admin,
    Supervisor,
    Operator,
    Dispatcher,
    UnitHandler,
    GridWorker,
];
/// Roles that may act on cases (the lifecycle matrix refines per action; a grid worker answers
/// the 网格任务 of their cells, nothing else).
pub const CASE_ACTORS: &[Role] = &[
    Admin,
    Supervisor,
    Operator,
    Dispatcher,
    UnitHandler,
    GridWorker,
];

/// Every area's route table, each kept beside its handlers where it has one; [`ROUTES`] is their
/// concatenation. An area adds its table here (one line), not to [`CORE_ROUTES`].
const AREAS: &[&[RouteSpec]] = &[
    CORE_ROUTES,
    crate::http::knowledge::ROUTES,
    crate::http::offers::ROUTES,
    crate::http::attachments::ROUTES,
];

/// Every declared route of the server: the one list the middleware, the OpenAPI document and the
/// route × role tests read.
pub static ROUTES: std::sync::LazyLock<Vec<RouteSpec>> =
    std::sync::LazyLock::new(|| AREAS.iter().flat_map(|a| a.iter().copied()).collect());

/// The routes of the server core (auth, cases, directories, households, analytics …).
pub const CORE_ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/healthz",
        access: Access::Public,
        tag: "ops",
        summary: "Liveness: the process answers",
        request: None,
        response: (200, "Health"),
    },
    RouteSpec {
        method: "GET",
        path: "/readyz",
        access: Access::Public,
        tag: "ops",
        summary: "Readiness: database reachable and migrations current",
        request: None,
        response: (200, "Health"),
    },
    RouteSpec {
        method: "GET",
        path: "/metrics",
        access: Access::Public,
        tag: "ops",
        summary: "Prometheus metrics (text exposition format)",
        request: None,
        response: (200, "Text"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/openapi.json",
        access: Access::Public,
        tag: "ops",
        summary: "This OpenAPI document",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/login",
        access: Access::Public,
        tag: "auth",
        summary: "Password login; sets the session cookie (403 while the password is a one-time one)",
        request: Some("Login"),
        response: (200, "Me"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/password",
        access: Access::Public,
        tag: "auth",
        summary: "Set your own password by name and current password (a one-time one included); ends your sessions",
        request: Some("PasswordChange"),
        response: (200, "Object"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/logout",
        access: Access::Authenticated,
        tag: "auth",
        summary: "Ends the session and clears the cookie",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/me",
        access: Access::Authenticated,
        tag: "auth",
        summary: "The authenticated principal",
        request: None,
        response: (200, "Me"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/region",
        access: Access::Authenticated,
        tag: "region",
        summary: "Region summary: categories, handling units, grid tiers",
        request: None,
        response: (200, "Region"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/triage",
        access: Access::Roles(INTAKE),
        tag: "cases",
        summary: "Classify and locate a text without creating a case (suggestions)",
        request: Some("TriageRequest"),
        response: (200, "Triage"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/cases",
        access: Access::Roles(INTAKE),
        tag: "cases",
        summary: "Intake: create a case (triage, routing and dispatch in one transaction)",
        request: Some("NewCase"),
        response: (201, "Case"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/cases",
        access: Access::Roles(CASE_READERS),
        tag: "cases",
        summary: "List cases (filters: status, unit, category, channel, overdue, q; paging)",
        request: None,
        response: (200, "CaseList"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/cases/{id}",
        access: Access::Roles(CASE_READERS),
        tag: "cases",
        summary: "One case with its event timeline",
        request: None,
        response: (200, "Case"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/cases/{id}/similar",
        access: Access::Roles(CASE_READERS),
        tag: "cases",
        summary: "一事多诉: the open cases received within early_warning.window_hours whose words match this one's, near in place (only those the reader may see)",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/cases/{id}/merge",
        access: Access::Roles(CENTER),
        tag: "cases",
        summary: "一事多诉: merge this case (a repeat, still with the center) into the open case it repeats; it follows that case to the reply and the close, its caller followed up on its own",
        request: Some("MergeRequest"),
        response: (200, "Merged"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/cases/{id}/similar/{other}/dismiss",
        access: Access::Roles(CENTER),
        tag: "cases",
        summary: "一事多诉: not the same problem — the pair is never suggested again (body optional: note)",
        request: Some("DismissRequest"),
        response: (200, "Object"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/cases/{id}/actions",
        access: Access::Roles(CASE_ACTORS),
        tag: "cases",
        summary: "Lifecycle action: dispatch, sign, start, reply, return, request_extension, \
                  grant_extension, deny_extension, supervise, follow_up, close, transfer_police, \
                  police_ack, police_return, answer, redispatch, reopen, urge",
        request: Some("ActionRequest"),
        response: (200, "Case"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/calls",
        access: Access::Roles(CENTER),
        tag: "cases",
        summary: "CTI screen pop: the caller behind a number, their history and open cases",
        request: Some("Call"),
        response: (200, "CallerCard"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/sms/inbound",
        access: Access::Roles(INTAKE),
        tag: "cases",
        summary: "SMS gateway callback (sms_gateway token): an inbound text becomes a case, joins \
                  the sender's open case, or answers its follow-up question",
        request: Some("SmsInbound"),
        response: (200, "SmsReceived"),
    },
    // Directories and households (modules `directories` / `households`): writes are checked
    // here; reads are checked by their handlers, because households audit every read attempt.
    RouteSpec {
        method: "GET",
        path: "/api/v1/directory",
        access: Access::Handler(ALL_ROLES),
        tag: "directory",
        summary: "Search all directory systems (q, category, grid, status, paging)",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/directory/{system}",
        access: Access::Handler(ALL_ROLES),
        tag: "directory",
        summary: "Search one directory system",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/directory/{system}",
        access: Access::Roles(&[Admin, Supervisor]),
        tag: "directory",
        summary: "Create a directory entry",
        request: Some("Object"),
        response: (201, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/directory/{system}/{id}",
        access: Access::Handler(ALL_ROLES),
        tag: "directory",
        summary: "One directory entry",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/scorecards",
        access: Access::Roles(&[Admin, Supervisor, Dispatcher, Analyst]),
        tag: "analytics",
        summary: "Unit scorecards for a period (from/to, YYYY-MM-DD): 按时签收率, 按时办结率, 退单率, 回访率, 满意率, 重办率, weighted score and rank (docs/scorecards.md)",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/scorecards/trend",
        access: Access::Roles(&[Admin, Supervisor, Dispatcher, Analyst]),
        tag: "analytics",
        summary: "Each unit's monthly score and rank over months=N (1–24, default 6) ending with to=YYYY-MM (this month by default): the trend of the scorecards",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/analytics/summary",
        access: Access::Roles(&[Admin, Supervisor, Dispatcher, Analyst]),
        tag: "analytics",
        summary: "A period's counts, rates (按时签收率, 按时答复率, 回访率, 满意率, 退单率, 重办率) and median / P90 times, beside the previous period (环比) and the year before (同比); month=YYYY-MM or from/to; filters category, area, unit, channel (docs/analytics.md)",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/analytics/breakdown",
        access: Access::Roles(&[Admin, Supervisor, Dispatcher, Analyst]),
        tag: "analytics",
        summary: "The period's figures by=category|area (tier=N)|unit|channel|gender|age_band|occupation|hour|weekday|day|week|month; caller-profile cells under 5 cases withheld; format=csv|xlsx downloads",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/analytics/heatmap",
        access: Access::Roles(&[Admin, Supervisor, Dispatcher, Analyst]),
        tag: "analytics",
        summary: "Cases received by weekday (Monday first) × hour of day in the period",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/alerts",
        access: Access::Roles(&[Admin, Supervisor, Dispatcher, Analyst]),
        tag: "alerts",
        summary: "Early-warning alerts, newest first (filters: from/to day of detection, category, area of any tier, state, limit); docs/early-warning.md",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/alerts/{id}",
        access: Access::Roles(&[Admin, Supervisor, Dispatcher, Analyst]),
        tag: "alerts",
        summary: "One alert: method, figures, time curve, state and the actions it allows",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/alerts/{id}/actions",
        access: Access::Roles(&[Admin, Supervisor, Dispatcher]),
        tag: "alerts",
        summary: "Act on an alert: acknowledge, dispatch (takes a proactive case for it), resolve, dismiss (with a reason)",
        request: Some("Object"),
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/audit",
        access: Access::Roles(&[Admin, Auditor]),
        tag: "audit",
        summary: "The audit log, newest first: filters actor, action, target, from/to (YYYY-MM-DD), paging by before=<id>; ?format=csv exports the page set (reading it is audited)",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/directory/{system}/{id}",
        access: Access::Roles(&[Admin, Supervisor]),
        tag: "directory",
        summary: "Update a directory entry (optimistic version)",
        request: Some("Object"),
        response: (200, "Object"),
    },
    RouteSpec {
        method: "DELETE",
        path: "/api/v1/directory/{system}/{id}",
        access: Access::Roles(&[Admin, Supervisor]),
        tag: "directory",
        summary: "Delete a directory entry",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/households",
        access: Access::Handler(HOUSEHOLD_READERS),
        tag: "households",
        summary: "Vulnerable households (full or masked by role; every read audited)",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/households",
        access: Access::Roles(&[Admin, Supervisor, GridWorker]),
        tag: "households",
        summary: "Register a vulnerable household",
        request: Some("Object"),
        response: (201, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/households/counts",
        access: Access::Handler(&[
            Admin, Supervisor, Operator, Dispatcher, GridWorker, Analyst, Auditor,
        ]),
        tag: "households",
        summary: "Household counts by kind and grid unit (no personal data; audited)",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/households/{id}",
        access: Access::Handler(HOUSEHOLD_READERS),
        tag: "households",
        summary: "One household (full or masked by role; audited)",
        request: None,
        response: (200, "Object"),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/households/{id}",
        access: Access::Roles(&[Admin, Supervisor, GridWorker]),
        tag: "households",
        summary: "Update a household (optimistic version)",
        request: Some("Object"),
        response: (200, "Object"),
    },
];

/// Every role.
pub const ALL_ROLES: &[Role] = &Role::ALL;
/// Roles that may read household records (full or masked).
pub const HOUSEHOLD_READERS: &[Role] = &[Admin, Supervisor, GridWorker, Operator, Dispatcher];

/// Path prefixes outside `/api/v1` whose routers authorize in their own handlers (Open311 by
/// `api_key`, the console by session and CSRF token).
pub fn self_authorized(path: &str) -> bool {
    path.starts_with("/open311/") || path.starts_with("/console") || path == "/"
}

/// The declared route for a method and matched path (`HEAD` is `GET` without the body).
pub fn spec(method: &Method, path: &str) -> Option<&'static RouteSpec> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES.iter().find(|r| r.path == path && r.method == method)
}

/// The methods declared for a matched path (empty when the path is not declared).
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut methods: Vec<&'static str> = ROUTES
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.method)
        .collect();
    if methods.contains(&"GET") {
        methods.push("HEAD");
    }
    methods
}

/// 405 in the JSON error format, with `Allow` when the methods are known (the router's
/// fallback for routes outside the table does not know them).
pub fn method_not_allowed(allowed: &[&str]) -> Response {
    let mut resp = ApiError::bad_request("method_not_allowed", "method not allowed on this route")
        .into_response();
    *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    if !allowed.is_empty()
        && let Ok(v) = HeaderValue::from_str(&allowed.join(", "))
    {
        resp.headers_mut().insert(header::ALLOW, v);
    }
    resp
}

/// Middleware: authenticate and check the role of every declared route; refuse undeclared ones.
pub async fn authorize(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = match req.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_string(),
        // Unmatched: let the fallback answer 404.
        None => return next.run(req).await,
    };
    let Some(spec) = spec(req.method(), &path) else {
        if self_authorized(&path) {
            return next.run(req).await;
        }
        // A declared path with an undeclared method: 405 with the methods it has, before any
        // authentication — a client error, not worth a log line.
        let allowed = allowed_methods(&path);
        if !allowed.is_empty() {
            return method_not_allowed(&allowed);
        }
        tracing::error!(%path, method = %req.method(), "route missing from the access table");
        return ApiError::forbidden("route has no declared access rule").into_response();
    };
    if spec.access == Access::Public {
        return next.run(req).await;
    }
    let principal = match authenticate(&state, req.headers()).await {
        Ok(Some(p)) => p,
        Ok(None) => return ApiError::Unauthenticated.into_response(),
        Err(e) => return e.into_response(),
    };
    if let Err(e) = scope_check(&principal, req.method().as_str(), req.uri().path()) {
        return e.into_response();
    }
    if !matches!(spec.access, Access::Handler(_)) && !spec.access.allows(principal.role) {
        return ApiError::forbidden(format!(
            "role {} may not call {} {}",
            principal.role.as_str(),
            spec.method,
            spec.path
        ))
        .into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// Verified Bearer tokens, by SHA-256, each with the credentials epoch it was verified at.
/// An entry is used only while the epoch is unchanged: revoking a token, disabling its user or
/// changing the user's rights moves the epoch (in any process, `m110 token revoke` included), so
/// the next request verifies again.
#[derive(Default)]
pub struct TokenCache {
    map: Mutex<HashMap<String, (Principal, i64, Instant)>>,
}

impl TokenCache {
    fn get(&self, key: &str, epoch: i64) -> Option<Principal> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(_, at_epoch, at)| *at_epoch == epoch && at.elapsed() < TOKEN_CACHE_TTL)
            .map(|(p, _, _)| p.clone())
    }

    fn put(&self, key: String, p: Principal, epoch: i64) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, at_epoch, at)| *at_epoch == epoch && at.elapsed() < TOKEN_CACHE_TTL);
        }
        map.insert(key, (p, epoch, Instant::now()));
    }
}

/// The principal behind the request's credentials: `Ok(None)` when there are none (or the
/// session cookie is stale), `Err(401)` for a Bearer token that is wrong or revoked.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> ApiResult<Option<Principal>> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| ApiError::Unauthenticated)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthenticated)?;
        return bearer_principal(state, token).await.map(Some);
    }
    let Some(cookie) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    match state
        .store
        .session(&cookie, state.config.session_idle.as_millis() as i64)
        .await
    {
        // A one-time password opens the console's password page only, not the API.
        Ok(s) if s.must_change_password => Err(ApiError::forbidden(PASSWORD_CHANGE_REQUIRED)),
        Ok(s) => Ok(Some(s.principal)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Why a user with a one-time password is refused until they set their own.
const PASSWORD_CHANGE_REQUIRED: &str = "password change required: this is a one-time password; \
     set your own with POST /api/v1/password or at /console/password";

/// A scoped token (Open311 client, police bridge) on a JSON API route it may not use: 403.
fn scope_check(p: &Principal, method: &str, path: &str) -> ApiResult<()> {
    if crate::policy::access::scope_allows_route(p, method, path) {
        return Ok(());
    }
    Err(ApiError::forbidden(match p.scope {
        Some(crate::model::TokenScope::Open311Client) => {
            "an open311_client token is for /open311/v2 only".to_string()
        }
        _ => "this token's scope does not allow this route".to_string(),
    }))
}

/// The principal behind an API token (also Open311's `api_key`); `Err(401)` when unknown.
pub async fn bearer_principal(state: &AppState, token: &str) -> ApiResult<Principal> {
    let key = crate::policy::credentials::sha256_hex(token);
    // One primary-key read per request instead of the token, user and grid lookups.
    let epoch = state.store.auth_epoch().await?;
    if let Some(p) = state.tokens.get(&key, epoch) {
        return Ok(p);
    }
    match state.store.principal_for_token(token).await {
        Ok(p) => {
            state.tokens.put(key, p.clone(), epoch);
            Ok(p)
        }
        Err(StoreError::NotFound) => Err(ApiError::Unauthenticated),
        Err(e) => Err(e.into()),
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        let p = authenticate(state, &parts.headers)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        scope_check(&p, parts.method.as_str(), parts.uri.path())?;
        parts.extensions.insert(p.clone());
        Ok(p)
    }
}

/// Routes: login, logout, me.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/password", post(change_password))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub name: String,
    pub current: String,
    pub new: String,
}

/// The client's address: the peer of the TCP connection (`ConnectInfo`), `None` when the
/// server was started without it. Behind a reverse proxy this is the proxy.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
        ))
    }
}

/// A refused login as the JSON front-end answers it: 401, 429 with `Retry-After`, or 503.
pub fn login_error_response(e: LoginError) -> Response {
    match e {
        LoginError::Refused => ApiError::Unauthenticated.into_response(),
        LoginError::Locked { retry_after_secs } => {
            let body = json!({"error": {
                "code": "login_throttled",
                "message": format!(
                    "too many failed logins for this account or address; try again in \
                     {retry_after_secs} s, or ask an administrator to unlock the account"
                ),
            }});
            let mut resp = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            resp
        }
        LoginError::Busy => ApiError::Busy(e.to_string()).into_response(),
        LoginError::Store(e) => ApiError::from(e).into_response(),
        LoginError::Hash(_) => ApiError::internal(e).into_response(),
    }
}

/// The `Set-Cookie` value of a new session (`Secure` when configured).
pub fn session_cookie(config: &crate::config::Config, id: &str) -> String {
    format!(
        "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        SESSION_TTL.as_secs(),
        if config.cookie_secure() {
            "; Secure"
        } else {
            ""
        }
    )
}

/// The `Set-Cookie` value that clears the session cookie.
pub fn cleared_session_cookie(config: &crate::config::Config) -> String {
    format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        if config.cookie_secure() {
            "; Secure"
        } else {
            ""
        }
    )
}

/// `POST /api/v1/password`: a user sets their own password (the one-time one included) by
/// name and current password; every session of theirs ends. Audited as
/// `user.password_change`. The current password is checked like a login (throttled).
async fn change_password(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<PasswordRequest>,
) -> ApiResult<Response> {
    use crate::policy::credentials::MIN_PASSWORD_LEN;
    if body.new.chars().count() < MIN_PASSWORD_LEN {
        return Err(ApiError::invalid(
            "new",
            format!("at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if body.new == body.current {
        return Err(ApiError::invalid(
            "new",
            "must differ from the current password",
        ));
    }
    let principal = match state
        .login
        .check(&state.store, &body.name, &body.current, addr.as_deref())
        .await
    {
        Ok(p) => p,
        Err(e) => return Ok(login_error_response(e)),
    };
    let phc = match state.login.hash(&body.new).await {
        Ok(phc) => phc,
        Err(e) => return Ok(login_error_response(e)),
    };
    state
        .store
        .change_own_password(
            principal.user_id,
            &phc,
            &NewAudit::by(&principal, "user.password_change", None),
        )
        .await?;
    Ok(Json(json!({"ok": true})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub name: String,
    pub password: String,
}

fn me_json(p: &Principal) -> serde_json::Value {
    json!({
        "user_id": p.user_id,
        "name": p.name,
        "role": p.role.as_str(),
        "role_zh": p.role.name_zh(),
        "unit_id": p.unit_id,
        "grid_codes": p.grid_codes,
    })
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "login name is empty"));
    }
    if body.password.is_empty() {
        return Err(ApiError::invalid("password", "password is empty"));
    }
    let principal = match state
        .login
        .check(&state.store, &body.name, &body.password, addr.as_deref())
        .await
    {
        Ok(p) => p,
        Err(e) => return Ok(login_error_response(e)),
    };
    if state
        .store
        .user(principal.user_id)
        .await?
        .must_change_password
    {
        return Err(ApiError::forbidden(PASSWORD_CHANGE_REQUIRED));
    }
    let session = state
        .store
        .create_session(principal.user_id, SESSION_TTL.as_millis() as i64)
        .await?;
    state
        .store
        .audit(&NewAudit::by(&principal, "login", None))
        .await?;
    let cookie = session_cookie(&state.config, &session.id);
    let mut body = me_json(&principal);
    body["csrf_token"] = json!(session.csrf_token);
    body["expires_at"] = json!(crate::model::time::render_time(session.expires_at));
    let mut resp = (StatusCode::OK, Json(body)).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    Ok(resp)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(cookie) = cookie_value(&headers, SESSION_COOKIE) {
        state.store.delete_session(&cookie).await?;
    }
    let mut resp = Json(json!({"ok": true})).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cleared_session_cookie(&state.config))
            .map_err(ApiError::internal)?,
    );
    Ok(resp)
}

async fn me(principal: Principal) -> Json<serde_json::Value> {
    Json(me_json(&principal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("lang=en; m110_session=abc"),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie_value(&h, "lang").as_deref(), Some("en"));
        assert_eq!(cookie_value(&h, "none"), None);
    }

    #[test]
    fn route_table_has_no_duplicates_and_every_api_route_is_guarded() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES.iter() {
            assert!(
                seen.insert((r.method, r.path)),
                "duplicate {} {}",
                r.method,
                r.path
            );
            // Login and the password change prove who you are in their body.
            if r.path.starts_with("/api/v1/")
                && !matches!(r.path, "/api/v1/login" | "/api/v1/password")
            {
                assert_ne!(r.access, Access::Public, "{} is public", r.path);
            }
        }
    }
}
