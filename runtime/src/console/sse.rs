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

Streams are bounded ([`Streams`]): at most `limits.max_streams` open at once and
`limits.max_streams_per_user` per user; past either, a 503 page with `Retry-After`. A stream
ends with its session — every [`SESSION_CHECK`] it looks the session up again, and a logout,
an expiry or a deleted session closes it — and when the server shuts down.
*/

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use super::i18n::Lang;
use super::session::ConsoleUser;
use crate::http::AppState;
use crate::http::auth::{SESSION_COOKIE, cookie_value};
use crate::store::StoreError;
use crate::store::console::Watermark;
pub use crate::store::watermark::{CATCH_UP, MIN_INTERVAL};

/// How long a new stream waits for its first watermark (the reader's first read, when this
/// stream starts it) before answering without one; the first read then becomes its base.
const FIRST_READ: Duration = Duration::from_secs(10);

/// How often a stream looks its session up again (a logout closes it within this).
pub const SESSION_CHECK: Duration = Duration::from_secs(3);

/// `Retry-After` of the 503 when the streams are at their bound: the page works without live
/// updates meanwhile, so there is no hurry.
const FULL_RETRY_SECS: u64 = 30;

/// The open live-update streams of one server, in total and per user, bounded.
pub struct Streams {
    max: usize,
    per_user: usize,
    /// user id → streams open.
    open: Mutex<HashMap<i64, usize>>,
    /// Set to true at shutdown: every stream ends.
    stop: watch::Sender<bool>,
}

/// Which bound a new stream hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Total,
    User,
}

/// One open stream's place; given back when the stream ends (dropped).
pub struct Slot {
    streams: Arc<Streams>,
    user: i64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

impl Streams {
    pub fn new(max: usize, per_user: usize) -> Arc<Streams> {
        Arc::new(Streams {
            max,
            per_user,
            open: Mutex::new(HashMap::new()),
            stop: watch::channel(false).0,
        })
    }

    /// A place for one more stream of `user`, unless a bound is reached.
    pub fn take(self: &Arc<Self>, user: i64) -> Result<Slot, Full> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.values().sum::<usize>() >= self.max {
            return Err(Full::Total);
        }
        let n = open.entry(user).or_default();
        if *n >= self.per_user {
            return Err(Full::User);
        }
        *n += 1;
        Ok(Slot {
            streams: Arc::clone(self),
            user,
        })
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    /// Ends every stream (the server is shutting down; a stream would hold its drain forever).
    pub fn close_all(&self) {
        self.stop.send_replace(true);
    }
}

/// The 503 page of a stream refused at a bound.
fn full_page(user: &ConsoleUser, full: Full) -> Response {
    let message = match (user.lang, full) {
        (Lang::Zh, Full::Total) => "实时更新连接数已达上限，页面仍可手动刷新，请稍后再试",
        (Lang::Zh, Full::User) => "您打开的实时更新页面过多，请关闭部分标签页后再试",
        (Lang::En, Full::Total) => {
            "too many live-update streams are open; the page still works, reload it later"
        }
        (Lang::En, Full::User) => "you have too many live-update pages open; close some tabs",
    };
    let mut page = super::pages::error_page(
        user.lang,
        Some(user),
        StatusCode::SERVICE_UNAVAILABLE,
        message,
    );
    page.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(FULL_RETRY_SECS));
    page
}

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

/// Per-connection state: the published watermarks, the last one seen, events not yet sent, and
/// what ends the stream (its session gone, the server stopping).
struct Watcher {
    marks: watch::Receiver<Option<Watermark>>,
    last: Option<Watermark>,
    pending: Vec<&'static str>,
    state: AppState,
    /// The session cookie the stream was opened with, and its user.
    session: String,
    user_id: i64,
    check: tokio::time::Interval,
    stop: watch::Receiver<bool>,
    _slot: Slot,
}

impl Watcher {
    /// False once the session is gone (logout, expiry, deletion) or belongs to someone else; a
    /// database error keeps the stream (the next check decides).
    async fn session_alive(&self) -> bool {
        // A peek: the stream's own checks must not keep an idle session alive.
        let idle_ms = self.state.config.session_idle.as_millis() as i64;
        match self.state.store.session_peek(&self.session, idle_ms).await {
            Ok(s) => s.principal.user_id == self.user_id,
            Err(StoreError::NotFound) => false,
            Err(e) => {
                tracing::warn!(error = %e, "live updates: session check failed");
                true
            }
        }
    }
}

/// `GET /console/events`.
pub async fn events(
    State(state): State<AppState>,
    Extension(streams): Extension<Arc<Streams>>,
    headers: HeaderMap,
    user: ConsoleUser,
) -> Response {
    // `ConsoleUser` found the session by this cookie.
    let Some(session) = cookie_value(&headers, SESSION_COOKIE) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let slot = match streams.take(user.principal.user_id) {
        Ok(slot) => slot,
        Err(full) => {
            tracing::warn!(
                user = user.principal.user_id,
                ?full,
                "live-update stream refused at its bound"
            );
            return full_page(&user, full);
        }
    };
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
    let stop = streams.stop.subscribe();
    let watcher = Watcher {
        marks,
        last,
        pending: Vec::new(),
        user_id: user.principal.user_id,
        state,
        session,
        check: tokio::time::interval_at(tokio::time::Instant::now() + SESSION_CHECK, SESSION_CHECK),
        stop,
        _slot: slot,
    };
    let stream = futures::stream::unfold(watcher, |mut w| async move {
        loop {
            if *w.stop.borrow() {
                return None;
            }
            if let Some(kind) = w.pending.pop() {
                return Some((
                    Ok::<_, Infallible>(Event::default().event(kind).data(kind)),
                    w,
                ));
            }
            tokio::select! {
                // Wakes only when the published watermark moved; closed: the store is gone.
                changed = w.marks.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                _ = w.check.tick() => {
                    if !w.session_alive().await {
                        return None;
                    }
                    continue;
                }
                stopped = w.stop.changed() => {
                    if stopped.is_err() {
                        return None;
                    }
                    continue;
                }
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
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_bounded_in_total_and_per_user() {
        let s = Streams::new(3, 2);
        let a1 = s.take(1).unwrap();
        let _a2 = s.take(1).unwrap();
        assert_eq!(s.take(1).err(), Some(Full::User));
        let _b1 = s.take(2).unwrap();
        assert_eq!(s.take(3).err(), Some(Full::Total));
        assert_eq!(s.open(), 3);
        drop(a1);
        assert_eq!(s.open(), 2);
        let _c1 = s.take(3).unwrap();
        assert_eq!(s.take(1).err(), Some(Full::Total));
    }

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
