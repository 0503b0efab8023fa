//! fal.ai runs in the ledger: a run the proxy sees start is logged at its
//! catalog estimate (pending until fal answers), and what fal later says of
//! it — how it ended, how long it took, the units it billed — settles it.
//! The proxy, `reconcile` and billing records all settle through here.

pub mod api;
pub mod provider;
pub mod reconcile;
pub mod sync;

use super::runs::{bill_units, Billed, RunReport};
use crate::error::Result;
use crate::fal::billing::Decimal;
use crate::fal::json::FalObject;
use crate::ledger::{Entry, Status};
use crate::money::Currency;
use crate::pricing::Catalog;
use crate::store::Store;
use crate::timestamp::day_label;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The source fal runs are logged under.
pub const SOURCE: &str = "fal.ai";

/// Inline files (`data:` URIs) longer than this are not kept in the
/// parameters: they would fill the ledger and price nothing.
const MAX_INLINE_CHARS: usize = 256;

/// The generation parameters of a fal input: the JSON object, with inline
/// files replaced by their size.
pub fn input_params(body: &[u8]) -> Map<String, Value> {
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(body) else {
        return Map::new();
    };
    shrink_inline_files(&mut map);
    map
}

fn shrink_inline_files(map: &mut Map<String, Value>) {
    for value in map.values_mut() {
        shrink_value(value);
    }
}

fn shrink_value(value: &mut Value) {
    match value {
        Value::String(text) if text.starts_with("data:") && text.len() > MAX_INLINE_CHARS => {
            *text = format!("data: ({} bytes, not kept)", text.len());
        }
        Value::Array(items) => items.iter_mut().for_each(shrink_value),
        Value::Object(map) => shrink_inline_files(map),
        _ => {}
    }
}

/// The report of a result (queue result fetch or synchronous answer):
/// its HTTP status and billing headers. A 2xx result succeeded; a server
/// error or a refused input (422) failed; other refusals (a result not
/// ready yet, not found, not allowed) say nothing of the run.
pub fn result_report(status: u16, units: Option<&str>, bill_as: Option<&str>) -> RunReport {
    let status = match status {
        200..=299 => Some(Status::Succeeded),
        422 | 500..=599 => Some(Status::Failed),
        _ => None,
    };
    RunReport {
        status,
        units: units.map(str::to_string),
        bill_as: bill_as.map(str::to_string),
        ..RunReport::default()
    }
}

/// The duration a COMPLETED queue status reports (`metrics.inference_time`,
/// seconds), in milliseconds: read from the number's text like every fal
/// figure, rounded half to even.
pub fn completed_duration(status_body: &[u8]) -> Option<i64> {
    let status = FalObject::from_slice(status_body).ok()?;
    if status.text("status")? != "COMPLETED" {
        return None;
    }
    let seconds = status.object("metrics")?.number("inference_time").ok()??;
    if seconds.is_negative() {
        return None;
    }
    // Under 1e9 seconds, as before.
    let millis = seconds.shifted(3).round_to(0, 1_000_000_000_000)?;
    i64::try_from(millis.value).ok()
}

/// Unit prices billed units are priced at, by endpoint and day: fal's own
/// (from `pricing sync`), each in force from the day it was first read
/// until the next one, else the catalog's where its formula is one unit
/// price.
pub struct UnitPrices {
    /// Each endpoint's synced prices, oldest day first.
    prices: HashMap<String, Vec<UnitPriceFound>>,
    catalog: Catalog,
}

#[derive(Clone, Debug)]
pub struct UnitPriceFound {
    /// The UTC day it is in force from (synced prices).
    pub day: i64,
    pub price: Decimal,
    pub unit: String,
    pub currency: Currency,
    pub date: String,
    pub from: &'static str,
}

impl UnitPrices {
    pub async fn load<S: Store>(store: &S, catalog: &Catalog) -> Result<UnitPrices> {
        let mut prices: HashMap<String, Vec<UnitPriceFound>> = HashMap::new();
        for stored in store.unit_prices().await? {
            let Ok(price) = Decimal::parse(&stored.unit_price) else {
                continue;
            };
            prices
                .entry(stored.endpoint)
                .or_default()
                .push(UnitPriceFound {
                    day: stored.day,
                    price,
                    unit: stored.unit,
                    currency: stored.currency,
                    date: day_label(stored.day),
                    from: "sync",
                });
        }
        for days in prices.values_mut() {
            days.sort_by_key(|p| p.day);
        }
        Ok(UnitPrices {
            prices,
            catalog: catalog.clone(),
        })
    }

