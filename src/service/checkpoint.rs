//! Taking a signed checkpoint of the ledger, and checking the ledger
//! against one (`gencost checkpoint`, `verify --checkpoint`, `serve
//! --checkpoint-every`).

use crate::checkpoint::{exact_decimal, key, Checkpoint, Head};
use crate::error::{Error, Result};
use crate::ledger::totals::Grouping;
use crate::store::{Filter, LedgerSnapshot, Store};
use crate::timestamp::Timestamp;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The head of `store` as it is now, signed with this user's key (made on
/// first use). The totals are read between two readings of the head; a
/// write in between starts the reading over, so what is signed is one
/// state of the ledger.
pub async fn take<S: Store>(store: &S) -> Result<Checkpoint> {
    take_with(store, true).await
}

/// A checkpoint of the head alone (position, hash, time): what a report
/// carries, whose reader must not learn the whole ledger's totals.
pub async fn take_head_only<S: Store>(store: &S) -> Result<Checkpoint> {
    take_with(store, false).await
}

async fn take_with<S: Store>(store: &S, whole: bool) -> Result<Checkpoint> {
    let key = key::load_or_create()?;
    if !whole {
        let head = store.head().await?;
        let head = Head {
            position: head.seq,
            hash: head.hash.to_hex(),
            time: Timestamp::now().to_string(),
            entries: None,
            totals: BTreeMap::new(),
        };
        return Ok(head.sign(&key));
    }
    for _ in 0..20 {
        let mut snapshot = store.snapshot().await?;
        let head = snapshot.head().await?;
        let (_, entries) = snapshot.counts().await?;
        drop(snapshot);
        let mut totals: BTreeMap<String, i128> = BTreeMap::new();
        for row in store.sums(&Filter::default(), Grouping::None).await? {
            *totals.entry(row.currency.code().to_string()).or_default() += i128::from(row.micros);
        }
        if store.head().await? != head {
            continue;
        }
        let totals = totals
            .into_iter()
            .map(|(currency, micros)| {
                let micros = i64::try_from(micros).map_err(|_| {
                    Error::Io(format!("the {currency} total does not fit a checkpoint"))
                })?;
                Ok((currency, exact_decimal(micros)))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        let head = Head {
            position: head.seq,
            hash: head.hash.to_hex(),
            time: Timestamp::now().to_string(),
            entries: Some(entries),
            totals,
        };
        return Ok(head.sign(&key));
    }
    Err(Error::Io(
        "the ledger kept changing while the checkpoint was read: try again".into(),
    ))
}

/// What checking the ledger against a checkpoint found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckpointCheck {
    pub position: i64,
    pub time: String,
    pub public_key: String,
    /// Why the ledger does not match, if it does not.
    pub problem: Option<String>,
}

/// Checks the signature (by this user's key when there is one and
/// `by_own_key`), then that the ledger's own event at the checkpoint's
/// position has the signed hash. Run after `verify`, which shows the chain
/// from there to the head is intact.
pub async fn check<S: Store>(
    store: &S,
    checkpoint: &Checkpoint,
    by_own_key: bool,
) -> Result<CheckpointCheck> {
    let trusted = match by_own_key {
        true => key::existing()?.map(|k| k.verifying_key()),
        false => None,
    };
    checkpoint.check_signature(trusted.as_ref())?;
    let position = checkpoint.head.position;
    let mut snapshot = store.snapshot().await?;
    // A signature proves nothing by a key no one vouched for: whoever
    // rewrote the ledger could sign with a key of their own.
    let problem = if by_own_key && trusted.is_none() {
        Some(format!(
            "the checkpoint is signed by key {}, which this user has no key to compare with: pass --public-key with the key of whoever signs (`gencost key show` on their computer)",
            checkpoint.public_key
        ))
    } else if position == 0 {
        None
    } else {
        match snapshot.events_at(&[position]).await?.first() {
            None => {
                let head = snapshot.head().await?;
                Some(format!(
                    "the ledger differs from the checkpoint of {}: it has {} event{}, the checkpoint signed position {position} (the ledger was reset or rewritten)",
                    checkpoint.head.time,
                    head.seq,
                    if head.seq == 1 { "" } else { "s" }
                ))
            }
            Some(event) if event.hash.to_hex() != checkpoint.head.hash => Some(format!(
                "the ledger differs from the checkpoint of {} at position {position}: its hash there is {}, the checkpoint signed {} (the chain was rewritten)",
                checkpoint.head.time,
                event.hash.to_hex(),
                checkpoint.head.hash
            )),
            Some(_) => None,
        }
    };
    Ok(CheckpointCheck {
        position,
        time: checkpoint.head.time.clone(),
        public_key: checkpoint.public_key.clone(),
        problem,
    })
}

/// Where checkpoints are kept when no file is named: `checkpoints/` in the
/// data directory, one file per checkpoint, named by its position.
pub fn default_folder() -> Result<PathBuf> {
    Ok(crate::config::data_dir()?.join("checkpoints"))
}

/// Writes `checkpoint` as pretty JSON to `path`.
pub fn write(checkpoint: &Checkpoint, path: &Path) -> Result<()> {
    let mut text = serde_json::to_string_pretty(checkpoint)
        .map_err(|e| Error::Io(format!("cannot write the checkpoint: {e}")))?;
    text.push('\n');
    crate::install::write_file(path, text.as_bytes())
}

/// The file a checkpoint gets in `folder`.
pub fn file_in(folder: &Path, checkpoint: &Checkpoint) -> PathBuf {
    let time: String = checkpoint
        .head
        .time
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    folder.join(format!(
        "checkpoint-{:010}-{time}.json",
        checkpoint.head.position
    ))
}

/// `serve --checkpoint-every`: a checkpoint into `folder` at start and
/// then every `period`, whenever the ledger changed since the last one.
pub async fn every<S: Store>(
    store: std::sync::Arc<S>,
    period: std::time::Duration,
    folder: PathBuf,
) {
    // The head last signed, as the checkpoint states it.
    let mut last: Option<(i64, String)> = None;
    loop {
        match store.head().await {
            Ok(head) if Some((head.seq, head.hash.to_hex())) != last => match take(&*store).await {
                Ok(checkpoint) => {
                    let path = file_in(&folder, &checkpoint);
                    match write(&checkpoint, &path) {
                        Ok(()) => {
                            eprintln!(
                                "checkpoint: position {} signed, written to {}",
                                checkpoint.head.position,
                                path.display()
                            );
                            last = Some((checkpoint.head.position, checkpoint.head.hash));
                        }
                        Err(e) => eprintln!("checkpoint: {e}"),
                    }
                }
                Err(e) => eprintln!("checkpoint: {e}"),
            },
            Ok(_) => {}
            Err(e) => eprintln!("checkpoint: cannot read the ledger's head: {e}"),
        }
        tokio::time::sleep(period).await;
    }
}

/// A period such as `1h`, `30m`, `90s` or `1d`.
pub fn parse_period(text: &str) -> Result<std::time::Duration> {
    let text = text.trim();
    let refused = || {
        Error::input(format!(
            "--checkpoint-every: '{text}' is not a period such as 1h, 30m, 90s or 1d"
        ))
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(refused)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| refused())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(refused()),
    };
    match number.checked_mul(seconds) {
        Some(0) | None => Err(refused()),
        Some(total) if total > 366 * 86_400 => Err(refused()),
        Some(total) => Ok(std::time::Duration::from_secs(total)),
    }
}
