//! Amount cells as people and spreadsheets write them (`1 234,50`,
//! `1.234,50`, `$12.50`, `12,50 kr`, `(3.20)`) and as provider exports write
//! them (`0.003835980000000000000000000000`), read to exact micro-units.
//! A cell that could be read two ways is refused, never guessed.

use std::str::FromStr;

use crate::money::{div_round_half_even, Currency, MICROS_PER_UNIT};
use crate::service::limits::MAX_AMOUNT_UNITS;

/// How a column writes its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Written by a person or a spreadsheet: `.` or `,` as the decimal mark,
    /// thousands grouped by `,` `.` spaces or apostrophes.
    Written,
    /// Written by a program: `.` is the decimal mark, nothing is grouped, an
    /// exponent may follow (`6e-05`).
    Plain,
}

/// The currency a cell names itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    Code(Currency),
    /// `kr`: Swedish, Norwegian, Danish or Icelandic krona/krone.
    Krona,
    /// `¥`: Japanese yen or Chinese yuan.
    Yen,
}

impl Named {
    /// The code, or the symbol when the symbol alone does not say which
    /// currency it is.
    pub fn label(&self) -> &str {
        match self {
            Named::Code(c) => c.code(),
            Named::Krona => "kr",
            Named::Yen => "¥",
        }
    }

    fn candidates(self) -> &'static [&'static str] {
        match self {
            Named::Code(_) => &[],
            Named::Krona => &["SEK", "NOK", "DKK", "ISK"],
            Named::Yen => &["JPY", "CNY"],
        }
    }
}

/// An amount cell, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amount {
    pub micros: i64,
    /// The exact decimal the cell holds, every digit kept and nothing else
    /// (`-1234.5`, `0.00383598`): the same number written any other way
    /// gives the same text.
    pub exact: String,
    pub named: Option<Named>,
}

impl Amount {
    /// The cell as it goes into a row's content: the exact decimal and the
    /// currency the cell itself names, if it names one.
    #[cfg(test)]
    pub fn content(&self) -> String {
        let mut out = String::new();
        self.write_content(&mut out);
        out
    }

    pub fn write_content(&self, out: &mut String) {
        out.push_str(&self.exact);
        if let Some(n) = &self.named {
            out.push(' ');
            out.push_str(n.label());
        }
    }
}

/// Symbols that stand for one currency (the code) or a family (`kr`,
/// `¥`), longest first so `US$` is tried before `$`. `$` alone is the US
/// dollar.
const SYMBOLS: &[(&str, &str)] = &[
    ("US$", "USD"),
    ("kr.", "kr"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("kr", "kr"),
    ("¥", "¥"),
    ("￥", "¥"),
];

fn symbol_meaning(meaning: &str) -> Named {
    match meaning {
        "kr" => Named::Krona,
        "¥" => Named::Yen,
        code => Named::Code(Currency::from_str(code).unwrap_or(Currency::USD)),
    }
}

/// The largest magnitude an amount may have, in micro-units.
const MAX_MICROS: i128 = MAX_AMOUNT_UNITS as i128 * MICROS_PER_UNIT as i128;

/// Reads one non-empty amount cell. The error says what is wrong and how to
/// write it instead, without repeating the cell.
pub fn parse(cell: &str, style: Style) -> Result<Amount, String> {
    // Checked first: letters alone would otherwise be read as a currency
    // code, and `abc` refused as an unknown currency rather than as no number.
    if !cell.bytes().any(|b| b.is_ascii_digit()) {
        return Err("no number".into());
    }
    let mut s = cell.trim();
    let mut negative = false;
    let mut named = None;
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negative = true;
        s = inner.trim();
    }
    // Signs and a currency in front, in either order: `-$5`, `$-5`, `EUR -5`.
    loop {
        if let Some(rest) = s.strip_prefix('-').or_else(|| s.strip_prefix('\u{2212}')) {
            if negative {
                return Err("two minus signs".into());
            }
            negative = true;
            s = rest.trim_start();
        } else if let Some(rest) = s.strip_prefix('+') {
            s = rest.trim_start();
        } else if let Some((n, rest)) = marker_prefix(s)? {
            if named.replace(n).is_some() {
                return Err("names two currencies".into());
            }
            s = rest.trim_start();
        } else {
            break;
        }
    }
    if let Some((n, rest)) = marker_suffix(s)? {
        if named.replace(n).is_some() {
            return Err("names two currencies".into());
        }
        s = rest.trim_end();
    }
    if s.is_empty() {
        return Err("no number".into());
    }
    let (int, frac) = match style {
        Style::Written => split_written(s)?,
        Style::Plain => split_plain(s)?,
    };
    let micros = to_micros(&int, &frac)?;
    let nonzero = int.bytes().chain(frac.bytes()).any(|b| b != b'0');
    let negative = negative && nonzero;
    Ok(Amount {
        micros: if negative { -micros } else { micros },
        exact: exact_text(negative, &int, &frac),
        named,
    })
}

