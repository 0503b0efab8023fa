//! Live updates: the ledger's head, watched. Writes through this server
//! announce themselves at once; writes by another process (a CLI `log` on
//! the same SQLite file, another server on the same PostgreSQL) are seen by
//! polling the head, so every change reaches `GET /events` within a second.

use super::AppState;
use crate::store::{SqlStore, Store};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Serialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// How often the head is read for changes made by other processes.
const POLL: Duration = Duration::from_millis(500);

/// The ledger's position: it changes with every event appended, and with a
/// reset (which starts a new chain).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LedgerHead {
    pub events: i64,
    pub head: Option<String>,
}

/// The watched head, and a way for this server's writes to say "look now".
pub struct Changes {
    head: watch::Receiver<LedgerHead>,
    poke: Arc<Notify>,
}

impl Changes {
    /// Starts the watcher; it stops when `shutdown` turns true.
    pub async fn start(store: Arc<SqlStore>, shutdown: watch::Receiver<bool>) -> Changes {
        let first = read_head(&store).await.unwrap_or_default();
        let (sender, head) = watch::channel(first);
        let poke = Arc::new(Notify::new());
        let woken = poke.clone();
        let mut stop = shutdown;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = woken.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                    _ = stop.changed() => return,
                }
                // A failed read (the database restarting) is tried again
                // at the next tick.
                if let Some(now) = read_head(&store).await {
                    sender.send_if_modified(|seen| {
                        let changed = *seen != now;
                        *seen = now;
                        changed
                    });
                }
            }
        });
        Changes { head, poke }
    }

    /// Called after this server wrote: the watcher reads the head now.
    pub fn written(&self) {
        self.poke.notify_one();
    }

    pub fn subscribe(&self) -> watch::Receiver<LedgerHead> {
        self.head.clone()
    }
}

async fn read_head(store: &SqlStore) -> Option<LedgerHead> {
    let head = store.head().await.ok()?;
    Some(LedgerHead {
        events: head.seq,
        head: (head.seq > 0).then(|| head.hash.to_hex()),
    })
}

/// `GET /api/v1/events`: a `change` message (the new head) whenever the
/// ledger changes, after a first one with the head as it is. The stream
/// ends when the server shuts down.
pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let head = state.changes.subscribe();
    let shutdown = state.shutdown.clone();
    let events = futures_util::stream::unfold(
        (head, shutdown, true),
        |(mut head, mut shutdown, first)| async move {
            if !first {
                tokio::select! {
                    changed = head.changed() => changed.ok()?,
                    _ = shutdown.changed() => return None,
                }
            }
            if *shutdown.borrow() {
                return None;
            }
            let now = head.borrow_and_update().clone();
            let data = serde_json::to_string(&now).unwrap_or_default();
            let event = Event::default().event("change").data(data);
            Some((Ok(event), (head, shutdown, false)))
        },
    );
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
