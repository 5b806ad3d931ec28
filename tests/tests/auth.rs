//! Authentication and authorization end to end with the real binaries, once per engine: password
//! login sets an HttpOnly SameSite=Strict session cookie, logout ends it, Bearer tokens work and
//! wrong ones are 401, and every declared route × every role is either allowed or a 403 exactly
//! as the route table says (401 without credentials), never a 5xx.

use m110_e2e::{App, Engine, PASSWORD, STAFF, per_engine};
use m110_runtime::auth::Role;
use m110_runtime::http::auth::{Access, ROUTES};
use serde_json::{Value, json};

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
    let resp = jar
        .post(app.url("/api/v1/login"))
        .json(&json!({"name": "admin", "password": app.install.admin_password()}))
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
    for route in ROUTES {
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
