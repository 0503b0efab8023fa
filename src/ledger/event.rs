//! Events: every change to the ledger is an event appended to one log, and
//! each event is chained to the one before it by
//! `hash = SHA-256(prev_hash || canonical_bytes(event))`.

use super::budget::{Budget, BudgetAlert};
use super::entry::{Billing, Kind, Status, Tier};
use super::invoice::{CreditNoteIssued, InvoiceIssued, InvoiceSettingsChanged, InvoiceVoided};
use super::tags::Tags;
use crate::money::Currency;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;
use uuid::Uuid;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The `prev_hash` of the first event of a chain.
    pub const GENESIS: Hash = Hash([0; 32]);

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Hash> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Hash(bytes))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An entry as logged: everything about it except later changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    pub id: Uuid,
    pub kind: Kind,
    pub occurred_at: i64,
    pub source: String,
    pub model: Option<String>,
    pub description: Option<String>,
    pub tags: Tags,
    pub request_id: Option<String>,
    pub status: Status,
    pub duration_ms: Option<i64>,
    pub params: Params,
    pub estimate_micros: Option<i64>,
    pub estimate_currency: Currency,
    pub estimate_tier: Tier,
    /// A cost already confirmed when the entry was logged.
    pub actual_micros: Option<i64>,
    pub actual_currency: Option<Currency>,
    /// The catalog price version (its verified date) an estimate used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_version: Option<String>,
    /// The model's license status when the entry was logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The import batch or pool the entry belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<Uuid>,
    /// What the provider billed, for a run settled by the answer that
    /// logged it (a synchronous run, logged and settled in one event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<crate::ledger::Billing>,
}

/// One row of an import as its `entries_imported` event carries it: only
/// what varies from row to row. The rest of the entry is the same for every
/// imported row (see `record`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedCost {
    pub id: Uuid,
    pub occurred_at: i64,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliverable: Option<String>,
    /// The row's fingerprint (`import:` and 32 hex digits).
    pub fingerprint: String,
    /// The amount billed: the entry's estimate and its confirmed cost.
    pub micros: i64,
    pub currency: Currency,
}

impl ImportedCost {
    /// About what the row takes in its event's payload: its text, and room
    /// for the rest (ids, numbers, field names).
    pub fn text_bytes(&self) -> usize {
        let optional = [
            &self.model,
            &self.description,
            &self.client,
            &self.project,
            &self.deliverable,
        ];
        200 + self.source.len()
            + self.fingerprint.len()
            + optional
                .iter()
                .filter_map(|text| text.as_ref())
                .map(String::len)
                .sum::<usize>()
    }

    /// The entry the row logs, as an `entry_logged` event would record it:
    /// an external cost, already billed, in `batch`.
    pub fn record(&self, batch: Uuid) -> EntryRecord {
        EntryRecord {
            id: self.id,
            kind: Kind::External,
            occurred_at: self.occurred_at,
            source: self.source.clone(),
            model: self.model.clone(),
            description: self.description.clone(),
            tags: Tags {
                client: self.client.clone(),
                project: self.project.clone(),
                deliverable: self.deliverable.clone(),
            },
            request_id: Some(self.fingerprint.clone()),
            status: Status::Succeeded,
            duration_ms: None,
            params: Params::empty(),
            estimate_micros: Some(self.micros),
            estimate_currency: self.currency,
            estimate_tier: Tier::Billed,
            actual_micros: Some(self.micros),
            actual_currency: Some(self.currency),
            price_version: None,
            license: None,
            batch: Some(batch),
            billing: None,
        }
    }
}

/// Rows of one import, logged by one event: a large import writes one
/// event per `IMPORT_EVENT_ROWS` rows rather than one per row, and the
/// chain's hash covers each of them all the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntriesImported {
    pub batch: Uuid,
    pub rows: Vec<ImportedCost>,
}

/// Rows an `entries_imported` event carries at most: small enough that a
/// page of events stays a few megabytes, large enough that the chain's
/// per-event cost is spread thin.
pub const IMPORT_EVENT_ROWS: usize = 1000;

