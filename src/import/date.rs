//! Date cells: ISO dates and times (UTC unless they carry an offset), RFC
//! 3339, Unix seconds, and any other shape only through an explicit
//! strftime-style `--date-format`, since `03/11/2026` is the 3rd of November
//! in one country and the 11th of March in another.

use crate::timestamp::Timestamp;

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// Checks a `--date-format` before any row is read: jiff must know every
/// directive, and the format must name a day.
pub fn check_format(format: &str) -> Result<(), String> {
    let sample = jiff::civil::date(2026, 11, 3)
        .at(14, 30, 5, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| e.to_string())?;
    let text = jiff::fmt::strtime::format(format, &sample).map_err(|e| e.to_string())?;
    let tm = jiff::fmt::strtime::parse(format, &text).map_err(|e| e.to_string())?;
    if tm.timestamp().is_none() && tm.to_date().is_err() {
        return Err("it names no day (a year, month and day such as %Y-%m-%d)".into());
    }
    Ok(())
}

/// Reads one non-empty date cell. The error says what is wrong and how to
/// write it instead, without repeating the cell.
pub fn parse(cell: &str, format: Option<&str>) -> Result<Timestamp, String> {
    let text = cell.trim();
    if let Some(format) = format {
        if let Some(micros) = with_format(format, text) {
            return Timestamp::from_micros(micros).map_err(|_| "out of range".to_string());
        }
    }
    let micros = match iso(text) {
        Some(result) => result?,
        None => {
            let all_digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
            if all_digits && (9..=11).contains(&text.len()) {
                unix_seconds(text)?
            } else {
                return Err(unread(text, all_digits, format));
            }
        }
    };
    Timestamp::from_micros(micros).map_err(|_| "out of range".to_string())
}

fn with_format(format: &str, text: &str) -> Option<i64> {
    let tm = jiff::fmt::strtime::parse(format, text).ok()?;
    if let Some(ts) = tm.timestamp() {
        return Some(ts.as_microsecond());
    }
    // No offset in the format: the time is UTC, as everywhere in gencost.
    let dt = tm.to_datetime().ok()?;
    let offset = tm.offset().unwrap_or(jiff::tz::Offset::UTC);
    offset.to_timestamp(dt).ok().map(|ts| ts.as_microsecond())
}

fn unix_seconds(text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .ok()
        .and_then(|s| s.checked_mul(MICROS_PER_SECOND))
        .ok_or_else(|| "out of range".to_string())
}

/// Why a cell that is no date gencost reads on its own was refused.
fn unread(text: &str, all_digits: bool, format: Option<&str>) -> String {
    if let Some(format) = format {
        return format!("does not match the date format '{format}'");
    }
    if all_digits {
        return if text.len() <= 6 {
            "looks like a spreadsheet's day number; format the column as dates \
             (2026-11-03) before saving"
                .into()
        } else {
            "a number, but Unix seconds have 9 to 11 digits".into()
        };
    }
    if let Some((sep, short_year)) = day_month_shape(text) {
        let year = if short_year { "%y" } else { "%Y" };
        return format!(
            "day and month order unknown; choose the date format '%d{sep}%m{sep}{year}' \
             (or '%m{sep}%d{sep}{year}')"
        );
    }
    "not a date; write 2026-11-03, 2026-11-03 14:30 or RFC 3339 \
     (2026-11-03T14:30:00Z), or choose a date format"
        .into()
}

/// `03/11/2026`, `3.11.26`, `11-03-2026 14:30`: the separator and whether
/// the year has two digits.
fn day_month_shape(text: &str) -> Option<(char, bool)> {
    let date = text.split([' ', 'T']).next()?;
    let sep = date.chars().find(|c| matches!(c, '/' | '.' | '-'))?;
    let parts: Vec<&str> = date.split(sep).collect();
    let numeric = |p: &&&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [a, b, y] if [a, b, y].iter().all(numeric) && a.len() <= 2 && b.len() <= 2 => {
            matches!(y.len(), 2 | 4).then_some((sep, y.len() == 2))
        }
        _ => None,
    }
}

/// A cursor over the bytes of an ISO date or time.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let run = self.bytes[self.at..]
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if run < min {
            return None;
        }
        let value = self.bytes[self.at..self.at + run]
            .iter()
            .fold(0u32, |v, b| v * 10 + u32::from(b - b'0'));
        self.at += run;
        Some(value)
    }

    fn eat(&mut self, options: &[u8]) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        options.contains(&b).then(|| {
            self.at += 1;
            b
        })
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// `2026-11-03`, `2026-11-03 14:30`, `2026-11-03T14:30:05.25+01:00`, and
/// the same with `/` or `.` between year, month and day. `None` when the
/// cell does not start like one; an error when it does but is no real time.
fn iso(text: &str) -> Option<Result<i64, String>> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        at: 0,
    };
    let year = c.digits(4, 4)?;
    let sep = c.eat(b"-/.")?;
    let month = c.digits(1, 2)?;
    c.eat(&[sep])?;
    let day = c.digits(1, 2)?;
    Some(iso_rest(&mut c, year, month, day))
}

