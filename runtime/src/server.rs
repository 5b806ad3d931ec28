/*!
`serve(config, listener, shutdown)`: the one way `m110d serve`, `m110 up` and the tests start the
service — connect the store (migrations applied), build the region index once, start the
background jobs, serve HTTP until `shutdown` resolves, then drain requests, stop the jobs and
close the pool (SQLite checkpoints its WAL).

HTTP is served by hyper directly (axum's `serve` has no header timeout) with bounds
(`limits:` in `m110d.yaml`, [`crate::config::Limits`]; `docs/operations.md`, "Bounds"):

- a connection must deliver its request line and headers within `header_read_timeout` — its
  first request and every later one on a kept-alive connection, so an idle connection goes too;
- a request body must arrive within `body_read_timeout` plus one second per
  `body_min_rate_bytes` received ([`TimedBody`]; a trickle fails with 408, a slow but steady
  upload goes through);
- at most `max_connections` connections, and never more than the open-file limit leaves room
  for ([`connection_cap`]); at the cap a new connection displaces the oldest one that has no
  request in flight (a trickler or an idle keep-alive), and when every connection is busy it is
  answered 503 with `Retry-After` and closed;
- shutdown stops accepting, ends the live-update streams, lets requests in flight finish
  (at most [`DRAIN`]), then closes what is left.
*/

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tower::ServiceExt as _;

use crate::config::{Config, Limits};
use crate::console::sse::Streams;
use crate::engine::delivery::Deliverer;
use crate::engine::region::RegionIndex;
use crate::http::AppState;
use crate::http::guard::{BodyProgress, BodyReadTimeout};
use crate::http::metrics::Metrics;
use crate::jobs::{
    self, deadlines::DeadlineScan, delivery::Delivery, forward::StatusPull,
    triage::TriageModelReload,
};
use crate::store::{ConnectOptions, Engine, Store, redact_url};

/// Opens the store for serving: never creates a SQLite file (an unprovisioned path is an error).
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let engine = Engine::from_url(&config.database)?;
    let store = Store::connect_with(
        &config.database,
        &ConnectOptions {
            max_connections: config.pool_size.or(match engine {
                Engine::Sqlite => Some(4),
                Engine::Postgres => Some(16),
            }),
            create_if_missing: false,
            migrate: true,
            write_timeout: write_timeout()?,
            // The server checkpoints the WAL itself, off the request path (see `checkpointer`).
            background_checkpoint: engine == Engine::Sqlite,
            // `M110_GROUP_COMMIT=0`: one transaction per request, to measure what batching buys.
            group_commit: std::env::var("M110_GROUP_COMMIT").map_or(true, |v| v.trim() != "0"),
        },
    )
    .await
    .with_context(|| format!("cannot open database {}", redact_url(&config.database)))?;
    Ok(store)
}

/// The write bound: `M110_WRITE_TIMEOUT_MS` (100 – 60000), else 2 s. A writer that cannot get
/// the database within it answers 503 with `Retry-After` instead of waiting on.
fn write_timeout() -> anyhow::Result<Duration> {
    match std::env::var("M110_WRITE_TIMEOUT_MS") {
        Err(_) => Ok(crate::store::DEFAULT_WRITE_TIMEOUT),
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(ms) if (100..=60_000).contains(&ms) => Ok(Duration::from_millis(ms)),
            _ => anyhow::bail!(
                "M110_WRITE_TIMEOUT_MS={v:?}: give milliseconds between 100 and 60000 \
                 (写入等待上限，毫秒，100 至 60000)"
            ),
        },
    }
}

/// How often the SQLite checkpointer runs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// SQLite: folds the WAL into the database file in the background (`PRAGMA
/// wal_checkpoint(PASSIVE)`, which never waits for readers or writers), so that no request's
/// COMMIT runs the checkpoint — request connections have `wal_autocheckpoint = 0`. A reader that
/// holds an old snapshot only makes the checkpoint stop early; the next pass resumes. Does nothing
/// on PostgreSQL.
async fn checkpointer(store: Store, mut stop: watch::Receiver<bool>) {
    if store.engine() != Engine::Sqlite {
        return;
    }
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        if let Err(e) = store.checkpoint().await {
            tracing::warn!(error = %e, "WAL checkpoint failed (retried next pass)");
        }
    }
}

