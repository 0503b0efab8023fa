//! The budgets and budget_alerts tables, written from the budget events in
//! the transaction that appends them; each budget's sums (rows of
//! cost_rollups) kept with every write; and the check a transaction makes
//! of its budgets before it commits: which thresholds its writes crossed,
//! and whether a hold takes a hard budget over.

use super::columns::{parse_currency, ENTRY_LIST};
use super::error::StoreError;
use super::queries::load_entry;
use super::rollups::{CountedRef, RollupSums};
use super::session::Session;
use super::value::{Row, Value};
use crate::fx::RateTable;
use crate::ledger::budget::{
    sum_keys_of, Budget, BudgetAlert, BudgetRefusal, BudgetScope, FigureSums, Figures, Period,
    SpendRow,
};
use crate::ledger::tags::fold;
use crate::ledger::{Event, EventBody, LedgerError};
use crate::money::Currency;
use crate::timestamp::day_label;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use uuid::Uuid;

fn budget_from_row(mut row: Row) -> Result<Budget, StoreError> {
    let definition = row.text("definition")?;
    serde_json::from_str(&definition)
        .map_err(|e| StoreError::Corrupt(format!("budget definition unreadable: {e}")))
}

/// Every budget, by name.
pub async fn all(session: &mut Session) -> Result<Vec<Budget>, StoreError> {
    session
        .query_map(
            "SELECT definition FROM budgets ORDER BY budget_key",
            &[],
            budget_from_row,
        )
        .await
}

/// The budget with this name (folded), if any.
pub async fn named(session: &mut Session, name: &str) -> Result<Option<Budget>, StoreError> {
    let rows = session
        .query_map(
            "SELECT definition FROM budgets WHERE budget_key = $1",
            &[Value::Text(fold(name))],
            budget_from_row,
        )
        .await?;
    Ok(rows.into_iter().next())
}

/// The budgets compiled for counting entries.
pub async fn scopes(session: &mut Session) -> Result<Arc<Vec<BudgetScope>>, StoreError> {
    Ok(Arc::new(all(session).await?.iter().map(BudgetScope::of).collect()))
}

/// Every stored budget as (folded name, definition, event), and every
/// crossed threshold as (folded name, period start, threshold, event), for
/// `verify`.
pub type StoredBudgets = (Vec<(String, String, i64)>, Vec<(String, i64, i64, i64)>);

pub async fn stored(session: &mut Session) -> Result<StoredBudgets, StoreError> {
    let budgets = session
        .query_map(
            "SELECT budget_key, definition, event_seq FROM budgets ORDER BY budget_key",
            &[],
            |mut row| {
                Ok((
                    row.text("budget_key")?,
                    row.text("definition")?,
                    row.int("event_seq")?,
                ))
            },
        )
        .await?;
    let alerts = session
        .query_map(
            "SELECT budget_key, period_start, threshold, event_seq FROM budget_alerts \
             ORDER BY budget_key, period_start, threshold",
            &[],
            |mut row| {
                Ok((
                    row.text("budget_key")?,
                    row.int("period_start")?,
                    row.int("threshold")?,
                    row.int("event_seq")?,
                ))
            },
        )
        .await?;
    Ok((budgets, alerts))
}

