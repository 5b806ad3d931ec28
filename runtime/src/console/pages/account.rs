/*!
A user's own password: the change form every user has (`/console/password`, the only page a
one-time password opens), and the one-time reset link an admin hands out
(`/console/reset/{token}`, no login: the token is the proof).

A new password is checked here (length, repeated correctly, not the old one) before it is
hashed; the store then ends every session of the user and this page starts a fresh one, so a
password that leaked stops working everywhere at once.
*/

use super::*;
use crate::policy::credentials::MIN_PASSWORD_LEN;

#[derive(Deserialize, Default)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// Checks a new password and its repetition; the message key of what is wrong.
pub(super) fn check_new_password(new: &str, repeat: &str) -> Result<(), &'static str> {
    if new.chars().count() < MIN_PASSWORD_LEN {
        return Err("password.too_short");
    }
    if new != repeat {
        return Err("password.mismatch");
    }
    Ok(())
}

fn password_page(
    state: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    page_response(
        state,
        user,
        status,
        "password.html",
        "password",
        Value::from_serialize(json!({
            "forced": user.must_change_password,
            "error": error,
            "min": MIN_PASSWORD_LEN,
            "action": "/console/password",
            "ask_current": true,
            "done": false,
            "reset_for": null,
        })),
    )
}

#[derive(Deserialize, Default)]
pub struct PasswordQuery {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /console/password` (`?done=1` after a change: the confirmation).
pub async fn password_form(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<PasswordQuery>,
) -> Response {
    if q.done.is_some() {
        let flash = json!({"kind": "ok", "text": user.lang.t("password.changed")});
        return page_response(
            &state,
            &user,
            StatusCode::OK,
            "password.html",
            "password",
            Value::from_serialize(json!({
                "flash": flash, "done": true, "home": home_for(user.principal.role),
                "reset_for": null,
            })),
        );
    }
    password_page(&state, &user, StatusCode::OK, None)
}

/// A fresh session cookie after the store ended the old ones.
async fn fresh_session(state: &AppState, user_id: i64, target: &str) -> Response {
    match state
        .store
        .create_session(user_id, SESSION_TTL.as_millis() as i64)
        .await
    {
        Ok(session) => {
            let mut resp = Redirect::to(target).into_response();
            if let Ok(v) = HeaderValue::from_str(&crate::http::auth::session_cookie(
                &state.config,
                &session.id,
            )) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "session after password change failed");
            Redirect::to("/console/login").into_response()
        }
    }
}

/// `POST /console/password`: checks the current password, sets the new one, starts a new
/// session and goes home (with a confirmation).
pub async fn password_submit(
    State(state): State<AppState>,
    crate::http::auth::ClientAddr(addr): crate::http::auth::ClientAddr,
    user: ConsoleUser,
    Form(form): Form<PasswordForm>,
) -> Response {
    if !user.csrf_ok(&form.csrf) {
        return csrf_rejected(user.lang);
    }
    let lang = user.lang;
    let p = &user.principal;
    // Checked like a login: a stolen session must not become a password-guessing oracle.
    match state
        .login
        .check(&state.store, &p.name, &form.current, addr.as_deref())
        .await
    {
        Ok(_) => {}
        Err(crate::engine::login::LoginError::Refused) => {
            return password_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(lang.t("password.wrong_current")),
            );
        }
        Err(crate::engine::login::LoginError::Locked { .. }) => {
            return password_page(
                &state,
                &user,
                StatusCode::TOO_MANY_REQUESTS,
                Some(lang.t("login.locked")),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "password check failed");
            return error_page(
                lang,
                Some(&user),
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t("error.title"),
            );
        }
    }
    if let Err(key) = check_new_password(&form.new, &form.repeat) {
        return password_page(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(lang.t(key)),
        );
    }
    if form.new == form.current {
        return password_page(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(lang.t("password.same")),
        );
    }
    let phc = match state.login.hash(&form.new).await {
        Ok(h) => h,
        _ => {
            return error_page(
                lang,
                Some(&user),
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.t("error.title"),
            );
        }
    };
    if let Err(e) = state
        .store
        .change_own_password(
            p.user_id,
            &phc,
            &NewAudit::by(p, "user.password_change", None),
        )
        .await
    {
        return store_error_page(&user, e);
    }
    // A forced change goes on to the day's work; a chosen one shows that it worked.
    let target = if user.must_change_password {
        home_for(p.role)
    } else {
        "/console/password?done=1"
    };
    fresh_session(&state, p.user_id, target).await
}

#[derive(Deserialize, Default)]
pub struct ResetQuery {
    #[serde(default)]
    lang: Option<String>,
}

fn reset_page(
    state: &AppState,
    lang: Lang,
    token: &str,
    name: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let ctx = merge_maps([
        base_context(lang, None, None, &state.region.name, "password"),
        Value::from_serialize(json!({
            "forced": true,
            "error": error,
            "min": MIN_PASSWORD_LEN,
            "action": format!("/console/reset/{}", url_encode(token)),
            "ask_current": false,
            "done": false,
            "reset_for": name,
            // The token itself is the proof; the form carries it back in the path.
            "csrf": "reset",
        })),
    ]);
    html(status, "password.html", ctx, None)
}

/// `GET /console/reset/{token}`: the form to set a password through a one-time link.
pub async fn reset_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<ResetQuery>,
) -> Response {
    let (lang, _) = request_lang(
        &headers,
        q.lang.as_deref().map(|l| format!("lang={l}")).as_deref(),
    );
    match state.store.password_reset_user(&token).await {
        Ok(u) => reset_page(&state, lang, &token, &u.name, StatusCode::OK, None),
        Err(StoreError::NotFound) => error_page(
            lang,
            None,
            StatusCode::NOT_FOUND,
            lang.t("password.link_dead"),
        ),
        Err(e) => {
            tracing::error!(error = %e, "reset link lookup failed");
            error_page(
                lang,
                None,
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t("error.title"),
            )
        }
    }
}

/// `POST /console/reset/{token}`: sets the password once, then signs the user in.
pub async fn reset_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let (lang, _) = request_lang(&headers, None);
    let user = match state.store.password_reset_user(&token).await {
        Ok(u) => u,
        Err(_) => {
            return error_page(
                lang,
                None,
                StatusCode::NOT_FOUND,
                lang.t("password.link_dead"),
            );
        }
    };
    if let Err(key) = check_new_password(&form.new, &form.repeat) {
        return reset_page(
            &state,
            lang,
            &token,
            &user.name,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(lang.t(key)),
        );
    }
    let Ok(phc) = state.login.hash(&form.new).await else {
        return error_page(
            lang,
            None,
            StatusCode::INTERNAL_SERVER_ERROR,
            lang.t("error.title"),
        );
    };
    match state.store.redeem_password_reset(&token, &phc).await {
        Ok(u) => fresh_session(&state, u.id, home_for(u.role)).await,
        Err(StoreError::NotFound) => error_page(
            lang,
            None,
            StatusCode::NOT_FOUND,
            lang.t("password.link_dead"),
        ),
        Err(e) => {
            tracing::error!(error = %e, "reset failed");
            error_page(
                lang,
                None,
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t("error.title"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_are_checked() {
        assert_eq!(
            check_new_password("short", "short"),
            Err("password.too_short")
        );
        assert_eq!(
            check_new_password("long-enough-1", "long-enough-2"),
            Err("password.mismatch")
        );
        assert_eq!(check_new_password("long-enough-1", "long-enough-1"), Ok(()));
    }
}
