//! The report's log: every live entry in scope, oldest first, by UTC
//! month, each month with its cost.

use super::Sum;
use crate::ledger::totals::Totals;
use crate::ledger::{Estimate, Kind, Status, Tier};
use crate::money::Money;
use crate::timestamp::{month_label, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;

/// The entries of one UTC month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogMonth {
    /// `2026-03`
    pub label: String,
    /// The month's cost in the report's currency (charged entries).
    pub sum: Sum,
    /// Oldest first.
    pub rows: Vec<LogRow>,
}

/// One entry as the log shows it; repeated text is shared between rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRow {
    pub occurred_at: Timestamp,
    pub kind: Kind,
    pub source: Arc<str>,
    pub model: Option<Arc<str>>,
    pub client: Option<Arc<str>>,
    pub project: Option<Arc<str>>,
    pub deliverable: Option<Arc<str>>,
    /// As logged, in its own currency.
    pub estimate: Estimate,
    /// As confirmed, in its own currency.
    pub actual: Option<Money>,
    /// The tier of the cost used in totals.
    pub tier: Tier,
    pub status: Status,
    /// False for a failed or cancelled run that was not charged.
    pub charged: bool,
}

/// The rows, oldest first, by UTC month, each month with its summed cost.
pub(super) fn log(mut rows: Vec<LogRow>, months: &Totals) -> Vec<LogMonth> {
    rows.reverse();
    let sums: HashMap<&str, Sum> = months
        .groups
        .iter()
        .filter_map(|g| g.key.as_deref().map(|k| (k, Sum::of(g))))
        .collect();
    let mut out: Vec<LogMonth> = Vec::new();
    for row in rows {
        let label = month_label(row.occurred_at.day());
        match out.last_mut() {
            Some(month) if month.label == label => month.rows.push(row),
            _ => out.push(LogMonth {
                sum: sums.get(label.as_str()).copied().unwrap_or_default(),
                label,
                rows: vec![row],
            }),
        }
    }
    out
}
