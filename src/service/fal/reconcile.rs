//! `reconcile`: fal runs the ledger logged without a confirmed cost are
//! settled later, from their results (fal keeps them readable for days)
//! and, with an admin key, from fal's billing records, which know the
//! account's discounts and settle streamed runs and reported zeros.

use super::api::{call_failed, get_all_pages, FalApi};
use super::provider::Fal;
use super::{result_report, UnitPrices, SOURCE};
use crate::error::{Error, Result};
use crate::fal::billing::{discounted_cost_micros, Decimal, MAX_SCALE};
use crate::fal::call::result_url;
use crate::fal::json::FalObject;
use crate::ledger::{Billing, Command, Entry, Kind, RunSettled};
use crate::money::{decimal_string, Currency, Money};
use crate::pricing::Catalog;
use crate::service::runs::{logged_run, settle_entry};
use crate::store::{Filter, Page, Store};
use crate::timestamp::Timestamp;
use futures_util::stream::{self, StreamExt};
use reqwest::{Method, Url};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// Request ids fal's billing records accept per call.
const BILLING_IDS_PER_CALL: usize = 50;
/// The largest billing-records page read.
const BILLING_PAGE_BYTES: usize = 16 * 1024 * 1024;
/// fal's billing records reach back at most this far per call.
const BILLING_WINDOW_DAYS: i64 = 90;
/// Failures listed by name in the summary.
const LISTED_FAILURES: usize = 20;

#[derive(Clone, Debug)]
pub struct ReconcileOptions {
    /// Only runs logged at or after this time.
    pub since: Option<Timestamp>,
    /// Also read fal's billing records (an admin key is needed).
    pub billing_events: bool,
    /// Result fetches in flight at once.
    pub concurrency: usize,
}

/// What a reconcile did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileSummary {
    /// Runs without a confirmed cost when it started.
    pub open: u64,
    /// Runs that now have a confirmed cost.
    pub confirmed: u64,
    /// Runs still without one (no units reported yet, a reported 0, or
    /// units without a known unit price).
    pub still_open: u64,
    /// Runs whose result or billing record could not be read.
    pub failed: u64,
    /// The first failures, in words.
    pub failures: Vec<String>,
    /// Confirmed costs minus the estimates they settle, per currency
    /// (exact decimals), for runs estimated in the currency they were
    /// billed in.
    pub change: BTreeMap<String, String>,
}

/// Live fal generations without a confirmed cost, that carry fal's
/// request id, oldest first.
pub async fn open_runs<S: Store>(store: &S, since: Option<Timestamp>) -> Result<Vec<Entry>> {
    let filter = Filter {
        kind: Some(Kind::Generation),
        since,
        ..Filter::default()
    };
    let mut open = Vec::new();
    let mut page = Page {
        limit: 1000,
        after: None,
    };
    loop {
        let entries = store.list(&filter, page).await?;
        let Some(last) = entries.last() else { break };
        page.after = Some(crate::store::Cursor::after(last));
        let full = entries.len() as i64 == page.limit;
        open.extend(entries.into_iter().filter(|e| {
            e.source == SOURCE && e.actual.is_none() && e.request_id.is_some() && e.model.is_some()
        }));
        if !full {
            break;
        }
    }
    open.reverse();
    Ok(open)
}

