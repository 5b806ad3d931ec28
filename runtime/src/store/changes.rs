/*!
The change counter: what tells the live-update streams' shared watermark reader that something
was written, so idle consoles cost nothing and a busy center reads its watermark at most once per
interval.

- Every committed [`super::WriteTx`] (a single write or a group-commit batch) bumps the
  store's counter ([`ChangeHub::bump`]) after its COMMIT returned — a stream woken by it
  therefore always reads the committed rows.
- On PostgreSQL several `m110d` may serve one database. A local bump is passed on with
  `pg_notify('m110_changes', <instance>)` by a notifier task (bursts coalesce into one
  NOTIFY: the task sends one per wake-up, however many commits happened meanwhile), and a
  listener task (`LISTEN m110_changes`) bumps the counter for notifications from the other
  instances. Both start with the first subscription or bump, on the caller's runtime.
- A lost connection cannot lose a change silently: the listener bumps the counter when it
  reconnects, so streams re-read their watermark once.

The counter says "something committed", not what: one reader per store
([`super::watermark`]) re-reads a cheap watermark ([`Store::console_watermark`]) and the streams
compare it to decide which events to send, so a write that does not touch cases (a login, an
audit row) costs one indexed read in all, not one per stream nor a refresh of every page.
*/

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Engine, Store};

/// The PostgreSQL notification channel shared by every instance on one database.
pub const CHANNEL: &str = "m110_changes";

/// How long the listener waits before reconnecting after an error.
const RECONNECT: Duration = Duration::from_secs(1);

/// One store's change counter (shared by its clones).
#[derive(Clone)]
pub struct ChangeHub(Arc<Inner>);

struct Inner {
    /// Every change seen: local commits and other instances' notifications.
    all: watch::Sender<u64>,
    /// Local commits only: what the notifier passes on to the other instances.
    local: watch::Sender<u64>,
    /// PostgreSQL: the database URL the listener connects to; `None` on SQLite.
    pg_url: Option<String>,
    /// Tells this instance's own notifications apart from the others'.
    instance: String,
    tasks: Mutex<Option<(JoinHandle<()>, JoinHandle<()>)>>,
    /// The one watermark reader the live-update streams share (see [`super::watermark`]).
    watermark: super::watermark::WatermarkHub,
}

impl std::fmt::Debug for ChangeHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeHub")
            .field("count", &*self.0.all.borrow())
            .finish()
    }
}

impl ChangeHub {
    pub(super) fn new(engine: Engine, url: &str) -> ChangeHub {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        ChangeHub(Arc::new(Inner {
            all: watch::channel(0).0,
            local: watch::channel(0).0,
            pg_url: (engine == Engine::Postgres).then(|| url.to_string()),
            instance: format!("{}-{nanos}", std::process::id()),
            tasks: Mutex::new(None),
            watermark: Default::default(),
        }))
    }

    /// A write committed here: wake this process's streams and, on PostgreSQL, the others'.
    pub fn bump(&self) {
        self.0.all.send_modify(|n| *n = n.wrapping_add(1));
        if self.0.pg_url.is_some() {
            self.0.local.send_modify(|n| *n = n.wrapping_add(1));
            self.ensure_tasks();
        }
    }

    /// A receiver that sees every later change (local or, on PostgreSQL, from another
    /// instance). The current value counts as seen.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.ensure_tasks();
        self.0.all.subscribe()
    }

    /// The number of changes seen so far (wrapping).
    pub fn count(&self) -> u64 {
        *self.0.all.borrow()
    }

    /// The store's shared watermark reader, woken by this counter.
    pub fn watermark(&self) -> &super::watermark::WatermarkHub {
        &self.0.watermark
    }

    /// PostgreSQL: starts (or restarts, when the runtime that ran them is gone) the listener
    /// and the notifier. They hold the hub weakly and end once every store clone is dropped.
    fn ensure_tasks(&self) {
        let Some(url) = self.0.pg_url.clone() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut tasks = self.0.tasks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((a, b)) = tasks.as_ref()
            && !a.is_finished()
            && !b.is_finished()
        {
            return;
        }
        if let Some((a, b)) = tasks.take() {
            a.abort();
            b.abort();
        }
        let weak = Arc::downgrade(&self.0);
        let listener = runtime.spawn(listen(url.clone(), weak.clone()));
        let notifier = runtime.spawn(notify(url, weak));
        *tasks = Some((listener, notifier));
    }
}

