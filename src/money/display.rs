//! Human display of amounts: `$1,234.56`, `€1,234.56`, `1,234.6 kr`.
//! Written here rather than taken from a crate because a non-zero amount must
//! never display as zero: below the normal precision it shows two significant
//! digits (`$0.0035`, `0.04 kr`).

use super::{div_round_half_even, Currency, MICROS_PER_UNIT};

/// Decimals shown at normal precision. SEK is shown with one decimal.
fn display_decimals(currency: Currency) -> u32 {
    match currency.code() {
        "SEK" => 1,
        _ => u32::from(currency.minor_digits()),
    }
}

/// Formats an amount for people, with symbol, thousands separators and the
/// currency's usual decimals.
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

/// A unit price shown exactly (`$0.025`, `$1.40`, `0.0035 kr`): at least the
/// usual decimals, more when the price has them, never rounded.
pub fn format_price(micros: i64, currency: Currency) -> String {
    let abs = (micros as i128).abs();
    let exact = (0..=6u32)
        .find(|d| abs % 10i128.pow(6 - d) == 0)
        .unwrap_or(6);
    let decimals = exact.max(u32::from(currency.minor_digits()));
    let number = group_thousands(round_to(abs, decimals), decimals);
    with_symbol(micros < 0, &number, currency)
}

fn with_symbol(negative: bool, number: &str, currency: Currency) -> String {
    let sign = if negative { "-" } else { "" };
    match currency.code() {
        "USD" => format!("{sign}${number}"),
        "EUR" => format!("{sign}€{number}"),
        "GBP" => format!("{sign}£{number}"),
        "JPY" => format!("{sign}¥{number}"),
        "SEK" => format!("{sign}{number} kr"),
        code => format!("{sign}{code} {number}"),
    }
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

    #[test]
    fn unit_prices_show_exactly() {
        let price = |amount: &str, code: &str| {
            format_price(
                super::super::parse_amount(amount).unwrap(),
                code.parse().unwrap(),
            )
        };
        assert_eq!(price("0.025", "USD"), "$0.025");
        assert_eq!(price("1.4", "USD"), "$1.40");
        assert_eq!(price("0.0035", "EUR"), "€0.0035");
        assert_eq!(price("1234.5", "SEK"), "1,234.50 kr");
    }
}
