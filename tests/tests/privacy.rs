//! No personal data reaches the analyst, on both engines: a case with a distinctive caller
//! (name, phone), words and address is taken; then every GET route of the API and every
//! console page the analyst's menu shows (plus the case page and the export by URL) is read as
//! the analyst (with every analytics breakdown and the monthly report's downloads) — none of
//! them carries the case's words, address, the caller's name or number, in full or masked.
//! The analyst still gets the aggregates (dashboard, scorecards).
//!
//! And the rest of the privacy rules (docs/privacy.md), on both engines: numbers normalized on
//! write so the screen pop's household flag matches however a number is typed (the flag audited
//! with the number hashed); masked household views without address or members and without
//! search by the fields they hide; every refused household read audited with the key hashed;
//! a caller snapshot per case that no later intake renames.

use m110_e2e::{App, Engine, PASSWORD, per_engine};
use m110_runtime::http::auth::ROUTES;
use m110_runtime::policy::masking::audit_key;
use m110_runtime::store::Store;
use m110_runtime::store::audit::{AuditEntry, AuditFilter};
use serde_json::{Value, json};

const WORDS: &str = "隐私探针：后山坡上的违建棚屋又搭起来了";
const ADDRESS: &str = "和平村七组探针巷十三号";
const NAME: &str = "欧阳探针";
const PHONE: &str = "13912345678";

/// The forms personal data could leak in (whole, or as its masks show it).
fn leaks(body: &str) -> Vec<&'static str> {
    [
        WORDS,
        "违建棚屋",
        ADDRESS,
        "探针巷",
        NAME,
        "欧阳",
        PHONE,
        "139****5678",
        "1******5678",
    ]
    .into_iter()
    .filter(|needle| body.contains(needle))
    .collect()
}

