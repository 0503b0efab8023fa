//! Cost rollups: the costs that count in totals, summed per kind, client,
//! project, deliverable and model, each by currency and UTC day, in the
//! `cost_rollups` table. Every write adds the difference it makes (the
//! entry's contribution after the write minus before) in the same
//! transaction, so a total grouped by one of these keys, or filtered to one
//! value of it, reads a few thousand rows instead of every entry, while a
//! write transaction pays one upsert per rollup row it touched, at commit,
//! rather than an index insert per entry (covering indexes keyed by tag and
//! day took a random insert each, most of what a large import spent). Only keys with few
//! values per day are rolled up: (client, project) pairs were tried and
//! made a rollup row for most imported rows (705,766 rows for 1,000,000
//! entries), costing an import what an index would. `verify` recomputes
//! them from the entries.

use super::columns::{column_index, ENTRY_COLUMNS};
use super::error::StoreError;
use super::filter::{Filter, Narrowed};
use super::session::Session;
use super::value::{CellRef, Column, Row, RowsInsert, Value};
use crate::ledger::budget::{BudgetScope, Spend};
use crate::ledger::tags::fold;
use crate::ledger::totals::{Grouping, SumRow};
use crate::ledger::{Entry, TagField};
use hashbrown::{Equivalent, HashMap};
use std::sync::Arc;

/// A key the costs are rolled up by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rollup {
    Kind,
    Client,
    Project,
    Deliverable,
    Model,
    /// A budget's sums: keyed by the budget's folded name and the state of
    /// the cost (`ledger::budget::BudgetScope::sum_key`). Not a grouping.
    Budget,
}

impl Rollup {
    pub const ALL: [Rollup; 5] = [
        Rollup::Kind,
        Rollup::Client,
        Rollup::Project,
        Rollup::Deliverable,
        Rollup::Model,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Rollup::Kind => "kind",
            Rollup::Client => "client",
            Rollup::Project => "project",
            Rollup::Deliverable => "deliverable",
            Rollup::Model => "model",
            Rollup::Budget => "budget",
        }
    }

    /// The rollup named `text`: a stored dimension, or the column a total
    /// is grouped by (they share their names).
    fn parse(text: &str) -> Option<Rollup> {
        Rollup::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// A stored dimension.
    fn parse_stored(text: &str) -> Option<Rollup> {
        Rollup::parse(text).or((text == "budget").then_some(Rollup::Budget))
    }

    fn of_tag(field: TagField) -> Rollup {
        match field {
            TagField::Client => Rollup::Client,
            TagField::Project => Rollup::Project,
            TagField::Deliverable => Rollup::Deliverable,
        }
    }
}

/// A total the rollups answer: one rollup's rows over a range of days,
/// perhaps only those of one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollupScope {
    rollup: Rollup,
    since: Option<i64>,
    until: Option<i64>,
    only: Option<OnlyKey>,
    /// The grouping has no key (the rows' keys are dropped for the fold).
    ungrouped: bool,
}

/// The one key a filter keeps: a tag by its folded key, as the filter
/// matches the entries; a kind exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
enum OnlyKey {
    Tag(String),
    Kind(&'static str),
}

impl RollupScope {
    /// The rollup that answers `grouping` under `filter`, if one does: the
    /// filter's range is made of whole UTC days and it narrows by at most
    /// one key, the one grouped by (or any, for no grouping). The model is
    /// matched case-insensitively on the entries but rolled up by its exact
    /// name, so a model filter always reads the entries.
    pub fn of(filter: &Filter, grouping: Grouping) -> Option<RollupScope> {
        let (since, until) = filter.day_range()?;
        let grouped = match grouping {
            Grouping::Column(column) => Some(Rollup::parse(column)?),
            Grouping::None => None,
            Grouping::ClientProject => return None,
        };
        let narrowed = filter.narrowed_by();
        let (rollup, only) = match narrowed.as_slice() {
            [] => (grouped.unwrap_or(Rollup::Kind), None),
            [Narrowed::Tag(field, name)] => {
                (Rollup::of_tag(*field), Some(OnlyKey::Tag(fold(name))))
            }
            [Narrowed::Kind(kind)] => (Rollup::Kind, Some(OnlyKey::Kind(kind.as_str()))),
            _ => return None,
        };
        if grouped.is_some_and(|g| g != rollup) {
            return None;
        }
        Some(RollupScope {
            rollup,
            since,
            until,
            only,
            ungrouped: grouped.is_none(),
        })
    }
}

/// One row of the rollups: which group, currency and day.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RollupKey {
    pub rollup: Rollup,
    /// `None` for entries without the key (no model, no deliverable).
    pub key: Option<String>,
    pub currency: String,
    pub day: i64,
}

