//! Commands and the pure decision of which events they produce. A store runs
//! `decide` inside its write transaction, after loading the `Context` the
//! command names, so every check sees the ledger as it is at append time.

use super::budget::{Budget, BudgetAlert};
use super::entry::{Entry, Kind, Status};
use super::event::{
    ActualConfirmed, AmountCorrected, BatchVoided, BudgetRemoved, BudgetSet, EntriesImported,
    EntryRecord, EntryRestored, EntryVoided, EstimateRepriced, EventBody, ImportRecorded,
    ImportedCost, PoolAdded, RequestAttached, RunSettled, TagsChanged, IMPORT_EVENT_BYTES,
    IMPORT_EVENT_ROWS,
};
use super::invoice::{
    invoice_number, CreditNoteIssued, InvoiceIssued, InvoiceRecord, InvoiceSettingsChanged,
    InvoiceVoided, Lock, StudioDetails,
};
use super::tags::Tags;
use crate::money::Currency;
use crate::money::Money;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
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
    /// Undoes a void: the entry counts in totals again. The store loads,
    /// beside the entry, the batches voided before (when the entry belongs
    /// to one) and the other entries holding its source and request id.
    Restore {
        entry_id: Uuid,
        reason: String,
    },
    /// What the provider said of a run later (status, duration, billing).
    Settle(RunSettled),
    /// Rows of an import, keyed by their fingerprint (the request id): a row
    /// not yet imported is logged, one already imported is left alone, and a
    /// provider's day bucket whose amount changed is corrected.
    Import {
        batch: Uuid,
        rows: Vec<ImportedRow>,
    },
    /// An import's summary, written after its rows.
    RecordImport(ImportRecorded),
    /// A shared cost and its shares, one entry per project.
    AddPool {
        pool: PoolAdded,
        shares: Vec<EntryRecord>,
    },
    /// Takes an import or a pool out of totals: its entries are voided, and
    /// the corrections an import made are undone where nothing changed the
    /// amount since.
    VoidBatch {
        batch: Uuid,
        reason: String,
    },
    /// An invoice drafted from the ledger at `drafted_at_seq`: numbered and
    /// issued if nothing it bills changed since, locking its entries.
    IssueInvoice(Box<InvoiceIssued>),
    VoidInvoice {
        number: String,
        reason: String,
    },
    /// A credit note on an invoice, numbered when it is issued.
    CreditInvoice(CreditNoteIssued),
    SetInvoiceSettings(StudioDetails),
    /// Open estimates recomputed at the prices in force on their days, and
    /// billed units that had no price priced.
    Reprice(Vec<Repricing>),
    /// A pending run logged before it starts: logged as `Log` is, and then
    /// refused (nothing written) if it takes a hard budget over.
    Hold(Box<EntryRecord>),
    /// The provider's request id of a held run, once it names it.
    AttachRequest {
        entry_id: Uuid,
        request_id: String,
    },
    SetBudget {
        budget: Budget,
        expect: BudgetWrite,
    },
    RemoveBudget {
        name: String,
    },
    /// Thresholds crossed by the writes just made in the same transaction.
    RecordAlerts(Vec<BudgetAlert>),
}

/// What setting a budget expects of the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetWrite {
    /// A new budget: refused if the name is taken.
    Create,
    /// A change: refused if there is no budget by that name.
    Change,
    /// Either.
    Upsert,
}

/// One change a re-pricing makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Repricing {
    Estimate(EstimateRepriced),
    /// Units a provider billed with no unit price known then, priced now
    /// (a `run_settled` with the unit price and the cost).
    BilledUnits(RunSettled),
}

impl Repricing {
    pub fn entry_id(&self) -> Uuid {
        match self {
            Repricing::Estimate(e) => e.entry_id,
            Repricing::BilledUnits(s) => s.entry_id,
        }
    }
}

/// What happened since an invoice's draft was read, as far as the draft
/// cares: entries changed, clients (folded) invoiced, and whether the
/// ledger was reset. Voids and credit notes only release entries, which a
/// draft can leave for the next invoice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangesSince {
    pub entries: HashSet<Uuid>,
    pub invoiced_clients: HashSet<String>,
    pub reset: bool,
}

/// What an import needs to know of a row imported before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportedEntry {
    pub id: Uuid,
    /// The cost used in totals.
    pub micros: i64,
    pub currency: Currency,
}

