//! How good the estimates are: per model, generations with a confirmed
//! cost, estimate and confirmed totals, the mean absolute difference
//! relative to the confirmed cost (zero costs counted apart), models whose
//! estimates drift over 10%, and the largest single discrepancies. The
//! same table as the report's, from the same functions.

use super::report::{abs_pct, accuracy_only, ModelAccuracy};
use crate::error::Result;
use crate::money::{decimal_string, Currency};
use crate::store::{Filter, Store};
use serde::Serialize;
use utoipa::ToSchema;

/// The largest discrepancies listed.
const LARGEST: usize = 10;

/// One model's accuracy, amounts in the requested currency.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ModelAccuracyJson {
    pub model: String,
    /// Generations with a confirmed cost.
    pub confirmed: i64,
    /// Of those, compared: a priced estimate and a confirmed cost not zero.
    pub compared: i64,
    pub estimated: String,
    pub confirmed_total: String,
    /// Mean |estimate − confirmed| / confirmed, in percent (exact decimal);
    /// null when none was compared.
    pub mean_abs_pct: Option<String>,
    /// True when the mean is over 10%.
    pub drifting: bool,
    /// Compared generations whose own difference is over 10%.
    pub over_threshold: i64,
    /// Confirmed at zero, counted apart.
    pub zero_confirmed: i64,
    /// Confirmed without an estimate to compare.
    pub no_estimate: i64,
}

/// One generation whose estimate was far from its confirmed cost.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Discrepancy {
    pub occurred_at: String,
    pub model: String,
    pub estimate: String,
    pub confirmed: String,
    /// Both amounts are in this currency (the entry's own).
    pub currency: String,
    pub difference_pct: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AccuracyReport {
    pub currency: String,
    /// The worst first.
    pub models: Vec<ModelAccuracyJson>,
    pub all: ModelAccuracyJson,
    /// The largest differences among generations estimated in the currency
    /// they were confirmed in, largest first.
    pub largest: Vec<Discrepancy>,
}

fn model_json(m: ModelAccuracy) -> ModelAccuracyJson {
    ModelAccuracyJson {
        drifting: m.is_off(),
        model: m.model,
        confirmed: m.confirmed,
        compared: m.compared,
        estimated: decimal_string(m.estimated),
        confirmed_total: decimal_string(m.actual),
        mean_abs_pct: m.mean_abs_pct.map(decimal_string),
        over_threshold: m.over_threshold,
        zero_confirmed: m.zero_actuals,
        no_estimate: m.no_estimate,
    }
}

pub async fn accuracy<S: Store>(
    store: &S,
    filter: &Filter,
    currency: Currency,
) -> Result<AccuracyReport> {
    let (table, rows) = accuracy_only(store, filter, currency).await?;
    let mut largest: Vec<(i64, Discrepancy)> = rows
        .iter()
        .filter_map(|row| {
            let actual = row.actual?;
            let estimate = row.estimate.micros?;
            if actual.micros == 0 || row.estimate.currency != actual.currency {
                return None;
            }
            let pct = abs_pct(i128::from(estimate) * 1_000_000, actual.micros);
            Some((
                pct,
                Discrepancy {
                    occurred_at: row.occurred_at.to_string(),
                    model: row.model.as_deref().unwrap_or(&row.source).to_string(),
                    estimate: decimal_string(estimate),
                    confirmed: decimal_string(actual.micros),
                    currency: actual.currency.code().to_string(),
                    difference_pct: decimal_string(pct),
                },
            ))
        })
        .filter(|(pct, _)| *pct > 0)
        .collect();
    largest.sort_by_key(|(pct, _)| std::cmp::Reverse(*pct));
    largest.truncate(LARGEST);
    Ok(AccuracyReport {
        currency: currency.code().to_string(),
        models: table.models.into_iter().map(model_json).collect(),
        all: model_json(table.all),
        largest: largest.into_iter().map(|(_, d)| d).collect(),
    })
}
