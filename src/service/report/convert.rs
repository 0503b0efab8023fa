//! Converts the scan's sums into the report's currency the way `total`
//! does, noting every rate used, every stale rate and every amount no rate
//! converts.

use super::Sum;
use crate::error::Result;
use crate::fx::{FxError, RateTable, RateUsed, StaleCheck};
use crate::ledger::totals::{sum_groups, Dimension, SumRow, Totals, Unconverted};
use crate::money::Currency;
use std::collections::{BTreeMap, BTreeSet};

/// Converts figures into the report's currency, noting every rate used.
pub(super) struct Converter<'a> {
    pub(super) table: &'a RateTable,
    pub(super) used: BTreeSet<RateUsed>,
    pub(super) stale: StaleCheck,
    pub(super) unconverted: BTreeMap<(String, Currency), Unconverted>,
    pub(super) currency: Currency,
}

impl<'a> Converter<'a> {
    /// A converter into `currency` at the rates of `table`.
    pub(super) fn new(table: &'a RateTable, currency: Currency) -> Self {
        Converter {
            table,
            used: BTreeSet::new(),
            stale: StaleCheck::default(),
            unconverted: BTreeMap::new(),
            currency,
        }
    }

    /// The total of `rows` in the report's currency, broken down `by` a
    /// dimension, noting each rate used.
    pub(super) fn sum_groups(&mut self, rows: &[SumRow], by: Option<Dimension>) -> Result<Totals> {
        let (table, used, stale) = (self.table, &mut self.used, &mut self.stale);
        let mut convert = |row: &SumRow, to: Currency| -> Result<i128, FxError> {
            let (picos, rate) = table.convert_picos(row.micros, row.currency, to, row.day)?;
            stale.note(&rate, row.day);
            used.insert(rate);
            Ok(picos)
        };
        let totals = sum_groups(rows, by, self.currency, &mut convert)?;
        for u in &totals.unconverted {
            self.unconverted
                .entry((u.day.clone(), u.currency))
                .or_insert_with(|| u.clone());
        }
        Ok(totals)
    }

    pub(super) fn sum(&mut self, rows: &[SumRow]) -> Result<Sum> {
        let t = self.sum_groups(rows, None)?;
        Ok(Sum {
            total: t.total,
            count: t.count,
            unpriced: t.unpriced_count,
        })
    }
}
