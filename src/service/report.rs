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

use super::limits::MAX_NAME_CHARS;
use super::rates::rate_table_into;
use super::verify::{matching_snapshots, verify_snapshots, VerifyReport};
use crate::error::{Error, Result};
use crate::fx::{FxError, RateTable, RateUsed, Stale, StaleCheck};
use crate::ledger::totals::{sum_groups, Dimension, SumRow, Totals, TotalsError, Unconverted};
use crate::ledger::{Entry, Estimate, Kind, Status, Tier};
use crate::money::{div_round_half_even, Currency, Money};
use crate::pricing::{Catalog, LicenseStatus};
use crate::report::markup::Markup;
use crate::store::{Cursor, Filter, LedgerSnapshot, Page, Store};
use crate::timestamp::{
    day_label, month_label, month_start, next_month, week_label, week_start, Timestamp,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Entries read per page.
const PAGE: i64 = 1_000;

/// A model's estimates are highlighted when they miss the actual by more than
/// this, in millionths of a percent (10 %).
pub const ACCURACY_THRESHOLD: i64 = 10_000_000;

/// What to report on, and how.
#[derive(Clone, Debug)]
pub struct ReportRequest {
    /// Which entries (void entries are never in a report).
    pub filter: Filter,
    /// Every total in this currency, each amount at its own day's rate.
    pub currency: Currency,
    /// The report's title; a default names the client or project.
    pub title: Option<String>,
    /// A markup shown on the invoice as its own column and line.
    pub markup: Option<Markup>,
    /// When the report says it was made (and `verify` ran).
    pub generated_at: Timestamp,
    /// The studio's time zone, for times shown; periods stay UTC days.
    pub tz: jiff::tz::TimeZone,
}

/// A report's options as a surface receives them (flags, a query string),
/// checked and turned into a `ReportRequest` before the ledger is read.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    pub filter: Filter,
    /// ISO 4217 code.
    pub currency: String,
    pub title: Option<String>,
    /// Percent, e.g. 15 or 12.5.
    pub markup: Option<String>,
    /// RFC 3339; default now.
    pub generated_at: Option<String>,
    /// IANA zone name; default this machine's.
    pub tz: Option<String>,
}

impl ReportOptions {
    pub fn into_request(self) -> Result<ReportRequest> {
        let currency: Currency = self
            .currency
            .parse()
            .map_err(|e| Error::input(format!("--currency: {e}")))?;
        let markup = self
            .markup
            .as_deref()
            .map(|m| Markup::parse(m).map_err(|e| Error::input(format!("--markup: {e}"))))
            .transpose()?;
        let generated_at = match self.generated_at.as_deref() {
            Some(text) => Timestamp::parse_rfc3339(text)
                .map_err(|e| Error::input(format!("--generated-at: {e}")))?,
            None => Timestamp::now(),
        };
        let tz = match self.tz.as_deref() {
            Some(name) => jiff::tz::TimeZone::get(name.trim()).map_err(|_| {
                Error::input(format!(
                    "--tz: unknown time zone '{name}': expected an IANA name such as Europe/Stockholm, America/New_York or UTC"
                ))
            })?,
            None => jiff::tz::TimeZone::system(),
        };
        let title = self.title.map(|t| t.trim().to_string());
        if let Some(title) = &title {
            if title.chars().count() > MAX_NAME_CHARS {
                return Err(Error::input(format!(
                    "--title: {} characters; a title holds at most {MAX_NAME_CHARS}",
                    title.chars().count()
                )));
            }
            if title.chars().any(char::is_control) {
                return Err(Error::input(
                    "--title: holds a control character (a newline, tab or escape); give one line of text",
                ));
            }
        }
        Ok(ReportRequest {
            filter: self.filter,
            currency,
            title,
            markup,
            generated_at,
            tz,
        })
    }
}

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
    /// Cost by model (an entry without a model by its source), largest first.
    pub by_model: Vec<Line>,
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

/// Cost over time in buckets chosen by the period's span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeSeries {
    pub bucket: Bucket,
    /// Every bucket of the period, empty ones included, oldest first.
    pub points: Vec<Point>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    Day,
    /// ISO weeks, from Monday.
    Week,
    Month,
}