/// The currency of an amount cell given the currency the rest of the row
/// gives (`file`: its currency column or the amount column's header) and
/// `--currency` (`flag`). `Ok(None)`: the row names no currency, or only a
/// symbol that `--currency` settles, so the caller fills it from the flag.
pub fn resolve(
    named: Option<Named>,
    file: Option<Currency>,
    flag: Option<Currency>,
) -> Result<Option<Currency>, String> {
    let Some(named) = named else {
        return Ok(file);
    };
    if let Named::Code(c) = named {
        return match file {
            Some(f) if f != c => Err(format!("is in {c}, but the row's currency is {f}")),
            _ => Ok(Some(c)),
        };
    }
    let fits = |c: Currency| named.candidates().contains(&c.code());
    let family = match named.candidates() {
        [a, b] => format!("{a} or {b}"),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => String::new(),
    };
    match (file, flag) {
        (Some(f), _) if fits(f) => Ok(Some(f)),
        (Some(f), _) => Err(format!(
            "{} is {family}, but the row's currency is {f}",
            named.label()
        )),
        (None, Some(g)) if fits(g) => Ok(None),
        (None, _) => Err(format!(
            "{} could be {family}; choose the currency the file is in",
            named.label()
        )),
    }
}

/// A currency symbol or ISO code at the start of `s`, and what follows it.
fn marker_prefix(s: &str) -> Result<Option<(Named, &str)>, String> {
    for (symbol, meaning) in SYMBOLS {
        if let Some(head) = s.get(..symbol.len()) {
            if head.eq_ignore_ascii_case(symbol) {
                let rest = &s[symbol.len()..];
                if !starts_with_letter(rest) {
                    return Ok(Some((symbol_meaning(meaning), rest)));
                }
            }
        }
    }
    let letters = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    if letters == 3 && !starts_with_letter(&s[3..]) {
        return code(&s[..3]).map(|c| Some((Named::Code(c), &s[3..])));
    }
    Ok(None)
}

/// A currency symbol or ISO code at the end of `s`, and what precedes it.
fn marker_suffix(s: &str) -> Result<Option<(Named, &str)>, String> {
    for (symbol, meaning) in SYMBOLS {
        if s.len() >= symbol.len() && s.is_char_boundary(s.len() - symbol.len()) {
            let (rest, tail) = s.split_at(s.len() - symbol.len());
            if tail.eq_ignore_ascii_case(symbol) && !ends_with_letter(rest) {
                return Ok(Some((symbol_meaning(meaning), rest)));
            }
        }
    }
    let letters = s.bytes().rev().take_while(u8::is_ascii_alphabetic).count();
    if letters == 3 {
        let (rest, tail) = s.split_at(s.len() - 3);
        // `6e-05`-style exponents hold a letter but never three.
        return code(tail).map(|c| Some((Named::Code(c), rest)));
    }
    Ok(None)
}

fn code(text: &str) -> Result<Currency, String> {
    Currency::from_str(text).map_err(|_| {
        format!("unknown currency '{text}': expected an ISO 4217 code such as USD, EUR or SEK")
    })
}

