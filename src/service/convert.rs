//! Entries shown in another currency: each amount converted at the rate of
//! the entry's own day. An entry no rate converts is shown in its own
//! currency, saying why, so one entry never fails a whole listing.

use super::rates::rate_table_into;
use crate::error::Result;
use crate::fx::{FxError, RateTable, RateUsed, Stale, StaleCheck};
use crate::ledger::Entry;
use crate::money::{Currency, Money};
use crate::store::Store;

/// An entry with its amounts in another currency, and the rates used.
#[derive(Clone, Debug)]
pub struct Converted {
    pub entry: Entry,
    pub rates: Vec<RateUsed>,
    /// Why the entry is shown in its own currency, when no rate converts it.
    pub unconverted: Option<String>,
    /// True when a rate used is more than `fx::STALE_AFTER_DAYS` days older
    /// than the entry.
    pub stale_rates: bool,
}

impl Converted {
    /// An entry shown as it is.
    pub fn unchanged(entry: Entry) -> Converted {
        Converted {
            entry,
            rates: Vec::new(),
            unconverted: None,
            stale_rates: false,
        }
    }
}

/// Converts every amount of `entries` into `currency`; also returns the
/// stale conversion with the oldest rate, if any.
pub async fn entries_in<S: Store>(
    store: &S,
    entries: Vec<Entry>,
    currency: Currency,
) -> Result<(Vec<Converted>, Option<Stale>)> {
    let amounts = entries
        .iter()
        .flat_map(|e| {
            [
                e.estimate.micros.map(|_| e.estimate.currency),
                e.actual.map(|a| a.amount.currency),
            ]
        })
        .flatten()
        // Collected, so the future holds no closure (handlers need it Send).
        .collect::<Vec<Currency>>();
    let table = rate_table_into(store, amounts, currency).await?;
    let mut stale = StaleCheck::default();
    let converted = entries
        .into_iter()
        .map(|e| {
            let day = e.occurred_at.day();
            match entry_in(&table, &e, currency) {
                Ok(mut c) => {
                    for rate in &c.rates {
                        stale.note(rate, day);
                    }
                    c.stale_rates = c.rates.iter().any(|r| StaleCheck::is_stale(r, day));
                    c
                }
                Err(why) => Converted {
                    unconverted: Some(why.to_string()),
                    ..Converted::unchanged(e)
                },
            }
        })
        .collect();
    Ok((converted, stale.worst()))
}

/// One entry's estimate and actual converted at its day's rates; either
/// both convert or the entry is refused whole.
pub fn entry_in(table: &RateTable, entry: &Entry, to: Currency) -> Result<Converted, FxError> {
    let day = entry.occurred_at.day();
    let mut entry = entry.clone();
    let mut rates = Vec::new();
    if entry.estimate.currency != to {
        if let Some(micros) = entry.estimate.micros {
            let (converted, rate) = table.convert(micros, entry.estimate.currency, to, day)?;
            entry.estimate.micros = Some(converted);
            rates.push(rate);
        }
        entry.estimate.currency = to;
    }
    if let Some(actual) = entry.actual.as_mut() {
        let from = actual.amount.currency;
        if from != to {
            let (converted, rate) = table.convert(actual.amount.micros, from, to, day)?;
            actual.amount = Money::new(converted, to);
            rates.push(rate);
        }
    }
    rates.sort();
    rates.dedup();
    Ok(Converted {
        rates,
        ..Converted::unchanged(entry)
    })
}