/// What the entries of one rollup row add up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RollupSum {
    pub micros: i64,
    pub entries: i64,
    pub unpriced: i64,
}

impl RollupSum {
    fn is_zero(&self) -> bool {
        *self == RollupSum::default()
    }
}

/// What one entry that counts in totals adds to the rollups. Tags are
/// rolled up by their folded keys, so a name's spellings are one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    pub kind: String,
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
    pub model: Option<String>,
    pub currency: String,
    pub day: i64,
    /// `None` when the entry is unpriced.
    pub micros: Option<i64>,
    /// Held, or spent at which tier (for budgets).
    pub spend: Spend,
}

impl Counted {
    /// The entry's part in the rollups; `None` when it does not count in
    /// totals (void, or a run the provider did not charge).
    pub fn of(entry: &Entry) -> Option<Counted> {
        if entry.void.is_some() || !entry.is_charged() {
            return None;
        }
        let cost = entry.cost();
        Some(Counted {
            kind: entry.kind.as_str().to_string(),
            client: entry.tags.client.as_deref().map(fold),
            project: entry.tags.project.as_deref().map(fold),
            deliverable: entry.tags.deliverable.as_deref().map(fold),
            model: entry.model.clone(),
            currency: cost.currency.code().to_string(),
            day: entry.occurred_at.day(),
            micros: cost.micros,
            spend: spend_of(entry),
        })
    }

    fn as_ref(&self) -> CountedRef<'_> {
        CountedRef {
            kind: &self.kind,
            client: self.client.as_deref(),
            project: self.project.as_deref(),
            deliverable: self.deliverable.as_deref(),
            model: self.model.as_deref(),
            currency: &self.currency,
            day: self.day,
            micros: self.micros,
            spend: self.spend,
        }
    }
}

/// What an entry that counts is to a budget.
fn spend_of(entry: &Entry) -> Spend {
    Spend::of(
        entry.status.as_str(),
        entry.actual.is_some(),
        entry.cost().tier.as_str(),
    )
}

/// `Counted` borrowed from a stored view row's cells (for `verify`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountedRef<'a> {
    kind: &'a str,
    client: Option<&'a str>,
    project: Option<&'a str>,
    deliverable: Option<&'a str>,
    model: Option<&'a str>,
    currency: &'a str,
    day: i64,
    micros: Option<i64>,
    spend: Spend,
}

impl<'a> CountedRef<'a> {
    /// The part in the rollups of a stored view row (its cells in
    /// `ENTRY_COLUMNS` order), if it counts in totals.
    pub fn of_cells(cells: &[CellRef<'a>]) -> Result<Option<CountedRef<'a>>, StoreError> {
        let cell = |name: &str| {
            cells
                .get(column_index(ENTRY_COLUMNS, name))
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("the result has no column {name}")))
        };
        let int = |name: &str| cell(name)?.int(name);
        let text = |name: &str| cell(name)?.opt_text(name);
        if int("is_void")? != 0 || int("charged")? != 1 {
            return Ok(None);
        }
        Ok(Some(CountedRef {
            kind: text("kind")?.unwrap_or_default(),
            client: text("client_key")?,
            project: text("project_key")?,
            deliverable: text("deliverable_key")?,
            model: text("model")?,
            currency: text("cost_currency")?.unwrap_or_default(),
            day: int("day")?,
            micros: cell("cost_micros")?.opt_int("cost_micros")?,
            spend: Spend::of(
                text("status")?.unwrap_or_default(),
                cell("actual_micros")?.opt_int("actual_micros")?.is_some(),
                text("cost_tier")?.unwrap_or_default(),
            ),
        }))
    }

