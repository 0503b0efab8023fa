//! Totals: sums the per-group rows a store returns into the figures people
//! bill with. Unpriced entries are counted apart and never summed as zero.

use crate::fx::{picos_to_micros, FxError, RateUsed, Stale};
use crate::money::{decimal_string, Currency};
use crate::timestamp::{day_label, month_label, week_label, week_start};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// What a total is broken down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    Client,
    Project,
    Deliverable,
    Model,
    Kind,
    Day,
    /// ISO weeks, from Monday (UTC days).
    Week,
    Month,
}

impl FromStr for Dimension {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "client" => Dimension::Client,
            "project" => Dimension::Project,
            "deliverable" => Dimension::Deliverable,
            "model" => Dimension::Model,
            "kind" => Dimension::Kind,
            "day" => Dimension::Day,
            "week" => Dimension::Week,
            "month" => Dimension::Month,
            other => {
                return Err(format!(
                    "cannot total by '{other}': expected client, project, deliverable, model, kind, day, week or month"
                ))
            }
        })
    }
}

impl Dimension {
    /// How the store must group rows for this dimension.
    pub fn grouping(self) -> Grouping {
        match self {
            Dimension::Client => Grouping::Column("client"),
            Dimension::Project => Grouping::Column("project"),
            Dimension::Deliverable => Grouping::Column("deliverable"),
            Dimension::Model => Grouping::Column("model"),
            Dimension::Kind => Grouping::Column("kind"),
            // Every store row carries its UTC day.
            Dimension::Day | Dimension::Week | Dimension::Month => Grouping::None,
        }
    }

    fn is_time(self) -> bool {
        matches!(self, Dimension::Day | Dimension::Week | Dimension::Month)
    }
}

/// The grouping a store performs besides currency and UTC day: none, or a
/// view column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    None,
    Column(&'static str),
    /// Client and project together, as one key: `client` U+001F `project`
    /// (an absent tag as empty text; tags never hold control characters).
    ClientProject,
}

/// Joins the two parts of a `Grouping::ClientProject` key.
pub const KEY_SEPARATOR: char = '\u{1f}';

/// One row of a store's grouped sums; amounts are in `currency`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SumRow {
    pub key: Option<String>,
    /// The UTC day (days since the epoch).
    pub day: i64,
    pub currency: Currency,
    pub micros: i64,
    pub count: i64,
    pub unpriced: i64,
}

/// A total, or one group of it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    pub key: Option<String>,
    #[serde(serialize_with = "as_decimal")]
    pub total: i64,
    pub count: i64,
    pub unpriced_count: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    pub currency: Currency,
    #[serde(serialize_with = "as_decimal")]
    pub total: i64,
    pub count: i64,
    pub unpriced_count: i64,
    /// Failed or cancelled runs the provider did not charge: on record, not
    /// in `count` or the total.
    pub not_charged_count: i64,
    pub groups: Vec<Group>,
    /// Each exchange rate the conversion used; empty when nothing was converted.
    pub rates: Vec<RateUsed>,
    /// True when some amount was converted at a rate more than
    /// `fx::STALE_AFTER_DAYS` days older than the amount.
    pub stale_rates: bool,
    /// The stale conversion with the oldest rate, for the warning.
    #[serde(skip)]
    pub stale: Option<Stale>,
    /// Amounts left out because no rate converts them, by currency and
    /// day; they are counted in `count` but not in any total.
    pub unconverted: Vec<Unconverted>,
}

/// Amounts of one currency and day that a total left out: no rate
/// converts them into the total's currency.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Unconverted {
    pub currency: Currency,
    /// The UTC day of the entries, YYYY-MM-DD.
    pub day: String,
    /// What was left out, in `currency`.
    #[serde(serialize_with = "as_decimal")]
    pub amount: i64,
    /// How many priced entries it adds up.
    pub entries: i64,
    /// Why it could not be converted.
    pub reason: String,
}

fn as_decimal<S: serde::Serializer>(micros: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&decimal_string(*micros))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotalsError {
    #[error("the total is larger than gencost can hold in {currency} (at most {max}); total a shorter period or fewer entries", max = decimal_string(i64::MAX))]
    Overflow { currency: Currency },
}

/// Converts a row's amount into the total's currency, in pico-units (1e-12).
pub type Convert<'a> = dyn FnMut(&SumRow, Currency) -> Result<i128, FxError> + 'a;

