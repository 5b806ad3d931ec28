//! Triage as a call-taker meets it, in Chromium on both engines (Shaowu install: police
//! dispatch without integration, no fire platform):
//!
//! - typing a fire call raises the red emergency box with line 119 and its evidence; confirming
//!   without the incident number of the phone transfer (警情编号) is refused with a message and
//!   nothing is created; with it, the case is handed to 119;
//! - typing a violent call raises 110; "not an emergency" with a reason takes it as a civic
//!   request, and the override is on the audit log;
//! - a quiet request shows category suggestions with probabilities, or 请人工选择.
//!
//! The screenshot of the emergency box is kept in `docs/screenshots/call-emergency.png` by
//! `regenerate_triage_screenshot` (ignored; run on purpose).

use std::time::Duration;

use m110_e2e::browser::Browser;
use m110_e2e::{Engine, Install, per_engine, workspace_root};

const PASSWORD: &str = "Triage-Test-2026!";

async fn install(engine: Engine) -> Install {
    let install = Install::provision(engine, "shaowu").await;
    install.user("op1", "operator", &[], PASSWORD);
    install
}

async fn login(b: &Browser, base: &str) {
    b.clear_cookies().await;
    b.goto(&format!("{base}/console/login")).await;
    b.fill("#username", "op1").await;
    b.fill("#password", PASSWORD).await;
    b.click("#login-submit").await;
    b.find("nav.mainnav").await;
    b.goto(&format!("{base}/console/call")).await;
    b.find("#content").await;
}

/// Waits until the emergency box is shown with `line` in its label.
async fn wait_emergency(b: &Browser, line: &str) {
    for _ in 0..100 {
        let shown = b
            .exec(
                "var e = document.getElementById('emergency-box'); return e && !e.hidden;",
                vec![],
            )
            .await;
        if shown == serde_json::Value::Bool(true) && b.text("#emergency-label").await.contains(line)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no emergency box for {line}; page:\n{}",
        b.text("main").await
    );
}

async fn cases(install: &Install) -> i64 {
    let store = install.store().await;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cases")
        .fetch_one(store.pool())
        .await
        .unwrap();
    n
}

async fn call_taker_decides_on_emergencies(engine: Engine) {
    let install = install(engine).await;
    let server = install.serve(&[]);
    let base = server.base.clone();
    let b = Browser::start().await;
    login(&b, &base).await;

    // A fire: the box, the line, the evidence, the phone-transfer field.
    b.fill("#content", "三楼厨房着火了，烟很大，快来人").await;
    wait_emergency(&b, "119").await;
    assert!(
        b.text("#emergency-evidence").await.contains("着火"),
        "{engine:?}"
    );
    let phone_hidden = b
        .exec(
            "return document.getElementById('emergency-phone').hidden;",
            vec![],
        )
        .await;
    assert_eq!(phone_hidden, serde_json::Value::Bool(false), "{engine:?}");
    b.screenshot(&format!("{}/call-emergency", engine.as_str()))
        .await;

    // Confirming without the incident number is refused; nothing is created.
    let before = cases(&install).await;
    b.click("#emergency-confirm").await;
    b.find("#form-error").await;
    assert!(
        b.text("#form-error").await.contains("警情编号"),
        "{engine:?}"
    );
    assert_eq!(cases(&install).await, before, "{engine:?}");

    // With the number of the phone transfer, the case is handed to 119.
    b.fill("#incident_number", "J119-20261203-0007").await;
    b.click("#emergency-confirm").await;
    b.find("#case-id").await;
    assert!(
        b.text("#case-emergency").await.contains("119"),
        "{engine:?}"
    );
    assert_eq!(b.text("#case-status").await, "已转警");

    // A violent call the call-taker knows is not one: override with a reason, audited.
    b.goto(&format!("{base}/console/call")).await;
    b.fill("#content", "楼下有人拿着刀追着打人，说是在拍短视频")
        .await;
    wait_emergency(&b, "110").await;
    b.fill("#emergency_reason", "来电人说明是剧组拍摄，现场有民警维持")
        .await;
    b.click("#emergency-override").await;
    b.find("#case-id").await;
    let case_id = b.text("#case-id").await;
    assert_ne!(b.text("#case-status").await, "已转警", "{engine:?}");
    assert!(!b.exists("#case-emergency").await);
    let store = install.store().await;
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'triage.emergency_override' AND target = $1",
    )
    .bind(format!("case:{case_id}"))
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(n, 1, "{engine:?}: the override is audited");

    // A quiet request: suggestions with probabilities, no emergency box.
    b.goto(&format!("{base}/console/call")).await;
    b.fill("#content", "我家门口的路灯坏了好几天，晚上黑漆漆的")
        .await;
    b.wait_for("#suggestions .suggestion", Duration::from_secs(10))
        .await;
    assert!(b.text("#suggestions").await.contains('%'), "{engine:?}");
    assert_eq!(
        b.exec(
            "return document.getElementById('emergency-box').hidden;",
            vec![]
        )
        .await,
        serde_json::Value::Bool(true)
    );
}

/// `m110 triage retrain` on a live install: the running `m110d` puts the new model in force (its
/// reload job), and the command reports the cross-validated figures.
async fn retrain_command_on_a_live_install(engine: Engine) {
    let install = install(engine).await;
    let server = install.serve(&[]);
    let out = install
        .m110(&["triage", "retrain", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", m110_e2e::output_text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["id"].as_i64().is_some(), "{v}");
    assert!(v["after"]["examples"].as_i64().unwrap() >= 600, "{v}");
    assert!(v["after"]["cv_accuracy"].as_f64().unwrap() > 0.5, "{v}");
    assert_eq!(v["after"]["cases"], 0);
    // The server keeps serving triage with it (the reload job runs every minute; the model is
    // equivalent to the bank's while the install has no closed cases).
    let c = reqwest::Client::new();
    let r = c
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // A wrong install is a clear error, not a panic.
    let bad = m110_e2e::run(
        "m110",
        &["triage", "retrain", "--install", "/nonexistent/install"],
    );
    assert!(!bad.status.success());
    assert!(
        m110_e2e::output_text(&bad).contains("nonexistent"),
        "{}",
        m110_e2e::output_text(&bad)
    );
}

per_engine!(call_taker_decides_on_emergencies);
per_engine!(retrain_command_on_a_live_install);

/// Rewrites `docs/screenshots/call-emergency.png`:
/// `cargo test -p m110-e2e --test triage -- --ignored regenerate_triage_screenshot`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "rewrites docs/screenshots; run on purpose"]
async fn regenerate_triage_screenshot() {
    let install = install(Engine::Sqlite).await;
    let server = install.serve(&[]);
    let b = Browser::start().await;
    b.set_window(1280, 900).await;
    login(&b, &server.base).await;
    b.fill("#phone", "13905990001").await;
    b.fill(
        "#content",
        "喂，快来人！我们东关村三组有个房子着火了，烟很大，里面好像还有老人",
    )
    .await;
    wait_emergency(&b, "119").await;
    let shot = b.screenshot("call-emergency").await;
    std::fs::copy(
        &shot,
        workspace_root().join("docs/screenshots/call-emergency.png"),
    )
    .unwrap();
}
