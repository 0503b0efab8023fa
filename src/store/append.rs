//! Writes to the ledger: a command's events are sealed onto the chain and
//! applied to the view in the caller's write transaction. Nothing is
//! updated in place but the view rows the events change.

use super::columns::{
    entry_cells, entry_values, event_values, ENTRY_LIST, ENTRY_TYPES, EVENT_LIST, EVENT_TYPES,
};
use super::error::StoreError;
use super::queries::{last_position, load_context, load_entry, read_head};
use super::rollups::{Counted, RollupSums};
use super::session::Session;
use super::value::{Column, RowsInsert, Value};
use super::Executed;
use crate::ledger::budget::BudgetScope;
use crate::ledger::event::LedgerReset;
use crate::ledger::replay::{apply_change, into_entry, Positions};
use crate::ledger::tags::fold;
use crate::ledger::{
    decide, Command, Entry, Event, EventBody, Head, ImportedIndex, LogResult, Outcome,
};
use crate::ledger::{TagField, Tags};
use crate::timestamp::Timestamp;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;
use uuid::Uuid;

/// Events (or entries) sealed and handed to the database at a time (one
/// UNNEST insert per table on PostgreSQL, one worker job on SQLite).
const INSERT_CHUNK: usize = 1000;

/// Loads what the command needs, decides, appends its events after the
/// head and applies them to the view.
pub async fn run_command(
    tx: &mut Session,
    command: Command,
    at: Timestamp,
) -> Result<Executed, StoreError> {
    let holds = matches!(command, Command::Hold(_));
    let budgets = Arc::new(super::budgets::all(tx).await?);
    let scopes = budgets.iter().map(BudgetScope::of).collect();
    let mut rollups = RollupSums::with_budgets(Arc::new(scopes));
    let mut executed = run_command_with(tx, command, at, None, &mut rollups).await?;
    let hold = match &executed.outcome {
        Outcome::Logged(results) if holds => results.iter().find_map(|r| match r {
            LogResult::New(id) => Some(*id),
            LogResult::Existing(_) => None,
        }),
        _ => None,
    };
    // An alert names the entry whose write crossed it when the write was of
    // one entry (a batch's alert names none).
    let mut entries = executed.events.iter().filter_map(|e| e.entry_id);
    let entry = entries
        .next()
        .filter(|first| entries.all(|id| id == *first));
    let alerts = finish_write(tx, rollups, hold, entry, at, Some(budgets)).await?;
    executed.events.extend(alerts);
    Ok(executed)
}

/// What every write transaction does before it commits: writes the
/// rollups, recomputes the budgets set in it, then checks its budgets —
/// a hold that takes a hard budget over is refused (the caller then drops
/// the transaction), and each threshold crossed is recorded as an event,
/// with a delivery owed to each webhook that wants it. Returns the alert
/// events appended.
pub async fn finish_write(
    tx: &mut Session,
    mut rollups: RollupSums,
    hold: Option<Uuid>,
    entry: Option<Uuid>,
    at: Timestamp,
    budgets: Option<Arc<Vec<crate::ledger::budget::Budget>>>,
) -> Result<Vec<Event>, StoreError> {
    let set = rollups.take_budgets_set();
    let touched = rollups.budget_days();
    rollups.forget_budgets(&set);
    write_rollups(tx, rollups).await?;
    super::budgets::recompute(tx, &set).await?;
    let mut restamped = super::budgets::touched_old(&touched, at.day());
    restamped.extend(set.iter().cloned());
    super::budgets::restamp(tx, &restamped).await?;
    let budgets = budgets.filter(|_| set.is_empty());
    let check = super::budgets::AfterWrite {
        touched,
        set,
        hold,
        entry,
        today: at.day(),
        // Budgets set in this transaction are read again.
        budgets,
    };
    let alerts = super::budgets::check(tx, check).await?;
    if alerts.is_empty() {
        return Ok(Vec::new());
    }
    let command = Command::RecordAlerts(alerts.clone());
    let mut none = RollupSums::default();
    let recorded = run_command_with(tx, command, at, None, &mut none).await?;
    super::webhooks::enqueue_alerts(tx, &alerts, at).await?;
    Ok(recorded.events)
}