    fn key(&self, rollup: Rollup) -> Option<&'a str> {
        match rollup {
            Rollup::Kind => Some(self.kind),
            Rollup::Client => self.client,
            Rollup::Project => self.project,
            Rollup::Deliverable => self.deliverable,
            Rollup::Model => self.model,
            Rollup::Budget => None,
        }
    }
}

/// A rollup row's key, borrowed from an entry: finds a row's sums without
/// copying its text (a write adds every entry to five rows). Hashes as
/// `RollupKey` does, field by field.
#[derive(Hash)]
struct KeyRef<'a> {
    rollup: Rollup,
    key: Option<&'a str>,
    currency: &'a str,
    day: i64,
}

impl Equivalent<RollupKey> for KeyRef<'_> {
    fn equivalent(&self, owned: &RollupKey) -> bool {
        self.rollup == owned.rollup
            && self.key == owned.key.as_deref()
            && self.currency == owned.currency
            && self.day == owned.day
    }
}

/// Sums per rollup row: the changes a write makes, or (in `verify`) what
/// the entries add up to. With budgets, each entry a budget counts also
/// adds to that budget's rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RollupSums {
    rows: HashMap<RollupKey, RollupSum>,
    budgets: Arc<Vec<BudgetScope>>,
    /// Budgets set or removed by the writes: their sums are recomputed
    /// whole before the transaction commits.
    budgets_set: Vec<String>,
}

impl RollupSums {
    /// Sums that also count the entries of these budgets.
    pub fn with_budgets(budgets: Arc<Vec<BudgetScope>>) -> RollupSums {
        RollupSums {
            rows: HashMap::new(),
            budgets,
            budgets_set: Vec::new(),
        }
    }

    pub fn note_budgets_set(&mut self, keys: Vec<String>) {
        self.budgets_set.extend(keys);
    }

    pub fn take_budgets_set(&mut self) -> Vec<String> {
        let mut keys = std::mem::take(&mut self.budgets_set);
        keys.sort();
        keys.dedup();
        keys
    }

    /// Adds (`sign` 1) or takes away (`sign` -1) an entry's part.
    pub fn add(&mut self, counted: &Counted, sign: i64) {
        self.add_ref(&counted.as_ref(), sign);
    }

    /// `add`, for a part borrowed from a stored row.
    pub fn add_ref(&mut self, counted: &CountedRef<'_>, sign: i64) {
        for rollup in Rollup::ALL {
            let key = KeyRef {
                rollup,
                key: counted.key(rollup),
                currency: counted.currency,
                day: counted.day,
            };
            self.add_to(key, counted.micros, sign);
        }
        self.add_to_budgets(
            [counted.client, counted.project, counted.deliverable],
            counted.model,
            counted.currency,
            counted.day,
            counted.micros,
            counted.spend,
            sign,
        );
    }

    /// Adds a counted entry's part to the sums of each budget that counts it.
    #[allow(clippy::too_many_arguments)]
    fn add_to_budgets(
        &mut self,
        tags: [Option<&str>; 3],
        model: Option<&str>,
        currency: &str,
        day: i64,
        micros: Option<i64>,
        spend: Spend,
        sign: i64,
    ) {
        if self.budgets.is_empty() {
            return;
        }
        let budgets = Arc::clone(&self.budgets);
        for scope in budgets.iter() {
            if scope.matches(tags[0], tags[1], tags[2], model, day) {
                let key = KeyRef {
                    rollup: Rollup::Budget,
                    key: Some(scope.sum_key(spend)),
                    currency,
                    day,
                };
                self.add_to(key, micros, sign);
            }
        }
    }

