//! Reads of the ledger: entries, totals, tags, the chain's head and the
//! events and view rows `verify` scans. Each takes the session to run on, so
//! the same query serves a plain connection, a write transaction and a
//! read-only snapshot.

use super::columns::{
    column_index, entry_from_row, event_from_cells, event_from_row, parse_currency, parse_hash,
    parse_uuid, RowDigest, ENTRY_COLUMNS, ENTRY_LIST, EVENT_LIST,
};
use super::error::StoreError;
use super::filter::{Cursor, Filter, Page};
use super::request_key::request_key;
use super::rollups::{self, RollupScope};
use super::session::Session;
use super::value::{placeholders, CellRef, Value};
use super::{BatchTotal, RecentRun, TagCount, ViewPage, ViewRow};
use crate::ledger::event::AmountCorrected;
use crate::ledger::tags::fold;
use crate::ledger::tags::normalize;
use crate::ledger::totals::{Grouping, SumRow, KEY_SEPARATOR};
use crate::ledger::{
    fingerprint_key, BatchState, Command, Context, Entry, Event, EventBody, Head, ImportedEntry,
    ImportedIndex, TagField,
};
use crate::money::Money;
use crate::timestamp::Timestamp;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

/// Keys per `IN (...)` lookup.
const LOOKUP_CHUNK: usize = 500;

