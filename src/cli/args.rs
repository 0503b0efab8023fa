//! Arguments shared by several commands and the parsers for values typed on
//! the command line: amounts, currencies, durations, `k=v` parameters, times.

use crate::error::{Error, Result};
use crate::ledger::Kind;
use crate::money::{parse_amount, Currency, Money};
use crate::service::filter::FilterText;
use crate::store::Filter;
use crate::timestamp::Timestamp;
use clap::Args;

/// `--client --project --deliverable --kind --model --since --until --month --on`
#[derive(Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Only entries for this client (names match by Unicode case folding:
    /// "örebro film" finds "Örebro Film")
    #[arg(long)]
    pub client: Option<String>,
    /// Only entries for this project (names match by Unicode case folding:
    /// "örebro film" finds "Örebro Film")
    #[arg(long)]
    pub project: Option<String>,
    /// Only entries for this deliverable (names match by Unicode case folding:
    /// "örebro film" finds "Örebro Film")
    #[arg(long)]
    pub deliverable: Option<String>,
    /// Only entries of this kind: generation, external or pool
    #[arg(long)]
    pub kind: Option<String>,
    /// Only entries of this model / endpoint id
    #[arg(long)]
    pub model: Option<String>,
    /// From this time on (RFC 3339, or a date meaning 00:00 UTC), inclusive
    #[arg(long)]
    pub since: Option<String>,
    /// Up to this time (RFC 3339, exclusive at that instant), or through
    /// this date (a date includes that whole UTC day)
    #[arg(long)]
    pub until: Option<String>,
    /// Only this UTC month, e.g. 2026-03 (instead of --since/--until)
    #[arg(long, value_name = "YYYY-MM", conflicts_with_all = ["since", "until", "on"])]
    pub month: Option<String>,
    /// Only this UTC day, e.g. 2026-03-31 (instead of --since/--until)
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with_all = ["since", "until"])]
    pub on: Option<String>,
}

impl FilterArgs {
    /// The filter, parsed by the service; errors name the flag.
    pub fn to_filter(&self) -> Result<Filter> {
        self.text().to_filter().map_err(as_flag)
    }

    pub fn text(&self) -> FilterText {
        FilterText {
            client: self.client.clone(),
            project: self.project.clone(),
            deliverable: self.deliverable.clone(),
            kind: self.kind.clone(),
            model: self.model.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            month: self.month.clone(),
            on: self.on.clone(),
        }
    }
}

/// A service error naming its field (`since: ...`) as the flag that gave
/// it (`--since: ...`).
pub fn as_flag(error: Error) -> Error {
    match error {
        Error::Input(message) => Error::Input(format!("--{message}")),
        other => other,
    }
}

pub fn parse_kind(text: &str) -> Result<Kind> {
    crate::service::filter::parse_kind(text).map_err(as_flag)
}

pub fn parse_time_flag(flag: &str, text: &str) -> Result<Timestamp> {
    Timestamp::parse_time_or_date(text).map_err(|e| Error::input(format!("{flag}: {e}")))
}

pub fn parse_currency(flag: &str, text: &str) -> Result<Currency> {
    text.parse()
        .map_err(|e| Error::input(format!("{flag}: {e}")))
}

/// An amount typed with `flag`, in `currency`.
pub fn parse_money(flag: &str, text: &str, currency: Currency) -> Result<Money> {
    let micros = parse_amount(text).map_err(|e| Error::input(format!("{flag}: {e}")))?;
    Ok(Money::new(micros, currency))
}

/// `3.2s`, `1500ms`, `2m`, `1m30s`, `1h`, or a bare number of seconds.
pub fn parse_duration_ms(text: &str) -> Result<i64> {
    let bad = || {
        Error::input(format!(
            "--duration: malformed duration '{text}': expected e.g. 3.2s, 1500ms, 2m or 1m30s"
        ))
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(bad());
    }
    let mut total_ms: i128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        if number.is_empty() {
            return Err(bad());
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let ms_per_unit: i128 = match unit {
            "ms" => 1,
            "s" | "" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        if unit.is_empty() && !next.is_empty() {
            return Err(bad());
        }
        // The number as exact micro-units of the unit, then to whole milliseconds.
        let micros = parse_amount(number).map_err(|_| bad())?;
        if micros < 0 {
            return Err(bad());
        }
        total_ms += crate::money::div_round_half_even(i128::from(micros) * ms_per_unit, 1_000_000);
        rest = next;
    }
    i64::try_from(total_ms).map_err(|_| bad())
}

/// `key=value`; the value is read as JSON when it is a number, boolean or
/// null, otherwise kept as text.
/// Every `--param key=value`, refusing a key given twice (one of them would
/// silently be lost).
pub fn parse_params(texts: &[String]) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut params = serde_json::Map::new();
    for text in texts {
        let (key, value) = parse_param(text)?;
        if params.contains_key(&key) {
            return Err(Error::input(format!(
                "--param: '{key}' is given twice; give each parameter once"
            )));
        }
        params.insert(key, value);
    }
    Ok(params)
}

pub fn parse_param(text: &str) -> Result<(String, serde_json::Value)> {
    crate::service::filter::parse_param(text).map_err(as_flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("3.2s").unwrap(), 3_200);
        assert_eq!(parse_duration_ms("1500ms").unwrap(), 1_500);
        assert_eq!(parse_duration_ms("2m").unwrap(), 120_000);
        assert_eq!(parse_duration_ms("1m30s").unwrap(), 90_000);
        assert_eq!(parse_duration_ms("12").unwrap(), 12_000);
        for bad in ["", "s", "3.2x", "-1s", "1.2.3s", "5 s"] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn params() {
        assert_eq!(
            parse_param("num_images=2").unwrap(),
            ("num_images".into(), serde_json::json!(2))
        );
        assert_eq!(
            parse_param("image_size=landscape_16_9").unwrap(),
            ("image_size".into(), serde_json::json!("landscape_16_9"))
        );
        assert_eq!(
            parse_param("prompt=a=b").unwrap(),
            ("prompt".into(), serde_json::json!("a=b"))
        );
        assert!(parse_param("novalue").is_err());
        let twice = ["seed=1".to_string(), "seed=2".to_string()];
        assert!(parse_params(&twice)
            .unwrap_err()
            .to_string()
            .contains("'seed' is given twice"));
        assert!(parse_param("=x").is_err());
    }
}
