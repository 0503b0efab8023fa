//! `pricing sync`: fal's unit prices (`GET api.fal.ai/v1/models/pricing`,
//! 1–50 endpoint ids a call, paged) for the catalog's endpoints and every
//! fal endpoint in the ledger, stored in the ledger database from the day
//! they were first read (fal's answer states no day). They price the
//! billed units of runs on or after that day; the catalog's formulas still
//! make the estimates before a run.

use super::api::{get_all_pages, FalApi};
use crate::error::{Error, Result};
use crate::fal::billing::{Decimal, MAX_SCALE};
use crate::fal::json::FalObject;
use crate::ledger::totals::Grouping;
use crate::pricing::unit_price::{UnitPrice, UnitPricesStored};
use crate::pricing::Catalog;
use crate::store::{Filter, Store};
use crate::timestamp::today;
use reqwest::Url;
use serde_json::value::RawValue;
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
    /// Prices given with more than 12 decimals, rounded half to even to
    /// the 12 the ledger keeps, in words.
    pub rounded: Vec<String>,
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
    let mut rounded = Vec::new();
    for chunk in endpoints.chunks(IDS_PER_CALL) {
        let mut url = Url::parse("https://api.fal.ai/v1/models/pricing")
            .map_err(|e| Error::Io(e.to_string()))?;
        for endpoint in chunk {
            url.query_pairs_mut().append_pair("endpoint_id", endpoint);
        }
        for price in get_all_pages(api, "pricing", &url, "prices", PAGE_BYTES).await? {
            let (parsed, note) = parse_price(&price, day)?;
            rounded.extend(note);
            fetched.insert(parsed.endpoint.clone(), parsed);
        }
    }
    // Each endpoint's latest price (the history comes by day).
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
        rounded,
    })
}

/// One `{endpoint_id, unit_price, unit, currency}` of fal's answer; the
/// price is read from the JSON number's own text, never through a float
/// (`2.5E-7` included), and rounded half to even to 12 decimals: the
/// second value says so when that dropped digits.
fn parse_price(raw: &RawValue, day: i64) -> Result<(UnitPrice, Option<String>)> {
    let value =
        FalObject::parse(raw).map_err(|e| Error::Io(format!("pricing: a price that is {e}")))?;
    let endpoint = value
        .text("endpoint_id")
        .ok_or_else(|| Error::Io("pricing: a price without endpoint_id".into()))?;
    crate::service::limits::name("endpoint_id", &endpoint)?;
    let bad = |what: &str| Error::Io(format!("pricing: {endpoint}: {what}"));
    let literal = value
        .number("unit_price")
        .map_err(|e| bad(&e))?
        .ok_or_else(|| bad("no unit_price"))?;
    let (price, rounded) =
        Decimal::from_literal(&literal).map_err(|e| bad(&format!("unit_price: {e}")))?;
    let rounded = rounded.then(|| {
        format!(
            "{endpoint}: unit_price {} rounded half to even to {} ({MAX_SCALE} decimals)",
            literal.text(),
            price.text()
        )
    });
    let unit = value.text("unit");
    let unit = unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or("unit");
    crate::service::limits::name("unit", unit)?;
    let currency = value
        .text("currency")
        .unwrap_or_else(|| "USD".into())
        .to_ascii_uppercase()
        .parse()
        .map_err(|e: crate::money::UnknownCurrency| bad(&e.to_string()))?;
    let price = UnitPrice {
        endpoint: endpoint.clone(),
        day,
        unit_price: price.text(),
        unit: unit.to_string(),
        currency,
    };
    Ok((price, rounded))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<(UnitPrice, Option<String>)> {
        let raw: Box<RawValue> = serde_json::from_str(json).unwrap();
        parse_price(&raw, 20_000)
    }

    #[test]
    fn prices_are_read_exactly_with_lowercase_currencies() {
        let (price, rounded) = parse(
            r#"{"endpoint_id": "fal-ai/flux/dev", "unit_price": 0.025, "unit": "megapixels", "currency": "usd"}"#,
        )
        .unwrap();
        assert_eq!(price.unit_price, "0.025");
        assert_eq!(price.currency.code(), "USD");
        assert_eq!(price.unit, "megapixels");
        assert_eq!(rounded, None);
        assert!(parse(r#"{"endpoint_id": "x/y", "unit_price": -1}"#).is_err());
    }

    #[test]
    fn small_prices_and_exponents_are_read_exactly() {
        for (text, expected) in [
            ("0.0000025", "0.0000025"),
            ("0.000004", "0.000004"),
            ("4e-6", "0.000004"),
            ("2.5E-7", "0.00000025"),
            ("1e-7", "0.0000001"),
            ("\"1e-7\"", "0.0000001"),
        ] {
            let (price, rounded) = parse(&format!(
                r#"{{"endpoint_id": "fal-ai/x", "unit_price": {text}}}"#
            ))
            .unwrap();
            assert_eq!(price.unit_price, expected, "{text}");
            assert_eq!(rounded, None, "{text}");
        }
        let (price, rounded) =
            parse(r#"{"endpoint_id": "fal-ai/x", "unit_price": 0.1234567890123456789}"#).unwrap();
        assert_eq!(price.unit_price, "0.123456789012");
        assert!(rounded.unwrap().contains("0.1234567890123456789"));
    }

    #[test]
    fn a_price_that_is_not_a_finite_number_is_refused_by_name() {
        for bad in [r#""NaN""#, r#""free""#, "true", "1e400", "{}"] {
            let error = parse(&format!(
                r#"{{"endpoint_id": "fal-ai/x", "unit_price": {bad}}}"#
            ))
            .unwrap_err()
            .to_string();
            assert!(
                error.contains("fal-ai/x") && error.contains("unit_price"),
                "{bad}: {error}"
            );
        }
    }
}
