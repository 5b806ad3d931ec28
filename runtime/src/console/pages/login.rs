/*!
Login, logout, the language switch and each role's home page.
*/

use super::*;
use crate::engine::login::LoginError;

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
        &headers,
        lang,
        from_query,
        q.next.as_deref(),
        None,
        StatusCode::OK,
    )
}

pub(super) fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    set_lang: bool,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    // The browser's token when it already has one: a second login page (another tab, or a
    // page's background request sent to the login page once its session ended) must not
    // make the form already on screen stale. The token guards against cross-site posts only;
    // it carries no session.
    let token = cookie_value(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| crate::policy::credentials::random_hex(16));
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
    crate::http::auth::ClientAddr(addr): crate::http::auth::ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let (lang, _) = request_lang(&headers, None);
    let cookie = cookie_value(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !constant_time_eq(cookie.as_bytes(), form.csrf.as_bytes()) {
        return login_page(
            &state,
            &headers,
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
            &headers,
            lang,
            false,
            Some(&form.next),
            Some(lang.t("login.failed")),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let principal = match state
        .login
        .check(&state.store, name, &form.password, addr.as_deref())
        .await
    {
        Ok(p) => p,
        Err(e) => {
            let (key, status, retry) = match &e {
                LoginError::Refused => ("login.failed", StatusCode::UNAUTHORIZED, None),
                LoginError::Locked { retry_after_secs } => (
                    "login.locked",
                    StatusCode::TOO_MANY_REQUESTS,
                    Some(*retry_after_secs),
                ),
                LoginError::Busy => ("login.busy", StatusCode::SERVICE_UNAVAILABLE, Some(1)),
                LoginError::Store(_) | LoginError::Hash(_) => {
                    tracing::error!(error = %e, "console login failed");
                    return error_page(
                        lang,
                        None,
                        StatusCode::SERVICE_UNAVAILABLE,
                        lang.t("error.title"),
                    );
                }
            };
            let mut resp = login_page(
                &state,
                &headers,
                lang,
                false,
                Some(&form.next),
                Some(lang.t(key)),
                status,
            );
            if let Some(secs) = retry {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            return resp;
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
    if let Ok(v) = HeaderValue::from_str(&crate::http::auth::session_cookie(
        &state.config,
        &session.id,
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
    if let Ok(v) = HeaderValue::from_str(&crate::http::auth::cleared_session_cookie(&state.config))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// Where a role lands after login.
pub(super) fn home_for(role: Role) -> &'static str {
    match role {
        Role::Operator => "/console/call",
        Role::Analyst => "/console/dashboard",
        // The auditor's work is the log (no dashboard, no cases).
        Role::Auditor => "/console/audit",
        // The grid worker's day starts with their cells.
        Role::GridWorker => "/console/grid",
        _ => "/console/queue",
    }
}

/// `GET /console`.
pub async fn home(user: ConsoleUser) -> Redirect {
    Redirect::to(home_for(user.principal.role))
}
