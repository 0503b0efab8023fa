//! The figures of a cost report (`gencost report html`, and the server's
//! report page): everything a studio hands its client or accountant, read
//! from the ledger through `trait Store` with no SQL of its own.
//!
//! One read of the entries in scope (page by page, as the export reads them)
//! gathers every figure, so the KPIs, charts, invoice, accuracy table and log
//! all describe the same entries; a full `verify` runs beside it. Amounts in
//! other currencies convert at their own day's rate and add up as in
//! `total`, so each figure equals what `gencost total` prints for the same
//! scope. Rendering is not done here (see `crate::report`).
//!
//! This module gathers the report; each part of it has a module of its own:
//! `request` (what is asked for), `scan` (the one read of the entries),
//! `convert` (into the report's currency), `time_series`, `invoice`,
//! `accuracy`, `licenses` and `log`.

mod accuracy;
mod convert;
mod invoice;
mod licenses;
mod log;
mod request;
mod scan;
mod time_series;

pub use accuracy::{abs_pct, accuracy_only, Accuracy, ModelAccuracy, ACCURACY_THRESHOLD};
pub use invoice::{Invoice, InvoiceGroup};
pub use licenses::{LicenseOrigin, LicenseUse};
pub use log::{LogMonth, LogRow};
pub use request::{ReportOptions, ReportRequest};
pub use time_series::{Bucket, Point, TimeSeries};

use super::rates::rate_table_into;
use super::verify::{matching_snapshots, verify_snapshots, VerifyReport};
use crate::error::Result;
use crate::fx::{RateUsed, Stale};
use crate::ledger::totals::{Dimension, Group, Totals, Unconverted};
use crate::ledger::Kind;
use crate::money::Currency;
use crate::pricing::Catalog;
use crate::store::{Filter, Store};
use crate::timestamp::Timestamp;
use accuracy::accuracy;
use convert::Converter;
use invoice::invoice;
use licenses::licenses;
use log::log;
use scan::{scan, Scan};
use std::sync::Arc;
use time_series::time_series;

/// Every figure of a report, typed; `crate::report::html` renders it.
#[derive(Clone, Debug)]
pub struct Report {
    pub title: String,
    pub filter: Filter,
    /// The UTC days covered: the filter's range where given, else the days
    /// of the first and last entry; `None` for an empty report.
    pub period: Option<(i64, i64)>,
    pub currency: Currency,
    pub generated_at: Timestamp,
    pub tz: jiff::tz::TimeZone,
    pub kpis: Kpis,
    /// Generations' cost by model (one without a model by its source),
    /// largest first.
    pub by_model: Vec<Line>,
    /// Imported external costs and pool shares by source, largest first.
    pub by_external: Vec<Line>,
    /// Cost by deliverable, largest first.
    pub by_deliverable: Vec<Line>,
    pub over_time: TimeSeries,
    pub invoice: Invoice,
    pub accuracy: Accuracy,
    pub compliance: Compliance,
    pub licenses: Vec<LicenseUse>,
    /// Every live entry in scope, by UTC month, oldest first.
    pub log: Vec<LogMonth>,
    /// Each exchange rate a figure was converted at.
    pub rates: Vec<RateUsed>,
    /// Amounts no rate converts into `currency`: left out of every figure.
    pub unconverted: Vec<Unconverted>,
    /// The conversion at the oldest rate, when some rate was stale.
    pub stale: Option<Stale>,
    /// The UTC days of the amounts converted at a stale rate.
    pub stale_days: Vec<i64>,
}

/// A sum of the cost used in totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sum {
    /// In the report's currency, micro-units.
    pub total: i64,
    /// Entries counted (priced or not).
    pub count: i64,
    /// Of those, entries without a price: counted, never summed as zero.
    pub unpriced: i64,
}

impl Sum {
    /// A group's figures, as summed in the report's currency.
    fn of(group: &Group) -> Sum {
        Sum {
            total: group.total,
            count: group.count,
            unpriced: group.unpriced_count,
        }
    }
}

/// One bar of a breakdown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// `None`: entries without this tag.
    pub key: Option<String>,
    pub sum: Sum,
}

/// The four headline figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kpis {
    /// Generations (kind `generation`).
    pub internal: Sum,
    /// Imported external costs and pool shares together.
    pub external: Sum,
    /// Of `external`: kind `external`.
    pub imported: Sum,
    /// Of `external`: kind `pool`.
    pub pool: Sum,
    /// Everything: equals `gencost total` for the same scope.
    pub combined: Sum,
    /// Failed or cancelled runs that were not charged: on record, in no sum.
    pub not_charged: i64,
}

/// What the report can say about the ledger it was made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compliance {
    /// Events in the whole ledger's chain.
    pub events: i64,
    /// Entries in the whole ledger (every client, void ones too).
    pub entries: i64,
    pub head: Option<String>,
    /// The first problem `verify` found; `None` when it passed.
    pub problem: Option<String>,
    /// When the full check ran (the report's time).
    pub checked_at: Timestamp,
    /// A checkpoint signed with this user's key at or after the report's
    /// data, when the user has a key and `verify` passed.
    pub checkpoint: Option<crate::checkpoint::Checkpoint>,
}

impl Compliance {
    pub fn passed(&self) -> bool {
        self.problem.is_none()
    }
}

