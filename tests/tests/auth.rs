//! Authentication and authorization end to end with the real binaries, on SQLite and
//! PostgreSQL: password login sets an HttpOnly SameSite=Strict session cookie, logout ends it,
//! Bearer tokens work and wrong ones are 401, and every declared route × every role is either
//! allowed or a 403 exactly as the route table says (401 without credentials).

mod server_support;

use m110_e2e::engines;
use m110_runtime::http::auth::{Access, ROUTES};
use m110_runtime::model::Role;
use serde_json::{Value, json};
use server_support::{Install, PASSWORD, USERS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_session_cookie_and_tokens() {
    for engine in engines() {
        let app = Install::start(engine, &[]).await;
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
            .json(&json!({"name": "admin", "password": app.admin_password}))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_times_every_role() {
    for engine in engines() {
        let app = Install::start(engine, &[]).await;
        let mut checked = 0;
        for route in ROUTES {
            let path = concrete(route.path);
            // A body that fails validation if the request gets past authorization, so nothing is
            // created or changed: allowed roles see 4xx from the handler, never 401/403.
            let body = matches!(route.method, "POST" | "PUT").then(|| json!({}));
            let (s, _) = app.call("", route.method, &path, body.as_ref()).await;
            match route.access {
                Access::Public => assert_ne!(s, 401, "{} {} is public", route.method, route.path),
                _ => assert_eq!(
                    s, 401,
                    "{} {} without credentials",
                    route.method, route.path
                ),
            }
            for (name, role, _, _) in USERS {
                let role = Role::parse(role).unwrap();
                let (s, v) = app.call(name, route.method, &path, body.as_ref()).await;
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
        assert_eq!(checked, ROUTES.len() * USERS.len());
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
}