/// Bytes of text an `entries_imported` event carries at most (as
/// `ImportedCost::text_bytes` counts them), whatever its rows' descriptions.
pub const IMPORT_EVENT_BYTES: usize = 1 << 20;

/// Generation parameters: a JSON object kept as the exact text it was logged
/// with, so replaying an event reproduces the view byte for byte without
/// parsing and re-serialising it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Params(Box<serde_json::value::RawValue>);

impl Params {
    /// `{}`: no parameters.
    pub fn empty() -> Params {
        Params(serde_json::value::RawValue::from_string("{}".to_string()).expect("valid JSON"))
    }

    pub fn from_map(
        map: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Params, serde_json::Error> {
        serde_json::value::to_raw_value(map).map(Params)
    }

    /// The parameters as JSON, to embed in other JSON without re-parsing.
    pub fn raw(&self) -> &serde_json::value::RawValue {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for Params {
    fn eq(&self, other: &Params) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Params {}

/// What happened, as stored in an event's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventBody {
    EntryLogged(Box<EntryRecord>),
    EntriesImported(EntriesImported),
    ActualConfirmed(ActualConfirmed),
    TagsChanged(TagsChanged),
    EntryVoided(EntryVoided),
    LedgerReset(LedgerReset),
    AmountCorrected(AmountCorrected),
    ImportRecorded(ImportRecorded),
    PoolAdded(PoolAdded),
    BatchVoided(BatchVoided),
    RunSettled(RunSettled),
    EntryRestored(EntryRestored),
    InvoiceIssued(Box<InvoiceIssued>),
    InvoiceVoided(InvoiceVoided),
    CreditNoteIssued(CreditNoteIssued),
    InvoiceSettingsChanged(InvoiceSettingsChanged),
    EstimateRepriced(EstimateRepriced),
    BudgetSet(BudgetSet),
    BudgetRemoved(BudgetRemoved),
    BudgetThresholdCrossed(BudgetAlert),
    RequestAttached(RequestAttached),
}

/// A budget made or changed (the whole definition, as it now stands).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetSet {
    pub budget: Budget,
    /// True for a change of an existing budget.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub changed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetRemoved {
    pub name: String,
}

/// The provider's request id of a run held before it was called, once the
/// provider named it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestAttached {
    pub entry_id: Uuid,
    pub request_id: String,
}

/// An open estimate recomputed with the price in force on the run's day:
/// the figure it replaces is kept, and why it changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstimateRepriced {
    pub entry_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_micros: Option<i64>,
    pub previous_currency: Currency,
    pub previous_tier: Tier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    pub micros: i64,
    pub currency: Currency,
    pub tier: Tier,
    /// The price version (the day the price was verified).
    pub price_version: String,
    pub reason: String,
}

/// What the provider later said of a run: how it ended, how long it took,
/// and what it billed (priced, when the unit price is known, as the
/// confirmed cost). A `None` leaves that part as it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSettled {
    pub entry_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<Billing>,
    /// The billed cost: units × unit price, rounded half to even.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub micros: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActualConfirmed {
    pub entry_id: Uuid,
    pub micros: i64,
    pub currency: Currency,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagsChanged {
    pub entry_id: Uuid,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryVoided {
    pub entry_id: Uuid,
    pub reason: String,
}

/// A void undone: the entry counts in totals again, and the event keeps why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRestored {
    pub entry_id: Uuid,
    pub reason: String,
}

/// A provider's later export changed the amount of a day it had already
/// billed: the entry's confirmed cost becomes `micros`, and the event keeps
/// the figure it replaces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountCorrected {
    pub entry_id: Uuid,
    /// The import that brought the new figure (`None` when a void of that
    /// import put the earlier figure back).
    pub batch: Option<Uuid>,
    pub previous_micros: i64,
    pub previous_currency: Currency,
    pub micros: i64,
    pub currency: Currency,
}

