//! Nearest-resource dispatch (docs/matching.md), end to end on both engines. Shaowu with nine
//! repair and housekeeping providers placed north of 昭阳街道's centroid:
//!
//! - the center admits them (qualification, validity, place), suspends one (a reason is
//!   required, the operator may not), and one's qualification has expired; the providers list
//!   says why each is or is not offered;
//! - a repairs case (matchable) stays in the queue at intake and the offer job puts it out to
//!   the top 3: the three nearest that fit — never the suspended, expired, unadmitted, other
//!   area or other category one, though each is nearer;
//! - the first declines, the second accepts: the case is dispatched to it, the third's offer is
//!   withdrawn and its accept is a 409;
//! - a provider accepts on its phone page (a forged form is refused) and records the price of
//!   the paid service; the center reinstates the suspended provider on the admission page;
//! - a case the accepting provider returns is put out again by the center (k 1, one second):
//!   each offer expires, the next candidate gets one, until nobody is left and the case stays
//!   in the center's queue; every step is an event, admissions are audited.

use std::time::Duration;

use m110_e2e::app::App;
use m110_e2e::{Engine, Install, PASSWORD, csrf_of, eventually, get_html, now_ms, per_engine};
use serde_json::{Value, json};

const CELL: &str = "350781001001";
const LAT: f64 = 27.3403;
const LON: f64 = 117.4925;
const DAY: i64 = 86_400_000;

/// (unit, kind, category, scope, latitude): all on LON, north of the case.
const PROVIDERS: &[(&str, &str, &str, Option<&str>, f64)] = &[
    (
        "rep-a",
        "market_provider",
        "repairs",
        Some("350781001"),
        27.345,
    ),
    ("rep-b", "market_provider", "repairs", None, 27.350),
    ("rep-c", "volunteer_team", "repairs", None, 27.360),
    ("rep-d", "market_provider", "repairs", None, 27.3404),
    ("rep-e", "market_provider", "repairs", None, 27.3405),
    ("rep-f", "social_organization", "repairs", None, 27.400),
    ("rep-g", "market_provider", "repairs", None, 27.450),
    (
        "rep-x",
        "market_provider",
        "repairs",
        Some("350781002"),
        27.3406,
    ),
    ("clean-h", "market_provider", "housekeeping", None, 27.3403),
];

fn with_providers(yaml: String) -> String {
    let mut units = String::new();
    for (id, kind, cat, scope, _) in PROVIDERS {
        let scope = scope
            .map(|s| format!(", scope: [\"{s}\"]"))
            .unwrap_or_default();
        units.push_str(&format!(
            "  - {{id: {id}, kind: {kind}, name: \"{id}服务\", service_categories: [{cat}], \
             qualification: \"营业执照\"{scope}}}\n"
        ));
    }
    yaml.replacen("\ncategories:\n", &format!("{units}\ncategories:\n"), 1)
}

