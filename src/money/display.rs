//! Human display of amounts, in two forms (DESIGN.md section 4):
//!
//! - a **total** rounds to the currency's display precision (`$1,234.56`,
//!   `€1,234.56`, `1,234.6 kr`, `¥1,235`), and a non-zero total never shows as
//!   zero: below that precision it shows two significant digits (`$0.004`);
//! - an **entry's amount** (and a unit price) shows exactly, to the
//!   micro-unit, trailing zeros trimmed but never below the currency's usual
//!   decimals (`$0.025`, `$1.005`, `$1.40`, `¥1,234.5`, `5.1 kr`, `12.35 kr`).
//!
//! Written here rather than taken from a crate because of those two rules.

use super::{div_round_half_even, Currency, MICROS_PER_UNIT};

/// The currency's usual decimals: its ISO 4217 minor unit, except SEK, which
/// is shown with one decimal.
pub fn display_decimals(currency: Currency) -> u32 {
    match currency.code() {
        "SEK" => 1,
        _ => u32::from(currency.minor_digits()),
    }
}

/// The micro-units in one step of the currency's display precision: 10,000
/// for USD (cents), 100,000 for SEK (one decimal), 1,000,000 for JPY.
pub fn display_unit(currency: Currency) -> i64 {
    10i64.pow(6 - display_decimals(currency).min(6))
}

/// `micros` rounded half to even to the currency's display precision, still
/// in micro-units (`$1.005` gives 1,000,000).
pub fn round_to_display(micros: i64, currency: Currency) -> i64 {
    let unit = display_unit(currency);
    // |result| <= |micros| + unit / 2, which fits unless micros is at the edge.
    let units = div_round_half_even(i128::from(micros), i128::from(unit));
    i64::try_from(units * i128::from(unit)).unwrap_or(micros)
}

/// Formats a total for people, with symbol and thousands separators, rounded
/// half to even to the currency's usual decimals; a non-zero total below that
/// precision shows two significant digits instead of zero.
pub fn format_display(micros: i64, currency: Currency) -> String {
    let abs = (micros as i128).abs();
    let mut decimals = display_decimals(currency);
    let mut scaled = round_to(abs, decimals);
    let mut trim = false;
    if scaled == 0 && abs != 0 {
        // Two significant digits, never more precise than a micro-unit.
        decimals = 6;
        for d in 0..=6u32 {
            if abs * 10i128.pow(d) >= 10 * MICROS_PER_UNIT as i128 {
                decimals = d;
                break;
            }
        }
        scaled = round_to(abs, decimals);
        trim = true;
    }
    let mut number = group_thousands(scaled, decimals);
    if trim && number.contains('.') {
        number = number
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string();
    }
    with_symbol(micros < 0, &number, currency)
}

/// An entry's amount or a unit price, shown exactly (`$0.025`, `$1.40`,
/// `5.1 kr`, `¥1,234.5`): every decimal it has, trailing zeros trimmed, but
/// never fewer than the currency's usual decimals. Never rounded.
pub fn format_exact(micros: i64, currency: Currency) -> String {
    let abs = (micros as i128).abs();
    let exact = (0..=6u32)
        .find(|d| abs % 10i128.pow(6 - d) == 0)
        .unwrap_or(6);
    let decimals = exact.max(display_decimals(currency));
    let number = group_thousands(round_to(abs, decimals), decimals);
    with_symbol(micros < 0, &number, currency)
}

/// An entry's amount in a list: the fewest decimals (never fewer than the
/// currency's usual) that keep the shown figure within 1% of the exact one,
/// so a converted `2.634591 kr` shows as `2.63 kr` and `$0.0035` stays
/// whole. The exact figure is `format_exact`, shown on hover.
pub fn format_entry(micros: i64, currency: Currency) -> String {
    let abs = (micros as i128).abs();
    let mut decimals = display_decimals(currency);
    while decimals < 6 {
        let shown = round_to(abs, decimals) * 10i128.pow(6 - decimals);
        if (shown - abs).abs() * 100 <= abs {
            break;
        }
        decimals += 1;
    }
    let number = group_thousands(round_to(abs, decimals), decimals);
    with_symbol(micros < 0, &number, currency)
}