fn starts_with_letter(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_alphabetic)
}

fn ends_with_letter(s: &str) -> bool {
    s.chars().next_back().is_some_and(char::is_alphabetic)
}

/// Spaces that group thousands: space, no-break space, narrow no-break
/// space, thin space.
fn is_space_group(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}')
}

/// Integer and fraction digits of a written number. One `.` or `,`
/// followed by exactly three digits, after one to three digits with no
/// other grouping, could be a decimal mark or a thousands separator: that
/// is refused.
fn split_written(s: &str) -> Result<(String, String), String> {
    if let Some(c) = s.chars().find(|&c| {
        !(c.is_ascii_digit() || c == '.' || c == ',' || is_space_group(c) || is_apostrophe(c))
    }) {
        return Err(format!(
            "'{c}' is not part of a number; write digits with one decimal mark, e.g. 1234.50 or 1 234,50"
        ));
    }
    let dots = s.matches('.').count();
    let commas = s.matches(',').count();
    let decimal = match (dots, commas) {
        (0, 0) => None,
        (d, c) if d > 0 && c > 0 => {
            let last = s.rfind(['.', ',']).map(|i| s.as_bytes()[i] as char);
            let count = if last == Some('.') { d } else { c };
            if count > 1 {
                return Err("has more than one decimal mark".into());
            }
            last
        }
        (1, 0) | (0, 1) => {
            let mark = if dots == 1 { '.' } else { ',' };
            let (int, frac) = s.split_once(mark).unwrap_or((s, ""));
            let grouped = int.chars().any(|c| is_space_group(c) || is_apostrophe(c));
            if !grouped
                && frac.len() == 3
                && (1..=3).contains(&int.len())
                && !int.starts_with('0')
                && frac.bytes().all(|b| b.is_ascii_digit())
            {
                let other = if mark == '.' { ',' } else { '.' };
                return Err(format!(
                    "ambiguous, could be {int}.{frac} or {int}{frac}; \
                     write {int}{frac} (or {int}{mark}{frac}{other}00) for the whole number, \
                     {int}{mark}{frac}0 for the decimal"
                ));
            }
            Some(mark)
        }
        // One mark, repeated: it groups thousands (`1,234,567`).
        _ => None,
    };
    let (int, frac) = match decimal {
        Some(mark) => s.split_once(mark).unwrap_or((s, "")),
        None => (s, ""),
    };
    if decimal.is_some() && (frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit())) {
        return Err("needs digits after the decimal mark".into());
    }
    let int = ungroup(int)?;
    if int.is_empty() && frac.is_empty() {
        return Err("no digits".into());
    }
    Ok((int, frac.to_string()))
}

/// The digits of an integer part, its thousands separators checked: one
/// kind of separator, a first group of one to three digits, then groups of
/// exactly three.
fn ungroup(int: &str) -> Result<String, String> {
    let kind = |c: char| {
        if is_space_group(c) {
            ' '
        } else if is_apostrophe(c) {
            '\''
        } else {
            c
        }
    };
    let mut separators = int.chars().filter(|c| !c.is_ascii_digit()).map(kind);
    let Some(first) = separators.next() else {
        return Ok(int.to_string());
    };
    if separators.any(|k| k != first) {
        return Err("mixes thousands separators".into());
    }
    let groups: Vec<&str> = int.split(|c: char| !c.is_ascii_digit()).collect();
    let well_grouped = groups.iter().enumerate().all(|(i, g)| {
        if i == 0 {
            (1..=3).contains(&g.len())
        } else {
            g.len() == 3
        }
    });
    if !well_grouped {
        return Err(
            "thousands separators must set off groups of three digits (1 234 567,50)".into(),
        );
    }
    Ok(groups.concat())
}

