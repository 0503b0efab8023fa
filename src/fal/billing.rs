//! fal's billing arithmetic: billable units (`x-fal-billable-units`, which
//! may be fractional) times a unit price, both exact decimals, rounded half
//! to even to the micro-unit, as every amount in gencost.

use super::json::Literal;
use crate::money::{div_round_half_even, scaled_decimal_string};

/// Decimal places a unit count or unit price may carry.
pub const MAX_SCALE: u32 = 12;

/// A decimal's digits stay below this.
const MAX_DIGITS: i128 = 10i128.pow(24);

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
                .filter(|d| *d < MAX_DIGITS)
                .ok_or_else(|| format!("'{text}' is too large"))?
        };
        Ok(Decimal {
            digits,
            scale: fraction.len() as u32,
        })
    }

    /// A number of a fal JSON answer (exponents allowed: `4e-6`), rounded
    /// half to even to 12 decimals; the flag is true when that dropped
    /// digits. Negative numbers and numbers of more than 24 digits in all
    /// (as `parse`) are refused.
    pub fn from_literal(literal: &Literal) -> Result<(Decimal, bool), String> {
        if literal.is_negative() {
            return Err(format!("'{}' is negative", literal.text()));
        }
        let out_of_range = || format!("'{}' is out of range", literal.text());
        let rounded = literal
            .round_to(MAX_SCALE, MAX_DIGITS * 10i128.pow(MAX_SCALE))
            .ok_or_else(out_of_range)?;
        let mut decimal = Decimal {
            digits: rounded.value,
            scale: MAX_SCALE,
        };
        while decimal.scale > 0 && decimal.digits % 10 == 0 {
            decimal.digits /= 10;
            decimal.scale -= 1;
        }
        // The same bound as `parse`: at most 24 digits in all.
        if decimal.digits >= MAX_DIGITS {
            return Err(out_of_range());
        }
        Ok((decimal, !rounded.exact))
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

/// `units` × `unit_price` less `percent_discount` percent, in micro-units,
/// rounded half to even once, at the end.
pub fn discounted_cost_micros(
    units: Decimal,
    unit_price: Decimal,
    percent_discount: Decimal,
) -> Result<i64, String> {
    let hundred = 100 * 10i128.pow(percent_discount.scale);
    if percent_discount.digits > hundred {
        return Err(format!(
            "percent_discount: '{}' is out of range (0 to 100)",
            percent_discount.text()
        ));
    }
    let too_large = || "the billed cost is too large".to_string();
    let product = units
        .digits
        .checked_mul(unit_price.digits)
        .and_then(|p| p.checked_mul(hundred - percent_discount.digits))
        .ok_or_else(too_large)?;
    // The kept share is a percentage: two more places.
    let scale = units.scale + unit_price.scale + percent_discount.scale + 2;
    let micros = if scale >= 6 {
        div_round_half_even(
            product,
            10i128.checked_pow(scale - 6).ok_or_else(too_large)?,
        )
    } else {
        product
            .checked_mul(10i128.pow(6 - scale))
            .ok_or_else(too_large)?
    };
    i64::try_from(micros).map_err(|_| too_large())
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
    fn a_discount_is_applied_before_the_one_rounding() {
        assert_eq!(
            discounted_cost_micros(d("2"), d("0.001"), d("10")),
            Ok(1_800)
        );
        assert_eq!(
            discounted_cost_micros(d("1"), d("0.04"), d("0")),
            Ok(40_000)
        );
        assert_eq!(discounted_cost_micros(d("1"), d("0.04"), d("100")), Ok(0));
        // 0.0000125 × 0.9 = 0.00001125: rounded once, to 11 µ (not 12 × 0.9).
        assert_eq!(
            discounted_cost_micros(d("1"), d("0.0000125"), d("10")),
            Ok(11)
        );
        assert_eq!(
            discounted_cost_micros(d("1000"), d("0.0000025"), d("12.5")),
            Ok(2_188)
        );
        assert!(discounted_cost_micros(d("1"), d("1"), d("100.5")).is_err());
    }

    #[test]
    fn malformed_units_are_refused() {
        for bad in ["", ".", "-1", "1e3", "1.", "abc", "1.0000000000001", "1,5"] {
            assert!(Decimal::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_numbers_round_half_to_even_to_twelve_decimals() {
        let read = |text: &str| {
            let (decimal, rounded) = Decimal::from_literal(&Literal::parse(text).unwrap()).unwrap();
            (decimal.text(), rounded)
        };
        assert_eq!(read("4e-6"), ("0.000004".into(), false));
        assert_eq!(read("2.5E-7"), ("0.00000025".into(), false));
        assert_eq!(read("1e-7"), ("0.0000001".into(), false));
        assert_eq!(read("0.0000025"), ("0.0000025".into(), false));
        assert_eq!(read("1000"), ("1000".into(), false));
        assert_eq!(read("2.5E-13"), ("0".into(), true));
        assert_eq!(read("1.5e-12"), ("0.000000000002".into(), true));
        assert_eq!(
            read("0.1234567890123456789"),
            ("0.123456789012".into(), true)
        );
        let refused = |text: &str| Decimal::from_literal(&Literal::parse(text).unwrap()).is_err();
        assert!(refused("-1"));
        assert!(refused("1e24"));
        assert!(refused("1e400"));
        assert!(refused("1234567890123.123456789012"));
        assert!(!refused("9.99e23"));
        assert!(!refused("123456789012.123456789012"));
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