/// Builds the application state: store + region index (checked against the configured region).
pub async fn state(config: Config) -> anyhow::Result<AppState> {
    let store = open_store(&config).await?;
    let region = RegionIndex::load(&store)
        .await
        .context("cannot load the region from the database")?;
    if let Some(code) = &config.region
        && *code != region.code
    {
        anyhow::bail!(
            "m110d.yaml says region {code} but the database holds {} ({})",
            region.code,
            region.name
        );
    }
    // A model retrained from this install's cases replaces the one trained from the kit's bank.
    crate::engine::triage::training::load_latest(&store, &region)
        .await
        .context("cannot load the triage model")?;
    Ok(AppState::new(store, region, config))
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = state(config).await?;
    serve_state(state, listener, shutdown).await
}

/// Serves a prepared state until `shutdown` resolves.
pub async fn serve_state(
    mut state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // The address actually bound (port 0 picks one): Open311 links fall back to it when no
    // `public_url` is configured.
    let bound = listener.local_addr()?.to_string();
    if state.config.listen != bound {
        let mut config = (*state.config).clone();
        config.listen = bound;
        state.config = Arc::new(config);
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let jobs = tokio::spawn(jobs::run(
        DeadlineScan {
            store: state.store.clone(),
            region: Arc::clone(&state.region),
            handoff_ack_ms: state.config.handoff_ack_minutes * 60_000,
        },
        state.config.deadline_scan,
        state.metrics.clone(),
        stop_rx,
    ));
    let reload = tokio::spawn(jobs::run(
        TriageModelReload {
            store: state.store.clone(),
            region: Arc::clone(&state.region),
        },
        std::time::Duration::from_secs(60),
        state.metrics.clone(),
        stop_tx.subscribe(),
    ));
    let routing = tokio::spawn(jobs::run(
        crate::jobs::routing::RoutingReload {
            store: state.store.clone(),
            region: Arc::clone(&state.region),
            seen: Default::default(),
        },
        std::time::Duration::from_secs(5),
        state.metrics.clone(),
        stop_tx.subscribe(),
    ));
    let delivery = tokio::spawn(jobs::run(
        Delivery {
            store: state.store.clone(),
            region: Arc::clone(&state.region),
            deliverer: Deliverer::new(
                state.config.delivery_max_attempts,
                state.config.delivery_backoff_ms,
            ),
        },
        state.config.delivery_interval,
        state.metrics.clone(),
        stop_tx.subscribe(),
    ));
    let pull = tokio::spawn(jobs::run(
        StatusPull::new(state.store.clone(), Arc::clone(&state.region)),
        state.config.status_pull,
        state.metrics.clone(),
        stop_tx.subscribe(),
    ));
    let offers = tokio::spawn(jobs::run(
        crate::jobs::offers::OfferTimeouts {
            store: state.store.clone(),
            region: Arc::clone(&state.region),
        },
        std::time::Duration::from_secs(1),
        state.metrics.clone(),
        stop_tx.subscribe(),
    ));
    let warning = tokio::spawn(jobs::run(
        crate::jobs::warning::Warning {
            store: state.store.clone(),
            region: Arc::clone(&state.region),
        },
        state.config.warning_interval,
        state.metrics.clone(),
        stop_tx.subscribe(),
    ));
    let margins = tokio::spawn(jobs::run(
        crate::jobs::margins::Margins::new(state.store.clone()),
        std::time::Duration::from_secs(5),
        state.metrics.clone(),
        stop_tx.subscribe(),
    ));
    let sessions = tokio::spawn(jobs::run(
        crate::jobs::sessions::SessionPurge {
            store: state.store.clone(),
            idle_ms: state.config.session_idle.as_millis() as i64,
            rules: *state.login.rules(),
        },
        std::time::Duration::from_secs(300),
        state.metrics.clone(),
        stop_tx.subscribe(),
    ));
    let checkpoints = tokio::spawn(checkpointer(state.store.clone(), stop_tx.subscribe()));
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        region = %state.region.code,
        engine = state.store.engine().as_str(),
        version = crate::VERSION,
        "m110d serving"
    );
    let store = state.store.clone();
    let limits = state.config.limits.clone();
    let metrics = state.metrics.clone();
    let streams = Streams::new(limits.max_streams, limits.max_streams_per_user);
    let app = crate::router::app(state, Arc::clone(&streams));
    let result = serve_http(listener, app, limits, metrics, streams, shutdown).await;
    let _ = stop_tx.send(true);
    let _ = jobs.await;
    let _ = reload.await;
    let _ = margins.await;
    let _ = sessions.await;
    let _ = routing.await;
    let _ = delivery.await;
    let _ = pull.await;
    let _ = warning.await;
    let _ = offers.await;
    let _ = checkpoints.await;
    store.close().await;
    tracing::info!("m110d stopped");
    result.context("HTTP server failed")
}