/// `run_command`, with the imported entries already loaded (see
/// `queries::load_context`), adding the command's change to the cost
/// rollups to `rollups` for the caller to write before it commits (see
/// `write_rollups`).
pub async fn run_command_with(
    tx: &mut Session,
    command: Command,
    at: Timestamp,
    imported: Option<Arc<ImportedIndex>>,
    rollups: &mut RollupSums,
) -> Result<Executed, StoreError> {
    let context = load_context(tx, &command, imported).await?;
    let (bodies, outcome) = decide(command, &context)?;
    let mut head = read_head(tx).await?;
    let mut positions = entry_positions(tx, &bodies).await?;
    let mut events: Vec<Event> = Vec::with_capacity(bodies.len());
    let mut sealing_failed = None;
    // Events are sealed chunk by chunk, while the previous chunk is written.
    let mut groups = insert_ranges(&bodies).into_iter().map_while(|range| {
        let chunk = &bodies[range];
        let sealed: Result<Vec<Event>, _> =
            chunk.iter().map(|body| head.append(body, at)).collect();
        match sealed {
            Ok(sealed) => {
                let group = append_statements(sealed.iter().zip(chunk), &mut positions, rollups);
                events.extend(sealed);
                Some(group)
            }
            Err(e) => {
                sealing_failed = Some(e);
                None
            }
        }
    });
    tx.insert_groups(&mut groups).await?;
    drop(groups);
    if let Some(e) = sealing_failed {
        return Err(StoreError::Database(e.to_string()));
    }
    apply_changes(tx, events.iter().zip(&bodies), context.entries, rollups).await?;
    super::invoices::apply(tx, events.iter().zip(&bodies)).await?;
    let set = super::budgets::apply(tx, events.iter().zip(&bodies)).await?;
    rollups.note_budgets_set(set);
    Ok(Executed { events, outcome })
}

/// Adds the rollup changes of a transaction's commands to the table, once
/// per row however many commands changed it: one upsert per chunk cost a
/// large import a quarter of its time.
pub async fn write_rollups(tx: &mut Session, rollups: RollupSums) -> Result<(), StoreError> {
    match rollups.upsert() {
        Some(upsert) => tx.insert_groups(&mut std::iter::once(vec![upsert])).await,
        None => Ok(()),
    }
}

