//! The ECB reference rates compiled into the binary, so conversion works on
//! a fresh install. Imported rates take precedence day by day; `rates show`
//! states the snapshot's date.

use super::ecb;
use super::DayRate;
use std::sync::LazyLock;

const SNAPSHOT_XML: &str = include_str!("../../assets/ecb-reference-rates.xml");

/// Parsed once per process. The file is part of the source tree and a test
/// below parses it, so a failure here is a broken build, reported as such
/// rather than taken for "no rates".
static RATES: LazyLock<Result<Vec<DayRate>, String>> = LazyLock::new(|| {
    ecb::parse_xml(SNAPSHOT_XML)
        .map(|parsed| parsed.rates)
        .map_err(|e| format!("the embedded ECB rates are unreadable: {e}"))
});

/// The embedded rates (one ECB publication day).
pub fn rates() -> Result<&'static [DayRate], String> {
    RATES.as_deref().map_err(Clone::clone)
}

/// The ECB date of the embedded rates.
pub fn day() -> Option<i64> {
    rates().ok()?.first().map(|r| r.day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::day_label;

    #[test]
    fn snapshot_parses_with_its_date() {
        let rates = rates().unwrap();
        assert_eq!(rates.len(), 30);
        assert_eq!(day().map(day_label).as_deref(), Some("2025-10-21"));
        let sek = rates.iter().find(|r| r.currency.code() == "SEK").unwrap();
        assert_eq!(sek.rate.decimal(), "10.9345");
    }
}
