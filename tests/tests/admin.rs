//! Administration and accounts in the console, in Chromium against the real `m110d`, once per
//! engine, on an install made by `m110 provision` from the Shaowu profile:
//!
//! - the admin creates an account (real name, phone, role, unit); its one-time password is shown
//!   once; the new user is held on the password page until they set their own, then lands on
//!   their home; the old password stops working; a reset link works once;
//! - the admin imports accounts from a CSV file: a bad row names its row and column and creates
//!   nothing; the fixed file creates them all with one-time passwords;
//! - the admin adds a contact to a unit and `m110 doctor` reports it as a live edit;
//! - a grid worker lands on their cells, an analyst on the dashboard.
//!
//! Without Chromium these tests FAIL (CI installs it).

use std::time::Duration;

use m110_e2e::browser::Browser;
use m110_e2e::install::profile;
use m110_e2e::{Engine, Install, output_text, per_engine};

const PASSWORD: &str = "Admin-Test-2026!";

async fn login(b: &Browser, base: &str, name: &str, password: &str) {
    b.clear_cookies().await;
    b.goto(&format!("{base}/console/login")).await;
    b.fill("#username", name).await;
    b.fill("#password", password).await;
    b.click("#login-submit").await;
    // Wait for where the login leads (signed in, or the refusal) before the next step, so a
    // late redirect does not override the test's next page.
    for _ in 0..200 {
        if b.exists("nav.mainnav").await || b.exists("#login-error").await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the login led nowhere: {}", b.current_url().await);
}

async fn shot(b: &Browser, engine: Engine, name: &str) {
    b.screenshot(&format!("{}/admin-{name}", engine.as_str()))
        .await;
}

/// Waits until the element `css` shows `needle` (the page after a submit may still be loading).
async fn expect_text(b: &Browser, css: &str, needle: &str) {
    for _ in 0..100 {
        if b.exists(css).await && b.text(css).await.contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{css} never showed {needle:?} at {}; page:\n{}",
        b.current_url().await,
        b.text("body").await
    );
}

/// Waits until the browser's URL ends with `suffix`.
async fn expect_path(b: &Browser, suffix: &str) {
    for _ in 0..100 {
        if b.current_url().await.ends_with(suffix) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "at {}, expected …{suffix}; page:\n{}",
        b.current_url().await,
        b.text("main").await
    );
}

per_engine!(an_account_is_created_and_its_user_sets_their_own_password);
async fn an_account_is_created_and_its_user_sets_their_own_password(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    install.user("admin1", "admin", &[], PASSWORD);
    let server = install.serve(&[]);
    let base = server.base.clone();
    let b = Browser::start().await;

    login(&b, &base, "admin1", PASSWORD).await;
    b.goto(&format!("{base}/console/admin/users/new")).await;
    b.fill("#u-name", "zhang.wei").await;
    b.fill("#u-real", "张伟").await;
    b.fill("#u-phone", "0599-6301234").await;
    b.select("#u-role", "unit_handler").await;
    b.select("#u-unit", "justice").await;
    b.click("#user-save").await;
    b.find("#secret").await;
    let one_time = b.text("#secret").await;
    assert!(one_time.len() >= 10, "{one_time}");
    shot(&b, engine, "01-one-time-password").await;
    b.goto(&format!("{base}/console/admin/users")).await;
    expect_text(&b, "#user-zhang\\.wei", "张伟").await;
    expect_text(&b, "#user-zhang\\.wei", "待改密码").await;

    // The new user is held on the password page, whatever they open.
    login(&b, &base, "zhang.wei", &one_time).await;
    expect_path(&b, "/console/password").await;
    b.find("#password-forced").await;
    b.goto(&format!("{base}/console/queue")).await;
    expect_path(&b, "/console/password").await;
    shot(&b, engine, "02-forced-change").await;
    // A mismatch is refused with a message, and nothing changes.
    b.fill("#pw-current", &one_time).await;
    b.fill("#pw-new", "Zhang-Wei-2026a").await;
    b.fill("#pw-repeat", "Zhang-Wei-2026b").await;
    b.click("#password-save").await;
    expect_text(&b, "#password-error", "不一致").await;
    b.fill("#pw-current", &one_time).await;
    b.fill("#pw-new", "Zhang-Wei-2026a").await;
    b.fill("#pw-repeat", "Zhang-Wei-2026a").await;
    b.click("#password-save").await;
    // A unit handler's home is their queue, in their unit.
    expect_path(&b, "/console/queue").await;
    assert!(
        b.text("header").await.contains("司法局"),
        "{}",
        b.text("header").await
    );

    // The one-time password no longer works; the new one does.
    login(&b, &base, "zhang.wei", &one_time).await;
    b.find("#login-error").await;
    login(&b, &base, "zhang.wei", "Zhang-Wei-2026a").await;
    expect_path(&b, "/console/queue").await;

    // A chosen change later: it confirms, and the user stays signed in.
    b.click("#my-account").await;
    b.fill("#pw-current", "Zhang-Wei-2026a").await;
    b.fill("#pw-new", "Zhang-Wei-2026c").await;
    b.fill("#pw-repeat", "Zhang-Wei-2026c").await;
    b.click("#password-save").await;
    b.find("#go-home").await;
    expect_text(&b, ".flash", "密码已修改").await;

    // The admin hands out a reset link; it works once.
    login(&b, &base, "admin1", PASSWORD).await;
    b.goto(&format!("{base}/console/admin/users")).await;
    b.click("#user-zhang\\.wei a").await;
    b.click("#user-reset").await;
    b.find("#secret").await;
    let link = b.text("#secret").await;
    assert!(link.starts_with("/console/reset/"), "{link}");
    b.clear_cookies().await;
    b.goto(&format!("{base}{link}")).await;
    b.fill("#pw-new", "Zhang-Wei-2026d").await;
    b.fill("#pw-repeat", "Zhang-Wei-2026d").await;
    b.click("#password-save").await;
    expect_path(&b, "/console/queue").await;
    b.goto(&format!("{base}{link}")).await;
    expect_text(&b, "main", "链接无效").await;
    login(&b, &base, "zhang.wei", "Zhang-Wei-2026d").await;
    expect_path(&b, "/console/queue").await;

    // Everything above is in the audit log.
    let store = install.store().await;
    let actions: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit_log WHERE action LIKE 'user.%' ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let actions: Vec<_> = actions.into_iter().map(|(a,)| a).collect();
    for want in [
        "user.create",
        "user.password_change",
        "user.reset_link",
        "user.password_reset",
    ] {
        assert!(actions.iter().any(|a| a == want), "{engine:?}: {actions:?}");
    }
}

per_engine!(accounts_are_imported_from_a_sheet_all_or_none);
async fn accounts_are_imported_from_a_sheet_all_or_none(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    install.user("admin1", "admin", &[], PASSWORD);
    let server = install.serve(&[]);
    let base = server.base.clone();
    let b = Browser::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "登录名,姓名,电话,角色,单位,网格\n\
         jt01,李明,0599-6302001,承办人员,交通运输局,\n\
         jt02,王芳,,承办人员,没有这个单位,\n",
    )
    .unwrap();
    login(&b, &base, "admin1", PASSWORD).await;
    b.goto(&format!("{base}/console/admin/users/import")).await;
    b.fill("#import-file", bad.to_str().unwrap()).await;
    b.click("#import-submit").await;
    b.wait_for("#import-errors li", Duration::from_secs(20))
        .await;
    let errors = b.text("#import-errors").await;
    assert!(
        errors.contains("第 3") && errors.contains("unit"),
        "{errors}"
    );
    shot(&b, engine, "03-import-refused").await;
    let store = install.store().await;
    let count = |name: &'static str| {
        let pool = store.pool().clone();
        async move {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE name = $1")
                .bind(name)
                .fetch_one(&pool)
                .await
                .unwrap();
            n
        }
    };
    assert_eq!(
        count("jt01").await,
        0,
        "{engine:?}: a bad sheet creates nothing"
    );

    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "登录名,姓名,电话,角色,单位,网格\n\
         jt01,李明,0599-6302001,承办人员,交通运输局,\n\
         jt02,王芳,,unit_handler,transport,\n",
    )
    .unwrap();
    b.goto(&format!("{base}/console/admin/users/import")).await;
    b.fill("#import-file", good.to_str().unwrap()).await;
    b.click("#import-submit").await;
    b.wait_for("#imported td", Duration::from_secs(20)).await;
    let table = b.text("#imported").await;
    assert!(table.contains("jt01") && table.contains("jt02"), "{table}");
    assert_eq!(count("jt01").await, 1);
    assert_eq!(count("jt02").await, 1);
    let (must,): (i64,) =
        sqlx::query_as("SELECT must_change_password FROM users WHERE name = 'jt02'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(must, 1, "{engine:?}: imported passwords are one-time");

    // A one-time password does not open the API either, until its user sets their own.
    let one_time = b
        .exec(
            "return [...document.querySelectorAll('#imported tr')]\
             .find(r => r.textContent.includes('jt02')).querySelector('td.mono').textContent;",
            vec![],
        )
        .await
        .as_str()
        .unwrap()
        .trim()
        .to_string();
    let http = reqwest::Client::new();
    let login = |password: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.post(format!("{base}/api/v1/login"))
                .json(&serde_json::json!({"name": "jt02", "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(login(one_time.clone()).await, 403, "{engine:?}");
    let set = http
        .post(format!("{base}/api/v1/password"))
        .json(&serde_json::json!({"name": "jt02", "current": one_time, "new": "Wang-Fang-2026x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status().as_u16(), 200, "{engine:?}");
    assert_eq!(login("Wang-Fang-2026x".into()).await, 200, "{engine:?}");
}

per_engine!(the_admin_adds_a_unit_contact_and_doctor_reports_it);
async fn the_admin_adds_a_unit_contact_and_doctor_reports_it(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    install.user("admin1", "admin", &[], PASSWORD);
    let server = install.serve(&[]);
    let base = server.base.clone();
    let b = Browser::start().await;
    login(&b, &base, "admin1", PASSWORD).await;
    b.goto(&format!("{base}/console/admin/units")).await;
    b.click("#unit-justice a").await;
    b.find("#unit-form").await;
    // The first blank contact row takes the new contact.
    let blank = b
        .exec(
            "const rows = [...document.querySelectorAll('input[name=contact_name]')];\
             return rows.findIndex(r => r.value === '') + 1;",
            vec![],
        )
        .await
        .as_i64()
        .unwrap();
    assert!(blank > 0);
    b.fill(&format!("#contact-name-{blank}"), "周敏").await;
    b.fill(&format!("#contact-role-{blank}"), "夜间值班").await;
    b.fill(&format!("#contact-phone-{blank}"), "0599-6308888")
        .await;
    shot(&b, engine, "04-unit-contact").await;
    b.click("#unit-save").await;
    b.find(".flash.ok").await;
    expect_text(&b, "#unit-justice", "周敏").await;
    drop(server);

    let profile = profile("shaowu");
    let doctor = install
        .m110(&["doctor", profile.to_str().unwrap()])
        .args(install.database_args())
        .output()
        .unwrap();
    let text = output_text(&doctor);
    assert_eq!(doctor.status.code(), Some(1), "{engine:?}: {text}");
    assert!(
        text.contains("units[justice].contacts") && text.contains("live_edit"),
        "{engine:?}: {text}"
    );
    let store = install.store().await;
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'unit.update' AND target = 'unit:justice'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(n, 1, "{engine:?}: the live edit is audited");
    // `m110 pull` names it for the maintainer (a contact list is written by hand).
    let copy = tempfile::tempdir().unwrap();
    m110_e2e::copy_dir(&m110_e2e::workspace_root().join("profiles"), copy.path());
    let pulled = install
        .m110(&["pull", copy.path().join("shaowu.yaml").to_str().unwrap()])
        .args(install.database_args())
        .output()
        .unwrap();
    let text = output_text(&pulled);
    assert!(
        text.contains("edit by hand") && text.contains("units[justice].contacts"),
        "{engine:?}: {text}"
    );
}

per_engine!(the_admin_reroutes_a_category_and_intake_follows_at_once);
async fn the_admin_reroutes_a_category_and_intake_follows_at_once(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    install.user("admin1", "admin", &[], PASSWORD);
    let op = install.token("op", "operator");
    let server = install.serve(&[]);
    let base = server.base.clone();
    let route_of = |content: &'static str| {
        let (base, op) = (base.clone(), op.clone());
        async move {
            let v: serde_json::Value = reqwest::Client::new()
                .post(format!("{base}/api/v1/cases"))
                .bearer_auth(&op)
                .json(&serde_json::json!({"channel": "phone", "content": content, "category": "roads"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["unit"]["id"].as_str().unwrap_or_default().to_string()
        }
    };
    assert_eq!(route_of("村道塌方").await, "transport");
    let b = Browser::start().await;
    login(&b, &base, "admin1", PASSWORD).await;
    b.goto(&format!("{base}/console/admin/routing")).await;
    b.select("#r-category", "roads").await;
    b.select("#r-unit", "urban-management").await;
    b.click("#routing-save").await;
    b.find(".flash.ok").await;
    shot(&b, engine, "06-routing").await;
    // In force for the next call, without a restart.
    assert_eq!(route_of("村道又塌方了").await, "urban-management");
    drop(server);
    let doctor = install
        .m110(&["doctor", profile("shaowu").to_str().unwrap()])
        .args(install.database_args())
        .output()
        .unwrap();
    let text = output_text(&doctor);
    assert!(
        text.contains("live_edit") && text.contains("routing"),
        "{engine:?}: {text}"
    );
}

per_engine!(a_grid_worker_and_an_analyst_land_on_their_pages);
async fn a_grid_worker_and_an_analyst_land_on_their_pages(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    install.user("gw1", "grid_worker", &["--grid", "350781001001"], PASSWORD);
    install.user("an1", "analyst", &[], PASSWORD);
    let server = install.serve(&[]);
    let base = server.base.clone();
    let b = Browser::start().await;
    b.set_window(390, 844).await;
    login(&b, &base, "gw1", PASSWORD).await;
    expect_path(&b, "/console/grid").await;
    let cells = b.text("#my-cells").await;
    assert!(
        cells.contains(" / "),
        "a cell is named with its tiers: {cells}"
    );
    assert!(!b.text("main").await.contains("403"));
    shot(&b, engine, "05-grid-worker-phone").await;
    // Every menu item a role is shown opens (no 403 behind a menu entry).
    let links: Vec<String> = b
        .exec(
            "return [...document.querySelectorAll('nav.mainnav a')].map(a => a.href);",
            vec![],
        )
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(!links.is_empty());
    for l in &links {
        b.goto(l).await;
        assert!(!b.text("main").await.contains("403"), "{l}");
    }
    b.set_window(1280, 900).await;
    login(&b, &base, "an1", PASSWORD).await;
    expect_path(&b, "/console/dashboard").await;
}

per_engine!(a_locked_out_user_is_let_back_in_by_the_admin);
/// Five wrong passwords in the sign-in form lock the account (the right one is refused with the
/// lockout message); the admin lifts it on the user's page; the user signs in.
async fn a_locked_out_user_is_let_back_in_by_the_admin(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    install.user("admin1", "admin", &[], PASSWORD);
    install.user("op7", "operator", &[], PASSWORD);
    let server = install.serve(&[]);
    let base = server.base.clone();
    let b = Browser::start().await;
    for _ in 0..5 {
        login(&b, &base, "op7", "not-my-password").await;
        expect_text(&b, "#login-error", "用户名或密码错误").await;
    }
    login(&b, &base, "op7", PASSWORD).await;
    expect_text(&b, "#login-error", "密码错误次数过多").await;
    shot(&b, engine, "06-locked-out").await;

    login(&b, &base, "admin1", PASSWORD).await;
    b.goto(&format!("{base}/console/admin/users")).await;
    b.click("#user-op7 a").await;
    b.find("#user-unlock").await;
    expect_text(&b, "#user-locked", "登录已锁定").await;
    shot(&b, engine, "07-unlock-button").await;
    b.click("#user-unlock").await;
    expect_text(&b, "main", "已解除登录锁定").await;

    login(&b, &base, "op7", PASSWORD).await;
    expect_path(&b, "/console/call").await;
}
