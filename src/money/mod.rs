//! Exact money: amounts are `i64` micro-units (1e-6 of the major unit) of one
//! currency. Parsing, exact decimal text, and the single rounding rule live here;
//! the human display format lives in `display`.

mod currency;
mod display;

pub use currency::{Currency, UnknownCurrency};
pub use display::{
    affixes, display_decimals, display_unit, format_display, format_entry, format_exact,
    round_to_display,
};

use std::fmt;

/// Micro-units per major unit.
pub const MICROS_PER_UNIT: i64 = 1_000_000;

/// An exact amount of one currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub micros: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(micros: i64, currency: Currency) -> Self {
        Money { micros, currency }
    }

    /// Exact decimal text without a currency, e.g. `0.025`.
    pub fn decimal(&self) -> String {
        decimal_string(self.micros)
    }
}

/// As JSON: `{"amount": "0.025", "currency": "USD"}`, the exact decimal.
impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Money", 2)?;
        out.serialize_field("amount", &self.decimal())?;
        out.serialize_field("currency", self.currency.code())?;
        out.end()
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency)
    }
}

/// For people, exactly (`$0.025`, `5.1 kr`): an amount is an entry's
/// amount; totals are shown with `format_display`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_exact(self.micros, self.currency))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("not a number ('{0}'); give a decimal number such as 0.025")]
    Malformed(String),
    #[error("amount '{0}' has more than 6 decimal places; amounts are exact to the micro-unit")]
    TooPrecise(String),
    #[error("amount '{0}' is too large")]
    TooLarge(String),
}

/// Parses a plain decimal amount (`12`, `0.025`, `-3.5`, `.5`) into micro-units.
/// No thousands separators, exponents or currency symbols: ambiguity is an error.
pub fn parse_amount(text: &str) -> Result<i64, AmountError> {
    let s = text.trim();
    let malformed = || AmountError::Malformed(text.to_string());
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits_only = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !digits_only(int_part) || int_part.is_empty() && frac_part.is_none_or(str::is_empty) {
        return Err(malformed());
    }
    let frac = frac_part.unwrap_or("");
    if frac_part.is_some() && (frac.is_empty() || !digits_only(frac)) {
        return Err(malformed());
    }
    if frac.len() > 6 {
        // Trailing zeros beyond the sixth place carry no value.
        if frac[6..].bytes().any(|b| b != b'0') {
            return Err(AmountError::TooPrecise(text.to_string()));
        }
    }
    let too_large = || AmountError::TooLarge(text.to_string());
    let whole: i128 = if int_part.is_empty() {
        0
    } else {
        int_part.parse::<i128>().map_err(|_| too_large())?
    };
    let frac6 = format!("{:0<6}", &frac[..frac.len().min(6)]);
    let fraction: i128 = frac6.parse().map_err(|_| malformed())?;
    let micros = whole
        .checked_mul(MICROS_PER_UNIT as i128)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(too_large)?;
    let micros = if negative { -micros } else { micros };
    i64::try_from(micros).map_err(|_| too_large())
}

/// Exact decimal text of a micro-unit amount, trailing zeros trimmed.
pub fn decimal_string(micros: i64) -> String {
    scaled_decimal_string(i128::from(micros), 6)
}

/// Exact decimal text of `value` × 10^-`decimals`, trailing zeros trimmed.
pub fn scaled_decimal_string(value: i128, decimals: u32) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let unit = 10u128.pow(decimals);
    let (whole, frac) = (abs / unit, abs % unit);
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let frac = format!("{frac:0width$}", width = decimals as usize);
        format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
    }
}

/// The one rounding rule: `value / divisor`, rounded half to even.
pub fn div_round_half_even(value: i128, divisor: i128) -> i128 {
    assert!(divisor > 0, "divisor must be positive");
    let quotient = value.div_euclid(divisor);
    let remainder = value.rem_euclid(divisor);
    let twice = remainder * 2;
    if twice > divisor || (twice == divisor && quotient % 2 != 0) {
        quotient + 1
    } else {
        quotient
    }
}