/// Imported entries by fingerprint key: a sorted list rather than a hash
/// map, so a million of them take 48 MB and no more.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportedIndex(Vec<(u128, ImportedEntry)>);

impl ImportedIndex {
    pub fn new(mut entries: Vec<(u128, ImportedEntry)>) -> ImportedIndex {
        entries.sort_unstable_by_key(|(key, _)| *key);
        entries.shrink_to_fit();
        ImportedIndex(entries)
    }

    pub fn get(&self, key: u128) -> Option<&ImportedEntry> {
        let at = self.0.binary_search_by_key(&key, |(k, _)| *k).ok()?;
        Some(&self.0[at].1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The 128 bits an import fingerprint (`import:` and 32 hex digits) holds.
pub fn fingerprint_key(fingerprint: &str) -> Option<u128> {
    let digits = fingerprint.strip_prefix("import:")?;
    if digits.len() != 32 {
        return None;
    }
    u128::from_str_radix(digits, 16).ok()
}

/// One row of an import, as it would be logged.
#[derive(Clone, Debug)]
pub struct ImportedRow {
    pub cost: ImportedCost,
    /// Whether a changed amount under the same fingerprint corrects the
    /// earlier entry (a provider's day bucket that grew).
    pub corrects: bool,
}

/// What one import row did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowOutcome {
    Added,
    /// An earlier import holds the row already.
    Present,
    /// An earlier import holds the day bucket with another amount.
    Corrected,
}

/// An import or pool as the ledger knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchState {
    pub void: bool,
}

/// What the store loaded for a command.
#[derive(Debug, Default)]
pub struct Context {
    pub entries: HashMap<Uuid, Entry>,
    /// (source, request id) → the entry already holding it.
    pub request_owners: HashMap<(String, String), Uuid>,
    /// The live entries earlier imports logged, by fingerprint. Shared: an
    /// import loads it once for all its commands.
    pub imported: Arc<ImportedIndex>,
    /// The batch a `VoidBatch` names, its live entries, and the corrections
    /// it made with the entries they changed as they are now.
    pub batch: Option<BatchState>,
    pub batch_entries: Vec<Entry>,
    /// Each entry the batch corrected, as it is now, with every correction
    /// of it in chain order (by any import).
    pub batch_corrections: Vec<(Entry, Vec<AmountCorrected>)>,
    /// Batches voided before.
    pub void_batches: HashSet<Uuid>,
    /// The invoice holding each of the command's entries locked, if any.
    pub locks: HashMap<Uuid, Lock>,
    /// The invoice a `VoidInvoice` or `CreditInvoice` names.
    pub invoice: Option<InvoiceRecord>,
    /// The last number used in the series and year a new invoice or credit
    /// note is numbered in (0 when none was).
    pub last_number: i64,
    /// For `IssueInvoice`: the changes since its draft.
    pub changes_since: ChangesSince,
    /// For `VoidInvoice`: its entries whose adjustment a later invoice
    /// carries (entry, that invoice), and the credit notes on it.
    pub adjusted: Vec<(Uuid, String)>,
    pub credit_notes: Vec<String>,
    /// For budget commands: the budgets, by folded name.
    pub budgets: HashMap<String, Budget>,
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
    Restored,
    /// Whether the settlement changed anything.
    Settled {
        changed: bool,
    },
    /// What each row of the command did, in order.
    Imported(Vec<RowOutcome>),
    Recorded,
    PoolAdded,
    InvoiceIssued {
        number: String,
    },
    InvoiceVoided,
    CreditIssued {
        number: String,
    },
    SettingsChanged,
    BudgetSet {
        created: bool,
    },
    BudgetRemoved,
    AlertsRecorded,
    RequestAttached,
    Repriced {
        entries: i64,
    },
    BatchVoided {
        entries: i64,
        /// Corrections undone, and those left because the amount changed
        /// again since.
        reverted: i64,
        kept: i64,
    },
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
    #[error("no import or pool with id {0}")]
    NoSuchBatch(Uuid),
    #[error("{0} is already void")]
    BatchIsVoid(Uuid),
    #[error("entry {0} is a share of a pool; its tags come from the split (void the pool and add it again)")]
    PoolShareTags(Uuid),
    #[error("entry {0} is not void; only a void entry can be restored")]
    EntryNotVoid(Uuid),
    #[error("entry {0} is a share of a pool, and a pool is voided and added as a whole: a share is not restored alone (void the pool and add it again)")]
    PoolShareRestore(Uuid),
    #[error("entry {entry} belongs to import {batch}, which is void as a whole: an entry of it cannot be restored alone (import the file again)")]
    BatchOfEntryIsVoid { entry: Uuid, batch: Uuid },
    #[error("entry {entry} cannot be restored: entry {live} holds the same source and request id and counts already (restoring would count the cost twice)")]
    RestoreDuplicates { entry: Uuid, live: Uuid },
    #[error("entry {entry} is billed on invoice {invoice} and locked: a billed entry is not changed (credit it first: gencost invoice credit {invoice} --entries {entry} --reason ...)")]
    Locked { entry: Uuid, invoice: String },
    #[error("{batch} holds entry {entry}, billed on invoice {invoice} and locked: an import or pool with billed entries is not voided (credit them first: gencost invoice credit {invoice} --entries {entry} --reason ...)")]
    BatchLocked {
        batch: Uuid,
        entry: Uuid,
        invoice: String,
    },
    #[error("no invoice or credit note numbered {0}")]
    NoSuchInvoice(String),
    #[error("invoice {0} is void")]
    InvoiceIsVoid(String),
    #[error("{0} is a credit note: only an invoice is voided or credited")]
    NotAnInvoice(String),
    #[error("entry {entry} is not held by invoice {invoice}")]
    NotOnInvoice { entry: Uuid, invoice: String },
    #[error("the ledger changed while the change was drafted")]
    DraftOutdated,
    #[error("invoice {later} carries an adjustment for entry {entry} of invoice {invoice}: void {later} first, or {invoice}'s entry would be billed twice")]
    AdjustedLater {
        invoice: String,
        entry: Uuid,
        later: String,
    },
    #[error("invoice {invoice} has credit notes ({credits}): a credited invoice is not voided; credit what is left of it instead")]
    InvoiceCredited { invoice: String, credits: String },
    #[error("a credit note needs entries or an amount greater than zero")]
    EmptyCredit,
    #[error("a budget named {0} exists already: change it with gencost budget set (or PUT), or choose another name")]
    BudgetExists(String),
    #[error("no budget named {0}")]
    NoSuchBudget(String),
    #[error("{0}")]
    BudgetExceeded(Box<super::budget::BudgetRefusal>),
    #[error("entry {0} is not a pending run waiting for its request id")]
    NotHeld(Uuid),
    #[error("entry {entry} cannot take request id {request_id}: entry {owner} holds it already")]
    RequestTaken {
        entry: Uuid,
        request_id: String,
        owner: Uuid,
    },
}

impl Command {
    /// Entries `decide` needs to see.
    pub fn entry_ids(&self) -> Vec<Uuid> {
        match self {
            Command::Log(_)
            | Command::Import { .. }
            | Command::RecordImport(_)
            | Command::AddPool { .. }
            | Command::VoidBatch { .. } => Vec::new(),
            Command::Confirm { entry_id, .. }
            | Command::Retag { entry_id, .. }
            | Command::Void { entry_id, .. }
            | Command::Restore { entry_id, .. } => vec![*entry_id],
            Command::Settle(settled) => vec![settled.entry_id],
            Command::AttachRequest { entry_id, .. } => vec![*entry_id],
            Command::Hold(_)
            | Command::SetBudget { .. }
            | Command::RemoveBudget { .. }
            | Command::RecordAlerts(_) => Vec::new(),
            Command::Reprice(changes) => changes.iter().map(Repricing::entry_id).collect(),
            Command::IssueInvoice(_)
            | Command::VoidInvoice { .. }
            | Command::CreditInvoice(_)
            | Command::SetInvoiceSettings(_) => Vec::new(),
        }
    }

