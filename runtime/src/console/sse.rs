/*!
Live updates: `GET /console/events`, a server-sent event stream that tells open console pages
when cases changed (`case`) or the number of overdue cases moved (`overdue`); the page then
re-fetches its own rows, so what it shows is always rendered, scoped and escaped by the server.

Driven by the store's change counter ([`crate::store::changes`]), not by a clock: every
committed write bumps it — in this process directly, and on PostgreSQL through
`LISTEN/NOTIFY` from every other `m110d` on the database — and a stream reads its watermark
(newest case, latest update, overdue count: index reads only) only when the counter moved,
at most once per [`MIN_INTERVAL`]. An idle center's open consoles therefore run no query at
all. A slow catch-up read every [`CATCH_UP`] covers what no counter sees: on SQLite, a write
made by another process on the same file (an `m110` command).
*/

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::watch;
use tokio::time::Instant;

use super::session::ConsoleUser;
use crate::http::AppState;
use crate::store::Store;
use crate::store::console::Watermark;

/// The least time between two watermark reads of one stream, however busy the center.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest a stream goes without reading its watermark.
pub const CATCH_UP: Duration = Duration::from_secs(60);

/// The events a watermark change means.
pub fn changes(prev: Watermark, now: Watermark) -> Vec<&'static str> {
    let mut v = Vec::new();
    if prev.last_id != now.last_id || prev.last_update != now.last_update {
        v.push("case");
    }
    if prev.overdue != now.overdue {
        v.push("overdue");
    }
    v
}

/// Per-connection state: the last mark, when it was read, and events not yet sent.
struct Watcher {
    store: Store,
    counter: watch::Receiver<u64>,
    last: Option<Watermark>,
    read_at: Instant,
    pending: Vec<&'static str>,
}

impl Watcher {
    /// Waits until the counter moves (or the catch-up time passes), then no earlier than
    /// [`MIN_INTERVAL`] after the last read. `false`: the store is gone.
    async fn wait(&mut self) -> bool {
        // A timeout is the catch-up read; a closed channel means the store is gone.
        let woke = tokio::time::timeout_at(self.read_at + CATCH_UP, self.counter.changed()).await;
        if let Ok(Err(_)) = woke {
            return false;
        }
        tokio::time::sleep_until(self.read_at + MIN_INTERVAL).await;
        // Everything committed up to here is covered by the read that follows.
        self.counter.borrow_and_update();
        true
    }
}

/// `GET /console/events`.
pub async fn events(
    State(state): State<AppState>,
    _user: ConsoleUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before the first read: a change committed in between wakes the stream.
    let counter = state.store.changes().subscribe();
    let first = state.store.console_watermark().await.ok();
    let watcher = Watcher {
        store: state.store.clone(),
        counter,
        last: first,
        read_at: Instant::now(),
        pending: Vec::new(),
    };
    let stream = futures::stream::unfold(watcher, |mut w| async move {
        loop {
            if let Some(kind) = w.pending.pop() {
                return Some((Ok(Event::default().event(kind).data(kind)), w));
            }
            if !w.wait().await {
                return None;
            }
            w.read_at = Instant::now();
            match w.store.console_watermark().await {
                Ok(now) => {
                    if let Some(prev) = w.last {
                        // Popped from the end: reverse so `case` goes out before `overdue`.
                        w.pending = changes(prev, now).into_iter().rev().collect();
                    }
                    w.last = Some(now);
                }
                Err(e) => tracing::warn!(error = %e, "console watermark read failed"),
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_changes_map_to_events() {
        let a = Watermark {
            last_id: 3,
            last_update: 10,
            overdue: 0,
        };
        assert!(changes(a, a).is_empty());
        assert_eq!(changes(a, Watermark { last_id: 4, ..a }), ["case"]);
        assert_eq!(
            changes(
                a,
                Watermark {
                    last_update: 11,
                    ..a
                }
            ),
            ["case"]
        );
        assert_eq!(
            changes(
                a,
                Watermark {
                    last_update: 11,
                    overdue: 1,
                    ..a
                }
            ),
            ["case", "overdue"]
        );
    }
}