/// Integer and fraction digits of a machine-written number, with its
/// exponent applied.
fn split_plain(s: &str) -> Result<(String, String), String> {
    let malformed = || "expected a plain decimal number such as 0.0035".to_string();
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return Err(malformed());
    }
    if mantissa.ends_with('.') {
        return Err(malformed());
    }
    let Some(exponent) = exponent else {
        return Ok((int.to_string(), frac.to_string()));
    };
    let exp: i32 = match exponent.parse() {
        Ok(e) if (-60..=60).contains(&e) => e,
        _ => return Err(malformed()),
    };
    // Move the decimal point.
    let all = format!("{int}{frac}");
    let point = int.len() as i32 + exp;
    Ok(if point <= 0 {
        (
            String::new(),
            format!("{}{all}", "0".repeat(point.unsigned_abs() as usize)),
        )
    } else if point as usize >= all.len() {
        (
            format!("{all}{}", "0".repeat(point as usize - all.len())),
            String::new(),
        )
    } else {
        let (i, f) = all.split_at(point as usize);
        (i.to_string(), f.to_string())
    })
}

/// Micro-units of a magnitude; digits past the sixth decimal are rounded
/// half to even.
fn to_micros(int: &str, frac: &str) -> Result<i64, String> {
    let too_large = || format!("larger than the {MAX_AMOUNT_UNITS} allowed for one entry");
    let int = int.trim_start_matches('0');
    if int.len() > MAX_AMOUNT_UNITS.to_string().len() {
        return Err(too_large());
    }
    let units: i128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| too_large())?
    };
    let head = &frac.as_bytes()[..frac.len().min(6)];
    let head = head
        .iter()
        .fold(0i128, |v, b| v * 10 + i128::from(b - b'0'))
        * 10i128.pow(6 - head.len() as u32);
    let mut micros = units * i128::from(MICROS_PER_UNIT) + head;
    if frac.len() > 6 {
        // The seventh digit and whether anything follows it decide the
        // rounding exactly: (micros·10 + d7)·2 + sticky, over 20.
        let d7 = i128::from(frac.as_bytes()[6] - b'0');
        let sticky = i128::from(frac.as_bytes()[7..].iter().any(|&b| b != b'0'));
        micros = div_round_half_even((micros * 10 + d7) * 2 + sticky, 20);
    }
    if micros > MAX_MICROS {
        return Err(too_large());
    }
    i64::try_from(micros).map_err(|_| too_large())
}

