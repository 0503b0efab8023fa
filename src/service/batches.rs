//! Imports and pools as batches: listed with what they added, and voided
//! whole (their entries stay on record, out of totals).

use crate::error::{Error, Result};
use crate::ledger::event::{ImportRecorded, PoolAdded};
use crate::ledger::{Command, EventBody, Outcome};
use crate::money::Money;
use crate::store::Store;
use crate::timestamp::Timestamp;
use std::collections::HashMap;
use uuid::Uuid;

/// What a batch is.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum BatchDetails {
    Import(ImportSummary),
    Pool(PoolSummary),
}

/// An import as recorded: the file and what its rows did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportSummary {
    pub file: String,
    pub preset: String,
    pub rows: i64,
    pub added: i64,
    pub present: i64,
    pub corrected: i64,
    pub skipped: i64,
}

/// A pool as added: the whole cost and its shares.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PoolSummary {
    pub amount: Money,
    pub description: String,
    pub period: String,
    pub split: String,
    pub source: String,
    pub shares: Vec<ShareSummary>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ShareSummary {
    pub project: String,
    pub client: Option<String>,
    /// The weight the share was computed from (1 for even, the spend for
    /// spend), as an exact decimal.
    pub weight: String,
    pub amount: Money,
}

impl From<ImportRecorded> for ImportSummary {
    fn from(r: ImportRecorded) -> Self {
        ImportSummary {
            file: r.file,
            preset: r.preset,
            rows: r.rows,
            added: r.added,
            present: r.present,
            corrected: r.corrected,
            skipped: r.skipped,
        }
    }
}

impl From<PoolAdded> for PoolSummary {
    fn from(p: PoolAdded) -> Self {
        PoolSummary {
            amount: Money::new(p.micros, p.currency),
            description: p.description,
            period: p.period,
            split: p.split,
            source: p.source,
            shares: p
                .shares
                .into_iter()
                .map(|s| ShareSummary {
                    project: s.project,
                    client: s.client,
                    weight: s.weight,
                    amount: Money::new(s.micros, p.currency),
                })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Batch {
    pub id: Uuid,
    pub recorded_at: Timestamp,
    #[serde(flatten)]
    pub details: BatchDetails,
    /// Why the batch was voided, if it was.
    pub void_reason: Option<String>,
}

impl Batch {
    pub fn is_import(&self) -> bool {
        matches!(self.details, BatchDetails::Import(_))
    }
}

/// Every import and pool, oldest first.
pub async fn list<S: Store>(store: &S) -> Result<Vec<Batch>> {
    let mut batches: Vec<Batch> = Vec::new();
    let mut voids: HashMap<Uuid, String> = HashMap::new();
    for event in store.batch_events().await? {
        let body = event
            .body()
            .map_err(|e| Error::Io(format!("the ledger holds an unreadable event: {e}")))?;
        let (id, details) = match body {
            EventBody::ImportRecorded(r) => (r.batch, BatchDetails::Import(r.into())),
            EventBody::PoolAdded(p) => (p.batch, BatchDetails::Pool(p.into())),
            EventBody::BatchVoided(v) => {
                voids.insert(v.batch, v.reason);
                continue;
            }
            _ => continue,
        };
        batches.push(Batch {
            id,
            recorded_at: event.recorded_at,
            details,
            void_reason: None,
        });
    }
    for batch in &mut batches {
        batch.void_reason = voids.remove(&batch.id);
    }
    Ok(batches)
}

/// Each batch's live entries: how many, and their sum per currency.
pub async fn live_totals<S: Store>(store: &S) -> Result<HashMap<Uuid, (i64, Vec<Money>)>> {
    let mut totals: HashMap<Uuid, (i64, Vec<Money>)> = HashMap::new();
    for row in store.batch_totals().await? {
        let (entries, sums) = totals.entry(row.batch).or_default();
        *entries += row.entries;
        sums.push(Money::new(row.micros, row.currency));
    }
    for (_, sums) in totals.values_mut() {
        sums.sort_by_key(|m| m.currency);
    }
    Ok(totals)
}

/// An import or a pool as `import list --json`, `pool list --json` and the
/// API list it: with its entries still counted and their sum per currency.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub batch: Batch,
    pub live_entries: i64,
    pub live_totals: Vec<Money>,
}

/// Every import (`imports`) or every pool, oldest first, with its live
/// entries and totals.
pub async fn listed<S: Store>(store: &S, imports: bool) -> Result<Vec<Listed>> {
    let mut live = live_totals(store).await?;
    Ok(list(store)
        .await?
        .into_iter()
        .filter(|b| b.is_import() == imports)
        .map(|batch| {
            let (live_entries, live_totals) = live.remove(&batch.id).unwrap_or_default();
            Listed {
                batch,
                live_entries,
                live_totals,
            }
        })
        .collect())
}

/// What voiding a batch did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BatchVoidReport {
    pub id: Uuid,
    pub entries_voided: i64,
    /// Corrections the import made that were undone, and those kept because
    /// a later import changed the amount again.
    pub corrections_undone: i64,
    pub corrections_kept: i64,
}

/// Voids an import or a pool: `want_import` says which the caller means, so
/// `pool void` cannot void an import by its id.
pub async fn void<S: Store>(
    store: &S,
    id: Uuid,
    reason: &str,
    want_import: bool,
) -> Result<BatchVoidReport> {
    let (what, other) = if want_import {
        ("import", "pool")
    } else {
        ("pool", "import")
    };
    let found = list(store).await?.into_iter().find(|b| b.id == id);
    match found {
        None => return Err(Error::NotFound(format!("no {what} with id {id}"))),
        Some(batch) if batch.is_import() != want_import => {
            return Err(Error::input(format!(
                "{id} is a {other}, not an {what}; use `gencost {other} void`"
            )))
        }
        Some(_) => {}
    }
    let executed = store
        .execute(
            Command::VoidBatch {
                batch: id,
                reason: reason.to_string(),
            },
            Timestamp::now(),
        )
        .await?;
    match executed.outcome {
        Outcome::BatchVoided {
            entries,
            reverted,
            kept,
        } => Ok(BatchVoidReport {
            id,
            entries_voided: entries,
            corrections_undone: reverted,
            corrections_kept: kept,
        }),
        other => Err(Error::Io(format!("unexpected outcome {other:?}"))),
    }
}
