//! Live updates across servers and within one: the console's event stream (`/console/events`) is
//! driven by the store's change counter — committed writes in-process, and on PostgreSQL the
//! `LISTEN/NOTIFY` channel every `m110d` on the database shares. A case created through one
//! server must reach a console connected to another, and one case every console open on a
//! server (issue 13).

use std::time::Duration;

use m110_e2e::{App, Engine, PASSWORD, login, postgres_configured};
use serde_json::json;
use tokio::time::Instant;

/// Opens `base`'s event stream as the supervisor, then creates cases through `app` until the
/// stream says `case` (one creation is enough once the stream listens; repeating covers the
/// moment a new server's listener is still connecting). Fails after `limit`.
async fn case_reaches_stream(app: &App, base: &str, limit: Duration) {
    let console = login(base, "sup", PASSWORD).await;
    let mut stream = console
        .get(format!("{base}/console/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let deadline = Instant::now() + limit;
    let mut seen = String::new();
    let mut created = 0;
    loop {
        let (s, v) = app
            .call(
                "op",
                "POST",
                "/api/v1/cases",
                Some(&json!({"channel": "phone", "content": format!("路灯不亮 {created}")})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        created += 1;
        // Read what the stream sends within the next two seconds (the stream reads its
        // watermark at most once a second).
        let window = (Instant::now() + Duration::from_secs(2)).min(deadline);
        while let Ok(chunk) = tokio::time::timeout_at(window, stream.chunk()).await {
            match chunk.unwrap() {
                Some(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
                None => panic!("the event stream ended: {seen:?}"),
            }
            if seen.contains("event: case") {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no `case` event after {created} cases created; stream sent {seen:?}"
        );
    }
}

#[tokio::test]
async fn a_case_created_on_one_server_reaches_another_servers_stream() {
    if !postgres_configured() {
        eprintln!("skipped: needs PostgreSQL (M110_TEST_PG_URL)");
        return;
    }
    let app = App::start(Engine::Postgres, &[]).await;
    // A second m110d on the same install: the same PostgreSQL database, another process.
    let other = app.install.serve(&[]);
    case_reaches_stream(&app, &other.base, Duration::from_secs(30)).await;
}

#[tokio::test]
async fn a_case_created_on_the_same_server_reaches_its_stream() {
    for engine in [Engine::Sqlite]
        .into_iter()
        .chain(postgres_configured().then_some(Engine::Postgres))
    {
        let app = App::start(engine, &[]).await;
        let base = app.server.base.clone();
        case_reaches_stream(&app, &base, Duration::from_secs(30)).await;
    }
}

/// Many consoles on one server share the store's one watermark reader: a single case created
/// after they opened reaches every one of them (each stream's base is taken before its answer,
/// so no creation needs repeating here).
#[tokio::test]
async fn one_case_reaches_every_open_stream_of_a_server() {
    for engine in [Engine::Sqlite]
        .into_iter()
        .chain(postgres_configured().then_some(Engine::Postgres))
    {
        let app = App::start(engine, &[]).await;
        let base = app.server.base.clone();
        let console = login(&base, "sup", PASSWORD).await;
        let mut streams = Vec::new();
        for _ in 0..20 {
            let s = console
                .get(format!("{base}/console/events"))
                .send()
                .await
                .unwrap();
            assert_eq!(s.status(), 200);
            streams.push(s);
        }
        let (s, v) = app
            .call(
                "op",
                "POST",
                "/api/v1/cases",
                Some(&json!({"channel": "phone", "content": "路灯不亮"})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let deadline = Instant::now() + Duration::from_secs(30);
        for (i, stream) in streams.iter_mut().enumerate() {
            let mut seen = String::new();
            while !seen.contains("event: case") {
                match tokio::time::timeout_at(deadline, stream.chunk()).await {
                    Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
                    Ok(Ok(None)) => panic!("{engine:?}: stream {i} ended: {seen:?}"),
                    Ok(Err(e)) => panic!("{engine:?}: stream {i}: {e}"),
                    Err(_) => panic!("{engine:?}: stream {i} got no `case` event: {seen:?}"),
                }
            }
        }
    }
}
