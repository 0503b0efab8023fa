//! ECB's full daily history of euro reference rates, compiled into the
//! binary so that a fresh install converts any date since 1999-01-04.
//! Imported rates take precedence day by day; `rates show` states the range.
//!
//! The source is ECB's own `eurofxref-hist.zip` (`assets/eurofxref-hist.zip`).
//! Unzipping and parsing its 1.9 MB of CSV took about 40 ms per process, so
//! the binary embeds a compact form of the same rates instead
//! (`assets/ecb-history.bin`, written from the zip by
//! `cargo run --example ecb_embed`; a test below checks that it holds exactly
//! what the zip holds). Its header names each currency's first and last day,
//! so checking whether an amount can be converted reads a few hundred bytes;
//! a currency's rates are decoded the first time a conversion needs them.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! MAGIC
//! u32 days            ECB working days in the file
//! i32 first, i32 last the first and last of them (days since 1970-01-01)
//! u16 n               currencies, in code order; for each:
//!   [u8; 3] code, u32 rates, i32 first day, i32 last day,
//!   u8 k (every rate is a multiple of 10^k micro-units), u32 body bytes
//! n bodies, in the same order; each a run of `rates` pairs:
//!   varint  days since the previous rate (the first: since `first day`)
//!   zigzag varint  change of the rate in units of 10^k micro-units
//!                  (the first: from 0)
//! ```

use super::{DayRate, Rate};
use crate::money::Currency;
use std::collections::BTreeMap;
use std::sync::{LazyLock, OnceLock};

/// The first bytes of the compact form, with its version.
pub const MAGIC: &[u8] = b"gencost ECB rates v1\n";

const EMBEDDED: &[u8] = include_bytes!("../../assets/ecb-history.bin");

/// One currency's embedded rates.
pub struct Series {
    pub currency: Currency,
    pub first_day: i64,
    pub last_day: i64,
    count: usize,
    /// Rates are stored in units of 10^scale micro-units.
    scale: u32,
    body: &'static [u8],
    decoded: OnceLock<Result<Vec<(i64, Rate)>, String>>,
}

impl Series {
    /// The rates by day, oldest first; decoded once per process.
    pub fn rates(&self) -> Result<&[(i64, Rate)], String> {
        self.decoded
            .get_or_init(|| {
                decode_body(
                    self.body,
                    self.count,
                    self.scale,
                    self.first_day,
                    self.last_day,
                )
                .map_err(|e| format!("{}: {e}", self.currency))
            })
            .as_deref()
            .map_err(|e| unreadable(e))
    }
}

/// The embedded history: its range and one series per currency.
pub struct History {
    pub days: usize,
    pub first_day: i64,
    pub last_day: i64,
    series: Vec<Series>,
}

impl History {
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    pub fn get(&self, currency: Currency) -> Option<&Series> {
        self.series
            .binary_search_by(|s| s.currency.cmp(&currency))
            .ok()
            .map(|i| &self.series[i])
    }

    /// The first day an amount in `currency` can be converted: the first
    /// day of its rates; for the euro, the first day of the history.
    pub fn first_day(&self, currency: Currency) -> Option<i64> {
        if currency == Currency::EUR {
            return Some(self.first_day);
        }
        self.get(currency).map(|s| s.first_day)
    }

    /// Every rate, by currency then day.
    pub fn all(&self) -> Result<Vec<DayRate>, String> {
        let mut out = Vec::new();
        for s in &self.series {
            out.extend(s.rates()?.iter().map(|(day, rate)| DayRate {
                currency: s.currency,
                day: *day,
                rate: *rate,
            }));
        }
        Ok(out)
    }
}

/// Read once per process, the header only. The file is part of the source
/// tree and tests read it whole, so a failure here is a broken build,
/// reported as such rather than taken for "no rates".
static HISTORY: LazyLock<Result<History, String>> =
    LazyLock::new(|| read(EMBEDDED).map_err(|e| unreadable(&e)));

fn unreadable(e: &str) -> String {
    format!("the embedded ECB rates are unreadable: {e}")
}

/// The embedded history.
pub fn history() -> Result<&'static History, String> {
    HISTORY.as_ref().map_err(Clone::clone)
}

/// The embedded rates of `currencies` (all when `None`), with `stored`
/// rates taking precedence day by day.
pub fn table_with(
    currencies: Option<&[super::Currency]>,
    stored: Vec<super::DayRate>,
) -> Result<super::RateTable, String> {
    let mut series = std::collections::HashMap::new();
    for s in history()?.series() {
        if currencies.is_none_or(|list| list.contains(&s.currency)) {
            series.insert(s.currency, s.rates()?.to_vec());
        }
    }
    Ok(super::RateTable::from_series(series).overlay(stored))
}

