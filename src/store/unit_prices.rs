//! fal's unit prices in the ledger database, by endpoint and the day they
//! were first read: reference data like the exchange rates (not events;
//! they survive `reset` and travel with `db copy`), so every editor of a
//! shared ledger prices billed units alike, each run at its own day's
//! price.

use super::error::StoreError;
use super::session::Session;
use super::value::{Column, Row, RowsInsert, Value};
use crate::pricing::unit_price::{UnitPrice, UnitPricesStored};

/// Stores prices read on their `day`; a price equal to the one in force on
/// that day (the endpoint's latest stored on or before it) is counted
/// unchanged and not stored again, so the table grows only when a price
/// changes, and each row's day is the day the price was first read. A
/// second change on the same day replaces that day's row.
pub async fn store(tx: &mut Session, prices: &[UnitPrice]) -> Result<UnitPricesStored, StoreError> {
    let history = all(tx).await?;
    let mut counts = UnitPricesStored::default();
    let mut rows = Vec::new();
    for price in prices {
        let in_force = history
            .iter()
            .filter(|p| p.endpoint == price.endpoint && p.day <= price.day)
            .max_by_key(|p| p.day);
        match in_force {
            Some(old)
                if (&old.unit_price, &old.unit, old.currency)
                    == (&price.unit_price, &price.unit, price.currency) =>
            {
                counts.unchanged += 1;
                continue;
            }
            Some(_) => counts.changed += 1,
            None => counts.added += 1,
        }
        rows.push(price);
    }
    insert(tx, &rows).await?;
    Ok(counts)
}

/// Stores these prices as they are, each on its own day (`db copy`).
pub async fn copy(tx: &mut Session, prices: &[UnitPrice]) -> Result<(), StoreError> {
    for chunk in prices.chunks(1000) {
        insert(tx, &chunk.iter().collect::<Vec<_>>()).await?;
    }
    Ok(())
}

async fn insert(tx: &mut Session, prices: &[&UnitPrice]) -> Result<(), StoreError> {
    if prices.is_empty() {
        return Ok(());
    }
    let mut values = Vec::with_capacity(prices.len() * 5);
    for price in prices {
        values.extend([
            Value::Text(price.endpoint.clone()),
            Value::Int(price.day),
            Value::Text(price.unit_price.clone()),
            Value::Text(price.unit.clone()),
            Value::Text(price.currency.code().to_string()),
        ]);
    }
    tx.insert_groups(&mut std::iter::once(vec![RowsInsert {
        table: "unit_prices",
        columns: "endpoint, day, unit_price, unit, currency",
        types: &[Column::Text, Column::Int, Column::Text, Column::Text, Column::Text],
        values,
        on_conflict: "ON CONFLICT (endpoint, day) DO UPDATE SET unit_price = excluded.unit_price, unit = excluded.unit, currency = excluded.currency",
    }]))
    .await
}

/// Every stored price, by endpoint, then day.
pub async fn all(handle: &mut Session) -> Result<Vec<UnitPrice>, StoreError> {
    let rows = handle
        .query(
            "SELECT endpoint, day, unit_price, unit, currency FROM unit_prices \
             ORDER BY endpoint, day",
            &[],
        )
        .await?;
    rows.into_iter().map(unit_price).collect()
}

fn unit_price(mut row: Row) -> Result<UnitPrice, StoreError> {
    let endpoint = row.text("endpoint")?;
    let code = row.text("currency")?;
    let currency = code.parse().map_err(|_| {
        StoreError::Corrupt(format!(
            "unit_prices: {endpoint} holds unknown currency '{code}'"
        ))
    })?;
    Ok(UnitPrice {
        day: row.int("day")?,
        unit_price: row.text("unit_price")?,
        unit: row.text("unit")?,
        currency,
        endpoint,
    })
}