pub async fn read_head(session: &mut Session) -> Result<Head, StoreError> {
    // Not the whole event: an import's events carry a thousand rows.
    let rows = session
        .query(
            "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await?;
    match rows.into_iter().next() {
        None => Ok(Head::EMPTY),
        Some(mut row) => {
            let seq = row.int("seq")?;
            let hash = parse_hash(&row.text("hash")?)
                .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
            Ok(Head { seq, hash })
        }
    }
}

/// The position of the last entry in log order, 0 on an empty ledger.
pub async fn last_position(session: &mut Session) -> Result<i64, StoreError> {
    let row = session
        .query_one(
            "SELECT COALESCE(MAX(position), 0) AS last FROM entries",
            &[],
        )
        .await?;
    row.int("last")
}

pub async fn load_entry(session: &mut Session, id: Uuid) -> Result<Option<Entry>, StoreError> {
    let sql = format!("SELECT {ENTRY_LIST} FROM entries WHERE id = $1");
    let rows = session.query(&sql, &[Value::Text(id.to_string())]).await?;
    rows.into_iter().next().map(entry_from_row).transpose()
}

/// These entries, where they exist, a chunk of ids per query.
pub async fn load_entries(
    session: &mut Session,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Entry>, StoreError> {
    let mut entries = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            "SELECT {ENTRY_LIST} FROM entries WHERE id IN ({})",
            placeholders(chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(|id| Value::Text(id.to_string())).collect();
        for entry in session.query_map(&sql, &params, entry_from_row).await? {
            entries.insert(entry.id, entry);
        }
    }
    Ok(entries)
}

/// What `decide` needs to see of the ledger for this command. `imported`,
/// when given, is every imported entry, loaded once for a whole import.
pub async fn load_context(
    session: &mut Session,
    command: &Command,
    imported: Option<Arc<ImportedIndex>>,
) -> Result<Context, StoreError> {
    let mut context = Context::default();
    let ids = command.entry_ids();
    if ids.len() > 1 {
        context.entries = load_entries(session, &ids).await?;
    } else {
        for id in ids {
            if let Some(entry) = load_entry(session, id).await? {
                context.entries.insert(id, entry);
            }
        }
    }
    let mut keys = command.request_keys();
    if let Command::AttachRequest {
        entry_id,
        request_id,
    } = command
    {
        if let Some(entry) = context.entries.get(entry_id) {
            keys.push((entry.source.clone(), request_id.clone()));
        }
    }
    let mut request_keys: Vec<i64> = keys.iter().map(|(_, r)| request_key(r)).collect();
    request_keys.sort_unstable();
    request_keys.dedup();
    // Rows are matched beside the connection and only owners come back:
    // most rows found by a key are other requests, and their text is then
    // allocated and freed on one thread.
    let wanted: Arc<HashSet<(String, String)>> = Arc::new(keys.into_iter().collect());
    for chunk in request_keys.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            // `IS NOT NULL` lets PostgreSQL use the partial index.
            "SELECT source, request_id, id FROM entries WHERE request_key IS NOT NULL AND request_key IN ({})",
            placeholders(chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(|k| Value::Int(*k)).collect();
        let wanted = Arc::clone(&wanted);
        let owners = session
            .query_map(&sql, &params, move |mut row| {
                let key = (row.text("source")?, row.text("request_id")?);
                if !wanted.contains(&key) {
                    return Ok(None);
                }
                Ok(Some((key, parse_uuid(&row.text("id")?)?)))
            })
            .await?;
        context.request_owners.extend(owners.into_iter().flatten());
    }
    let fingerprints = command.fingerprints();
    if let Some(imported) = imported {
        context.imported = imported;
    } else if !fingerprints.is_empty() {
        context.imported = Arc::new(load_imported(session, fingerprints).await?);
    }
    if let Some(batch) = command.batch_to_void() {
        load_batch(session, batch, &mut context).await?;
    }
    if let Command::Restore { entry_id, .. } = command {
        load_restore(session, *entry_id, &mut context).await?;
    }
    let mut lock_ids = command.lock_ids();
    lock_ids.extend(context.batch_entries.iter().map(|e| e.id));
    if !lock_ids.is_empty() {
        context.locks = super::invoices::locks_of(session, &lock_ids).await?;
    }
    if let Some(number) = command.invoice_named() {
        context.invoice = super::invoices::invoice(session, number).await?;
    }
    if let Command::VoidInvoice { number, .. } = command {
        context.adjusted = super::invoices::adjusted_later(session, number).await?;
        context.credit_notes = super::invoices::credit_notes_of(session, number).await?;
    }
    if let Some((series, year)) = command.numbering() {
        context.last_number = super::invoices::last_number(session, series, year).await?;
    }
    if command.reads_budgets() {
        context.budgets = super::budgets::all(session)
            .await?
            .into_iter()
            .map(|b| (b.key(), b))
            .collect();
    }
    if let Command::IssueInvoice(issued) = command {
        context.changes_since =
            super::invoices::changes_since(session, issued.drafted_at_seq, &issued.drafted_at_hash)
                .await?;
    }
    Ok(context)
}

/// What restoring an entry needs besides the entry: the batches voided
/// (when it belongs to one) and the other entries holding its source and
/// request id.
async fn load_restore(
    session: &mut Session,
    id: Uuid,
    context: &mut Context,
) -> Result<(), StoreError> {
    let Some(entry) = context.entries.get(&id) else {
        return Ok(());
    };
    let (batch, source, request_id) = (entry.batch, entry.source.clone(), entry.request_id.clone());
    if batch.is_some() {
        for event in batch_events(session).await? {
            if event.kind == "batch_voided" {
                if let EventBody::BatchVoided(v) = event
                    .body()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?
                {
                    context.void_batches.insert(v.batch);
                }
            }
        }
    }
    if let Some(request_id) = request_id {
        for other in entries_with_request(session, &request_id).await? {
            if other.source == source && other.id != id {
                context.entries.insert(other.id, other);
            }
        }
    }
    Ok(())
}

/// The live entries earlier imports logged with these fingerprints.
async fn load_imported(
    session: &mut Session,
    fingerprints: Vec<&str>,
) -> Result<ImportedIndex, StoreError> {
    let mut found = Vec::new();
    let mut keys: Vec<i64> = fingerprints.iter().map(|f| request_key(f)).collect();
    keys.sort_unstable();
    keys.dedup();
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            "SELECT request_id, id, cost_micros, cost_currency FROM entries \
             WHERE request_key IS NOT NULL AND request_key IN ({}) AND batch_id IS NOT NULL AND is_void = 0",
            placeholders(chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(|k| Value::Int(*k)).collect();
        found.extend(session.query_map(&sql, &params, imported_entry).await?);
    }
    found.retain(|(key, _)| *key != 0);
    Ok(ImportedIndex::new(found))
}

/// Every live entry imports logged, by fingerprint: one walk of the batch
/// index, for an import of many rows (a look-up per row would read a table
/// page per row).
pub async fn all_imported(session: &mut Session) -> Result<ImportedIndex, StoreError> {
    let sql = "SELECT request_id, id, cost_micros, cost_currency FROM entries \
               WHERE batch_id IS NOT NULL AND is_void = 0 AND kind = 'external'";
    let mut found = session.query_map(sql, &[], imported_entry).await?;
    found.retain(|(key, _)| *key != 0);
    Ok(ImportedIndex::new(found))
}

/// An imported entry by its fingerprint key; key 0 for a row that holds no
/// fingerprint (dropped by the caller, so rows are collected only once).
fn imported_entry(mut row: super::value::Row) -> Result<(u128, ImportedEntry), StoreError> {
    let key = row
        .opt_text("request_id")?
        .as_deref()
        .and_then(fingerprint_key);
    let micros = row.opt_int("cost_micros")?;
    let (Some(key), Some(micros)) = (key, micros) else {
        return Ok((
            0,
            ImportedEntry {
                id: Uuid::nil(),
                micros: 0,
                currency: crate::money::Currency::USD,
            },
        ));
    };
    Ok((
        key,
        ImportedEntry {
            id: parse_uuid(&row.text("id")?)?,
            micros,
            currency: parse_currency(&row.text("cost_currency")?)?,
        },
    ))
}

/// A batch's state, its entries, the entries it corrected with all their
/// corrections, and the batches voided before.
async fn load_batch(
    session: &mut Session,
    batch: Uuid,
    context: &mut Context,
) -> Result<(), StoreError> {
    let mut state = None;
    let mut corrections: HashMap<Uuid, Vec<AmountCorrected>> = HashMap::new();
    let mut corrected_by_batch: Vec<Uuid> = Vec::new();
    for event in batch_events(session).await? {
        match event
            .body()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?
        {
            EventBody::ImportRecorded(r) if r.batch == batch => {
                state = Some(BatchState { void: false })
            }
            EventBody::PoolAdded(p) if p.batch == batch => state = Some(BatchState { void: false }),
            EventBody::BatchVoided(v) => {
                if v.batch == batch {
                    state = Some(BatchState { void: true });
                }
                context.void_batches.insert(v.batch);
            }
            EventBody::AmountCorrected(c) => {
                if c.batch == Some(batch) && !corrected_by_batch.contains(&c.entry_id) {
                    corrected_by_batch.push(c.entry_id);
                }
                corrections.entry(c.entry_id).or_default().push(c);
            }
            _ => {}
        }
    }
    context.batch = state;
    context.batch_entries = batch_entries(session, batch).await?;
    for id in corrected_by_batch {
        if let Some(entry) = load_entry(session, id).await? {
            let history = corrections.remove(&id).unwrap_or_default();
            context.batch_corrections.push((entry, history));
        }
    }
    Ok(())
}

/// The events that record imports and pools, their voids and the
/// corrections imports made, in chain order. The condition is the one of
/// the small index that holds them (a database uses a partial index only
/// for the condition it was made with).
pub async fn batch_events(session: &mut Session) -> Result<Vec<Event>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_LIST} FROM events \
         WHERE kind IN ('import_recorded', 'pool_added', 'batch_voided', 'amount_corrected') ORDER BY seq"
    );
    let rows = session.query(&sql, &[]).await?;
    rows.into_iter().map(event_from_row).collect()
}