async fn no_personal_data_reaches_the_analyst(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let (s, case) = app
        .call(
            "op",
            "POST",
            "/api/v1/cases",
            Some(
                &json!({"channel": "phone", "content": WORDS, "category": "housing",
                "caller": {"phone": PHONE, "name": NAME},
                "location": {"address": ADDRESS}}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{case}");
    let id = case["id"].as_str().unwrap().to_string();
    let today = m110_runtime::model::time::shanghai(m110_runtime::model::time::now_ms())
        .format("%Y-%m-%d")
        .to_string();
    let mut read = 0;
    for route in ROUTES.iter().filter(|r| r.method == "GET") {
        let mut path = route
            .path
            .replace("{id}", &id)
            .replace("{system}", "government_services");
        if route.path == "/api/v1/scorecards" {
            path.push_str(&format!("?from={today}&to={today}"));
        }
        let (s, body) = app.call("analyst", "GET", &path, None).await;
        let text = body.to_string();
        assert!(
            leaks(&text).is_empty(),
            "{engine:?}: GET {path} ({s}) shows the analyst {:?}",
            leaks(&text)
        );
        read += 1;
    }
    assert!(read > 10, "only {read} routes read");
    // Every breakdown of the analytics, too.
    for by in [
        "category",
        "area",
        "unit",
        "channel",
        "gender",
        "age_band",
        "occupation",
        "hour",
        "weekday",
        "day",
        "week",
        "month",
    ] {
        let path = format!("/api/v1/analytics/breakdown?by={by}");
        let (s, body) = app.call("analyst", "GET", &path, None).await;
        assert_eq!(s, 200, "{path}: {body}");
        assert!(leaks(&body.to_string()).is_empty(), "{engine:?}: {path}");
    }
    // The aggregates are there.
    let (s, cards) = app
        .call(
            "analyst",
            "GET",
            &format!("/api/v1/scorecards?from={today}&to={today}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{cards}");
    let (s, _) = app
        .call("analyst", "GET", &format!("/api/v1/cases/{id}"), None)
        .await;
    assert_eq!(s, 403, "{engine:?}: no case, not even masked");

    // The console, as the analyst signs in to it.
    let console = m110_e2e::login(&app.server.base, "analyst", PASSWORD).await;
    let get = |path: String| {
        let (console, base) = (console.clone(), app.server.base.clone());
        async move {
            let r = console.get(format!("{base}{path}")).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (_, home) = get("/console/dashboard".into()).await;
    let nav = &home[home.find("class=\"mainnav\"").expect("a menu")..];
    let nav = &nav[..nav.find("</nav>").unwrap()];
    let mut pages: Vec<String> = nav
        .split("href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].replace("&#x2f;", "/"))
        .collect();
    assert!(pages.len() >= 3, "{nav}");
    pages.extend([
        format!("/console/cases/{id}"),
        format!("/console/cases/{id}/print"),
        "/console/queue/export?view=all&format=csv".into(),
        "/console/queue?view=all".into(),
        format!("/console/classify?text={WORDS}"),
        "/console/analytics/report?format=html".into(),
        "/console/analytics/report?format=md".into(),
    ]);
    for page in &pages {
        let (s, body) = get(page.clone()).await;
        assert!(
            leaks(&body).is_empty(),
            "{engine:?}: {page} ({s}) shows the analyst {:?}",
            leaks(&body)
        );
    }
}
per_engine!(no_personal_data_reaches_the_analyst);

async fn audited(store: &Store, action: &str) -> Vec<AuditEntry> {
    store
        .audit_entries(&AuditFilter {
            action: Some(action.into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap()
}

fn detail(e: &AuditEntry) -> String {
    e.detail.clone().unwrap_or(Value::Null).to_string()
}

async fn households_and_callers_keep_their_privacy(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let store = app.install.store().await;
    let hh = "/api/v1/households";
    // Registered with the number typed the international way, with separators.
    let (s, h) = app
        .call(
            "sup",
            "POST",
            hh,
            Some(
                &json!({"head_name": "王探户", "kind": "dibao", "grid": "350781001001",
                "phone": "+86 139-0599-1234", "members": 4, "address": "探针路 9 号 3 栋"}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{h}");
    assert_eq!(h["phone"], "13905991234", "{engine:?}: stored normalized");
    let id = h["id"].as_i64().unwrap();

    // The screen pop flags the household however the number is typed now.
    for typed in ["13905991234", "139 0599 1234", "0086-139-0599-1234"] {
        let (s, pop) = app
            .call(
                "op",
                "POST",
                "/api/v1/calls",
                Some(&json!({ "phone": typed })),
            )
            .await;
        assert_eq!(s, 200, "{pop}");
        assert_eq!(
            pop["vulnerable"][0]["kind"], "dibao",
            "{engine:?}: {typed} → {pop}"
        );
    }
    let flags = audited(&store, "household.flag").await;
    assert_eq!(flags.len(), 3, "{engine:?}");
    let hashed = format!("phone:{}", audit_key("13905991234"));
    assert!(
        flags
            .iter()
            .all(|f| f.target.as_deref() == Some(hashed.as_str()))
    );
    // The analyst's screen pop is refused outright (no caller profile).
    let (s, _) = app
        .call(
            "analyst",
            "POST",
            "/api/v1/calls",
            Some(&json!({"phone": "13905991234"})),
        )
        .await;
    assert_eq!(s, 403, "{engine:?}");

    // The masked view: no address, no members, at least half of each number hidden.
    let (s, m) = app.call("op", "GET", &format!("{hh}/{id}"), None).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        (m["head_name"].as_str(), m["phone"].as_str()),
        (Some("王**"), Some("1******1234"))
    );
    assert_eq!(
        (&m["address"], &m["members"]),
        (&Value::Null, &Value::Null),
        "{m}"
    );
    assert_eq!(m["grid"], "350781001001");
    // … and no search by what it hides (a hit would tell the name).
    for q in ["王探户", "探针路", "13905991234"] {
        let (s, body) = app.call("disp", "GET", &format!("{hh}?q={q}"), None).await;
        assert_eq!(s, 403, "{engine:?}: masked search {q}: {body}");
    }
    let refused = audited(&store, "household.search_denied").await;
    assert_eq!(refused.len(), 3, "{engine:?}");
    assert!(refused.iter().all(|r| detail(r).contains("sha256:")
        && !detail(r).contains("王探户")
        && !detail(r).contains("13905991234")));
    // The full view finds the household by the whole number, typed any way.
    let (s, found) = app
        .call("sup", "GET", &format!("{hh}?q=139-0599-1234"), None)
        .await;
    assert_eq!((s, found["total"].as_i64()), (200, Some(1)), "{found}");
    assert_eq!(found["items"][0]["address"], "探针路 9 号 3 栋");

    // Refused reads by roles without records are audited (id, role), the key hashed.
    for who in ["analyst", "urban"] {
        let (s, _) = app.call(who, "GET", &format!("{hh}/{id}"), None).await;
        assert_eq!(s, 403, "{engine:?}: {who}");
        let (s, _) = app.call(who, "GET", &format!("{hh}?q=王探户"), None).await;
        assert_eq!(s, 403, "{engine:?}: {who}");
    }
    let (s, _) = app
        .call("urban", "GET", &format!("{hh}/counts"), None)
        .await;
    assert_eq!(s, 403, "{engine:?}: a unit gets no counts either");
    let denied = audited(&store, "household.read_denied").await;
    let target = format!("household:{id}");
    assert_eq!(denied.len(), 5, "{engine:?}: {denied:?}");
    for who in ["analyst", "urban"] {
        let mine: Vec<_> = denied
            .iter()
            .filter(|d| d.actor_name.as_deref() == Some(who))
            .collect();
        let reads = if who == "urban" { 3 } else { 2 };
        assert_eq!(mine.len(), reads, "{engine:?}: {who}: {denied:?}");
        assert!(
            mine.iter()
                .any(|d| d.target.as_deref() == Some(target.as_str()))
        );
        assert!(
            mine.iter().all(|d| !detail(d).contains("王探户")),
            "{mine:?}"
        );
        assert!(
            mine.iter()
                .any(|d| detail(d).contains(&audit_key("王探户"))),
            "{mine:?}"
        );
    }

    // A caller snapshot per case: the second intake (same number, typed otherwise, another
    // name) renames the caller, not the first case.
    let mut ids = Vec::new();
    for (phone, name) in [("138-0000-5678", "甲探针"), ("+86 138 0000 5678", "乙探针")] {
        let (s, case) = app
            .call(
                "op",
                "POST",
                "/api/v1/cases",
                Some(&json!({"channel": "phone", "content": "路灯坏了，晚上很黑", "category": "housing",
                    "caller": {"phone": phone, "name": name}})),
            )
            .await;
        assert_eq!(s, 201, "{case}");
        ids.push(case["id"].as_str().unwrap().to_string());
    }
    for (id, name) in ids.iter().zip(["甲探针", "乙探针"]) {
        let (s, case) = app
            .call("op", "GET", &format!("/api/v1/cases/{id}"), None)
            .await;
        assert_eq!(s, 200, "{case}");
        assert_eq!(case["caller"]["name"], name, "{engine:?}: {id}");
        assert_eq!(case["caller"]["phone"], "13800005678", "{engine:?}: {id}");
    }
    let (s, pop) = app
        .call(
            "op",
            "POST",
            "/api/v1/calls",
            Some(&json!({"phone": "13800005678"})),
        )
        .await;
    assert_eq!(s, 200, "{pop}");
    assert_eq!(
        (pop["caller"]["name"].as_str(), pop["total_cases"].as_i64()),
        (Some("乙探针"), Some(2))
    );
    let names: Vec<&str> = pop["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["caller"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["乙探针", "甲探针"],
        "{engine:?}: each case its own caller"
    );
}
per_engine!(households_and_callers_keep_their_privacy);
