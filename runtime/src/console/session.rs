/*!
Who is using the console and in which language: the [`ConsoleUser`] extractor (session cookie →
principal and the session's CSRF token), the CSRF check every console POST runs, and the
language of the request.

Sessions are the server's (`m110_session`, HttpOnly, SameSite=Strict, created by the same store
call as the JSON login); the console adds a CSRF token bound to the session (stored with it) that
every form carries in a hidden `csrf` field. Before login there is no session, so the login form
uses a double-submit token: a random `m110_csrf` cookie that the form must echo.

A page request without a session is redirected to `/login?next=…`, not answered with a JSON 401.
*/

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::i18n::Lang;
use crate::http::AppState;
use crate::http::auth::{SESSION_COOKIE, cookie_value};
use crate::model::Principal;
use crate::store::StoreError;

/// Cookie holding the chosen language.
pub const LANG_COOKIE: &str = "lang";
/// Cookie of the pre-login double-submit CSRF token.
pub const LOGIN_CSRF_COOKIE: &str = "m110_csrf";

/// The page where a user sets their own password (the only page open to a one-time password).
pub const PASSWORD_PATH: &str = "/console/password";

/// A signed-in console user.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub principal: Principal,
    /// The session's CSRF token, rendered into every form.
    pub csrf: String,
    pub lang: Lang,
    /// True when the request carried `?lang=` (the response then sets the cookie).
    pub lang_from_query: bool,
    /// Signed in with a one-time password that must be changed now.
    pub must_change_password: bool,
}

impl ConsoleUser {
    /// Checks a submitted CSRF token against the session's, in constant time.
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        constant_time_eq(submitted.as_bytes(), self.csrf.as_bytes())
    }
}

/// The 403 page for a missing or wrong CSRF token.
pub fn csrf_rejected(lang: Lang) -> Response {
    super::pages::error_page(lang, None, StatusCode::FORBIDDEN, lang.t("error.csrf"))
}

/// Compares two byte strings without an early exit on the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `lang` query parameter of a URI query string, if any.
fn query_lang(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .map(|(_, v)| v.to_string())
}

/// The request's language and whether it came from `?lang=`.
pub fn request_lang(headers: &HeaderMap, query: Option<&str>) -> (Lang, bool) {
    let q = query_lang(query);
    let from_query = q.as_deref().and_then(Lang::parse).is_some();
    let cookie = cookie_value(headers, LANG_COOKIE);
    (Lang::choose(q.as_deref(), cookie.as_deref()), from_query)
}

/// `Set-Cookie` value remembering a language for a year.
pub fn lang_cookie(lang: Lang) -> String {
    format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.tag()
    )
}

/// Rejection of [`ConsoleUser`]: a redirect to the login page, or an error page.
pub struct NotSignedIn(Response);

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        self.0
    }
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NotSignedIn> {
        let (lang, lang_from_query) = request_lang(&parts.headers, parts.uri.query());
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/console");
            NotSignedIn(
                Redirect::to(&format!(
                    "/console/login?next={}",
                    super::pages::url_encode(next)
                ))
                .into_response(),
            )
        };
        let Some(cookie) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match state
            .store
            .session(&cookie, state.config.session_idle.as_millis() as i64)
            .await
        {
            // A one-time password: nothing but setting a new one (or leaving) until it is set.
            Ok(s)
                if s.must_change_password
                    && !matches!(parts.uri.path(), PASSWORD_PATH | "/console/logout") =>
            {
                Err(NotSignedIn(Redirect::to(PASSWORD_PATH).into_response()))
            }
            Ok(s) => Ok(ConsoleUser {
                principal: s.principal,
                csrf: s.csrf_token,
                lang,
                lang_from_query,
                must_change_password: s.must_change_password,
            }),
            Err(StoreError::NotFound) => Err(to_login()),
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                Err(NotSignedIn(super::pages::error_page(
                    lang,
                    None,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database unavailable / 数据库不可用",
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

    #[test]
    fn csrf_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        // An empty token never matches, even an empty one.
        assert!(!constant_time_eq(b"", b""));
    }

    #[test]
    fn language_from_query_then_cookie() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("lang=en"));
        assert_eq!(request_lang(&h, None), (Lang::En, false));
        assert_eq!(
            request_lang(&h, Some("view=new&lang=zh-CN")),
            (Lang::Zh, true)
        );
        assert_eq!(
            request_lang(&HeaderMap::new(), Some("lang=xx")),
            (Lang::Zh, false)
        );
        assert!(lang_cookie(Lang::En).starts_with("lang=en;"));
    }
}