fn with_symbol(negative: bool, number: &str, currency: Currency) -> String {
    let sign = if negative { "-" } else { "" };
    let (before, after) = affixes(currency);
    format!("{sign}{before}{number}{after}")
}

/// What is written before and after an amount's number: `("$", "")`,
/// `("", " kr")`, `("NOK ", "")`.
pub fn affixes(currency: Currency) -> (String, String) {
    let (before, after) = match currency.code() {
        "USD" => ("$", ""),
        "EUR" => ("€", ""),
        "GBP" => ("£", ""),
        "JPY" => ("¥", ""),
        "SEK" => ("", " kr"),
        code => return (format!("{code} "), String::new()),
    };
    (before.to_string(), after.to_string())
}

/// `abs` micro-units rounded half to even to `decimals` places, as an integer
/// count of 10^-decimals units.
fn round_to(abs: i128, decimals: u32) -> i128 {
    let divisor = 10i128.pow(6 - decimals.min(6));
    div_round_half_even(abs, divisor)
}

fn group_thousands(scaled: i128, decimals: u32) -> String {
    let unit = 10i128.pow(decimals);
    let whole = (scaled / unit).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if decimals > 0 {
        let frac = scaled % unit;
        grouped.push('.');
        grouped.push_str(&format!("{frac:0width$}", width = decimals as usize));
    }
    grouped
}

#[cfg(test)]
mod tests {
    #[test]
    fn entries_hide_at_most_one_percent() {
        use super::format_entry;
        let sek = Currency::SEK;
        assert_eq!(format_entry(2_634_591, sek), "2.63 kr");
        assert_eq!(format_entry(25_000, Currency::USD), "$0.025");
        assert_eq!(format_entry(3_500, Currency::USD), "$0.0035");
        assert_eq!(format_entry(1_400_000, Currency::USD), "$1.40");
        assert_eq!(format_entry(5_100_000, sek), "5.1 kr");
        assert_eq!(format_entry(-12_345_678_900, Currency::USD), "-$12,345.68");
        assert_eq!(format_entry(0, Currency::USD), "$0.00");
    }

    use super::*;

    fn show(amount: &str, code: &str) -> String {
        let micros = super::super::parse_amount(amount).unwrap();
        format_display(micros, code.parse().unwrap())
    }

    #[test]
    fn normal_precision_per_currency() {
        assert_eq!(show("1234.56", "USD"), "$1,234.56");
        assert_eq!(show("1234.56", "EUR"), "€1,234.56");
        assert_eq!(show("1234.56", "SEK"), "1,234.6 kr");
        assert_eq!(show("5.1", "SEK"), "5.1 kr");
        assert_eq!(show("0", "USD"), "$0.00");
        assert_eq!(show("1234567", "NOK"), "NOK 1,234,567.00");
        assert_eq!(show("1500", "JPY"), "¥1,500");
        assert_eq!(show("1234.5", "JPY"), "¥1,234");
        assert_eq!(show("1235.5", "JPY"), "¥1,236");
        assert_eq!(show("12.35", "SEK"), "12.4 kr");
        assert_eq!(show("1.005", "USD"), "$1.00");
        assert_eq!(show("-2.5", "USD"), "-$2.50");
    }

    #[test]
    fn rounds_half_to_even_at_display_precision() {
        assert_eq!(show("0.125", "USD"), "$0.12");
        assert_eq!(show("0.135", "USD"), "$0.14");
        assert_eq!(show("0.25", "SEK"), "0.2 kr");
    }