    /// The budgets (folded names) and days whose sums these changes touch.
    pub fn budget_days(&self) -> Vec<(String, i64)> {
        let mut touched: Vec<(String, i64)> = self
            .rows
            .iter()
            .filter(|(key, sum)| key.rollup == Rollup::Budget && !sum.is_zero())
            .filter_map(|(key, _)| {
                let (name, _) = crate::ledger::budget::split_sum_key(key.key.as_deref()?)?;
                Some((name.to_string(), key.day))
            })
            .collect();
        touched.sort();
        touched.dedup();
        touched
    }

    /// Leaves out the changes to these budgets' sums (recomputed whole).
    pub fn forget_budgets(&mut self, keys: &[String]) {
        self.rows.retain(|key, _| {
            key.rollup != Rollup::Budget
                || !key
                    .key
                    .as_deref()
                    .and_then(crate::ledger::budget::split_sum_key)
                    .is_some_and(|(name, _)| keys.iter().any(|k| k == name))
        });
    }

    /// Only the budgets' rows.
    pub fn only_budgets(mut self) -> RollupSums {
        self.rows.retain(|key, _| key.rollup == Rollup::Budget);
        self
    }

    /// Adds the sums of `other`, row by row.
    pub fn merge(&mut self, other: RollupSums) {
        for (key, sum) in other.rows {
            let into = self.rows.entry(key).or_default();
            into.micros += sum.micros;
            into.entries += sum.entries;
            into.unpriced += sum.unpriced;
        }
    }

    /// Adds a new entry's part, as `add(Counted::of(entry), 1)` does.
    pub fn add_entry(&mut self, entry: &Entry) {
        if entry.void.is_some() || !entry.is_charged() {
            return;
        }
        let cost = entry.cost();
        let folded = |tag: &Option<String>| tag.as_deref().map(fold);
        let tag_keys = [
            folded(&entry.tags.client),
            folded(&entry.tags.project),
            folded(&entry.tags.deliverable),
        ];
        for rollup in Rollup::ALL {
            let key = match rollup {
                Rollup::Kind => Some(entry.kind.as_str()),
                Rollup::Client => tag_keys[0].as_deref(),
                Rollup::Project => tag_keys[1].as_deref(),
                Rollup::Deliverable => tag_keys[2].as_deref(),
                Rollup::Model => entry.model.as_deref(),
                Rollup::Budget => None,
            };
            let key = KeyRef {
                rollup,
                key,
                currency: cost.currency.code(),
                day: entry.occurred_at.day(),
            };
            self.add_to(key, cost.micros, 1);
        }
        self.add_to_budgets(
            [
                tag_keys[0].as_deref(),
                tag_keys[1].as_deref(),
                tag_keys[2].as_deref(),
            ],
            entry.model.as_deref(),
            cost.currency.code(),
            entry.occurred_at.day(),
            cost.micros,
            spend_of(entry),
            1,
        );
    }

    /// Adds to one row's sums; its key is copied only for a new row.
    fn add_to(&mut self, key: KeyRef, micros: Option<i64>, sign: i64) {
        let sum = match self.rows.get_mut(&key) {
            Some(sum) => sum,
            None => self
                .rows
                .entry(RollupKey {
                    rollup: key.rollup,
                    key: key.key.map(str::to_string),
                    currency: key.currency.to_string(),
                    day: key.day,
                })
                .or_default(),
        };
        sum.micros += sign * micros.unwrap_or(0);
        sum.entries += sign;
        sum.unpriced += sign * i64::from(micros.is_none());
    }

    /// Adds the change an entry's rewrite makes.
    pub fn change(&mut self, before: Option<&Counted>, after: Option<&Counted>) {
        if before == after {
            return;
        }
        if let Some(before) = before {
            self.add(before, -1);
        }
        if let Some(after) = after {
            self.add(after, 1);
        }
    }

    /// The rows without entries left out (a rollup row whose entries were
    /// all voided stays in the table at zero).
    pub fn without_zeros(mut self) -> RollupSums {
        self.rows.retain(|_, sum| !sum.is_zero());
        self
    }