/// The live entries of every batch, counted and summed per currency.
pub async fn batch_totals(session: &mut Session) -> Result<Vec<BatchTotal>, StoreError> {
    let sql = "SELECT batch_id, cost_currency, COUNT(*) AS entries, \
               CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) AS micros FROM entries \
               WHERE batch_id IS NOT NULL AND is_void = 0 GROUP BY batch_id, cost_currency";
    session
        .query_map(sql, &[], |mut row| {
            Ok(BatchTotal {
                batch: parse_uuid(&row.text("batch_id")?)?,
                currency: parse_currency(&row.text("cost_currency")?)?,
                entries: row.int("entries")?,
                micros: row.int("micros")?,
            })
        })
        .await
}

/// Every entry of an import or pool, in log order.
pub async fn batch_entries(session: &mut Session, batch: Uuid) -> Result<Vec<Entry>, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_LIST} FROM entries WHERE batch_id IS NOT NULL AND batch_id = $1 ORDER BY position"
    );
    let rows = session
        .query(&sql, &[Value::Text(batch.to_string())])
        .await?;
    rows.into_iter().map(entry_from_row).collect()
}

pub async fn entries_with_request(
    session: &mut Session,
    request_id: &str,
) -> Result<Vec<Entry>, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_LIST} FROM entries \
         WHERE request_key IS NOT NULL AND request_key = $1 AND request_id = $2 ORDER BY source"
    );
    let params = [Value::Int(request_key(request_id)), request_id.into()];
    let rows = session.query(&sql, &params).await?;
    rows.into_iter().map(entry_from_row).collect()
}