/// Reads the header of the compact form; the bodies stay encoded.
pub fn read(bytes: &'static [u8]) -> Result<History, String> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(MAGIC.len())? != MAGIC {
        return Err("not gencost's compact ECB rates (version 1)".into());
    }
    let days = r.u32()? as usize;
    let first_day = i64::from(r.i32()?);
    let last_day = i64::from(r.i32()?);
    let n = usize::from(r.u16()?);
    let mut heads = Vec::with_capacity(n);
    for _ in 0..n {
        let code = r.take(3)?;
        let code = std::str::from_utf8(code).map_err(|_| "a currency code is not text")?;
        let currency: Currency = code.parse().map_err(|e| format!("{e}"))?;
        let count = r.u32()? as usize;
        let first = i64::from(r.i32()?);
        let last = i64::from(r.i32()?);
        let scale = u32::from(r.take(1)?[0]);
        if scale > 18 {
            return Err(format!("{currency}: unit 10^{scale} is out of range"));
        }
        let len = r.u32()? as usize;
        heads.push((currency, count, first, last, scale, len));
    }
    let mut series = Vec::with_capacity(n);
    for (currency, count, first, last, scale, len) in heads {
        if series
            .last()
            .is_some_and(|s: &Series| s.currency >= currency)
        {
            return Err(format!("{currency} is out of order"));
        }
        if count == 0 || first > last || first < first_day || last > last_day {
            return Err(format!("{currency}: its range does not fit the file's"));
        }
        series.push(Series {
            currency,
            first_day: first,
            last_day: last,
            count,
            scale,
            body: r.take(len)?,
            decoded: OnceLock::new(),
        });
    }
    if r.at != bytes.len() {
        return Err(format!("{} bytes after the last rate", bytes.len() - r.at));
    }
    Ok(History {
        days,
        first_day,
        last_day,
        series,
    })
}

struct Reader {
    bytes: &'static [u8],
    at: usize,
}

impl Reader {
    fn take(&mut self, n: usize) -> Result<&'static [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or("the file ends early")?;
        let bytes: &'static [u8] = self.bytes;
        let out = &bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u16(&mut self) -> Result<u16, String> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.array().map(u32::from_le_bytes)
    }

    fn i32(&mut self) -> Result<i32, String> {
        self.array().map(i32::from_le_bytes)
    }
}

fn decode_body(
    body: &[u8],
    count: usize,
    scale: u32,
    first_day: i64,
    last_day: i64,
) -> Result<Vec<(i64, Rate)>, String> {
    let mut out = Vec::with_capacity(count);
    let mut at = 0;
    let unit = 10i64.pow(scale);
    let (mut day, mut rate) = (first_day, 0i64);
    for i in 0..count {
        let step = varint(body, &mut at)?;
        if i > 0 && step == 0 {
            return Err("a day appears twice".into());
        }
        day = i64::try_from(step)
            .ok()
            .and_then(|s| day.checked_add(s))
            .ok_or("a day is out of range")?;
        let change = unzigzag(varint(body, &mut at)?);
        rate = rate.checked_add(change).ok_or("a rate is out of range")?;
        let micros = rate.checked_mul(unit).ok_or("a rate is out of range")?;
        if micros <= 0 {
            return Err("a rate is not positive".into());
        }
        out.push((day, Rate(micros)));
    }
    if at != body.len() {
        return Err("bytes left after the last rate".into());
    }
    if day != last_day {
        return Err("the last rate is not on the last day".into());
    }
    Ok(out)
}

