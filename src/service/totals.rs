//! Running totals in one display currency; amounts in other currencies are
//! converted at the rate of their own day. An amount no rate converts is
//! left out and listed, never a reason for the whole total to fail.

use super::rates::rate_table_into;
use crate::error::Result;
use crate::fx::{FxError, StaleCheck};
use crate::ledger::totals::{sum_groups, Dimension, Grouping, SumRow, Totals, KEY_SEPARATOR};
use crate::money::Currency;
use crate::store::{Filter, Store};
use std::collections::BTreeSet;

/// Totals of live entries matching `filter`, broken down `by` a dimension.
pub async fn totals<S: Store>(
    store: &S,
    filter: &Filter,
    by: Option<Dimension>,
    currency: Currency,
) -> Result<Totals> {
    let grouping = by.map_or(Grouping::None, Dimension::grouping);
    grouped(store, filter, grouping, by, currency).await
}

/// Totals per (client, project) pair, for invoicing: each group's key is
/// the pair, as `(client, project)`.
pub async fn by_client_and_project<S: Store>(
    store: &S,
    filter: &Filter,
    currency: Currency,
) -> Result<(Totals, Vec<(Option<String>, Option<String>)>)> {
    let totals = grouped(store, filter, Grouping::ClientProject, None, currency).await?;
    let pairs = totals
        .groups
        .iter()
        .map(|g| {
            let key = g.key.as_deref().unwrap_or_default();
            let (client, project) = key.split_once(KEY_SEPARATOR).unwrap_or((key, ""));
            let tag = |t: &str| (!t.is_empty()).then(|| t.to_string());
            (tag(client), tag(project))
        })
        .collect();
    Ok((totals, pairs))
}

async fn grouped<S: Store>(
    store: &S,
    filter: &Filter,
    grouping: Grouping,
    by: Option<Dimension>,
    currency: Currency,
) -> Result<Totals> {
    // Sums by day: rows already in `currency` add up as they are, the others
    // convert at their own day's rate.
    let rows = store.sums(filter, grouping).await?;
    let amounts = rows.iter().filter(|r| r.micros != 0).map(|r| r.currency);
    let table = rate_table_into(store, amounts, currency).await?;
    let mut used = BTreeSet::new();
    let mut stale = StaleCheck::default();
    let mut convert = |row: &SumRow, to: Currency| -> Result<i128, FxError> {
        let (picos, rate) = table.convert_picos(row.micros, row.currency, to, row.day)?;
        stale.note(&rate, row.day);
        used.insert(rate);
        Ok(picos)
    };
    // Keyed groups are summed by their key; `by` only matters for time buckets.
    let group_by = match grouping {
        Grouping::ClientProject => Some(Dimension::Client),
        _ => by,
    };
    let mut totals = sum_groups(&rows, group_by, currency, &mut convert)?;
    totals.rates = used.into_iter().collect();
    totals.not_charged_count = store.not_charged(filter).await?;
    totals.stale = stale.worst();
    totals.stale_rates = totals.stale.is_some();
    Ok(totals)
}