/// Newest first (entries at the same time in reverse log order), after the
/// page's cursor.
pub async fn list(
    session: &mut Session,
    filter: &Filter,
    page: Page,
) -> Result<Vec<Entry>, StoreError> {
    let mut params = Vec::new();
    let mut clause = filter.where_clause(&mut params, filter.include_void);
    if let Some(Cursor {
        occurred_at,
        position,
    }) = page.after
    {
        params.push(Value::Int(occurred_at));
        params.push(Value::Int(position));
        let (a, b) = (params.len() - 1, params.len());
        clause = and_term(clause, &format!("(occurred_at, position) < (${a}, ${b})"));
    }
    params.push(Value::Int(page.limit));
    let sql = format!(
        "SELECT {ENTRY_LIST} FROM entries {clause} ORDER BY occurred_at DESC, position DESC LIMIT ${}",
        params.len()
    );
    let rows = session.query(&sql, &params).await?;
    rows.into_iter().map(entry_from_row).collect()
}

/// The entries `filter` matches in log order, after position `after`.
pub async fn list_in_log_order(
    session: &mut Session,
    filter: &Filter,
    after: i64,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    let mut params = Vec::new();
    let clause = filter.where_clause(&mut params, filter.include_void);
    params.push(Value::Int(after));
    let clause = and_term(clause, &format!("position > ${}", params.len()));
    params.push(Value::Int(limit));
    let sql = format!(
        "SELECT {ENTRY_LIST} FROM entries {clause} ORDER BY position LIMIT ${}",
        params.len()
    );
    session.query_map(&sql, &params, entry_from_row).await
}

/// Sums of the cost used in totals, per group, currency and UTC day: from
/// the cost rollups when they can answer, else from the entries. Tags are
/// grouped by their folded keys and named by the ledger's spelling of each.
pub async fn sums(
    session: &mut Session,
    filter: &Filter,
    grouping: Grouping,
) -> Result<Vec<SumRow>, StoreError> {
    let rows = match RollupScope::of(filter, grouping) {
        Some(scope) => rollups::sums(session, &scope).await?,
        None => scanned_sums(session, filter, grouping).await?,
    };
    spell_tag_keys(session, grouping, rows).await
}

/// What the rollups do not answer (a model filter, two filters, a bound
/// inside a day, pairs) reads the live charged entries.
async fn scanned_sums(
    session: &mut Session,
    filter: &Filter,
    grouping: Grouping,
) -> Result<Vec<SumRow>, StoreError> {
    let mut params = Vec::new();
    let clause = and_term(filter.where_clause(&mut params, false), "charged = 1");
    let key_column = |column: &'static str| match TagField::parse(column) {
        Some(_) => format!("{column}_key"),
        None => column.to_string(),
    };
    let (key, groups) = match grouping {
        Grouping::Column(column) => (key_column(column), format!("{}, ", key_column(column))),
        Grouping::None => ("CAST(NULL AS TEXT)".to_string(), String::new()),
        Grouping::ClientProject => (
            "COALESCE(client_key, '') || '\u{1f}' || COALESCE(project_key, '')".to_string(),
            "client_key, project_key, ".to_string(),
        ),
    };
    let sql = format!(
        "SELECT {key} AS group_key, day, cost_currency, \
         CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) AS micros, \
         COUNT(*) AS entries, COUNT(*) - COUNT(cost_micros) AS unpriced FROM entries {clause} \
         GROUP BY {groups}cost_currency, day"
    );
    let rows = session.query(&sql, &params).await?;
    rows.into_iter()
        .map(|mut row| {
            Ok(SumRow {
                key: row.opt_text("group_key")?,
                day: row.int("day")?,
                currency: parse_currency(&row.text("cost_currency")?)?,
                micros: row.int("micros")?,
                count: row.int("entries")?,
                unpriced: row.int("unpriced")?,
            })
        })
        .collect()
}

