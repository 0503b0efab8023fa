//! Writes a full-size file in the format of ECB's `eurofxref-hist.csv` for
//! benchmarks: the real header (41 currencies and a trailing comma), one row
//! per working day from 1999-01-04 to `--until`, newest first, `N/A` where a
//! currency was not quoted. The rates are a deterministic random walk around
//! realistic levels, not ECB's published figures.
//!
//!   cargo run --release --example ecb_hist -- --out /tmp/eurofxref-hist.csv [--until 2026-11-27]

use std::io::Write;
use time::{Date, Duration, Weekday};

/// Columns as in ECB's file, with a typical level and the years quoted.
const COLUMNS: &[(&str, f64, i32, i32)] = &[
    ("USD", 1.10, 1999, 9999),
    ("JPY", 140.0, 1999, 9999),
    ("BGN", 1.9558, 2000, 9999),
    ("CYP", 0.58, 1999, 2007),
    ("CZK", 25.0, 1999, 9999),
    ("DKK", 7.45, 1999, 9999),
    ("EEK", 15.6466, 1999, 2010),
    ("GBP", 0.85, 1999, 9999),
    ("HUF", 350.0, 1999, 9999),
    ("LTL", 3.4528, 1999, 2014),
    ("LVL", 0.70, 1999, 2013),
    ("MTL", 0.43, 1999, 2007),
    ("PLN", 4.3, 1999, 9999),
    ("ROL", 30000.0, 1999, 2005),
    ("RON", 4.9, 2005, 9999),
    ("SEK", 10.5, 1999, 9999),
    ("SIT", 239.0, 1999, 2006),
    ("SKK", 30.1, 1999, 2008),
    ("CHF", 1.1, 1999, 9999),
    ("ISK", 140.0, 1999, 9999),
    ("NOK", 10.5, 1999, 9999),
    ("HRK", 7.5, 1999, 2022),
    ("RUB", 80.0, 1999, 2022),
    ("TRL", 1_500_000.0, 1999, 2004),
    ("TRY", 20.0, 2005, 9999),
    ("AUD", 1.6, 1999, 9999),
    ("BRL", 5.0, 2008, 9999),
    ("CAD", 1.45, 1999, 9999),
    ("CNY", 7.8, 2005, 9999),
    ("HKD", 8.6, 1999, 9999),
    ("IDR", 16000.0, 2005, 9999),
    ("ILS", 4.0, 2011, 9999),
    ("INR", 85.0, 2009, 9999),
    ("KRW", 1400.0, 1999, 9999),
    ("MXN", 20.0, 2008, 9999),
    ("MYR", 4.8, 2005, 9999),
    ("NZD", 1.75, 1999, 9999),
    ("PHP", 60.0, 2005, 9999),
    ("SGD", 1.5, 1999, 9999),
    ("THB", 38.0, 2005, 9999),
    ("ZAR", 19.0, 1999, 9999),
];

fn main() {
    let mut out = None;
    let mut until = time::OffsetDateTime::now_utc().date();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--out" => out = Some(value),
            "--until" => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                until = Date::parse(&value, format).expect("--until YYYY-MM-DD");
            }
            _ => panic!("unknown flag {flag}"),
        }
    }
    let out = out.expect("--out FILE");
    let first = Date::from_calendar_date(1999, time::Month::January, 4).unwrap();
    let mut days = Vec::new();
    let mut day = first;
    while day <= until {
        if !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
            days.push(day);
        }
        day += Duration::days(1);
    }
    // Oldest first while walking, written newest first.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut level: Vec<f64> = COLUMNS.iter().map(|c| c.1).collect();
    let mut rows = Vec::with_capacity(days.len());
    for day in &days {
        let mut row = format!("{day}");
        for (i, (_, base, from, to)) in COLUMNS.iter().enumerate() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let step = ((state % 2001) as f64 - 1000.0) / 1_000_000.0;
            level[i] = (level[i] * (1.0 + step)).clamp(base * 0.7, base * 1.3);
            if day.year() < *from || day.year() > *to {
                row.push_str(",N/A");
            } else {
                let digits = if level[i] >= 1000.0 { 2 } else { 4 };
                row.push_str(&format!(",{:.*}", digits, level[i]));
            }
        }
        row.push(',');
        rows.push(row);
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out).expect("create --out"));
    let header: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
    writeln!(file, "Date,{},", header.join(",")).unwrap();
    for row in rows.iter().rev() {
        writeln!(file, "{row}").unwrap();
    }
    file.flush().unwrap();
    eprintln!(
        "wrote {} days × {} currencies to {out}",
        rows.len(),
        COLUMNS.len()
    );
}
