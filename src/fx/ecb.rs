//! Parsers for ECB's published reference-rate files: the daily and
//! historical XML (`eurofxref-daily.xml`, `eurofxref-hist.xml`), the
//! historical CSV (`eurofxref-hist.csv`) and either one zipped.
//!
//! Real files have rows newest first, a trailing comma on every CSV line,
//! `N/A` for currencies not quoted that day, and columns whose set and order
//! changed over the years, so CSV columns are found by header name. Columns
//! of retired currencies (CYP, EEK, LTL, ...) that ISO 4217 no longer lists
//! are skipped and reported.

use super::{DayRate, Rate};
use crate::money::Currency;
use crate::timestamp::parse_day;
use quick_xml::events::{BytesStart, Event};
use std::collections::BTreeSet;
use std::io::Read;

/// The largest ECB file read, downloaded or unzipped: ECB's whole history
/// as CSV is about 15 MB.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The rates found in a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub rates: Vec<DayRate>,
    /// Currency columns skipped because ISO 4217 no longer lists them.
    pub skipped: BTreeSet<String>,
}

impl Parsed {
    pub fn days(&self) -> BTreeSet<i64> {
        self.rates.iter().map(|r| r.day).collect()
    }
}

/// A file that is not a well-formed ECB rates file; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", match .line { Some(line) => format!("line {line}: {}", .message), None => .message.clone() })]
pub struct ParseError {
    pub line: Option<usize>,
    pub message: String,
}

fn at_line(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line: Some(line),
        message: message.into(),
    }
}

fn whole_file(message: impl Into<String>) -> ParseError {
    ParseError {
        line: None,
        message: message.into(),
    }
}

/// Reads any of ECB's formats, told apart by their content.
pub fn parse(bytes: &[u8]) -> Result<Parsed, ParseError> {
    if bytes.starts_with(ZIP_MAGIC) {
        parse_zip(bytes, MAX_FILE_BYTES)
    } else {
        parse_text(bytes)
    }
}

/// The first bytes of a zip archive (a local file header).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// A CSV or XML file, told apart by its first character.
fn parse_text(bytes: &[u8]) -> Result<Parsed, ParseError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| whole_file(format!("not UTF-8 text (byte {})", e.valid_up_to())))?;
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with('<') {
        parse_xml(text)
    } else {
        parse_csv(text)
    }
}

/// The one CSV or XML file inside an ECB zip (`eurofxref-hist.zip`), read
/// up to `limit` bytes unzipped: the bytes are counted as they come out,
/// whatever size the headers declare. An archive inside the archive is
/// refused rather than opened.
fn parse_zip(bytes: &[u8], limit: u64) -> Result<Parsed, ParseError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| whole_file(format!("unreadable zip archive: {e}")))?;
    let names: Vec<String> = archive
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| whole_file(format!("unreadable zip archive: {e}")))?;
    if let Some(nested) = names
        .iter()
        .find(|n| n.to_ascii_lowercase().ends_with(".zip"))
    {
        return Err(nested_archive(nested));
    }
    let Some(name) = names.iter().find(|n| {
        let lower = n.to_ascii_lowercase();
        lower.ends_with(".csv") || lower.ends_with(".xml")
    }) else {
        return Err(whole_file(format!(
            "the zip archive holds no .csv or .xml file (found: {})",
            names.join(", ")
        )));
    };
    let cannot_read = |e: &dyn std::fmt::Display| {
        whole_file(format!("cannot read {name} in the zip archive: {e}"))
    };
    let too_large = || {
        whole_file(format!(
            "{name} in the zip archive is larger than the {} limit once unzipped",
            byte_size(limit)
        ))
    };
    let entry = archive.by_name(name).map_err(|e| cannot_read(&e))?;
    let mut inner = Vec::new();
    entry
        .take(limit.saturating_add(1))
        .read_to_end(&mut inner)
        .map_err(|e| cannot_read(&e))?;
    if inner.len() as u64 > limit {
        return Err(too_large());
    }
    if inner.starts_with(ZIP_MAGIC) {
        return Err(nested_archive(name));
    }
    parse_text(&inner).map_err(|e| ParseError {
        line: e.line,
        message: format!("{name} in the zip archive: {}", e.message),
    })
}

fn nested_archive(name: &str) -> ParseError {
    whole_file(format!(
        "{name} in the zip archive is itself a zip archive; unzip it first"
    ))
}