    /// The unit price in force for `endpoint` on UTC day `day`: the latest
    /// synced on or before it; before the first synced price, the
    /// catalog's.
    /// The catalog's prices alone: for a provider `pricing sync` never
    /// stores prices of (all but fal), nothing to read.
    pub fn catalog_only(catalog: &Catalog) -> UnitPrices {
        UnitPrices {
            prices: HashMap::new(),
            catalog: catalog.clone(),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn get(&self, endpoint: &str, day: i64) -> Option<UnitPriceFound> {
        if let Some(days) = self.prices.get(endpoint) {
            let after = days.partition_point(|p| p.day <= day);
            if let Some(found) = after.checked_sub(1).and_then(|i| days.get(i)) {
                return Some(found.clone());
            }
        }
        let model = self.catalog.get(endpoint)?;
        // A price in force from a later day does not price this one.
        if model.from.is_some_and(|from| day < from) {
            return None;
        }
        let (price, unit) = model.unit_price()?;
        Some(UnitPriceFound {
            day,
            price: Decimal::parse(&crate::money::decimal_string(price.0)).ok()?,
            unit: unit.to_string(),
            currency: model.currency,
            date: model.verified_label(),
            from: "catalog",
        })
    }
}

/// fal's billing: `x-fal-billable-units` of the endpoint `x-fal-bill-as`
/// names (else the one called), at its unit price on the run's day.
pub fn bill(prices: &UnitPrices, entry: &Entry, report: &RunReport) -> Result<Option<Billed>> {
    let Some(units) = &report.units else {
        return Ok(None);
    };
    let endpoint = report
        .bill_as
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .or_else(|| entry.model.clone())
        .unwrap_or_default();
    let billed = bill_units(prices, entry, "x-fal-billable-units", units, endpoint, None)?;
    Ok(Some(billed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_priced_at_the_price_in_force_on_its_own_day() {
        let synced = |day: i64, price: &str| UnitPriceFound {
            day,
            price: Decimal::parse(price).unwrap(),
            unit: "megapixels".into(),
            currency: Currency::USD,
            date: day_label(day),
            from: "sync",
        };
        let prices = UnitPrices {
            prices: HashMap::from([(
                "fal-ai/flux/dev".to_string(),
                vec![synced(20_000, "0.03"), synced(20_030, "0.04")],
            )]),
            catalog: Catalog::embedded().unwrap(),
        };
        let at = |day: i64| {
            let found = prices.get("fal-ai/flux/dev", day).unwrap();
            (found.price.text(), found.from)
        };
        assert_eq!(at(19_999), ("0.025".into(), "catalog"), "before any sync");
        assert_eq!(at(20_000), ("0.03".into(), "sync"));
        assert_eq!(at(20_029), ("0.03".into(), "sync"), "the old price holds");
        assert_eq!(at(20_030), ("0.04".into(), "sync"));
        assert_eq!(at(30_000), ("0.04".into(), "sync"));
        assert!(prices.get("fal-ai/no-such-model", 20_030).is_none());
    }

    #[test]
    fn a_completed_status_gives_its_inference_time_in_milliseconds() {
        let duration = |json: &str| completed_duration(json.as_bytes());
        let completed = |time: &str| {
            duration(&format!(
                r#"{{"status": "COMPLETED", "metrics": {{"inference_time": {time}}}}}"#
            ))
        };
        assert_eq!(completed("2.345"), Some(2345));
        assert_eq!(completed("2.3455"), Some(2346));
        assert_eq!(completed("2.3445"), Some(2344));
        assert_eq!(completed("4e-3"), Some(4));
        assert_eq!(completed("-1"), None);
        assert_eq!(completed("1e9"), None);
        assert_eq!(completed("\"x\""), None);
        assert_eq!(
            duration(r#"{"status": "IN_QUEUE", "metrics": {"inference_time": 1}}"#),
            None
        );
    }
}