/// Settles open runs from their results, then (with `billing_events`)
/// from fal's billing records; `progress` is told of each run done.
pub async fn reconcile<S: Store>(
    store: &S,
    catalog: &Catalog,
    api: &FalApi,
    options: ReconcileOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<ReconcileSummary> {
    if !api.has_key() {
        return Err(Error::Unavailable(format!(
            "no fal.ai key: set {} to re-read results",
            super::api::KEY_VARIABLE
        )));
    }
    let open = open_runs(store, options.since).await?;
    let prices = UnitPrices::load(store, catalog).await?;
    let total = open.len() as u64;
    let mut summary = ReconcileSummary {
        open: total,
        ..ReconcileSummary::default()
    };
    let mut failures = Vec::new();
    let done = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<(Entry, Result<()>)> = stream::iter(open.iter().cloned())
        .map(|entry| {
            let (prices, done) = (&prices, &done);
            async move {
                let outcome = refetch(store, api, prices, &entry).await;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(n, total);
                (entry, outcome)
            }
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    for (entry, outcome) in &results {
        if let Err(e) = outcome {
            failures.push(format!(
                "{} ({}): {e}",
                entry.request_id.as_deref().unwrap_or_default(),
                entry.model.as_deref().unwrap_or_default()
            ));
        }
    }
    if options.billing_events {
        let still: Vec<Entry> = current(store, &open)
            .await?
            .into_iter()
            .filter(|e| e.actual.is_none())
            .collect();
        apply_billing_events(store, api, &still, &mut failures).await?;
    }
    let after = current(store, &open).await?;
    let mut change: BTreeMap<Currency, i64> = BTreeMap::new();
    for entry in &after {
        match &entry.actual {
            Some(actual) => {
                summary.confirmed += 1;
                if let Some(estimate) = entry.estimate.micros {
                    if entry.estimate.currency == actual.amount.currency {
                        *change.entry(actual.amount.currency).or_default() +=
                            actual.amount.micros - estimate;
                    }
                }
            }
            None => summary.still_open += 1,
        }
    }
    summary.failed = failures.len() as u64;
    summary.failures = failures.into_iter().take(LISTED_FAILURES).collect();
    summary.change = change
        .into_iter()
        .map(|(currency, micros)| (currency.code().to_string(), decimal_string(micros)))
        .collect();
    Ok(summary)
}

/// The entries as they are now.
async fn current<S: Store>(store: &S, entries: &[Entry]) -> Result<Vec<Entry>> {
    let mut now = Vec::with_capacity(entries.len());
    for entry in entries {
        if let Some(e) = store.entry(entry.id).await? {
            now.push(e);
        }
    }
    Ok(now)
}

/// Re-reads one run's result (headers only; the body is not needed) and
/// settles the run from it.
async fn refetch<S: Store>(
    store: &S,
    api: &FalApi,
    prices: &UnitPrices,
    entry: &Entry,
) -> Result<()> {
    let (Some(model), Some(request_id)) = (&entry.model, &entry.request_id) else {
        return Ok(());
    };
    let url = result_url(model, request_id)
        .ok_or_else(|| Error::input(format!("'{model}' is not a fal endpoint id")))?;
    let response = api
        .request(Method::GET, &url)?
        .send()
        .await
        .map_err(|e| call_failed("result", e))?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let report = result_report(
        response.status().as_u16(),
        header("x-fal-billable-units").as_deref(),
        header("x-fal-bill-as").as_deref(),
    );
    if report.status.is_none() {
        let status = response.status();
        // Not ready yet (400), or no queued result at all (404: a streamed
        // run has none): the run stays open for billing records.
        if matches!(status.as_u16(), 400 | 404 | 409 | 429) {
            return Ok(());
        }
        return Err(Error::Io(format!(
            "fal.ai answered HTTP {status} for the result"
        )));
    }
    drop(response);
    settle_entry(store, &Fal, prices, entry, report).await?;
    Ok(())
}

/// Reads fal's billing records of these runs, 50 request ids a call,
/// page by page, and confirms each run a record names at the record's
/// cost (discounts included).
async fn apply_billing_events<S: Store>(
    store: &S,
    api: &FalApi,
    open: &[Entry],
    failures: &mut Vec<String>,
) -> Result<()> {
    let earliest = Timestamp::now().0 - BILLING_WINDOW_DAYS * crate::timestamp::MICROS_PER_DAY;
    for chunk in open.chunks(BILLING_IDS_PER_CALL) {
        let oldest = chunk
            .iter()
            .map(|e| e.occurred_at.0)
            .min()
            .unwrap_or(earliest);
        // A day before the oldest run, within fal's window.
        let start = Timestamp((oldest - crate::timestamp::MICROS_PER_DAY).max(earliest));
        let mut url = Url::parse("https://api.fal.ai/v1/models/billing-events")
            .map_err(|e| Error::Io(e.to_string()))?;
        {
            let mut query = url.query_pairs_mut();
            for entry in chunk {
                query.append_pair(
                    "request_id",
                    entry.request_id.as_deref().unwrap_or_default(),
                );
            }
            query.append_pair("start", &start.to_string());
            query.append_pair("limit", "100");
        }
        let records = get_all_pages(
            api,
            "billing events",
            &url,
            "billing_events",
            BILLING_PAGE_BYTES,
        )
        .await?;
        for record in &records {
            if let Err(e) = apply_record(store, record).await {
                failures.push(format!("billing record: {e}"));
            }
        }
    }
    Ok(())
}

/// What a billing record says a run cost, every figure read from its JSON
/// text (exponents included) and rounded half to even to what the ledger
/// stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordCost {
    /// In micro-USD.
    pub micros: i64,
    pub units: Option<Decimal>,
    pub unit_price: Option<Decimal>,
    /// The figures that were rounded, in words; empty when none was.
    pub rounded: Vec<String>,
}

/// A number field of a billing record as an exact decimal of at most 12
/// places, with a note when it had more.
fn decimal_field(
    record: &FalObject,
    name: &str,
) -> Result<Option<(Decimal, Option<String>)>, String> {
    let Some(literal) = record.number(name)? else {
        return Ok(None);
    };
    let (decimal, rounded) = Decimal::from_literal(&literal).map_err(|e| format!("{name}: {e}"))?;
    let note = rounded.then(|| {
        format!(
            "{name} {} rounded to {} ({MAX_SCALE} decimals)",
            literal.text(),
            decimal.text()
        )
    });
    Ok(Some((decimal, note)))
}

/// A money field of a billing record in micro-USD; `places` shifts its
/// unit first (nano-USD: `-9`). A note says when it was rounded.
fn micros_field(
    record: &FalObject,
    name: &str,
    places: i64,
) -> Result<Option<(i64, Option<String>)>, String> {
    let Some(literal) = record.number(name)? else {
        return Ok(None);
    };
    if literal.is_negative() {
        return Err(format!("{name}: '{}' is negative", literal.text()));
    }
    let rounded = literal
        .clone()
        .shifted(places)
        .round_to(6, i128::from(i64::MAX) + 1)
        .ok_or_else(|| format!("{name}: '{}' is out of range", literal.text()))?;
    // Below i64::MAX by the limit above.
    let micros = rounded.value as i64;
    let note = (!rounded.exact).then(|| {
        format!(
            "{name} {} rounded to {} USD (micro-units)",
            literal.text(),
            decimal_string(micros)
        )
    });
    Ok(Some((micros, note)))
}

/// The cost of one billing record in micro-USD: `cost_total`, else
/// `cost_estimate_nano_usd`, else units × unit price less the discount.
/// A field that is absent or `null` is skipped; one that is present but
/// not a finite number in range refuses the record, naming the field (it
/// never passes the turn to the next field).
pub fn record_cost(record: &FalObject) -> Result<RecordCost, String> {
    let total = micros_field(record, "cost_total", 0)?;
    let nano = micros_field(record, "cost_estimate_nano_usd", -9)?;
    let units = decimal_field(record, "output_units")?;
    let price = decimal_field(record, "unit_price")?;
    let percent = decimal_field(record, "percent_discount")?;
    let mut rounded: Vec<String> = Vec::new();
    let micros = if let Some((micros, note)) = total {
        rounded.extend(note);
        micros
    } else if let Some((micros, note)) = nano {
        rounded.extend(note);
        micros
    } else {
        let (Some((u, _)), Some((p, _))) = (&units, &price) else {
            return Err(
                "the record names no cost (no cost_total, cost_estimate_nano_usd, or output_units with unit_price)"
                    .into(),
            );
        };
        let (percent, note) = percent.unwrap_or((Decimal::parse("0")?, None));
        rounded.extend(note);
        discounted_cost_micros(*u, *p, percent)?
    };
    // Units and price are shown in the entry's basis: their rounding too.
    let units = units.map(|(u, note)| {
        rounded.extend(note);
        u
    });
    let unit_price = price.map(|(p, note)| {
        rounded.extend(note);
        p
    });
    Ok(RecordCost {
        micros,
        units,
        unit_price,
        rounded,
    })
}

async fn apply_record<S: Store>(store: &S, raw: &RawValue) -> Result<()> {
    let record =
        FalObject::parse(raw).map_err(|e| Error::Io(format!("a billing record that is {e}")))?;
    let Some(request_id) = record.text("request_id") else {
        return Err(Error::Io("a record without request_id".into()));
    };
    let Some(entry) = logged_run(store, SOURCE, &request_id).await? else {
        return Ok(());
    };
    let cost = record_cost(&record).map_err(|e| Error::Io(format!("{request_id}: {e}")))?;
    crate::service::limits::amount("billed cost", Money::new(cost.micros, Currency::USD))?;
    let endpoint = record
        .text("endpoint_id")
        .or_else(|| entry.model.clone())
        .unwrap_or_default();
    crate::service::limits::name("endpoint_id", &endpoint)?;
    let billing = Billing {
        units: cost
            .units
            .map(|d| d.text())
            .or_else(|| entry.billing.as_ref().map(|b| b.units.clone()))
            .unwrap_or_else(|| "0".into()),
        endpoint,
        unit_price: cost.unit_price.map(|d| d.text()),
        unit: None,
        price_date: record
            .text("timestamp")
            .map(|t| t.chars().take(10).collect()),
        price_from: Some("billing record".into()),
        rounded: (!cost.rounded.is_empty()).then(|| cost.rounded.join("; ")),
        usage: None,
    };
    store
        .execute(
            Command::Settle(RunSettled {
                entry_id: entry.id,
                status: None,
                duration_ms: None,
                billing: Some(billing),
                micros: Some(cost.micros),
                currency: Some(Currency::USD),
            }),
            Timestamp::now(),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(json: &str) -> Result<RecordCost, String> {
        record_cost(&FalObject::from_slice(json.as_bytes()).unwrap())
    }

    fn micros(json: &str) -> Option<i64> {
        cost(json).ok().map(|c| c.micros)
    }

    #[test]
    fn a_billing_record_costs_its_total_else_its_estimate_else_units_less_discount() {
        assert_eq!(
            micros(r#"{"cost_total": 0.0135, "cost_estimate_nano_usd": 1}"#),
            Some(13_500)
        );
        assert_eq!(
            micros(r#"{"cost_estimate_nano_usd": 1500000}"#),
            Some(1_500)
        );
        assert_eq!(
            micros(r#"{"output_units": 2, "unit_price": 0.001, "percent_discount": 10}"#),
            Some(1_800)
        );
        assert_eq!(
            micros(r#"{"output_units": 1.5, "unit_price": 0.001, "percent_discount": null}"#),
            Some(1_500)
        );
        assert_eq!(micros(r#"{"request_id": "x"}"#), None);
    }

    #[test]
    fn small_totals_and_exponents_are_the_cost_not_a_fall_through() {
        // serde_json prints 0.000004 read as a float as `4e-6`: the total
        // was refused and the units × price below booked instead.
        let small = r#"{"cost_total": 0.000004, "output_units": 1, "unit_price": 0.5}"#;
        assert_eq!(micros(small), Some(4));
        assert_eq!(cost(small).unwrap().rounded, Vec::<String>::new());
        assert_eq!(
            micros(r#"{"cost_total": 4e-6, "output_units": 1, "unit_price": 0.5}"#),
            Some(4)
        );
        assert_eq!(micros(r#"{"cost_total": "2.5E-5"}"#), Some(25));
        let priced = cost(r#"{"output_units": 1000, "unit_price": 0.0000025}"#).unwrap();
        assert_eq!(priced.micros, 2_500);
        assert_eq!(priced.unit_price.unwrap().text(), "0.0000025");
        assert_eq!(
            micros(r#"{"output_units": 1000, "unit_price": 1e-7}"#),
            Some(100)
        );
        assert_eq!(micros(r#"{"cost_estimate_nano_usd": 3.6e7}"#), Some(36_000));
    }

    #[test]
    fn digits_beyond_the_ledger_round_half_to_even_and_say_so() {
        // 19 significant digits: as a float it prints 0.1234565, which
        // rounds half to even down to 0.123456.
        let long = cost(r#"{"cost_total": 0.1234565000000000001}"#).unwrap();
        assert_eq!(long.micros, 123_457);
        assert_eq!(
            long.rounded,
            vec!["cost_total 0.1234565000000000001 rounded to 0.123457 USD (micro-units)"]
        );
        let tiny = cost(r#"{"cost_total": 1e-7}"#).unwrap();
        assert_eq!(tiny.micros, 0);
        assert_eq!(tiny.rounded.len(), 1);
        let units = cost(r#"{"cost_total": 1, "output_units": 0.0000000000015}"#).unwrap();
        assert_eq!(units.units.unwrap().text(), "0.000000000002");
        assert!(units.rounded[0].starts_with("output_units 0.0000000000015 rounded"));
    }

    #[test]
    fn a_field_that_is_not_a_finite_number_refuses_the_record_by_name() {
        for (json, field) in [
            (
                r#"{"cost_total": "NaN", "output_units": 1, "unit_price": 1}"#,
                "cost_total",
            ),
            (r#"{"cost_total": -0.5}"#, "cost_total"),
            (r#"{"cost_total": 1e400}"#, "cost_total"),
            (r#"{"cost_total": true}"#, "cost_total"),
            (
                r#"{"cost_estimate_nano_usd": "lots"}"#,
                "cost_estimate_nano_usd",
            ),
            (r#"{"output_units": 1, "unit_price": "x"}"#, "unit_price"),
            (r#"{"cost_total": 1, "output_units": [1]}"#, "output_units"),
            (
                r#"{"output_units": 1, "unit_price": 1, "percent_discount": 150}"#,
                "percent_discount",
            ),
        ] {
            let error = cost(json).unwrap_err();
            assert!(error.starts_with(field), "{json}: {error}");
        }
    }
}