impl Bucket {
    /// Days up to a month are shown by day, up to 26 weeks by week, longer
    /// periods by month.
    pub fn for_span(days: i64) -> Bucket {
        match days {
            ..=31 => Bucket::Day,
            32..=182 => Bucket::Week,
            _ => Bucket::Month,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }

    fn dimension(self) -> Dimension {
        match self {
            Bucket::Day => Dimension::Day,
            Bucket::Week => Dimension::Week,
            Bucket::Month => Dimension::Month,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    /// `2026-03-02`, `2026-W10` or `2026-03`.
    pub label: String,
    /// The bucket's first UTC day.
    pub first_day: i64,
    pub sum: Sum,
}

/// Totals by client, project and deliverable, with the markup.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invoice {
    pub clients: Vec<InvoiceGroup>,
    /// The sum of the lines.
    pub subtotal: i64,
    pub markup: Option<Markup>,
    /// `markup` on `subtotal`, shared across the lines (0 without markup).
    pub markup_total: i64,
    /// `subtotal + markup_total`.
    pub total: i64,
    pub count: i64,
    pub unpriced: i64,
}

/// A client, a project of it, or a deliverable of that: the deliverables
/// are the invoice's lines, and every group adds up its children exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceGroup {
    pub name: Option<String>,
    pub cost: i64,
    pub markup: i64,
    pub count: i64,
    pub unpriced: i64,
    pub children: Vec<InvoiceGroup>,
}

/// Estimates against confirmed actuals, per model, for generations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accuracy {
    pub models: Vec<ModelAccuracy>,
    /// Every model together.
    pub all: ModelAccuracy,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelAccuracy {
    pub model: String,
    /// Generations with a confirmed actual.
    pub confirmed: i64,
    /// Of those, compared: a priced estimate and an actual that is not zero.
    pub compared: i64,
    /// The compared estimates, in the report's currency.
    pub estimated: i64,
    /// The compared actuals, in the report's currency.
    pub actual: i64,
    /// Mean of |estimate − actual| / actual over the compared entries, in
    /// millionths of a percent; `None` when none was compared.
    pub mean_abs_pct: Option<i64>,
    /// Compared entries whose own difference is over the threshold.
    pub over_threshold: i64,
    /// Confirmed at zero: counted apart (a percentage of zero is undefined).
    pub zero_actuals: i64,
    /// Confirmed, but without an estimate to compare (unpriced, or in a
    /// currency no rate converts into the actual's).
    pub no_estimate: i64,
}

impl ModelAccuracy {
    /// True when the mean difference is over `ACCURACY_THRESHOLD`.
    pub fn is_off(&self) -> bool {
        self.mean_abs_pct.is_some_and(|p| p > ACCURACY_THRESHOLD)
    }
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
}

impl Compliance {
    pub fn passed(&self) -> bool {
        self.problem.is_none()
    }
}

/// A model used in the period and its license.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseUse {
    pub model: String,
    pub status: LicenseStatus,
    pub name: Option<String>,
    /// Where the license is from: recorded with the entries when they were
    /// logged, or (for entries logged without one) the catalog as it stands.
    pub origin: LicenseOrigin,
    /// Generations of the model under this license.
    pub entries: i64,
}

impl LicenseUse {
    /// Non-commercial and unknown licenses are flagged.
    pub fn flagged(&self) -> bool {
        self.status != LicenseStatus::Commercial
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LicenseOrigin {
    Recorded,
    Catalog,
    /// Neither the entries nor the catalog know it.
    None,
}

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
    build(&*store, catalog, request, filter, scan, verified).await
}

/// The report's estimate-accuracy table alone, in `currency` (for
/// `gencost accuracy` and `GET /api/v1/accuracy`), with the rows of the
/// generations it compared: one read of the entries, no verify.
pub async fn accuracy_only<S: Store>(
    store: &S,
    filter: &Filter,
    currency: Currency,
) -> Result<(Accuracy, Vec<LogRow>)> {
    let mut filter = filter.clone();
    filter.include_void = false;
    filter.kind = Some(Kind::Generation);
    let scan = scan(&mut store.snapshot().await?, &filter).await?;
    let table = rate_table_into(store, scan.currencies(), currency).await?;
    let mut conv = Converter {
        table: &table,
        used: BTreeSet::new(),
        stale: StaleCheck::default(),
        unconverted: BTreeMap::new(),
        currency,
    };
    let accuracy = accuracy(&mut conv, &scan)?;
    let rows = scan
        .rows
        .into_iter()
        .filter(|r| r.actual.is_some())
        .collect();
    Ok((accuracy, rows))
}

/// Shares repeated text (tags, models, sources) between log rows.
#[derive(Default)]
struct Interner(HashMap<Box<str>, Arc<str>>);

impl Interner {
    fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        self.0.insert(Box::from(text), Arc::clone(&shared));
        shared
    }

