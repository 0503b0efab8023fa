//! Cost rollups: the costs that count in totals, summed per model and per
//! deliverable, each by currency and UTC day, in the `cost_rollups` table. Every write adds the difference it makes (the
//! entry's contribution after the write minus before) in the same
//! transaction, so a total grouped by these keys reads a few thousand rows
//! instead of every entry, while logging pays one small upsert per chunk
//! of events rather than an index insert per entry. Only keys with few
//! values per day are rolled up: (client, project) pairs were tried and
//! made a rollup row for most imported rows (705,766 rows for 1,000,000
//! entries), costing an import what an index would. `verify` recomputes
//! them from the entries.

use super::error::StoreError;
use super::session::Session;
use super::value::{Column, Row, RowsInsert, Value};
use crate::ledger::totals::{Grouping, SumRow};
use crate::ledger::Entry;
use std::collections::HashMap;

/// A key the costs are rolled up by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rollup {
    Model,
    Deliverable,
}

impl Rollup {
    pub const ALL: [Rollup; 2] = [Rollup::Model, Rollup::Deliverable];

    fn as_str(self) -> &'static str {
        match self {
            Rollup::Model => "model",
            Rollup::Deliverable => "deliverable",
        }
    }

    fn parse(text: &str) -> Option<Rollup> {
        Rollup::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The rollup that answers this grouping, if one does.
    pub fn for_grouping(grouping: Grouping) -> Option<Rollup> {
        match grouping {
            Grouping::Column("model") => Some(Rollup::Model),
            Grouping::Column("deliverable") => Some(Rollup::Deliverable),
            _ => None,
        }
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

/// What one entry that counts in totals adds to the rollups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    pub model: Option<String>,
    pub deliverable: Option<String>,
    pub currency: String,
    pub day: i64,
    /// `None` when the entry is unpriced.
    pub micros: Option<i64>,
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
            model: entry.model.clone(),
            deliverable: entry.tags.deliverable.clone(),
            currency: cost.currency.code().to_string(),
            day: entry.occurred_at.day(),
            micros: cost.micros,
        })
    }

    /// The same, read from a stored view row (for `verify`).
    pub fn of_row(row: &Row) -> Result<Option<Counted>, StoreError> {
        if row.int("is_void")? != 0 || row.int("charged")? != 1 {
            return Ok(None);
        }
        let text = |name: &str| row.peek_text(name);
        Ok(Some(Counted {
            model: text("model")?,
            deliverable: text("deliverable")?,
            currency: text("cost_currency")?.unwrap_or_default(),
            day: row.int("day")?,
            micros: row.opt_int("cost_micros")?,
        }))
    }

    fn key(&self, rollup: Rollup) -> Option<String> {
        match rollup {
            Rollup::Model => self.model.clone(),
            Rollup::Deliverable => self.deliverable.clone(),
        }
    }
}

/// Sums per rollup row: the changes a write makes, or (in `verify`) what
/// the entries add up to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RollupSums(HashMap<RollupKey, RollupSum>);

impl RollupSums {
    /// Adds (`sign` 1) or takes away (`sign` -1) an entry's part.
    pub fn add(&mut self, counted: &Counted, sign: i64) {
        for rollup in Rollup::ALL {
            let key = RollupKey {
                rollup,
                key: counted.key(rollup),
                currency: counted.currency.clone(),
                day: counted.day,
            };
            let sum = self.0.entry(key).or_default();
            sum.micros += sign * counted.micros.unwrap_or(0);
            sum.entries += sign;
            sum.unpriced += sign * i64::from(counted.micros.is_none());
        }
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
        self.0.retain(|_, sum| !sum.is_zero());
        self
    }

    /// A row whose sums differ between the two (or that only one holds).
    pub fn first_difference<'a>(&'a self, other: &'a RollupSums) -> Option<&'a RollupKey> {
        let differs = |(key, sum): (&'a RollupKey, &RollupSum), other: &RollupSums| {
            (other.0.get(key) != Some(sum)).then_some(key)
        };
        self.0
            .iter()
            .find_map(|row| differs(row, other))
            .or_else(|| other.0.iter().find_map(|row| differs(row, self)))
    }

    /// The upsert that adds these changes to the table; `None` when they
    /// change nothing.
    pub fn upsert(self) -> Option<RowsInsert> {
        let mut values = Vec::new();
        for (key, sum) in self.0 {
            if sum.is_zero() {
                continue;
            }
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

/// A rollup's rows as the grouped sums totals fold, from day `since`
/// (inclusive) to `until` (exclusive).
pub async fn sums(
    session: &mut Session,
    rollup: Rollup,
    since: Option<i64>,
    until: Option<i64>,
) -> Result<Vec<SumRow>, StoreError> {
    let mut params = vec![Value::from(rollup.as_str())];
    let mut sql = String::from(
        "SELECT keyed, group_key, cost_currency, day, micros, entries, unpriced \
         FROM cost_rollups WHERE dimension = $1 AND entries <> 0",
    );
    for (day, term) in [(since, "day >="), (until, "day <")] {
        if let Some(day) = day {
            params.push(Value::Int(day));
            sql.push_str(&format!(" AND {term} ${}", params.len()));
        }
    }
    let rows = session.query(&sql, &params).await?;
    rows.into_iter()
        .map(|row| {
            let (key, sum) = read_row(rollup, row)?;
            Ok(SumRow {
                key: key.key,
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
        let rollup = Rollup::parse(&dimension).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "cost_rollups holds an unknown dimension '{dimension}'"
            ))
        })?;
        let (key, sum) = read_row(rollup, row)?;
        sums.0.insert(key, sum);
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