async fn offers_of(app: &App, case: &str) -> Vec<Value> {
    let (s, v) = app
        .call("disp", "GET", &format!("/api/v1/cases/{case}/offers"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v["items"].as_array().unwrap().clone()
}

fn units(offers: &[Value], round: i64) -> Vec<String> {
    let mut v: Vec<&Value> = offers.iter().filter(|o| o["round"] == round).collect();
    v.sort_by_key(|o| o["rank"].as_i64());
    v.iter()
        .map(|o| o["unit_id"].as_str().unwrap().to_string())
        .collect()
}

async fn case(app: &App, id: &str) -> Value {
    let (s, v) = app
        .call("op", "GET", &format!("/api/v1/cases/{id}"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

fn kinds(case: &Value) -> Vec<String> {
    case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// The open offer of `unit` on `case`, as its handler sees it.
async fn open_offer(app: &App, who: &str, case: &str) -> i64 {
    let (s, v) = app.call(who, "GET", "/api/v1/offers", None).await;
    assert_eq!(s, 200, "{v}");
    let o = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["case_public_id"] == case && o["state"] == "offered")
        .unwrap_or_else(|| panic!("{who} has no open offer of {case}: {v}"))
        .clone();
    assert!(o["content"].as_str().unwrap().contains("水管"), "{o}");
    o["id"].as_i64().unwrap()
}

async fn nearest_resource_dispatch(engine: Engine) {
    let install = Install::provision_shaowu_with(engine, with_providers).await;
    let mut app = App::with_install(install, &[]);
    for (id, ..) in PROVIDERS {
        let name = format!("u-{id}");
        app.install
            .user(&name, "unit_handler", &["--unit", id], PASSWORD);
        let token = app.install.token(&name, "unit_handler");
        app.tokens.insert(name, token);
    }
    let now = now_ms();

    // Admission.
    for (id, _, _, _, lat) in PROVIDERS {
        let until = if *id == "rep-e" {
            now - 1000
        } else {
            now + 365 * DAY
        };
        let body = json!({"qualification": "营业执照；职业资格证", "valid_from": now - 30 * DAY,
            "valid_until": until, "lat": lat, "lon": LON});
        let path = format!("/api/v1/providers/{id}/admission");
        let (s, v) = app.call("sup", "PUT", &path, Some(&body)).await;
        assert_eq!(s, 200, "{engine:?} {id}: {v}");
    }
    let body = json!({"qualification": "x", "valid_from": now});
    let (s, _) = app
        .call(
            "op",
            "PUT",
            "/api/v1/providers/rep-b/admission",
            Some(&body),
        )
        .await;
    assert_eq!(s, 403);
    let (s, v) = app
        .call(
            "sup",
            "POST",
            "/api/v1/providers/rep-d/suspend",
            Some(&json!({})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("reason")),
        "{v}"
    );
    let (s, v) = app
        .call(
            "sup",
            "POST",
            "/api/v1/providers/rep-d/suspend",
            Some(&json!({"reason": "回访投诉乱收费，暂停接单"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.call("disp", "GET", "/api/v1/providers", None).await;
    assert_eq!(s, 200, "{v}");
    let why = |unit: &str| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["unit_id"] == unit)
            .map(|p| p["not_offered_because"].clone())
            .unwrap_or_else(|| panic!("{unit} not listed: {v}"))
    };
    assert_eq!(why("rep-a"), Value::Null);
    assert_eq!(why("rep-d"), "suspended");
    assert_eq!(why("rep-e"), "expired");
    assert_eq!(why("repair-services"), "not_admitted");

    // A repairs case waits in the queue; the job offers it to the three nearest that fit.
    let body = json!({"channel": "phone", "content": "家里水管漏水，需要师傅上门维修",
        "category": "repairs", "caller": {"phone": "13905990001"},
        "location": {"grid_code": CELL, "lat": LAT, "lon": LON}, "emergency": {"line": null}});
    let (s, v) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
    assert_eq!(s, 201, "{v}");
    let first = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["status"], "received", "{engine:?}: {v}");
    let offers = eventually("the job's offers", Duration::from_secs(20), || async {
        let o = offers_of(&app, &first).await;
        (!o.is_empty()).then_some(o)
    })
    .await;
    assert_eq!(
        units(&offers, 1),
        ["rep-a", "rep-b", "rep-c"],
        "{engine:?}: {offers:?}"
    );
    assert!(offers.iter().all(|o| o["state"] == "offered"));
    let (s, v) = app
        .call(
            "op",
            "POST",
            "/api/v1/offers",
            Some(&json!({"cases": [first]})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("offers_open")),
        "{v}"
    );

    // Decline, accept, the third too late.
    let a = open_offer(&app, "u-rep-a", &first).await;
    let b = open_offer(&app, "u-rep-b", &first).await;
    let c = open_offer(&app, "u-rep-c", &first).await;
    let (s, v) = app
        .call(
            "u-rep-b",
            "POST",
            &format!("/api/v1/offers/{a}/accept"),
            None,
        )
        .await;
    assert_eq!(s, 404, "another unit's offer: {v}");
    let (s, v) = app
        .call(
            "u-rep-a",
            "POST",
            &format!("/api/v1/offers/{a}/decline"),
            Some(&json!({"reason": "师傅今天不在"})),
        )
        .await;
    assert_eq!((s, v["state"].as_str()), (200, Some("declined")), "{v}");
    let (s, v) = app
        .call(
            "u-rep-b",
            "POST",
            &format!("/api/v1/offers/{b}/accept"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["state"].as_str()),
        (200, Some("accepted")),
        "{engine:?}: {v}"
    );
    let (s, v) = app
        .call(
            "u-rep-c",
            "POST",
            &format!("/api/v1/offers/{c}/accept"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("offer_closed")),
        "{v}"
    );
    let cv = case(&app, &first).await;
    assert_eq!(cv["status"], "dispatched", "{engine:?}: {cv}");
    assert_eq!(cv["unit"]["id"], "rep-b", "{cv}");
    let k = kinds(&cv);
    for kind in [
        "offer_made",
        "offer_declined",
        "dispatched",
        "offer_accepted",
    ] {
        assert!(k.contains(&kind.to_string()), "{engine:?}: {kind} in {k:?}");
    }
    let offers = offers_of(&app, &first).await;
    let state = |u: &str| {
        offers
            .iter()
            .find(|o| o["unit_id"] == u)
            .map(|o| o["state"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(
        [state("rep-a"), state("rep-b"), state("rep-c")],
        ["declined", "accepted", "withdrawn"]
    );

    // rep-b returns it; the center puts it out again, one at a time, one second each.
    let (s, v) = app
        .call(
            "u-rep-b",
            "POST",
            &format!("/api/v1/cases/{first}/actions"),
            Some(&json!({"action": "return", "reason": "超出服务能力"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app
        .call(
            "disp",
            "POST",
            "/api/v1/offers",
            Some(&json!({"cases": [first], "k": 1, "timeout_seconds": 1})),
        )
        .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    assert_eq!(v["items"][0]["offers"][0]["unit_id"], "rep-f", "{v}");
    // rep-f, then rep-g time out; nobody is left: the case stays with the center.
    let cv = eventually("the offers to run out", Duration::from_secs(30), || async {
        let cv = case(&app, &first).await;
        kinds(&cv)
            .contains(&"offer_unmatched".to_string())
            .then_some(cv)
    })
    .await;
    assert_eq!(cv["status"], "returned", "{cv}");
    let offers = offers_of(&app, &first).await;
    assert_eq!(units(&offers, 2), ["rep-f"]);
    assert_eq!(units(&offers, 3), ["rep-g"]);
    assert!(
        offers
            .iter()
            .filter(|o| o["round"].as_i64() >= Some(2))
            .all(|o| o["state"] == "expired"),
        "{offers:?}"
    );
    let expired = kinds(&cv).iter().filter(|k| *k == "offer_expired").count();
    assert_eq!(expired, 2, "{engine:?}");
    // Never offered: suspended, expired, other area, other category, not admitted.
    for o in &offers {
        let u = o["unit_id"].as_str().unwrap();
        assert!(
            !["rep-d", "rep-e", "rep-x", "clean-h", "repair-services"].contains(&u),
            "{u}"
        );
    }

    // The console: the case page's offer history; a provider accepts on its phone page (a
    // forged form is refused); the center reinstates the suspended provider.
    let op = m110_e2e::login(&app.server.base, "op", PASSWORD).await;
    let page = get_html(&op, &app.url(&format!("/console/cases/{first}"))).await;
    assert!(
        page.contains("id=\"offer-table\""),
        "{engine:?}: no offer history"
    );
    assert_eq!(page.matches("id=\"offer-row-").count(), 5, "{engine:?}");
    let body = json!({"channel": "phone", "content": "卫生间水管爆裂，请尽快来修",
        "category": "repairs", "caller": {"phone": "13905990002"},
        "location": {"grid_code": CELL, "lat": LAT, "lon": LON}, "emergency": {"line": null}});
    let (s, v) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
    assert_eq!(s, 201, "{v}");
    let second = v["id"].as_str().unwrap().to_string();
    let offers = eventually(
        "the second case's offers",
        Duration::from_secs(20),
        || async {
            let o = offers_of(&app, &second).await;
            (!o.is_empty()).then_some(o)
        },
    )
    .await;
    // rep-b's case went back: every first-round provider is free again, each offered recently.
    assert_eq!(
        units(&offers, 1),
        ["rep-a", "rep-b", "rep-c"],
        "{engine:?}: {offers:?}"
    );
    let phone = m110_e2e::login(&app.server.base, "u-rep-c", PASSWORD).await;
    let page = get_html(&phone, &app.url("/console/offers")).await;
    let id = open_offer(&app, "u-rep-c", &second).await;
    assert!(
        page.contains(&format!("id=\"accept-{id}\"")),
        "{engine:?}: {page}"
    );
    // The phone page at a phone's width: the offer and its thumb-sized buttons.
    let b = m110_e2e::browser::Browser::start().await;
    b.set_window(390, 844).await;
    b.goto(&app.url("/console/login")).await;
    b.fill("#username", "u-rep-c").await;
    b.fill("#password", PASSWORD).await;
    b.click("#login-submit").await;
    b.wait_for("nav.mainnav", Duration::from_secs(20)).await;
    b.goto(&app.url("/console/offers")).await;
    b.wait_for(&format!("#accept-{id}"), Duration::from_secs(20))
        .await;
    let size = b
        .exec(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect(); \
             return [r.width, r.height, document.documentElement.scrollWidth];",
            vec![json!(format!("#accept-{id}"))],
        )
        .await;
    assert!(
        size[1].as_f64().unwrap() >= 44.0 && size[2].as_f64().unwrap() <= 390.0,
        "{engine:?}: the accept button and the page at 390 px: {size}"
    );
    b.screenshot(&format!("{}/offers-phone", engine.as_str()))
        .await;
    let token = csrf_of(&page);
    let url = app.url(&format!("/console/offers/{id}/accept"));
    let forged = phone
        .post(&url)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let r = phone
        .post(&url)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{engine:?}");
    assert!(r.url().path().ends_with(&second), "{}", r.url());
    let cv = case(&app, &second).await;
    assert_eq!(
        (cv["status"].as_str(), cv["unit"]["id"].as_str()),
        (Some("dispatched"), Some("rep-c")),
        "{engine:?}: {cv}"
    );
    // 有偿服务: rep-c quotes and charges; another provider may not; a case with a department
    // has no price.
    let path = format!("/api/v1/cases/{second}/price");
    let (s, v) = app
        .call("u-rep-c", "PUT", &path, Some(&json!({"quoted_fen": 8000})))
        .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    let (s, v) = app
        .call("u-rep-c", "PUT", &path, Some(&json!({"charged_fen": 7500})))
        .await;
    assert_eq!(
        (
            s,
            v["price"]["quoted_fen"].as_i64(),
            v["price"]["charged_fen"].as_i64()
        ),
        (200, Some(8000), Some(7500)),
        "{v}"
    );
    let (s, _) = app
        .call("u-rep-a", "PUT", &path, Some(&json!({"charged_fen": 1})))
        .await;
    assert_eq!(s, 404);
    let (s, v) = app
        .call("u-rep-c", "PUT", &path, Some(&json!({"charged_fen": -1})))
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("charged_fen")),
        "{v}"
    );
    let (_, v) = app
        .call(
            "disp",
            "GET",
            &format!("/api/v1/cases/{second}/offers"),
            None,
        )
        .await;
    assert_eq!(v["price"]["charged_fen"], 7500, "{v}");
    let page = get_html(&op, &app.url(&format!("/console/cases/{second}"))).await;
    assert!(
        page.contains("80.00 元") && page.contains("75.00 元"),
        "{engine:?}: the price"
    );
    // A photo on the first case, so its page shows photos, the cameras near it and its offers.
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x / 3 % 256) as u8, (y / 2 % 256) as u8, 160])
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(jpeg.into_inner())
            .file_name("漏水现场.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let resp = app
        .http
        .post(app.url(&format!("/api/v1/cases/{first}/attachments")))
        .bearer_auth(&app.tokens["disp"])
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        201,
        "{engine:?}: {}",
        resp.text().await.unwrap()
    );
    // The case page's offer history and the admission page, as the center sees them.
    b.clear_cookies().await;
    b.set_window(1280, 1000).await;
    b.goto(&app.url("/console/login")).await;
    b.fill("#username", "sup").await;
    b.fill("#password", PASSWORD).await;
    b.click("#login-submit").await;
    b.wait_for("nav.mainnav", Duration::from_secs(20)).await;
    b.goto(&app.url(&format!("/console/cases/{first}#offers")))
        .await;
    b.wait_for("#offer-table", Duration::from_secs(20)).await;
    b.exec(
        "document.getElementById('offers').scrollIntoView();",
        Vec::new(),
    )
    .await;
    b.screenshot(&format!("{}/case-offers", engine.as_str()))
        .await;
    // The whole case: photos, nearby cameras, offers.
    assert!(
        b.source().await.contains("漏水现场"),
        "{engine:?}: the photo on the case page"
    );
    b.set_window(1280, 3000).await;
    b.exec("window.scrollTo(0, 0);", Vec::new()).await;
    b.screenshot(&format!("{}/case-field", engine.as_str()))
        .await;
    b.set_window(1280, 1000).await;
    b.goto(&app.url("/console/providers")).await;
    b.wait_for("#providers", Duration::from_secs(20)).await;
    b.screenshot(&format!("{}/providers", engine.as_str()))
        .await;
    let sup = m110_e2e::login(&app.server.base, "sup", PASSWORD).await;
    let page = get_html(&sup, &app.url("/console/providers")).await;
    assert!(
        page.contains("回访投诉乱收费"),
        "{engine:?}: the suspension's reason"
    );
    let r = sup
        .post(app.url("/console/providers/rep-d/reinstate"))
        .form(&[("csrf", csrf_of(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, v) = app.call("disp", "GET", "/api/v1/providers", None).await;
    let d = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["unit_id"] == "rep-d")
        .unwrap()
        .clone();
    assert_eq!(d["offerable"], true, "{d}");

    // Admissions are audited.
    let (s, v) = app
        .call(
            "auditor",
            "GET",
            "/api/v1/audit?action=provider.admit",
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), PROVIDERS.len(), "{v}");
    let (s, v) = app
        .call(
            "auditor",
            "GET",
            "/api/v1/audit?action=provider.suspend",
            None,
        )
        .await;
    assert_eq!((s, v["items"].as_array().unwrap().len()), (200, 1), "{v}");
    let (s, v) = app
        .call(
            "auditor",
            "GET",
            "/api/v1/audit?action=provider.reinstate",
            None,
        )
        .await;
    assert_eq!((s, v["items"].as_array().unwrap().len()), (200, 1), "{v}");
}

per_engine!(nearest_resource_dispatch);
