//! Finding one entry: by its id or a provider request id, with its estimate,
//! actual, billing basis and tier, the rates it is shown at, and every event
//! of the chain that made it what it is, in order.

use super::convert::{entries_in, Converted};
use super::record::candidates;
use crate::error::{Error, Result};
use crate::fx::Stale;
use crate::ledger::event::{EntriesImported, ImportedCost};
use crate::ledger::{Entry, Event, EventBody};
use crate::money::{format_exact, Currency, Money};
use crate::store::{LedgerSnapshot, Store};
use crate::wire::EntryJson;
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

/// What an id or request id names.
#[derive(Clone, Debug)]
pub enum Found {
    Entry(Box<Shown>),
    /// A request id that several sources logged: which entries, so one can
    /// be named with its source.
    Several {
        request_id: String,
        entries: Vec<Entry>,
    },
}

/// One entry, in the asked currency, with its events in chain order.
#[derive(Clone, Debug)]
pub struct Shown {
    pub entry: Converted,
    pub events: Vec<Event>,
    /// How the cost was arrived at, in words, in the entry's own currency.
    pub basis: String,
    /// The currency asked for, if any.
    pub currency: Option<Currency>,
    /// Set when the entry was converted at a rate much older than it.
    pub stale: Option<Stale>,
    /// The invoice the entry is billed on and locked by, if any.
    pub invoice: Option<String>,
}

/// Finds the entry `target` names (an entry id, else a provider request id,
/// narrowed to `source` when given) and reads it with its events from one
/// snapshot, so the events are exactly those that made the entry shown.
pub async fn show<S: Store>(
    store: &S,
    target: &str,
    source: Option<&str>,
    currency: Option<Currency>,
) -> Result<Found> {
    let mut found = candidates(store, target, source).await?;
    let id = match found.len() {
        0 => {
            return Err(Error::NotFound(format!(
                "no entry with id or request id '{}'",
                target.trim()
            )))
        }
        1 => found.remove(0).id,
        _ => {
            return Ok(Found::Several {
                request_id: target.trim().to_string(),
                entries: found,
            })
        }
    };
    let mut snapshot = store.snapshot().await?;
    let entry = snapshot
        .entry(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no entry with id {id}")))?;
    let events = snapshot.entry_events(&entry).await?;
    drop(snapshot);
    let invoice = store
        .invoice_locks_of(&[id])
        .await?
        .remove(&id)
        .map(|lock| lock.invoice);
    let basis = basis(&entry);
    let (entry, stale) = match currency {
        Some(currency) => {
            let (mut converted, stale) = entries_in(store, vec![entry], currency).await?;
            let entry = converted
                .pop()
                .ok_or_else(|| Error::Io("the conversion lost the entry".into()))?;
            (entry, stale)
        }
        None => (Converted::unchanged(entry), None),
    };
    Ok(Found::Entry(Box::new(Shown {
        entry,
        events,
        basis,
        currency,
        stale,
        invoice,
    })))
}

/// `gencost show --json` and `GET /entries/{id}/history`: the entry as
/// `list --json` prints it, how its cost was arrived at, and its events.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ShownJson {
    #[serde(flatten)]
    pub entry: EntryJson,
    /// How the cost used in totals was arrived at, in words (in the
    /// entry's own currency).
    pub basis: String,
    /// The events of the chain that logged and changed the entry, in order.
    pub events: Vec<EventJson>,
    /// The invoice the entry is billed on and locked by, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice: Option<String>,
}

/// One event of an entry, as the chain holds it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventJson {
    pub seq: i64,
    pub recorded_at: String,
    /// entry_logged, entries_imported, actual_confirmed, tags_changed,
    /// entry_voided, entry_restored, amount_corrected or run_settled.
    pub kind: String,
    /// The event's hash in the chain (hex).
    pub hash: String,
    /// What the event did, in words.
    pub summary: String,
    /// The event's payload; of an import's event, only the entry's row and
    /// the batch (the event holds up to a thousand rows).
    #[schema(value_type = Object)]
    pub payload: Box<RawValue>,
}