/// Applies the budget events to their tables; returns the budgets set or
/// removed (folded names), whose sums are then recomputed whole.
pub async fn apply<'a>(
    tx: &mut Session,
    events: impl Iterator<Item = (&'a Event, &'a EventBody)>,
) -> Result<Vec<String>, StoreError> {
    let mut changed = Vec::new();
    for (event, body) in events {
        match body {
            EventBody::BudgetSet(set) => {
                let key = set.budget.key();
                let definition = serde_json::to_string(&set.budget)
                    .map_err(|e| StoreError::Database(e.to_string()))?;
                tx.execute(
                    "DELETE FROM budgets WHERE budget_key = $1",
                    &[Value::Text(key.clone())],
                )
                .await?;
                tx.execute(
                    "INSERT INTO budgets (budget_key, definition, event_seq) VALUES ($1, $2, $3)",
                    &[
                        Value::Text(key.clone()),
                        Value::Text(definition),
                        Value::Int(event.seq),
                    ],
                )
                .await?;
                changed.push(key);
            }
            EventBody::BudgetRemoved(removed) => {
                let key = Value::Text(fold(&removed.name));
                tx.execute("DELETE FROM budgets WHERE budget_key = $1", &[key.clone()])
                    .await?;
                tx.execute("DELETE FROM budget_alerts WHERE budget_key = $1", &[key])
                    .await?;
                changed.push(fold(&removed.name));
            }
            EventBody::BudgetThresholdCrossed(alert) => {
                let start = crate::timestamp::parse_day(&alert.period_start).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "event {}: unreadable period start '{}'",
                        event.seq, alert.period_start
                    ))
                })?;
                tx.execute(
                    "INSERT INTO budget_alerts (budget_key, period_start, threshold, event_seq) \
                     VALUES ($1, $2, $3, $4)",
                    &[
                        Value::Text(fold(&alert.budget)),
                        Value::Int(start),
                        Value::Int(i64::from(alert.threshold)),
                        Value::Int(event.seq),
                    ],
                )
                .await?;
            }
            _ => {}
        }
    }
    Ok(changed)
}

/// Recomputes the sums of these budgets from the entries (a budget set
/// counts what is already logged; one removed counts nothing).
pub async fn recompute(tx: &mut Session, keys: &[String]) -> Result<(), StoreError> {
    for key in keys {
        let mut params: Vec<Value> = vec![Value::from("budget")];
        params.extend(sum_keys_of(key).into_iter().map(Value::Text));
        tx.execute(
            "DELETE FROM cost_rollups WHERE dimension = $1 AND keyed = 1 \
             AND group_key IN ($2, $3, $4, $5, $6)",
            &params,
        )
        .await?;
        let Some(budget) = named(tx, key).await? else {
            continue;
        };
        let scope = BudgetScope::of(&budget);
        let mut sql = format!(
            "SELECT {ENTRY_LIST} FROM entries WHERE is_void = 0 AND charged = 1 AND day >= $1"
        );
        let mut params = vec![Value::Int(scope.from_day)];
        for (column, value) in [
            ("client_key", &scope.client),
            ("project_key", &scope.project),
            ("deliverable_key", &scope.deliverable),
        ] {
            if let Some(value) = value {
                params.push(Value::Text(value.clone()));
                sql.push_str(&format!(" AND {column} = ${}", params.len()));
            }
        }
        let sums = RollupSums::with_budgets(Arc::new(vec![scope]));
        let sums = tx
            .query_fold(&sql, &params, sums, |sums, cells| {
                if let Some(counted) = CountedRef::of_cells(cells)? {
                    sums.add_ref(&counted, 1);
                }
                Ok(())
            })
            .await?;
        super::append::write_rollups(tx, sums.only_budgets()).await?;
    }
    Ok(())
}

