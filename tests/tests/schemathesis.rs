//! The OpenAPI document is the contract (issue 14, item 4): Schemathesis generates requests from
//! `/api/openapi.json` against a live `m110d` on each engine and checks every answer against the
//! document — no 5xx, every status documented, the documented content type, the documented
//! schema. The run is bounded (a fixed number of examples per operation) and deterministic (a
//! fixed seed, derandomized), so a failure replays.
//!
//! Schemathesis is a Python tool, installed from PyPI by `.ci/run` at the version pinned there.
//! When `schemathesis` is not on `PATH` the test fails if `CI` is set (CI must run it) and is
//! skipped with a notice otherwise.

use std::process::{Command, Stdio};
use std::time::Instant;

use m110_e2e::{Engine, Install, Server, engine_name, output_text, per_engine};
use serde_json::Value;

/// Generated examples per operation: 59 operations, 4,910 requests an engine — on a 2-core
/// machine 57 s (SQLite) and 70 s (PostgreSQL) one at a time, 82 s and 92 s side by side.
const MAX_EXAMPLES: &str = "100";
/// The seed of every run (with `--hypothesis-derandomize`, the same requests every time).
const SEED: &str = "110";
/// The checks that matter for the contract (`all` also runs stateful heuristics such as
/// `use_after_free` that need links the document does not declare).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

/// `schemathesis --version`, or `None` when it is not installed.
fn schemathesis_version() -> Option<String> {
    let out = Command::new("schemathesis")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

per_engine!(the_service_keeps_its_openapi_contract);
async fn the_service_keeps_its_openapi_contract(engine: Engine) {
    let Some(version) = schemathesis_version() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "schemathesis is not on PATH but CI is set: .ci/run installs it (pip install schemathesis==…)"
        );
        eprintln!(
            "note: schemathesis not on PATH, contract test skipped \
             (python3 -m pip install 'schemathesis==3.39.16' 'hypothesis==6.125.3')"
        );
        return;
    };
    let install = Install::provision(engine, "shaowu").await;
    let token = install.token("admin", "admin");
    // The write bound raised from 2 s to 10 s: thousands of writes from Schemathesis beside the
    // other engine's run on a shared 2-core machine may hold SQLite's writer past 2 s, and the
    // 503 `database_busy` that then answers (correct, documented) is a 5xx the
    // not_a_server_error check cannot tell from a bug.
    let server = Server::spawn({
        let mut cmd = Command::new(m110_e2e::bin("m110d"));
        cmd.arg("serve")
            .arg("--install")
            .arg(install.path())
            .args(["--listen", "127.0.0.1:0"])
            .env("M110_WRITE_TIMEOUT_MS", "10000");
        cmd
    });
    let base = server.base.clone();
    let scratch = install.scratch().to_path_buf();

    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("schemathesis")
            // No telemetry, no colours, no cache of examples between runs.
            .env("SCHEMATHESIS_TELEMETRY", "false")
            .env("NO_COLOR", "1")
            .current_dir(&scratch)
            .args(["run", &format!("{base}/api/openapi.json")])
            .args(["--base-url", &base])
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .args(["--checks", CHECKS])
            .args(["--hypothesis-max-examples", MAX_EXAMPLES])
            .args(["--hypothesis-seed", SEED])
            // Derandomized: the same examples every run (it also keeps no example database).
            .arg("--hypothesis-derandomize")
            .args(["--hypothesis-phases", "explicit,generate"])
            // The session cookie is a documented alternative to the token: generating it would
            // send random (often unencodable) cookie bytes that the HTTP layer refuses before
            // the service sees the request.
            .args(["--generation-with-security-parameters", "false"])
            .args(["--hypothesis-suppress-health-check", "all"])
            .args(["--workers", "1"])
            .args(["--request-timeout", "20000"])
            .arg("--no-color")
            .stdin(Stdio::null())
            .output()
            .expect("run schemathesis")
    })
    .await
    .expect("schemathesis thread");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The summary line(s), for the CI log: operations, examples, time.
    let summary: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            l.contains(" passed")
                || l.contains(" failed")
                || l.contains(" errored")
                || l.starts_with("Schemathesis")
        })
        .collect();
    eprintln!(
        "{}: {version}, {MAX_EXAMPLES} examples/operation, seed {SEED}, {:.0?}\n{}",
        engine_name(engine),
        elapsed,
        summary.join("\n")
    );
    assert!(
        out.status.success(),
        "{}: schemathesis found contract failures:\n{}",
        engine_name(engine),
        output_text(&out)
    );
    drop(server);
}

/// A request and what it must answer: method, path, content type, body, status, error field.
type Expectation = (
    &'static str,
    String,
    Option<&'static str>,
    String,
    u16,
    Option<&'static str>,
);

