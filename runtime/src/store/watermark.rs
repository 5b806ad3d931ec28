/*!
The watermark hub: one reader of the console watermark ([`Store::console_watermark`]) per store,
shared by every open live-update stream (`console::sse`).

Each stream used to read the watermark itself whenever the change counter
([`super::changes`]) moved, so a commit cost one read per open console: with 500 consoles
open on a busy center, 500 reads per second. Now a single reader task per store waits for the
counter, reads the watermark at most once per [`MIN_INTERVAL`] (and once per [`CATCH_UP`] even
when nothing moved: on SQLite, a write by another process on the same file — an `m110`
command — bumps no counter here) and publishes it on a `watch` channel. Streams subscribe to
that channel; they wake only when the published watermark actually changes, so a commit that
does not touch cases (a login, an audit row) costs one read in all and no stream wake-up.

- The reader starts with the first subscriber (on the caller's runtime) and stops when the
  last one is gone — an idle center with no console open reads nothing — or when the store is
  dropped (its change counter closes). While it is stopped the published value is `None`:
  nothing keeps it current, so a new subscriber waits for the restarted reader's first read.
- It holds the store's pool and the counter's receiver, never the store itself, so dropping
  the last store clone ends it (like the change counter's own tasks).
- Lives in the store, not in the console, because it is per-store state around a store
  query, started and stopped with the store; the console keeps what is about its streams —
  which events a change of the watermark means.
*/

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sqlx::AnyPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::console::Watermark;
use super::{Engine, Store};

/// The least time between two watermark reads, however busy the center.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest the reader goes without a read while anyone subscribes.
pub const CATCH_UP: Duration = Duration::from_secs(60);

/// One store's watermark reader (shared by its clones; kept in its change hub).
#[derive(Clone, Default)]
pub struct WatermarkHub(Arc<Shared>);

struct Shared {
    /// The latest watermark read; `None` while no reader runs.
    published: watch::Sender<Option<Watermark>>,
    /// The reader task, while anyone subscribes.
    task: Mutex<Option<JoinHandle<()>>>,
    /// When the last read started: a restarted reader keeps [`MIN_INTERVAL`] too.
    last_read: Mutex<Option<Instant>>,
    /// Reads started so far (what the streams cost the database).
    reads: AtomicU64,
    /// [`CATCH_UP`] in milliseconds; shorter in tests, which cannot wait a minute.
    catch_up_ms: AtomicU64,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            published: watch::channel(None).0,
            task: Mutex::new(None),
            last_read: Mutex::new(None),
            reads: AtomicU64::new(0),
            catch_up_ms: AtomicU64::new(CATCH_UP.as_millis() as u64),
        }
    }
}

impl std::fmt::Debug for WatermarkHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatermarkHub")
            .field("published", &*self.0.published.borrow())
            .field("reads", &self.reads())
            .finish()
    }
}

/// A poisoned lock only means a panic elsewhere; the data it guards stays consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl WatermarkHub {
    /// Watermark reads started so far by this store's reader.
    pub fn reads(&self) -> u64 {
        self.0.reads.load(Ordering::Relaxed)
    }

    /// A receiver of the published watermark; starts the reader when none runs.
    fn subscribe(&self, store: &Store) -> watch::Receiver<Option<Watermark>> {
        // Under the task lock, so the reader cannot decide that nobody listens in between.
        let mut task = lock(&self.0.task);
        let rx = self.0.published.subscribe();
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return rx;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return rx;
        };
        if task.take().is_some() {
            // A reader that ended without stopping cleanly (its runtime is gone, the pool was
            // closed) left a value that nobody keeps current.
            self.0.published.send_replace(None);
        }
        let counter = store.changes().subscribe();
        *task = Some(runtime.spawn(read_loop(
            self.0.clone(),
            store.pool().clone(),
            store.engine(),
            counter,
        )));
        rx
    }
}

impl Shared {
    /// Stops the reader when nobody subscribes any more; `true`: it must end.
    fn stop_if_idle(&self) -> bool {
        let mut task = lock(&self.task);
        if self.published.receiver_count() > 0 {
            return false;
        }
        self.published.send_replace(None);
        *task = None;
        true
    }

