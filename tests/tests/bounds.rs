//! Bounded resources (issue 14): a connection that trickles its headers is closed at the header
//! timeout while the server keeps answering; live-update streams are capped per user and in
//! total with a 503 and `Retry-After`; a stream ends when its session does (logout); `/metrics`
//! behind its token, labelled by a fixed method set; Open311 discovery from the configured
//! public URL, whatever `Host` says. The bounds are set small in the install's `m110d.yaml`.

use std::io::Write as _;
use std::time::Duration;

use m110_e2e::{App, Engine, Install, PASSWORD, login, per_engine};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::time::Instant;

const METRICS_TOKEN: &str = "metrics-token-for-tests-0123456789";

/// Shaowu with small bounds, a metrics token and a public URL.
async fn app(engine: Engine) -> App {
    let install = Install::provision(engine, "shaowu").await;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(install.path().join("m110d.yaml"))
        .unwrap();
    write!(
        f,
        "\npublic_url: https://m110.example.gov.cn/\nmetrics_token: {METRICS_TOKEN}\n\
         limits:\n  header_read_timeout_seconds: 1\n  body_read_timeout_seconds: 1\n  \
         max_connections: 8\n  max_streams: 2\n  max_streams_per_user: 1\n"
    )
    .unwrap();
    App::with_install(install, &[])
}

/// Reads from `stream` until it ends; fails the test if it has not within `limit`.
async fn stream_ends(resp: &mut reqwest::Response, limit: Duration, what: &str) {
    let deadline = Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) | Ok(Err(_)) => return,
            Err(_) => panic!("{what}: the stream is still open after {limit:?}"),
        }
    }
}

per_engine!(slow_clients_and_streams_are_bounded);
async fn slow_clients_and_streams_are_bounded(engine: Engine) {
    let app = app(engine).await;
    let base = app.server.base.clone();
    let addr = base.trim_start_matches("http://").to_string();

    // A client trickling its headers, one byte every 200 ms, is cut off at the header timeout
    // (1 s); the server keeps answering others meanwhile.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (mut rd, mut wr) = slow.into_split();
    let trickle = tokio::spawn(async move {
        loop {
            if wr.write_all(b"X").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let mut buf = [0u8; 512];
    let closed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                // A 408 may come first; the close follows.
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "a trickling connection is still open after 15 s"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    trickle.abort();

    // A connection that never sends a byte goes too.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(15), idle.read(&mut buf))
        .await
        .expect("an idle connection is still open after 15 s");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");

    // A body that stalls is cut at the body deadline: 408 in the JSON error format.
    let mut post = tokio::net::TcpStream::connect(&addr).await.unwrap();
    post.write_all(
        b"POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"chan",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    let cut = tokio::time::timeout(Duration::from_secs(15), async {
        while !String::from_utf8_lossy(&answer).contains("body_timeout") {
            match post.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let answer = String::from_utf8_lossy(&answer).to_string();
    assert!(cut.is_ok(), "a stalled body got no answer: {answer:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"field\":\"body\""), "{answer}");

    // At the connection cap (8), idle connections make room for a new one.
    let mut crowd = Vec::new();
    for _ in 0..12 {
        crowd.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    drop(crowd);

    // Streams: one per user, two in all; past either bound a 503 page with Retry-After.
    let sup = login(&base, "sup", PASSWORD).await;
    let mut first = sup
        .get(format!("{base}/console/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let again = sup
        .get(format!("{base}/console/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 503);
    assert!(again.headers().contains_key("retry-after"));
    assert!(
        again.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let op = login(&base, "op", PASSWORD).await;
    let second = op
        .get(format!("{base}/console/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    let disp = login(&base, "disp", PASSWORD).await;
    let full = disp
        .get(format!("{base}/console/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), 503);
    assert!(full.headers().contains_key("retry-after"));
    // A closed stream gives its place back.
    drop(second);
    let third = m110_e2e::eventually(
        "a place freed by a closed stream",
        Duration::from_secs(40),
        || {
            let disp = disp.clone();
            let url = format!("{base}/console/events");
            async move {
                let r = disp.get(url).send().await.unwrap();
                (r.status() == 200).then_some(r)
            }
        },
    )
    .await;
    drop(third);

    // Logout ends the user's stream (the stream re-checks its session every few seconds).
    let out = sup
        .post(format!("{base}/api/v1/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    stream_ends(&mut first, Duration::from_secs(20), "after logout").await;

    // /metrics wants its token, and labels methods from a fixed set.
    let m = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(m.status(), 401);
    let http = reqwest::Client::new();
    let odd = http
        .request(
            reqwest::Method::from_bytes(b"BREW").unwrap(),
            format!("{base}/healthz"),
        )
        .send()
        .await
        .unwrap();
    assert!(odd.status().is_client_error(), "{}", odd.status());
    let text = http
        .get(format!("{base}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("m110_connections_open"), "{text}");
    assert!(!text.contains("BREW"), "{text}");
    assert!(text.contains("method=\"other\""), "{text}");

    // Open311 discovery names the configured public URL, not the Host header.
    let d: serde_json::Value = http
        .get(format!("{base}/open311/v2/discovery.json"))
        .header("host", "evil.example.com")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        d["endpoints"][0]["url"], "https://m110.example.gov.cn/open311/v2",
        "{d}"
    );
}

per_engine!(an_answer_before_the_body_is_read_closes_the_connection_and_says_so);
/// A request refused before its body is read (401 on a JSON route without credentials, for a
/// body over the limit, which the input guard does not buffer) is
/// answered with `Connection: close` — the unread body is still on the connection, which the
/// server then closes — so a client does not send its next request into a closing connection.
/// A request whose body was read keeps the connection open.
async fn an_answer_before_the_body_is_read_closes_the_connection_and_says_so(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let server = install.serve(&[]);
    let addr = server.base.trim_start_matches("http://").to_string();
    // One raw HTTP/1.1 exchange on a fresh connection: the response head.
    let exchange = |request: Vec<u8>| {
        let addr = addr.clone();
        async move {
            let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
            s.write_all(&request).await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
                    .await
                    .expect("an answer within 10 s")
                    .unwrap();
                assert!(n > 0, "closed without an answer");
                head.extend_from_slice(&buf[..n]);
            }
            String::from_utf8_lossy(&head).to_ascii_lowercase()
        }
    };
    // Over the body limit (64 KiB), so the input guard passes it on unread and authorization
    // answers first; a smaller JSON body is read whole by the guard.
    let body = format!(
        "{{\"channel\":\"web\",\"content\":\"{}\"}}",
        "路".repeat(40_000)
    );
    let unread = exchange(
        format!(
            "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
    .await;
    assert!(unread.starts_with("http/1.1 401"), "{unread}");
    assert!(unread.contains("connection: close"), "{engine:?}: {unread}");
    let login = r#"{"name":"nobody","password":"x"}"#;
    let read = exchange(
        format!(
            "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{login}",
            login.len()
        )
        .into_bytes(),
    )
    .await;
    assert!(read.starts_with("http/1.1 401"), "{read}");
    assert!(!read.contains("connection: close"), "{engine:?}: {read}");
}
