//! The ledger domain: entries, tags, events and their hash chain, the
//! decisions commands make, replay, and totals. No I/O here.

pub mod budget;
pub mod command;
pub mod entry;
pub mod event;
pub mod invoice;
pub mod pool;
pub mod replay;
pub mod tags;
pub mod totals;

pub use command::{
    decide, fingerprint_key, BatchState, BudgetWrite, ChangesSince, Command, Context,
    ImportedEntry, ImportedIndex, ImportedRow, LedgerError, LogResult, Outcome, Repricing,
    RowOutcome,
};
pub use entry::{Actual, Billing, Cost, Entry, Estimate, Kind, Status, Tier, Voiding};
pub use event::{EntryRecord, EstimateRepriced, Event, EventBody, Hash, Head, RunSettled};
pub use tags::{TagField, Tags};