    /// Publishes `now`, waking the subscribers only if it differs from what they have.
    fn publish(&self, now: Watermark) {
        self.published.send_if_modified(|v| {
            let moved = *v != Some(now);
            *v = Some(now);
            moved
        });
    }
}

/// The reader: a first read at once (or [`MIN_INTERVAL`] after the previous reader's last),
/// then one per counter move (coalesced, at most one per interval) or per [`CATCH_UP`].
async fn read_loop(
    shared: Arc<Shared>,
    pool: AnyPool,
    engine: Engine,
    mut counter: watch::Receiver<u64>,
) {
    // Every commit up to here is covered by the first read.
    counter.borrow_and_update();
    let mut first = true;
    loop {
        let last = *lock(&shared.last_read);
        if !std::mem::take(&mut first) {
            let every = Duration::from_millis(shared.catch_up_ms.load(Ordering::Relaxed));
            let catch_up = last.map_or_else(Instant::now, |t| t + every);
            tokio::select! {
                changed = counter.changed() => {
                    if changed.is_err() {
                        return; // the store is gone
                    }
                }
                () = tokio::time::sleep_until(catch_up) => {}
                () = shared.published.closed() => {
                    if shared.stop_if_idle() {
                        return;
                    }
                    continue;
                }
            }
        }
        if let Some(t) = last {
            tokio::time::sleep_until(t + MIN_INTERVAL).await;
        }
        if counter.has_changed().is_err() || shared.stop_if_idle() {
            return;
        }
        // Commits up to here are covered by this read; a later one moves the counter again.
        counter.borrow_and_update();
        *lock(&shared.last_read) = Some(Instant::now());
        shared.reads.fetch_add(1, Ordering::Relaxed);
        match super::console::read_watermark(&pool, engine).await {
            Ok(now) => shared.publish(now),
            Err(_) if pool.is_closed() => return,
            Err(e) => {
                // Read again after the interval: the change that woke us must still arrive.
                tracing::warn!(error = %e, "console watermark read failed");
                counter.mark_changed();
            }
        }
    }
}