/// Replaces the folded keys of tag groups with the names they are spelled
/// as (a key the spellings do not hold stays as it is).
async fn spell_tag_keys(
    session: &mut Session,
    grouping: Grouping,
    mut rows: Vec<SumRow>,
) -> Result<Vec<SumRow>, StoreError> {
    let fields: &[TagField] = match grouping {
        Grouping::Column(column) => match TagField::parse(column) {
            Some(TagField::Client) => &[TagField::Client],
            Some(TagField::Project) => &[TagField::Project],
            Some(TagField::Deliverable) => &[TagField::Deliverable],
            None => return Ok(rows),
        },
        Grouping::ClientProject => &[TagField::Client, TagField::Project],
        Grouping::None => return Ok(rows),
    };
    let mut spelled: Vec<HashMap<String, String>> = Vec::new();
    for field in fields {
        let found = session
            .query(
                "SELECT folded, name FROM tag_spellings WHERE field = $1",
                &[field.column().into()],
            )
            .await?;
        let mut names = HashMap::with_capacity(found.len());
        for mut row in found {
            names.insert(row.text("folded")?, row.text("name")?);
        }
        spelled.push(names);
    }
    let spell = |names: &HashMap<String, String>, key: &str| {
        names.get(key).cloned().unwrap_or_else(|| key.to_string())
    };
    for row in &mut rows {
        let Some(key) = row.key.take() else { continue };
        row.key = Some(match spelled.as_slice() {
            [one] => spell(one, &key),
            [clients, projects] => {
                let (client, project) = key.split_once(KEY_SEPARATOR).unwrap_or((&key, ""));
                let part = |names, part: &str| {
                    if part.is_empty() {
                        String::new()
                    } else {
                        spell(names, part)
                    }
                };
                format!(
                    "{}{KEY_SEPARATOR}{}",
                    part(clients, client),
                    part(projects, project)
                )
            }
            _ => key,
        });
    }
    Ok(rows)
}

/// Failed or cancelled runs the provider did not charge, among the live
/// entries matching `filter`: left out of totals, counted apart.
pub async fn not_charged(session: &mut Session, filter: &Filter) -> Result<i64, StoreError> {
    let mut params = Vec::new();
    let clause = and_term(filter.where_clause(&mut params, false), "charged = 0");
    let sql = format!("SELECT COUNT(*) AS n FROM entries {clause}");
    session.query_one(&sql, &params).await?.int("n")
}

/// A `WHERE` clause (possibly empty) with one more term.
fn and_term(clause: String, term: &str) -> String {
    if clause.is_empty() {
        format!("WHERE {term}")
    } else {
        format!("{clause} AND {term}")
    }
}

pub async fn tag_values(
    session: &mut Session,
    field: TagField,
    prefix: &str,
    limit: i64,
) -> Result<Vec<TagCount>, StoreError> {
    let column = field.column();
    let folded = normalize(prefix).map(|p| fold(&p)).unwrap_or_default();
    let pattern = format!("{}%", escape_like(&folded));
    // Grouped by key, so a name's spellings count as one; shown as the
    // ledger spells it.
    let sql = format!(
        "SELECT COALESCE((SELECT name FROM tag_spellings AS s WHERE s.field = '{column}' \
         AND s.folded = e.{column}_key), MIN(e.{column})) AS tag, COUNT(*) AS uses \
         FROM entries AS e WHERE e.is_void = 0 AND e.{column}_key IS NOT NULL \
         AND e.{column}_key LIKE $1 ESCAPE '\\' GROUP BY e.{column}_key \
         ORDER BY COUNT(*) DESC, e.{column}_key LIMIT $2"
    );
    let rows = session
        .query(&sql, &[Value::Text(pattern), Value::Int(limit)])
        .await?;
    rows.into_iter()
        .map(|mut row| {
            Ok(TagCount {
                value: row.text("tag")?,
                count: row.int("uses")?,
            })
        })
        .collect()
}