/// One import of a file of external costs, written after its rows; the
/// entries it added carry its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecorded {
    pub batch: Uuid,
    /// The file's name as given (no directories).
    pub file: String,
    pub preset: String,
    /// Data rows read (empty days included).
    pub rows: i64,
    pub added: i64,
    pub present: i64,
    pub corrected: i64,
    pub skipped: i64,
}

/// A shared cost split across projects, written before its shares; the
/// share entries carry its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolAdded {
    pub batch: Uuid,
    pub micros: i64,
    pub currency: Currency,
    pub description: String,
    /// The month split, `YYYY-MM`.
    pub period: String,
    /// even, spend or weights.
    pub split: String,
    pub source: String,
    pub shares: Vec<PoolShare>,
}

/// One project's part of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolShare {
    pub project: String,
    /// The project's client when all its entries in the period have one.
    pub client: Option<String>,
    /// The weight the share was computed from: 1 for even, the project's
    /// spend in micro-units for spend, the given weight for weights.
    pub weight: String,
    pub micros: i64,
}

/// An import or a pool taken out of totals, with all its entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchVoided {
    pub batch: Uuid,
    pub reason: String,
}

/// The first event of a chain started by `reset`: it records the head of the
/// chain it replaced, so the two chains stay linked on paper.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerReset {
    pub previous_head: Option<String>,
    pub previous_events: i64,
    pub backup: Option<String>,
    /// The last invoice number used per series and year (`INV-2026` → 7)
    /// in the chain replaced, so numbering goes on after it.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub invoice_numbers: std::collections::BTreeMap<String, i64>,
}

