//! Exchange rates: ECB euro reference rates by day, and conversion at the
//! rate of an amount's own date (the latest rate on or before it).
//!
//! Rates are quoted per euro, as ECB publishes them (1 EUR = `rate` units).
//! A cross rate X→Y is rate(Y) / rate(X). Rates are exact decimals held as
//! micro-units; conversion multiplies before it divides and rounds once.

pub mod ecb;
pub mod embedded;

use crate::money::{
    decimal_string, div_round_half_even, parse_amount, scaled_decimal_string, Currency,
};
use crate::timestamp::day_label;
use std::collections::{BTreeMap, HashMap};

/// Units of a currency per euro, exact to six decimals (micro-units).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(pub i64);

impl Rate {
    pub const ONE: Rate = Rate(1_000_000);

    /// A positive decimal such as `11.3595`.
    pub fn parse(text: &str) -> Result<Rate, String> {
        match parse_amount(text) {
            Ok(micros) if micros > 0 => Ok(Rate(micros)),
            Ok(_) => Err(format!("rate '{text}' is not positive")),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn decimal(self) -> String {
        decimal_string(self.0)
    }
}

/// One currency's rate on one day (days since the epoch, UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayRate {
    pub currency: Currency,
    pub day: i64,
    pub rate: Rate,
}

/// A missing rate is an error that names the currency and date: amounts are
/// never converted 1:1 by default.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FxError {
    #[error("no exchange rate for {currency} on or before {date}; import rates for {currency} covering that day with gencost rates import FILE")]
    NoRateOnOrBefore { currency: Currency, date: String },
    #[error("no exchange rate for {currency} on {date}: ECB reference rates do not quote {currency}; import rates for it with gencost rates import FILE")]
    NotQuoted { currency: Currency, date: String },
    /// The converted amount does not fit the ledger's integers.
    #[error("{amount} {from} in {to} is larger than gencost can hold (at most {max} in any currency)", max = decimal_string(i64::MAX))]
    Overflow {
        amount: String,
        from: Currency,
        to: Currency,
    },
}

/// A cross rate that a conversion used, as reports and totals state it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct RateUsed {
    pub from: Currency,
    pub to: Currency,
    /// rate(to) / rate(from), rounded half to even to ten decimals for display.
    pub rate: String,
    /// The ECB date of the rates used (on or before the amount's date); for
    /// a cross rate whose two rates are of different days, the older.
    pub date: String,
    /// `date` as days since the epoch.
    #[serde(skip)]
    pub day: i64,
}

/// A rate more than this many days older than the amount it converts is
/// stale: ECB publishes every working day, and its longest pause (Easter,
/// Christmas) leaves an amount at most four days after its rate.
pub const STALE_AFTER_DAYS: i64 = 7;

/// An amount converted at a rate much older than itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stale {
    /// The date of the rate, YYYY-MM-DD.
    pub rate_date: String,
    /// The date of the amount it converted, YYYY-MM-DD.
    pub amount_date: String,
}

/// Watches conversions for stale rates and keeps the one with the oldest
/// rate (the widest gap when two share it).
#[derive(Clone, Debug, Default)]
pub struct StaleCheck {
    worst: Option<(i64, i64)>,
    /// Every day an amount of was converted at a stale rate.
    days: std::collections::BTreeSet<i64>,
}

impl StaleCheck {
    /// Whether `rate` is stale for an amount of `day`.
    pub fn is_stale(rate: &RateUsed, day: i64) -> bool {
        day - rate.day > STALE_AFTER_DAYS
    }

    /// Notes that an amount of `day` was converted at `rate`.
    pub fn note(&mut self, rate: &RateUsed, day: i64) {
        if !Self::is_stale(rate, day) {
            return;
        }
        self.days.insert(day);
        let older = match self.worst {
            None => true,
            Some((rate_day, amount_day)) => (rate.day, -day) < (rate_day, -amount_day),
        };
        if older {
            self.worst = Some((rate.day, day));
        }
    }

    /// The days of the amounts converted at a stale rate, oldest first.
    pub fn days(&self) -> Vec<i64> {
        self.days.iter().copied().collect()
    }

    /// The stale conversion with the oldest rate, if any.
    pub fn worst(&self) -> Option<Stale> {
        self.worst.map(|(rate_day, amount_day)| Stale {
            rate_date: day_label(rate_day),
            amount_date: day_label(amount_day),
        })
    }
}

