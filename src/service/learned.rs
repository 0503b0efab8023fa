//! What the ledger learns from its own runs: a price for a model the
//! catalog cannot price (the historical tier: the median of its confirmed
//! costs from the last 60 days with the same price-relevant settings, once
//! there are 3), and a typical run time per endpoint and settings (the
//! median of the last 30 durations, once there are 3).

use super::record::median_of_most_common_currency;
use crate::error::Result;
use crate::money::Money;
use crate::pricing::Catalog;
use crate::store::Store;
use crate::timestamp::{Timestamp, MICROS_PER_DAY};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Confirmed costs this recent make the historical price.
pub const HISTORY_DAYS: i64 = 60;
/// Runs needed before a learned figure is shown.
pub const MINIMUM_RUNS: usize = 3;
/// Durations the typical run time is the median of.
pub const DURATIONS: usize = 30;
/// Runs read to find those with the same settings.
const RUNS_READ: i64 = 2_000;

/// Parameters that never decide a price or a run time: free text, seeds,
/// and the inputs' addresses.
const FREE_TEXT: &[&str] = &["prompt", "negative_prompt", "text", "seed", "sync_mode"];

/// A run's price-relevant settings as one comparable key: the parameters
/// the catalog's formula reads (with the catalog's defaults for those not
/// given); for a model the catalog does not price, every parameter but
/// free text, seeds and URLs.
pub fn settings_key(catalog: &Catalog, model: &str, params: &Map<String, Value>) -> String {
    let listed = catalog.get(model);
    let chosen: BTreeMap<&str, &Value> = match listed.and_then(|m| m.formula.as_ref()) {
        Some(formula) => {
            let defaults = &listed.map(|m| &m.defaults);
            formula
                .settings()
                .iter()
                .filter_map(|name| {
                    let (key, value) = params
                        .get_key_value(name.as_str())
                        .or_else(|| defaults.and_then(|d| d.get_key_value(name.as_str())))?;
                    Some((key.as_str(), value))
                })
                .collect()
        }
        None => params
            .iter()
            .filter(|(key, value)| {
                !FREE_TEXT.contains(&key.as_str())
                    && !key.ends_with("_url")
                    && !key.ends_with("_urls")
                    && value.as_str().is_none_or(|t| t.len() <= 64)
            })
            .map(|(k, v)| (k.as_str(), v))
            .collect(),
    };
    serde_json::to_string(&chosen).unwrap_or_default()
}

/// What the ledger has learned of one model with one set of settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Learned {
    /// The median confirmed cost and how many it is of.
    pub historical: Option<(Money, usize)>,
    /// The median duration in milliseconds and how many it is of.
    pub typical_ms: Option<(i64, usize)>,
}

pub async fn learn<S: Store>(
    store: &S,
    catalog: &Catalog,
    model: &str,
    params: &Map<String, Value>,
) -> Result<Learned> {
    let key = settings_key(catalog, model, params);
    let since = Timestamp::now().0 - HISTORY_DAYS * MICROS_PER_DAY;
    let mut costs = Vec::new();
    let mut durations = Vec::new();
    for run in store.recent_runs(model, RUNS_READ).await? {
        let Ok(Value::Object(run_params)) = serde_json::from_str::<Value>(&run.params) else {
            continue;
        };
        if settings_key(catalog, model, &run_params) != key {
            continue;
        }
        if let (Some(actual), true) = (run.actual, run.occurred_at.0 >= since) {
            costs.push(actual);
        }
        if let Some(ms) = run.duration_ms.filter(|_| durations.len() < DURATIONS) {
            durations.push(ms);
        }
    }
    Ok(Learned {
        historical: median_of_most_common_currency(&costs),
        typical_ms: median(&mut durations).map(|ms| (ms, durations.len())),
    })
}

/// The median, the lower of the two middle values for an even count (a
/// duration, shown rounded; no money here).
fn median(values: &mut [i64]) -> Option<i64> {
    if values.len() < MINIMUM_RUNS {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

/// `≈ 38 s`, `≈ 2 min 5 s`.
pub fn duration_label(ms: i64) -> String {
    let seconds = (ms + 500) / 1000;
    if seconds < 60 {
        format!("≈ {seconds} s")
    } else {
        format!("≈ {} min {} s", seconds / 60, seconds % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn settings_are_what_the_formula_reads_with_its_defaults() {
        let catalog = Catalog::embedded().unwrap();
        let a = settings_key(
            &catalog,
            "fal-ai/flux/dev",
            &map(json!({"prompt": "a", "seed": 1})),
        );
        let b = settings_key(
            &catalog,
            "fal-ai/flux/dev",
            &map(json!({"prompt": "b", "image_size": "landscape_4_3", "num_images": 1})),
        );
        assert_eq!(
            a, b,
            "the defaults fill what was not given; prompts differ freely"
        );
        let c = settings_key(&catalog, "fal-ai/flux/dev", &map(json!({"num_images": 2})));
        assert_ne!(a, c);
        let unlisted = |v| settings_key(&catalog, "someone/model", &map(v));
        assert_eq!(
            unlisted(json!({"prompt": "x", "image_url": "https://a", "steps": 30})),
            unlisted(json!({"prompt": "y", "image_url": "https://b", "steps": 30}))
        );
        assert_ne!(
            unlisted(json!({"steps": 30})),
            unlisted(json!({"steps": 50}))
        );
    }

    #[test]
    fn durations_read_as_a_person_would() {
        assert_eq!(duration_label(37_600), "≈ 38 s");
        assert_eq!(duration_label(125_000), "≈ 2 min 5 s");
        let mut few = vec![1, 2];
        assert_eq!(median(&mut few), None);
        let mut some = vec![40, 10, 30, 20];
        assert_eq!(median(&mut some), Some(20));
    }
}