fn varint(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at).ok_or("a rate is cut short")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a number is too long".into())
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The compact form of `rates` (as `ecb::parse` returns them): what
/// `assets/ecb-history.bin` holds, written by `examples/ecb_embed.rs`.
pub fn encode(rates: &[DayRate]) -> Result<Vec<u8>, String> {
    let mut by_currency: BTreeMap<Currency, BTreeMap<i64, Rate>> = BTreeMap::new();
    for r in rates {
        if by_currency
            .entry(r.currency)
            .or_default()
            .insert(r.day, r.rate)
            .is_some()
        {
            return Err(format!("{} appears twice on day {}", r.currency, r.day));
        }
    }
    let days: std::collections::BTreeSet<i64> = rates.iter().map(|r| r.day).collect();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Err("no rates to encode".into());
    };
    let int32 = |day: i64| i32::try_from(day).map_err(|_| format!("day {day} is out of range"));
    let mut out = MAGIC.to_vec();
    out.extend(
        u32::try_from(days.len())
            .map_err(|e| e.to_string())?
            .to_le_bytes(),
    );
    out.extend(int32(*first)?.to_le_bytes());
    out.extend(int32(*last)?.to_le_bytes());
    out.extend(
        u16::try_from(by_currency.len())
            .map_err(|e| e.to_string())?
            .to_le_bytes(),
    );
    let mut bodies = Vec::new();
    for (currency, series) in &by_currency {
        let (Some((&first, _)), Some((&last, _))) =
            (series.first_key_value(), series.last_key_value())
        else {
            continue;
        };
        // The largest power of ten every rate is a multiple of: ECB quotes
        // five or six significant digits, so most rates need few of the six
        // decimals a `Rate` holds.
        let mut scale = 0u32;
        while scale < 18 && series.values().all(|r| r.0 % 10i64.pow(scale + 1) == 0) {
            scale += 1;
        }
        let unit = 10i64.pow(scale);
        let mut body = Vec::new();
        let (mut day, mut rate) = (first, 0i64);
        for (&d, r) in series {
            let scaled = r.0 / unit;
            push_varint(&mut body, (d - day) as u64);
            push_varint(&mut body, zigzag(scaled - rate));
            (day, rate) = (d, scaled);
        }
        out.extend(currency.code().as_bytes());
        out.extend(
            u32::try_from(series.len())
                .map_err(|e| e.to_string())?
                .to_le_bytes(),
        );
        out.extend(int32(first)?.to_le_bytes());
        out.extend(int32(last)?.to_le_bytes());
        out.push(scale as u8);
        out.extend(
            u32::try_from(body.len())
                .map_err(|e| e.to_string())?
                .to_le_bytes(),
        );
        bodies.extend(body);
    }
    out.extend(bodies);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fx::ecb;
    use crate::timestamp::{day_label, parse_day};

    const ZIP: &[u8] = include_bytes!("../../assets/eurofxref-hist.zip");

    fn c(code: &str) -> Currency {
        code.parse().unwrap()
    }

    /// The compact form is exactly ECB's zip, parsed and encoded: every
    /// rate of every currency on every day, and nothing else.
    #[test]
    fn the_compact_form_holds_exactly_the_rates_of_the_zip() {
        let parsed = ecb::parse(ZIP).unwrap();
        assert_eq!(
            encode(&parsed.rates).unwrap(),
            EMBEDDED,
            "assets/ecb-history.bin is not the encoding of assets/eurofxref-hist.zip; \
             run `cargo run --release --example ecb_embed`"
        );
        let history = history().unwrap();
        let mut from_zip = parsed.rates.clone();
        from_zip.sort_by_key(|r| (r.currency, r.day));
        assert_eq!(history.all().unwrap(), from_zip);
        assert_eq!(history.days, parsed.days().len());
    }

    #[test]
    fn the_history_runs_from_ecbs_first_day() {
        let history = history().unwrap();
        assert_eq!(day_label(history.first_day), "1999-01-04");
        assert!(history.last_day >= parse_day("2026-10-30").unwrap());
        assert_eq!(history.first_day(Currency::EUR), Some(history.first_day));
        assert_eq!(history.first_day(c("USD")), Some(history.first_day));
        // ECB quotes the Brazilian real from 2008 and never the peso.
        assert_eq!(
            history.first_day(c("BRL")).map(day_label).as_deref(),
            Some("2008-01-02")
        );
        assert_eq!(history.first_day(c("ARS")), None);
        let sek = history.get(c("SEK")).unwrap().rates().unwrap();
        let on = |date: &str| {
            let day = parse_day(date).unwrap();
            sek.iter()
                .find(|(d, _)| *d == day)
                .map(|(_, r)| r.decimal())
        };
        assert_eq!(on("1999-01-04").as_deref(), Some("9.4696"));
        assert_eq!(on("2025-10-21").as_deref(), Some("10.9345"));
    }

    /// ECB's daily file of 2025-10-21 (as `rates update` fetches it) agrees
    /// with the history on that day, currency by currency.
    #[test]
    fn the_daily_file_agrees_with_the_history() {
        let daily = include_str!("../../tests/fixtures/ecb/eurofxref-daily-2025-10-21.xml");
        let daily = ecb::parse(daily.as_bytes()).unwrap();
        assert_eq!(daily.rates.len(), 30);
        let history = history().unwrap();
        for r in &daily.rates {
            let series = history.get(r.currency).unwrap().rates().unwrap();
            assert!(series.contains(&(r.day, r.rate)), "{r:?}");
        }
    }

    #[test]
    fn a_damaged_file_is_an_error() {
        let bytes: &'static [u8] = Box::leak(EMBEDDED.to_vec().into_boxed_slice());
        assert!(read(bytes).is_ok());
        assert!(read(&bytes[..bytes.len() - 1]).is_err());
        assert!(read(b"gencost ECB rates v2\n").is_err());
        // A body cut short is found when the currency is first decoded.
        let series = [DayRate {
            currency: c("USD"),
            day: 10_000,
            rate: Rate(1_100_000),
        }];
        let mut one = encode(&series).unwrap();
        let last = one.len() - 1;
        one[last] |= 0x80;
        let one: &'static [u8] = Box::leak(one.into_boxed_slice());
        let history = read(one).unwrap();
        let err = history.series()[0].rates().unwrap_err();
        assert!(
            err.contains("unreadable: USD: a rate is cut short"),
            "{err}"
        );
    }

    #[test]
    fn varints_round_trip() {
        for v in [
            0i64,
            1,
            -1,
            63,
            -64,
            64,
            1 << 40,
            -(1 << 40),
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = Vec::new();
            push_varint(&mut out, zigzag(v));
            let mut at = 0;
            assert_eq!(unzigzag(varint(&out, &mut at).unwrap()), v);
            assert_eq!(at, out.len());
        }
    }
}