/// How long shutdown waits for requests in flight before closing their connections.
pub const DRAIN: Duration = Duration::from_secs(25);

/// File descriptors kept free of client connections: the database pool (SQLite: three files a
/// connection), attachments, logs, the runtime's own, refusals in flight.
const FD_RESERVE: usize = 64;

/// Connections being answered 503 at once; past it a connection is closed without a word.
const MAX_REFUSING: usize = 16;

/// `Retry-After` of the 503 given at the connection cap.
const FULL_RETRY_SECS: u64 = 5;

/// The soft open-file limit of this process (Linux: `/proc/self/limits`), if known.
fn open_file_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The connection cap: `max_connections`, lowered to what the open-file limit leaves after
/// [`FD_RESERVE`] (never below 8) — past the limit `accept` fails and even `/healthz` goes
/// unanswered.
pub fn connection_cap(max_connections: usize, open_files: Option<usize>) -> usize {
    match open_files {
        Some(n) => max_connections.min(n.saturating_sub(FD_RESERVE).max(8)),
        None => max_connections,
    }
}

/// One client connection as the accept loop sees it.
struct Conn {
    id: u64,
    /// Requests whose answer is not fully sent yet (a live-update stream stays in flight).
    in_flight: AtomicUsize,
    /// Requests started on this connection.
    requests: AtomicU64,
    /// Chosen to make room: closes now.
    evicted: AtomicBool,
    close: Notify,
}

/// The open connections.
struct Conns {
    map: Mutex<HashMap<u64, Arc<Conn>>>,
    next: AtomicU64,
    /// Wakes shutdown when the last connection closes.
    empty: Notify,
}