    /// Entries whose locks `decide` needs to see.
    pub fn lock_ids(&self) -> Vec<Uuid> {
        match self {
            Command::Confirm { entry_id, .. }
            | Command::Retag { entry_id, .. }
            | Command::Void { entry_id, .. }
            | Command::Restore { entry_id, .. } => vec![*entry_id],
            Command::CreditInvoice(credit) => credit.entries.clone(),
            Command::Reprice(changes) => changes.iter().map(Repricing::entry_id).collect(),
            _ => Vec::new(),
        }
    }

    /// The invoice a command names.
    pub fn invoice_named(&self) -> Option<&str> {
        match self {
            Command::VoidInvoice { number, .. } => Some(number),
            Command::CreditInvoice(credit) => Some(&credit.invoice),
            _ => None,
        }
    }

    /// The series and year a command numbers a document in.
    pub fn numbering(&self) -> Option<(&str, i32)> {
        match self {
            Command::IssueInvoice(issued) => Some((&issued.series, issued.year)),
            Command::CreditInvoice(credit) => Some((&credit.series, credit.year)),
            _ => None,
        }
    }

    /// Whether `decide` needs the budgets.
    pub fn reads_budgets(&self) -> bool {
        matches!(
            self,
            Command::SetBudget { .. } | Command::RemoveBudget { .. }
        )
    }