/// A budget's sums over a period: those already in its currency added up
/// by the database (one row per state), the others per day, to convert at
/// each day's rate.
pub async fn rows(
    session: &mut Session,
    budget: &Budget,
    period: &Period,
) -> Result<Vec<SpendRow>, StoreError> {
    let scope = BudgetScope::of(budget);
    let mut params: Vec<Value> = scope
        .sum_keys
        .iter()
        .map(|k| Value::Text(k.clone()))
        .collect();
    params.push(Value::Int(period.start));
    params.push(Value::Int(period.end));
    params.push(Value::Text(budget.currency.code().to_string()));
    session
        .query_map(
            "SELECT group_key, cost_currency, MIN(day) AS day, \
             CAST(SUM(micros) AS BIGINT) AS micros, CAST(SUM(entries) AS BIGINT) AS entries, \
             CAST(SUM(unpriced) AS BIGINT) AS unpriced FROM cost_rollups \
             WHERE dimension = 'budget' AND keyed = 1 AND group_key IN ($1, $2, $3, $4, $5) \
             AND day >= $6 AND day < $7 AND entries <> 0 \
             GROUP BY group_key, cost_currency, CASE WHEN cost_currency = $8 THEN 0 ELSE day END",
            &params,
            |mut row| {
                let key = row.text("group_key")?;
                let (_, spend) = crate::ledger::budget::split_sum_key(&key).ok_or_else(|| {
                    StoreError::Corrupt(format!("unreadable budget sums key '{key}'"))
                })?;
                Ok(SpendRow {
                    spend,
                    currency: parse_currency(&row.text("cost_currency")?)?,
                    day: row.int("day")?,
                    micros: row.int("micros")?,
                    entries: row.int("entries")?,
                    unpriced: row.int("unpriced")?,
                })
            },
        )
        .await
}

/// The thresholds a budget crossed in the period starting `start`.
pub async fn recorded(session: &mut Session, key: &str, start: i64) -> Result<Vec<u32>, StoreError> {
    session
        .query_map(
            "SELECT threshold FROM budget_alerts WHERE budget_key = $1 AND period_start = $2",
            &[Value::Text(key.to_string()), Value::Int(start)],
            |row| Ok(u32::try_from(row.int("threshold")?).unwrap_or(u32::MAX)),
        )
        .await
}

/// Rate tables for converting into a budget's currency, read once per
/// set of currencies a transaction needs.
#[derive(Default)]
pub struct Rates {
    tables: BTreeMap<Vec<Currency>, RateTable>,
}

impl Rates {
    async fn table(
        &mut self,
        session: &mut Session,
        mut currencies: Vec<Currency>,
    ) -> Result<&RateTable, StoreError> {
        currencies.sort();
        currencies.dedup();
        if !self.tables.contains_key(&currencies) {
            let stored = super::rates::load(session, Some(&currencies)).await?;
            let table = crate::fx::embedded::table_with(Some(&currencies), stored)
                .map_err(StoreError::Database)?;
            self.tables.insert(currencies.clone(), table);
        }
        Ok(&self.tables[&currencies])
    }
}

/// A write that changes a budget's sums on a day this many days before
/// its own changes the budget's stamp...
const STAMPED_AFTER_DAYS: i64 = 7;
/// ...and a process keeps the sums of the days this many days before
/// today: a day apart, so clocks a little apart still agree.
const KEPT_AFTER_DAYS: i64 = 8;

/// The sums of a budget's older days as this process last computed them,
/// by (budget, period start).
struct Kept {
    budget: Budget,
    /// The days kept end here (exclusive).
    end: i64,
    /// The budget's stamp and the rates' stamp then.
    stamps: (i64, i64),
    sums: FigureSums,
}

static KEPT: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<(String, i64), Kept>>> =
    std::sync::LazyLock::new(Default::default);

/// A new stamp: random, so that the stamp of a transaction rolled back
/// never comes back.
fn new_stamp() -> i64 {
    let bytes = *Uuid::new_v4().as_bytes();
    i64::from_le_bytes(bytes[..8].try_into().unwrap_or_default())
}

/// Gives these budgets (the empty key: the exchange rates) a new stamp.
pub async fn restamp(tx: &mut Session, keys: &[String]) -> Result<(), StoreError> {
    for key in keys {
        tx.execute(
            "INSERT INTO budget_stamps (budget_key, stamp) VALUES ($1, $2) \
             ON CONFLICT (budget_key) DO UPDATE SET stamp = excluded.stamp",
            &[Value::Text(key.clone()), Value::Int(new_stamp())],
        )
        .await?;
    }
    Ok(())
}

