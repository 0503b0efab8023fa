//! What text, amounts and times an entry may hold, checked before anything
//! is written, so one entry can never break a listing, a terminal or a
//! total. Every surface logs through these checks.

use crate::error::{Error, Result};
use crate::money::{decimal_string, Money};
use crate::timestamp::{Timestamp, MICROS_PER_DAY};

/// Client, project and deliverable names; model and endpoint ids; sources
/// and provider request ids.
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Generation parameters, as JSON text.
pub const MAX_PARAMS_BYTES: usize = 64 * 1024;
/// The largest amount one entry may carry, in major units of its currency:
/// far above any real cost, and low enough that millions of entries still
/// sum within the ledger's exact integers.
pub const MAX_AMOUNT_UNITS: i64 = 1_000_000_000;
/// How far ahead of now an entry may be dated (clocks and time zones drift).
pub const MAX_FUTURE_MICROS: i64 = MICROS_PER_DAY;

/// A one-line name: no control characters, at most `MAX_NAME_CHARS`.
pub fn name(field: &str, value: &str) -> Result<()> {
    text(field, value, MAX_NAME_CHARS, false)
}

/// Free text: tabs and newlines allowed, other control characters not.
pub fn description(value: &str) -> Result<()> {
    text("description", value, MAX_DESCRIPTION_CHARS, true)
}

/// Why something was voided: free text like a description.
pub fn reason(value: &str) -> Result<()> {
    text("reason", value, MAX_DESCRIPTION_CHARS, true)
}

fn text(field: &str, value: &str, max_chars: usize, multiline: bool) -> Result<()> {
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(Error::input(format!(
            "{field}: {chars} characters, more than the {max_chars} allowed"
        )));
    }
    let allowed = |c: char| multiline && (c == '\n' || c == '\t');
    if let Some((at, c)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !allowed(*c))
    {
        return Err(Error::input(format!(
            "{field}: control character U+{:04X} at character {}; remove it",
            c as u32,
            at + 1
        )));
    }
    if !multiline {
        if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| is_invisible(*c)) {
            return Err(Error::input(format!(
                "{field}: invisible character U+{:04X} at character {}; remove it",
                c as u32,
                at + 1
            )));
        }
    }
    Ok(())
}

/// Format characters that show as nothing (zero-width spaces and joiners,
/// direction overrides, the byte-order mark, soft hyphens): in a name they
/// make two names that look alike differ, or reorder what a bill shows.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

pub fn amount(field: &str, money: Money) -> Result<()> {
    let max = MAX_AMOUNT_UNITS * 1_000_000;
    if money.micros.unsigned_abs() > max.unsigned_abs() {
        return Err(Error::input(format!(
            "{field}: {} {} is larger than the {} allowed for one entry",
            decimal_string(money.micros),
            money.currency,
            decimal_string(max)
        )));
    }
    Ok(())
}

/// A time an entry happened: not more than a day ahead of `now`.
pub fn occurred_at(field: &str, at: Timestamp, now: Timestamp) -> Result<()> {
    if at.0 > now.0.saturating_add(MAX_FUTURE_MICROS) {
        return Err(Error::input(format!(
            "{field}: {at} is more than a day in the future; give the time the cost was incurred"
        )));
    }
    Ok(())
}

pub fn params(json_len: usize) -> Result<()> {
    if json_len > MAX_PARAMS_BYTES {
        return Err(Error::input(format!(
            "parameters: {json_len} bytes of JSON, more than the {MAX_PARAMS_BYTES} allowed"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn names_refuse_control_characters_and_length() {
        assert!(name("client", "Ström & Co — 東京").is_ok());
        let err = name("client", "Acme\u{1b}[31m").unwrap_err().to_string();
        assert!(err.contains("U+001B at character 5"), "{err}");
        assert!(name("client", "a\tb").is_err());
        assert!(description("line one\n\tline two").is_ok());
        assert!(description("bell\u{7}").is_err());
        assert!(name("model", &"x".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(name("model", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }

    #[test]
    fn names_refuse_invisible_characters() {
        for hidden in [
            "Ac\u{200B}me",
            "\u{FEFF}Acme",
            "Acme\u{202E}",
            "Ac\u{00AD}me",
        ] {
            let err = name("client", hidden).unwrap_err().to_string();
            assert!(err.contains("invisible character"), "{err}");
        }
        // A joiner inside an emoji sequence is visible text in a description.
        assert!(description("team \u{1F468}\u{200D}\u{1F469}").is_ok());
    }

    #[test]
    fn amounts_and_times_have_bounds() {
        let max = MAX_AMOUNT_UNITS * 1_000_000;
        assert!(amount("cost", Money::new(max, Currency::USD)).is_ok());
        assert!(amount("cost", Money::new(-max, Currency::USD)).is_ok());
        assert!(amount("cost", Money::new(max + 1, Currency::USD)).is_err());
        assert!(amount("cost", Money::new(i64::MIN, Currency::USD)).is_err());
        let now = Timestamp(1_800_000_000_000_000);
        assert!(occurred_at("at", Timestamp(now.0 + MAX_FUTURE_MICROS), now).is_ok());
        assert!(occurred_at("at", Timestamp(now.0 + MAX_FUTURE_MICROS + 1), now).is_err());
    }
}