    /// (source, request id) pairs `decide` needs to check for earlier logs.
    pub fn request_keys(&self) -> Vec<(String, String)> {
        match self {
            Command::Hold(record) => std::slice::from_ref(&**record)
                .iter()
                .filter_map(|r| {
                    r.request_id
                        .as_ref()
                        .map(|id| (r.source.clone(), id.clone()))
                })
                .collect(),
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

    /// Fingerprints of import rows `decide` needs to check.
    pub fn fingerprints(&self) -> Vec<&str> {
        match self {
            Command::Import { rows, .. } => {
                rows.iter().map(|r| r.cost.fingerprint.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The batch a `VoidBatch` names.
    pub fn batch_to_void(&self) -> Option<Uuid> {
        match self {
            Command::VoidBatch { batch, .. } => Some(*batch),
            _ => None,
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
            unlocked(ctx, entry_id)?;
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
            // A share's project is where its pool's split put it.
            if live_entry(ctx, entry_id)?.kind == Kind::Pool {
                return Err(LedgerError::PoolShareTags(entry_id));
            }
            unlocked(ctx, entry_id)?;
            let body = EventBody::TagsChanged(TagsChanged { entry_id, tags });
            Ok((vec![body], Outcome::Retagged))
        }
        Command::Void { entry_id, reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(LedgerError::MissingReason);
            }
            live_entry(ctx, entry_id)?;
            unlocked(ctx, entry_id)?;
            let body = EventBody::EntryVoided(EntryVoided {
                entry_id,
                reason: reason.to_string(),
            });
            Ok((vec![body], Outcome::Voided))
        }
        Command::Restore { entry_id, reason } => decide_restore(entry_id, &reason, ctx),
        Command::Settle(settled) => {
            let entry = live_entry(ctx, settled.entry_id)?;
            if settled.micros.is_some_and(|m| m < 0) {
                return Err(LedgerError::NegativeCost(settled.entry_id));
            }
            if !changes(entry, &settled) {
                return Ok((Vec::new(), Outcome::Settled { changed: false }));
            }
            Ok((
                vec![EventBody::RunSettled(settled)],
                Outcome::Settled { changed: true },
            ))
        }
        Command::Import { batch, rows } => decide_import(batch, rows, ctx),
        Command::RecordImport(summary) => {
            Ok((vec![EventBody::ImportRecorded(summary)], Outcome::Recorded))
        }
        Command::AddPool { pool, shares } => {
            let mut events = Vec::with_capacity(shares.len() + 1);
            events.push(EventBody::PoolAdded(pool));
            for share in shares {
                check_record(&share)?;
                events.push(EventBody::EntryLogged(Box::new(share)));
            }
            Ok((events, Outcome::PoolAdded))
        }
        Command::VoidBatch { batch, reason } => decide_batch_void(batch, &reason, ctx),
        Command::IssueInvoice(mut issued) => {
            let since = &ctx.changes_since;
            let touched = issued
                .each_line()
                .map(|(_, l)| l.entry())
                .chain(issued.adjustments.iter().map(|a| a.entry))
                .any(|id| since.entries.contains(&id));
            let invoiced = since
                .invoiced_clients
                .contains(&super::tags::fold(&issued.client));
            if since.reset || invoiced || touched {
                return Err(LedgerError::DraftOutdated);
            }
            issued.seq = ctx.last_number + 1;
            issued.number = invoice_number(&issued.series, issued.year, issued.seq);
            let number = issued.number.clone();
            Ok((
                vec![EventBody::InvoiceIssued(issued)],
                Outcome::InvoiceIssued { number },
            ))
        }
        Command::VoidInvoice { number, reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(LedgerError::MissingReason);
            }
            live_invoice(ctx, &number)?;
            if let Some((entry, later)) = ctx.adjusted.first() {
                return Err(LedgerError::AdjustedLater {
                    invoice: number,
                    entry: *entry,
                    later: later.clone(),
                });
            }
            if !ctx.credit_notes.is_empty() {
                return Err(LedgerError::InvoiceCredited {
                    invoice: number,
                    credits: ctx.credit_notes.join(", "),
                });
            }
            let body = EventBody::InvoiceVoided(InvoiceVoided {
                number,
                reason: reason.to_string(),
            });
            Ok((vec![body], Outcome::InvoiceVoided))
        }
        Command::CreditInvoice(mut credit) => {
            if credit.reason.trim().is_empty() {
                return Err(LedgerError::MissingReason);
            }
            let invoice = live_invoice(ctx, &credit.invoice)?;
            if credit.entries.is_empty() && credit.total <= 0 {
                return Err(LedgerError::EmptyCredit);
            }
            for entry in &credit.entries {
                let Some(lock) = ctx.locks.get(entry).filter(|l| l.invoice == invoice.number)
                else {
                    return Err(LedgerError::NotOnInvoice {
                        entry: *entry,
                        invoice: invoice.number.clone(),
                    });
                };
                if let Some(later) = &lock.adjusted_by {
                    return Err(LedgerError::AdjustedLater {
                        invoice: invoice.number.clone(),
                        entry: *entry,
                        later: later.clone(),
                    });
                }
            }
            credit.seq = ctx.last_number + 1;
            credit.number = invoice_number(&credit.series, credit.year, credit.seq);
            let number = credit.number.clone();
            Ok((
                vec![EventBody::CreditNoteIssued(credit)],
                Outcome::CreditIssued { number },
            ))
        }
        Command::Reprice(changes) => {
            let mut events = Vec::with_capacity(changes.len());
            for change in changes {
                let entry = live_entry(ctx, change.entry_id())?;
                unlocked(ctx, change.entry_id())?;
                // Only an entry still as the change was computed from: not
                // confirmed, repriced or settled meanwhile.
                let as_computed = entry.actual.is_none()
                    && match &change {
                        Repricing::Estimate(c) => {
                            entry.estimate.micros == c.previous_micros
                                && entry.estimate.currency == c.previous_currency
                                && entry.estimate.tier == c.previous_tier
                                && entry.price_version == c.previous_version
                        }
                        Repricing::BilledUnits(_) => entry
                            .billing
                            .as_ref()
                            .is_some_and(|b| b.unit_price.is_none()),
                    };
                if !as_computed {
                    return Err(LedgerError::DraftOutdated);
                }
                events.push(match change {
                    Repricing::Estimate(c) => EventBody::EstimateRepriced(c),
                    Repricing::BilledUnits(s) => EventBody::RunSettled(s),
                });
            }
            let entries = events.len() as i64;
            Ok((events, Outcome::Repriced { entries }))
        }
        Command::Hold(record) => decide(Command::Log(vec![*record]), ctx),
        Command::AttachRequest {
            entry_id,
            request_id,
        } => {
            let entry = live_entry(ctx, entry_id)?;
            if entry.status != Status::Pending || entry.request_id.is_some() {
                return Err(LedgerError::NotHeld(entry_id));
            }
            let key = (entry.source.clone(), request_id.clone());
            if let Some(owner) = ctx.request_owners.get(&key) {
                return Err(LedgerError::RequestTaken {
                    entry: entry_id,
                    request_id,
                    owner: *owner,
                });
            }
            let body = EventBody::RequestAttached(RequestAttached {
                entry_id,
                request_id,
            });
            Ok((vec![body], Outcome::RequestAttached))
        }
        Command::SetBudget { budget, expect } => {
            let exists = ctx.budgets.contains_key(&budget.key());
            match expect {
                BudgetWrite::Create if exists => {
                    return Err(LedgerError::BudgetExists(budget.name))
                }
                BudgetWrite::Change if !exists => {
                    return Err(LedgerError::NoSuchBudget(budget.name))
                }
                _ => {}
            }
            Ok((
                vec![EventBody::BudgetSet(BudgetSet {
                    budget,
                    changed: exists,
                })],
                Outcome::BudgetSet { created: !exists },
            ))
        }
        Command::RemoveBudget { name } => {
            let Some(budget) = ctx.budgets.get(&super::tags::fold(&name)) else {
                return Err(LedgerError::NoSuchBudget(name));
            };
            Ok((
                vec![EventBody::BudgetRemoved(BudgetRemoved {
                    name: budget.name.clone(),
                })],
                Outcome::BudgetRemoved,
            ))
        }
        Command::RecordAlerts(alerts) => Ok((
            alerts
                .into_iter()
                .map(EventBody::BudgetThresholdCrossed)
                .collect(),
            Outcome::AlertsRecorded,
        )),
        Command::SetInvoiceSettings(studio) => Ok((
            vec![EventBody::InvoiceSettingsChanged(InvoiceSettingsChanged {
                studio,
            })],
            Outcome::SettingsChanged,
        )),
    }
}

/// Refuses a change to an entry an invoice holds.
fn unlocked(ctx: &Context, entry: Uuid) -> Result<(), LedgerError> {
    match ctx.locks.get(&entry) {
        Some(lock) => Err(LedgerError::Locked {
            entry,
            invoice: lock.invoice.clone(),
        }),
        None => Ok(()),
    }
}

/// The invoice a command names, refused when missing, void or a credit note.
fn live_invoice<'a>(ctx: &'a Context, number: &str) -> Result<&'a InvoiceRecord, LedgerError> {
    let invoice = ctx
        .invoice
        .as_ref()
        .ok_or_else(|| LedgerError::NoSuchInvoice(number.to_string()))?;
    if invoice.kind != "invoice" {
        return Err(LedgerError::NotAnInvoice(invoice.number.clone()));
    }
    if invoice.void_reason.is_some() {
        return Err(LedgerError::InvoiceIsVoid(invoice.number.clone()));
    }
    Ok(invoice)
}

fn decide_import(
    batch: Uuid,
    rows: Vec<ImportedRow>,
    ctx: &Context,
) -> Result<(Vec<EventBody>, Outcome), LedgerError> {
    let mut outcomes = Vec::with_capacity(rows.len());
    let mut added: Vec<ImportedCost> = Vec::with_capacity(rows.len());
    let mut corrections = Vec::new();
    for ImportedRow { cost, corrects } in rows {
        let Some(earlier) =
            fingerprint_key(&cost.fingerprint).and_then(|key| ctx.imported.get(key))
        else {
            outcomes.push(RowOutcome::Added);
            added.push(cost);
            continue;
        };
        if corrects && (earlier.micros, earlier.currency) != (cost.micros, cost.currency) {
            outcomes.push(RowOutcome::Corrected);
            corrections.push(EventBody::AmountCorrected(AmountCorrected {
                entry_id: earlier.id,
                batch: Some(batch),
                previous_micros: earlier.micros,
                previous_currency: earlier.currency,
                micros: cost.micros,
                currency: cost.currency,
            }));
        } else {
            outcomes.push(RowOutcome::Present);
        }
    }
    // The added rows go a thousand (or a megabyte) to an event; corrections
    // change entries of earlier imports only, so their order after the rows
    // is immaterial.
    let mut events =
        Vec::with_capacity(added.len().div_ceil(IMPORT_EVENT_ROWS) + corrections.len());
    let mut rows: Vec<ImportedCost> = Vec::new();
    let mut bytes = 0;
    for cost in added {
        let size = cost.text_bytes();
        if !rows.is_empty()
            && (rows.len() == IMPORT_EVENT_ROWS || bytes + size > IMPORT_EVENT_BYTES)
        {
            let rows = std::mem::take(&mut rows);
            events.push(EventBody::EntriesImported(EntriesImported { batch, rows }));
            bytes = 0;
        }
        bytes += size;
        rows.push(cost);
    }
    if !rows.is_empty() {
        events.push(EventBody::EntriesImported(EntriesImported { batch, rows }));
    }
    events.extend(corrections);
    Ok((events, Outcome::Imported(outcomes)))
}

fn decide_batch_void(
    batch: Uuid,
    reason: &str,
    ctx: &Context,
) -> Result<(Vec<EventBody>, Outcome), LedgerError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(LedgerError::MissingReason);
    }
    match &ctx.batch {
        None => return Err(LedgerError::NoSuchBatch(batch)),
        Some(state) if state.void => return Err(LedgerError::BatchIsVoid(batch)),
        Some(_) => {}
    }
    for entry in &ctx.batch_entries {
        if let Some(lock) = ctx.locks.get(&entry.id) {
            return Err(LedgerError::BatchLocked {
                batch,
                entry: entry.id,
                invoice: lock.invoice.clone(),
            });
        }
    }
    let mut events = Vec::new();
    for entry in ctx.batch_entries.iter().filter(|e| e.void.is_none()) {
        events.push(EventBody::EntryVoided(EntryVoided {
            entry_id: entry.id,
            reason: reason.to_string(),
        }));
    }
    let entries = events.len() as i64;
    // Each entry the batch corrected goes back to the figure of its latest
    // correction by an import still live, else to the amount first logged
    // (its estimate), whatever order the imports are voided in.
    let (mut reverted, mut kept) = (0, 0);
    for (entry, corrections) in &ctx.batch_corrections {
        let live = corrections.iter().rev().find(|c| {
            c.batch
                .is_some_and(|b| b != batch && !ctx.void_batches.contains(&b))
        });
        let target = match live {
            Some(c) => (c.micros, c.currency),
            None => match entry.estimate.micros {
                Some(micros) => (micros, entry.estimate.currency),
                None => continue,
            },
        };
        let now = entry.cost();
        if entry.void.is_some() || (now.micros, now.currency) == (Some(target.0), target.1) {
            kept += 1;
            continue;
        }
        reverted += 1;
        events.push(EventBody::AmountCorrected(AmountCorrected {
            entry_id: entry.id,
            batch: None,
            previous_micros: now.micros.unwrap_or(0),
            previous_currency: now.currency,
            micros: target.0,
            currency: target.1,
        }));
    }
    events.push(EventBody::BatchVoided(BatchVoided {
        batch,
        reason: reason.to_string(),
    }));
    Ok((
        events,
        Outcome::BatchVoided {
            entries,
            reverted,
            kept,
        },
    ))
}

/// A void undone, refused where the entry cannot count again alone: it is
/// not void, it is a pool's share (a pool is voided as a whole), its import
/// is void, or another live entry holds its source and request id (a row
/// imported again after it was voided).
fn decide_restore(
    entry_id: Uuid,
    reason: &str,
    ctx: &Context,
) -> Result<(Vec<EventBody>, Outcome), LedgerError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(LedgerError::MissingReason);
    }
    let entry = ctx
        .entries
        .get(&entry_id)
        .ok_or(LedgerError::NoSuchEntry(entry_id))?;
    if entry.kind == Kind::Pool {
        return Err(LedgerError::PoolShareRestore(entry_id));
    }
    if entry.void.is_none() {
        return Err(LedgerError::EntryNotVoid(entry_id));
    }
    if let Some(batch) = entry.batch.filter(|b| ctx.void_batches.contains(b)) {
        return Err(LedgerError::BatchOfEntryIsVoid {
            entry: entry_id,
            batch,
        });
    }
    if let Some(request_id) = &entry.request_id {
        let mut live = ctx.entries.values().filter(|other| {
            other.id != entry_id
                && other.void.is_none()
                && other.source == entry.source
                && other.request_id.as_ref() == Some(request_id)
        });
        if let Some(other) = live.next() {
            return Err(LedgerError::RestoreDuplicates {
                entry: entry_id,
                live: other.id,
            });
        }
    }
    let body = EventBody::EntryRestored(EntryRestored {
        entry_id,
        reason: reason.to_string(),
    });
    Ok((vec![body], Outcome::Restored))
}

/// Whether a settlement says anything the entry does not already hold (a
/// status poll seen twice, or a result fetched again, writes nothing).
fn changes(entry: &Entry, settled: &RunSettled) -> bool {
    let mut after = entry.clone();
    super::replay::apply_change(
        &mut after,
        &EventBody::RunSettled(settled.clone()),
        entry
            .actual
            .map_or(crate::timestamp::Timestamp(0), |a| a.confirmed_at),
    );
    after != *entry
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
