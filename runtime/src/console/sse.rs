/*!
Live updates: `GET /console/events`, a server-sent event stream that tells open console pages
when cases changed (`case`) or the number of overdue cases moved (`overdue`); the page then
re-fetches its own rows, so what it shows is always rendered, scoped and escaped by the server.

Why polling the database instead of an in-process channel: several stateless `m110d` may serve
one PostgreSQL database, and a case created through another instance (or the deadline job on
another instance) must still reach every console. One poller per process reads a cheap watermark
(count, latest update, overdue count) once a second, and only while someone is listening.
*/

use std::convert::Infallible;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast;

use super::session::ConsoleUser;
use crate::http::AppState;
use crate::store::Store;
use crate::store::console::Watermark;

/// How often the watermark is read while listeners are connected.
const POLL: Duration = Duration::from_secs(1);

fn hub(store: &Store) -> broadcast::Sender<&'static str> {
    static HUB: OnceLock<broadcast::Sender<&'static str>> = OnceLock::new();
    HUB.get_or_init(|| {
        let (tx, _) = broadcast::channel(64);
        tokio::spawn(poll(store.clone(), tx.clone()));
        tx
    })
    .clone()
}

/// The poller: compares watermarks and broadcasts what changed. The first mark is read at once
/// (so a change right after the first page subscribed is not missed) and kept while nobody
/// listens, so a change made meanwhile still reaches the next listener.
async fn poll(store: Store, tx: broadcast::Sender<&'static str>) {
    let mut last: Option<Watermark> = None;
    loop {
        if tx.receiver_count() > 0 || last.is_none() {
            match store.console_watermark().await {
                Ok(w) => {
                    if let Some(prev) = last {
                        for ev in changes(prev, w) {
                            let _ = tx.send(ev);
                        }
                    }
                    last = Some(w);
                }
                Err(e) => tracing::warn!(error = %e, "console watermark poll failed"),
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

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

/// `GET /console/events`.
pub async fn events(
    State(state): State<AppState>,
    _user: ConsoleUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = hub(&state.store).subscribe();
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let kind = match rx.recv().await {
            Ok(kind) => kind,
            // A slow client missed some: one `case` event makes it refresh anyway.
            Err(broadcast::error::RecvError::Lagged(_)) => "case",
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(Event::default().event(kind).data(kind)), rx))
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
