//! fal's billing arithmetic: billable units (`x-fal-billable-units`, which
//! may be fractional) times a unit price, both exact decimals, rounded half
//! to even to the micro-unit, as every amount in gencost.

use crate::money::{div_round_half_even, scaled_decimal_string};

/// Decimal places a unit count or unit price may carry.
const MAX_SCALE: u32 = 12;

/// An exact non-negative decimal: `digits` × 10^-`scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal {
    digits: i128,
    scale: u32,
}

impl Decimal {
    /// Reads `3.008`, `0`, `12`; refuses signs, exponents and more than 12
    /// decimals, so a malformed header never becomes a cost.
    pub fn parse(text: &str) -> Result<Decimal, String> {
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits_only = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty()
            || !digits_only(whole)
            || !digits_only(fraction)
            || text.ends_with('.')
        {
            return Err(format!("'{text}' is not a non-negative decimal number"));
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > MAX_SCALE as usize {
            return Err(format!("'{text}' has more than {MAX_SCALE} decimal places"));
        }
        let all = format!("{whole}{fraction}");
        let digits = if all.is_empty() {
            0
        } else {
            all.parse::<i128>()
                .ok()
                .filter(|d| *d < 10i128.pow(24))
                .ok_or_else(|| format!("'{text}' is too large"))?
        };
        Ok(Decimal {
            digits,
            scale: fraction.len() as u32,
        })
    }

    pub fn is_zero(&self) -> bool {
        self.digits == 0
    }

    /// The number as canonical text (no trailing zeros).
    pub fn text(&self) -> String {
        scaled_decimal_string(self.digits, self.scale)
    }
}

/// `units` × `unit_price`, in micro-units of the price's currency.
pub fn cost_micros(units: Decimal, unit_price: Decimal) -> Result<i64, String> {
    let product = units
        .digits
        .checked_mul(unit_price.digits)
        .ok_or("the billed cost is too large")?;
    let scale = units.scale + unit_price.scale;
    let micros = if scale >= 6 {
        div_round_half_even(product, 10i128.pow(scale - 6))
    } else {
        product
            .checked_mul(10i128.pow(6 - scale))
            .ok_or("the billed cost is too large")?
    };
    i64::try_from(micros).map_err(|_| "the billed cost is too large".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    #[test]
    fn units_times_price_is_exact_and_rounds_half_to_even() {
        assert_eq!(cost_micros(d("3.008"), d("0.025")), Ok(75_200));
        assert_eq!(cost_micros(d("1"), d("0.0000125")), Ok(12)); // 12.5 → 12
        assert_eq!(cost_micros(d("3"), d("0.0000125")), Ok(38)); // 37.5 → 38
        assert_eq!(cost_micros(d("0"), d("0.05")), Ok(0));
        assert_eq!(cost_micros(d("5"), d("0.4")), Ok(2_000_000));
        assert_eq!(d("3.0080").text(), "3.008");
        assert!(d("0.000").is_zero());
    }

    #[test]
    fn malformed_units_are_refused() {
        for bad in ["", ".", "-1", "1e3", "1.", "abc", "1.0000000000001", "1,5"] {
            assert!(Decimal::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        // Whole units of a micro-exact price cost exactly units × price.
        #[test]
        fn whole_units_cost_exactly(units in 0i64..100_000, price in 0i64..10_000_000) {
            let price_text = crate::money::decimal_string(price);
            let cost = cost_micros(d(&units.to_string()), d(&price_text)).unwrap();
            prop_assert_eq!(cost, units * price);
        }
    }
}
