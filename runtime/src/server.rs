/*!
`serve(config, listener, shutdown)`: the one way `m110d serve`, `m110 up` and the tests start the
service — connect the store (migrations applied), build the region index once, start the
background jobs, serve HTTP until `shutdown` resolves, then drain requests, stop the jobs and
close the pool (SQLite checkpoints its WAL).
*/

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::engine::delivery::Deliverer;
use crate::engine::region::RegionIndex;
use crate::http::AppState;
use crate::jobs::{
    self, deadlines::DeadlineScan, delivery::Delivery, forward::StatusPull,
    triage::TriageModelReload,
};
use crate::router::router;
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
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
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
    let app = router(state);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    let _ = jobs.await;
    let _ = reload.await;
    let _ = margins.await;
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