    #[test]
    fn non_zero_never_shows_as_zero() {
        assert_eq!(show("0.004", "USD"), "$0.004");
        assert_eq!(show("0.0035", "USD"), "$0.0035");
        assert_eq!(show("0.0035", "EUR"), "€0.0035");
        assert_eq!(show("0.04", "SEK"), "0.04 kr");
        assert_eq!(show("0.003", "USD"), "$0.003");
        assert_eq!(show("0.001234", "USD"), "$0.0012");
        assert_eq!(show("0.000001", "USD"), "$0.000001");
        assert_eq!(show("-0.0035", "USD"), "-$0.0035");
        assert_eq!(show("0.4", "JPY"), "¥0.4");
        assert_eq!(show("0.0035", "SEK"), "0.0035 kr");
        assert_eq!(show("0.049", "SEK"), "0.049 kr");
        assert_eq!(show("0.05", "SEK"), "0.05 kr");
        assert_eq!(show("0.06", "SEK"), "0.1 kr");
    }

    fn exact(amount: &str, code: &str) -> String {
        let micros = super::super::parse_amount(amount).unwrap();
        format_exact(micros, code.parse().unwrap())
    }

    #[test]
    fn entry_amounts_show_exactly() {
        assert_eq!(exact("0.025", "USD"), "$0.025");
        assert_eq!(exact("0.0035", "USD"), "$0.0035");
        assert_eq!(exact("1.005", "USD"), "$1.005");
        assert_eq!(exact("0.000001", "USD"), "$0.000001");
        assert_eq!(exact("1234567.891011", "USD"), "$1,234,567.891011");
        assert_eq!(exact("-0.025", "USD"), "-$0.025");
        assert_eq!(exact("0.0035", "EUR"), "€0.0035");
        assert_eq!(exact("0.0035", "NOK"), "NOK 0.0035");
    }

    #[test]
    fn entry_amounts_keep_the_usual_decimals() {
        assert_eq!(exact("1.4", "USD"), "$1.40");
        assert_eq!(exact("1.40", "USD"), "$1.40");
        assert_eq!(exact("3", "USD"), "$3.00");
        assert_eq!(exact("0", "USD"), "$0.00");
        assert_eq!(exact("1234.56", "EUR"), "€1,234.56");
        // SEK's usual display is one decimal, and an entry shows no fewer.
        assert_eq!(exact("5.1", "SEK"), "5.1 kr");
        assert_eq!(exact("5", "SEK"), "5.0 kr");
        assert_eq!(exact("12.35", "SEK"), "12.35 kr");
        assert_eq!(exact("1234.56", "SEK"), "1,234.56 kr");
        // Yen has no decimals, but an amount that has them keeps them.
        assert_eq!(exact("1234.5", "JPY"), "¥1,234.5");
        assert_eq!(exact("1234", "JPY"), "¥1,234");
        assert_eq!(exact("0.4", "JPY"), "¥0.4");
    }

    #[test]
    fn totals_and_entries_differ_only_below_the_display_precision() {
        // A total rounds; the same amount as an entry shows exactly.
        assert_eq!(show("0.025", "USD"), "$0.02");
        assert_eq!(exact("0.025", "USD"), "$0.025");
        assert_eq!(show("1.005", "USD"), "$1.00");
        assert_eq!(exact("1.005", "USD"), "$1.005");
        assert_eq!(show("12.35", "SEK"), "12.4 kr");
        assert_eq!(exact("12.35", "SEK"), "12.35 kr");
        assert_eq!(show("1234.5", "JPY"), "¥1,234");
        assert_eq!(exact("1234.5", "JPY"), "¥1,234.5");
        assert_eq!(show("1234.56", "SEK"), "1,234.6 kr");
        // At the display precision both read the same.
        for (amount, code) in [("1.4", "USD"), ("5.1", "SEK"), ("1500", "JPY")] {
            assert_eq!(show(amount, code), exact(amount, code), "{amount} {code}");
        }
    }
}