/// A request with the admin token; the status and the body (JSON when it parses).
async fn probe(
    http: &reqwest::Client,
    token: &str,
    method: &str,
    url: &str,
    content_type: Option<&str>,
    body: &str,
) -> (u16, String, Value) {
    let mut rb = http
        .request(method.parse().unwrap(), url)
        .bearer_auth(token);
    if let Some(ct) = content_type {
        rb = rb.header("content-type", ct).body(body.to_string());
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = resp.text().await.unwrap();
    (
        status,
        ct,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

per_engine!(the_failure_classes_schemathesis_found_stay_fixed);
/// The classes a 43,000-request Schemathesis run found (issue 14), each answered as the document
/// says — checked directly, so they hold even where Schemathesis is not installed.
async fn the_failure_classes_schemathesis_found_stay_fixed(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let token = install.token("admin", "admin");
    let server = install.serve(&[]);
    let http = reqwest::Client::new();
    let url = |p: &str| server.url(p);
    let json = Some("application/json");

    // A case to act on.
    let (s, _, case) = probe(
        &http,
        &token,
        "POST",
        &url("/api/v1/cases"),
        json,
        r#"{"channel":"phone","content":"路灯不亮"}"#,
    )
    .await;
    assert_eq!(s, 201, "{case}");
    let id = case["id"].as_str().unwrap().to_string();

    // (method, path, content type, body, status, field) for each request; every error is the
    // JSON error document.
    let cases: Vec<Expectation> = vec![
        // A field the action does not read is refused, not ignored.
        (
            "POST",
            format!("/api/v1/cases/{id}/actions"),
            json,
            r#"{"action":"reply","note":"修好了","hours":5}"#.into(),
            422,
            Some("hours"),
        ),
        (
            "POST",
            format!("/api/v1/cases/{id}/actions"),
            json,
            r#"{"action":"sign","satisfaction":"satisfied"}"#.into(),
            422,
            Some("satisfaction"),
        ),
        // Not UTF-8 in a path segment: a JSON 400 naming it, not text/plain.
        (
            "GET",
            "/api/v1/cases/%FF".into(),
            None,
            String::new(),
            400,
            // The shared input guard names the path; the extractor, when reached, the parameter.
            None,
        ),
        (
            "GET",
            "/api/v1/alerts/abc".into(),
            None,
            String::new(),
            400,
            Some("id"),
        ),
        (
            "GET",
            "/api/v1/cases/a%00b/attachments".into(),
            None,
            String::new(),
            400,
            None,
        ),
        // A body declared in another charset is not read as UTF-8.
        (
            "POST",
            "/api/v1/triage".into(),
            Some("application/json; charset=latin1"),
            r#"{"content":"x"}"#.into(),
            415,
            None,
        ),
        (
            "POST",
            "/api/v1/triage".into(),
            Some("application/json; charset=\"UTF-8\""),
            r#"{"content":"路灯"}"#.into(),
            200,
            None,
        ),
        (
            "POST",
            format!("/api/v1/cases/{id}/similar/{id}/dismiss"),
            Some("text/plain"),
            r#"{"note":"x"}"#.into(),
            415,
            None,
        ),
        // Paging is bounded on both engines: 422 naming the parameter, never a 500.
        (
            "GET",
            "/api/v1/cases?page=9223372036854775807".into(),
            None,
            String::new(),
            422,
            Some("page"),
        ),
        (
            "GET",
            "/api/v1/cases?page_size=9223372036854775807".into(),
            None,
            String::new(),
            422,
            Some("page_size"),
        ),
        // A filter value that can match nothing is refused, not answered with an empty list.
        (
            "GET",
            "/api/v1/cases?channel=fax".into(),
            None,
            String::new(),
            422,
            Some("channel"),
        ),
        (
            "GET",
            "/api/v1/alerts?limit=-1".into(),
            None,
            String::new(),
            422,
            Some("limit"),
        ),
        (
            "GET",
            "/api/v1/alerts?limit=9223372036854775807".into(),
            None,
            String::new(),
            422,
            Some("limit"),
        ),
        (
            "GET",
            "/api/v1/knowledge?limit=0".into(),
            None,
            String::new(),
            422,
            Some("limit"),
        ),
        (
            "GET",
            "/api/v1/knowledge/suggest?text=x&limit=99".into(),
            None,
            String::new(),
            422,
            Some("limit"),
        ),
        (
            "GET",
            "/api/v1/audit?limit=100000".into(),
            None,
            String::new(),
            422,
            Some("limit"),
        ),
    ];
    for (method, path, ct, body, want, field) in cases {
        let (s, got_ct, v) = probe(&http, &token, method, &url(&path), ct, &body).await;
        assert_eq!(s, want, "{method} {path}: {v}");
        if want >= 400 {
            assert!(
                got_ct.starts_with("application/json"),
                "{method} {path}: {got_ct}"
            );
            assert!(v["error"]["code"].is_string(), "{method} {path}: {v}");
            if let Some(f) = field {
                assert_eq!(v["error"]["field"], f, "{method} {path}: {v}");
            }
        }
    }

    // An Open311 form over the body limit (64 KiB by default) is 413, as on the JSON API (not a
    // 400). Just over it: a body far larger is refused before it is all sent (a broken pipe).
    let big = format!("service_code=road&description={}", "a".repeat(100_000));
    let (s, _, v) = probe(
        &http,
        &token,
        "POST",
        &url("/open311/v2/requests.json"),
        Some("application/x-www-form-urlencoded"),
        &big,
    )
    .await;
    assert_eq!(s, 413, "{v}");

    // The document says so too: every status above is documented where it is answered.
    let (_, _, doc) = probe(&http, &token, "GET", &url("/api/openapi.json"), None, "").await;
    let op = &doc["paths"]["/api/v1/cases/{id}/actions"]["post"]["responses"];
    for code in [
        "200", "400", "401", "403", "404", "409", "413", "415", "422", "503",
    ] {
        assert!(op[code].is_object(), "actions: {code} undocumented: {op}");
    }
    let list = &doc["paths"]["/api/v1/cases"]["get"];
    let page = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "page")
        .unwrap();
    assert!(page["schema"]["maximum"].is_number(), "{page}");
    assert!(list["responses"]["422"].is_object());
    drop(server);
}
