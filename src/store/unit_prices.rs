//! fal's unit prices in the ledger database, by endpoint and the day they
//! were read: reference data like the exchange rates (not events; they
//! survive `reset`), so every editor of a shared ledger prices billed units
//! alike.

use super::error::StoreError;
use super::session::Session;
use super::value::{Column, Row, RowsInsert, Value};
use crate::pricing::unit_price::{UnitPrice, UnitPricesStored};

/// Stores prices read today; a price equal to the endpoint's latest one
/// is counted unchanged and not stored again, so the table grows only when
/// a price changes.
pub async fn store(tx: &mut Session, prices: &[UnitPrice]) -> Result<UnitPricesStored, StoreError> {
    let latest = latest(tx).await?;
    let mut counts = UnitPricesStored::default();
    let mut values = Vec::new();
    for price in prices {
        match latest.iter().find(|p| p.endpoint == price.endpoint) {
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
        values.extend([
            Value::Text(price.endpoint.clone()),
            Value::Int(price.day),
            Value::Text(price.unit_price.clone()),
            Value::Text(price.unit.clone()),
            Value::Text(price.currency.code().to_string()),
        ]);
    }
    if !values.is_empty() {
        tx.insert_groups(&mut std::iter::once(vec![RowsInsert {
            table: "unit_prices",
            columns: "endpoint, day, unit_price, unit, currency",
            types: &[Column::Text, Column::Int, Column::Text, Column::Text, Column::Text],
            values,
            on_conflict: "ON CONFLICT (endpoint, day) DO UPDATE SET unit_price = excluded.unit_price, unit = excluded.unit, currency = excluded.currency",
        }]))
        .await?;
    }
    Ok(counts)
}

/// Each endpoint's latest stored price.
pub async fn latest(handle: &mut Session) -> Result<Vec<UnitPrice>, StoreError> {
    let rows = handle
        .query(
            "SELECT p.endpoint, p.day, p.unit_price, p.unit, p.currency FROM unit_prices p \
             WHERE p.day = (SELECT MAX(q.day) FROM unit_prices q WHERE q.endpoint = p.endpoint) \
             ORDER BY p.endpoint",
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