/// The spelling the ledger first logged a name with, among names that
/// differ from `name` only by case.
pub async fn tag_spelling(
    session: &mut Session,
    field: TagField,
    name: &str,
) -> Result<Option<String>, StoreError> {
    let rows = session
        .query(
            "SELECT name FROM tag_spellings WHERE field = $1 AND folded = $2",
            &[field.column().into(), Value::Text(fold(name))],
        )
        .await?;
    let found = rows
        .into_iter()
        .next()
        .map(|mut row| row.text("name"))
        .transpose()?;
    // Only a spelling of the same name is taken: an edited row cannot move
    // costs to another client.
    Ok(found.filter(|spelled| fold(spelled) == fold(name)))
}

/// The latest live runs of `model` with a confirmed cost or a duration,
/// newest first, at most `limit`: one range of the `entries_model_runs`
/// index (its predicate is repeated here word for word so both backends
/// use it).
/// Live pending runs without a confirmed cost, logged before `before`,
/// oldest first, at most `limit`: holds that stay open.
pub async fn open_holds(
    session: &mut Session,
    before: Timestamp,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_LIST} FROM entries WHERE status = 'pending' AND is_void = 0 \
         AND actual_micros IS NULL AND occurred_at < $1 ORDER BY occurred_at LIMIT $2"
    );
    session
        .query_map(
            &sql,
            &[Value::Int(before.0), Value::Int(limit)],
            entry_from_row,
        )
        .await
}

pub async fn recent_runs(
    session: &mut Session,
    model: &str,
    limit: i64,
) -> Result<Vec<RecentRun>, StoreError> {
    let rows = session
        .query(
            "SELECT params, occurred_at, actual_micros, actual_currency, duration_ms FROM entries \
             WHERE model = $1 AND is_void = 0 AND (actual_micros IS NOT NULL OR duration_ms IS NOT NULL) \
             ORDER BY position DESC LIMIT $2",
            &[Value::from(model), Value::Int(limit)],
        )
        .await?;
    rows.into_iter()
        .map(|mut row| {
            let actual = match (
                row.opt_int("actual_micros")?,
                row.opt_text("actual_currency")?,
            ) {
                (Some(micros), Some(code)) => Some(Money::new(micros, parse_currency(&code)?)),
                _ => None,
            };
            Ok(RecentRun {
                params: row.text("params")?,
                occurred_at: Timestamp(row.int("occurred_at")?),
                actual,
                duration_ms: row.opt_int("duration_ms")?,
            })
        })
        .collect()
}

/// (events, entries)
pub async fn counts(session: &mut Session) -> Result<(i64, i64), StoreError> {
    let events = session
        .query_one("SELECT COUNT(*) AS n FROM events", &[])
        .await?
        .int("n")?;
    let entries = session
        .query_one("SELECT COUNT(*) AS n FROM entries", &[])
        .await?
        .int("n")?;
    Ok((events, entries))
}

/// Import events a page of events holds at most: each carries up to a
/// thousand rows and a megabyte, where any other event is a few hundred bytes.
const IMPORT_EVENTS_PER_PAGE: usize = 16;

/// Events after `after_seq` in chain order, at most `limit`, and no more
/// than `IMPORT_EVENTS_PER_PAGE` import events: their kinds are read first
/// (without their payloads), then the page.
pub async fn events_page(
    session: &mut Session,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    // (the last seq of the page, import events so far)
    let (last, _) = session
        .query_fold(
            "SELECT seq, kind FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[Value::Int(after_seq), Value::Int(limit)],
            (None, 0),
            |(last, imports), cells| {
                let [seq, kind] = cells else {
                    return Err(StoreError::Corrupt("expected seq and kind".into()));
                };
                if *imports > IMPORT_EVENTS_PER_PAGE {
                    return Ok(());
                }
                if kind.opt_text("kind")? == Some("entries_imported") {
                    *imports += 1;
                    if *imports > IMPORT_EVENTS_PER_PAGE {
                        return Ok(());
                    }
                }
                *last = Some(seq.int("seq")?);
                Ok(())
            },
        )
        .await?;
    let Some(last) = last else {
        return Ok(Vec::new());
    };
    let sql = format!("SELECT {EVENT_LIST} FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq");
    session
        .query_fold(
            &sql,
            &[Value::Int(after_seq), Value::Int(last)],
            Vec::new(),
            |events, cells| {
                events.push(event_from_cells(cells)?);
                Ok(())
            },
        )
        .await
}

