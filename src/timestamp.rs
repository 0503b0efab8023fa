//! UTC timestamps as integer microseconds since the Unix epoch; RFC 3339 at
//! the edges.

use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// Microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(pub i64);

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed time '{0}': expected RFC 3339 such as 2026-03-01T14:30:00Z, or a date such as 2026-03-01")]
pub struct TimestampError(pub String);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// This time plus `duration` (saturating).
    pub fn plus(self, duration: std::time::Duration) -> Self {
        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(micros))
    }

    pub fn from_datetime(dt: OffsetDateTime) -> Self {
        Timestamp((dt.unix_timestamp_nanos() / 1_000) as i64)
    }

    /// A timestamp from stored microseconds, refused outside the years
    /// -9999..=9999 that the calendar (and RFC 3339) can show.
    pub fn from_micros(micros: i64) -> Result<Self, TimestampError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .map(|_| Timestamp(micros))
            .map_err(|_| TimestampError(format!("{micros} µs since the epoch (out of range)")))
    }

    /// The calendar time; `None` outside the calendar's range (only a
    /// timestamp not made by `from_micros` or parsing can be).
    pub fn to_datetime(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000).ok()
    }

    /// Parses RFC 3339 (any offset, converted to UTC).
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        OffsetDateTime::parse(text.trim(), &Rfc3339)
            .map(Self::from_datetime)
            .map_err(|_| TimestampError(text.to_string()))
    }

    /// Parses RFC 3339, or a bare `YYYY-MM-DD` meaning midnight UTC.
    pub fn parse_time_or_date(text: &str) -> Result<Self, TimestampError> {
        let trimmed = text.trim();
        if trimmed.len() == 10 {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            return Date::parse(trimmed, format)
                .map(|d| Self::from_datetime(d.midnight().assume_utc()))
                .map_err(|_| TimestampError(text.to_string()));
        }
        Self::parse_rfc3339(trimmed)
    }

    /// The end of a range given as `text`, exclusive: a bare date
    /// includes that whole UTC day (the instant after it), a time stays
    /// exclusive at that instant.
    pub fn parse_until(text: &str) -> Result<Self, TimestampError> {
        let at = Self::parse_time_or_date(text)?;
        Ok(if is_bare_date(text) {
            Timestamp(at.0 + MICROS_PER_DAY)
        } else {
            at
        })
    }

    /// The UTC day number (days since the epoch) this instant falls on.
    pub fn day(self) -> i64 {
        self.0.div_euclid(MICROS_PER_DAY)
    }

    /// The UTC date; `None` outside the calendar's range.
    pub fn date(self) -> Option<Date> {
        self.to_datetime().map(|dt| dt.date())
    }
}

fn is_bare_date(text: &str) -> bool {
    text.trim().len() == 10
}

/// A UTC calendar range `[start, end)`: a month or a day, as `--month` and
/// `--on` (and pool periods) name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayRange {
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a month such as 2026-11")]
pub struct MonthError(pub String);

impl DayRange {
    /// The UTC month `YYYY-MM`.
    pub fn month(text: &str) -> Result<DayRange, MonthError> {
        let bad = || MonthError(text.to_string());
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || month.len() != 2 || !digits(year) || !digits(month) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        let month = time::Month::try_from(month).map_err(|_| bad())?;
        let first = Date::from_calendar_date(year, month, 1).map_err(|_| bad())?;
        let start = Timestamp::from_datetime(first.midnight().assume_utc());
        let days = i64::from(first.month().length(year));
        Ok(DayRange {
            start,
            end: Timestamp(start.0 + days * MICROS_PER_DAY),
        })
    }

    /// The UTC day `YYYY-MM-DD`.
    pub fn day(text: &str) -> Result<DayRange, TimestampError> {
        if !is_bare_date(text) {
            return Err(TimestampError(text.to_string()));
        }
        let start = Timestamp::parse_time_or_date(text)?;
        Ok(DayRange {
            start,
            end: Timestamp(start.0 + MICROS_PER_DAY),
        })
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with the `Z` suffix; sub-second digits only when present.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never shown as some other time: a value out of the calendar's
        // range is shown as the number it is.
        let Some(dt) = self.to_datetime() else {
            return write!(f, "{} µs since the epoch (out of range)", self.0);
        };
        match dt.to_offset(UtcOffset::UTC).format(&Rfc3339) {
            Ok(text) => f.write_str(&text),
            Err(_) => write!(f, "{} µs since the epoch (out of range)", self.0),
        }
    }
}