fn iso_rest(c: &mut Cursor, year: u32, month: u32, day: u32) -> Result<i64, String> {
    let malformed = || {
        "not a time; write 2026-11-03, 2026-11-03 14:30 or RFC 3339 (2026-11-03T14:30:00Z)"
            .to_string()
    };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(format!("no such day as {year:04}-{month:02}-{day:02}"));
    }
    let mut seconds = days_from_civil(i64::from(year), month, day) * SECONDS_PER_DAY;
    let mut fraction = 0i64;
    if c.eat(b"Tt ").is_some() {
        let hour = c.digits(1, 2).ok_or_else(malformed)?;
        c.eat(b":").ok_or_else(malformed)?;
        let minute = c.digits(2, 2).ok_or_else(malformed)?;
        let second = if c.eat(b":").is_some() {
            c.digits(2, 2).ok_or_else(malformed)?
        } else {
            0
        };
        if c.eat(b".,").is_some() {
            let start = c.at;
            c.digits(1, usize::MAX).ok_or_else(malformed)?;
            // Microseconds are kept; finer digits are cut.
            let digits = &c.bytes[start..c.at];
            let kept = &digits[..digits.len().min(6)];
            let value = kept.iter().fold(0i64, |v, b| v * 10 + i64::from(b - b'0'));
            fraction = value * 10i64.pow(6 - kept.len() as u32);
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(format!("no such time as {hour:02}:{minute:02}:{second:02}"));
        }
        seconds += i64::from(hour * 3600 + minute * 60 + second);
        while c.eat(b" ").is_some() {}
        seconds -= offset(c).ok_or_else(malformed)?;
    } else if !c.done() {
        return Err(malformed());
    }
    if !c.done() {
        return Err(malformed());
    }
    Ok(seconds * MICROS_PER_SECOND + fraction)
}

