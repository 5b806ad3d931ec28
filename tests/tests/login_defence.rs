//! Login defence end to end with the real binaries, once per engine: past five wrong passwords
//! an account waits (429 + Retry-After) on the JSON API and the console form alike, even with
//! the right password; an unknown name is answered and locked exactly like a known one; every
//! failure is audited without the name in the clear; `m110 user unlock` (another process) lifts
//! the wait; the session cookie is `Secure` when configured; and a wrong method on a declared
//! route is a 405 before any authentication. The lock's expiry runs on a virtual clock in the
//! unit tests of `engine::login` and `policy::throttle`, not here (no sleeps).

use m110_e2e::{App, Engine, Install, PASSWORD, csrf_of, engine_name, per_engine};
use serde_json::{Value, json};

fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `Retry-After` header in seconds, if any.
fn retry_after(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// `POST /api/v1/login`: (status, Retry-After, body).
async fn api_login(app: &App, name: &str, password: &str) -> (u16, Option<u64>, Value) {
    let resp = bare_client()
        .post(app.url("/api/v1/login"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap();
    let (status, retry) = (resp.status().as_u16(), retry_after(&resp));
    (status, retry, resp.json().await.unwrap_or(Value::Null))
}

/// The console's sign-in form, as a browser posts it: (status, Retry-After, page).
async fn console_login(app: &App, name: &str, password: &str) -> (u16, Option<u64>, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client
        .get(app.url("/console/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let resp = client
        .post(app.url("/console/login"))
        .form(&[
            ("csrf", csrf_of(&form).as_str()),
            ("username", name),
            ("password", password),
            ("next", "/console"),
        ])
        .send()
        .await
        .unwrap();
    let (status, retry) = (resp.status().as_u16(), retry_after(&resp));
    (status, retry, resp.text().await.unwrap())
}

per_engine!(wrong_passwords_lock_the_account_until_unlocked);
async fn wrong_passwords_lock_the_account_until_unlocked(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let e = engine_name(engine);
    app.install.user("guard1", "operator", &[], PASSWORD);

    for i in 0..5 {
        let (s, _, body) = api_login(&app, "guard1", "not-the-password").await;
        assert_eq!(s, 401, "{e}: failure {i}: {body}");
    }
    // Locked: the right password is refused too, unchecked, with a wait.
    let (s, retry, body) = api_login(&app, "guard1", PASSWORD).await;
    assert_eq!(s, 429, "{e}: {body}");
    assert_eq!(body["error"]["code"], "login_throttled", "{e}");
    assert!(
        retry.is_some_and(|r| (1..=30).contains(&r)),
        "{e}: Retry-After {retry:?}"
    );
    // The console form shares the count.
    let (s, retry, page) = console_login(&app, "guard1", PASSWORD).await;
    assert_eq!(s, 429, "{e}: the console form while locked");
    assert!(retry.is_some(), "{e}: console 429 carries Retry-After");
    assert!(page.contains("密码错误次数过多"), "{e}: {page}");

    // An unknown name: the same answers, the same lock (nothing tells who exists).
    for _ in 0..5 {
        let (s, _, _) = api_login(&app, "nobody-here", "whatever-1").await;
        assert_eq!(s, 401, "{e}");
    }
    let (s, _, _) = api_login(&app, "nobody-here", "whatever-1").await;
    assert_eq!(s, 429, "{e}: an unknown name is locked like a known one");

    // Audited: a row per failure, the known account as target, no name in the clear.
    let store = app.install.store().await;
    let rows: Vec<(Option<String>, String)> = sqlx::query_as(
        "SELECT target, detail FROM audit_log WHERE action = 'login.failed' ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 10, "{e}: {rows:?}");
    assert!(rows[0].0.as_deref().is_some_and(|t| t.starts_with("user:")));
    assert!(
        rows.iter()
            .all(|(_, d)| !d.contains("guard1") && !d.contains("nobody-here")),
        "{e}: names must not be stored: {rows:?}"
    );
    assert!(
        rows.iter().all(|(_, d)| d.contains("127.0.0.1")),
        "{e}: the address: {rows:?}"
    );
    store.close().await;

    // An administrator lifts the lock from the command line (another process).
    let out = app
        .install
        .m110(&["user", "unlock", "--name", "guard1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", m110_e2e::output_text(&out));
    let (s, _, body) = api_login(&app, "guard1", PASSWORD).await;
    assert_eq!(s, 200, "{e}: unlocked: {body}");
    // A success clears the count: four more failures do not lock.
    for _ in 0..4 {
        assert_eq!(api_login(&app, "guard1", "wrong-again").await.0, 401);
    }
    assert_eq!(api_login(&app, "guard1", PASSWORD).await.0, 200, "{e}");
}

per_engine!(wrong_method_is_405_before_authentication);
async fn wrong_method_is_405_before_authentication(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let e = engine_name(engine);
    for (method, path, allow) in [
        ("PUT", "/api/v1/me", "GET"),
        ("DELETE", "/api/v1/login", "POST"),
        ("TRACE", "/healthz", "GET"),
    ] {
        let resp = bare_client()
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{e}: {method} {path}");
        let allowed = resp
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            allowed.contains(allow),
            "{e}: {method} {path}: Allow {allowed:?}"
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed", "{e}: {body}");
    }
    let log = app.server.stdout();
    assert!(
        !log.contains("route missing from the access table"),
        "{e}: a wrong method is not an ERROR: {log}"
    );
}

per_engine!(secure_cookies_when_configured);
async fn secure_cookies_when_configured(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let yaml = install.path().join("m110d.yaml");
    let mut config = std::fs::read_to_string(&yaml).unwrap();
    config.push_str("\nsecure_cookies: true\nsession_idle_minutes: 30\n");
    std::fs::write(&yaml, config).unwrap();
    let app = App::with_install(install, &[]);
    let resp = bare_client()
        .post(app.url("/api/v1/login"))
        .json(&json!({"name": "op", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("m110_session="))
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{}: {cookie}",
        engine_name(engine)
    );
}
