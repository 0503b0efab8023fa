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
    Ok(Arc::new(
        all(session).await?.iter().map(BudgetScope::of).collect(),
    ))
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
                tx.execute(
                    "DELETE FROM budgets WHERE budget_key = $1",
                    std::slice::from_ref(&key),
                )
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
pub async fn recorded(
    session: &mut Session,
    key: &str,
    start: i64,
) -> Result<Vec<u32>, StoreError> {
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

/// Every stamp, by budget (the rates' under the empty key).
async fn stamps(session: &mut Session) -> Result<BTreeMap<String, i64>, StoreError> {
    Ok(session
        .query_map(
            "SELECT budget_key, stamp FROM budget_stamps",
            &[],
            |mut row| Ok((row.text("budget_key")?, row.int("stamp")?)),
        )
        .await?
        .into_iter()
        .collect())
}

/// A budget's figures over a period, in its currency.
pub async fn figures(
    session: &mut Session,
    rates: &mut Rates,
    budget: &Budget,
    period: &Period,
) -> Result<Figures, StoreError> {
    let mut all = figures_of(session, rates, &[(budget, period.clone())]).await?;
    all.pop()
        .ok_or_else(|| StoreError::Database("no figures computed".into()))
}

/// The figures of budgets over periods, in their currencies: the older
/// days' sums as this process kept them while their stamps stay the same
/// (read afresh otherwise), the last days read afresh — for all of them
/// in one query, as the stamps are, since a write checks each budget it
/// touched.
pub async fn figures_of(
    session: &mut Session,
    rates: &mut Rates,
    wanted: &[(&Budget, Period)],
) -> Result<Vec<Figures>, StoreError> {
    let today = crate::timestamp::today();
    let kept_ends: Vec<i64> = wanted
        .iter()
        .map(|(_, p)| (today - KEPT_AFTER_DAYS).clamp(p.start, p.end))
        .collect();
    let mut older = Vec::with_capacity(wanted.len());
    let stamps = if kept_ends
        .iter()
        .zip(wanted)
        .any(|(end, (_, p))| *end > p.start)
    {
        stamps(session).await?
    } else {
        BTreeMap::new()
    };
    for ((budget, period), kept_end) in wanted.iter().zip(&kept_ends) {
        if *kept_end <= period.start {
            older.push(FigureSums::default());
            continue;
        }
        let key = (budget.key(), period.start);
        let stamp = |k: &str| stamps.get(k).copied().unwrap_or(0);
        let stamps = (stamp(&key.0), stamp(""));
        let kept = KEPT.lock().ok().and_then(|kept| {
            kept.get(&key)
                .filter(|k| k.end == *kept_end && k.stamps == stamps && k.budget == **budget)
                .map(|k| k.sums)
        });
        let sums = match kept {
            Some(sums) => sums,
            None => {
                let days = Period {
                    end: *kept_end,
                    ..period.clone()
                };
                let sums = sums_of(session, rates, budget, &days).await?;
                if let Ok(mut kept) = KEPT.lock() {
                    let budget = (*budget).clone();
                    let end = *kept_end;
                    kept.insert(
                        key,
                        Kept {
                            budget,
                            end,
                            stamps,
                            sums,
                        },
                    );
                }
                sums
            }
        };
        older.push(sums);
    }
    // The last days of every budget wanted, in one query.
    let recent: Vec<(BudgetScope, i64, i64)> = wanted
        .iter()
        .zip(&kept_ends)
        .map(|((budget, period), start)| (BudgetScope::of(budget), *start, period.end))
        .collect();
    let rows = recent_rows(session, &recent).await?;
    let mut out = Vec::with_capacity(wanted.len());
    for (((budget, _), sums), (scope, start, end)) in wanted.iter().zip(older).zip(&recent) {
        let mine: Vec<SpendRow> = rows
            .iter()
            .filter(|(key, row)| {
                scope.sum_keys.contains(key) && row.day >= *start && row.day < *end
            })
            .map(|(_, row)| *row)
            .collect();
        let recent = convert(session, rates, budget, &mine).await?;
        out.push(sums.plus(&recent).figures());
    }
    Ok(out)
}

/// The sums of these budgets' days from each start on (a few days each),
/// with the key each row is of.
async fn recent_rows(
    session: &mut Session,
    wanted: &[(BudgetScope, i64, i64)],
) -> Result<Vec<(String, SpendRow)>, StoreError> {
    let Some(from) = wanted
        .iter()
        .filter(|(_, start, end)| start < end)
        .map(|(_, start, _)| *start)
        .min()
    else {
        return Ok(Vec::new());
    };
    let mut params = vec![Value::Int(from)];
    for (scope, _, _) in wanted {
        params.extend(scope.sum_keys.iter().map(|k| Value::Text(k.clone())));
    }
    let sql = format!(
        "SELECT group_key, cost_currency, day, micros, entries, unpriced FROM cost_rollups \
         WHERE dimension = 'budget' AND keyed = 1 AND group_key IN ({}) AND day >= $1 \
         AND entries <> 0",
        (2..=params.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    session
        .query_map(&sql, &params, |mut row| {
            let key = row.text("group_key")?;
            let (_, spend) = crate::ledger::budget::split_sum_key(&key).ok_or_else(|| {
                StoreError::Corrupt(format!("unreadable budget sums key '{key}'"))
            })?;
            let row = SpendRow {
                spend,
                currency: parse_currency(&row.text("cost_currency")?)?,
                day: row.int("day")?,
                micros: row.int("micros")?,
                entries: row.int("entries")?,
                unpriced: row.int("unpriced")?,
            };
            Ok((key, row))
        })
        .await
}

/// The sums of a budget's rows over some days, converted into its currency.
async fn sums_of(
    session: &mut Session,
    rates: &mut Rates,
    budget: &Budget,
    period: &Period,
) -> Result<FigureSums, StoreError> {
    let sums = FigureSums::default();
    if period.start >= period.end {
        return Ok(sums);
    }
    let rows = rows(session, budget, period).await?;
    convert(session, rates, budget, &rows).await
}

/// Rows of a budget's sums added up in its currency.
async fn convert(
    session: &mut Session,
    rates: &mut Rates,
    budget: &Budget,
    rows: &[SpendRow],
) -> Result<FigureSums, StoreError> {
    let mut sums = FigureSums::default();
    let mut currencies: Vec<Currency> = rows
        .iter()
        .map(|r| r.currency)
        .filter(|c| *c != budget.currency)
        .collect();
    if currencies.is_empty() {
        sums.add_rows(rows, budget.currency, |_, _, _| Err::<i128, ()>(()));
        return Ok(sums);
    }
    currencies.push(budget.currency);
    let table = rates.table(session, currencies).await?;
    sums.add_rows(rows, budget.currency, |micros, from, day| {
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
    /// The budgets, when the transaction read them already.
    pub budgets: Option<Arc<Vec<Budget>>>,
}

/// The thresholds crossed, or the refusal of a hold.
pub async fn check(tx: &mut Session, after: AfterWrite) -> Result<Vec<BudgetAlert>, StoreError> {
    if after.touched.is_empty() && after.set.is_empty() && after.hold.is_none() {
        return Ok(Vec::new());
    }
    let budgets = match after.budgets {
        Some(budgets) => budgets,
        None => Arc::new(all(tx).await?),
    };
    let hold = match after.hold {
        Some(id) => load_entry(tx, id).await?,
        None => None,
    };
    // Each (budget, period) the writes touched, once; whether the hold is in it.
    let mut days: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for (key, day) in &after.touched {
        days.entry(key.clone()).or_default().insert(*day);
    }
    for key in &after.set {
        days.entry(key.clone()).or_default().insert(after.today);
    }
    let mut wanted: Vec<(&Budget, Period, bool)> = Vec::new();
    for budget in budgets.iter() {
        let scope = BudgetScope::of(budget);
        let mut touched = days.remove(&scope.key).unwrap_or_default();
        let held_day = hold
            .as_ref()
            .filter(|entry| {
                budget.hard
                    && scope.counts(&entry.tags, entry.model.as_deref(), entry.occurred_at.day())
            })
            .map(|entry| entry.occurred_at.day());
        touched.extend(held_day);
        let mut seen = BTreeSet::new();
        for day in touched {
            let Some(period) = budget.period_of(day) else {
                continue;
            };
            if seen.insert(period.start) {
                let holds = held_day.is_some_and(|d| period_holds(&period, d));
                wanted.push((budget, period, holds));
            }
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut rates = Rates::default();
    let pairs: Vec<(&Budget, Period)> = wanted.iter().map(|(b, p, _)| (*b, p.clone())).collect();
    let figures = figures_of(tx, &mut rates, &pairs).await?;
    let recorded = recorded_of(tx, &wanted).await?;
    let mut alerts = Vec::new();
    for ((budget, period, holds), figures) in wanted.iter().zip(&figures) {
        if let (true, Some(entry)) = (*holds, hold.as_ref()) {
            refuse_if_over(tx, &mut rates, budget, period, figures, entry).await?;
        }
        let done: Vec<u32> = recorded
            .iter()
            .filter(|(key, start, _)| *key == budget.key() && *start == period.start)
            .map(|(_, _, threshold)| *threshold)
            .collect();
        for threshold in budget.crossed(figures, &done) {
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
    Ok(alerts)
}

/// The thresholds crossed so far by these budgets, in one query: (budget,
/// period start, threshold).
async fn recorded_of(
    session: &mut Session,
    wanted: &[(&Budget, Period, bool)],
) -> Result<Vec<(String, i64, u32)>, StoreError> {
    let mut keys: Vec<String> = wanted.iter().map(|(b, _, _)| b.key()).collect();
    keys.sort();
    keys.dedup();
    let sql = format!(
        "SELECT budget_key, period_start, threshold FROM budget_alerts WHERE budget_key IN ({})",
        super::value::placeholders(keys.len())
    );
    let params: Vec<Value> = keys.into_iter().map(Value::Text).collect();
    session
        .query_map(&sql, &params, |mut row| {
            Ok((
                row.text("budget_key")?,
                row.int("period_start")?,
                u32::try_from(row.int("threshold")?).unwrap_or(u32::MAX),
            ))
        })
        .await
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
    let mut no_rate = None;
    let estimate = match entry.estimate.micros {
        None => None,
        Some(micros) if entry.estimate.currency == budget.currency => Some(micros),
        Some(micros) => {
            let table = rates
                .table(tx, vec![entry.estimate.currency, budget.currency])
                .await?;
            let day = entry.occurred_at.day();
            match table.convert(micros, entry.estimate.currency, budget.currency, day) {
                Ok((converted, _)) => Some(converted),
                Err(e) => {
                    no_rate = Some(e.to_string());
                    None
                }
            }
        }
    };
    // An amount no rate converts cannot be held, whatever the budget allows.
    let unpriced = estimate.is_none() && (!budget.allow_unpriced || no_rate.is_some());
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
                no_rate,
            },
        ))));
    }
    Ok(())
}
