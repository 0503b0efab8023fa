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
        params: record.params.as_str().to_string(),
        estimate: Estimate {
            micros: record.estimate_micros,
            currency: record.estimate_currency,
            tier: record.estimate_tier,
        },
        actual,
        void: None,
        price_version: record.price_version.clone(),
        license: record.license.clone(),
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
    let mut text = |field: Option<&str>| match field {
        Some(t) => {
            h.update((t.len() as u64).to_le_bytes());
            h.update(t.as_bytes());
        }
        None => h.update(u64::MAX.to_le_bytes()),
    };
    text(Some(entry.kind.as_str()));
    text(Some(&entry.source));
    text(entry.model.as_deref());
    text(entry.description.as_deref());
    text(entry.tags.client.as_deref());
    text(entry.tags.project.as_deref());
    text(entry.tags.deliverable.as_deref());
    text(entry.request_id.as_deref());
    text(Some(entry.status.as_str()));
    text(Some(&entry.params));
    text(Some(entry.estimate.currency.code()));
    text(Some(entry.estimate.tier.as_str()));
    text(entry.actual.as_ref().map(|a| a.amount.currency.code()));
    text(entry.void.as_ref().map(|v| v.reason.as_str()));
    let numbers = [
        Some(entry.logged_seq),
        Some(entry.occurred_at.0),
        entry.duration_ms,
        entry.estimate.micros,
        entry.actual.map(|a| a.amount.micros),
        entry.actual.map(|a| a.confirmed_at.0),
        entry.void.as_ref().map(|v| v.at.0),
    ];
    h.update(entry.id.as_bytes());
    for n in numbers {
        match n {
            Some(v) => {
                h.update([1]);
                h.update(v.to_le_bytes());
            }
            None => h.update([0]),
        }
    }
    let digest = h.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(out)
}