/// Rates per currency, each list sorted by day.
#[derive(Clone, Debug, Default)]
pub struct RateTable {
    by_currency: HashMap<Currency, Vec<(i64, Rate)>>,
}

impl RateTable {
    /// Builds a table; a later row for the same currency and day wins, so
    /// pass the embedded rates first and imported rates after them.
    pub fn from_rows(rows: impl IntoIterator<Item = DayRate>) -> RateTable {
        let mut map: HashMap<Currency, BTreeMap<i64, Rate>> = HashMap::new();
        for row in rows {
            map.entry(row.currency)
                .or_default()
                .insert(row.day, row.rate);
        }
        RateTable {
            by_currency: map
                .into_iter()
                .map(|(c, days)| (c, days.into_iter().collect()))
                .collect(),
        }
    }

    /// A table of whole series, each sorted by day (the embedded history).
    pub fn from_series(series: HashMap<Currency, Vec<(i64, Rate)>>) -> RateTable {
        RateTable {
            by_currency: series,
        }
    }

    /// Adds `rows` over the table's own rates: a row for a currency and day
    /// the table already has replaces it (imported rates over embedded ones).
    pub fn overlay(mut self, rows: impl IntoIterator<Item = DayRate>) -> RateTable {
        let mut added: HashMap<Currency, Vec<(i64, Rate)>> = HashMap::new();
        for row in rows {
            added
                .entry(row.currency)
                .or_default()
                .push((row.day, row.rate));
        }
        for (currency, mut new) in added {
            // Stable: of two rows for one day, the later one wins.
            new.sort_by_key(|(day, _)| *day);
            let old = self.by_currency.remove(&currency).unwrap_or_default();
            let mut merged: Vec<(i64, Rate)> = Vec::with_capacity(old.len() + new.len());
            let (mut a, mut b) = (old.into_iter().peekable(), new.into_iter().peekable());
            loop {
                let next = match (a.peek(), b.peek()) {
                    (Some(x), Some(y)) if x.0 < y.0 => a.next(),
                    (Some(x), Some(y)) if x.0 == y.0 => {
                        a.next();
                        b.next()
                    }
                    (Some(_), None) => a.next(),
                    (_, Some(_)) => b.next(),
                    (None, None) => break,
                };
                if let Some(item) = next {
                    match merged.last_mut() {
                        Some(last) if last.0 == item.0 => *last = item,
                        _ => merged.push(item),
                    }
                }
            }
            self.by_currency.insert(currency, merged);
        }
        self
    }

    /// Whether the table holds any rate of `currency` (the euro always).
    pub fn knows(&self, currency: Currency) -> bool {
        currency == Currency::EUR || self.by_currency.contains_key(&currency)
    }

    /// The latest rate of `currency` on or before `day`, with its own day.
    /// The euro is 1 on every day.
    pub fn on_or_before(&self, currency: Currency, day: i64) -> Result<(i64, Rate), FxError> {
        if currency == Currency::EUR {
            return Ok((day, Rate::ONE));
        }
        let days = self
            .by_currency
            .get(&currency)
            .ok_or_else(|| FxError::NotQuoted {
                currency,
                date: day_label(day),
            })?;
        let at = days.partition_point(|(d, _)| *d <= day);
        if at == 0 {
            return Err(FxError::NoRateOnOrBefore {
                currency,
                date: day_label(day),
            });
        }
        Ok(days[at - 1])
    }

    /// All rates known on exactly the latest day on or before `day`, one per currency.
    pub fn quoted_on_or_before(&self, day: i64) -> Option<(i64, Vec<(Currency, Rate)>)> {
        let found = self
            .by_currency
            .values()
            .filter_map(|days| {
                let at = days.partition_point(|(d, _)| *d <= day);
                (at > 0).then(|| days[at - 1].0)
            })
            .max()?;
        let mut rates: Vec<(Currency, Rate)> = self
            .by_currency
            .iter()
            .filter_map(|(c, days)| {
                days.binary_search_by_key(&found, |(d, _)| *d)
                    .ok()
                    .map(|i| (*c, days[i].1))
            })
            .collect();
        rates.sort();
        Some((found, rates))
    }

