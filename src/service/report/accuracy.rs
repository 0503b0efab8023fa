//! Estimate accuracy: per model, the generations' estimates against their
//! confirmed actuals, as the report's table and as `accuracy_only` (for
//! `gencost accuracy` and `GET /api/v1/accuracy`).

use super::convert::Converter;
use super::log::LogRow;
use super::scan::{scan, Scan};
use crate::error::Result;
use crate::ledger::Kind;
use crate::money::{div_round_half_even, Currency, Money};
use crate::service::rates::rate_table_into;
use crate::store::{Filter, Store};

/// A model's estimates are highlighted when they miss the actual by more than
/// this, in millionths of a percent (10 %).
pub const ACCURACY_THRESHOLD: i64 = 10_000_000;

/// Estimates against confirmed actuals, per model, for generations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accuracy {
    pub models: Vec<ModelAccuracy>,
    /// Every model together.
    pub all: ModelAccuracy,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelAccuracy {
    pub model: String,
    /// Generations with a confirmed actual.
    pub confirmed: i64,
    /// Of those, compared: a priced estimate and an actual that is not zero.
    pub compared: i64,
    /// The compared estimates, in the report's currency.
    pub estimated: i64,
    /// The compared actuals, in the report's currency.
    pub actual: i64,
    /// Mean of |estimate − actual| / actual over the compared entries, in
    /// millionths of a percent; `None` when none was compared.
    pub mean_abs_pct: Option<i64>,
    /// Compared entries whose own difference is over the threshold.
    pub over_threshold: i64,
    /// Confirmed at zero: counted apart (a percentage of zero is undefined).
    pub zero_actuals: i64,
    /// Confirmed, but without an estimate to compare (unpriced, or in a
    /// currency no rate converts into the actual's).
    pub no_estimate: i64,
}

impl ModelAccuracy {
    /// True when the mean difference is over `ACCURACY_THRESHOLD`.
    pub fn is_off(&self) -> bool {
        self.mean_abs_pct.is_some_and(|p| p > ACCURACY_THRESHOLD)
    }
}

/// The report's estimate-accuracy table alone, in `currency` (for
/// `gencost accuracy` and `GET /api/v1/accuracy`), with the rows of the
/// generations it compared: one read of the entries, no verify.
pub async fn accuracy_only<S: Store>(
    store: &S,
    filter: &Filter,
    currency: Currency,
) -> Result<(Accuracy, Vec<LogRow>)> {
    let mut filter = filter.clone();
    filter.include_void = false;
    filter.kind = Some(Kind::Generation);
    let scan = scan(&mut store.snapshot().await?, &filter).await?;
    let table = rate_table_into(store, scan.currencies(), currency).await?;
    let mut conv = Converter::new(&table, currency);
    let accuracy = accuracy(&mut conv, &scan)?;
    let rows = scan
        .rows
        .into_iter()
        .filter(|r| r.actual.is_some())
        .collect();
    Ok((accuracy, rows))
}

/// Per model, what converting is not needed for: counts and percentages.
#[derive(Clone, Debug, Default)]
pub(super) struct Tally {
    pub(super) confirmed: i64,
    pub(super) zero_actuals: i64,
    pub(super) no_estimate: i64,
    /// Entries compared, each with its |difference| in millionths of a
    /// percent of the actual, when the estimate is in the actual's currency
    /// or converts into it.
    pub(super) pcts: Vec<i64>,
    /// Compared entries whose estimate still needs a conversion.
    pub(super) pending: Vec<(i64, Currency, i64, Money)>,
}

/// |estimate − actual| / |actual| in millionths of a percent, rounded half to
/// even; the estimate is given in pico-units of the actual's currency.
pub fn abs_pct(estimate_picos: i128, actual_micros: i64) -> i64 {
    let actual_picos = i128::from(actual_micros) * 1_000_000;
    let diff = (estimate_picos - actual_picos).abs();
    // percent × 10^6 = diff / actual × 10^8
    let pct = div_round_half_even(diff * 100_000_000, actual_picos.abs());
    i64::try_from(pct).unwrap_or(i64::MAX)
}

pub(super) fn accuracy(conv: &mut Converter<'_>, scan: &Scan) -> Result<Accuracy> {
    let mut models = Vec::new();
    let mut all = ModelAccuracy {
        model: "All models".into(),
        ..ModelAccuracy::default()
    };
    let mut all_pcts: Vec<i64> = Vec::new();
    let estimates = scan.estimates.by_key()?;
    let actuals = scan.actuals.by_key()?;
    for (model, tally) in &scan.accuracy {
        let mut pcts = tally.pcts.clone();
        let mut no_estimate = tally.no_estimate;
        for (estimate, from, day, actual) in &tally.pending {
            match conv
                .table
                .convert_picos(*estimate, *from, actual.currency, *day)
            {
                Ok((picos, rate)) => {
                    conv.stale.note(&rate, *day);
                    conv.used.insert(rate);
                    pcts.push(abs_pct(picos, actual.micros));
                }
                Err(_) => no_estimate += 1,
            }
        }
        let none = Vec::new();
        let estimated = conv.sum(estimates.get(model).unwrap_or(&none))?.total;
        let actual = conv.sum(actuals.get(model).unwrap_or(&none))?.total;
        let row = ModelAccuracy {
            model: model.to_string(),
            confirmed: tally.confirmed,
            compared: pcts.len() as i64,
            estimated,
            actual,
            mean_abs_pct: mean(&pcts),
            over_threshold: pcts.iter().filter(|p| **p > ACCURACY_THRESHOLD).count() as i64,
            zero_actuals: tally.zero_actuals,
            no_estimate,
        };
        all.confirmed += row.confirmed;
        all.compared += row.compared;
        all.over_threshold += row.over_threshold;
        all.zero_actuals += row.zero_actuals;
        all.no_estimate += row.no_estimate;
        all_pcts.extend(pcts);
        models.push(row);
    }
    all.estimated = conv.sum(&scan.estimates.rows(|_| true, |_| None)?)?.total;
    all.actual = conv.sum(&scan.actuals.rows(|_| true, |_| None)?)?.total;
    all.mean_abs_pct = mean(&all_pcts);
    // The worst first, then by name.
    models.sort_by(|a, b| {
        b.mean_abs_pct
            .cmp(&a.mean_abs_pct)
            .then_with(|| a.model.cmp(&b.model))
    });
    Ok(Accuracy { models, all })
}

/// The mean of `values`, rounded half to even; `None` when empty.
fn mean(values: &[i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let sum: i128 = values.iter().map(|v| i128::from(*v)).sum();
    i64::try_from(div_round_half_even(sum, values.len() as i128)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_exact_and_relative_to_the_actual() {
        // estimate 0.11 vs actual 0.10: 10 %
        assert_eq!(abs_pct(110_000 * 1_000_000, 100_000), 10_000_000);
        // estimate 0.09 vs actual 0.10: 10 %
        assert_eq!(abs_pct(90_000 * 1_000_000, 100_000), 10_000_000);
        // 1/3 of a percent, rounded half to even at a millionth
        assert_eq!(abs_pct(300_001 * 1_000_000, 300_000), 333);
        assert_eq!(mean(&[1, 2]), Some(2));
        assert_eq!(mean(&[1, 2, 2]), Some(2));
        assert_eq!(mean(&[]), None);
    }
}