impl Shown {
    pub fn to_json(&self) -> Result<ShownJson> {
        // As `list --json` shows an entry in another currency.
        let converted = self.currency.is_some();
        let rates = converted.then(|| self.entry.rates.clone());
        let mut entry = EntryJson::new(self.entry.entry.clone(), rates).map_err(not_json)?;
        if converted {
            entry.stale_rates = Some(self.entry.stale_rates);
            entry.unconverted = self.entry.unconverted.clone();
        }
        let events = self
            .events
            .iter()
            .map(|event| event_json(event, &self.entry.entry))
            .collect::<Result<Vec<_>>>()?;
        Ok(ShownJson {
            entry,
            basis: self.basis.clone(),
            events,
            invoice: self.invoice.clone(),
        })
    }
}

fn not_json(e: serde_json::Error) -> Error {
    Error::Io(format!("an entry's parameters are not JSON: {e}"))
}

fn event_json(event: &Event, entry: &Entry) -> Result<EventJson> {
    let body = event
        .body()
        .map_err(|e| Error::Io(format!("cannot read {e}")))?;
    let payload = match &body {
        EventBody::EntriesImported(EntriesImported { batch, rows }) => {
            #[derive(Serialize)]
            struct Row<'a> {
                batch: String,
                row: Option<&'a ImportedCost>,
            }
            let row = rows.iter().find(|r| r.id == entry.id);
            serde_json::value::to_raw_value(&Row {
                batch: batch.to_string(),
                row,
            })
        }
        _ => RawValue::from_string(event.payload.clone()),
    }
    .map_err(|e| Error::Io(format!("event {}: its payload is not JSON: {e}", event.seq)))?;
    Ok(EventJson {
        seq: event.seq,
        recorded_at: event.recorded_at.to_string(),
        kind: event.kind.clone(),
        hash: event.hash.to_hex(),
        summary: summary(&body, entry),
        payload,
    })
}

/// An amount as an entry's amounts are shown: exactly.
fn amount(micros: i64, currency: Currency) -> String {
    format_exact(micros, currency)
}