    /// A row whose sums differ between the two (or that only one holds).
    pub fn first_difference<'a>(&'a self, other: &'a RollupSums) -> Option<&'a RollupKey> {
        let differs = |(key, sum): (&'a RollupKey, &RollupSum), other: &RollupSums| {
            (other.rows.get(key) != Some(sum)).then_some(key)
        };
        self.rows
            .iter()
            .find_map(|row| differs(row, other))
            .or_else(|| other.rows.iter().find_map(|row| differs(row, self)))
    }

    /// The upsert that adds these changes to the table; `None` when they
    /// change nothing.
    pub fn upsert(self) -> Option<RowsInsert> {
        // In key order, so each multi-row statement touches a few adjacent
        // pages of the table: SQLite copies every page an upsert statement
        // changes into its statement journal, once per statement.
        let mut rows: Vec<(RollupKey, RollupSum)> = self
            .rows
            .into_iter()
            .filter(|(_, sum)| !sum.is_zero())
            .collect();
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut values = Vec::with_capacity(rows.len() * 8);
        for (key, sum) in rows {
            values.push(Value::Text(key.rollup.as_str().into()));
            values.push(Value::Int(i64::from(key.key.is_some())));
            values.push(Value::Text(key.key.unwrap_or_default()));
            values.push(Value::Text(key.currency));
            values.push(Value::Int(key.day));
            values.push(Value::Int(sum.micros));
            values.push(Value::Int(sum.entries));
            values.push(Value::Int(sum.unpriced));
        }
        (!values.is_empty()).then_some(RowsInsert {
            table: "cost_rollups",
            columns: "dimension, keyed, group_key, cost_currency, day, micros, entries, unpriced",
            types: &[
                Column::Text,
                Column::Int,
                Column::Text,
                Column::Text,
                Column::Int,
                Column::Int,
                Column::Int,
                Column::Int,
            ],
            values,
            on_conflict:
                "ON CONFLICT (dimension, keyed, group_key, cost_currency, day) DO UPDATE SET \
                 micros = cost_rollups.micros + excluded.micros, \
                 entries = cost_rollups.entries + excluded.entries, \
                 unpriced = cost_rollups.unpriced + excluded.unpriced",
        })
    }
}

/// The rows of a scope as the grouped sums totals fold.
pub async fn sums(session: &mut Session, scope: &RollupScope) -> Result<Vec<SumRow>, StoreError> {
    let mut params = vec![Value::from(scope.rollup.as_str())];
    let mut sql = String::from(
        "SELECT keyed, group_key, cost_currency, day, micros, entries, unpriced \
         FROM cost_rollups WHERE dimension = $1 AND entries <> 0",
    );
    for (day, term) in [(scope.since, "day >="), (scope.until, "day <")] {
        if let Some(day) = day {
            params.push(Value::Int(day));
            sql.push_str(&format!(" AND {term} ${}", params.len()));
        }
    }
    match &scope.only {
        Some(OnlyKey::Tag(name)) => {
            params.push(Value::Text(name.clone()));
            sql.push_str(&format!(" AND keyed = 1 AND group_key = ${}", params.len()));
        }
        Some(OnlyKey::Kind(kind)) => {
            params.push(Value::from(*kind));
            sql.push_str(&format!(" AND group_key = ${}", params.len()));
        }
        None => {}
    }
    let rows = session.query(&sql, &params).await?;
    rows.into_iter()
        .map(|row| {
            let (key, sum) = read_row(scope.rollup, row)?;
            Ok(SumRow {
                key: if scope.ungrouped { None } else { key.key },
                day: key.day,
                currency: super::columns::parse_currency(&key.currency)?,
                micros: sum.micros,
                count: sum.entries,
                unpriced: sum.unpriced,
            })
        })
        .collect()
}

