//! One input guard for every front-end (issue 14): a NUL character — raw, `%00`, or `\u0000` in
//! a JSON string — or bytes that are not UTF-8, in a path, a query parameter, a form field or a
//! JSON body, are refused with a 400 in the front-end's own format and naming the field: the
//! JSON error under `/api`, Open311's error document (JSON or XML by the extension) under
//! `/open311`, an error page under `/console`. Nothing is stored: before the guard, PostgreSQL
//! answered 500/503 and SQLite stored the NUL.

use m110_e2e::{App, Engine, PASSWORD, login, per_engine};
use serde_json::{Value, json};

/// Status, content type and body of a response.
async fn parts(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

/// A JSON API refusal: 400, the JSON error naming `field` with `code`.
fn assert_api(what: &str, (status, ctype, body): (u16, String, String), field: &str, code: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert!(ctype.starts_with("application/json"), "{what}: {ctype}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"));
    assert_eq!(v["error"]["field"], field, "{what}: {v}");
    assert_eq!(v["error"]["code"], code, "{what}: {v}");
}

/// An Open311 refusal in JSON: 400 and the error list naming `field`.
fn assert_open311_json(what: &str, (status, ctype, body): (u16, String, String), field: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert!(ctype.starts_with("application/json"), "{what}: {ctype}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"));
    assert_eq!(v[0]["code"], 400, "{what}: {v}");
    assert!(
        v[0]["description"].as_str().unwrap().contains(field),
        "{what}: {v}"
    );
}

/// A console refusal: a 400 HTML page naming `field`.
fn assert_page(what: &str, (status, ctype, body): (u16, String, String), field: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert!(ctype.starts_with("text/html"), "{what}: {ctype}");
    assert!(body.contains(field), "{what}: {body}");
}

per_engine!(nul_and_invalid_utf8_are_refused_on_every_front_end);
async fn nul_and_invalid_utf8_are_refused_on_every_front_end(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let base = app.server.base.clone();
    let anon = reqwest::Client::new();
    let get = |url: String| {
        let c = anon.clone();
        async move { parts(c.get(url).send().await.unwrap()).await }
    };
    let form = |url: String, body: &'static [u8]| {
        let c = anon.clone();
        async move {
            parts(
                c.post(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let before = app
        .install
        .store()
        .await
        .case_counts_by_status()
        .await
        .unwrap();

    // Open311, no login needed: path, query, form body; JSON and XML.
    let o = |p: &str| format!("{base}/open311/v2/{p}");
    assert_open311_json("open311 path", get(o("requests/a%00b.json")).await, "path");
    assert_open311_json(
        "open311 query",
        get(o("requests.json?service_request_id=a%00b")).await,
        "service_request_id",
    );
    assert_open311_json(
        "open311 query utf-8",
        get(o("requests.json?status=%FF")).await,
        "status",
    );
    let (status, ctype, body) = get(o("requests.xml?service_request_id=a%00b")).await;
    assert_eq!(status, 400, "{body}");
    assert!(ctype.starts_with("text/xml"), "{ctype}");
    assert!(
        body.contains("<errors>") && body.contains("service_request_id"),
        "{body}"
    );
    assert_open311_json(
        "open311 form",
        form(
            o("requests.json"),
            b"service_code=0101&lat=27.34&long=117.49&description=a%00b",
        )
        .await,
        "description",
    );
    assert_open311_json(
        "open311 form utf-8",
        form(o("requests.json"), b"service_code=0101&description=%C3%28").await,
        "description",
    );

    // Console: the login form without a session, then pages as a signed-in user.
    assert_page(
        "console login name",
        form(
            format!("{base}/console/login"),
            b"csrf=x&name=op%00&password=x",
        )
        .await,
        "name",
    );
    let console = login(&base, "sup", PASSWORD).await;
    let page = |path: &str| {
        let c = console.clone();
        let url = format!("{base}{path}");
        async move { parts(c.get(url).send().await.unwrap()).await }
    };
    assert_page(
        "console case path",
        page("/console/cases/a%00b").await,
        "path",
    );
    assert_page("console queue q", page("/console/queue?q=a%00b").await, "q");
    assert_page(
        "console queue q utf-8",
        page("/console/queue?q=%FF%FE").await,
        "q",
    );
    assert_page(
        "console english",
        page("/console/queue?lang=en&q=a%00b").await,
        "NUL",
    );

    // The JSON API: query, path, JSON body (with the field's path), raw bytes.
    let token = &app.tokens["op"];
    let api = |method: reqwest::Method, path: &str| {
        anon.request(method, format!("{base}{path}"))
            .bearer_auth(token)
    };
    assert_api(
        "api query",
        parts(
            api(reqwest::Method::GET, "/api/v1/cases?q=a%00b")
                .send()
                .await
                .unwrap(),
        )
        .await,
        "q",
        "nul_character",
    );
    assert_api(
        "api path",
        parts(
            api(reqwest::Method::GET, "/api/v1/cases/%FF")
                .send()
                .await
                .unwrap(),
        )
        .await,
        "path",
        "invalid_utf8",
    );
    assert_api(
        "api json field",
        parts(
            api(reqwest::Method::POST, "/api/v1/cases")
                .json(&json!({"channel": "phone", "content": "路灯\u{0}不亮", "caller": {"name": "a"}}))
                .send()
                .await
                .unwrap(),
        )
        .await,
        "content",
        "nul_character",
    );
    assert_api(
        "api json nested",
        parts(
            api(reqwest::Method::POST, "/api/v1/cases")
                .json(&json!({"channel": "phone", "content": "路灯不亮", "caller": {"name": "a\u{0}"}}))
                .send()
                .await
                .unwrap(),
        )
        .await,
        "caller.name",
        "nul_character",
    );
    assert_api(
        "api json utf-8",
        parts(
            api(reqwest::Method::POST, "/api/v1/cases")
                .header("content-type", "application/json")
                .body(b"{\"channel\":\"phone\",\"content\":\"\xff\"}".to_vec())
                .send()
                .await
                .unwrap(),
        )
        .await,
        "body",
        "invalid_utf8",
    );
    // Unauthenticated: the guard runs before authorization.
    assert_api(
        "api before auth",
        get(format!("{base}/api/v1/cases?q=%00")).await,
        "q",
        "nul_character",
    );

    // Nothing above was stored; clean input still goes through.
    let after = app
        .install
        .store()
        .await
        .case_counts_by_status()
        .await
        .unwrap();
    assert_eq!(before, after);
    let (s, v) = app
        .call(
            "op",
            "POST",
            "/api/v1/cases",
            Some(&json!({"channel": "phone", "content": "路灯不亮"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (status, _, body) = get(o("requests.json?status=open")).await;
    assert_eq!(status, 200, "{body}");
}
