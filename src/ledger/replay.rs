//! Replay: the view of entries is a pure function of the events. The stores
//! apply these same functions when they write, and `verify` applies them again
//! to check the stored view against the log.

use super::entry::{Actual, Entry, Estimate, Voiding};
use super::event::{EntryRecord, Event, EventBody, PayloadError};
use crate::money::Money;
use crate::timestamp::Timestamp;
use std::collections::HashMap;
use uuid::Uuid;

/// The entry a logged record creates, at `position` in log order (see
/// `Positions`).
pub fn entry_from_record(record: &EntryRecord, position: i64, recorded_at: Timestamp) -> Entry {
    into_entry(record.clone(), position, recorded_at)
}

/// `entry_from_record`, moving the record's text into the entry.
pub fn into_entry(record: EntryRecord, position: i64, recorded_at: Timestamp) -> Entry {
    let actual = match (record.actual_micros, record.actual_currency) {
        (Some(micros), Some(currency)) => Some(Actual {
            amount: Money::new(micros, currency),
            confirmed_at: recorded_at,
        }),
        _ => None,
    };
    Entry {
        id: record.id,
        position,
        kind: record.kind,
        occurred_at: Timestamp(record.occurred_at),
        source: record.source,
        model: record.model,
        description: record.description,
        tags: record.tags,
        request_id: record.request_id,
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
        price_version: record.price_version,
        license: record.license,
        batch: record.batch,
        billing: record.billing,
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
        EventBody::EntryRestored(_) => entry.void = None,
        EventBody::EstimateRepriced(r) => {
            entry.estimate = Estimate {
                micros: Some(r.micros),
                currency: r.currency,
                tier: r.tier,
            };
            entry.price_version = Some(r.price_version.clone());
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
        EventBody::RequestAttached(a) => entry.request_id = Some(a.request_id.clone()),
        EventBody::EntryLogged(_)
        | EventBody::EntriesImported(_)
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
        | EventBody::InvoiceSettingsChanged(_) => {}
    }
}

/// Replays entries from the events that logged them and the events that
/// changed them since, given in chain order; `positions` names the entries
/// wanted and each one's place in log order (see `Positions`). Each event is
/// read once, however many of its rows are wanted.
pub fn replay_entries(
    events: &[Event],
    positions: &HashMap<Uuid, i64>,
) -> Result<HashMap<Uuid, Entry>, PayloadError> {
    let mut entries = HashMap::with_capacity(positions.len());
    for event in events {
        let body = event.body()?;
        let logged = body.logged_records();
        if logged.is_empty() {
            if let Some(entry) = body.entry_id().and_then(|id| entries.get_mut(&id)) {
                apply_change(entry, &body, event.recorded_at);
            }
            continue;
        }
        for record in logged {
            if let Some(&position) = positions.get(&record.id) {
                let entry = entry_from_record(&record, position, event.recorded_at);
                entries.insert(record.id, entry);
            }
        }
    }
    Ok(entries)
}

/// Replays one entry at `position` from its events, in chain order.
pub fn replay_entry(
    id: Uuid,
    position: i64,
    events: &[Event],
) -> Result<Option<Entry>, PayloadError> {
    Ok(replay_entries(events, &HashMap::from([(id, position)]))?.remove(&id))
}

/// Numbers entries in log order. An entry takes the seq of the event that
/// logged it, unless the rows of an earlier `entries_imported` event, which
/// take one number each from their event's seq on, hold that number
/// already; then it takes the next free one. A chain without such events
/// numbers each entry by its event's seq, as ledgers always have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Positions {
    last: i64,
}

impl Positions {
    /// Numbering after the entry at `last` (0 on an empty ledger).
    pub fn after(last: i64) -> Positions {
        Positions { last }
    }

    /// The position of the next entry, logged by the event at `seq`.
    pub fn next(&mut self, seq: i64) -> i64 {
        self.last = seq.max(self.last + 1);
        self.last
    }
}