/// Appends events exactly as given (from another ledger), checking that they
/// continue this chain, and applies them to the view. Returns how many rows
/// that was: the events, counting one per entry an import event logs.
pub async fn append_verbatim(tx: &mut Session, events: &[Event]) -> Result<usize, StoreError> {
    let head = read_head(tx).await?;
    check_continues(head, events)?;
    let bodies = events
        .iter()
        .map(|event| event.body().map_err(|e| StoreError::Corrupt(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rollups = RollupSums::with_budgets(super::budgets::scopes(tx).await?);
    let mut positions = entry_positions(tx, &bodies).await?;
    let mut groups = insert_ranges(&bodies).into_iter().map(|range| {
        let events = events[range.clone()].iter();
        append_statements(events.zip(&bodies[range]), &mut positions, &mut rollups)
    });
    tx.insert_groups(&mut groups).await?;
    drop(groups);
    apply_changes(tx, events.iter().zip(&bodies), HashMap::new(), &mut rollups).await?;
    super::invoices::apply(tx, events.iter().zip(&bodies)).await?;
    let set = super::budgets::apply(tx, events.iter().zip(&bodies)).await?;
    let mut restamped = super::budgets::touched_old(&rollups.budget_days(), Timestamp::now().day());
    restamped.extend(set.iter().cloned());
    rollups.forget_budgets(&set);
    write_rollups(tx, rollups).await?;
    super::budgets::recompute(tx, &set).await?;
    super::budgets::restamp(tx, &restamped).await?;
    Ok(bodies.iter().map(|b| b.logged_count().max(1)).sum())
}

/// Clears events and entries if the head is still `expected`, and starts a
/// new chain with `first`.
pub async fn reset_chain(
    tx: &mut Session,
    expected: Head,
    first: LedgerReset,
    at: Timestamp,
) -> Result<Event, StoreError> {
    if read_head(tx).await? != expected {
        return Err(StoreError::Conflict(
            "the ledger changed while the backup was written; nothing was removed, run reset again"
                .into(),
        ));
    }
    tx.execute("DELETE FROM entries", &[]).await?;
    tx.execute("DELETE FROM cost_rollups", &[]).await?;
    tx.execute("DELETE FROM tag_spellings", &[]).await?;
    tx.execute("DELETE FROM invoice_locks", &[]).await?;
    tx.execute("DELETE FROM invoices", &[]).await?;
    tx.execute("DELETE FROM budget_alerts", &[]).await?;
    tx.execute("DELETE FROM budgets", &[]).await?;
    // Whatever a process kept of the budgets' sums is of the old entries.
    let keys = tx
        .query_map("SELECT budget_key FROM budget_stamps", &[], |mut row| {
            row.text("budget_key")
        })
        .await?;
    super::budgets::restamp(tx, &keys).await?;
    tx.execute("DELETE FROM events", &[]).await?;
    let mut head = Head::EMPTY;
    let body = EventBody::LedgerReset(first);
    let event = head
        .append(&body, at)
        .map_err(|e| StoreError::Database(e.to_string()))?;
    let mut rollups = RollupSums::default();
    let group = append_statements(
        std::iter::once((&event, &body)),
        &mut Positions::default(),
        &mut rollups,
    );
    tx.insert_groups(&mut std::iter::once(group)).await?;
    write_rollups(tx, rollups).await?;
    Ok(event)
}

/// Splits events into the groups handed to the database at a time: at most
/// `INSERT_CHUNK` events, and about as many entries (an import's event logs
/// up to a thousand), so each group is sealed while the one before it is
/// written.
fn insert_ranges(bodies: &[EventBody]) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let (mut start, mut entries) = (0, 0);
    for (i, body) in bodies.iter().enumerate() {
        let logs = body.logged_count().max(1);
        if i > start && (i - start == INSERT_CHUNK || entries + logs > INSERT_CHUNK) {
            ranges.push(start..i);
            (start, entries) = (i, 0);
        }
        entries += logs;
    }
    if start < bodies.len() {
        ranges.push(start..bodies.len());
    }
    ranges
}

/// Refuses events that do not continue this chain exactly.
fn check_continues(head: Head, events: &[Event]) -> Result<(), StoreError> {
    let mut expected = head;
    for event in events {
        if event.seq != expected.seq + 1 || event.prev_hash != expected.hash {
            return Err(StoreError::Conflict(format!(
                "event {} does not continue the target chain at event {}",
                event.seq, expected.seq
            )));
        }
        if event.compute_hash() != event.hash {
            return Err(StoreError::Conflict(format!(
                "event {}: hash does not match its contents",
                event.seq
            )));
        }
        expected = Head {
            seq: event.seq,
            hash: event.hash,
        };
    }
    Ok(())
}

/// Where the entries these events log will stand in log order (the last
/// position is only read when some do).
async fn entry_positions(tx: &mut Session, bodies: &[EventBody]) -> Result<Positions, StoreError> {
    if bodies.iter().any(EventBody::logs_entries) {
        Ok(Positions::after(last_position(tx).await?))
    } else {
        Ok(Positions::default())
    }
}

/// The INSERTs that append these events (at most `INSERT_CHUNK`) and add the
/// entries they log to the view, numbered by `positions`; the entries' part
/// in the cost rollups is added to `rollups`.
fn append_statements<'a>(
    events: impl Iterator<Item = (&'a Event, &'a EventBody)>,
    positions: &mut Positions,
    rollups: &mut RollupSums,
) -> Vec<RowsInsert> {
    let mut event_rows = Vec::new();
    let mut entry_rows = Vec::new();
    let mut spellings = Spellings::default();
    for (event, body) in events {
        event_rows.extend(event_values(event));
        for record in body.logged_records() {
            spellings.note(&record.tags);
            let position = positions.next(event.seq);
            let entry = into_entry(record.into_owned(), position, event.recorded_at);
            rollups.add_entry(&entry);
            entry_cells(entry, &mut entry_rows);
        }
    }
    let mut statements = Vec::with_capacity(2);
    if !event_rows.is_empty() {
        statements.push(RowsInsert {
            table: "events",
            columns: EVENT_LIST,
            types: EVENT_TYPES,
            values: event_rows,
            on_conflict: "",
        });
    }
    if !entry_rows.is_empty() {
        statements.push(RowsInsert {
            table: "entries",
            columns: ENTRY_LIST,
            types: ENTRY_TYPES,
            values: entry_rows,
            on_conflict: "",
        });
    }
    statements.extend(spellings.insert());
    statements
}

/// The tag names a group of entries carries, each once, for
/// `tag_spellings` (the first spelling of a name stays).
#[derive(Default)]
struct Spellings {
    /// Per field, the names noted as spelled (looked up without folding
    /// them first) and as folded.
    spelled: [HashSet<String>; 3],
    folded: [HashSet<String>; 3],
    values: Vec<Value>,
}

impl Spellings {
    fn note(&mut self, tags: &Tags) {
        for field in TagField::ALL {
            let Some(name) = tags.get(field) else {
                continue;
            };
            let at = field.index();
            if self.spelled[at].contains(name) {
                continue;
            }
            self.spelled[at].insert(name.to_string());
            let folded = fold(name);
            if self.folded[at].insert(folded.clone()) {
                self.values.push(Value::Text(field.column().to_string()));
                self.values.push(Value::Text(folded));
                self.values.push(Value::Text(name.to_string()));
            }
        }
    }

    fn insert(self) -> Option<RowsInsert> {
        (!self.values.is_empty()).then_some(RowsInsert {
            table: "tag_spellings",
            columns: "field, folded, name",
            types: &[Column::Text, Column::Text, Column::Text],
            values: self.values,
            on_conflict: "ON CONFLICT (field, folded) DO NOTHING",
        })
    }
}

/// Applies change events (not those that log entries, which are already
/// inserted) to the view. `known` holds entries already loaded.
async fn apply_changes<'a>(
    tx: &mut Session,
    events: impl Iterator<Item = (&'a Event, &'a EventBody)>,
    mut known: HashMap<Uuid, Entry>,
    rollups: &mut RollupSums,
) -> Result<(), StoreError> {
    let mut changed: HashMap<Uuid, Entry> = HashMap::new();
    // What each changed entry added to the rollups before these events.
    let mut counted_before: HashMap<Uuid, Option<Counted>> = HashMap::new();
    for (event, body) in events {
        if !body.changes_entry() {
            continue;
        }
        let Some(id) = body.entry_id() else { continue };
        let entry = match changed.remove(&id).or_else(|| known.remove(&id)) {
            Some(entry) => entry,
            None => load_entry(tx, id).await?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "event {} changes entry {id}, which does not exist",
                    event.seq
                ))
            })?,
        };
        counted_before
            .entry(id)
            .or_insert_with(|| Counted::of(&entry));
        let entry = changed.entry(id).or_insert(entry);
        apply_change(entry, body, event.recorded_at);
    }
    let mut spellings = Spellings::default();
    for (id, entry) in &changed {
        spellings.note(&entry.tags);
        let before = counted_before.get(id).and_then(Option::as_ref);
        rollups.change(before, Counted::of(entry).as_ref());
    }
    if let Some(insert) = spellings.insert() {
        tx.insert_groups(&mut std::iter::once(vec![insert])).await?;
    }
    if changed.len() >= BULK_REWRITE {
        return rewrite_entries(tx, changed.into_values().collect()).await;
    }
    for entry in changed.into_values() {
        update_entry(tx, entry).await?;
    }
    Ok(())
}