    fn opt(&mut self, text: &Option<String>) -> Option<Arc<str>> {
        text.as_deref().map(|t| self.get(t))
    }
}

/// Amounts summed per key, currency and UTC day: the rows a store's `sums`
/// would return for the same grouping, to sum the same way.
struct Sums<K: Ord> {
    rows: BTreeMap<(K, Currency, i64), (i128, i64, i64)>,
}

impl<K: Ord> Default for Sums<K> {
    fn default() -> Self {
        Sums {
            rows: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone> Sums<K> {
    fn add(&mut self, key: &K, currency: Currency, day: i64, micros: Option<i64>) {
        let slot = self
            .rows
            .entry((key.clone(), currency, day))
            .or_insert((0, 0, 0));
        slot.0 += i128::from(micros.unwrap_or(0));
        slot.1 += 1;
        slot.2 += i64::from(micros.is_none());
    }

    fn currencies(&self) -> impl Iterator<Item = Currency> + '_ {
        self.rows
            .iter()
            .filter(|(_, (m, _, _))| *m != 0)
            .map(|((_, c, _), _)| *c)
    }

    /// The rows of the keys `keep` accepts, keyed by `label`.
    fn rows(
        &self,
        keep: impl Fn(&K) -> bool,
        label: impl Fn(&K) -> Option<String>,
    ) -> Result<Vec<SumRow>> {
        let mut out = Vec::new();
        for ((key, currency, day), (micros, count, unpriced)) in &self.rows {
            if !keep(key) {
                continue;
            }
            out.push(SumRow {
                key: label(key),
                day: *day,
                currency: *currency,
                micros: i64::try_from(*micros).map_err(|_| TotalsError::Overflow {
                    currency: *currency,
                })?,
                count: *count,
                unpriced: *unpriced,
            });
        }
        Ok(out)
    }

    /// Each key with its rows (unlabelled), in key order: one pass.
    fn by_key(&self) -> Result<BTreeMap<K, Vec<SumRow>>> {
        let mut out: BTreeMap<K, Vec<SumRow>> = BTreeMap::new();
        for ((key, currency, day), (micros, count, unpriced)) in &self.rows {
            let row = SumRow {
                key: None,
                day: *day,
                currency: *currency,
                micros: i64::try_from(*micros).map_err(|_| TotalsError::Overflow {
                    currency: *currency,
                })?,
                count: *count,
                unpriced: *unpriced,
            };
            match out.last_entry() {
                Some(mut last) if last.key() == key => last.get_mut().push(row),
                _ => {
                    out.insert(key.clone(), vec![row]);
                }
            }
        }
        Ok(out)
    }
}

type Text = Option<Arc<str>>;

/// What one read of the entries gathered, before conversion.
#[derive(Default)]
struct Scan {
    /// Newest first, as read.
    rows: Vec<LogRow>,
    by_kind: Sums<Kind>,
    /// Model, else source.
    by_model: Sums<Arc<str>>,
    by_deliverable: Sums<Text>,
    /// (client, project, deliverable)
    invoice: Sums<(Text, Text, Text)>,
    not_charged: i64,
    /// Per model: estimates and actuals of the compared entries.
    estimates: Sums<Arc<str>>,
    actuals: Sums<Arc<str>>,
    accuracy: BTreeMap<Arc<str>, Tally>,
    /// (model, recorded license text) -> generations
    licenses: BTreeMap<(Arc<str>, Text), i64>,
    first_day: Option<i64>,
    last_day: Option<i64>,
}

/// Per model, what converting is not needed for: counts and percentages.
#[derive(Clone, Debug, Default)]
struct Tally {
    confirmed: i64,
    zero_actuals: i64,
    no_estimate: i64,
    /// Entries compared, each with its |difference| in millionths of a
    /// percent of the actual, when the estimate is in the actual's currency
    /// or converts into it.
    pcts: Vec<i64>,
    /// Compared entries whose estimate still needs a conversion.
    pending: Vec<(i64, Currency, i64, Money)>,
}

async fn scan<T: LedgerSnapshot>(snapshot: &mut T, filter: &Filter) -> Result<Scan> {
    let mut scan = Scan::default();
    let mut names = Interner::default();
    let mut after: Option<Cursor> = None;
    loop {
        let page = snapshot.list(filter, Page { limit: PAGE, after }).await?;
        let Some(last) = page.last() else { break };
        after = Some(Cursor::after(last));
        for entry in page {
            scan.add(entry, &mut names);
        }
    }
    Ok(scan)
}

impl Scan {
    fn add(&mut self, e: Entry, names: &mut Interner) {
        let day = e.occurred_at.day();
        self.first_day = Some(self.first_day.map_or(day, |d| d.min(day)));
        self.last_day = Some(self.last_day.map_or(day, |d| d.max(day)));
        let cost = e.cost();
        let charged = e.is_charged();
        let row = LogRow {
            occurred_at: e.occurred_at,
            kind: e.kind,
            source: names.get(&e.source),
            model: names.opt(&e.model),
            client: names.opt(&e.tags.client),
            project: names.opt(&e.tags.project),
            deliverable: names.opt(&e.tags.deliverable),
            estimate: e.estimate,
            actual: e.actual.map(|a| a.amount),
            tier: cost.tier,
            status: e.status,
            charged,
        };
        let model_or_source = row.model.clone().unwrap_or_else(|| row.source.clone());
        if e.kind == Kind::Generation {
            if let Some(model) = &row.model {
                let license = names.opt(&e.license);
                *self.licenses.entry((model.clone(), license)).or_default() += 1;
            }
        }
        if !charged {
            self.not_charged += 1;
            self.rows.push(row);
            return;
        }
        let (currency, micros) = (cost.currency, cost.micros);
        self.by_kind.add(&e.kind, currency, day, micros);
        self.by_model.add(&model_or_source, currency, day, micros);
        self.by_deliverable
            .add(&row.deliverable, currency, day, micros);
        let leaf = (
            row.client.clone(),
            row.project.clone(),
            row.deliverable.clone(),
        );
        self.invoice.add(&leaf, currency, day, micros);
        if let (Kind::Generation, Some(actual)) = (e.kind, row.actual) {
            let tally = self.accuracy.entry(model_or_source.clone()).or_default();
            tally.confirmed += 1;
            match e.estimate.micros {
                _ if actual.micros == 0 => tally.zero_actuals += 1,
                None => tally.no_estimate += 1,
                Some(estimate) => {
                    if e.estimate.currency == actual.currency {
                        tally
                            .pcts
                            .push(abs_pct(i128::from(estimate) * 1_000_000, actual.micros));
                    } else {
                        tally
                            .pending
                            .push((estimate, e.estimate.currency, day, actual));
                    }
                    self.estimates
                        .add(&model_or_source, e.estimate.currency, day, Some(estimate));
                    self.actuals
                        .add(&model_or_source, actual.currency, day, Some(actual.micros));
                }
            }
        }
        self.rows.push(row);
    }

    fn currencies(&self) -> BTreeSet<Currency> {
        let mut all: BTreeSet<Currency> = self.by_kind.currencies().collect();
        all.extend(self.estimates.currencies());
        all.extend(self.actuals.currencies());
        for tally in self.accuracy.values() {
            for (_, from, _, actual) in &tally.pending {
                all.insert(*from);
                all.insert(actual.currency);
            }
        }
        all
    }
}

/// |estimate − actual| / |actual| in millionths of a percent, rounded half to
/// even; the estimate is given in pico-units of the actual's currency.
pub fn abs_pct(estimate_picos: i128, actual_micros: i64) -> i64 {
    let actual_picos = i128::from(actual_micros) * 1_000_000;
    let diff = (estimate_picos - actual_picos).abs();
    // percent × 10^6 = diff / actual × 10^8
    let pct = div_round_half_even(diff * 100_000_000, actual_picos.abs());
    i64::try_from(pct).unwrap_or(i64::MAX)
}

/// Converts figures into the report's currency, noting every rate used.
struct Converter<'a> {
    table: &'a RateTable,
    used: BTreeSet<RateUsed>,
    stale: StaleCheck,
    unconverted: BTreeMap<(String, Currency), Unconverted>,
    currency: Currency,
}

impl Converter<'_> {
    /// The total of `rows` in the report's currency, broken down `by` a
    /// dimension, noting each rate used.
    fn sum_groups(&mut self, rows: &[SumRow], by: Option<Dimension>) -> Result<Totals> {
        let (table, used, stale) = (self.table, &mut self.used, &mut self.stale);
        let mut convert = |row: &SumRow, to: Currency| -> Result<i128, FxError> {
            let (picos, rate) = table.convert_picos(row.micros, row.currency, to, row.day)?;
            stale.note(&rate, row.day);
            used.insert(rate);
            Ok(picos)
        };
        let totals = sum_groups(rows, by, self.currency, &mut convert)?;
        for u in &totals.unconverted {
            self.unconverted
                .entry((u.day.clone(), u.currency))
                .or_insert_with(|| u.clone());
        }
        Ok(totals)
    }

