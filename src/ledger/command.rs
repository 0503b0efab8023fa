//! Commands and the pure decision of which events they produce. A store runs
//! `decide` inside its write transaction, after loading the `Context` the
//! command names, so every check sees the ledger as it is at append time.

use super::entry::{Entry, Kind};
use super::event::{ActualConfirmed, EntryRecord, EntryVoided, EventBody, TagsChanged};
use super::tags::Tags;
use crate::money::Money;
use std::collections::HashMap;
use uuid::Uuid;

/// A change someone asks of the ledger.
#[derive(Clone, Debug)]
pub enum Command {
    /// Log new entries (one, or a batch); entries whose (source, request id)
    /// is already logged are not logged again.
    Log(Vec<EntryRecord>),
    Confirm {
        entry_id: Uuid,
        amount: Money,
    },
    Retag {
        entry_id: Uuid,
        tags: Tags,
    },
    Void {
        entry_id: Uuid,
        reason: String,
    },
}

/// What the store loaded for a command.
#[derive(Debug, Default)]
pub struct Context {
    pub entries: HashMap<Uuid, Entry>,
    /// (source, request id) → the entry already holding it.
    pub request_owners: HashMap<(String, String), Uuid>,
}

/// Per logged record: newly logged, or already in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogResult {
    New(Uuid),
    Existing(Uuid),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Logged(Vec<LogResult>),
    /// The actual replaced an earlier confirmed actual, if there was one.
    Confirmed {
        replaced: Option<Money>,
    },
    Retagged,
    Voided,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("no entry with id {0}")]
    NoSuchEntry(Uuid),
    #[error("entry {0} is void; a void entry cannot be changed")]
    EntryIsVoid(Uuid),
    #[error("entry {0}: a generation cost cannot be negative")]
    NegativeCost(Uuid),
    #[error("a void needs a reason")]
    MissingReason,
}

impl Command {
    /// Entries `decide` needs to see.
    pub fn entry_ids(&self) -> Vec<Uuid> {
        match self {
            Command::Log(_) => Vec::new(),
            Command::Confirm { entry_id, .. }
            | Command::Retag { entry_id, .. }
            | Command::Void { entry_id, .. } => vec![*entry_id],
        }
    }

    /// (source, request id) pairs `decide` needs to check for earlier logs.
    pub fn request_keys(&self) -> Vec<(String, String)> {
        match self {
            Command::Log(records) => records
                .iter()
                .filter_map(|r| {
                    r.request_id
                        .as_ref()
                        .map(|id| (r.source.clone(), id.clone()))
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Decides the events a command appends, or why it is refused.
/// Takes the command, so logged records move into their events uncopied.
pub fn decide(command: Command, ctx: &Context) -> Result<(Vec<EventBody>, Outcome), LedgerError> {
    match command {
        Command::Log(records) => {
            let mut owners = ctx.request_owners.clone();
            let mut events = Vec::with_capacity(records.len());
            let mut results = Vec::with_capacity(records.len());
            for record in records {
                check_record(&record)?;
                if let Some(request_id) = &record.request_id {
                    let key = (record.source.clone(), request_id.clone());
                    if let Some(existing) = owners.get(&key) {
                        results.push(LogResult::Existing(*existing));
                        continue;
                    }
                    owners.insert(key, record.id);
                }
                results.push(LogResult::New(record.id));
                events.push(EventBody::EntryLogged(Box::new(record)));
            }
            Ok((events, Outcome::Logged(results)))
        }
        Command::Confirm { entry_id, amount } => {
            let entry = live_entry(ctx, entry_id)?;
            if entry.kind == Kind::Generation && amount.micros < 0 {
                return Err(LedgerError::NegativeCost(entry_id));
            }
            let replaced = entry.actual.map(|a| a.amount);
            let body = EventBody::ActualConfirmed(ActualConfirmed {
                entry_id,
                micros: amount.micros,
                currency: amount.currency,
            });
            Ok((vec![body], Outcome::Confirmed { replaced }))
        }
        Command::Retag { entry_id, tags } => {
            live_entry(ctx, entry_id)?;
            let body = EventBody::TagsChanged(TagsChanged { entry_id, tags });
            Ok((vec![body], Outcome::Retagged))
        }
        Command::Void { entry_id, reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(LedgerError::MissingReason);
            }
            live_entry(ctx, entry_id)?;
            let body = EventBody::EntryVoided(EntryVoided {
                entry_id,
                reason: reason.to_string(),
            });
            Ok((vec![body], Outcome::Voided))
        }
    }
}

fn live_entry(ctx: &Context, id: Uuid) -> Result<&Entry, LedgerError> {
    let entry = ctx.entries.get(&id).ok_or(LedgerError::NoSuchEntry(id))?;
    if entry.void.is_some() {
        return Err(LedgerError::EntryIsVoid(id));
    }
    Ok(entry)
}

fn check_record(record: &EntryRecord) -> Result<(), LedgerError> {
    let negative = record.estimate_micros.is_some_and(|m| m < 0)
        || record.actual_micros.is_some_and(|m| m < 0);
    if record.kind == Kind::Generation && negative {
        return Err(LedgerError::NegativeCost(record.id));
    }
    Ok(())
}