/// Changed entries from which on their rows are rewritten a chunk at a
/// time (deleted, then inserted whole) rather than updated one statement
/// each: a re-pricing changes a hundred thousand at once.
const BULK_REWRITE: usize = 256;

/// Rewrites these entries' view rows, `INSERT_CHUNK` at a time. Each keeps
/// its position, and so its place in log order.
async fn rewrite_entries(tx: &mut Session, entries: Vec<Entry>) -> Result<(), StoreError> {
    let mut entries = entries.into_iter().peekable();
    while entries.peek().is_some() {
        let chunk: Vec<Entry> = entries.by_ref().take(INSERT_CHUNK).collect();
        let sql = format!(
            "DELETE FROM entries WHERE id IN ({})",
            super::value::placeholders(chunk.len())
        );
        let ids: Vec<Value> = chunk
            .iter()
            .map(|e| Value::Text(e.id.to_string()))
            .collect();
        let deleted = tx.execute(&sql, &ids).await?;
        if deleted != chunk.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "rewriting {} entries found {deleted} view rows",
                chunk.len()
            )));
        }
        let mut rows = Vec::with_capacity(chunk.len() * ENTRY_TYPES.len());
        for entry in chunk {
            entry_cells(entry, &mut rows);
        }
        let insert = RowsInsert {
            table: "entries",
            columns: ENTRY_LIST,
            types: ENTRY_TYPES,
            values: rows,
            on_conflict: "",
        };
        tx.insert_groups(&mut std::iter::once(vec![insert])).await?;
    }
    Ok(())
}

/// Rewrites an entry's view row (every column but its id).
async fn update_entry(tx: &mut Session, entry: Entry) -> Result<(), StoreError> {
    let assignments: Vec<String> = ENTRY_LIST
        .split(", ")
        .enumerate()
        .skip(1)
        .map(|(i, column)| format!("{column} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE entries SET {} WHERE id = $1",
        assignments.join(", ")
    );
    let values: Vec<Value> = entry_values(entry);
    let changed = tx.execute(&sql, &values).await?;
    if changed != 1 {
        return Err(StoreError::Corrupt(format!(
            "updating an entry changed {changed} view rows"
        )));
    }
    Ok(())
}