/// The events at these chain positions, in chain order.
pub async fn events_at(session: &mut Session, seqs: &[i64]) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::new();
    for chunk in seqs.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            "SELECT {EVENT_LIST} FROM events WHERE seq IN ({})",
            placeholders(chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(|s| Value::Int(*s)).collect();
        for row in session.query(&sql, &params).await? {
            events.push(event_from_row(row)?);
        }
    }
    events.sort_by_key(|e| e.seq);
    Ok(events)
}

/// The change events (all but the events that logged them) of these entries, in chain order.
pub async fn change_events(session: &mut Session, ids: &[Uuid]) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        // The `kind` term lets both backends use the partial index of changes.
        let sql = format!(
            "SELECT {EVENT_LIST} FROM events WHERE kind <> 'entry_logged' AND entry_id IN ({})",
            placeholders(chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(|id| Value::Text(id.to_string())).collect();
        for row in session.query(&sql, &params).await? {
            events.push(event_from_row(row)?);
        }
    }
    events.sort_by_key(|e| e.seq);
    Ok(events)
}

/// The events of one entry in chain order: the one that logged it, then
/// every change. Changes are found by the index of changes; the event that
/// logged the entry by its position in log order (see `Positions`).
pub async fn entry_events(session: &mut Session, entry: &Entry) -> Result<Vec<Event>, StoreError> {
    let mut events = change_events(session, &[entry.id]).await?;
    if let Some(logged) = logging_event(session, entry).await? {
        events.insert(0, logged);
    }
    // An import or pool is recorded and voided as a whole, by events that
    // name the batch rather than its entries.
    if let Some(batch) = entry.batch {
        for event in batch_events(session).await? {
            let of_batch = match event
                .body()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?
            {
                EventBody::ImportRecorded(r) => r.batch == batch,
                EventBody::PoolAdded(p) => p.batch == batch,
                EventBody::BatchVoided(v) => v.batch == batch,
                _ => false,
            };
            if of_batch && !events.iter().any(|e| e.seq == event.seq) {
                events.push(event);
            }
        }
        events.sort_by_key(|e| e.seq);
    }
    Ok(events)
}

/// The event that logged `entry`. Its seq is the entry's position unless
/// the rows of earlier imports moved the entry's position on; then it is
/// the entry's own `entry_logged` event before that position, or, for a
/// row of an import, the `entries_imported` event whose rows start at or
/// before the position, found by halving (positions rise with seq).
async fn logging_event(session: &mut Session, entry: &Entry) -> Result<Option<Event>, StoreError> {
    let sql = format!("SELECT {EVENT_LIST} FROM events WHERE seq = $1");
    let at_position = session.query(&sql, &[Value::Int(entry.position)]).await?;
    if let Some(event) = at_position
        .into_iter()
        .next()
        .map(event_from_row)
        .transpose()?
    {
        if logs_entry(&event, entry.id)? {
            return Ok(Some(event));
        }
    }
    if entry.batch.is_some() {
        if let Some(event) = imported_by(session, entry).await? {
            return Ok(Some(event));
        }
    }
    let sql = format!(
        "SELECT {EVENT_LIST} FROM events WHERE seq <= $1 AND entry_id = $2 AND kind = 'entry_logged' \
         ORDER BY seq DESC LIMIT 1"
    );
    let rows = session
        .query(
            &sql,
            &[
                Value::Int(entry.position),
                Value::Text(entry.id.to_string()),
            ],
        )
        .await?;
    rows.into_iter().next().map(event_from_row).transpose()
}