impl Conns {
    fn new() -> Arc<Conns> {
        Arc::new(Conns {
            map: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            empty: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connections open and not on their way out.
    fn live(&self) -> usize {
        self.lock()
            .values()
            .filter(|c| !c.evicted.load(Ordering::Relaxed))
            .count()
    }

    fn add(&self) -> Arc<Conn> {
        let conn = Arc::new(Conn {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            in_flight: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            close: Notify::new(),
        });
        self.lock().insert(conn.id, Arc::clone(&conn));
        conn
    }

    fn remove(&self, id: u64) {
        let mut map = self.lock();
        map.remove(&id);
        if map.is_empty() {
            self.empty.notify_waiters();
        }
    }

    /// Closes the oldest connection with no request in flight; false when every one is busy.
    fn evict_idle(&self) -> bool {
        let map = self.lock();
        let victim = map
            .values()
            .filter(|c| {
                !c.evicted.load(Ordering::Relaxed) && c.in_flight.load(Ordering::Relaxed) == 0
            })
            .min_by_key(|c| c.id);
        match victim {
            Some(c) => {
                c.evicted.store(true, Ordering::Relaxed);
                c.close.notify_one();
                true
            }
            None => false,
        }
    }

    /// Closes every connection now (the drain is over).
    fn close_all(&self) {
        for c in self.lock().values() {
            c.evicted.store(true, Ordering::Relaxed);
            c.close.notify_one();
        }
    }
}

/// Marks a request in flight on its connection until dropped (with the answer's body).
struct InFlight(Arc<Conn>);

impl InFlight {
    fn new(conn: &Arc<Conn>) -> InFlight {
        conn.in_flight.fetch_add(1, Ordering::Relaxed);
        conn.requests.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(conn))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An answer's body that keeps its request in flight until it is sent (or dropped).
struct Answer {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A request body with a deadline: `body_read_timeout` after the request began, plus one
/// second per `body_min_rate_bytes` received. Past it the body fails with
/// [`BodyReadTimeout`] (the input guard answers 408).
pub struct TimedBody {
    inner: Incoming,
    start: tokio::time::Instant,
    base: Duration,
    min_rate: u64,
    received: u64,
    deadline: Pin<Box<tokio::time::Sleep>>,
    progress: Arc<BodyProgress>,
    over: bool,
}

impl TimedBody {
    fn new(inner: Incoming, limits: &Limits, progress: Arc<BodyProgress>) -> TimedBody {
        let start = tokio::time::Instant::now();
        TimedBody {
            inner,
            start,
            base: limits.body_read_timeout,
            min_rate: limits.body_min_rate_bytes.max(1),
            received: 0,
            deadline: Box::pin(tokio::time::sleep_until(start + limits.body_read_timeout)),
            progress,
            over: false,
        }
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.over {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let earned =
                        Duration::from_secs_f64(this.received as f64 / this.min_rate as f64);
                    let at = this.start + this.base + earned;
                    this.deadline.as_mut().reset(at);
                }
                this.progress.frame();
                // A reader may stop at the last byte it was promised without asking again.
                if this.inner.is_end_stream() {
                    this.progress.complete();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.over = true;
                this.progress.finish();
                Poll::Ready(Some(Err(e.into())))
            }
            Poll::Ready(None) => {
                this.over = true;
                this.progress.complete();
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    this.over = true;
                    this.progress.finish();
                    return Poll::Ready(Some(Err(Box::new(BodyReadTimeout))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.over || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The connection-level answer at the cap: a 503 JSON error with `Retry-After`, then close.
async fn refuse(mut stream: TcpStream) {
    let body = format!(
        "{{\"error\":{{\"code\":\"too_many_connections\",\"message\":\"the server is at its connection limit; retry in {FULL_RETRY_SECS} s\"}}}}"
    );
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: {FULL_RETRY_SECS}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let answer = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client sent until it closes, so the close is not a reset that could
        // destroy the answer before the client reads it.
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), answer).await;
}

/// Accepts and serves connections until `shutdown` resolves, then drains them.
async fn serve_http(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    streams: Arc<Streams>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let open_files = open_file_limit();
    let cap = connection_cap(limits.max_connections, open_files);
    if cap < limits.max_connections {
        tracing::warn!(
            cap,
            configured = limits.max_connections,
            open_files,
            "connection cap lowered to fit the open-file limit (raise LimitNOFILE)"
        );
    }
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .max_concurrent_streams(64);
    let builder = Arc::new(builder);
    let conns = Conns::new();
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let (stop_tx, stop_rx) = watch::channel(false);
    let limits = Arc::new(limits);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(v) => v,
            Err(e) => {
                // Out of file descriptors (or a connection reset before accept): make room and
                // pause briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                conns.evict_idle();
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if conns.live() >= cap && !conns.evict_idle() {
            metrics.connection_refused();
            match Arc::clone(&refusing).try_acquire_owned() {
                Ok(permit) => {
                    tokio::spawn(async move {
                        refuse(stream).await;
                        drop(permit);
                    });
                }
                Err(_) => drop(stream),
            }
            continue;
        }
        let _ = stream.set_nodelay(true);
        let conn = conns.add();
        metrics.connection_opened();
        tokio::spawn(serve_connection(
            Arc::clone(&builder),
            stream,
            peer,
            app.clone(),
            conn,
            Arc::clone(&conns),
            Arc::clone(&limits),
            Arc::clone(&metrics),
            stop_rx.clone(),
        ));
    }
    drop(listener);
    streams.close_all();
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(DRAIN, async {
        loop {
            let empty = conns.empty.notified();
            if conns.lock().is_empty() {
                return;
            }
            empty.await;
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = conns.lock().len(),
            "drain bound reached; closing connections"
        );
        conns.close_all();
    }
    Ok(())
}

/// Serves one connection until it ends, is evicted, or the server stops (gracefully: requests
/// in flight finish).
#[allow(
    clippy::too_many_arguments,
    reason = "one spawned task's inputs, passed once"
)]
async fn serve_connection(
    builder: Arc<Builder<TokioExecutor>>,
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    conn: Arc<Conn>,
    conns: Arc<Conns>,
    limits: Arc<Limits>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let service = {
        let conn = Arc::clone(&conn);
        let limits = Arc::clone(&limits);
        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let app = app.clone();
            let in_flight = InFlight::new(&conn);
            let limits = Arc::clone(&limits);
            async move {
                let empty = req.body().is_end_stream();
                let progress = BodyProgress::new(empty);
                // No body (most GETs): no deadline to keep.
                let mut req = req.map(|b| {
                    if empty {
                        Body::new(b)
                    } else {
                        Body::new(TimedBody::new(b, &limits, Arc::clone(&progress)))
                    }
                });
                let http1 = req.version() <= hyper::Version::HTTP_11;
                req.extensions_mut().insert(Arc::clone(&progress));
                req.extensions_mut().insert(ConnectInfo(peer));
                let mut resp = match app.oneshot(req).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                };
                // Answered before the body was read (a 401/403 before the handler, a 413, a
                // body timeout): the rest of the body is still on the connection, so hyper
                // closes it after this answer. Say so, or a client sends its next request on
                // a connection about to close and gets no answer.
                if http1 && !progress.is_complete() {
                    resp.headers_mut().insert(
                        axum::http::header::CONNECTION,
                        axum::http::HeaderValue::from_static("close"),
                    );
                }
                Ok::<_, Infallible>(resp.map(|inner| Answer {
                    inner,
                    _in_flight: in_flight,
                }))
            }
        })
    };
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    // The first request must come within the header timeout — hyper's own timer covers
    // HTTP/1 heads, this covers a connection that never says which protocol it speaks.
    let first = tokio::time::sleep(limits.header_read_timeout);
    tokio::pin!(first);
    let mut first_checked = false;
    let mut stopping = *stop.borrow();
    if stopping {
        connection.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                break;
            }
            () = &mut first, if !first_checked => {
                first_checked = true;
                if conn.requests.load(Ordering::Relaxed) == 0 {
                    tracing::debug!(%peer, "no request within the header timeout; closed");
                    break;
                }
            }
            () = conn.close.notified() => {
                tracing::debug!(%peer, "connection closed to make room");
                metrics.connection_evicted();
                break;
            }
            changed = stop.changed(), if !stopping => {
                if changed.is_err() || *stop.borrow() {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
    conns.remove(conn.id);
    metrics.connection_closed();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_the_open_file_limit() {
        assert_eq!(connection_cap(1024, None), 1024);
        assert_eq!(connection_cap(1024, Some(65536)), 1024);
        assert_eq!(connection_cap(1024, Some(256)), 192);
        assert_eq!(connection_cap(1024, Some(20)), 8);
        assert!(open_file_limit().is_some_and(|n| n > 0) || !cfg!(target_os = "linux"));
    }

    #[test]
    fn eviction_takes_the_oldest_idle_connection() {
        let conns = Conns::new();
        let a = conns.add();
        let b = conns.add();
        let c = conns.add();
        let _busy = InFlight::new(&a);
        assert_eq!(conns.live(), 3);
        assert!(conns.evict_idle());
        assert!(b.evicted.load(Ordering::Relaxed) && !a.evicted.load(Ordering::Relaxed));
        assert_eq!(conns.live(), 2);
        assert!(conns.evict_idle());
        assert!(c.evicted.load(Ordering::Relaxed));
        // Only the busy one is left: nothing to evict.
        assert!(!conns.evict_idle());
        conns.remove(b.id);
        conns.remove(c.id);
        conns.remove(a.id);
        assert!(conns.lock().is_empty());
    }
}
