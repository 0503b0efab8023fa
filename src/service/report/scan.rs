//! The one read of the entries a report makes: page by page from a
//! snapshot, every figure's amounts summed per key, currency and UTC day
//! (before any conversion), and the log's rows with their text shared.

use super::accuracy::{abs_pct, Tally};
use super::log::LogRow;
use crate::error::Result;
use crate::ledger::totals::{SumRow, TotalsError};
use crate::ledger::{Entry, Kind};
use crate::money::Currency;
use crate::store::{Cursor, Filter, LedgerSnapshot, Page};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Entries read per page.
const PAGE: i64 = 1_000;

/// Shares repeated text (tags, models, sources) between log rows.
#[derive(Default)]
struct Interner {
    texts: HashMap<Box<str>, Arc<str>>,
    /// A tag's spelling as logged → the one spelling of its name (by the
    /// folding rule) this report shows, so two spellings of one name are
    /// one invoice line and one bar, as `total` shows them.
    tags: HashMap<Box<str>, Arc<str>>,
    by_key: HashMap<String, Arc<str>>,
}

impl Interner {
    fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.texts.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        self.texts.insert(Box::from(text), Arc::clone(&shared));
        shared
    }

    fn opt(&mut self, text: &Option<String>) -> Option<Arc<str>> {
        text.as_deref().map(|t| self.get(t))
    }

    /// The tag as this report spells its name: the first spelling met
    /// (entries come newest first, and new entries carry the ledger's
    /// spelling). Each spelling is folded once.
    fn tag(&mut self, text: &Option<String>) -> Option<Arc<str>> {
        let text = text.as_deref()?;
        if let Some(shared) = self.tags.get(text) {
            return Some(Arc::clone(shared));
        }
        let shared = self
            .by_key
            .entry(crate::ledger::tags::fold(text))
            .or_insert_with(|| Arc::from(text))
            .clone();
        self.tags.insert(Box::from(text), Arc::clone(&shared));
        Some(shared)
    }
}

/// Amounts summed per key, currency and UTC day: the rows a store's `sums`
/// would return for the same grouping, to sum the same way.
pub(super) struct Sums<K: Ord> {
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
    pub(super) fn rows(
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
    pub(super) fn by_key(&self) -> Result<BTreeMap<K, Vec<SumRow>>> {
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

pub(super) type Text = Option<Arc<str>>;

/// What one read of the entries gathered, before conversion.
#[derive(Default)]
pub(super) struct Scan {
    /// Newest first, as read.
    pub(super) rows: Vec<LogRow>,
    pub(super) by_kind: Sums<Kind>,
    /// Generations by model, else source.
    pub(super) by_model: Sums<Arc<str>>,
    /// Imported external costs and pool shares by source.
    pub(super) by_external: Sums<Arc<str>>,
    pub(super) by_deliverable: Sums<Text>,
    /// (client, project, deliverable)
    pub(super) invoice: Sums<(Text, Text, Text)>,
    pub(super) not_charged: i64,
    /// Per model: estimates and actuals of the compared entries.
    pub(super) estimates: Sums<Arc<str>>,
    pub(super) actuals: Sums<Arc<str>>,
    pub(super) accuracy: BTreeMap<Arc<str>, Tally>,
    /// (model, recorded license text) -> generations
    pub(super) licenses: BTreeMap<(Arc<str>, Text), i64>,
    pub(super) first_day: Option<i64>,
    pub(super) last_day: Option<i64>,
}

pub(super) async fn scan<T: LedgerSnapshot>(snapshot: &mut T, filter: &Filter) -> Result<Scan> {
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
            client: names.tag(&e.tags.client),
            project: names.tag(&e.tags.project),
            deliverable: names.tag(&e.tags.deliverable),
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
        if e.kind == Kind::Generation {
            self.by_model.add(&model_or_source, currency, day, micros);
        } else {
            self.by_external.add(&row.source, currency, day, micros);
        }
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

    pub(super) fn currencies(&self) -> BTreeSet<Currency> {
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
