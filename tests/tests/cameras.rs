//! Cameras on the console, end to end on both engines (Shaowu's six 雪亮工程 cameras): a case
//! located in 公太社区 shows the cameras nearest it on its page — its own grid unit's camera
//! first, each linking into the camera platform — and the grid unit's camera page lists the
//! township's; an analyst (no case pages) is refused the camera page.

use m110_e2e::app::App;
use m110_e2e::{Engine, PASSWORD, get_html, login, per_engine};
use serde_json::json;

const LINK: &str = "https://xueliang.shaowu.example.gov.cn/live?camera=";

per_engine!(a_case_page_shows_the_cameras_nearest_it);
async fn a_case_page_shows_the_cameras_nearest_it(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let body = json!({"channel": "phone", "content": "公太社区广场旁边有人乱倒建筑垃圾",
        "category": "roads", "location": {"grid_code": "350781001001", "lat": 27.3420, "lon": 117.4950},
        "emergency": {"line": null}});
    let (s, c) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
    assert_eq!(s, 201, "{engine:?}: {c}");
    let id = c["id"].as_str().unwrap();
    let op = login(&app.server.base, "op", PASSWORD).await;
    let page = get_html(&op, &app.url(&format!("/console/cases/{id}"))).await;
    let block = &page[page
        .find("id=\"case-cameras\"")
        .unwrap_or_else(|| panic!("{engine:?}: no camera block"))..];
    let block = &block[..block.find("</section>").unwrap()];
    // Its own grid unit's camera first (about 15 m away), then the others within 3 km.
    let first = block
        .find("camera-35078100001310000002")
        .expect("the 公太 camera");
    let other = block
        .find("camera-35078100001310000001")
        .expect("the 五一九路 camera");
    assert!(first < other, "{engine:?}: {block}");
    assert!(
        block.contains(&format!(
            "href=\"{}35078100001310000002\"",
            // autoescape writes '/' as &#x2f; (the browser reads the same URL)
            LINK.replace('/', "&#x2f;")
        )),
        "{block}"
    );
    assert!(
        block.contains("公太社区中心广场") && block.contains("本网格"),
        "{block}"
    );
    // A camera of the other street office (通泰, no coordinates, ~3.5 km off) is not listed.
    assert!(
        !block.contains("35078100001310000006"),
        "{engine:?}: {block}"
    );

    // The grid unit's page: the township's cameras.
    let grid = op
        .get(app.url("/console/cameras?grid=350781001"))
        .send()
        .await
        .unwrap();
    assert_eq!(grid.status(), 200);
    let html = grid.text().await.unwrap();
    for cam in ["01", "02", "03", "04"] {
        assert!(
            html.contains(&format!("camera-350781000013100000{cam}")),
            "{engine:?}: {cam}"
        );
    }
    let analyst = login(&app.server.base, "analyst", PASSWORD).await;
    let r = analyst
        .get(app.url("/console/cameras"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "{engine:?}");
}