    fn sum(&mut self, rows: &[SumRow]) -> Result<Sum> {
        let t = self.sum_groups(rows, None)?;
        Ok(Sum {
            total: t.total,
            count: t.count,
            unpriced: t.unpriced_count,
        })
    }
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
    let mut conv = Converter {
        table: &table,
        used: BTreeSet::new(),
        stale: StaleCheck::default(),
        unconverted: BTreeMap::new(),
        currency,
    };

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
                key: g.key,
                sum: Sum {
                    total: g.total,
                    count: g.count,
                    unpriced: g.unpriced_count,
                },
            })
            .collect()
    };
    let by_model = lines(conv.sum_groups(
        &scan.by_model.rows(|_| true, |k| Some(k.to_string()))?,
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
    Ok(Report {
        title,
        filter,
        period,
        currency,
        generated_at: request.generated_at,
        tz: request.tz.clone(),
        kpis,
        by_model,
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
        },
        licenses,
        log,
        rates: conv.used.into_iter().collect(),
        unconverted: conv.unconverted.into_values().collect(),
        stale,
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

/// Every bucket from `first` to `last`, with the summed totals where any.
fn time_series(bucket: Bucket, first: i64, last: i64, totals: &Totals) -> TimeSeries {
    let found: HashMap<&str, &crate::ledger::totals::Group> = totals
        .groups
        .iter()
        .filter_map(|g| g.key.as_deref().map(|k| (k, g)))
        .collect();
    let mut points = Vec::new();
    let mut day = match bucket {
        Bucket::Day => first,
        Bucket::Week => week_start(first),
        Bucket::Month => month_start(first),
    };
    while day <= last {
        let label = match bucket {
            Bucket::Day => day_label(day),
            Bucket::Week => week_label(day),
            Bucket::Month => month_label(day),
        };
        let sum = found.get(label.as_str()).map_or(Sum::default(), |g| Sum {
            total: g.total,
            count: g.count,
            unpriced: g.unpriced_count,
        });
        points.push(Point {
            label,
            first_day: day,
            sum,
        });
        day = match bucket {
            Bucket::Day => day + 1,
            Bucket::Week => day + 7,
            Bucket::Month => next_month(day),
        };
    }
    TimeSeries { bucket, points }
}

/// The invoice: each deliverable line summed once (converted and rounded
/// once), groups adding up their lines, the markup shared across the lines.
fn invoice(
    conv: &mut Converter<'_>,
    sums: &Sums<(Text, Text, Text)>,
    markup: Option<Markup>,
) -> Result<Invoice> {
    let text = |t: &Text| t.as_deref().map(str::to_string);
    let mut leaves: Vec<((Text, Text, Text), Sum)> = Vec::new();
    for (key, rows) in sums.by_key()? {
        leaves.push((key, conv.sum(&rows)?));
    }
    let costs: Vec<i64> = leaves.iter().map(|(_, s)| s.total).collect();
    let shares: Vec<i128> = match markup {
        Some(m) => m.share(&costs),
        None => vec![0; costs.len()],
    };
    let overflow = || {
        Error::Totals(TotalsError::Overflow {
            currency: conv.currency,
        })
    };
    let add = |a: i64, b: i64| a.checked_add(b).ok_or_else(overflow);
    // client -> project -> deliverable lines
    let mut tree: BTreeMap<Text, BTreeMap<Text, Vec<InvoiceGroup>>> = BTreeMap::new();
    for (((client, project, deliverable), sum), share) in leaves.iter().zip(&shares) {
        tree.entry(client.clone())
            .or_default()
            .entry(project.clone())
            .or_default()
            .push(InvoiceGroup {
                name: text(deliverable),
                cost: sum.total,
                markup: i64::try_from(*share).map_err(|_| overflow())?,
                count: sum.count,
                unpriced: sum.unpriced,
                children: Vec::new(),
            });
    }
    let group = |name: Option<String>, children: Vec<InvoiceGroup>| -> Result<InvoiceGroup> {
        let mut g = InvoiceGroup {
            name,
            cost: 0,
            markup: 0,
            count: 0,
            unpriced: 0,
            children,
        };
        for c in &g.children {
            g.cost = add(g.cost, c.cost)?;
            g.markup = add(g.markup, c.markup)?;
            g.count += c.count;
            g.unpriced += c.unpriced;
        }
        sort_groups(&mut g.children);
        Ok(g)
    };
    let mut clients = Vec::new();
    for (client, projects) in tree {
        let mut children = Vec::new();
        for (project, lines) in projects {
            children.push(group(text(&project), lines)?);
        }
        clients.push(group(text(&client), children)?);
    }
    let all = group(None, clients)?;
    let markup_total = all.markup;
    Ok(Invoice {
        subtotal: all.cost,
        markup,
        markup_total,
        total: add(all.cost, markup_total)?,
        count: all.count,
        unpriced: all.unpriced,
        clients: all.children,
    })
}

/// Largest first, the order a bill is read in; untagged last among equals.
fn sort_groups(groups: &mut [InvoiceGroup]) {
    groups.sort_by(|a, b| {
        b.cost
            .cmp(&a.cost)
            .then_with(|| a.name.is_none().cmp(&b.name.is_none()))
            .then_with(|| a.name.cmp(&b.name))
    });
}

fn accuracy(conv: &mut Converter<'_>, scan: &Scan) -> Result<Accuracy> {
    let mut models = Vec::new();
    let mut all = ModelAccuracy {
        model: "All models".into(),
        ..ModelAccuracy::default()
    };
    let mut all_pcts: Vec<i64> = Vec::new();
    let estimates = scan.estimates.by_key()?;
    let actuals = scan.actuals.by_key()?;
    for (model, tally) in &scan.accuracy {
        let mut pcts = tally.pcts.clone();
        let mut no_estimate = tally.no_estimate;
        for (estimate, from, day, actual) in &tally.pending {
            match conv
                .table
                .convert_picos(*estimate, *from, actual.currency, *day)
            {
                Ok((picos, rate)) => {
                    conv.stale.note(&rate, *day);
                    conv.used.insert(rate);
                    pcts.push(abs_pct(picos, actual.micros));
                }
                Err(_) => no_estimate += 1,
            }
        }
        let none = Vec::new();
        let estimated = conv.sum(estimates.get(model).unwrap_or(&none))?.total;
        let actual = conv.sum(actuals.get(model).unwrap_or(&none))?.total;
        let row = ModelAccuracy {
            model: model.to_string(),
            confirmed: tally.confirmed,
            compared: pcts.len() as i64,
            estimated,
            actual,
            mean_abs_pct: mean(&pcts),
            over_threshold: pcts.iter().filter(|p| **p > ACCURACY_THRESHOLD).count() as i64,
            zero_actuals: tally.zero_actuals,
            no_estimate,
        };
        all.confirmed += row.confirmed;
        all.compared += row.compared;
        all.over_threshold += row.over_threshold;
        all.zero_actuals += row.zero_actuals;
        all.no_estimate += row.no_estimate;
        all_pcts.extend(pcts);
        models.push(row);
    }
    all.estimated = conv.sum(&scan.estimates.rows(|_| true, |_| None)?)?.total;
    all.actual = conv.sum(&scan.actuals.rows(|_| true, |_| None)?)?.total;
    all.mean_abs_pct = mean(&all_pcts);
    // The worst first, then by name.
    models.sort_by(|a, b| {
        b.mean_abs_pct
            .cmp(&a.mean_abs_pct)
            .then_with(|| a.model.cmp(&b.model))
    });
    Ok(Accuracy { models, all })
}

/// The mean of `values`, rounded half to even; `None` when empty.
fn mean(values: &[i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let sum: i128 = values.iter().map(|v| i128::from(*v)).sum();
    i64::try_from(div_round_half_even(sum, values.len() as i128)).ok()
}

/// `commercial (Apache-2.0)`, as an entry records it, read back.
fn parse_license(label: &str) -> (LicenseStatus, Option<String>) {
    let (status, name) = match label.split_once(" (") {
        Some((status, rest)) => (status, Some(rest.strip_suffix(')').unwrap_or(rest))),
        None => (label, None),
    };
    let status = match status.trim() {
        "commercial" => LicenseStatus::Commercial,
        "non-commercial" => LicenseStatus::NonCommercial,
        _ => LicenseStatus::Unknown,
    };
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    (status, name)
}

fn licenses(catalog: &Catalog, used: &BTreeMap<(Arc<str>, Text), i64>) -> Vec<LicenseUse> {
    // (model, origin, status, name) -> (status, generations)
    type Key = (String, LicenseOrigin, &'static str, Option<String>);
    let mut merged: BTreeMap<Key, (LicenseStatus, i64)> = BTreeMap::new();
    for ((model, recorded), count) in used {
        let (status, name, origin) = match recorded {
            Some(label) => {
                let (status, name) = parse_license(label);
                (status, name, LicenseOrigin::Recorded)
            }
            None => match catalog.get(model) {
                Some(m) => (
                    m.license.status,
                    Some(m.license.name.clone()),
                    LicenseOrigin::Catalog,
                ),
                None => (LicenseStatus::Unknown, None, LicenseOrigin::None),
            },
        };
        let slot = merged
            .entry((model.to_string(), origin, status.as_str(), name))
            .or_insert((status, 0));
        slot.1 += count;
    }
    let mut out: Vec<LicenseUse> = merged
        .into_iter()
        .map(|((model, origin, _, name), (status, entries))| LicenseUse {
            model,
            status,
            name,
            origin,
            entries,
        })
        .collect();
    // Flagged first, then by model.
    out.sort_by(|a, b| {
        b.flagged()
            .cmp(&a.flagged())
            .then_with(|| a.model.cmp(&b.model))
            .then_with(|| a.origin.cmp(&b.origin))
    });
    out
}

/// The rows, oldest first, by UTC month, each month with its summed cost.
fn log(mut rows: Vec<LogRow>, months: &Totals) -> Vec<LogMonth> {
    rows.reverse();
    let sums: HashMap<&str, Sum> = months
        .groups
        .iter()
        .filter_map(|g| {
            g.key.as_deref().map(|k| {
                (
                    k,
                    Sum {
                        total: g.total,
                        count: g.count,
                        unpriced: g.unpriced_count,
                    },
                )
            })
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_exact_and_relative_to_the_actual() {
        // estimate 0.11 vs actual 0.10: 10 %
        assert_eq!(abs_pct(110_000 * 1_000_000, 100_000), 10_000_000);
        // estimate 0.09 vs actual 0.10: 10 %
        assert_eq!(abs_pct(90_000 * 1_000_000, 100_000), 10_000_000);
        // 1/3 of a percent, rounded half to even at a millionth
        assert_eq!(abs_pct(300_001 * 1_000_000, 300_000), 333);
        assert_eq!(mean(&[1, 2]), Some(2));
        assert_eq!(mean(&[1, 2, 2]), Some(2));
        assert_eq!(mean(&[]), None);
    }

    #[test]
    fn licenses_read_back_as_recorded() {
        assert_eq!(
            parse_license("commercial (Apache-2.0)"),
            (LicenseStatus::Commercial, Some("Apache-2.0".into()))
        );
        assert_eq!(
            parse_license("non-commercial (FLUX.1 [dev] Non-Commercial License)"),
            (
                LicenseStatus::NonCommercial,
                Some("FLUX.1 [dev] Non-Commercial License".into())
            )
        );
        assert_eq!(parse_license("odd"), (LicenseStatus::Unknown, None));
    }

    #[test]
    fn buckets_follow_the_span() {
        assert_eq!(Bucket::for_span(1), Bucket::Day);
        assert_eq!(Bucket::for_span(31), Bucket::Day);
        assert_eq!(Bucket::for_span(32), Bucket::Week);
        assert_eq!(Bucket::for_span(182), Bucket::Week);
        assert_eq!(Bucket::for_span(183), Bucket::Month);
    }
}
