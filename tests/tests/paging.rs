//! Keyset paging of the JSON case list (issue 13): `next_cursor` walks every case exactly once,
//! newest first, whatever is created meanwhile; `page` stays for the first 10,000 rows; bad
//! cursors and mixed paging are refused (422) with the field named.

use m110_e2e::{App, Engine, per_engine};
use serde_json::{Value, json};

async fn list(app: &App, query: &str) -> (u16, Value) {
    app.call("sup", "GET", &format!("/api/v1/cases?{query}"), None)
        .await
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {v}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

per_engine!(the_cursor_walks_every_case_once_newest_first);
async fn the_cursor_walks_every_case_once_newest_first(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let mut created = Vec::new();
    for i in 0..5 {
        let (s, v) = app
            .call(
                "op",
                "POST",
                "/api/v1/cases",
                Some(&json!({"channel": "phone", "content": format!("路灯不亮 第{i}盏")})),
            )
            .await;
        assert_eq!(s, 201, "{engine:?}: {v}");
        created.push(v["id"].as_str().unwrap().to_string());
    }
    created.reverse();

    let (s, first) = list(&app, "page_size=2").await;
    assert_eq!(s, 200, "{engine:?}: {first}");
    assert_eq!(first["total"], 5);
    assert_eq!(first["total_exact"], true);
    let mut walked = ids(&first);
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    // A case created while paging is newer than the cursor: it does not shift the pages.
    let (s, _) = app
        .call(
            "op",
            "POST",
            "/api/v1/cases",
            Some(&json!({"channel": "web", "content": "井盖缺失"})),
        )
        .await;
    assert_eq!(s, 201);
    while let Some(c) = cursor {
        let (s, page) = list(&app, &format!("page_size=2&cursor={c}")).await;
        assert_eq!(s, 200, "{engine:?}: {page}");
        walked.extend(ids(&page));
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(walked, created, "{engine:?}: every case once, newest first");

    // The same order through page numbers (kept for compatibility, bounded).
    let (_, p2) = list(&app, "page_size=2&page=2").await;
    assert_eq!(ids(&p2).len(), 2, "{engine:?}: {p2}");
    assert!(p2["next_cursor"].is_string(), "{engine:?}: {p2}");

    for (query, field) in [
        ("cursor=zz", "cursor"),
        ("cursor=6331", "cursor"), // hex of "c1" without an id
        ("page=2&cursor=63313a33", "cursor"),
        ("page_size=200&page=52", "page"),
        ("page_size=500", "page_size"),
    ] {
        let (s, v) = list(&app, query).await;
        assert_eq!(s, 422, "{engine:?} {query}: {v}");
        assert_eq!(v["error"]["field"], field, "{engine:?} {query}: {v}");
    }
    // The deepest page allowed: row 10,000 (an empty page here, not an error).
    let (s, v) = list(&app, "page_size=200&page=51").await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    assert!(ids(&v).is_empty());
}
