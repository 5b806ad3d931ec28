//! No personal data reaches the analyst, on both engines: a case with a distinctive caller
//! (name, phone), words and address is taken; then every GET route of the API and every
//! console page the analyst's menu shows (plus the case page and the export by URL) is read as
//! the analyst (with every analytics breakdown and the monthly report's downloads) — none of
//! them carries the case's words, address, the caller's name or number, in full or masked.
//! The analyst still gets the aggregates (dashboard, scorecards).

use m110_e2e::{App, Engine, PASSWORD, per_engine};
use m110_runtime::http::auth::ROUTES;
use serde_json::json;

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