impl Store {
    /// The published console watermark, for a live-update stream (see the module docs). The
    /// receiver's current value is the latest read — `None` until the reader's first read when
    /// this subscription started it — and it changes only when the watermark moves.
    pub fn watermarks(&self) -> watch::Receiver<Option<Watermark>> {
        self.changes().watermark().subscribe(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::cases::{NewCase, insert_case};
    use crate::store::testdb::{TestDb, test_engines};

    /// Commits one new case: the watermark's `last_id` moves.
    async fn add_case(store: &Store) {
        let mut tx = store.write().await.unwrap();
        let case = NewCase {
            channel: "phone".into(),
            caller_id: None,
            content: "路灯不亮".into(),
            category_code: None,
            grid_code: None,
            address: None,
            lat: None,
            lon: None,
            priority: "normal".into(),
            status: "received".into(),
            operator_id: None,
            unit_id: None,
            sign_due: None,
            close_due: None,
            dispatched_at: None,
            open311_token: None,
            external_id: None,
            emergency_line: None,
            handoff_state: None,
            handoff_ref: None,
            created_at: 1_795_881_600_000,
        };
        insert_case(&mut tx, store.engine(), "350781", &case)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// The first published watermark (the reader's first read), bounded.
    async fn first(rx: &mut watch::Receiver<Option<Watermark>>) -> Watermark {
        let v = tokio::time::timeout(Duration::from_secs(10), rx.wait_for(Option::is_some))
            .await
            .expect("no first watermark within 10 s")
            .expect("the reader's channel closed");
        v.expect("waited for Some")
    }

    /// Waits for the next published change, bounded.
    async fn next(rx: &mut watch::Receiver<Option<Watermark>>) -> Option<Watermark> {
        tokio::time::timeout(Duration::from_secs(10), rx.changed())
            .await
            .expect("no watermark change within 10 s")
            .expect("the reader's channel closed");
        *rx.borrow_and_update()
    }

    async fn a_commit_after_subscribing_reaches_every_subscriber_through_one_read_on(
        engine: Engine,
    ) {
        let db = TestDb::new(engine).await;
        let store = &db.store;
        let mut a = store.watermarks();
        let mut b = store.watermarks();
        let start = first(&mut a).await;
        assert_eq!(first(&mut b).await, start);
        // Two subscribers, one reader: a single first read.
        assert_eq!(store.changes().watermark().reads(), 1);

        add_case(store).await;
        let moved = next(&mut a).await.expect("a value");
        assert_eq!(moved.last_id, start.last_id + 1);
        assert_eq!(next(&mut b).await, Some(moved));
        assert_eq!(store.changes().watermark().reads(), 2, "one read for both");
    }

    async fn a_commit_that_leaves_the_watermark_alone_wakes_no_subscriber_on(engine: Engine) {
        let db = TestDb::new(engine).await;
        let store = &db.store;
        let mut rx = store.watermarks();
        first(&mut rx).await;
        // A write that touches no case: the reader reads, the subscriber is not woken.
        store.write().await.unwrap().commit().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while store.changes().watermark().reads() < 2 {
            assert!(Instant::now() < deadline, "the commit caused no read");
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The read may still be publishing: a case added now must be the only change seen.
        add_case(store).await;
        let moved = next(&mut rx).await.expect("a value");
        assert_eq!(moved.last_id, 1);
    }

    async fn the_overdue_count_counts_open_overdue_cases_only_on(engine: Engine) {
        let db = TestDb::new(engine).await;
        let store = &db.store;
        for _ in 0..3 {
            add_case(store).await;
        }
        // Case 1 overdue and open, case 2 overdue but closed, case 3 open and on time.
        let mut tx = store.write().await.unwrap();
        for (id, status) in [(1_i64, "received"), (2, "closed")] {
            sqlx::query("UPDATE cases SET overdue_close = 1, status = $1 WHERE id = $2")
                .bind(status)
                .bind(id)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let mark = store.console_watermark().await.unwrap();
        assert_eq!((mark.last_id, mark.overdue), (3, 1));
        let headline = store.console_headline(0).await.unwrap();
        assert_eq!((headline.open, headline.overdue), (2, 1));
    }

    #[tokio::test]
    async fn a_commit_after_subscribing_reaches_every_subscriber_through_one_read() {
        for engine in test_engines() {
            a_commit_after_subscribing_reaches_every_subscriber_through_one_read_on(engine).await;
        }
    }

    #[tokio::test]
    async fn a_commit_that_leaves_the_watermark_alone_wakes_no_subscriber() {
        for engine in test_engines() {
            a_commit_that_leaves_the_watermark_alone_wakes_no_subscriber_on(engine).await;
        }
    }

    #[tokio::test]
    async fn the_overdue_count_counts_open_overdue_cases_only() {
        for engine in test_engines() {
            the_overdue_count_counts_open_overdue_cases_only_on(engine).await;
        }
    }

    /// Idle: with subscribers and no commit the reader sleeps until the catch-up read, and with
    /// no subscriber left it stops (and a new one restarts it with a fresh read).
    #[tokio::test]
    async fn idle_streams_cost_no_read_until_the_catch_up() {
        let db = TestDb::new(Engine::Sqlite).await;
        let store = &db.store;
        let hub = store.changes().watermark().clone();
        let catch_up = Duration::from_millis(1500);
        hub.0
            .catch_up_ms
            .store(catch_up.as_millis() as u64, Ordering::Relaxed);
        let last_read = || lock(&hub.0.last_read).expect("a read started");
        let mut rx = store.watermarks();
        first(&mut rx).await;
        assert_eq!(hub.reads(), 1);
        let first_read = last_read();

        // Nothing committed: the next read is the catch-up, not one per interval before it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while hub.reads() < 2 {
            assert!(Instant::now() < deadline, "no catch-up read");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            last_read() - first_read >= catch_up,
            "an idle reader read {:?} after the last read",
            last_read() - first_read
        );

        // The last subscriber leaves: the reader stops and the value is no longer vouched for.
        drop(rx);
        while lock(&hub.0.task).is_some() {
            assert!(Instant::now() < deadline, "the reader did not stop");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(*hub.0.published.borrow(), None);
        // Commits with nobody listening cost nothing: no reader runs to read.
        let reads = hub.reads();
        add_case(store).await;
        assert!(lock(&hub.0.task).is_none());
        // A new subscriber gets the current watermark from a fresh read.
        let mut rx = store.watermarks();
        assert_eq!(first(&mut rx).await.last_id, 1);
        assert_eq!(hub.reads(), reads + 1);
    }
}