/// `64 MiB`, `1 KiB`, `1500 bytes`.
fn byte_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// `eurofxref-hist.csv`: `Date,USD,JPY,...,` then one row per day.
pub fn parse_csv(text: &str) -> Result<Parsed, ParseError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(at_line(1, format!("unreadable header: {e}"))),
        None => return Err(whole_file("the file is empty")),
    };
    if !header
        .get(0)
        .is_some_and(|h| h.eq_ignore_ascii_case("date"))
    {
        return Err(at_line(
            1,
            "expected a header starting with 'Date' (an ECB eurofxref-hist.csv file)",
        ));
    }
    // The currency of each column, or None for skipped and trailing empty columns.
    let mut skipped = BTreeSet::new();
    let mut columns: Vec<Option<Currency>> = Vec::with_capacity(header.len());
    for (i, name) in header.iter().enumerate().skip(1) {
        if name.is_empty() {
            if i + 1 == header.len() {
                columns.push(None);
                continue;
            }
            return Err(at_line(1, format!("column {} has no currency code", i + 1)));
        }
        if name.len() != 3 || !name.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(at_line(
                1,
                format!("column {}: '{name}' is not a currency code", i + 1),
            ));
        }
        match name.parse::<Currency>() {
            Ok(c) if columns.contains(&Some(c)) => {
                return Err(at_line(1, format!("currency {name} appears twice")));
            }
            Ok(c) => columns.push(Some(c)),
            Err(_) => {
                skipped.insert(name.to_string());
                columns.push(None);
            }
        }
    }
    let mut rates = Vec::new();
    let mut seen_days = BTreeSet::new();
    for record in records {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            at_line(line, format!("unreadable row: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let date = record.get(0).unwrap_or("");
        let day = new_day(&mut seen_days, date, line)?;
        let cells = record.len() - 1;
        if cells > columns.len() && record.iter().skip(columns.len() + 1).any(|c| !c.is_empty()) {
            return Err(at_line(
                line,
                format!(
                    "{cells} values but the header names {} columns",
                    columns.len()
                ),
            ));
        }
        for (cell, column) in record.iter().skip(1).zip(&columns) {
            let Some(currency) = column else { continue };
            if cell.is_empty() || cell == "N/A" {
                continue;
            }
            let rate = Rate::parse(cell)
                .map_err(|e| at_line(line, format!("{currency} on {date}: {e}")))?;
            rates.push(DayRate {
                currency: *currency,
                day,
                rate,
            });
        }
    }
    if seen_days.is_empty() {
        return Err(whole_file("the file holds a header but no rates"));
    }
    Ok(Parsed { rates, skipped })
}

/// `eurofxref-daily.xml` / `eurofxref-hist.xml`: `<Cube time='...'>` holding
/// `<Cube currency='USD' rate='1.0705'/>` elements.
pub fn parse_xml(text: &str) -> Result<Parsed, ParseError> {
    let line_of = |pos: u64| {
        text.as_bytes()[..(pos as usize).min(text.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    };
    let mut reader = quick_xml::Reader::from_str(text);
    let mut day: Option<(i64, String)> = None;
    let mut seen_days = BTreeSet::new();
    let mut rates = Vec::new();
    let mut skipped = BTreeSet::new();
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            at_line(
                line_of(reader.error_position()),
                format!("malformed XML: {e}"),
            )
        })?;
        let element = match &event {
            Event::Start(e) | Event::Empty(e) => e,
            Event::Eof => break,
            _ => continue,
        };
        if element.local_name().as_ref() != "Cube" {
            continue;
        }
        let line = line_of(position);
        let attrs = attributes(element).map_err(|m| at_line(line, m))?;
        let get = |name: &str| {
            attrs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if let Some(time) = get("time") {
            let parsed = new_day(&mut seen_days, time, line)?;
            day = Some((parsed, time.to_string()));
        } else if let Some(code) = get("currency") {
            let Some((day, date)) = &day else {
                return Err(at_line(
                    line,
                    "a currency rate outside a dated <Cube time=...>",
                ));
            };
            let rate_text = get("rate")
                .ok_or_else(|| at_line(line, format!("{code} on {date} has no rate")))?;
            let Ok(currency) = code.parse::<Currency>() else {
                skipped.insert(code.to_string());
                continue;
            };
            let rate = Rate::parse(rate_text)
                .map_err(|e| at_line(line, format!("{currency} on {date}: {e}")))?;
            rates.push(DayRate {
                currency,
                day: *day,
                rate,
            });
        }
    }
    if rates.is_empty() {
        return Err(whole_file(
            "no rates found: expected ECB <Cube time=...><Cube currency=... rate=.../> elements",
        ));
    }
    Ok(Parsed { rates, skipped })
}

/// The day a row or `<Cube time=...>` starts, refusing a malformed date and
/// a date that appears twice in one file.
fn new_day(seen: &mut BTreeSet<i64>, date: &str, line: usize) -> Result<i64, ParseError> {
    let day = parse_day(date).ok_or_else(|| {
        at_line(
            line,
            format!("malformed date '{date}': expected YYYY-MM-DD"),
        )
    })?;
    if !seen.insert(day) {
        return Err(at_line(line, format!("date {date} appears twice")));
    }
    Ok(day)
}

fn attributes(element: &BytesStart) -> Result<Vec<(String, String)>, String> {
    element
        .attributes()
        .map(|a| {
            let a = a.map_err(|e| format!("malformed attribute: {e}"))?;
            let key = a.key.local_name().as_ref().to_string();
            let value = a.value.trim().to_string();
            Ok((key, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines as ECB publishes them (2019 excerpt): newest first, trailing
    // comma, N/A for currencies not quoted.
    const HIST: &str = "Date,USD,JPY,BGN,CYP,CZK,DKK,EEK,GBP,HUF,LTL,LVL,MTL,PLN,ROL,RON,SEK,SIT,SKK,CHF,ISK,NOK,HRK,RUB,TRL,TRY,AUD,BRL,CAD,CNY,HKD,IDR,ILS,INR,KRW,MXN,MYR,NZD,PHP,SGD,THB,ZAR,\n\
2019-04-10,1.1279,125.38,1.9558,N/A,25.608,7.4652,N/A,0.86083,321.84,N/A,N/A,N/A,4.2833,N/A,4.7605,10.44,N/A,N/A,1.128,134.2,9.5895,7.4253,72.86,N/A,6.4144,1.5785,4.3301,1.5032,7.5758,8.8405,15959.79,4.0351,77.9945,1283.09,21.2783,4.6328,1.6697,58.543,1.5258,35.839,15.7391,\n\
2019-04-09,1.1277,125.51,1.9558,N/A,25.618,7.465,N/A,0.86335,321.5,N/A,N/A,N/A,4.287,N/A,4.761,10.425,N/A,N/A,1.127,133.8,9.619,7.4342,73.0029,N/A,6.4056,1.5781,4.3471,1.4984,7.5688,8.844,15937.78,4.0346,78.188,1284.96,21.3479,4.622,1.6718,58.682,1.5255,35.804,15.8215,\n";

    fn c(code: &str) -> Currency {
        code.parse().unwrap()
    }

    fn rate_of(parsed: &Parsed, code: &str, date: &str) -> Option<String> {
        let day = parse_day(date).unwrap();
        parsed
            .rates
            .iter()
            .find(|r| r.currency == c(code) && r.day == day)
            .map(|r| r.rate.decimal())
    }

    #[test]
    fn historical_csv_by_header_name() {
        let parsed = parse(HIST.as_bytes()).unwrap();
        assert_eq!(
            rate_of(&parsed, "SEK", "2019-04-10").as_deref(),
            Some("10.44")
        );
        assert_eq!(
            rate_of(&parsed, "GBP", "2019-04-09").as_deref(),
            Some("0.86335")
        );
        assert!(parsed.skipped.contains("CYP") && parsed.skipped.contains("HRK"));
        assert_eq!(parsed.days().len(), 2);
        // 31 quoted, ISO-listed currencies per day (HRK was quoted but is retired).
        assert_eq!(parsed.rates.len(), 62);
    }

    #[test]
    fn column_order_does_not_matter() {
        let text = "Date,SEK,USD,\n2019-04-10,10.44,1.1279,\n";
        let parsed = parse(text.as_bytes()).unwrap();
        assert_eq!(
            rate_of(&parsed, "USD", "2019-04-10").as_deref(),
            Some("1.1279")
        );
        assert_eq!(
            rate_of(&parsed, "SEK", "2019-04-10").as_deref(),
            Some("10.44")
        );
    }

    #[test]
    fn malformed_csv_names_the_line() {
        let bad = "Date,USD,SEK,\n2019-04-10,1.1279,10.44,\n2019-04-09,1.1277,ten,\n";
        let err = parse(bad.as_bytes()).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(
            err.to_string().starts_with("line 3: SEK on 2019-04-09"),
            "{err}"
        );
        let bad_date = "Date,USD,\n2019-04-10,1.1279,\n10/04/2019,1.1,\n";
        assert_eq!(parse(bad_date.as_bytes()).unwrap_err().line, Some(3));
        let negative = "Date,USD,\n2019-04-10,-1.1279,\n";
        assert_eq!(parse(negative.as_bytes()).unwrap_err().line, Some(2));
        let not_ecb = "Name,Amount\nx,1\n";
        assert_eq!(parse(not_ecb.as_bytes()).unwrap_err().line, Some(1));
    }

    #[test]
    fn daily_xml() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gesmes:Envelope xmlns:gesmes=\"http://www.gesmes.org/xml/2002-08-01\" xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/eurofxref\">\n\t<gesmes:subject>Reference rates</gesmes:subject>\n\t<Cube>\n\t\t<Cube time='2024-06-28'>\n\t\t\t<Cube currency='USD' rate='1.0705'/>\n\t\t\t<Cube currency='SEK' rate='11.3595'/>\n\t\t</Cube>\n\t</Cube>\n</gesmes:Envelope>\n";
        let parsed = parse(xml.as_bytes()).unwrap();
        assert_eq!(
            rate_of(&parsed, "SEK", "2024-06-28").as_deref(),
            Some("11.3595")
        );
        assert_eq!(parsed.rates.len(), 2);
        let broken = xml.replace("rate='11.3595'", "rate='11,3595'");
        let err = parse(broken.as_bytes()).unwrap_err();
        assert_eq!(err.line, Some(7), "{err}");
    }

    /// A zip archive holding `entries` (name, content), deflated.
    fn zipped(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in entries {
            writer.start_file(*name, options).unwrap();
            std::io::Write::write_all(&mut writer, content).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn zipped_csv() {
        let archive = zipped(&[("eurofxref-hist.csv", HIST.as_bytes())]);
        let parsed = parse(&archive).unwrap();
        assert_eq!(parsed, parse(HIST.as_bytes()).unwrap());
        assert_eq!(
            parse_zip(&archive, HIST.len() as u64).unwrap(),
            parse(HIST.as_bytes()).unwrap()
        );
    }

    #[test]
    fn zipped_file_over_the_limit_is_refused() {
        // The archive itself is under the limit; only its unzipped size is not.
        let big = format!("{}{}", HIST, "\n".repeat(4096));
        let archive = zipped(&[("eurofxref-hist.csv", big.as_bytes())]);
        assert!(archive.len() < 1024, "{}", archive.len());
        let err = parse_zip(&archive, 1024).unwrap_err();
        assert_eq!(err.line, None);
        assert_eq!(
            err.to_string(),
            "eurofxref-hist.csv in the zip archive is larger than the 1 KiB limit once unzipped"
        );
        assert!(parse_zip(&archive, big.len() as u64).is_ok());
        assert!(parse_zip(&archive, big.len() as u64 - 1).is_err());
    }

    #[test]
    fn a_declared_size_under_the_limit_is_not_trusted() {
        let big = format!("{}{}", HIST, "\n".repeat(4096));
        let mut archive = zipped(&[("eurofxref-hist.csv", big.as_bytes())]);
        // Both headers claim 10 bytes unzipped: the local file header at
        // the start (size at offset 22) and the central directory header
        // (signature PK\x01\x02, size at offset 24).
        let claimed = 10u32.to_le_bytes();
        archive[22..26].copy_from_slice(&claimed);
        let central = archive
            .windows(4)
            .rposition(|w| w == b"PK\x01\x02")
            .unwrap();
        archive[central + 24..central + 28].copy_from_slice(&claimed);
        let err = parse_zip(&archive, 1024).unwrap_err();
        assert_eq!(err.line, None);
        assert!(
            err.to_string()
                .starts_with("cannot read eurofxref-hist.csv in the zip archive: "),
            "{err}"
        );
    }

    #[test]
    fn nested_archives_are_refused() {
        let inner = zipped(&[("eurofxref-hist.csv", HIST.as_bytes())]);
        let by_name = zipped(&[("eurofxref-hist.zip", &inner)]);
        let err = parse(&by_name).unwrap_err();
        assert_eq!(
            err.to_string(),
            "eurofxref-hist.zip in the zip archive is itself a zip archive; unzip it first"
        );
        let by_content = zipped(&[("eurofxref-hist.csv", &inner)]);
        let err = parse(&by_content).unwrap_err();
        assert_eq!(
            err.to_string(),
            "eurofxref-hist.csv in the zip archive is itself a zip archive; unzip it first"
        );
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(byte_size(MAX_FILE_BYTES), "64 MiB");
        assert_eq!(byte_size(1024), "1 KiB");
        assert_eq!(byte_size(1000), "1000 bytes");
    }
}