/// Every stored rollup row with entries, for `verify`.
pub async fn all(session: &mut Session) -> Result<RollupSums, StoreError> {
    let rows = session
        .query(
            "SELECT dimension, keyed, group_key, cost_currency, day, micros, entries, unpriced \
             FROM cost_rollups",
            &[],
        )
        .await?;
    let mut sums = RollupSums::default();
    for mut row in rows {
        let dimension = row.text("dimension")?;
        let rollup = Rollup::parse_stored(&dimension).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "cost_rollups holds an unknown dimension '{dimension}'"
            ))
        })?;
        let (key, sum) = read_row(rollup, row)?;
        sums.rows.insert(key, sum);
    }
    Ok(sums.without_zeros())
}

fn read_row(rollup: Rollup, mut row: Row) -> Result<(RollupKey, RollupSum), StoreError> {
    let keyed = row.int("keyed")? != 0;
    let text = row.text("group_key")?;
    let key = RollupKey {
        rollup,
        key: keyed.then_some(text),
        currency: row.text("cost_currency")?,
        day: row.int("day")?,
    };
    let sum = RollupSum {
        micros: row.int("micros")?,
        entries: row.int("entries")?,
        unpriced: row.int("unpriced")?,
    };
    Ok((key, sum))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Kind;
    use crate::timestamp::{Timestamp, MICROS_PER_DAY};

    fn scope(filter: Filter, grouping: Grouping) -> Option<(Rollup, Option<OnlyKey>, bool)> {
        RollupScope::of(&filter, grouping).map(|s| (s.rollup, s.only, s.ungrouped))
    }

    #[test]
    fn answers_a_grouping_by_its_key_or_the_running_total_by_kind() {
        let none = Filter::default;
        assert_eq!(
            scope(none(), Grouping::None),
            Some((Rollup::Kind, None, true))
        );
        for (column, rollup) in [
            ("kind", Rollup::Kind),
            ("client", Rollup::Client),
            ("project", Rollup::Project),
            ("deliverable", Rollup::Deliverable),
            ("model", Rollup::Model),
        ] {
            assert_eq!(
                scope(none(), Grouping::Column(column)),
                Some((rollup, None, false))
            );
        }
        assert_eq!(scope(none(), Grouping::ClientProject), None);
    }

    #[test]
    fn answers_one_filter_on_the_key_grouped_by() {
        let client = || Filter {
            client: Some(" Acme ".into()),
            ..Default::default()
        };
        let only_acme = Some(OnlyKey::Tag("acme".into()));
        assert_eq!(
            scope(client(), Grouping::None),
            Some((Rollup::Client, only_acme.clone(), true))
        );
        assert_eq!(
            scope(client(), Grouping::Column("client")),
            Some((Rollup::Client, only_acme, false))
        );
        assert_eq!(scope(client(), Grouping::Column("project")), None);
        let pools = Filter {
            kind: Some(Kind::Pool),
            ..Default::default()
        };
        assert_eq!(
            scope(pools, Grouping::None),
            Some((Rollup::Kind, Some(OnlyKey::Kind("pool")), true))
        );
    }

    #[test]
    fn leaves_models_two_filters_and_part_days_to_the_entries() {
        let model = Filter {
            model: Some("m".into()),
            ..Default::default()
        };
        assert_eq!(scope(model, Grouping::Column("model")), None);
        let two = Filter {
            client: Some("Acme".into()),
            project: Some("Spot".into()),
            ..Default::default()
        };
        assert_eq!(scope(two, Grouping::None), None);
        let part_day = Filter {
            since: Some(Timestamp(MICROS_PER_DAY + 1)),
            ..Default::default()
        };
        assert_eq!(scope(part_day, Grouping::None), None);
        let whole_days = Filter {
            since: Some(Timestamp(MICROS_PER_DAY)),
            until: Some(Timestamp(3 * MICROS_PER_DAY)),
            ..Default::default()
        };
        let answered = RollupScope::of(&whole_days, Grouping::None).unwrap();
        assert_eq!((answered.since, answered.until), (Some(1), Some(3)));
    }
}