/// An event that could not be written out (its payload failed to serialise):
/// nothing is appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write a {kind} event: {reason}")]
pub struct SealError {
    pub kind: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {seq}: {reason}")]
pub struct PayloadError {
    pub seq: i64,
    pub reason: String,
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::EntryLogged(_) => "entry_logged",
            EventBody::EntriesImported(_) => "entries_imported",
            EventBody::ActualConfirmed(_) => "actual_confirmed",
            EventBody::TagsChanged(_) => "tags_changed",
            EventBody::EntryVoided(_) => "entry_voided",
            EventBody::LedgerReset(_) => "ledger_reset",
            EventBody::AmountCorrected(_) => "amount_corrected",
            EventBody::ImportRecorded(_) => "import_recorded",
            EventBody::PoolAdded(_) => "pool_added",
            EventBody::BatchVoided(_) => "batch_voided",
            EventBody::RunSettled(_) => "run_settled",
            EventBody::EntryRestored(_) => "entry_restored",
            EventBody::InvoiceIssued(_) => "invoice_issued",
            EventBody::InvoiceVoided(_) => "invoice_voided",
            EventBody::CreditNoteIssued(_) => "credit_note_issued",
            EventBody::InvoiceSettingsChanged(_) => "invoice_settings_changed",
            EventBody::EstimateRepriced(_) => "estimate_repriced",
            EventBody::BudgetSet(_) => "budget_set",
            EventBody::BudgetRemoved(_) => "budget_removed",
            EventBody::BudgetThresholdCrossed(_) => "budget_threshold_crossed",
            EventBody::RequestAttached(_) => "request_attached",
        }
    }

    /// Whether the event changes an entry logged before it.
    pub fn changes_entry(&self) -> bool {
        matches!(
            self,
            EventBody::ActualConfirmed(_)
                | EventBody::TagsChanged(_)
                | EventBody::EntryVoided(_)
                | EventBody::AmountCorrected(_)
                | EventBody::RunSettled(_)
                | EventBody::EntryRestored(_)
                | EventBody::EstimateRepriced(_)
                | EventBody::RequestAttached(_)
        )
    }

    pub fn entry_id(&self) -> Option<Uuid> {
        match self {
            EventBody::EntryLogged(r) => Some(r.id),
            EventBody::ActualConfirmed(e) => Some(e.entry_id),
            EventBody::TagsChanged(e) => Some(e.entry_id),
            EventBody::EntryVoided(e) => Some(e.entry_id),
            EventBody::AmountCorrected(e) => Some(e.entry_id),
            EventBody::RunSettled(e) => Some(e.entry_id),
            EventBody::EntryRestored(e) => Some(e.entry_id),
            EventBody::EstimateRepriced(e) => Some(e.entry_id),
            EventBody::RequestAttached(e) => Some(e.entry_id),
            EventBody::EntriesImported(_)
            | EventBody::BudgetSet(_)
            | EventBody::BudgetRemoved(_)
            | EventBody::BudgetThresholdCrossed(_)
            | EventBody::LedgerReset(_)
            | EventBody::ImportRecorded(_)
            | EventBody::PoolAdded(_)
            | EventBody::BatchVoided(_)
            | EventBody::InvoiceIssued(_)
            | EventBody::InvoiceVoided(_)
            | EventBody::CreditNoteIssued(_)
            | EventBody::InvoiceSettingsChanged(_) => None,
        }
    }

    /// Whether the event logs entries.
    pub fn logs_entries(&self) -> bool {
        self.logged_count() > 0
    }

    /// How many entries the event logs.
    pub fn logged_count(&self) -> usize {
        match self {
            EventBody::EntryLogged(_) => 1,
            EventBody::EntriesImported(imported) => imported.rows.len(),
            _ => 0,
        }
    }

    /// The entries the event logs, in the order they take their positions.
    pub fn logged_records(&self) -> Vec<Cow<'_, EntryRecord>> {
        match self {
            EventBody::EntryLogged(record) => vec![Cow::Borrowed(&**record)],
            EventBody::EntriesImported(imported) => imported
                .rows
                .iter()
                .map(|row| Cow::Owned(row.record(imported.batch)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `logged_records`, moving the records out of the event.
    pub fn into_logged_records(self) -> Vec<EntryRecord> {
        match self {
            EventBody::EntryLogged(record) => vec![*record],
            EventBody::EntriesImported(imported) => imported
                .rows
                .iter()
                .map(|row| row.record(imported.batch))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn to_payload(&self) -> Result<String, SealError> {
        let value = match self {
            EventBody::EntryLogged(r) => serde_json::to_string(r),
            EventBody::EntriesImported(e) => serde_json::to_string(e),
            EventBody::ActualConfirmed(e) => serde_json::to_string(e),
            EventBody::TagsChanged(e) => serde_json::to_string(e),
            EventBody::EntryVoided(e) => serde_json::to_string(e),
            EventBody::LedgerReset(e) => serde_json::to_string(e),
            EventBody::AmountCorrected(e) => serde_json::to_string(e),
            EventBody::ImportRecorded(e) => serde_json::to_string(e),
            EventBody::PoolAdded(e) => serde_json::to_string(e),
            EventBody::BatchVoided(e) => serde_json::to_string(e),
            EventBody::RunSettled(e) => serde_json::to_string(e),
            EventBody::EntryRestored(e) => serde_json::to_string(e),
            EventBody::InvoiceIssued(e) => serde_json::to_string(e),
            EventBody::InvoiceVoided(e) => serde_json::to_string(e),
            EventBody::CreditNoteIssued(e) => serde_json::to_string(e),
            EventBody::InvoiceSettingsChanged(e) => serde_json::to_string(e),
            EventBody::EstimateRepriced(e) => serde_json::to_string(e),
            EventBody::BudgetSet(e) => serde_json::to_string(e),
            EventBody::BudgetRemoved(e) => serde_json::to_string(e),
            EventBody::BudgetThresholdCrossed(e) => serde_json::to_string(e),
            EventBody::RequestAttached(e) => serde_json::to_string(e),
        };
        value.map_err(|e| SealError {
            kind: self.kind(),
            reason: e.to_string(),
        })
    }

    pub fn from_payload(seq: i64, kind: &str, payload: &str) -> Result<EventBody, PayloadError> {
        let err = |e: serde_json::Error| PayloadError {
            seq,
            reason: format!("unreadable {kind} payload: {e}"),
        };
        Ok(match kind {
            "entry_logged" => {
                EventBody::EntryLogged(Box::new(serde_json::from_str(payload).map_err(err)?))
            }
            "entries_imported" => {
                EventBody::EntriesImported(serde_json::from_str(payload).map_err(err)?)
            }
            "actual_confirmed" => {
                EventBody::ActualConfirmed(serde_json::from_str(payload).map_err(err)?)
            }
            "tags_changed" => EventBody::TagsChanged(serde_json::from_str(payload).map_err(err)?),
            "entry_voided" => EventBody::EntryVoided(serde_json::from_str(payload).map_err(err)?),
            "ledger_reset" => EventBody::LedgerReset(serde_json::from_str(payload).map_err(err)?),
            "amount_corrected" => {
                EventBody::AmountCorrected(serde_json::from_str(payload).map_err(err)?)
            }
            "import_recorded" => {
                EventBody::ImportRecorded(serde_json::from_str(payload).map_err(err)?)
            }
            "pool_added" => EventBody::PoolAdded(serde_json::from_str(payload).map_err(err)?),
            "batch_voided" => EventBody::BatchVoided(serde_json::from_str(payload).map_err(err)?),
            "run_settled" => EventBody::RunSettled(serde_json::from_str(payload).map_err(err)?),
            "entry_restored" => {
                EventBody::EntryRestored(serde_json::from_str(payload).map_err(err)?)
            }
            "invoice_issued" => {
                EventBody::InvoiceIssued(Box::new(serde_json::from_str(payload).map_err(err)?))
            }
            "invoice_voided" => {
                EventBody::InvoiceVoided(serde_json::from_str(payload).map_err(err)?)
            }
            "credit_note_issued" => {
                EventBody::CreditNoteIssued(serde_json::from_str(payload).map_err(err)?)
            }
            "invoice_settings_changed" => {
                EventBody::InvoiceSettingsChanged(serde_json::from_str(payload).map_err(err)?)
            }
            "estimate_repriced" => {
                EventBody::EstimateRepriced(serde_json::from_str(payload).map_err(err)?)
            }
            "budget_set" => EventBody::BudgetSet(serde_json::from_str(payload).map_err(err)?),
            "budget_removed" => {
                EventBody::BudgetRemoved(serde_json::from_str(payload).map_err(err)?)
            }
            "budget_threshold_crossed" => {
                EventBody::BudgetThresholdCrossed(serde_json::from_str(payload).map_err(err)?)
            }
            "request_attached" => {
                EventBody::RequestAttached(serde_json::from_str(payload).map_err(err)?)
            }
            other => {
                return Err(PayloadError {
                    seq,
                    reason: format!("unknown event kind '{other}'"),
                })
            }
        })
    }
}

/// One event as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Position in the chain: 1, 2, 3, ... without gaps.
    pub seq: i64,
    pub recorded_at: Timestamp,
    pub kind: String,
    pub entry_id: Option<Uuid>,
    pub payload: String,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl Event {
    /// The bytes the hash covers, besides the previous hash.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.payload.len() + 96);
        self.write_canonical(&mut |part| bytes.extend_from_slice(part));
        bytes
    }

    /// Feeds the canonical bytes, piece by piece:
    /// `gencost-event-v1\n{seq}\n{recorded_at}\n{kind}\n{entry id}\n{payload}`.
    fn write_canonical(&self, out: &mut dyn FnMut(&[u8])) {
        let mut number = [0u8; 20];
        out(b"gencost-event-v1\n");
        out(decimal(self.seq, &mut number));
        out(b"\n");
        out(decimal(self.recorded_at.0, &mut number));
        out(b"\n");
        out(self.kind.as_bytes());
        out(b"\n");
        if let Some(id) = self.entry_id {
            let mut buffer = Uuid::encode_buffer();
            out(id.hyphenated().encode_lower(&mut buffer).as_bytes());
        }
        out(b"\n");
        out(self.payload.as_bytes());
    }

    /// Hashed as the bytes arrive, without building them: `verify` hashes
    /// every event of the ledger.
    pub fn compute_hash(&self) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.0);
        self.write_canonical(&mut |part| hasher.update(part));
        Hash(hasher.finalize().into())
    }

    pub fn body(&self) -> Result<EventBody, PayloadError> {
        EventBody::from_payload(self.seq, &self.kind, &self.payload)
    }
}

/// `value` in decimal, written into `buffer` (20 bytes hold any i64).
pub fn decimal(value: i64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut n = value.unsigned_abs();
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if value < 0 {
        start -= 1;
        buffer[start] = b'-';
    }
    &buffer[start..]
}

/// The end of a chain, where the next event attaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: Hash,
}

