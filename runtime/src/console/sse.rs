/*!
Live updates: `GET /console/events`, a server-sent event stream that tells open console pages
when cases changed (`case`) or the number of overdue cases moved (`overdue`); the page then
re-fetches its own rows, so what it shows is always rendered, scoped and escaped by the server.

Driven by the store's change counter ([`crate::store::changes`]), not by a clock, through one
watermark reader per store ([`crate::store::watermark`]): every committed write bumps the
counter — in this process directly, and on PostgreSQL through `LISTEN/NOTIFY` from every other
`m110d` on the database — and the reader re-reads the watermark (newest case, latest update,
overdue count: index reads only) at most once per [`MIN_INTERVAL`], plus a catch-up read every
[`CATCH_UP`] for what no counter sees (on SQLite, a write by another process on the same file).
Each stream only compares the published watermark with the last one it saw: 500 open consoles
cost one read per second at most on a busy center, and nothing at all on an idle one.
*/

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::watch;

use super::session::ConsoleUser;
use crate::http::AppState;
use crate::store::console::Watermark;
pub use crate::store::watermark::{CATCH_UP, MIN_INTERVAL};

/// How long a new stream waits for its first watermark (the reader's first read, when this
/// stream starts it) before answering without one; the first read then becomes its base.
const FIRST_READ: Duration = Duration::from_secs(10);

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

/// Per-connection state: the published watermarks, the last one seen, events not yet sent.
struct Watcher {
    marks: watch::Receiver<Option<Watermark>>,
    last: Option<Watermark>,
    pending: Vec<&'static str>,
}

/// `GET /console/events`.
pub async fn events(
    State(state): State<AppState>,
    _user: ConsoleUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribed before the base is taken: whatever the reader publishes later (every change
    // committed after this point is read and published) reaches this stream.
    let mut marks = state.store.watermarks();
    // The base is the latest watermark read — the stream's own first read when it starts the
    // reader. It may be older than the page (the reader is up to MIN_INTERVAL behind a local
    // commit): that costs a needless refresh, never a missed change.
    let last = match tokio::time::timeout(FIRST_READ, marks.wait_for(Option::is_some)).await {
        Ok(Ok(v)) => *v,
        _ => None,
    };
    let watcher = Watcher {
        marks,
        last,
        pending: Vec::new(),
    };
    let stream = futures::stream::unfold(watcher, |mut w| async move {
        loop {
            if let Some(kind) = w.pending.pop() {
                return Some((Ok(Event::default().event(kind).data(kind)), w));
            }
            // Wakes only when the published watermark moved; closed: the store is gone.
            if w.marks.changed().await.is_err() {
                return None;
            }
            // `None`: the reader restarted and has not read yet; its first read follows.
            let Some(now) = *w.marks.borrow_and_update() else {
                continue;
            };
            if let Some(prev) = w.last {
                // Popped from the end: reverse so `case` goes out before `overdue`.
                w.pending = changes(prev, now).into_iter().rev().collect();
            }
            w.last = Some(now);
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
