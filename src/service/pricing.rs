//! Pricing for every surface: the catalog's models as JSON and the estimate
//! of one generation, with its tier, arithmetic and, in another currency,
//! the rate it was converted at.

use super::rates::rate_table_into;
use super::record::{price_generation, Priced};
use super::warning::Warning;
use crate::error::Result;
use crate::fx::RateUsed;
use crate::money::{decimal_string, Currency, Money};
use crate::pricing::inputs::{inputs, ParameterInput};
use crate::pricing::{Catalog, Formula, License, ModelPrice, Origin, PriceSource};
use crate::store::Store;
use crate::timestamp::today;
use serde::Serialize;
use utoipa::ToSchema;

/// A catalog model as `pricing list --json` prints it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ModelJson {
    pub model: String,
    pub name: String,
    #[schema(value_type = String)]
    pub currency: Currency,
    #[schema(value_type = Option<Object>)]
    pub formula: Option<Formula>,
    pub verified: String,
    pub stale: bool,
    pub source: String,
    /// published (read on fal.ai), reported (read from a third party) or
    /// user (the user's pricing file); null when unpriced.
    #[schema(value_type = Option<String>)]
    pub price_source: Option<PriceSource>,
    #[schema(value_type = Object)]
    pub license: License,
    #[schema(value_type = Object)]
    pub defaults: serde_json::Map<String, serde_json::Value>,
    pub note: Option<String>,
    #[schema(value_type = String)]
    pub origin: Origin,
    /// The parameters the price reads, as a model picker shows them, in a
    /// stable order; empty for a flat price or an unpriced model.
    pub parameters: Vec<ParameterInput>,
}

impl ModelJson {
    pub fn new(m: &ModelPrice, today: i64) -> ModelJson {
        ModelJson {
            model: m.endpoint.clone(),
            name: m.name.clone(),
            currency: m.currency,
            formula: m.formula.clone(),
            verified: m.verified_label(),
            stale: m.is_stale(today),
            source: m.source.clone(),
            price_source: m.price_source,
            license: m.license.clone(),
            defaults: m.defaults.clone(),
            note: m.note.clone(),
            origin: m.origin,
            parameters: m
                .formula
                .as_ref()
                .map(|f| inputs(f, &m.defaults))
                .unwrap_or_default(),
        }
    }
}

/// What one generation will cost.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EstimateReport {
    pub model: String,
    /// Exact decimal in `currency`; null when unpriced.
    pub amount: Option<String>,
    pub currency: Option<String>,
    /// estimated, historical or unpriced.
    pub tier: String,
    /// The arithmetic, in one line.
    pub explanation: String,
    pub price_version: Option<String>,
    pub stale: bool,
    /// Of the catalog price: published, reported or user; null unless estimated.
    #[schema(value_type = Option<String>)]
    pub price_source: Option<PriceSource>,
    /// Where the catalog price was read, when estimated.
    pub source: Option<String>,
    pub license: Option<String>,
    /// The rate the amount was converted at, when shown in another currency.
    #[schema(value_type = Option<Object>)]
    pub rate: Option<RateUsed>,
    /// How long such a run takes: the median of the last (up to 30)
    /// durations with the same settings, once there are 3; null before.
    pub typical_duration_ms: Option<i64>,
    /// How many durations that median is of.
    pub typical_of_runs: Option<usize>,
    /// The amount as shown (in `currency`), for rendering.
    #[serde(skip)]
    pub shown: Option<Money>,
    /// The amount in the catalog's currency, before conversion.
    #[serde(skip)]
    pub original: Option<Money>,
    /// Parameters the price did not read that look like misspellings of
    /// ones it does; left out when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// Edits within which a parameter the price does not read is taken for a
/// misspelling of one it does.
const MISSPELT_EDITS: usize = 2;

/// A warning for each given parameter that `model`'s price does not read but
/// that is within two edits of one it does (`num_imgs` for `num_images`):
/// the price was made without it. Other parameters (a prompt, a seed, image
/// URLs) are the provider's business and pass silently.
pub fn parameter_warnings(
    catalog: &Catalog,
    model: &str,
    params: &serde_json::Map<String, serde_json::Value>,
) -> Vec<Warning> {
    let Some(formula) = catalog.get(model).and_then(|m| m.formula.as_ref()) else {
        return Vec::new();
    };
    let mut read = formula.settings();
    if matches!(formula, Formula::Per1kCharacters { .. }) {
        read.push("text".into());
    }
    params
        .keys()
        .filter(|key| !read.contains(key))
        .filter_map(|key| {
            let near =
                super::warning::closest(key, read.iter().map(String::as_str), MISSPELT_EDITS, 1);
            near.first().map(|meant| Warning {
                field: key.clone(),
                message: format!(
                    "{key} is not a parameter of {}; did you mean {meant}?",
                    model.trim()
                ),
            })
        })
        .collect()
}

/// Estimates one generation of `model` with these parameters, shown in
/// `currency` (at the latest rate on or before today) when given.
pub async fn estimate<S: Store>(
    store: &S,
    catalog: &Catalog,
    model: &str,
    params: &serde_json::Map<String, serde_json::Value>,
    currency: Option<Currency>,
) -> Result<EstimateReport> {
    let priced = price_generation(store, catalog, Some(model), params).await?;
    let typical = super::learned::learn(store, catalog, model, params)
        .await?
        .typical_ms;
    let listed = catalog.get(model);
    let license = listed.map(|m| m.license.label());
    let (money, tier, explanation, price_version, stale, price_source) = match priced {
        Priced::Estimated {
            money,
            explanation,
            price_version,
            stale,
            price_source,
        } => (
            Some(money),
            "estimated",
            explanation,
            Some(price_version),
            stale,
            Some(price_source),
        ),
        Priced::Historical { money, from } => (
            Some(money),
            "historical",
            format!(
                "median of {from} confirmed costs of {model} with these settings in the last {} days",
                super::learned::HISTORY_DAYS
            ),
            None,
            false,
            None,
        ),
        Priced::Unpriced { why } => (None, "unpriced", why, None, false, None),
    };
    let source = price_source.and(listed).map(|m| m.source.clone());
    let mut rate = None;
    let shown = match (money, currency) {
        (Some(m), Some(to)) if to != m.currency => {
            let table = rate_table_into(store, [m.currency], to).await?;
            let (micros, used) = table.convert(m.micros, m.currency, to, today())?;
            rate = Some(used);
            Some(Money::new(micros, to))
        }
        _ => money,
    };
    Ok(EstimateReport {
        model: model.to_string(),
        amount: shown.map(|m| decimal_string(m.micros)),
        currency: shown.map(|m| m.currency.code().to_string()),
        tier: tier.to_string(),
        explanation,
        price_version,
        stale,
        price_source,
        source,
        license,
        rate,
        typical_duration_ms: typical.map(|(ms, _)| ms),
        typical_of_runs: typical.map(|(_, n)| n),
        shown,
        original: money,
        warnings: parameter_warnings(catalog, model, params),
    })
}