fn exact_text(negative: bool, int: &str, frac: &str) -> String {
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let mut out = String::with_capacity(int.len() + frac.len() + 3);
    if negative {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(cell: &str) -> Result<(i64, Option<Named>), String> {
        parse(cell, Style::Written).map(|a| (a.micros, a.named))
    }

    fn usd() -> Option<Named> {
        Some(Named::Code(Currency::USD))
    }

    #[test]
    fn plain_and_grouped_numbers() {
        for (cell, micros) in [
            ("12.50", 12_500_000),
            ("-3.2", -3_200_000),
            ("12,50", 12_500_000),
            ("1 234,50", 1_234_500_000),
            ("1\u{a0}234,50", 1_234_500_000),
            ("1\u{202f}234,50", 1_234_500_000),
            ("1.234,50", 1_234_500_000),
            ("1,234.50", 1_234_500_000),
            ("1,234,567", 1_234_567_000_000),
            ("1.234.567,5", 1_234_567_500_000),
            ("1'234.50", 1_234_500_000),
            ("1 234", 1_234_000_000),
            ("1 234,567", 1_234_567_000),
            ("0,500", 500_000),
            ("0.125", 125_000),
            ("1234,567", 1_234_567_000),
            ("12.5", 12_500_000),
            (".5", 500_000),
            ("9", 9_000_000),
            ("0", 0),
            ("-0,00", 0),
            ("+4", 4_000_000),
            ("\u{2212}4,5", -4_500_000),
            ("(12.50)", -12_500_000),
            ("  7,25  ", 7_250_000),
        ] {
            assert_eq!(written(cell), Ok((micros, None)), "{cell:?}");
        }
    }

    #[test]
    fn currency_symbols_and_codes_before_or_after() {
        let sek = Some(Named::Code(Currency::SEK));
        let eur = Some(Named::Code(Currency::EUR));
        for (cell, micros, named) in [
            ("$12.50", 12_500_000, usd()),
            ("-$12.50", -12_500_000, usd()),
            ("$-12.50", -12_500_000, usd()),
            ("US$ 3", 3_000_000, usd()),
            ("€9", 9_000_000, eur),
            ("9 €", 9_000_000, eur),
            ("£3", 3_000_000, Some(Named::Code("GBP".parse().unwrap()))),
            ("12,50 kr", 12_500_000, Some(Named::Krona)),
            ("12,50 Kr.", 12_500_000, Some(Named::Krona)),
            ("kr 12,50", 12_500_000, Some(Named::Krona)),
            ("EUR 9", 9_000_000, eur),
            ("9 EUR", 9_000_000, eur),
            ("9EUR", 9_000_000, eur),
            ("usd 3", 3_000_000, usd()),
            ("SEK -1 234,50", -1_234_500_000, sek),
            ("1 234,50 SEK", 1_234_500_000, sek),
            ("(SEK 5)", -5_000_000, sek),
            ("¥1200", 1_200_000_000, Some(Named::Yen)),
        ] {
            assert_eq!(written(cell), Ok((micros, named)), "{cell:?}");
        }
    }

    #[test]
    fn ambiguous_cells_are_refused_with_how_to_write_them() {
        assert_eq!(
            written("1,234").unwrap_err(),
            "ambiguous, could be 1.234 or 1234; write 1234 (or 1,234.00) for the whole \
             number, 1,2340 for the decimal"
        );
        assert_eq!(
            written("1.234").unwrap_err(),
            "ambiguous, could be 1.234 or 1234; write 1234 (or 1.234,00) for the whole \
             number, 1.2340 for the decimal"
        );
        for cell in ["12.500", "-999,000", "$1,000", "100.000 kr"] {
            assert!(
                written(cell).unwrap_err().starts_with("ambiguous"),
                "{cell:?}"
            );
        }
    }

    #[test]
    fn malformed_cells_are_refused() {
        for cell in [
            "abc",
            "1.2.3,4",
            "1,2,3.4.5",
            "12.",
            "1,23,456",
            "1 23",
            "1.234 567",
            "--5",
            "(-5)",
            "$5 €",
            "1e5",
            "12,50 XYZ",
            "XYZ 12",
            "five",
            "1 234.567.8",
            "",
            "$",
            "-",
        ] {
            assert!(written(cell).is_err(), "{cell:?} should be refused");
        }
        assert_eq!(
            written("12,50 XYZ").unwrap_err(),
            "unknown currency 'XYZ': expected an ISO 4217 code such as USD, EUR or SEK"
        );
        for cell in ["abc", "five", "USD", "$", " "] {
            assert_eq!(written(cell).unwrap_err(), "no number", "{cell:?}");
        }
    }

    #[test]
    fn more_than_six_decimals_round_half_to_even() {
        let plain = |cell: &str| parse(cell, Style::Plain).unwrap();
        let a = plain("0.003835980000000000000000000000");
        assert_eq!((a.micros, a.exact.as_str()), (3_836, "0.00383598"));
        assert_eq!(plain("0.0000005").micros, 0);
        assert_eq!(plain("0.0000015").micros, 2);
        assert_eq!(plain("0.0000025").micros, 2);
        assert_eq!(plain("0.00000250000000000000000000001").micros, 3);
        assert_eq!(plain("0.0000024999999999999999999999").micros, 2);
        assert_eq!(plain("-0.0000025").micros, -2);
        assert_eq!(plain("-0.0000035").micros, -4);
        assert_eq!(plain("1.9999995").micros, 2_000_000);
        assert_eq!(plain("0.0000004").exact, "0.0000004");
        // A rounded-away amount is still zero, never negative zero.
        assert_eq!(plain("-0.0000001").exact, "-0.0000001");
        assert_eq!(plain("-0.0000001").micros, 0);
        assert_eq!(written("0,1234565").map(|a| a.0), Ok(123_456));
        assert_eq!(written("0,1234575").map(|a| a.0), Ok(123_458));
    }

    #[test]
    fn plain_numbers_never_group_and_may_have_an_exponent() {
        let plain = |cell: &str| parse(cell, Style::Plain).map(|a| (a.micros, a.exact));
        assert_eq!(plain("12.345"), Ok((12_345_000, "12.345".into())));
        assert_eq!(plain("1234"), Ok((1_234_000_000, "1234".into())));
        assert_eq!(plain("6e-05"), Ok((60, "0.00006".into())));
        assert_eq!(plain("1.5E3"), Ok((1_500_000_000, "1500".into())));
        assert_eq!(plain("-2.5e-6"), Ok((-2, "-0.0000025".into())));
        for bad in ["1,5", "1 234", "1.", "e5", "1e", "1e999", "0x10", "1.2.3"] {
            assert!(plain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_amount_limit_holds() {
        assert_eq!(
            written("1 000 000 000").map(|a| a.0),
            Ok(1_000_000_000_000_000)
        );
        assert_eq!(
            written("-1000000000").map(|a| a.0),
            Ok(-1_000_000_000_000_000)
        );
        for cell in [
            "1000000000,000001",
            "1 000 000 001",
            "99999999999999999999999",
        ] {
            assert_eq!(
                written(cell).unwrap_err(),
                "larger than the 1000000000 allowed for one entry",
                "{cell:?}"
            );
        }
        assert!(parse("1e12", Style::Plain).is_err());
    }

    #[test]
    fn the_same_number_written_any_way_has_one_exact_text() {
        for cell in ["1234.5", "1 234,50", "1.234,500", "1,234.5", "001234.50"] {
            assert_eq!(
                parse(cell, Style::Written).unwrap().exact,
                "1234.5",
                "{cell:?}"
            );
        }
        assert_eq!(
            parse("$12.50", Style::Written).unwrap().content(),
            "12.5 USD"
        );
        assert_eq!(
            parse("12,50 kr", Style::Written).unwrap().content(),
            "12.5 kr"
        );
        assert_eq!(parse("-0", Style::Written).unwrap().exact, "0");
    }

    #[test]
    fn krona_and_yen_need_a_currency_to_say_which() {
        let sek = Currency::SEK;
        let nok: Currency = "NOK".parse().unwrap();
        let kr = Some(Named::Krona);
        assert_eq!(resolve(kr, None, Some(sek)), Ok(None));
        assert_eq!(resolve(kr, Some(nok), None), Ok(Some(nok)));
        assert_eq!(resolve(kr, Some(nok), Some(sek)), Ok(Some(nok)));
        assert_eq!(
            resolve(kr, None, None).unwrap_err(),
            "kr could be SEK, NOK, DKK or ISK; choose the currency the file is in"
        );
        assert_eq!(
            resolve(kr, None, Some(Currency::EUR)).unwrap_err(),
            "kr could be SEK, NOK, DKK or ISK; choose the currency the file is in"
        );
        assert_eq!(
            resolve(kr, Some(Currency::EUR), Some(sek)).unwrap_err(),
            "kr is SEK, NOK, DKK or ISK, but the row's currency is EUR"
        );
        let jpy: Currency = "JPY".parse().unwrap();
        assert_eq!(resolve(Some(Named::Yen), None, Some(jpy)), Ok(None));
        assert!(resolve(Some(Named::Yen), None, None).is_err());
    }

    #[test]
    fn a_code_in_the_cell_must_agree_with_the_row() {
        let usd = Some(Named::Code(Currency::USD));
        assert_eq!(resolve(usd, None, None), Ok(Some(Currency::USD)));
        // --currency never overrides what the file says.
        assert_eq!(
            resolve(usd, None, Some(Currency::EUR)),
            Ok(Some(Currency::USD))
        );
        assert_eq!(
            resolve(usd, Some(Currency::EUR), None).unwrap_err(),
            "is in USD, but the row's currency is EUR"
        );
        assert_eq!(
            resolve(None, Some(Currency::EUR), None),
            Ok(Some(Currency::EUR))
        );
        assert_eq!(resolve(None, None, Some(Currency::EUR)), Ok(None));
    }
}
