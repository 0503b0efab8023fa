//! Replay: the view of entries is a pure function of the events. The stores
//! apply these same functions when they write, and `verify` applies them again
//! to check the stored view against the log.

use super::entry::{Actual, Entry, Estimate, Voiding};
use super::event::{EntryRecord, Event, EventBody};
use crate::money::Money;
use crate::timestamp::Timestamp;
use sha2::{Digest, Sha256};

/// The entry an `entry_logged` event (at chain position `seq`) creates.
pub fn entry_from_record(record: &EntryRecord, seq: i64, recorded_at: Timestamp) -> Entry {
    let actual = match (record.actual_micros, record.actual_currency) {
        (Some(micros), Some(currency)) => Some(Actual {
            amount: Money::new(micros, currency),
            confirmed_at: recorded_at,
        }),
        _ => None,
    };
    Entry {
        id: record.id,
        logged_seq: seq,
        kind: record.kind,
        occurred_at: Timestamp(record.occurred_at),
        source: record.source.clone(),
        model: record.model.clone(),
        description: record.description.clone(),
        tags: record.tags.clone(),
        request_id: record.request_id.clone(),
        status: record.status,
        duration_ms: record.duration_ms,
        params: serde_json::Value::Object(record.params.clone()).to_string(),
        estimate: Estimate {
            micros: record.estimate_micros,
            currency: record.estimate_currency,
            tier: record.estimate_tier,
        },
        actual,
        void: None,
    }
}

/// Applies a change event (anything but `entry_logged`) to its entry.
pub fn apply_change(entry: &mut Entry, body: &EventBody, recorded_at: Timestamp) {
    match body {
        EventBody::ActualConfirmed(c) => {
            entry.actual = Some(Actual {
                amount: Money::new(c.micros, c.currency),
                confirmed_at: recorded_at,
            });
        }
        EventBody::TagsChanged(t) => entry.tags = t.tags.clone(),
        EventBody::EntryVoided(v) => {
            entry.void = Some(Voiding {
                reason: v.reason.clone(),
                at: recorded_at,
            })
        }
        EventBody::EntryLogged(_) | EventBody::LedgerReset(_) => {}
    }
}

/// Replays the events of one entry, in chain order, into its current view.
pub fn replay_entry(events: &[Event]) -> Result<Option<Entry>, super::event::PayloadError> {
    let mut entry: Option<Entry> = None;
    for event in events {
        match event.body()? {
            EventBody::EntryLogged(record) => {
                entry = Some(entry_from_record(&record, event.seq, event.recorded_at))
            }
            other => {
                if let Some(e) = entry.as_mut() {
                    apply_change(e, &other, event.recorded_at)
                }
            }
        }
    }
    Ok(entry)
}

/// A digest of every field of an entry, to compare a stored view row with
/// its replay without keeping whole rows in memory. 64 bits of SHA-256: a
/// chance collision among a ledger's entries is negligible, and the chain
/// itself is checked with full hashes.
pub fn fingerprint(entry: &Entry) -> u64 {
    let mut h = Sha256::new();
    let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "\u{0}".into());
    let num = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_else(|| "\u{0}".into());
    let fields = [
        entry.id.to_string(),
        entry.logged_seq.to_string(),
        entry.kind.to_string(),
        entry.occurred_at.0.to_string(),
        entry.source.clone(),
        opt(&entry.model),
        opt(&entry.description),
        opt(&entry.tags.client),
        opt(&entry.tags.project),
        opt(&entry.tags.deliverable),
        opt(&entry.request_id),
        entry.status.to_string(),
        num(entry.duration_ms),
        entry.params.clone(),
        num(entry.estimate.micros),
        entry.estimate.currency.to_string(),
        entry.estimate.tier.to_string(),
        num(entry.actual.map(|a| a.amount.micros)),
        entry
            .actual
            .map(|a| a.amount.currency.to_string())
            .unwrap_or_default(),
        num(entry.actual.map(|a| a.confirmed_at.0)),
        entry
            .void
            .as_ref()
            .map(|v| v.reason.clone())
            .unwrap_or_else(|| "\u{0}".into()),
        num(entry.void.as_ref().map(|v| v.at.0)),
    ];
    for field in fields {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    let digest = h.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(out)
}
