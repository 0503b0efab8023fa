//! Exchange rates: importing ECB files, fetching the daily file, showing the
//! rates of a date, and the rate table conversions use.

use crate::error::{Error, Result};
use crate::fx::{ecb, snapshot, DayRate, RateTable};
use crate::http;
use crate::money::Currency;
use crate::store::{RatesImported, Store};
use crate::timestamp::day_label;
use std::path::Path;

/// ECB's daily reference rates, published on working days around 16:00 CET.
pub const ECB_DAILY_URL: &str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml";

/// The rates conversions of `currencies` use: the embedded snapshot, with
/// the ledger's imported rates taking precedence day by day.
pub async fn rate_table<S: Store>(store: &S, currencies: Option<&[Currency]>) -> Result<RateTable> {
    let stored = store.rates(currencies).await?;
    let embedded = snapshot::rates()
        .map_err(Error::Io)?
        .iter()
        .copied()
        .filter(|r| currencies.is_none_or(|list| list.contains(&r.currency)));
    Ok(RateTable::from_rows(embedded.chain(stored)))
}

/// The rates that convert amounts in `currencies` into `to`; nothing is read
/// when they are all in `to` already.
pub async fn rate_table_into<S: Store>(
    store: &S,
    currencies: impl IntoIterator<Item = Currency>,
    to: Currency,
) -> Result<RateTable> {
    let mut needed: Vec<Currency> = currencies.into_iter().filter(|c| *c != to).collect();
    if needed.is_empty() {
        return Ok(RateTable::default());
    }
    needed.push(to);
    needed.sort();
    needed.dedup();
    rate_table(store, Some(&needed)).await
}

/// What an import read and changed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportReport {
    pub source: String,
    pub days: usize,
    pub rates: usize,
    pub first_date: String,
    pub last_date: String,
    #[serde(flatten)]
    pub changes: RatesImported,
    /// Columns of retired currencies that were skipped.
    pub skipped_currencies: Vec<String>,
}

/// Imports an ECB file (daily or historical XML, historical CSV, or either
/// zipped): all rates or none; a malformed file names its line.
pub async fn import_file<S: Store>(store: &S, path: &Path) -> Result<ImportReport> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::input(format!("cannot read {}: {e}", path.display())))?;
    import_bytes(store, &path.display().to_string(), &bytes).await
}

/// Downloads ECB's daily file (or `url`) and imports it.
pub async fn update<S: Store>(store: &S, url: &str) -> Result<ImportReport> {
    let bytes = http::get_bytes(&http::client()?, url, ecb::MAX_FILE_BYTES).await?;
    import_bytes(store, url, &bytes).await
}

async fn import_bytes<S: Store>(store: &S, source: &str, bytes: &[u8]) -> Result<ImportReport> {
    let parsed = ecb::parse(bytes).map_err(|e| Error::input(format!("{source}: {e}")))?;
    let days = parsed.days();
    let changes = store.import_rates(&parsed.rates).await?;
    Ok(ImportReport {
        source: source.to_string(),
        days: days.len(),
        rates: parsed.rates.len(),
        first_date: days.first().map(|d| day_label(*d)).unwrap_or_default(),
        last_date: days.last().map(|d| day_label(*d)).unwrap_or_default(),
        changes,
        skipped_currencies: parsed.skipped.into_iter().collect(),
    })
}

/// The rates in force on a date: the latest ECB day on or before it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RatesOn {
    /// The date asked about.
    pub requested: String,
    /// The ECB date whose rates apply (on or before `requested`).
    pub date: String,
    pub base: Currency,
    pub rates: Vec<CurrencyRate>,
    /// The date of the rates compiled into gencost.
    pub snapshot_date: Option<String>,
    /// The range of imported rates in this ledger, if any.
    pub imported: Option<ImportedRange>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CurrencyRate {
    pub currency: Currency,
    pub rate: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportedRange {
    pub first_date: String,
    pub last_date: String,
    pub days: usize,
}

pub async fn rates_on<S: Store>(store: &S, day: i64) -> Result<RatesOn> {
    let stored = store.rates(None).await?;
    let imported = imported_range(&stored);
    let table = RateTable::from_rows(
        snapshot::rates()
            .map_err(Error::Io)?
            .iter()
            .copied()
            .chain(stored),
    );
    let (found, rates) = table.quoted_on_or_before(day).ok_or_else(|| {
        Error::NotFound(format!(
            "no exchange rates on or before {}; import ECB rates with `gencost rates import eurofxref-hist.csv`",
            day_label(day)
        ))
    })?;
    Ok(RatesOn {
        requested: day_label(day),
        date: day_label(found),
        base: Currency::EUR,
        rates: rates
            .into_iter()
            .map(|(currency, rate)| CurrencyRate {
                currency,
                rate: rate.decimal(),
            })
            .collect(),
        snapshot_date: snapshot::day().map(day_label),
        imported,
    })
}

fn imported_range(stored: &[DayRate]) -> Option<ImportedRange> {
    let days: std::collections::BTreeSet<i64> = stored.iter().map(|r| r.day).collect();
    Some(ImportedRange {
        first_date: day_label(*days.first()?),
        last_date: day_label(*days.last()?),
        days: days.len(),
    })
}