/// Sums micro-unit amounts exactly; `None` when the total leaves `i64`.
pub fn checked_sum(amounts: impl IntoIterator<Item = i64>) -> Option<i64> {
    let total: i128 = amounts.into_iter().map(i128::from).sum();
    i64::try_from(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_plain_decimals() {
        assert_eq!(parse_amount("0.025"), Ok(25_000));
        assert_eq!(parse_amount("12"), Ok(12_000_000));
        assert_eq!(parse_amount("-3.5"), Ok(-3_500_000));
        assert_eq!(parse_amount(".5"), Ok(500_000));
        assert_eq!(parse_amount("0.0000010"), Ok(1));
    }

    #[test]
    fn rejects_ambiguous_or_malformed_amounts() {
        for bad in [
            "0,0.5", "abc", "", "-", ".", "1.", "1e3", "$5", "1,5", "1.2.3", " - 1",
        ] {
            assert!(
                matches!(parse_amount(bad), Err(AmountError::Malformed(_))),
                "{bad:?} should be malformed"
            );
        }
        assert_eq!(
            parse_amount("0.0000001"),
            Err(AmountError::TooPrecise("0.0000001".into()))
        );
        assert!(matches!(
            parse_amount("99999999999999999"),
            Err(AmountError::TooLarge(_))
        ));
    }

    #[test]
    fn decimal_text_is_exact_and_minimal() {
        assert_eq!(decimal_string(25_000), "0.025");
        assert_eq!(decimal_string(1_000_000), "1");
        assert_eq!(decimal_string(-1), "-0.000001");
        assert_eq!(decimal_string(i64::MIN), "-9223372036854.775808");
    }

    #[test]
    fn rounds_half_to_even() {
        assert_eq!(div_round_half_even(25, 10), 2);
        assert_eq!(div_round_half_even(35, 10), 4);
        assert_eq!(div_round_half_even(-25, 10), -2);
        assert_eq!(div_round_half_even(-35, 10), -4);
        assert_eq!(div_round_half_even(26, 10), 3);
        assert_eq!(div_round_half_even(-26, 10), -3);
    }

    /// Pico-units (1e-12) to micro-units: exactly half a micro-unit goes to
    /// the even neighbour, whichever side of zero, and anything off the tie
    /// goes to the nearer one. Half up (0.5 → 1, -1.5 → -1) and half away
    /// from zero (0.5 → 1, -0.5 → -1) both fail here.
    #[test]
    fn half_a_micro_unit_goes_to_the_even_neighbour() {
        const MICRO: i128 = 1_000_000;
        for (picos, micros) in [
            (500_000, 0),
            (1_500_000, 2),
            (2_500_000, 2),
            (3_500_000, 4),
            (-500_000, 0),
            (-1_500_000, -2),
            (-2_500_000, -2),
            (-3_500_000, -4),
            (2_499_999, 2),
            (2_500_001, 3),
            (-2_499_999, -2),
            (-2_500_001, -3),
            (0, 0),
            (-1, 0),
            (1, 0),
        ] {
            assert_eq!(div_round_half_even(picos, MICRO), micros, "{picos} picos");
        }
        // Far from zero, where a float would have lost the half.
        let big = i128::from(i64::MAX);
        assert_eq!(div_round_half_even(big * MICRO + 500_000, MICRO), big + 1);
        assert_eq!(
            div_round_half_even((big - 1) * MICRO + 500_000, MICRO),
            big - 1
        );
        assert_eq!(
            div_round_half_even(-(big * MICRO) - 500_000, MICRO),
            -big - 1
        );
    }

    #[test]
    fn sums_past_i64_in_between_still_count() {
        assert_eq!(checked_sum([i64::MAX, 1, -1]), Some(i64::MAX));
        assert_eq!(checked_sum([i64::MIN, -1, 1]), Some(i64::MIN));
        assert_eq!(checked_sum([i64::MAX, 1]), None);
        assert_eq!(checked_sum([i64::MIN, -1]), None);
        assert_eq!(checked_sum([]), Some(0));
    }

    proptest! {
        #[test]
        fn decimal_text_round_trips(micros in -(i64::MAX / 2)..(i64::MAX / 2)) {
            prop_assert_eq!(parse_amount(&decimal_string(micros)), Ok(micros));
        }

        /// What defines round half to even: the result is a nearest integer
        /// to value / divisor, and at a tie it is the even one.
        #[test]
        fn rounding_is_to_the_nearest_and_ties_to_even(
            value in -1_000_000_000_000_000_000_000_000_000_000i128..1_000_000_000_000_000_000_000_000_000_000,
            divisor in 1i128..10_000_000_000_000,
        ) {
            let q = div_round_half_even(value, divisor);
            let twice_off = (q * divisor - value).abs() * 2;
            prop_assert!(twice_off <= divisor, "{value} / {divisor} gave {q}");
            if twice_off == divisor {
                prop_assert_eq!(q % 2, 0, "{} / {} is a tie", value, divisor);
            }
        }

        /// Exact ties, k + 1/2 for any k of either sign, land on whichever
        /// of k and k + 1 is even.
        #[test]
        fn exact_ties_go_to_the_even_neighbour(
            k in -1_000_000_000_000_000_000i128..1_000_000_000_000_000_000,
            half in 1i128..1_000_000_000_000,
        ) {
            let q = div_round_half_even(k * 2 * half + half, 2 * half);
            let even = if k % 2 == 0 { k } else { k + 1 };
            prop_assert_eq!(q, even);
        }
    }
}
