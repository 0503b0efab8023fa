//! The CSV export's columns and rows: one row per entry, amounts as plain
//! decimal numbers with `.`, every currency and the rate date in columns of
//! their own, and text that a spreadsheet would run as a formula
//! neutralised. No I/O here: the service streams rows to a writer.

use crate::fx::RateUsed;
use crate::ledger::Entry;
use crate::money::decimal_string;

pub const HEADER: &[&str] = &[
    "id",
    "occurred_at",
    "kind",
    "source",
    "model",
    "description",
    "client",
    "project",
    "deliverable",
    "status",
    "duration_ms",
    "request_id",
    "estimated_cost",
    "estimate_currency",
    "estimate_tier",
    "actual_cost",
    "actual_currency",
    "cost",
    "cost_currency",
    "cost_tier",
    "counted",
    "rate_date",
    "license",
    "price_version",
    "void",
    "void_reason",
];

/// The row of an entry, whose amounts may have been converted at `rates`
/// (the latest rate date is stated; none when shown in its own currency).
/// `counted`: whether the entry is in totals (live, and charged when it
/// failed or was cancelled).
pub fn row(entry: &Entry, rates: &[RateUsed]) -> Vec<String> {
    let cost = entry.cost();
    let text = |value: &Option<String>| value.as_deref().map(neutralise).unwrap_or_default();
    let amount = |micros: Option<i64>| micros.map(decimal_string).unwrap_or_default();
    let rate_date = rates
        .iter()
        .map(|r| r.date.as_str())
        .max()
        .unwrap_or_default();
    vec![
        entry.id.to_string(),
        entry.occurred_at.to_string(),
        entry.kind.to_string(),
        neutralise(&entry.source),
        text(&entry.model),
        text(&entry.description),
        text(&entry.tags.client),
        text(&entry.tags.project),
        text(&entry.tags.deliverable),
        entry.status.to_string(),
        entry.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
        text(&entry.request_id),
        amount(entry.estimate.micros),
        entry.estimate.currency.to_string(),
        entry.estimate.tier.to_string(),
        amount(entry.actual.map(|a| a.amount.micros)),
        entry
            .actual
            .map(|a| a.amount.currency.to_string())
            .unwrap_or_default(),
        amount(cost.micros),
        cost.currency.to_string(),
        cost.tier.to_string(),
        (entry.void.is_none() && entry.is_charged()).to_string(),
        rate_date.to_string(),
        text(&entry.license),
        text(&entry.price_version),
        entry.void.is_some().to_string(),
        entry
            .void
            .as_ref()
            .map(|v| neutralise(&v.reason))
            .unwrap_or_default(),
    ]
}

/// Text a spreadsheet would take as a formula (starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) gets a leading apostrophe, which
/// spreadsheets show as text. Amount cells never pass through here: they
/// stay plain numbers.
pub fn neutralise(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_text_is_neutralised() {
        for risky in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(risky), format!("'{risky}"));
        }
        assert_eq!(neutralise("Acme = Co"), "Acme = Co");
        assert_eq!(neutralise(""), "");
    }
}
