//! Authentication and authorization end to end with the real binaries, once per engine: password
//! login sets an HttpOnly SameSite=Strict session cookie; logout ends the session on the server
//! (the old cookie value is refused, by the API and the console); a session past its expiry is
//! refused; Bearer tokens work, wrong ones are 401, and a token revoked with `m110 token revoke`
//! is 401; and every declared route × every role is either allowed or a 403 exactly as the route
//! table says (401 without credentials), never a 5xx.

use m110_e2e::{App, Engine, PASSWORD, STAFF, csrf_of, engine_name, now_ms, per_engine};
use m110_runtime::http::auth::{Access, ROUTES, SESSION_COOKIE};
use m110_runtime::model::Role;
use serde_json::{Value, json};

/// A client that neither keeps cookies nor follows redirects: each request carries exactly the
/// credentials the test gives it, and a redirect is seen as such.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The session cookie's value in a response's `Set-Cookie` headers.
fn session_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{SESSION_COOKIE}=")))
        .and_then(|v| v.split(';').next())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("no {SESSION_COOKIE} cookie set: {:?}", resp.headers()))
        .to_string()
}

/// `POST /api/v1/login` as NAME; returns the session cookie's value and the body.
async fn api_login(app: &App, name: &str, password: &str) -> (String, Value) {
    let resp = bare_client()
        .post(app.url("/api/v1/login"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}: login {name}",
        engine_name(app.engine())
    );
    let cookie = session_cookie(&resp);
    (cookie, resp.json().await.unwrap())
}

/// `GET path` with only this session cookie: (status, Location header).
async fn get_with_session(app: &App, cookie: &str, path: &str) -> (u16, String) {
    let resp = bare_client()
        .get(app.url(path))
        .header("cookie", format!("{SESSION_COOKIE}={cookie}"))
        .send()
        .await
        .unwrap();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (resp.status().as_u16(), location)
}