    /// The rates of `from` and `to` that apply on `day`, and the rate used
    /// as reports state it.
    fn pair(
        &self,
        from: Currency,
        to: Currency,
        day: i64,
    ) -> Result<(Rate, Rate, RateUsed), FxError> {
        let (from_day, from_rate) = self.on_or_before(from, day)?;
        let (to_day, to_rate) = self.on_or_before(to, day)?;
        // The euro's rate is 1 on every day: the date is the other side's.
        let rate_day = if from == Currency::EUR {
            to_day
        } else if to == Currency::EUR {
            from_day
        } else {
            from_day.min(to_day)
        };
        let used = RateUsed {
            from,
            to,
            rate: cross_rate_text(from_rate, to_rate),
            date: day_label(rate_day),
            day: rate_day,
        };
        Ok((from_rate, to_rate, used))
    }

    /// Converts `micros` of `from` into `to` at the rates of `day`, in
    /// pico-units (1e-12) so that sums round to micro-units only once.
    /// The arithmetic is checked: a product that leaves `i128` is an error.
    pub fn convert_picos(
        &self,
        micros: i64,
        from: Currency,
        to: Currency,
        day: i64,
    ) -> Result<(i128, RateUsed), FxError> {
        let (from_rate, to_rate, used) = self.pair(from, to, day)?;
        let picos = i128::from(micros)
            .checked_mul(i128::from(to_rate.0))
            .and_then(|v| v.checked_mul(1_000_000))
            .map(|v| div_round_half_even(v, i128::from(from_rate.0)))
            .ok_or_else(|| overflow(micros, from, to))?;
        Ok((picos, used))
    }

    /// Converts `micros` of `from` into `to` at the rates of `day`, rounded
    /// once, half to even, to micro-units. A result that does not fit an
    /// `i64` is an error, never a saturated figure.
    pub fn convert(
        &self,
        micros: i64,
        from: Currency,
        to: Currency,
        day: i64,
    ) -> Result<(i64, RateUsed), FxError> {
        let (from_rate, to_rate, used) = self.pair(from, to, day)?;
        let converted = i128::from(micros)
            .checked_mul(i128::from(to_rate.0))
            .map(|v| div_round_half_even(v, i128::from(from_rate.0)))
            .and_then(|v| i64::try_from(v).ok())
            .ok_or_else(|| overflow(micros, from, to))?;
        Ok((converted, used))
    }
}

fn overflow(micros: i64, from: Currency, to: Currency) -> FxError {
    FxError::Overflow {
        amount: decimal_string(micros),
        from,
        to,
    }
}

/// Pico-units (1e-12) rounded half to even to micro-units: the one rounding.
pub fn picos_to_micros(picos: i128) -> i128 {
    div_round_half_even(picos, 1_000_000)
}

