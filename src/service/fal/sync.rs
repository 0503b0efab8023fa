//! `pricing sync`: fal's unit prices (`GET api.fal.ai/v1/models/pricing`,
//! 1–50 endpoint ids a call, paged) for the catalog's endpoints and every
//! fal endpoint in the ledger, stored in the ledger database with the day
//! they were read. They price billed units; the catalog's formulas still
//! make the estimates before a run.

use super::api::{get_all_pages, FalApi};
use crate::error::{Error, Result};
use crate::fal::billing::Decimal;
use crate::ledger::totals::Grouping;
use crate::pricing::unit_price::{UnitPrice, UnitPricesStored};
use crate::pricing::Catalog;
use crate::store::{Filter, Store};
use crate::timestamp::today;
use reqwest::Url;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const IDS_PER_CALL: usize = 50;
const PAGE_BYTES: usize = 4 * 1024 * 1024;

/// One endpoint whose price is new or changed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PriceChange {
    pub endpoint: String,
    /// The price stored before, if any (`0.025 USD/images`).
    pub before: Option<String>,
    pub now: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncSummary {
    pub asked: u64,
    pub stored: UnitPricesStored,
    pub changes: Vec<PriceChange>,
    /// Endpoints fal returned no price for.
    pub missing: Vec<String>,
}

/// The endpoints to price: those named, else the catalog's and every
/// endpoint the ledger has logged.
pub async fn endpoints<S: Store>(
    store: &S,
    catalog: &Catalog,
    named: &[String],
) -> Result<Vec<String>> {
    let mut all: BTreeSet<String> = BTreeSet::new();
    if !named.is_empty() {
        for name in named {
            let name = name.trim();
            crate::service::limits::name("--models", name)?;
            if !name.is_empty() {
                all.insert(name.to_string());
            }
        }
        return Ok(all.into_iter().collect());
    }
    all.extend(catalog.models().map(|m| m.endpoint.clone()));
    let filter = Filter {
        kind: Some(crate::ledger::Kind::Generation),
        ..Filter::default()
    };
    for row in store.sums(&filter, Grouping::Column("model")).await? {
        if let Some(model) = row.key.filter(|m| m.contains('/')) {
            all.insert(model);
        }
    }
    Ok(all.into_iter().collect())
}

/// Fetches and stores the unit prices of `endpoints`.
pub async fn sync<S: Store>(store: &S, api: &FalApi, endpoints: &[String]) -> Result<SyncSummary> {
    let day = today();
    let mut fetched: BTreeMap<String, UnitPrice> = BTreeMap::new();
    for chunk in endpoints.chunks(IDS_PER_CALL) {
        let mut url = Url::parse("https://api.fal.ai/v1/models/pricing")
            .map_err(|e| Error::Io(e.to_string()))?;
        for endpoint in chunk {
            url.query_pairs_mut().append_pair("endpoint_id", endpoint);
        }
        for price in get_all_pages(api, "pricing", &url, "prices", PAGE_BYTES).await? {
            let parsed = parse_price(&price, day)?;
            fetched.insert(parsed.endpoint.clone(), parsed);
        }
    }
    let before: BTreeMap<String, UnitPrice> = store
        .unit_prices()
        .await?
        .into_iter()
        .map(|p| (p.endpoint.clone(), p))
        .collect();
    let label = |p: &UnitPrice| format!("{} {}/{}", p.unit_price, p.currency, p.unit);
    let changes = fetched
        .values()
        .filter(|p| before.get(&p.endpoint).map(label) != Some(label(p)))
        .map(|p| PriceChange {
            endpoint: p.endpoint.clone(),
            before: before.get(&p.endpoint).map(label),
            now: label(p),
        })
        .collect();
    let prices: Vec<UnitPrice> = fetched.values().cloned().collect();
    let stored = store.store_unit_prices(&prices).await?;
    Ok(SyncSummary {
        asked: endpoints.len() as u64,
        stored,
        changes,
        missing: endpoints
            .iter()
            .filter(|e| !fetched.contains_key(*e))
            .cloned()
            .collect(),
    })
}

/// One `{endpoint_id, unit_price, unit, currency}` of fal's answer; the
/// price is read from the JSON number's own text, never through a float.
fn parse_price(value: &Value, day: i64) -> Result<UnitPrice> {
    let field = |name: &str| value.get(name);
    let endpoint = field("endpoint_id")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Io("pricing: a price without endpoint_id".into()))?;
    crate::service::limits::name("endpoint_id", endpoint)?;
    let bad = |what: &str| Error::Io(format!("pricing: {endpoint}: {what}"));
    let price_text = match field("unit_price") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => return Err(bad("no unit_price")),
    };
    let price = Decimal::parse(&price_text).map_err(|e| bad(&format!("unit_price {e}")))?;
    let unit = field("unit")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or("unit");
    crate::service::limits::name("unit", unit)?;
    let currency = field("currency")
        .and_then(Value::as_str)
        .unwrap_or("USD")
        .to_ascii_uppercase()
        .parse()
        .map_err(|e: crate::money::UnknownCurrency| bad(&e.to_string()))?;
    Ok(UnitPrice {
        endpoint: endpoint.to_string(),
        day,
        unit_price: price.text(),
        unit: unit.to_string(),
        currency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_exactly_with_lowercase_currencies() {
        let value = serde_json::json!({"endpoint_id": "fal-ai/flux/dev", "unit_price": 0.025, "unit": "megapixels", "currency": "usd"});
        let price = parse_price(&value, 20_000).unwrap();
        assert_eq!(price.unit_price, "0.025");
        assert_eq!(price.currency.code(), "USD");
        assert_eq!(price.unit, "megapixels");
        let bad = serde_json::json!({"endpoint_id": "x/y", "unit_price": -1});
        assert!(parse_price(&bad, 20_000).is_err());
    }
}