/// The offset after a time, in seconds east of UTC: none (UTC), `Z`,
/// `UTC`, `+01:00`, `+0100`, `+01`.
fn offset(c: &mut Cursor) -> Option<i64> {
    if c.done() {
        return Some(0);
    }
    if c.eat(b"Zz").is_some() {
        return Some(0);
    }
    if c.bytes[c.at..].eq_ignore_ascii_case(b"utc") {
        c.at = c.bytes.len();
        return Some(0);
    }
    let sign = match c.eat(b"+-")? {
        b'-' => -1,
        _ => 1,
    };
    let hours = c.digits(2, 2)?;
    c.eat(b":");
    let minutes = if c.done() { 0 } else { c.digits(2, 2)? };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i64::from(hours * 3600 + minutes * 60))
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01 (the inverse of `days_from_civil`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
pub fn normal(at: Timestamp) -> String {
    let mut out = String::with_capacity(27);
    write_normal(&mut out, at);
    out
}

/// Appends RFC 3339 in UTC (`2026-11-03T14:30:00Z`, sub-second digits only
/// when present), as `Timestamp`'s own display writes it, without its cost
/// per row.
pub fn write_normal(out: &mut String, at: Timestamp) {
    use std::fmt::Write;
    let seconds = at.0.div_euclid(MICROS_PER_SECOND);
    let micros = at.0.rem_euclid(MICROS_PER_SECOND);
    let (year, month, day) = civil_from_days(seconds.div_euclid(SECONDS_PER_DAY));
    let of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    );
    if micros != 0 {
        let frac = format!("{micros:06}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
}

/// The UTC day, `YYYY-MM-DD`.
pub fn day(at: Timestamp) -> String {
    let (year, month, day) = civil_from_days(at.0.div_euclid(MICROS_PER_SECOND * SECONDS_PER_DAY));
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(cell: &str) -> Result<String, String> {
        parse(cell, None).map(|t| t.to_string())
    }

    fn with(cell: &str, format: &str) -> Result<String, String> {
        parse(cell, Some(format)).map(|t| t.to_string())
    }

    #[test]
    fn iso_dates_and_times_are_utc_unless_they_say_otherwise() {
        for (cell, utc) in [
            ("2026-11-03", "2026-11-03T00:00:00Z"),
            ("2026-11-03 14:30", "2026-11-03T14:30:00Z"),
            ("2026-11-03 14:30:05", "2026-11-03T14:30:05Z"),
            ("2026-11-03T14:30:00Z", "2026-11-03T14:30:00Z"),
            ("2026-11-03T14:30:00+01:00", "2026-11-03T13:30:00Z"),
            ("2026-11-03T14:30:00-0530", "2026-11-03T20:00:00Z"),
            ("2026-11-03 00:30 +02", "2026-11-02T22:30:00Z"),
            ("2026-11-03 14:30:00 UTC", "2026-11-03T14:30:00Z"),
            ("2026-11-03T14:30:00.25Z", "2026-11-03T14:30:00.25Z"),
            (
                "2026-11-03T14:30:00.1234567Z",
                "2026-11-03T14:30:00.123456Z",
            ),
            ("2026-09-27T00:00:00+00:00", "2026-09-27T00:00:00Z"),
            ("2026-9-7 9:05", "2026-09-07T09:05:00Z"),
            ("2026/11/03", "2026-11-03T00:00:00Z"),
            ("2024-02-29", "2024-02-29T00:00:00Z"),
            ("1999-12-31T23:59:59Z", "1999-12-31T23:59:59Z"),
            ("  2026-11-03  ", "2026-11-03T00:00:00Z"),
        ] {
            assert_eq!(at(cell).as_deref(), Ok(utc), "{cell:?}");
        }
    }

    #[test]
    fn unix_seconds_have_nine_to_eleven_digits() {
        assert_eq!(at("1730419200").as_deref(), Ok("2024-11-01T00:00:00Z"));
        assert_eq!(at("1790553600").as_deref(), Ok("2026-09-28T00:00:00Z"));
        assert_eq!(at("999999999").as_deref(), Ok("2001-09-09T01:46:39Z"));
        assert_eq!(
            at("1730419200000").unwrap_err(),
            "a number, but Unix seconds have 9 to 11 digits"
        );
        assert!(at("46329")
            .unwrap_err()
            .contains("spreadsheet's day number"));
    }

    #[test]
    fn day_month_order_needs_a_format() {
        assert_eq!(
            at("03/11/2026").unwrap_err(),
            "day and month order unknown; choose the date format '%d/%m/%Y' (or '%m/%d/%Y')"
        );
        assert_eq!(
            at("3.11.26").unwrap_err(),
            "day and month order unknown; choose the date format '%d.%m.%y' (or '%m.%d.%y')"
        );
        assert!(at("11-03-2026 14:30").unwrap_err().contains("'%d-%m-%Y'"));
        assert_eq!(
            with("03/11/2026", "%d/%m/%Y").as_deref(),
            Ok("2026-11-03T00:00:00Z")
        );
        assert_eq!(
            with("11/03/2026", "%m/%d/%Y").as_deref(),
            Ok("2026-11-03T00:00:00Z")
        );
        assert_eq!(
            with("03.11.2026 14:30", "%d.%m.%Y %H:%M").as_deref(),
            Ok("2026-11-03T14:30:00Z")
        );
        assert_eq!(
            with("03/11/2026 14:30 +0100", "%d/%m/%Y %H:%M %z").as_deref(),
            Ok("2026-11-03T13:30:00Z")
        );
        // ISO dates still read with a format given; anything else is named.
        assert_eq!(
            with("2026-11-03", "%d/%m/%Y").as_deref(),
            Ok("2026-11-03T00:00:00Z")
        );
        assert_eq!(
            with("31/02/2026", "%d/%m/%Y").unwrap_err(),
            "does not match the date format '%d/%m/%Y'"
        );
    }

    #[test]
    fn impossible_or_malformed_dates_are_refused() {
        assert_eq!(at("2026-13-01").unwrap_err(), "no such day as 2026-13-01");
        assert_eq!(at("2026-02-29").unwrap_err(), "no such day as 2026-02-29");
        assert_eq!(
            at("2026-11-03 24:00").unwrap_err(),
            "no such time as 24:00:00"
        );
        for cell in [
            "yesterday",
            "2026-11-03x",
            "2026-11-03 14",
            "2026-11-03 14:3",
            "2026-11-03T14:30:00+25:00",
            "2026-11-03T14:30:00 CET",
            "2026-11/03",
            "Nov 3, 2026",
        ] {
            assert!(at(cell).is_err(), "{cell:?}");
        }
    }

    #[test]
    fn formats_are_checked_up_front() {
        assert!(check_format("%d/%m/%Y").is_ok());
        assert!(check_format("%d.%m.%Y %H:%M").is_ok());
        assert!(check_format("%s").is_ok());
        assert!(check_format("%H:%M").unwrap_err().contains("names no day"));
        assert!(check_format("%d/%m/%Y %!").is_err());
    }

    #[test]
    fn normal_text_is_the_timestamps_own_display() {
        for micros in [
            0,
            1_790_553_600_000_000,
            1_790_553_600_250_000,
            951_782_400_000_001,
            -86_400_000_000,
            -62_135_596_800_000_000,
            253_402_300_799_000_000,
        ] {
            let t = Timestamp(micros);
            assert_eq!(normal(t), t.to_string(), "{micros}");
            assert_eq!(day(t), crate::timestamp::day_label(t.day()), "{micros}");
        }
    }

    #[test]
    fn civil_days_round_trip() {
        for days in (-800_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
