//! Group commit for logged entries: requests that arrive while a commit is
//! running wait for the next one and are written together, in one
//! transaction with one sync to disk. Each request still gets its own
//! answer, and a batch that fails is retried entry by entry, so one bad
//! entry never refuses another's.

use crate::error::{Error, Result};
use crate::service::record::{self, Logged, Prepared};
use crate::store::{SqlStore, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most entries one commit carries.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Logged>>;

/// Where handlers hand prepared entries to the one committing task.
pub struct LogBatcher {
    queue: mpsc::Sender<(Prepared, Reply)>,
}

impl LogBatcher {
    pub fn start(store: Arc<SqlStore>) -> LogBatcher {
        let (queue, mut pending) = mpsc::channel::<(Prepared, Reply)>(4 * MAX_BATCH);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
                commit(&store, std::mem::take(&mut batch)).await;
            }
        });
        LogBatcher { queue }
    }

    /// Writes the entry with the next commit; its own result.
    pub async fn log(&self, prepared: Prepared) -> Result<Logged> {
        let (reply, answer) = oneshot::channel();
        let stopped = || Error::Io("the server is shutting down; nothing was written".into());
        self.queue
            .send((prepared, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn commit(store: &SqlStore, batch: Vec<(Prepared, Reply)>) {
    let (entries, replies): (Vec<Prepared>, Vec<Reply>) = batch.into_iter().unzip();
    match record::commit(store, entries.clone()).await {
        Ok(logged) => {
            for (reply, logged) in replies.into_iter().zip(logged) {
                let _ = reply.send(Ok(logged));
            }
        }
        Err(e) if replies.len() == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
        // The ledger could not be written (busy, unreachable): every entry
        // of the batch gets the same answer, and nothing was written.
        Err(e) if !is_refusal(&e) => {
            for reply in replies {
                let _ = reply.send(Err(same(&e)));
            }
        }
        // One entry spoiled the batch: each is written on its own.
        Err(_) => {
            for (entry, reply) in entries.into_iter().zip(replies) {
                let result = record::commit(store, vec![entry])
                    .await
                    .and_then(|mut logged| {
                        logged
                            .pop()
                            .ok_or_else(|| Error::Io("the store logged nothing".into()))
                    });
                let _ = reply.send(result);
            }
        }
    }
}

/// A refusal of one entry's content, as opposed to a ledger that cannot be
/// written at all.
fn is_refusal(e: &Error) -> bool {
    matches!(
        e,
        Error::Input(_)
            | Error::Field { .. }
            | Error::Unconfirmed { .. }
            | Error::Store(StoreError::Refused(_))
    )
}

/// The error again, for another entry of the same failed commit.
fn same(e: &Error) -> Error {
    match e {
        Error::Store(StoreError::Busy { waited_s }) => Error::Store(StoreError::Busy {
            waited_s: *waited_s,
        }),
        Error::Store(StoreError::Full) => Error::Store(StoreError::Full),
        Error::Store(StoreError::Unreachable(why)) => {
            Error::Store(StoreError::Unreachable(why.clone()))
        }
        other => Error::Io(other.to_string()),
    }
}
