//! The markup a studio adds to its costs on an invoice: an exact percentage,
//! applied to the whole and shared across the invoice's lines so that the
//! markup column adds up to the markup line to the micro-unit.

use crate::money::{decimal_string, div_round_half_even, parse_amount};
use std::fmt;

/// The largest markup accepted, in percent: beyond it a typo is likelier
/// than a price.
pub const MAX_PERCENT: i64 = 1_000;

/// A markup in millionths of a percent (`12.5` % is 12,500,000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Markup {
    micro_percent: i64,
}

/// One millionth of a percent of an amount: amount × micro_percent / 10^8.
const DENOMINATOR: i128 = 100 * 1_000_000;

impl Markup {
    /// `15`, `12.5` or `0.25` (percent, at most six decimals; a trailing `%`
    /// is allowed). Negative markups and markups over `MAX_PERCENT` are
    /// refused.
    pub fn parse(text: &str) -> Result<Markup, String> {
        let trimmed = text.trim();
        let number = trimmed.strip_suffix('%').unwrap_or(trimmed).trim();
        let micro_percent = parse_amount(number)
            .map_err(|e| format!("'{text}' is not a percentage ({e}); give e.g. 15 or 12.5"))?;
        if micro_percent < 0 {
            return Err(format!(
                "'{text}' is negative; a markup is 0 to {MAX_PERCENT} percent (give a discount on the invoice itself)"
            ));
        }
        if micro_percent > MAX_PERCENT * 1_000_000 {
            return Err(format!(
                "'{text}' percent is more than {MAX_PERCENT} percent; give the markup in percent, e.g. 15 for 15 %"
            ));
        }
        Ok(Markup { micro_percent })
    }

    /// A markup recorded before (on an invoice), taken as it was.
    pub fn from_micro_percent(micro_percent: i64) -> Markup {
        Markup { micro_percent }
    }

    pub fn micro_percent(self) -> i64 {
        self.micro_percent
    }

    /// The markup on `micros`, rounded half to even to a micro-unit.
    pub fn on(self, micros: i64) -> i128 {
        div_round_half_even(
            i128::from(micros) * i128::from(self.micro_percent),
            DENOMINATOR,
        )
    }

    /// The markup on the sum of `lines`, shared across them: each line gets
    /// its exact share rounded down or up by less than one micro-unit, the
    /// largest remainders rounding up (ties to the earlier line), so the
    /// shares add up to `self.on(sum)` exactly.
    pub fn share(self, lines: &[i64]) -> Vec<i128> {
        let pct = i128::from(self.micro_percent);
        let products: Vec<i128> = lines.iter().map(|&m| i128::from(m) * pct).collect();
        let total: i128 = products.iter().sum();
        let target = div_round_half_even(total, DENOMINATOR);
        let mut shares: Vec<i128> = products.iter().map(|p| p.div_euclid(DENOMINATOR)).collect();
        let floor_sum: i128 = shares.iter().sum();
        // Between 0 and lines.len() micro-units are left to hand out.
        let extra = usize::try_from(target - floor_sum).unwrap_or(0);
        let mut order: Vec<usize> = (0..lines.len()).collect();
        order.sort_by(|&a, &b| {
            let (ra, rb) = (
                products[a].rem_euclid(DENOMINATOR),
                products[b].rem_euclid(DENOMINATOR),
            );
            rb.cmp(&ra).then(a.cmp(&b))
        });
        for &i in order.iter().take(extra) {
            shares[i] += 1;
        }
        shares
    }
}

impl fmt::Display for Markup {
    /// `12.5%`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", decimal_string(self.micro_percent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_percentages_exactly_and_refuses_the_absurd() {
        assert_eq!(Markup::parse("15").unwrap().micro_percent(), 15_000_000);
        assert_eq!(
            Markup::parse(" 12.5% ").unwrap().micro_percent(),
            12_500_000
        );
        assert_eq!(Markup::parse("0").unwrap().micro_percent(), 0);
        assert_eq!(
            Markup::parse("1000").unwrap().micro_percent(),
            1_000_000_000
        );
        assert_eq!(Markup::parse("12.5").unwrap().to_string(), "12.5%");
        for bad in ["-5", "1000.000001", "1e3", "abc", "", "15,5"] {
            assert!(Markup::parse(bad).is_err(), "{bad}");
        }
        assert!(Markup::parse("-5").unwrap_err().contains("negative"));
        assert!(Markup::parse("5000")
            .unwrap_err()
            .contains("more than 1000"));
    }

    #[test]
    fn rounds_half_to_even() {
        let ten = Markup::parse("10").unwrap();
        assert_eq!(ten.on(25), 2); // 2.5 -> 2
        assert_eq!(ten.on(35), 4); // 3.5 -> 4
        assert_eq!(ten.on(1_000_000), 100_000);
    }

    #[test]
    fn shares_add_up_to_the_markup_on_the_whole() {
        let m = Markup::parse("10").unwrap();
        // 0.5 + 0.5 + 0.5 = 1.5 -> 2 on the whole; two lines round up.
        assert_eq!(m.share(&[5, 5, 5]), vec![1, 1, 0]);
        assert_eq!(m.share(&[]), Vec::<i128>::new());
    }

    proptest! {
        #[test]
        fn shares_are_exact_and_close(lines in proptest::collection::vec(-10_000_000_000i64..10_000_000_000, 0..40),
                                      pct in 0i64..=1_000_000_000) {
            let m = Markup { micro_percent: pct };
            let shares = m.share(&lines);
            let sum: i64 = lines.iter().sum();
            prop_assert_eq!(shares.iter().sum::<i128>(), m.on(sum));
            for (line, share) in lines.iter().zip(&shares) {
                let exact = i128::from(*line) * i128::from(pct);
                // |share - exact / 10^8| < 1
                prop_assert!((share * DENOMINATOR - exact).abs() < DENOMINATOR);
            }
        }
    }
}