impl Head {
    pub const EMPTY: Head = Head {
        seq: 0,
        hash: Hash::GENESIS,
    };

    /// Seals `body` as the next event after this head and moves the head on.
    pub fn append(&mut self, body: &EventBody, recorded_at: Timestamp) -> Result<Event, SealError> {
        let mut event = Event {
            seq: self.seq + 1,
            recorded_at,
            kind: body.kind().to_string(),
            entry_id: body.entry_id(),
            payload: body.to_payload()?,
            prev_hash: self.hash,
            hash: Hash::GENESIS,
        };
        event.hash = event.compute_hash();
        *self = Head {
            seq: event.seq,
            hash: event.hash,
        };
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voided(reason: &str) -> EventBody {
        EventBody::EntryVoided(EntryVoided {
            entry_id: Uuid::nil(),
            reason: reason.into(),
        })
    }

    #[test]
    fn each_event_links_to_the_previous_hash() {
        let mut head = Head::EMPTY;
        let first = head.append(&voided("a"), Timestamp(1)).unwrap();
        let second = head.append(&voided("b"), Timestamp(2)).unwrap();
        assert_eq!(first.seq, 1);
        assert_eq!(first.prev_hash, Hash::GENESIS);
        assert_eq!(second.prev_hash, first.hash);
        assert_eq!(second.compute_hash(), second.hash);
        assert_eq!(
            head,
            Head {
                seq: 2,
                hash: second.hash
            }
        );
    }

    #[test]
    fn any_change_to_an_event_changes_its_hash() {
        let mut head = Head::EMPTY;
        let event = head.append(&voided("typo"), Timestamp(1)).unwrap();
        let mut altered = event.clone();
        altered.payload = altered.payload.replace("typo", "tyop");
        assert_ne!(altered.compute_hash(), event.hash);
        let mut altered = event.clone();
        altered.recorded_at = Timestamp(2);
        assert_ne!(altered.compute_hash(), event.hash);
    }

    #[test]
    fn canonical_bytes_are_the_documented_text() {
        let mut head = Head::EMPTY;
        let body = voided("typo");
        let mut event = head.append(&body, Timestamp(-5)).unwrap();
        let expected = format!(
            "gencost-event-v1\n1\n-5\nentry_voided\n{}\n{}",
            Uuid::nil(),
            event.payload
        );
        assert_eq!(event.canonical_bytes(), expected.into_bytes());
        event.seq = i64::MIN;
        assert!(String::from_utf8(event.canonical_bytes())
            .unwrap()
            .contains("\n-9223372036854775808\n"));
        let mut hasher = Sha256::new();
        hasher.update(event.prev_hash.0);
        hasher.update(event.canonical_bytes());
        assert_eq!(event.compute_hash(), Hash(hasher.finalize().into()));
    }

    #[test]
    fn payloads_round_trip() {
        let body = voided("duplicate");
        let mut head = Head::EMPTY;
        let event = head.append(&body, Timestamp(5)).unwrap();
        assert_eq!(event.body().unwrap(), body);
        assert!(EventBody::from_payload(1, "nonsense", "{}").is_err());
    }
}