/// `LISTEN`s and bumps the counter for every other instance's notification.
async fn listen(url: String, hub: Weak<Inner>) {
    let mut first = true;
    loop {
        let result = async {
            let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
            listener.listen(CHANNEL).await?;
            if !std::mem::take(&mut first) {
                // Reconnected: what was notified meanwhile is lost, so re-read once.
                let Some(inner) = hub.upgrade() else {
                    return Ok(());
                };
                inner.all.send_modify(|n| *n = n.wrapping_add(1));
            }
            loop {
                // Wakes now and then to notice a dropped store even when nothing is notified.
                let next = tokio::time::timeout(Duration::from_secs(30), listener.recv()).await;
                let Some(inner) = hub.upgrade() else {
                    return Ok(());
                };
                match next {
                    Ok(Ok(n)) if n.payload() != inner.instance => {
                        inner.all.send_modify(|c| *c = c.wrapping_add(1));
                    }
                    Ok(Ok(_)) | Err(_) => {}
                    Ok(Err(e)) => return Err::<(), sqlx::Error>(e),
                }
            }
        }
        .await;
        match result {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "change listener lost its connection; reconnecting");
                first = false;
                tokio::time::sleep(RECONNECT).await;
                if hub.strong_count() == 0 {
                    return;
                }
            }
        }
    }
}

/// Passes local commits on to the other instances: one NOTIFY per wake-up.
async fn notify(url: String, hub: Weak<Inner>) {
    let Some(mut local) = hub.upgrade().map(|h| h.local.subscribe()) else {
        return;
    };
    // The bump that started this task is already in the channel: send it too.
    local.mark_changed();
    let mut conn: Option<sqlx::PgConnection> = None;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), local.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                if hub.strong_count() == 0 {
                    return;
                }
                continue;
            }
        }
        local.borrow_and_update();
        let Some(instance) = hub.upgrade().map(|h| h.instance.clone()) else {
            return;
        };
        let sent = async {
            use sqlx::Connection as _;
            if conn.is_none() {
                conn = Some(sqlx::PgConnection::connect(&url).await?);
            }
            let c = conn.as_mut().expect("connected above");
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(&instance)
                .execute(c)
                .await
                .map(|_| ())
        }
        .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "change notification not sent; retrying");
            conn = None;
            local.mark_changed();
            tokio::time::sleep(RECONNECT).await;
        }
    }
}

impl Store {
    /// This store's change counter (see the module docs).
    pub fn changes(&self) -> &ChangeHub {
        &self.changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testdb::{TestDb, test_engines};

    #[tokio::test]
    async fn a_committed_write_bumps_the_counter_and_a_rollback_does_not() {
        for engine in test_engines() {
            let db = TestDb::new(engine).await;
            let rx = db.store.changes().subscribe();
            let before = db.store.changes().count();
            let tx = db.store.write().await.unwrap();
            drop(tx);
            assert!(!rx.has_changed().unwrap(), "{engine:?}: rollback bumped");
            let tx = db.store.write().await.unwrap();
            tx.commit().await.unwrap();
            assert!(rx.has_changed().unwrap(), "{engine:?}: commit did not bump");
            assert_eq!(db.store.changes().count(), before.wrapping_add(1));
        }
    }

    #[tokio::test]
    async fn another_store_on_the_same_postgres_database_is_notified() {
        if !crate::store::testdb::postgres_enabled() {
            return;
        }
        let db = TestDb::new(Engine::Postgres).await;
        // A second store on the same database: another m110d, as far as LISTEN is concerned.
        let other = Store::connect(&db.url).await.unwrap();
        let mut rx = other.changes().subscribe();
        // The listener needs its LISTEN in place before the notification is sent: bump until it
        // arrives (each bump is a new NOTIFY), bounded so a broken path fails the test.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            db.store.write().await.unwrap().commit().await.unwrap();
            match tokio::time::timeout(Duration::from_millis(500), rx.changed()).await {
                Ok(r) => {
                    r.unwrap();
                    break;
                }
                Err(_) => assert!(
                    tokio::time::Instant::now() < deadline,
                    "no notification reached the other store"
                ),
            }
        }
    }
}
