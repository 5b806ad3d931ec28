/*!
Live updates: `GET /console/events`, a server-sent event stream that tells open console pages
when cases changed (`case`) or the number of overdue cases moved (`overdue`); the page then
re-fetches its own rows, so what it shows is always rendered, scoped and escaped by the server.

Why polling the database instead of an in-process channel: several stateless `m110d` may serve
one PostgreSQL database, and a case created through another instance (or the deadline job on
another instance) must still reach every console. Each open stream reads a cheap watermark
(count, latest update, overdue count) once a second; the stream ends when the browser leaves.
*/

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;

use super::session::ConsoleUser;
use crate::http::AppState;
use crate::store::Store;
use crate::store::console::Watermark;

/// How often a connected console's watermark is read.
const POLL: Duration = Duration::from_secs(1);

/// The events a watermark change means.
pub fn changes(prev: Watermark, now: Watermark) -> Vec<&'static str> {
    let mut v = Vec::new();
    if prev.cases != now.cases || prev.last_update != now.last_update {
        v.push("case");
    }
    if prev.overdue != now.overdue {
        v.push("overdue");
    }
    v
}

/// Per-connection polling state: the last mark and events found but not yet sent.
struct Poller {
    store: Store,
    last: Option<Watermark>,
    pending: Vec<&'static str>,
}

/// `GET /console/events`.
///
/// Each connection polls its own watermark: a few cheap aggregate reads per second for a
/// center's consoles, and no shared task that could outlive its runtime or watch another
/// database (the state carries the store, so every connection watches the right one).
pub async fn events(
    State(state): State<AppState>,
    _user: ConsoleUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let first = state.store.console_watermark().await.ok();
    let poller = Poller {
        store: state.store.clone(),
        last: first,
        pending: Vec::new(),
    };
    let stream = futures::stream::unfold(poller, |mut p| async move {
        loop {
            if let Some(kind) = p.pending.pop() {
                return Some((Ok(Event::default().event(kind).data(kind)), p));
            }
            tokio::time::sleep(POLL).await;
            match p.store.console_watermark().await {
                Ok(w) => {
                    if let Some(prev) = p.last {
                        // Popped from the end: reverse so `case` goes out before `overdue`.
                        p.pending = changes(prev, w).into_iter().rev().collect();
                    }
                    p.last = Some(w);
                }
                Err(e) => tracing::warn!(error = %e, "console watermark poll failed"),
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
            cases: 3,
            last_update: 10,
            overdue: 0,
        };
        assert!(changes(a, a).is_empty());
        assert_eq!(changes(a, Watermark { cases: 4, ..a }), ["case"]);
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