/// The budgets whose older days these changes touch (see `STAMPED_AFTER_DAYS`).
pub fn touched_old(touched: &[(String, i64)], today: i64) -> Vec<String> {
    let mut keys: Vec<String> = touched
        .iter()
        .filter(|(_, day)| *day < today - STAMPED_AFTER_DAYS)
        .map(|(key, _)| key.clone())
        .collect();
    keys.dedup();
    keys
}

async fn stamps(session: &mut Session, key: &str) -> Result<(i64, i64), StoreError> {
    let rows = session
        .query_map(
            "SELECT budget_key, stamp FROM budget_stamps WHERE budget_key IN ($1, '')",
            &[Value::Text(key.to_string())],
            |mut row| Ok((row.text("budget_key")?, row.int("stamp")?)),
        )
        .await?;
    let of = |k: &str| rows.iter().find(|(key, _)| key == k).map_or(0, |(_, s)| *s);
    Ok((of(key), of("")))
}

/// A budget's figures over a period, in its currency: the older days'
/// sums as this process kept them while their stamps stay the same, the
/// last days read afresh.
pub async fn figures(
    session: &mut Session,
    rates: &mut Rates,
    budget: &Budget,
    period: &Period,
) -> Result<Figures, StoreError> {
    let kept_end = (crate::timestamp::today() - KEPT_AFTER_DAYS).clamp(period.start, period.end);
    let mut sums = FigureSums::default();
    if kept_end > period.start {
        let key = (budget.key(), period.start);
        let stamps = stamps(session, &key.0).await?;
        let kept = KEPT.lock().ok().and_then(|kept| {
            kept.get(&key)
                .filter(|k| k.end == kept_end && k.stamps == stamps && k.budget == *budget)
                .map(|k| k.sums)
        });
        sums = match kept {
            Some(sums) => sums,
            None => {
                let older = Period {
                    end: kept_end,
                    ..period.clone()
                };
                let sums = sums_of(session, rates, budget, &older).await?;
                if let Ok(mut kept) = KEPT.lock() {
                    kept.insert(
                        key,
                        Kept {
                            budget: budget.clone(),
                            end: kept_end,
                            stamps,
                            sums,
                        },
                    );
                }
                sums
            }
        };
    }
    let recent = Period {
        start: kept_end,
        ..period.clone()
    };
    let recent = sums_of(session, rates, budget, &recent).await?;
    Ok(sums.plus(&recent).figures())
}

/// The sums of a budget's rows over some days, converted into its currency.
async fn sums_of(
    session: &mut Session,
    rates: &mut Rates,
    budget: &Budget,
    period: &Period,
) -> Result<FigureSums, StoreError> {
    let mut sums = FigureSums::default();
    if period.start >= period.end {
        return Ok(sums);
    }
    let rows = rows(session, budget, period).await?;
    let mut currencies: Vec<Currency> = rows
        .iter()
        .map(|r| r.currency)
        .filter(|c| *c != budget.currency)
        .collect();
    if currencies.is_empty() {
        sums.add_rows(&rows, budget.currency, |_, _, _| Err::<i128, ()>(()));
        return Ok(sums);
    }
    currencies.push(budget.currency);
    let table = rates.table(session, currencies).await?;
    sums.add_rows(&rows, budget.currency, |micros, from, day| {
        table
            .convert_picos(micros, from, budget.currency, day)
            .map(|(picos, _)| picos)
    });
    Ok(sums)
}

/// What a transaction's writes did to its budgets, checked before it
/// commits: the budgets' sums already hold the writes.
pub struct AfterWrite {
    /// (budget, day) pairs whose sums changed.
    pub touched: Vec<(String, i64)>,
    /// Budgets set in the transaction (counted from today's period).
    pub set: Vec<String>,
    /// A run held before it starts: refused if it takes a hard budget over.
    pub hold: Option<Uuid>,
    /// The entry whose write crossed a threshold, named in the alert.
    pub entry: Option<Uuid>,
    pub today: i64,
}

