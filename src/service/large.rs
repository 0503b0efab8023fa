//! The check on amounts typed by hand: a figure of 10,000 USD or more (at
//! its day's rate), or more than 100 times what the catalog prices the run
//! at, is refused until the person confirms it, so a slipped key
//! ($1,000,000,000 for $10.00) never reaches the totals unseen. Amounts from
//! a provider, an import or a pool are not checked.

use super::rates::rate_table_into;
use crate::error::{Error, Result};
use crate::money::{format_exact, Currency, Money};
use crate::pricing::Catalog;
use crate::store::Store;
use crate::timestamp::today;
use serde_json::{Map, Value};

/// At or above this, in USD micro-units, a typed amount needs confirming.
pub const LARGE_USD_MICROS: u64 = 10_000 * 1_000_000;
/// Above this many times the catalog's estimate, likewise.
pub const ESTIMATE_FACTOR: i128 = 100;

/// A typed amount, and what it is for.
pub struct Typed<'a> {
    /// The input that holds it, as its surface names it (`cost`, `amount`).
    pub field: &'static str,
    pub amount: Money,
    /// The UTC day the cost belongs to: the day whose rate converts it.
    pub day: i64,
    pub model: Option<&'a str>,
    pub params: &'a Map<String, Value>,
}

/// Refuses `typed` when it is large (see the module's comment), with a
/// message naming the figure and why; `Error::Unconfirmed`, which each
/// surface turns into its way to confirm.
pub async fn check<S: Store>(store: &S, catalog: &Catalog, typed: &Typed<'_>) -> Result<()> {
    let amount = typed.amount;
    let shown = format_exact(amount.micros, amount.currency);
    let refuse = |why: String| {
        Err(Error::Unconfirmed {
            field: typed.field,
            message: format!("{shown} is {why}; check the figure"),
        })
    };
    let table = rate_table_into(store, [amount.currency], Currency::USD).await?;
    let (usd, rate) = if amount.currency == Currency::USD {
        (amount.micros, None)
    } else {
        let (usd, used) =
            table.convert(amount.micros, amount.currency, Currency::USD, typed.day)?;
        (usd, Some(used.date))
    };
    if usd.unsigned_abs() >= LARGE_USD_MICROS {
        let why = match rate {
            None => "$10,000 or more".to_string(),
            Some(date) => format!(
                "{} at the rate of {date}, $10,000 or more",
                format_exact(usd, Currency::USD)
            ),
        };
        return refuse(why);
    }
    let Some(model) = typed.model.and_then(|m| catalog.get(m)) else {
        return Ok(());
    };
    // A model the catalog cannot price with these settings has no
    // estimate to compare with: only the first rule holds.
    let Ok(Some(estimate)) = model.estimate(typed.params, today()) else {
        return Ok(());
    };
    if estimate.micros <= 0 {
        return Ok(());
    }
    let in_estimate_currency = if amount.currency == estimate.currency {
        amount.micros
    } else {
        let table = rate_table_into(store, [amount.currency], estimate.currency).await?;
        table
            .convert(amount.micros, amount.currency, estimate.currency, typed.day)?
            .0
    };
    if i128::from(in_estimate_currency).abs() > ESTIMATE_FACTOR * i128::from(estimate.micros) {
        return refuse(format!(
            "more than 100 × the catalog's estimate of {} for {} ({})",
            format_exact(estimate.micros, estimate.currency),
            model.endpoint,
            estimate.explanation
        ));
    }
    Ok(())
}
