//! Entries shown in another currency: each amount converted at the rate of
//! the entry's own day.

use super::rates::rate_table_into;
use crate::error::Result;
use crate::fx::{FxError, RateTable, RateUsed};
use crate::ledger::Entry;
use crate::money::{Currency, Money};
use crate::store::Store;

/// An entry with its amounts in another currency, and the rates used.
#[derive(Clone, Debug)]
pub struct Converted {
    pub entry: Entry,
    pub rates: Vec<RateUsed>,
}

/// Converts every amount of `entries` into `currency`.
pub async fn entries_in<S: Store>(
    store: &S,
    entries: Vec<Entry>,
    currency: Currency,
) -> Result<Vec<Converted>> {
    let amounts = entries
        .iter()
        .flat_map(|e| {
            [
                Some(e.estimate.currency),
                e.actual.map(|a| a.amount.currency),
            ]
        })
        .flatten();
    let table = rate_table_into(store, amounts, currency).await?;
    entries
        .into_iter()
        .map(|e| entry_in(&table, e, currency).map_err(Into::into))
        .collect()
}

/// One entry's estimate and actual converted at its day's rates.
pub fn entry_in(table: &RateTable, mut entry: Entry, to: Currency) -> Result<Converted, FxError> {
    let day = entry.occurred_at.day();
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
    Ok(Converted { entry, rates })
}