/// Asserts the session behind `cookie` is refused everywhere: the API answers 401
/// `unauthenticated` and the console redirects to its login page.
async fn assert_session_refused(app: &App, cookie: &str, why: &str) {
    let engine = engine_name(app.engine());
    let resp = bare_client()
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("{SESSION_COOKIE}={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "{engine}: /api/v1/me {why}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated", "{engine}: {why}");
    for page in ["/console/queue", "/console/dashboard"] {
        let (status, location) = get_with_session(app, cookie, page).await;
        assert!(
            (300..400).contains(&status) && location.starts_with("/console/login"),
            "{engine}: {page} {why}: {status} → {location:?}"
        );
    }
}

/// Asserts the session behind `cookie` works for the API and the console.
async fn assert_session_works(app: &App, cookie: &str, name: &str) {
    let engine = engine_name(app.engine());
    let resp = bare_client()
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("{SESSION_COOKIE}={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{engine}: /api/v1/me as {name}");
    let me: Value = resp.json().await.unwrap();
    assert_eq!(me["name"], name, "{engine}");
    let (status, location) = get_with_session(app, cookie, "/console/queue").await;
    assert_eq!(
        status, 200,
        "{engine}: console queue as {name} → {location:?}"
    );
}

per_engine!(login_session_cookie_and_tokens);
async fn login_session_cookie_and_tokens(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let jar = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();

    let bad = jar
        .post(app.url("/api/v1/login"))
        .json(&json!({"name": "admin", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    // The printed password is a one-time one: refused until the admin sets their own.
    let once = jar
        .post(app.url("/api/v1/login"))
        .json(&json!({"name": "admin", "password": app.install.admin_password()}))
        .send()
        .await
        .unwrap();
    assert_eq!(once.status(), 403, "{engine:?}");
    let set = jar
        .post(app.url("/api/v1/password"))
        .json(
            &json!({"name": "admin", "current": app.install.admin_password(),
                      "new": "Admin-Own-Pass-2026"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200, "{engine:?}");
    let resp = jar
        .post(app.url("/api/v1/login"))
        .json(&json!({"name": "admin", "password": "Admin-Own-Pass-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{engine:?}");
    let cookie = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("m110_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    let me: Value = resp.json().await.unwrap();
    assert_eq!(me["role"], "admin");
    assert!(me["csrf_token"].is_string());

    let me: Value = jar
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "admin");
    let resp = jar.post(app.url("/api/v1/logout")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let after = jar.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(after.status(), 401, "the session ended with logout");
    let body: Value = after.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");

    // Password login for a role user, unknown fields refused.
    let (s, v) = app
        .call(
            "",
            "POST",
            "/api/v1/login",
            Some(&json!({"name": "op", "password": PASSWORD})),
        )
        .await;
    assert_eq!((s, v["role"].as_str()), (200, Some("operator")));
    let (s, v) = app
        .call(
            "",
            "POST",
            "/api/v1/login",
            Some(&json!({"name": "op", "password": PASSWORD, "remember": true})),
        )
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("remember")));

    // Bearer tokens.
    let (s, v) = app.call("op", "GET", "/api/v1/me", None).await;
    assert_eq!((s, v["name"].as_str()), (200, Some("op")));
    let wrong = app
        .http
        .get(app.url("/api/v1/me"))
        .bearer_auth("m110_0000000000000000000000000000000000000000000000000000000000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("www-authenticate").is_some());
}

per_engine!(logout_invalidates_the_session_cookie);
/// Logging out deletes the session on the server: the cookie's old value, sent again by a
/// client that kept it, is refused by the API and by the console (a jar that dropped the
/// cookie would pass even if the server kept the session).
async fn logout_invalidates_the_session_cookie(engine: Engine) {
    let app = App::start(engine, &[]).await;

    // The JSON logout.
    let (api_cookie, _) = api_login(&app, "op", PASSWORD).await;
    let (other, _) = api_login(&app, "sup", PASSWORD).await;
    assert_session_works(&app, &api_cookie, "op").await;
    let resp = bare_client()
        .post(app.url("/api/v1/logout"))
        .header("cookie", format!("{SESSION_COOKIE}={api_cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{engine:?}");
    assert_session_refused(&app, &api_cookie, "after the JSON logout").await;
    assert_session_works(&app, &other, "sup").await;

    // The console's logout form.
    let web = bare_client();
    let login_page = web.get(app.url("/console/login")).send().await.unwrap();
    let login_csrf_cookie = login_page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("m110_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("the login form sets its CSRF cookie")
        .to_string();
    let html = login_page.text().await.unwrap();
    let resp = web
        .post(app.url("/console/login"))
        .header("cookie", format!("m110_csrf={login_csrf_cookie}"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("username", "op"),
            ("password", PASSWORD),
            ("next", "/console"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_redirection(),
        "{engine:?}: console login {}",
        resp.status()
    );
    let console_cookie = session_cookie(&resp);
    assert_session_works(&app, &console_cookie, "op").await;
    let page = web
        .get(app.url("/console/queue"))
        .header("cookie", format!("{SESSION_COOKIE}={console_cookie}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let resp = web
        .post(app.url("/console/logout"))
        .header("cookie", format!("{SESSION_COOKIE}={console_cookie}"))
        .form(&[("csrf", csrf_of(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_redirection(),
        "{engine:?}: console logout {}",
        resp.status()
    );
    let cleared = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with(&format!("{SESSION_COOKIE}=;")) && v.contains("Max-Age=0"));
    assert!(cleared, "{engine:?}: the logout clears the cookie too");
    assert_session_refused(&app, &console_cookie, "after the console logout").await;
    assert_session_works(&app, &other, "sup").await;
}

per_engine!(expired_session_is_refused);
/// A session whose `expires_at` has passed (set in the install's database, as twelve hours
/// would) is refused: 401 from the API, a redirect to the login page from the console, and
/// a console form posted with its valid CSRF token changes nothing.
async fn expired_session_is_refused(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let (expiring, body) = api_login(&app, "op", PASSWORD).await;
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    let (other, _) = api_login(&app, "sup", PASSWORD).await;
    assert_session_works(&app, &expiring, "op").await;

    let store = app.install.store().await;
    let moved = sqlx::query("UPDATE sessions SET expires_at = $1 WHERE id_hash = $2")
        .bind(now_ms() - 1_000)
        .bind(m110_runtime::policy::credentials::sha256_hex(&expiring))
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(moved.rows_affected(), 1, "{engine:?}: the session's row");
    let cases = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cases")
            .fetch_one(store.pool())
            .await
            .unwrap();
        n
    };
    let before = cases().await;

    assert_session_refused(&app, &expiring, "after expiry").await;
    let resp = bare_client()
        .post(app.url("/console/cases"))
        .header("cookie", format!("{SESSION_COOKIE}={expiring}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("channel", "phone"),
            ("content", "楼道灯不亮"),
        ])
        .send()
        .await
        .unwrap();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        resp.status().is_redirection() && location.starts_with("/console/login"),
        "{engine:?}: a form from an expired session: {} → {location:?}",
        resp.status()
    );
    assert_eq!(
        cases().await,
        before,
        "{engine:?}: an expired session created a case"
    );
    // Only that session expired.
    assert_session_works(&app, &other, "sup").await;
    store.close().await;
}

per_engine!(revoked_token_is_refused);
/// `m110 token add`, the token works (200); `m110 token revoke` (another process), then it is
/// 401 at once: on a server that never saw it and on the server that had just verified it.
async fn revoked_token_is_refused(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let (id, token) = app.install.token_with_id("crm-revoked", "dispatcher");
    let me = |base: String| {
        let token = token.clone();
        async move {
            let resp = bare_client()
                .get(format!("{base}/api/v1/me"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let challenge = resp.headers().contains_key("www-authenticate");
            (
                status,
                challenge,
                resp.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, _, body) = me(app.server.base.clone()).await;
    assert_eq!(
        (status, body["name"].as_str()),
        (200, Some("crm-revoked")),
        "{engine:?}"
    );

    let out = app
        .install
        .m110(&["token", "revoke", "--id", &id.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", m110_e2e::output_text(&out));
    let again = app
        .install
        .m110(&["token", "revoke", "--id", &id.to_string()])
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(1),
        "revoking twice: {}",
        m110_e2e::output_text(&again)
    );

    let fresh = app.install.serve(&[]);
    let (status, challenge, body) = me(fresh.base.clone()).await;
    assert_eq!(
        status, 401,
        "{engine:?}: a revoked token on a fresh server: {body}"
    );
    assert!(challenge, "{engine:?}: 401 carries WWW-Authenticate");
    assert_eq!(body["error"]["code"], "unauthenticated", "{engine:?}");
    // Open311 takes the same token as its api_key.
    let resp = bare_client()
        .post(fresh.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", token.as_str()),
            ("service_code", "roads"),
            ("address_string", "水北街道"),
            ("description", "路面塌陷"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "{engine:?}: a revoked api_key");

    // The server that had just verified (and cached) the token refuses it on the very next
    // request: the revocation moved the credentials epoch it checks.
    let (status, _, _) = me(app.server.base.clone()).await;
    assert_eq!(
        status, 401,
        "{engine:?}: the server that cached the token refuses it at once"
    );
    let (status, _, _) = me(app.server.base.clone()).await;
    assert_eq!(status, 401, "{engine:?}: and stays refused");
}

/// A concrete path for a route pattern (ids that do not exist: nothing is read or changed).
fn concrete(path: &str) -> String {
    let id = if path.starts_with("/api/v1/cases") {
        "MS350781-20000101-000001"
    } else {
        "999999"
    };
    path.replace("{id}", id)
        .replace("{system}", "government_services")
}

per_engine!(every_route_times_every_role);
async fn every_route_times_every_role(engine: Engine) {
    let app = App::start(engine, &[]).await;
    // Every role: the provisioned admin (through an API token) and the staff.
    let callers: Vec<(&str, Role)> = std::iter::once(("admin", Role::Admin))
        .chain(
            STAFF
                .iter()
                .map(|(name, role, _, _)| (*name, Role::parse(role).unwrap())),
        )
        .collect();
    for role in Role::ALL {
        assert!(
            callers.iter().any(|(_, r)| *r == role),
            "no caller with role {role:?}"
        );
    }
    let mut checked = 0;
    for route in ROUTES.iter() {
        let path = concrete(route.path);
        // A body that fails validation if the request gets past authorization, so nothing is
        // created or changed: allowed roles see 4xx from the handler, never 401/403.
        let body = matches!(route.method, "POST" | "PUT").then(|| json!({}));
        let (s, v) = app.call("", route.method, &path, body.as_ref()).await;
        assert!(
            s < 500,
            "{engine:?}: {} {} without credentials: {s} {v}",
            route.method,
            route.path
        );
        match route.access {
            Access::Public => assert_ne!(s, 401, "{} {} is public", route.method, route.path),
            _ => assert_eq!(
                s, 401,
                "{engine:?}: {} {} without credentials",
                route.method, route.path
            ),
        }
        for &(name, role) in &callers {
            let (s, v) = app.call(name, route.method, &path, body.as_ref()).await;
            assert!(
                s < 500,
                "{engine:?}: {} {} as {role:?}: {s} {v}",
                route.method,
                route.path
            );
            if route.access.allows(role) {
                let unrouted = s == 404 && v["error"]["message"] == "route not found";
                assert!(
                    s != 401 && s != 403 && s != 405 && !unrouted,
                    "{engine:?}: {} {} as {role:?} should pass authorization, got {s} {v}",
                    route.method,
                    route.path
                );
            } else {
                assert_eq!(
                    s, 403,
                    "{engine:?}: {} {} as {role:?}: {v}",
                    route.method, route.path
                );
                assert_eq!(v["error"]["code"], "forbidden");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * callers.len());
    // The OpenAPI document lists exactly the declared /api/v1 routes.
    let (_, doc) = app.call("", "GET", "/api/openapi.json", None).await;
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, ROUTES.len());
}
