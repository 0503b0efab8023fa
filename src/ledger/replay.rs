//! Replay: the view of entries is a pure function of the events. The stores
//! apply these same functions when they write, and `verify` applies them again
//! to check the stored view against the log.

use super::entry::{Actual, Entry, Estimate, Voiding};
use super::event::{EntryRecord, Event, EventBody};
use crate::money::Money;
use crate::timestamp::Timestamp;

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
        batch: record.batch,
        billing: None,
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
        EventBody::AmountCorrected(c) => {
            entry.actual = Some(Actual {
                amount: Money::new(c.micros, c.currency),
                confirmed_at: recorded_at,
            });
        }
        EventBody::RunSettled(s) => {
            if let Some(status) = s.status {
                entry.status = status;
            }
            if let Some(duration) = s.duration_ms {
                entry.duration_ms = Some(duration);
            }
            if let Some(billing) = &s.billing {
                entry.billing = Some(billing.clone());
            }
            if let (Some(micros), Some(currency)) = (s.micros, s.currency) {
                entry.actual = Some(Actual {
                    amount: Money::new(micros, currency),
                    confirmed_at: recorded_at,
                });
            }
        }
        EventBody::EntryLogged(_)
        | EventBody::LedgerReset(_)
        | EventBody::ImportRecorded(_)
        | EventBody::PoolAdded(_)
        | EventBody::BatchVoided(_) => {}
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