/// The UTC day number of a `YYYY-MM-DD` date.
pub fn parse_day(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(text.trim(), format).ok()?;
    Some(date_day(date))
}

/// Today's UTC day number.
pub fn today() -> i64 {
    Timestamp::now().day()
}

/// The date of a UTC day number; `None` outside the calendar's range.
pub fn day_date(day: i64) -> Option<Date> {
    day.checked_mul(MICROS_PER_DAY)
        .and_then(|t| Timestamp(t).date())
}

/// The UTC day number of a date.
pub fn date_day(date: Date) -> i64 {
    Timestamp::from_datetime(date.midnight().assume_utc()).day()
}

/// The date of a UTC day number, as `YYYY-MM-DD` (a day outside the
/// calendar's range is named by its number).
pub fn day_label(day: i64) -> String {
    match day_date(day) {
        Some(date) => date.to_string(),
        None => format!("day {day} (out of range)"),
    }
}

/// The month of a UTC day number, as `YYYY-MM`.
pub fn month_label(day: i64) -> String {
    match day_date(day) {
        Some(date) => format!("{:04}-{:02}", date.year(), u8::from(date.month())),
        None => format!("day {day} (out of range)"),
    }
}

/// The first day of the UTC month of a day number (the day itself outside
/// the calendar's range).
pub fn month_start(day: i64) -> i64 {
    day_date(day)
        .and_then(|d| d.replace_day(1).ok())
        .map_or(day, date_day)
}

/// The first day of the month after the one of a day number (`i64::MAX`
/// past the calendar's end).
pub fn next_month(day: i64) -> i64 {
    let Some(date) = day_date(month_start(day)) else {
        return i64::MAX;
    };
    let (year, month) = match date.month() {
        time::Month::December => (date.year() + 1, time::Month::January),
        m => (date.year(), m.next()),
    };
    Date::from_calendar_date(year, month, 1).map_or(i64::MAX, date_day)
}

/// The Monday that starts the ISO week of a UTC day number.
pub fn week_start(day: i64) -> i64 {
    // Day 0, 1970-01-01, was a Thursday: three days after a Monday.
    day - (day + 3).rem_euclid(7)
}

/// The ISO week of a UTC day number, as `YYYY-Www` (the ISO week-numbering
/// year, which differs from the calendar year around New Year).
pub fn week_label(day: i64) -> String {
    match day_date(day) {
        Some(date) => {
            let (year, week, _) = date.to_iso_week_date();
            format!("{year:04}-W{week:02}")
        }
        None => format!("day {day} (out of range)"),
    }
}

impl Timestamp {
    /// `YYYY-MM-DD HH:MM` in UTC, for tables.
    pub fn minute_label(self) -> String {
        match self.to_datetime() {
            Some(t) => format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            ),
            None => self.to_string(),
        }
    }

    /// `YYYYMMDDTHHMMSSZ`, for file names.
    pub fn compact_label(self) -> String {
        match self.to_datetime() {
            Some(t) => format!(
                "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            None => format!("{}us", self.0),
        }
    }
}

/// As RFC 3339 UTC text, the form every JSON shape of gencost uses.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339_in_utc() {
        let t = Timestamp::parse_rfc3339("2026-03-01T15:30:00+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-03-01T14:30:00Z");
        let t = Timestamp::parse_rfc3339("2026-03-01T14:30:00.25Z").unwrap();
        assert_eq!(t.to_string(), "2026-03-01T14:30:00.25Z");
    }

    #[test]
    fn dates_mean_midnight_utc() {
        let t = Timestamp::parse_time_or_date("2026-03-01").unwrap();
        assert_eq!(t.to_string(), "2026-03-01T00:00:00Z");
        assert_eq!(day_label(t.day()), "2026-03-01");
        assert_eq!(month_label(t.day()), "2026-03");
        assert!(Timestamp::parse_time_or_date("2026-13-01").is_err());
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn months_start_and_end_on_utc_days() {
        // 2026-01-31 -> 2026-02-01 -> 2026-03-01
        let jan31 = 20_484;
        assert_eq!(month_start(jan31), jan31 - 30);
        assert_eq!(next_month(jan31), jan31 + 1);
        assert_eq!(next_month(jan31 + 1), jan31 + 29);
    }
}
