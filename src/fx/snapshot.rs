//! The ECB reference rates compiled into the binary, so conversion works on
//! a fresh install. Imported rates take precedence day by day; `rates show`
//! states the snapshot's date.

use super::ecb;
use super::DayRate;
use std::sync::LazyLock;

const SNAPSHOT_XML: &str = include_str!("../../assets/ecb-reference-rates.xml");

/// Parsed once per process; the file is part of the source tree and parsed
/// by a test below.
static RATES: LazyLock<Vec<DayRate>> = LazyLock::new(|| {
    ecb::parse_xml(SNAPSHOT_XML)
        .map(|parsed| parsed.rates)
        .unwrap_or_default()
});

/// The embedded rates (one ECB publication day).
pub fn rates() -> &'static [DayRate] {
    &RATES
}

/// The ECB date of the embedded rates.
pub fn day() -> Option<i64> {
    rates().first().map(|r| r.day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::day_label;

    #[test]
    fn snapshot_parses_with_its_date() {
        let rates = rates();
        assert_eq!(rates.len(), 30);
        assert_eq!(day().map(day_label).as_deref(), Some("2025-10-21"));
        let sek = rates.iter().find(|r| r.currency.code() == "SEK").unwrap();
        assert_eq!(sek.rate.decimal(), "10.9345");
    }
}
