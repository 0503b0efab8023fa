//! Exchange rates: importing ECB files, fetching the daily file, showing the
//! rates of a date, and the rate table conversions use.

use crate::error::{Error, Result};
use crate::fx::embedded::{self, History};
use crate::fx::{ecb, DayRate, RateTable};
use crate::http;
use crate::money::Currency;
use crate::store::{RatesImported, Store};
use crate::timestamp::day_label;

use std::path::Path;

/// ECB's daily reference rates, published on working days around 16:00 CET.
pub const ECB_DAILY_URL: &str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml";

/// ECB's history as compiled into gencost (read once per process, and only
/// when a conversion or a check needs it).
fn history() -> Result<&'static History> {
    embedded::history().map_err(Error::Io)
}

/// The rates conversions of `currencies` use: ECB's embedded history, with
/// the ledger's imported rates taking precedence day by day.
pub async fn rate_table<S: Store>(store: &S, currencies: Option<&[Currency]>) -> Result<RateTable> {
    let stored = store.rates(currencies).await?;
    with_embedded(currencies, stored)
}

/// The embedded rates of `currencies` (all when `None`) under `stored`.
fn with_embedded(currencies: Option<&[Currency]>, stored: Vec<DayRate>) -> Result<RateTable> {
    embedded::table_with(currencies, stored).map_err(Error::Io)
}

/// The rates that convert amounts in `currencies` into `to`; nothing is read
/// when they are all in `to` already. A `to` without any rate is refused:
/// nothing could be converted into it.
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
    let table = rate_table(store, Some(&needed)).await?;
    if !table.knows(to) {
        return Err(Error::input(format!(
            "currency {to}: no exchange rate is known for it, so nothing can be converted into it; \
             import rates for it with gencost rates import FILE first"
        )));
    }
    Ok(table)
}

/// Refuses an amount in `currency` dated `day` that could never be
/// converted: a currency without any rate (embedded or imported), or a day
/// before the first rate known for it (ECB's history starts 1999-01-04).
/// The common case — a currency and day the embedded history covers —
/// reads only the history's header, not the ledger.
pub async fn check_convertible<S: Store>(store: &S, currency: Currency, day: i64) -> Result<()> {
    let embedded = history()?.first_day(currency);
    if embedded.is_some_and(|first| day >= first) {
        return Ok(());
    }
    convertible_from(currency, day, first_convertible_day(store, currency).await?)
}

/// The first day an amount in `currency` can be converted: the first
/// embedded or stored rate for it (for euros, of any currency).
pub async fn first_convertible_day<S: Store>(store: &S, currency: Currency) -> Result<Option<i64>> {
    let embedded = history()?.first_day(currency);
    let stored = store
        .first_rate_day((currency != Currency::EUR).then_some(currency))
        .await?;
    Ok(match (embedded, stored) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// Refuses `day` when it is before `first` (see `check_convertible`).
pub fn convertible_from(currency: Currency, day: i64, first: Option<i64>) -> Result<()> {
    match first {
        None => Err(Error::input(format!(
            "currency {currency}: no exchange rate is known for it, so it could never be converted; \
             import rates for it with gencost rates import FILE first"
        ))),
        Some(first) if day < first => Err(Error::input(format!(
            "time: {} is before {}, the first day an exchange rate for {currency} is known, \
             so the amount could never be converted; import rates for {currency} covering that day \
             with gencost rates import FILE first",
            day_label(day),
            day_label(first)
        ))),
        Some(_) => Ok(()),
    }
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

/// How often a running server fetches ECB's daily rates, and how soon it
/// tries again when ECB could not be reached.
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Keeps the ledger's ECB rates fresh while a server runs: fetches `url`
/// now and then once a day (an hour after a failure), saying on stderr what
/// it added or why it could not. Runs until the server stops; nothing waits
/// for it.
pub async fn refresh_daily<S: Store>(store: std::sync::Arc<S>, url: String) {
    loop {
        let wait = match update(&*store, &url).await {
            Ok(report) => {
                if report.changes.added + report.changes.changed > 0 {
                    eprintln!("rates: {}", update_summary(&report));
                }
                REFRESH_EVERY
            }
            Err(e) => {
                eprintln!("rates: cannot update the ECB rates ({e}); trying again in an hour");
                RETRY_AFTER
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// What an update added: `added 30 ECB rates (2026-12-04)`, or that
/// there was nothing new.
pub fn update_summary(report: &ImportReport) -> String {
    let days = if report.first_date == report.last_date {
        report.last_date.clone()
    } else {
        format!("{} to {}", report.first_date, report.last_date)
    };
    let c = &report.changes;
    match (c.added, c.changed) {
        (0, 0) => format!(
            "up to date: nothing new (the latest ECB rates, of {days}, were already in the ledger)"
        ),
        (added, 0) => format!("added {added} ECB rates ({days})"),
        (added, changed) => format!("added {added} ECB rates and corrected {changed} ({days})"),
    }
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
    /// The range of ECB's history compiled into gencost.
    pub embedded: RateRange,
    /// The range of imported rates in this ledger, if any.
    pub imported: Option<RateRange>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CurrencyRate {
    pub currency: Currency,
    pub rate: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct RateRange {
    pub first_date: String,
    pub last_date: String,
    pub days: usize,
}

pub async fn rates_on<S: Store>(store: &S, day: i64) -> Result<RatesOn> {
    let stored = store.rates(None).await?;
    let imported = imported_range(&stored);
    let history = history()?;
    let table = with_embedded(None, stored)?;
    let (found, rates) = table.quoted_on_or_before(day).ok_or_else(|| {
        Error::NotFound(format!(
            "no exchange rates on or before {}: ECB's reference rates start on {}; \
             import earlier rates with gencost rates import FILE",
            day_label(day),
            day_label(history.first_day)
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
        embedded: RateRange {
            first_date: day_label(history.first_day),
            last_date: day_label(history.last_day),
            days: history.days,
        },
        imported,
    })
}

fn imported_range(stored: &[DayRate]) -> Option<RateRange> {
    let days: std::collections::BTreeSet<i64> = stored.iter().map(|r| r.day).collect();
    Some(RateRange {
        first_date: day_label(*days.first()?),
        last_date: day_label(*days.last()?),
        days: days.len(),
    })
}