/// What an event did to the entry, in one line.
pub fn summary(body: &EventBody, entry: &Entry) -> String {
    let cost = |micros: Option<i64>, currency: Currency| {
        micros.map_or("no price".to_string(), |m| amount(m, currency))
    };
    match body {
        EventBody::EntryLogged(record) => {
            let mut text = format!(
                "logged: estimate {} ({})",
                cost(record.estimate_micros, record.estimate_currency),
                record.estimate_tier
            );
            if let (Some(micros), Some(currency)) = (record.actual_micros, record.actual_currency) {
                text.push_str(&format!(", actual {}", amount(micros, currency)));
            }
            if let Some(batch) = record.batch {
                text.push_str(&format!(", in {batch}"));
            }
            text
        }
        EventBody::EntriesImported(imported) => {
            match imported.rows.iter().find(|r| r.id == entry.id) {
                Some(row) => format!(
                    "imported in {}: {} (one of {} rows of this event)",
                    imported.batch,
                    amount(row.micros, row.currency),
                    imported.rows.len()
                ),
                None => format!("imported in {}", imported.batch),
            }
        }
        EventBody::ActualConfirmed(c) => {
            format!("actual confirmed: {}", amount(c.micros, c.currency))
        }
        EventBody::TagsChanged(t) => {
            let tag = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            format!(
                "tags changed: client {}, project {}, deliverable {}",
                tag(&t.tags.client),
                tag(&t.tags.project),
                tag(&t.tags.deliverable)
            )
        }
        EventBody::EntryVoided(v) => format!("voided: {}", v.reason),
        EventBody::EntryRestored(r) => format!("restored: {}", r.reason),
        EventBody::AmountCorrected(c) => format!(
            "amount corrected: {} to {}{}",
            amount(c.previous_micros, c.previous_currency),
            amount(c.micros, c.currency),
            match c.batch {
                Some(batch) => format!(" by import {batch}"),
                None => " (the import that changed it was voided)".to_string(),
            }
        ),
        EventBody::RunSettled(s) => {
            let mut parts = Vec::new();
            if let Some(status) = s.status {
                parts.push(format!("status {status}"));
            }
            if let Some(ms) = s.duration_ms {
                parts.push(format!("{} s", crate::money::decimal_string(ms * 1_000)));
            }
            if let Some(billing) = &s.billing {
                parts.push(format!("{} billable units", billing.units));
            }
            if let (Some(micros), Some(currency)) = (s.micros, s.currency) {
                parts.push(format!("billed {}", amount(micros, currency)));
            }
            if parts.is_empty() {
                "settled".to_string()
            } else {
                format!("settled: {}", parts.join(", "))
            }
        }
        EventBody::BatchVoided(v) => format!("voided with its batch {}: {}", v.batch, v.reason),
        EventBody::EstimateRepriced(r) => format!(
            "estimate repriced: {} ({}) to {} ({}): {}",
            cost(r.previous_micros, r.previous_currency),
            r.previous_tier,
            amount(r.micros, r.currency),
            r.tier,
            r.reason
        ),
        EventBody::RequestAttached(a) => format!("request id {} attached", a.request_id),
        EventBody::BudgetThresholdCrossed(a) => a.message(),
        EventBody::BudgetSet(b) => format!("budget {} set", b.budget.name),
        EventBody::BudgetRemoved(b) => format!("budget {} removed", b.name),
        EventBody::InvoiceIssued(i) => format!("billed on invoice {}", i.number),
        EventBody::InvoiceVoided(v) => format!("invoice {} voided: {}", v.number, v.reason),
        EventBody::CreditNoteIssued(c) => {
            format!(
                "credited on {} (invoice {}): {}",
                c.number, c.invoice, c.reason
            )
        }
        EventBody::LedgerReset(_)
        | EventBody::ImportRecorded(_)
        | EventBody::PoolAdded(_)
        | EventBody::InvoiceSettingsChanged(_) => body.kind().replace('_', " "),
    }
}

/// How the cost an entry counts with was arrived at, in words: the units a
/// provider billed and the unit price applied, a confirmed actual, or the
/// estimate and where its price came from.
pub fn basis(entry: &Entry) -> String {
    let confirmed = entry.actual.map(|a| a.amount);
    match (&entry.billing, confirmed) {
        (Some(billing), _) => {
            let unit = billing.unit.as_deref().unwrap_or("unit");
            let mut text = format!("{} {} billed as {}", billing.units, unit, billing.endpoint);
            match (&billing.unit_price, confirmed) {
                (Some(price), Some(Money { currency, .. })) => {
                    text.push_str(&format!(" at {price} {currency} per {unit}"));
                    if let Some(from) = &billing.price_from {
                        text.push_str(&format!(" ({from} price"));
                        if let Some(date) = &billing.price_date {
                            text.push_str(&format!(" of {date}"));
                        }
                        text.push(')');
                    }
                }
                (Some(price), None) => text.push_str(&format!(" at {price} per {unit}")),
                (None, _) => text.push_str("; no unit price known"),
            }
            if entry.has_zero_units() {
                text.push_str("; 0 units do not prove a free run, so it stays open");
            }
            text
        }
        (None, Some(actual)) => format!(
            "actual {} confirmed{}",
            amount(actual.micros, actual.currency),
            if entry.batch.is_some() {
                " by an import"
            } else {
                ""
            }
        ),
        (None, None) => match entry.estimate.micros {
            None => "no price known".to_string(),
            Some(_) => {
                // "estimated" is the plain case; a historical estimate says so.
                let mut text = match entry.estimate.tier {
                    crate::ledger::Tier::Estimated => "estimate".to_string(),
                    tier => format!("{tier} estimate"),
                };
                if let Some(version) = &entry.price_version {
                    text.push_str(&format!(", catalog price verified {version}"));
                }
                text
            }
        },
    }
}
