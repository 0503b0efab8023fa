//! Exchange rates in the ledger database, so every editor of a shared ledger
//! converts with the same rates. Rates are reference data, not ledger
//! history: they are not events and survive `reset`.

use super::error::StoreError;
use super::session::Session;
use super::value::{Column, Row, RowsInsert, Value};
use crate::fx::{DayRate, Rate};
use crate::money::Currency;
use std::collections::HashMap;

/// What an import changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RatesImported {
    pub added: u64,
    pub changed: u64,
    pub unchanged: u64,
}

/// Upserts `rates` inside the caller's transaction; rows equal to the stored
/// ones are left alone, so importing the same file twice changes nothing.
pub async fn import(tx: &mut Session, rates: &[DayRate]) -> Result<RatesImported, StoreError> {
    // Budgets' converted sums kept by any process are of the rates before.
    super::budgets::restamp(tx, &[String::new()]).await?;
    let (Some(first), Some(last)) = (
        rates.iter().map(|r| r.day).min(),
        rates.iter().map(|r| r.day).max(),
    ) else {
        return Ok(RatesImported::default());
    };
    let stored: HashMap<(Currency, i64), Rate> = tx
        .query(
            "SELECT currency, day, rate FROM fx_rates WHERE day BETWEEN $1 AND $2",
            &[Value::Int(first), Value::Int(last)],
        )
        .await?
        .into_iter()
        .map(|row| day_rate(row).map(|r| ((r.currency, r.day), r.rate)))
        .collect::<Result<_, _>>()?;
    let mut counts = RatesImported::default();
    let mut values = Vec::new();
    for rate in rates {
        match stored.get(&(rate.currency, rate.day)) {
            Some(old) if *old == rate.rate => {
                counts.unchanged += 1;
                continue;
            }
            Some(_) => counts.changed += 1,
            None => counts.added += 1,
        }
        values.extend([
            Value::Text(rate.currency.code().to_string()),
            Value::Int(rate.day),
            Value::Text(rate.rate.decimal()),
        ]);
    }
    if !values.is_empty() {
        // One statement: SQLite binds it in groups, PostgreSQL as arrays.
        tx.insert_groups(&mut std::iter::once(vec![RowsInsert {
            table: "fx_rates",
            columns: "currency, day, rate",
            types: &[Column::Text, Column::Int, Column::Text],
            values,
            on_conflict: "ON CONFLICT (currency, day) DO UPDATE SET rate = excluded.rate",
        }]))
        .await?;
    }
    Ok(counts)
}

/// Stored rates of these currencies (all when `None`), by currency and day.
pub async fn load(
    handle: &mut Session,
    currencies: Option<&[Currency]>,
) -> Result<Vec<DayRate>, StoreError> {
    let rows = match currencies {
        None => {
            handle
                .query(
                    "SELECT currency, day, rate FROM fx_rates ORDER BY currency, day",
                    &[],
                )
                .await?
        }
        Some([]) => return Ok(Vec::new()),
        Some(list) => {
            let placeholders: Vec<String> = (1..=list.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT currency, day, rate FROM fx_rates WHERE currency IN ({}) ORDER BY currency, day",
                placeholders.join(", ")
            );
            let params: Vec<Value> = list.iter().map(|c| Value::from(c.code())).collect();
            handle.query(&sql, &params).await?
        }
    };
    rows.into_iter().map(day_rate).collect()
}

/// The first stored day of `currency`'s rates (of any currency when `None`).
pub async fn first_day(
    handle: &mut Session,
    currency: Option<Currency>,
) -> Result<Option<i64>, StoreError> {
    let rows = match currency {
        Some(c) => {
            handle
                .query(
                    "SELECT MIN(day) AS first FROM fx_rates WHERE currency = $1",
                    &[Value::from(c.code())],
                )
                .await?
        }
        None => {
            handle
                .query("SELECT MIN(day) AS first FROM fx_rates", &[])
                .await?
        }
    };
    match rows.into_iter().next() {
        Some(row) => row.opt_int("first"),
        None => Ok(None),
    }
}

fn day_rate(mut row: Row) -> Result<DayRate, StoreError> {
    let code = row.text("currency")?;
    let currency = code
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("fx_rates holds unknown currency '{code}'")))?;
    let text = row.text("rate")?;
    let rate =
        Rate::parse(&text).map_err(|e| StoreError::Corrupt(format!("fx_rates: {code}: {e}")))?;
    Ok(DayRate {
        currency,
        day: row.int("day")?,
        rate,
    })
}