/// The `entries_imported` event holding the row of `entry`, if one does.
async fn imported_by(session: &mut Session, entry: &Entry) -> Result<Option<Event>, StoreError> {
    let seqs: Vec<i64> = session
        .query_map(
            "SELECT seq FROM events WHERE kind = 'entries_imported' AND seq <= $1 ORDER BY seq",
            &[Value::Int(entry.position)],
            |row| row.int("seq"),
        )
        .await?;
    // The last event whose first row stands at or before the entry.
    let (mut low, mut high) = (0, seqs.len());
    let mut found = None;
    while low < high {
        let middle = low + (high - low) / 2;
        let sql = format!("SELECT {EVENT_LIST} FROM events WHERE seq = $1");
        let rows = session.query(&sql, &[Value::Int(seqs[middle])]).await?;
        let Some(event) = rows.into_iter().next().map(event_from_row).transpose()? else {
            return Ok(None);
        };
        let first = match event
            .body()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?
        {
            EventBody::EntriesImported(imported) => imported.rows.first().map(|row| row.id),
            _ => None,
        };
        let Some(first) = first else { return Ok(None) };
        let position = session
            .query(
                "SELECT position FROM entries WHERE id = $1",
                &[Value::Text(first.to_string())],
            )
            .await?
            .into_iter()
            .next()
            .map(|row| row.int("position"))
            .transpose()?;
        match position {
            Some(position) if position <= entry.position => {
                found = Some(event);
                low = middle + 1;
            }
            Some(_) => high = middle,
            None => return Ok(None),
        }
    }
    match found {
        Some(event) if logs_entry(&event, entry.id)? => Ok(Some(event)),
        _ => Ok(None),
    }
}

/// Whether `event` logged the entry `id`.
fn logs_entry(event: &Event, id: Uuid) -> Result<bool, StoreError> {
    match event.kind.as_str() {
        "entry_logged" => Ok(event.entry_id == Some(id)),
        "entries_imported" => match event
            .body()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?
        {
            EventBody::EntriesImported(imported) => Ok(imported.rows.iter().any(|r| r.id == id)),
            _ => Ok(false),
        },
        _ => Ok(false),
    }
}

/// View rows in log order after position `after`, each with the digest of all
/// its stored cells, and what the rows that count add to the rollups.
pub async fn view_page(
    session: &mut Session,
    after: i64,
    limit: i64,
    digest: &Arc<RowDigest>,
    budgets: &Arc<Vec<crate::ledger::budget::BudgetScope>>,
) -> Result<ViewPage, StoreError> {
    const ID: usize = column_index(ENTRY_COLUMNS, "id");
    const POSITION: usize = column_index(ENTRY_COLUMNS, "position");
    let sql =
        format!("SELECT {ENTRY_LIST} FROM entries WHERE position > $1 ORDER BY position LIMIT $2");
    let digest = Arc::clone(digest);
    session
        .query_fold(
            &sql,
            &[Value::Int(after), Value::Int(limit)],
            ViewPage {
                rows: Vec::new(),
                sums: rollups::RollupSums::with_budgets(Arc::clone(budgets)),
            },
            move |page, cells| {
                let fingerprint = digest.cells(cells.iter().copied());
                if let Some(counted) = rollups::CountedRef::of_cells(cells)? {
                    page.sums.add_ref(&counted, 1);
                }
                let cell = |i: usize| cells.get(i).copied().unwrap_or(CellRef::Null);
                let position = cell(POSITION).int("position")?;
                // A row whose id is not in gencost's own form is named by its text.
                let id = cell(ID).opt_text("id")?.unwrap_or_default();
                page.rows.push(ViewRow {
                    id: parse_uuid(id).map_err(|_| {
                        StoreError::Corrupt(format!(
                            "the view row at position {position} has a malformed id '{id}'"
                        ))
                    })?,
                    position,
                    fingerprint,
                });
                Ok(())
            },
        )
        .await
}

/// The columns a table has in the database, in table order.
pub async fn table_columns(
    session: &mut Session,
    is_postgres: bool,
    table: &str,
) -> Result<Vec<String>, StoreError> {
    let sql = if is_postgres {
        "SELECT column_name AS name FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
    } else {
        "SELECT name FROM pragma_table_info($1) ORDER BY cid"
    };
    let rows = session.query(sql, &[Value::from(table)]).await?;
    rows.into_iter().map(|mut row| row.text("name")).collect()
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
