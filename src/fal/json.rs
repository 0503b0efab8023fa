//! fal's JSON answers (pricing, billing records, queue statuses) read with
//! every number's own text: a JSON number never passes through a float on
//! its way to a cost, so `0.000004` stays `0.000004` and a 19-digit amount
//! keeps all 19 digits. Rounding to what the ledger stores is explicit and
//! reported. No I/O here.

use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// Exponents beyond this are clamped: the number is then either far below
/// anything the ledger stores (it rounds to zero) or far above it.
const EXPONENT_CLAMP: i64 = 1_000_000;

/// Digits an `i128` always holds.
const I128_DIGITS: usize = 38;

/// An exact number as written: `digits` × 10^`exponent`, with no leading
/// or trailing zeros in `digits` (zero has none at all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Literal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
    /// The text it was read from, for messages.
    text: String,
}

/// A literal rounded to a number of decimals: `value` × 10^-scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rounded {
    pub value: i128,
    /// False when digits were dropped (rounded half to even).
    pub exact: bool,
}

impl Literal {
    /// Reads a JSON number's text (`0.025`, `4e-6`, `2.5E-7`, `-1`); the
    /// same forms are accepted inside a JSON string, where leading zeros
    /// and a bare `.5` are tolerated too. `NaN`, `Infinity` and anything
    /// else that is not a finite decimal number are refused.
    pub fn parse(text: &str) -> Result<Literal, String> {
        let trimmed = text.trim();
        let not_a_number = || format!("'{trimmed}' is not a finite number");
        let (negative, rest) = match trimmed.as_bytes().first() {
            Some(b'-') => (true, &trimmed[1..]),
            Some(b'+') => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits_only = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty()
            || !digits_only(whole)
            || !digits_only(fraction)
            || mantissa.ends_with('.')
        {
            return Err(not_a_number());
        }
        let exponent = match exponent {
            None => 0,
            Some(e) => {
                let (sign, magnitude) = match e.as_bytes().first() {
                    Some(b'-') => (-1, &e[1..]),
                    Some(b'+') => (1, &e[1..]),
                    _ => (1, e),
                };
                if magnitude.is_empty() || !digits_only(magnitude) {
                    return Err(not_a_number());
                }
                // Clamped as read: a thousand-digit exponent is no reason
                // to overflow.
                let mut value: i64 = 0;
                for b in magnitude.bytes() {
                    value = (value * 10 + i64::from(b - b'0')).min(EXPONENT_CLAMP);
                }
                sign * value
            }
        };
        let mut digits: Vec<u8> = whole
            .bytes()
            .chain(fraction.bytes())
            .map(|b| b - b'0')
            .skip_while(|d| *d == 0)
            .collect();
        let mut exponent = exponent - fraction.len().min(EXPONENT_CLAMP as usize) as i64;
        while digits.last() == Some(&0) {
            digits.pop();
            exponent += 1;
        }
        Ok(Literal {
            negative: negative && !digits.is_empty(),
            digits,
            exponent,
            text: trimmed.to_string(),
        })
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The text it was read from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The same number × 10^`places` (nano-units to units: `-9`).
    pub fn shifted(mut self, places: i64) -> Literal {
        if !self.digits.is_empty() {
            self.exponent = (self.exponent + places).clamp(-3 * EXPONENT_CLAMP, 3 * EXPONENT_CLAMP);
        }
        self
    }

    /// The number in units of 10^-`scale`, rounded half to even; `None`
    /// when its magnitude does not fit below `limit`.
    pub fn round_to(&self, scale: u32, limit: i128) -> Option<Rounded> {
        let shift = self.exponent + i64::from(scale);
        let sign = if self.negative { -1 } else { 1 };
        if self.digits.is_empty() {
            return Some(Rounded {
                value: 0,
                exact: true,
            });
        }
        let whole = |digits: &[u8]| -> Option<i128> {
            if digits.len() > I128_DIGITS {
                return None;
            }
            Some(digits.iter().fold(0i128, |n, d| n * 10 + i128::from(*d)))
        };
        let (magnitude, exact) = if shift >= 0 {
            let shift = usize::try_from(shift).ok()?;
            if self.digits.len() + shift > I128_DIGITS {
                return None;
            }
            (whole(&self.digits)? * 10i128.pow(shift as u32), true)
        } else {
            let dropped_count = usize::try_from(-shift).ok()?;
            let kept_count = self.digits.len().saturating_sub(dropped_count);
            let (kept, dropped) = self.digits.split_at(kept_count);
            let kept_value = whole(kept)?;
            // `dropped` (with the zeros before it, when more digits are
            // dropped than written) against one half of the last place.
            let half = if dropped_count > dropped.len() {
                std::cmp::Ordering::Less
            } else {
                match dropped[0].cmp(&5) {
                    std::cmp::Ordering::Equal if dropped.len() > 1 => {
                        // Digits carry no trailing zeros: anything after the
                        // 5 makes it more than a half.
                        std::cmp::Ordering::Greater
                    }
                    other => other,
                }
            };
            let up = match half {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Equal => kept_value % 2 == 1,
                std::cmp::Ordering::Less => false,
            };
            (kept_value + i128::from(up), false)
        };
        (magnitude < limit).then_some(Rounded {
            value: sign * magnitude,
            exact,
        })
    }
}

/// One JSON object of a fal answer, each member kept as its own text.
#[derive(Debug)]
pub struct FalObject(BTreeMap<String, Box<RawValue>>);

impl FalObject {
    pub fn parse(raw: &RawValue) -> Result<FalObject, String> {
        serde_json::from_str(raw.get())
            .map(FalObject)
            .map_err(|_| "not a JSON object".to_string())
    }

    pub fn from_slice(body: &[u8]) -> Result<FalObject, String> {
        serde_json::from_slice(body)
            .map(FalObject)
            .map_err(|e| e.to_string())
    }

    /// A member's raw text, unless absent or `null`.
    pub fn raw(&self, name: &str) -> Option<&RawValue> {
        self.0
            .get(name)
            .map(Box::as_ref)
            .filter(|raw| raw.get() != "null")
    }

    /// A string member.
    pub fn text(&self, name: &str) -> Option<String> {
        serde_json::from_str::<String>(self.raw(name)?.get()).ok()
    }

    /// A boolean member.
    pub fn flag(&self, name: &str) -> Option<bool> {
        serde_json::from_str::<bool>(self.raw(name)?.get()).ok()
    }

    /// An object member.
    pub fn object(&self, name: &str) -> Option<FalObject> {
        FalObject::parse(self.raw(name)?).ok()
    }

    /// An array member's items, each as its own text.
    pub fn items(&self, name: &str) -> Result<Vec<Box<RawValue>>, String> {
        match self.raw(name) {
            None => Ok(Vec::new()),
            Some(raw) => {
                serde_json::from_str(raw.get()).map_err(|_| format!("{name} is not a list"))
            }
        }
    }

    /// A number member, exactly as written (a number, or a string holding
    /// one); `None` when absent or `null`. Anything else is refused with
    /// the member's name: it never counts as absent.
    pub fn number(&self, name: &str) -> Result<Option<Literal>, String> {
        let Some(raw) = self.raw(name) else {
            return Ok(None);
        };
        let text = raw.get();
        let literal = match text.as_bytes().first() {
            Some(b'"') => serde_json::from_str::<String>(text)
                .map_err(|e| e.to_string())
                .and_then(|s| Literal::parse(&s)),
            Some(b'-' | b'0'..=b'9') => Literal::parse(text),
            _ => Err(format!("'{text}' is not a finite number")),
        };
        literal.map(Some).map_err(|e| format!("{name}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounded(text: &str, scale: u32) -> (i128, bool) {
        let r = Literal::parse(text)
            .unwrap()
            .round_to(scale, i128::MAX)
            .unwrap();
        (r.value, r.exact)
    }

    #[test]
    fn numbers_are_read_from_their_text_in_every_form() {
        assert_eq!(rounded("0.000004", 6), (4, true));
        assert_eq!(rounded("4e-6", 6), (4, true));
        assert_eq!(rounded("2.5E-7", 12), (250_000, true));
        assert_eq!(rounded("1e-7", 12), (100_000, true));
        assert_eq!(rounded("0.0000025", 12), (2_500_000, true));
        assert_eq!(rounded("1E+3", 0), (1000, true));
        assert_eq!(rounded("12", 2), (1200, true));
        assert_eq!(rounded("0", 6), (0, true));
        assert_eq!(rounded("-0.0", 6), (0, true));
        assert_eq!(rounded("-1.5", 1), (-15, true));
        assert_eq!(rounded("000.50", 1), (5, true));
        assert_eq!(rounded(".5", 1), (5, true));
    }

    #[test]
    fn extra_digits_round_half_to_even() {
        // 19 significant digits: a float would keep about 16.
        assert_eq!(rounded("0.1234565000000000001", 6), (123_457, false));
        assert_eq!(rounded("0.1234565", 6), (123_456, false));
        assert_eq!(rounded("0.1234575", 6), (123_458, false));
        assert_eq!(
            rounded("1234567890.123456789", 6),
            (1_234_567_890_123_457, false)
        );
        assert_eq!(rounded("1e-7", 6), (0, false));
        assert_eq!(rounded("5e-7", 6), (0, false));
        assert_eq!(rounded("5.000001e-7", 6), (1, false));
        assert_eq!(rounded("1.5e-6", 6), (2, false));
        assert_eq!(rounded("2.5e-6", 6), (2, false));
        assert_eq!(rounded("4e-99999999999999999999", 6), (0, false));
    }

    #[test]
    fn what_is_not_a_finite_number_or_does_not_fit_is_refused() {
        for bad in [
            "", "-", ".", "1.", "e5", "1e", "1e+", "NaN", "Infinity", "0x10", "1,5", "1 2",
        ] {
            assert!(Literal::parse(bad).is_err(), "{bad}");
        }
        let huge = Literal::parse("1e400").unwrap();
        assert_eq!(huge.round_to(6, i128::MAX), None);
        let big = Literal::parse("123456789012345678901234567890123456789").unwrap();
        assert_eq!(big.round_to(0, i128::MAX), None);
        assert_eq!(Literal::parse("10").unwrap().round_to(0, 10), None);
        assert_eq!(
            Literal::parse("9")
                .unwrap()
                .round_to(0, 10)
                .map(|r| r.value),
            Some(9)
        );
        let nano = Literal::parse("36000000").unwrap().shifted(-9);
        assert_eq!(nano.round_to(6, i128::MAX).unwrap().value, 36_000);
    }

    #[test]
    fn object_members_keep_their_text() {
        let object = FalObject::from_slice(
            br#"{"a": 0.000004, "b": "2.5E-7", "c": null, "d": true, "e": "x", "f": [1, 2]}"#,
        )
        .unwrap();
        assert_eq!(object.number("a").unwrap().unwrap().text(), "0.000004");
        assert_eq!(object.number("b").unwrap().unwrap().text(), "2.5E-7");
        assert_eq!(object.number("c").unwrap(), None);
        assert_eq!(object.number("missing").unwrap(), None);
        assert!(object.number("d").unwrap_err().starts_with("d: "));
        assert!(object.number("e").unwrap_err().starts_with("e: "));
        assert!(object.number("f").is_err());
        assert_eq!(object.flag("d"), Some(true));
        assert_eq!(object.text("e").as_deref(), Some("x"));
        assert_eq!(object.items("f").unwrap().len(), 2);
        assert!(object.items("e").is_err());
    }
}
