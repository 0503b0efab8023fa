//! Running totals in one display currency.

use crate::error::Result;
use crate::ledger::totals::{fold, Dimension, Grouping, SumRow, Totals, TotalsError};
use crate::money::Currency;
use crate::store::{Filter, Store};
use crate::timestamp::day_label;

/// Totals of live entries matching `filter`, broken down `by` a dimension.
pub async fn totals<S: Store>(
    store: &S,
    filter: &Filter,
    by: Option<Dimension>,
    currency: Currency,
) -> Result<Totals> {
    let grouping = by.map_or(Grouping::None, Dimension::grouping);
    let rows = store.sums(filter, grouping).await?;
    Ok(fold(&rows, by, currency, no_rate)?)
}

/// Amounts in another currency need an exchange rate; none is known here.
fn no_rate(row: &SumRow, to: Currency) -> Result<i64, TotalsError> {
    let date = row
        .day
        .map_or_else(|| "the entries' dates".to_string(), day_label);
    Err(TotalsError::MissingRate {
        from: row.currency,
        to,
        date,
    })
}