/// Sums store rows into totals in `currency`, one group per key (or time
/// bucket) of `by`. Rows in another currency need a conversion, which
/// `convert` supplies for the row's day; a row it cannot convert is left out
/// of every total and listed in `unconverted`. Sums are kept in pico-units,
/// checked, and rounded to micro-units once, at the end.
pub fn sum_groups(
    rows: &[SumRow],
    by: Option<Dimension>,
    currency: Currency,
    convert: &mut Convert,
) -> Result<Totals, TotalsError> {
    #[derive(Default)]
    struct Acc {
        total: i128,
        count: i64,
        unpriced: i64,
    }
    let overflow = || TotalsError::Overflow { currency };
    let mut groups: BTreeMap<(Option<i64>, Option<String>), Acc> = BTreeMap::new();
    let mut all = Acc::default();
    let mut left_out: BTreeMap<(i64, Currency), (i128, i64, String)> = BTreeMap::new();
    for row in rows {
        let converted = if row.currency == currency || row.micros == 0 {
            Ok(i128::from(row.micros) * 1_000_000)
        } else {
            convert(row, currency)
        };
        let picos = match converted {
            Ok(picos) => picos,
            Err(e) => {
                let slot = left_out
                    .entry((row.day, row.currency))
                    .or_insert_with(|| (0, 0, e.to_string()));
                slot.0 += i128::from(row.micros);
                slot.1 += row.count - row.unpriced;
                0
            }
        };
        let key = match by {
            Some(Dimension::Day) => (Some(row.day), Some(day_label(row.day))),
            Some(Dimension::Week) => {
                let monday = week_start(row.day);
                (Some(monday), Some(week_label(monday)))
            }
            Some(Dimension::Month) => {
                let month = Some(month_label(row.day));
                (None, month)
            }
            _ => (None, row.key.clone()),
        };
        for acc in [groups.entry(key).or_default(), &mut all] {
            acc.total = acc.total.checked_add(picos).ok_or_else(overflow)?;
            acc.count += row.count;
            acc.unpriced += row.unpriced;
        }
    }
    let to_i64 = |picos: i128| i64::try_from(picos_to_micros(picos)).map_err(|_| overflow());
    let unconverted = left_out
        .into_iter()
        .map(|((day, currency), (micros, entries, reason))| {
            Ok(Unconverted {
                currency,
                day: day_label(day),
                amount: i64::try_from(micros).map_err(|_| TotalsError::Overflow { currency })?,
                entries,
                reason,
            })
        })
        .collect::<Result<Vec<_>, TotalsError>>()?;
    let mut out = Vec::with_capacity(groups.len());
    if by.is_some() {
        for ((_, key), acc) in groups {
            out.push(Group {
                key,
                total: to_i64(acc.total)?,
                count: acc.count,
                unpriced_count: acc.unpriced,
            });
        }
    }
    if !by.is_some_and(Dimension::is_time) {
        // Largest first: the order a bill is read in.
        out.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.key.cmp(&b.key)));
    }
    Ok(Totals {
        currency,
        total: to_i64(all.total)?,
        count: all.count,
        unpriced_count: all.unpriced,
        not_charged_count: 0,
        groups: out,
        rates: Vec::new(),
        stale_rates: false,
        stale: None,
        unconverted,
    })
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Dimension::Client => "client",
            Dimension::Project => "project",
            Dimension::Deliverable => "deliverable",
            Dimension::Model => "model",
            Dimension::Kind => "kind",
            Dimension::Day => "day",
            Dimension::Week => "week",
            Dimension::Month => "month",
        };
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, day: i64, micros: i64, count: i64, unpriced: i64) -> SumRow {
        SumRow {
            key: Some(key.into()),
            day,
            currency: Currency::USD,
            micros,
            count,
            unpriced,
        }
    }

    fn no_rates(row: &SumRow, _to: Currency) -> Result<i128, FxError> {
        Err(FxError::NotQuoted {
            currency: row.currency,
            date: day_label(row.day),
        })
    }

    #[test]
    fn groups_sum_exactly_and_count_unpriced_apart() {
        let rows = [
            row("a", 0, 25_000, 2, 1),
            row("b", 0, 3_000, 1, 0),
            row("a", 1, 1, 1, 0),
        ];
        let t = sum_groups(
            &rows,
            Some(Dimension::Project),
            Currency::USD,
            &mut no_rates,
        )
        .unwrap();
        assert_eq!(t.total, 28_001);
        assert_eq!((t.count, t.unpriced_count), (4, 1));
        assert_eq!(
            t.groups[0],
            Group {
                key: Some("a".into()),
                total: 25_001,
                count: 3,
                unpriced_count: 1
            }
        );
        assert_eq!(t.groups[1].key.as_deref(), Some("b"));
    }

    #[test]
    fn months_roll_up_days_in_order() {
        // 2026-01-31 and 2026-02-01 as UTC day numbers.
        let jan31 = 20_484;
        let rows = [
            row("x", jan31 + 1, 5, 1, 0),
            row("x", jan31, 7, 1, 0),
            row("x", jan31 - 1, 1, 1, 0),
        ];
        let t = sum_groups(&rows, Some(Dimension::Month), Currency::USD, &mut no_rates).unwrap();
        let keys: Vec<_> = t.groups.iter().map(|g| g.key.clone().unwrap()).collect();
        assert_eq!(keys, ["2026-01", "2026-02"]);
        assert_eq!(t.groups[0].total, 8);
    }

    #[test]
    fn weeks_start_on_monday_and_carry_the_iso_year() {
        // 2026-01-01 is a Thursday: its ISO week 1 began on Monday 2025-12-29.
        let jan1 = 20_454;
        let rows = [
            row("x", jan1 - 4, 1, 1, 0), // Sunday 2025-12-28: week 52 of 2025
            row("x", jan1 - 3, 2, 1, 0), // Monday 2025-12-29
            row("x", jan1 + 3, 4, 1, 0), // Sunday 2026-01-04
            row("x", jan1 + 4, 8, 1, 0), // Monday 2026-01-05
        ];
        let t = sum_groups(&rows, Some(Dimension::Week), Currency::USD, &mut no_rates).unwrap();
        let got: Vec<_> = t
            .groups
            .iter()
            .map(|g| (g.key.clone().unwrap(), g.total))
            .collect();
        assert_eq!(
            got,
            [
                ("2025-W52".to_string(), 1),
                ("2026-W01".to_string(), 6),
                ("2026-W02".to_string(), 8)
            ]
        );
    }

    /// A row no rate converts is left out of every total and listed, by
    /// currency and day; the entries still count.
    #[test]
    fn amounts_without_a_rate_are_left_out_and_listed() {
        let mut ars = row("a", 19_000, 12_500_000, 3, 1);
        ars.currency = "ARS".parse().unwrap();
        let mut more = ars.clone();
        more.key = Some("b".into());
        let rows = [row("a", 19_000, 10, 1, 0), ars, more];
        let t = sum_groups(
            &rows,
            Some(Dimension::Project),
            Currency::USD,
            &mut no_rates,
        )
        .unwrap();
        assert_eq!((t.total, t.count, t.unpriced_count), (10, 7, 2));
        assert_eq!(t.groups[0].total, 10);
        assert_eq!(
            t.unconverted,
            [Unconverted {
                currency: "ARS".parse().unwrap(),
                day: "2022-01-08".into(),
                amount: 25_000_000,
                entries: 4,
                reason:
                    "no exchange rate for ARS on 2022-01-08: ECB reference rates do not quote ARS; \
                         import rates for it with gencost rates import FILE"
                        .into(),
            }]
        );
    }

    /// Sums are checked: a total past i64 is an error, never saturated.
    #[test]
    fn a_total_past_the_largest_amount_is_an_error() {
        let rows = [row("a", 0, i64::MAX, 1, 0), row("a", 1, 1, 1, 0)];
        assert_eq!(
            sum_groups(&rows, None, Currency::USD, &mut no_rates),
            Err(TotalsError::Overflow {
                currency: Currency::USD
            })
        );
        let mut convert = |_: &SumRow, _: Currency| -> Result<i128, FxError> { Ok(i128::MAX) };
        let mut eur = row("a", 0, 1, 1, 0);
        eur.currency = Currency::EUR;
        let rows = [eur.clone(), eur];
        assert!(sum_groups(&rows, None, Currency::USD, &mut convert).is_err());
    }
}