/// Gathers the report. Every input was checked by the caller's parsing.
/// The entries are read from a snapshot of the same state `verify` checks,
/// so every figure and the compliance badge describe one head, whatever is
/// logged meanwhile.
pub async fn report<S: Store + 'static>(
    store: Arc<S>,
    catalog: &Catalog,
    request: &ReportRequest,
) -> Result<Report> {
    let mut filter = request.filter.clone();
    filter.include_void = false;
    let [chain, view, mut entries] = matching_snapshots(&*store).await?;
    let (scan, verified) = tokio::join!(scan(&mut entries, &filter), verify_snapshots(chain, view));
    let (scan, verified) = (scan?, verified?);
    // Signed only with a key the user made (`gencost checkpoint`, `key
    // show`); a report never makes one on its own.
    let checkpoint = match (verified.is_sound(), crate::checkpoint::key::existing()?) {
        (true, Some(_)) => Some(crate::service::checkpoint::take_head_only(&*store).await?),
        _ => None,
    };
    let mut report = build(&*store, catalog, request, filter, scan, verified).await?;
    report.compliance.checkpoint = checkpoint;
    Ok(report)
}

async fn build<S: Store>(
    store: &S,
    catalog: &Catalog,
    request: &ReportRequest,
    filter: Filter,
    scan: Scan,
    verified: VerifyReport,
) -> Result<Report> {
    let currency = request.currency;
    let table = rate_table_into(store, scan.currencies(), currency).await?;
    let mut conv = Converter::new(&table, currency);

    let kind_rows = |kinds: &[Kind]| {
        scan.by_kind
            .rows(|k| kinds.contains(k), |k| Some(k.as_str().to_string()))
    };
    // Each figure is summed on its own, as `total` would sum it.
    let kpis = Kpis {
        internal: conv.sum(&kind_rows(&[Kind::Generation])?)?,
        external: conv.sum(&kind_rows(&[Kind::External, Kind::Pool])?)?,
        imported: conv.sum(&kind_rows(&[Kind::External])?)?,
        pool: conv.sum(&kind_rows(&[Kind::Pool])?)?,
        combined: conv.sum(&kind_rows(&[Kind::Generation, Kind::External, Kind::Pool])?)?,
        not_charged: scan.not_charged,
    };

    let lines = |t: Totals| -> Vec<Line> {
        t.groups
            .into_iter()
            .map(|g| Line {
                sum: Sum::of(&g),
                key: g.key,
            })
            .collect()
    };
    let by_model = lines(conv.sum_groups(
        &scan.by_model.rows(|_| true, |k| Some(k.to_string()))?,
        Some(Dimension::Model),
    )?);
    let by_external = lines(conv.sum_groups(
        &scan.by_external.rows(|_| true, |k| Some(k.to_string()))?,
        Some(Dimension::Model),
    )?);
    let by_deliverable = lines(
        conv.sum_groups(
            &scan
                .by_deliverable
                .rows(|_| true, |k| k.as_deref().map(str::to_string))?,
            Some(Dimension::Deliverable),
        )?,
    );

    let period = period(&filter, scan.first_day, scan.last_day);
    let all_rows = kind_rows(&[Kind::Generation, Kind::External, Kind::Pool])?;
    let over_time = match period {
        Some((first, last)) => {
            let bucket = Bucket::for_span(last - first + 1);
            let totals = conv.sum_groups(&all_rows, Some(bucket.dimension()))?;
            time_series(bucket, first, last, &totals)
        }
        None => TimeSeries {
            bucket: Bucket::Day,
            points: Vec::new(),
        },
    };
    let months = conv.sum_groups(&all_rows, Some(Dimension::Month))?;

    let invoice = invoice(&mut conv, &scan.invoice, request.markup)?;
    let accuracy = accuracy(&mut conv, &scan)?;
    let licenses = licenses(catalog, &scan.licenses);
    let log = log(scan.rows, &months);

    let title = request
        .title
        .clone()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| default_title(&filter));
    let stale = conv.stale.worst();
    let stale_days = conv.stale.days();
    Ok(Report {
        title,
        filter,
        period,
        currency,
        generated_at: request.generated_at,
        tz: request.tz.clone(),
        kpis,
        by_model,
        by_external,
        by_deliverable,
        over_time,
        invoice,
        accuracy,
        compliance: Compliance {
            events: verified.events,
            entries: verified.entries,
            head: verified.head,
            problem: verified.problem,
            checked_at: request.generated_at,
            checkpoint: None,
        },
        licenses,
        log,
        rates: conv.used.into_iter().collect(),
        unconverted: conv.unconverted.into_values().collect(),
        stale,
        stale_days,
    })
}

/// "AI generation costs", or "AI generation costs — Acme · Summer Spot".
fn default_title(filter: &Filter) -> String {
    let named: Vec<&str> = [&filter.client, &filter.project, &filter.deliverable]
        .into_iter()
        .filter_map(|t| t.as_deref().map(str::trim).filter(|t| !t.is_empty()))
        .collect();
    if named.is_empty() {
        "AI generation costs".to_string()
    } else {
        format!("AI generation costs — {}", named.join(" · "))
    }
}

/// The UTC days covered: the filter's bounds where given (`until` is
/// exclusive), else the first and last entry's.
fn period(filter: &Filter, first: Option<i64>, last: Option<i64>) -> Option<(i64, i64)> {
    let from = filter.since.map(Timestamp::day).or(first)?;
    let to = filter
        .until
        .map(|u| Timestamp(u.0 - 1).day())
        .or(last)
        .unwrap_or(from);
    // A range that holds nothing still names its first day.
    Some((from, to.max(from)))
}