/// rate(to) / rate(from) to ten decimals, trailing zeros trimmed.
fn cross_rate_text(from: Rate, to: Rate) -> String {
    const DECIMALS: u32 = 10;
    let scaled = div_round_half_even(i128::from(to.0) * 10i128.pow(DECIMALS), i128::from(from.0));
    scaled_decimal_string(scaled, DECIMALS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(code: &str) -> Currency {
        code.parse().unwrap()
    }

    fn table() -> RateTable {
        // ECB reference rates of 2019-04-08 and 2019-04-10 (days 17994, 17996).
        RateTable::from_rows([
            DayRate {
                currency: c("USD"),
                day: 17994,
                rate: Rate::parse("1.1246").unwrap(),
            },
            DayRate {
                currency: c("SEK"),
                day: 17994,
                rate: Rate::parse("10.4325").unwrap(),
            },
            DayRate {
                currency: c("USD"),
                day: 17996,
                rate: Rate::parse("1.1279").unwrap(),
            },
            DayRate {
                currency: c("SEK"),
                day: 17996,
                rate: Rate::parse("10.44").unwrap(),
            },
        ])
    }

    #[test]
    fn latest_rate_on_or_before_the_day() {
        let t = table();
        assert_eq!(t.on_or_before(c("USD"), 17995).unwrap().0, 17994);
        assert_eq!(t.on_or_before(c("USD"), 17996).unwrap().0, 17996);
        assert_eq!(t.on_or_before(c("USD"), 20000).unwrap().0, 17996);
        let err = t.on_or_before(c("USD"), 17993).unwrap_err();
        assert_eq!(
            err,
            FxError::NoRateOnOrBefore {
                currency: c("USD"),
                date: "2019-04-07".into()
            }
        );
        assert_eq!(
            t.on_or_before(c("NOK"), 17996).unwrap_err(),
            FxError::NotQuoted {
                currency: c("NOK"),
                date: "2019-04-10".into()
            }
        );
        assert_eq!(t.on_or_before(Currency::EUR, 1).unwrap().1, Rate::ONE);
    }

    #[test]
    fn cross_rates_divide_the_euro_rates() {
        let t = table();
        // $10 on 2019-04-09 at the 2019-04-08 rates: 10 × 10.4325 / 1.1246 = 92.766316913 kr
        let (micros, used) = t.convert(10_000_000, c("USD"), c("SEK"), 17995).unwrap();
        assert_eq!(micros, 92_766_317);
        assert_eq!(used.rate, "9.2766316913");
        assert_eq!(used.date, "2019-04-08");
        // €2 → $2.2558 exactly.
        let (micros, used) = t
            .convert(2_000_000, Currency::EUR, c("USD"), 17996)
            .unwrap();
        assert_eq!(micros, 2_255_800);
        assert_eq!(used.rate, "1.1279");
    }

    /// One conversion rounds once: 0.151618 IDR at 15959.79 IDR per euro is
    /// 9.4999996867… micro-euros, so 9; rounding first to pico-units
    /// (9.500000 micro-euros, a tie) and then to micro-units gave 10.
    #[test]
    fn a_conversion_rounds_once() {
        let t = RateTable::from_rows([DayRate {
            currency: c("IDR"),
            day: 17996,
            rate: Rate::parse("15959.79").unwrap(),
        }]);
        let (micros, _) = t.convert(151_618, c("IDR"), Currency::EUR, 17996).unwrap();
        assert_eq!(micros, 9);
        let (picos, _) = t
            .convert_picos(151_618, c("IDR"), Currency::EUR, 17996)
            .unwrap();
        assert_eq!(picos, 9_500_000);
    }

    /// Conversions are checked: a result past `i64` (or a product past
    /// `i128`) is an error naming the amount, never `i64::MAX`.
    #[test]
    fn conversions_never_saturate() {
        let t = RateTable::from_rows([
            DayRate {
                currency: c("IDR"),
                day: 0,
                rate: Rate::parse("20275.17").unwrap(),
            },
            DayRate {
                currency: c("USD"),
                day: 0,
                rate: Rate::parse("1.1172").unwrap(),
            },
            DayRate {
                currency: c("SEK"),
                day: 0,
                rate: Rate(i64::MAX),
            },
        ]);
        // $1,000,000,000 (the most one entry holds) is 18 trillion rupiah:
        // beyond i64 micro-units, so an error.
        let max_entry = 1_000_000_000_000_000;
        let err = t.convert(max_entry, c("USD"), c("IDR"), 0).unwrap_err();
        assert_eq!(
            err,
            FxError::Overflow {
                amount: "1000000000".into(),
                from: c("USD"),
                to: c("IDR")
            }
        );
        assert!(
            err.to_string()
                .starts_with("1000000000 USD in IDR is larger than gencost can hold"),
            "{err}"
        );
        // In pico-units it still fits i128, so a total can add it up exactly.
        let (picos, _) = t.convert_picos(max_entry, c("USD"), c("IDR"), 0).unwrap();
        assert_eq!(picos / 1_000_000_000_000, 18_148_200_859_291);
        // A product beyond i128 is refused, not wrapped.
        assert!(matches!(
            t.convert_picos(i64::MAX, c("USD"), c("SEK"), 0),
            Err(FxError::Overflow { .. })
        ));
        assert!(matches!(
            t.convert(i64::MAX, c("USD"), c("SEK"), 0),
            Err(FxError::Overflow { .. })
        ));
        assert!(t.convert(i64::MAX, c("USD"), c("USD"), 0).is_ok());
    }

    #[test]
    fn overlaid_rows_replace_the_tables_own_day_by_day() {
        let base = RateTable::from_series(HashMap::from([(
            c("USD"),
            vec![
                (1, Rate(1_100_000)),
                (3, Rate(1_300_000)),
                (5, Rate(1_500_000)),
            ],
        )]));
        let t = base.overlay([
            DayRate {
                currency: c("USD"),
                day: 3,
                rate: Rate(2_300_000),
            },
            DayRate {
                currency: c("USD"),
                day: 4,
                rate: Rate(2_400_000),
            },
            DayRate {
                currency: c("USD"),
                day: 0,
                rate: Rate(2_000_000),
            },
            DayRate {
                currency: c("SEK"),
                day: 2,
                rate: Rate(10_000_000),
            },
        ]);
        let usd = |day| t.on_or_before(c("USD"), day).unwrap();
        assert_eq!(usd(0), (0, Rate(2_000_000)));
        assert_eq!(usd(2), (1, Rate(1_100_000)));
        assert_eq!(usd(3), (3, Rate(2_300_000)));
        assert_eq!(usd(4), (4, Rate(2_400_000)));
        assert_eq!(usd(9), (5, Rate(1_500_000)));
        assert!(t.knows(c("SEK")) && t.knows(Currency::EUR) && !t.knows(c("NOK")));
    }

    /// A cross rate is as old as the older of its two rates.
    #[test]
    fn a_cross_rate_is_dated_by_its_older_rate() {
        let t = RateTable::from_rows([
            DayRate {
                currency: c("USD"),
                day: 10,
                rate: Rate(1_100_000),
            },
            DayRate {
                currency: c("RUB"),
                day: 2,
                rate: Rate(90_000_000),
            },
        ]);
        let (_, used) = t.convert(1_000_000, c("USD"), c("RUB"), 12).unwrap();
        assert_eq!((used.day, used.date.as_str()), (2, "1970-01-03"));
        let (_, used) = t.convert(1_000_000, c("USD"), Currency::EUR, 12).unwrap();
        assert_eq!(used.day, 10);
    }

    /// Rates from 0.000001 to 100000 per euro, each order of magnitude
    /// about as likely as the others.
    fn any_rate() -> impl Strategy<Value = i64> {
        prop_oneof![
            1i64..1_000,
            1_000i64..1_000_000,
            1_000_000i64..1_000_000_000,
            1_000_000_000i64..100_000_000_000,
        ]
    }

    /// A table quoting USD and SEK at the given micro-unit rates on day 0.
    fn quoting(usd: i64, sek: i64) -> RateTable {
        RateTable::from_rows([
            DayRate {
                currency: c("USD"),
                day: 0,
                rate: Rate(usd),
            },
            DayRate {
                currency: c("SEK"),
                day: 0,
                rate: Rate(sek),
            },
        ])
    }

    /// Ties of the last micro-unit go to the even neighbour: at 2 USD per
    /// euro, $0.000003 is €0.0000015 and rounds to €0.000002; $0.000009
    /// is €0.0000045 and rounds to €0.000004.
    #[test]
    fn a_converted_tie_goes_to_the_even_micro_unit() {
        let t = quoting(2_000_000, 10_000_000);
        let eur = |micros| t.convert(micros, c("USD"), Currency::EUR, 0).unwrap().0;
        assert_eq!(eur(3), 2);
        assert_eq!(eur(9), 4);
        assert_eq!(eur(-3), -2);
        assert_eq!(eur(-9), -4);
        assert_eq!(eur(5), 2);
        assert_eq!(eur(7), 4);
    }

    /// Converting each amount and adding can drift from converting the sum
    /// by one micro-unit per two amounts, rounded up: three amounts of
    /// $0.000003 at 2 USD per euro are €0.000002 each, €0.000006 together,
    /// while their sum $0.000009 converts to €0.000004. So the bound of the
    /// property below is ceil(n / 2), not n / 2.
    #[test]
    fn converted_parts_can_drift_from_the_converted_sum() {
        let t = quoting(2_000_000, 10_000_000);
        let eur = |micros| t.convert(micros, c("USD"), Currency::EUR, 0).unwrap().0;
        assert_eq!(eur(3) * 3 - eur(9), 2);
    }

    proptest! {
        /// Converting there and back loses at most the rounding of each leg.
        #[test]
        fn round_trip_stays_within_rounding(micros in 0i64..1_000_000_000_000) {
            let t = table();
            let (sek, _) = t.convert(micros, c("USD"), c("SEK"), 17996).unwrap();
            let (back, _) = t.convert(sek, c("SEK"), c("USD"), 17996).unwrap();
            prop_assert!((back - micros).abs() <= 1);
        }

        /// Pico-unit conversion is the exact quotient to within half a pico.
        #[test]
        fn picos_are_exact(micros in -1_000_000_000_000i64..1_000_000_000_000) {
            let t = table();
            let (picos, _) = t.convert_picos(micros, c("USD"), c("SEK"), 17996).unwrap();
            let exact_num = i128::from(micros) * 10_440_000 * 1_000_000;
            let diff = picos * 1_127_900 - exact_num;
            prop_assert!(diff.abs() * 2 <= 1_127_900);
        }

        /// A converted amount is the exact quotient
        /// micros × rate(to) / rate(from) rounded once: within half a
        /// micro-unit of it, checked against the exact rational in i128:
        /// 2 · |result · rate(from) − micros · rate(to)| ≤ rate(from).
        #[test]
        fn conversion_is_within_half_a_micro_unit_of_the_exact_quotient(
            micros in -1_000_000_000_000i64..1_000_000_000_000,
            usd in any_rate(),
            sek in any_rate(),
        ) {
            let (from, to) = (i128::from(usd), i128::from(sek));
            let t = quoting(usd, sek);
            match t.convert(micros, c("USD"), c("SEK"), 0) {
                Ok((result, _)) => {
                    let off = (i128::from(result) * from - i128::from(micros) * to).abs();
                    prop_assert!(2 * off <= from, "{micros} at {usd} → {sek} gave {result}");
                }
                // Only a result beyond i64 is refused.
                Err(FxError::Overflow { .. }) => {
                    prop_assert!((i128::from(micros) * to / from).abs() >= i128::from(i64::MAX));
                }
                Err(e) => prop_assert!(false, "{e}"),
            }
        }

        /// Converting n amounts one by one and adding the results differs
        /// from converting their sum by at most ceil(n / 2) micro-units:
        /// each conversion is off the exact quotient by at most
        /// 1/2 + 1/(2·10^6), so the two integers are at most
        /// (n + 1) · (1/2 + 1/(2·10^6)) apart, which for n < 10^6 leaves
        /// floor((n + 1) / 2). The bound is reached (see
        /// `converted_parts_can_drift_from_the_converted_sum`).
        #[test]
        fn converted_parts_add_up_to_the_converted_sum_within_half_a_unit_each(
            amounts in proptest::collection::vec(-1_000_000_000i64..1_000_000_000, 1..60),
            usd in any_rate().prop_filter("at least 0.001", |r| *r >= 1_000),
            sek in any_rate().prop_filter("at least 0.001", |r| *r >= 1_000),
        ) {
            let t = quoting(usd, sek);
            let convert = |m: i64| t.convert(m, c("USD"), c("SEK"), 0).unwrap().0;
            let parts: i128 = amounts.iter().map(|m| i128::from(convert(*m))).sum();
            let whole = i128::from(convert(amounts.iter().sum()));
            let n = amounts.len() as i128;
            prop_assert!((parts - whole).abs() <= (n + 1) / 2, "{} vs {}", parts, whole);
        }

        /// Totals add pico-units and round once: the total of n amounts is
        /// within half a micro-unit plus n/2 pico-units of the exact sum,
        /// 2·10^6 · |total · rate(from) − Σ micros · rate(to)| ≤ (10^6 + n) · rate(from).
        #[test]
        fn totals_in_pico_units_round_once(
            amounts in proptest::collection::vec(-1_000_000_000i64..1_000_000_000, 0..60),
            usd in any_rate().prop_filter("at least 0.001", |r| *r >= 1_000),
            sek in any_rate().prop_filter("at least 0.001", |r| *r >= 1_000),
        ) {
            let t = quoting(usd, sek);
            let picos: i128 = amounts
                .iter()
                .map(|m| t.convert_picos(*m, c("USD"), c("SEK"), 0).unwrap().0)
                .sum();
            let total = picos_to_micros(picos);
            let sum: i128 = amounts.iter().map(|m| i128::from(*m)).sum();
            let (from, to) = (i128::from(usd), i128::from(sek));
            let n = amounts.len() as i128;
            let off = (total * from - sum * to).abs();
            prop_assert!(2_000_000 * off <= (1_000_000 + n) * from);
        }

        /// Half a micro-unit in pico-units goes to the even micro-unit.
        #[test]
        fn picos_at_a_tie_round_to_the_even_micro_unit(micros in -1_000_000_000_000i128..1_000_000_000_000) {
            let tie = micros * 1_000_000 + 500_000;
            let even = if micros % 2 == 0 { micros } else { micros + 1 };
            prop_assert_eq!(picos_to_micros(tie), even);
        }
    }
}