/// The thresholds crossed, or the refusal of a hold.
pub async fn check(tx: &mut Session, after: AfterWrite) -> Result<Vec<BudgetAlert>, StoreError> {
    if after.touched.is_empty() && after.set.is_empty() && after.hold.is_none() {
        return Ok(Vec::new());
    }
    let budgets = all(tx).await?;
    let hold = match after.hold {
        Some(id) => load_entry(tx, id).await?,
        None => None,
    };
    // Each (budget, period) once.
    let mut periods: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for (key, day) in &after.touched {
        periods.entry(key.clone()).or_default().insert(*day);
    }
    for key in &after.set {
        periods.entry(key.clone()).or_default().insert(after.today);
    }
    let mut rates = Rates::default();
    let mut alerts = Vec::new();
    for budget in &budgets {
        let scope = BudgetScope::of(budget);
        let mut days = periods.remove(&scope.key).unwrap_or_default();
        let held_here = hold.as_ref().filter(|entry| {
            budget.hard
                && scope.matches(
                    entry.tags.client.as_deref().map(fold).as_deref(),
                    entry.tags.project.as_deref().map(fold).as_deref(),
                    entry.tags.deliverable.as_deref().map(fold).as_deref(),
                    entry.model.as_deref(),
                    entry.occurred_at.day(),
                )
        });
        if let Some(entry) = held_here {
            days.insert(entry.occurred_at.day());
        }
        let mut seen = BTreeSet::new();
        for day in days {
            let Some(period) = budget.period_of(day) else {
                continue;
            };
            if !seen.insert(period.start) {
                continue;
            }
            let figures = figures(tx, &mut rates, budget, &period).await?;
            if let Some(entry) = held_here.filter(|e| period_holds(&period, e.occurred_at.day())) {
                refuse_if_over(tx, &mut rates, budget, &period, &figures, entry).await?;
            }
            let done = recorded(tx, &scope.key, period.start).await?;
            for threshold in budget.crossed(&figures, &done) {
                alerts.push(BudgetAlert {
                    budget: budget.name.clone(),
                    threshold,
                    period: period.label.clone(),
                    period_start: day_label(period.start),
                    spent_micros: figures.spent(),
                    held_micros: figures.held,
                    remaining_micros: figures.remaining(budget.amount_micros),
                    currency: budget.currency,
                    entry_id: after.entry,
                });
            }
        }
    }
    Ok(alerts)
}

fn period_holds(period: &Period, day: i64) -> bool {
    day >= period.start && day < period.end
}

/// Refuses a hold that takes a hard budget over its amount, or that has no
/// price where the budget does not let unpriced runs through.
async fn refuse_if_over(
    tx: &mut Session,
    rates: &mut Rates,
    budget: &Budget,
    period: &Period,
    figures: &Figures,
    entry: &crate::ledger::Entry,
) -> Result<(), StoreError> {
    let estimate = match entry.estimate.micros {
        None => None,
        Some(micros) if entry.estimate.currency == budget.currency => Some(micros),
        Some(micros) => {
            let table = rates
                .table(tx, vec![entry.estimate.currency, budget.currency])
                .await?;
            table
                .convert(
                    micros,
                    entry.estimate.currency,
                    budget.currency,
                    entry.occurred_at.day(),
                )
                .ok()
                .map(|(converted, _)| converted)
        }
    };
    let unpriced = estimate.is_none() && !budget.allow_unpriced;
    if unpriced || budget.is_over(figures) {
        // The figures hold the run already: it is shown apart.
        let held = figures.held.saturating_sub(estimate.unwrap_or(0));
        return Err(StoreError::Refused(LedgerError::BudgetExceeded(Box::new(
            BudgetRefusal {
                budget: budget.name.clone(),
                amount_micros: budget.amount_micros,
                currency: budget.currency,
                spent_micros: figures.spent(),
                held_micros: held,
                estimate_micros: estimate,
                period: period.label.clone(),
            },
        ))));
    }
    Ok(())
}
