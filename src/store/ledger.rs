//! The ledger on SQL: one implementation of `Store` for both backends. The
//! SQL text is shared (both accept `$n` parameters); the backends differ only
//! in how they connect and how a write transaction takes the chain's lock.

use super::filter::{Filter, Page};
use super::migrate;
use super::request_key::request_key;
use super::sql::{Column, Handle, Row, RowsInsert, Value};
use super::sqlite::SqlitePool;
use super::{
    postgres, DatabaseUrl, Executed, LedgerSnapshot, RatesImported, Store, StoreError, StoreInfo,
    TagCount, ViewRow,
};
use crate::fx::DayRate;
use crate::ledger::event::LedgerReset;
use crate::ledger::replay::{apply_change, entry_from_record};
use crate::ledger::totals::{Grouping, SumRow};
use crate::ledger::{
    decide, Actual, Command, Context, Cost, Entry, Estimate, Event, EventBody, Hash, Head,
    TagField, Tags, Voiding,
};
use crate::money::{Currency, Money};
use crate::timestamp::Timestamp;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use uuid::Uuid;

const ENTRY_COLUMNS: &str =
    "id, logged_seq, kind, occurred_at, source, model, description, client, project, deliverable, \
     request_id, status, duration_ms, params, estimate_micros, estimate_currency, estimate_tier, \
     actual_micros, actual_currency, actual_confirmed_at, void_reason, voided_at, \
     cost_micros, cost_currency, cost_tier, is_void, price_version, license, day, request_key";

const EVENT_COLUMNS: &str = "seq, recorded_at, kind, entry_id, payload, prev_hash, hash";

/// Events sealed and handed to the database at a time (one UNNEST insert per
/// table on PostgreSQL, one worker job on SQLite).
const INSERT_CHUNK: usize = 1000;
/// Keys per `IN (...)` lookup.
const LOOKUP_CHUNK: usize = 500;

enum Backend {
    Sqlite(Arc<SqlitePool>),
    Postgres(PgPool),
}

/// The ledger in a SQLite file or a PostgreSQL database.
pub struct SqlStore {
    backend: Backend,
    url: DatabaseUrl,
    /// Events this process appended, and the count at which it next
    /// refreshes PostgreSQL's planner statistics.
    appended: AtomicU64,
    next_analyze: AtomicU64,
}

/// Bulk appends (seeding, `db copy`) refresh PostgreSQL's statistics after
/// this many events, then each time the count doubles: a table that grew from
/// nothing has none, and without them the request-id lookup scans the table.
const FIRST_ANALYZE: u64 = 10_000;

impl SqlStore {
    pub async fn open(url: &DatabaseUrl) -> Result<SqlStore, StoreError> {
        let backend = match url {
            DatabaseUrl::Sqlite(path) => Backend::Sqlite(SqlitePool::open(path)?),
            DatabaseUrl::Postgres(raw) => {
                Backend::Postgres(postgres::connect(raw, &url.to_string()).await?)
            }
        };
        let store = SqlStore {
            backend,
            url: url.clone(),
            appended: AtomicU64::new(0),
            next_analyze: AtomicU64::new(FIRST_ANALYZE),
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    async fn after_append(&self, appended: usize) -> Result<(), StoreError> {
        if !self.is_postgres() || appended < 1_000 {
            return Ok(());
        }
        let total = self.appended.fetch_add(appended as u64, Ordering::Relaxed) + appended as u64;
        if total >= self.next_analyze.load(Ordering::Relaxed) {
            self.next_analyze.store(total * 2, Ordering::Relaxed);
            let mut conn = self.connection().await?;
            conn.execute("ANALYZE entries", &[]).await?;
            conn.execute("ANALYZE events", &[]).await?;
        }
        Ok(())
    }

    fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.connection().await?;
        let version = migrate::current_version(&mut conn, self.is_postgres()).await?;
        migrate::check_not_newer(version)?;
        if version == migrate::latest_version() {
            return Ok(());
        }
        drop(conn);
        let mut tx = self.write_transaction().await?;
        migrate::apply_pending(&mut tx, self.is_postgres()).await?;
        tx.commit().await
    }

    async fn connection(&self) -> Result<Handle, StoreError> {
        Ok(match &self.backend {
            Backend::Sqlite(pool) => Handle::Sqlite(pool.session()?),
            Backend::Postgres(pool) => {
                Handle::PostgresConn(pool.acquire().await.map_err(StoreError::from_sqlx)?)
            }
        })
    }

    /// A transaction that holds the chain's write lock from its first statement,
    /// so reading the head and appending after it cannot interleave with
    /// another writer.
    async fn write_transaction(&self) -> Result<Handle, StoreError> {
        match &self.backend {
            Backend::Sqlite(pool) => {
                let mut session = pool.session()?;
                session.begin("BEGIN IMMEDIATE")?;
                Ok(Handle::Sqlite(session))
            }
            Backend::Postgres(pool) => {
                let tx = pool.begin().await.map_err(StoreError::from_sqlx)?;
                let mut handle = Handle::PostgresTx(tx);
                handle
                    .execute(
                        "SELECT pg_advisory_xact_lock($1)",
                        &[Value::Int(postgres::CHAIN_LOCK)],
                    )
                    .await?;
                Ok(handle)
            }
        }
    }

    /// A read-only transaction: every read through it sees one consistent state.
    async fn begin_snapshot(&self) -> Result<Snapshot, StoreError> {
        let handle = match &self.backend {
            Backend::Sqlite(pool) => {
                let mut session = pool.session()?;
                session.begin("BEGIN")?;
                Handle::Sqlite(session)
            }
            Backend::Postgres(pool) => Handle::PostgresTx(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
                    .map_err(StoreError::from_sqlx)?,
            ),
        };
        Ok(Snapshot { handle })
    }

    async fn run_command(
        tx: &mut Handle,
        command: Command,
        at: Timestamp,
    ) -> Result<Executed, StoreError> {
        let context = load_context(tx, &command).await?;
        let (bodies, outcome) = decide(command, &context)?;
        let mut head = read_head(tx).await?;
        let mut events: Vec<Event> = Vec::with_capacity(bodies.len());
        // Events are sealed chunk by chunk, while the previous chunk is written.
        let statements = bodies.chunks(INSERT_CHUNK).map(|chunk| {
            let sealed: Vec<Event> = chunk.iter().map(|body| head.append(body, at)).collect();
            let statements = append_statements(sealed.iter().zip(chunk));
            events.extend(sealed);
            statements
        });
        execute_all(tx, statements).await?;
        let changes = events.iter().zip(&bodies);
        apply_changes(tx, changes, context.entries).await?;
        Ok(Executed { events, outcome })
    }
}

/// Reads through one read-only transaction.
pub struct Snapshot {
    handle: Handle,
}

impl LedgerSnapshot for Snapshot {
    async fn head(&mut self) -> Result<Head, StoreError> {
        read_head(&mut self.handle).await
    }

    /// Events after `after_seq` in chain order, at most `limit`.
    async fn events_page(&mut self, after_seq: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows = self
            .handle
            .query(&sql, &[Value::Int(after_seq), Value::Int(limit)])
            .await?;
        rows.into_iter().map(event_from_row).collect()
    }

    /// Every event of these entries, in chain order.
    async fn events_at(&mut self, seqs: &[i64]) -> Result<Vec<Event>, StoreError> {
        events_at(&mut self.handle, seqs).await
    }

    async fn change_events(&mut self, ids: &[Uuid]) -> Result<Vec<Event>, StoreError> {
        change_events(&mut self.handle, ids).await
    }

    /// The view in log order (the table's own order on SQLite), after
    /// `after_seq` (exclusive), at most `limit`.
    async fn view_page(&mut self, after_seq: i64, limit: i64) -> Result<Vec<ViewRow>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE logged_seq > $1 ORDER BY logged_seq LIMIT $2"
        );
        let rows = self
            .handle
            .query(&sql, &[Value::Int(after_seq), Value::Int(limit)])
            .await?;
        rows.into_iter()
            .map(|mut row| {
                let stored_cost = Cost {
                    micros: row.opt_int(22)?,
                    currency: parse_currency(&row.text(23)?)?,
                    tier: parse_enum(&row.text(24)?)?,
                };
                let stored_void = row.int(25)? != 0;
                Ok(ViewRow {
                    entry: entry_from_row(row)?,
                    stored_cost,
                    stored_void,
                })
            })
            .collect()
    }

    async fn counts(&mut self) -> Result<(i64, i64), StoreError> {
        counts(&mut self.handle).await
    }
}

impl Store for SqlStore {
    type Snapshot = Snapshot;

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        self.begin_snapshot().await
    }

    async fn execute(&self, command: Command, at: Timestamp) -> Result<Executed, StoreError> {
        let mut tx = self.write_transaction().await?;
        // On error the transaction is dropped, which rolls it back.
        let executed = Self::run_command(&mut tx, command, at).await?;
        tx.commit().await?;
        self.after_append(executed.events.len()).await?;
        Ok(executed)
    }

    async fn entry(&self, id: Uuid) -> Result<Option<Entry>, StoreError> {
        let mut conn = self.connection().await?;
        load_entry(&mut conn, id).await
    }

    async fn entries_with_request(&self, request_id: &str) -> Result<Vec<Entry>, StoreError> {
        let mut conn = self.connection().await?;
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries \
             WHERE request_key IS NOT NULL AND request_key = $1 AND request_id = $2 ORDER BY source"
        );
        let params = [Value::Int(request_key(request_id)), request_id.into()];
        let rows = conn.query(&sql, &params).await?;
        rows.into_iter().map(entry_from_row).collect()
    }

    async fn list(&self, filter: &Filter, page: Page) -> Result<Vec<Entry>, StoreError> {
        let mut params = Vec::new();
        let clause = filter.where_clause(&mut params, filter.include_void);
        params.push(Value::Int(page.limit));
        params.push(Value::Int(page.offset));
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries {clause} ORDER BY occurred_at DESC, logged_seq DESC LIMIT ${} OFFSET ${}",
            params.len() - 1,
            params.len()
        );
        let mut conn = self.connection().await?;
        let rows = conn.query(&sql, &params).await?;
        rows.into_iter().map(entry_from_row).collect()
    }

    async fn sums(&self, filter: &Filter, grouping: Grouping) -> Result<Vec<SumRow>, StoreError> {
        let mut params = Vec::new();
        let clause = filter.where_clause(&mut params, false);
        // Grouped in the order of a covering cost index, (key, currency, day),
        // so the scan streams the index; without a key column the project
        // index serves, and the caller's fold adds the projects up.
        let (key, column) = match grouping {
            Grouping::Column(column) => (column, column),
            Grouping::None => ("CAST(NULL AS TEXT)", "project"),
        };
        let sql = format!(
            "SELECT {key}, day, cost_currency, CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT), \
             COUNT(*), COUNT(*) - COUNT(cost_micros) FROM entries {clause} \
             GROUP BY {column}, cost_currency, day"
        );
        let mut conn = self.connection().await?;
        let rows = conn.query(&sql, &params).await?;
        rows.into_iter()
            .map(|mut row| {
                Ok(SumRow {
                    key: row.opt_text(0)?,
                    day: row.int(1)?,
                    currency: parse_currency(&row.text(2)?)?,
                    micros: row.int(3)?,
                    count: row.int(4)?,
                    unpriced: row.int(5)?,
                })
            })
            .collect()
    }

    async fn tag_values(
        &self,
        field: TagField,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<TagCount>, StoreError> {
        let column = field.column();
        let pattern = format!("{}%", escape_like(&prefix.trim().to_lowercase()));
        let sql = format!(
            "SELECT {column}, COUNT(*) FROM entries WHERE is_void = 0 AND {column} IS NOT NULL \
             AND lower({column}) LIKE $1 ESCAPE '\\' GROUP BY {column} ORDER BY COUNT(*) DESC, {column} LIMIT $2"
        );
        let mut conn = self.connection().await?;
        let rows = conn
            .query(&sql, &[Value::Text(pattern), Value::Int(limit)])
            .await?;
        rows.into_iter()
            .map(|mut row| {
                Ok(TagCount {
                    value: row.text(0)?,
                    count: row.int(1)?,
                })
            })
            .collect()
    }

    async fn head(&self) -> Result<Head, StoreError> {
        let mut conn = self.connection().await?;
        read_head(&mut conn).await
    }

    async fn append_events(&self, events: &[Event]) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        let head = read_head(&mut tx).await?;
        check_continues(head, events)?;
        let bodies = events
            .iter()
            .map(|event| event.body().map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let statements = events
            .chunks(INSERT_CHUNK)
            .zip(bodies.chunks(INSERT_CHUNK))
            .map(|(events, bodies)| append_statements(events.iter().zip(bodies)));
        execute_all(&mut tx, statements).await?;
        apply_changes(&mut tx, events.iter().zip(&bodies), HashMap::new()).await?;
        tx.commit().await?;
        self.after_append(events.len()).await
    }

    async fn reset(
        &self,
        expected: Head,
        first: LedgerReset,
        at: Timestamp,
    ) -> Result<Event, StoreError> {
        let mut tx = self.write_transaction().await?;
        if read_head(&mut tx).await? != expected {
            return Err(StoreError::Conflict(
                "the ledger changed while the backup was written; nothing was removed, run reset again".into(),
            ));
        }
        tx.execute("DELETE FROM entries", &[]).await?;
        tx.execute("DELETE FROM events", &[]).await?;
        let mut head = Head::EMPTY;
        let body = EventBody::LedgerReset(first);
        let event = head.append(&body, at);
        execute_all(
            &mut tx,
            std::iter::once(append_statements(std::iter::once((&event, &body)))),
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn info(&self) -> Result<StoreInfo, StoreError> {
        let mut conn = self.connection().await?;
        let schema_version = migrate::current_version(&mut conn, self.is_postgres()).await?;
        let (events, entries) = counts(&mut conn).await?;
        Ok(StoreInfo {
            backend: self.url.backend(),
            location: self.url.to_string(),
            schema_version,
            events,
            entries,
        })
    }

    async fn import_rates(&self, rates: &[DayRate]) -> Result<RatesImported, StoreError> {
        let mut tx = self.write_transaction().await?;
        let imported = super::rates::import(&mut tx, rates).await?;
        tx.commit().await?;
        Ok(imported)
    }

    async fn confirmed_actuals(&self, model: &str) -> Result<Vec<Money>, StoreError> {
        let mut conn = self.connection().await?;
        let rows = conn
            .query(
                "SELECT actual_micros, actual_currency FROM entries \
                 WHERE model = $1 AND actual_micros IS NOT NULL AND is_void = 0",
                &[Value::from(model)],
            )
            .await?;
        rows.into_iter()
            .map(|mut row| Ok(Money::new(row.int(0)?, parse_currency(&row.text(1)?)?)))
            .collect()
    }

    async fn rates(&self, currencies: Option<&[Currency]>) -> Result<Vec<DayRate>, StoreError> {
        let mut conn = self.connection().await?;
        super::rates::load(&mut conn, currencies).await
    }
}

async fn counts(handle: &mut Handle) -> Result<(i64, i64), StoreError> {
    let events = handle
        .query_one("SELECT COUNT(*) FROM events", &[])
        .await?
        .int(0)?;
    let entries = handle
        .query_one("SELECT COUNT(*) FROM entries", &[])
        .await?
        .int(0)?;
    Ok((events, entries))
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
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

async fn read_head(handle: &mut Handle) -> Result<Head, StoreError> {
    let rows = handle
        .query(
            "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await?;
    match rows.into_iter().next() {
        None => Ok(Head::EMPTY),
        Some(mut row) => Ok(Head {
            seq: row.int(0)?,
            hash: parse_hash(&row.text(1)?)?,
        }),
    }
}

async fn load_entry(handle: &mut Handle, id: Uuid) -> Result<Option<Entry>, StoreError> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE id = $1");
    let rows = handle.query(&sql, &[Value::Text(id.to_string())]).await?;
    rows.into_iter().next().map(entry_from_row).transpose()
}

async fn load_context(tx: &mut Handle, command: &Command) -> Result<Context, StoreError> {
    let mut context = Context::default();
    for id in command.entry_ids() {
        if let Some(entry) = load_entry(tx, id).await? {
            context.entries.insert(id, entry);
        }
    }
    let keys = command.request_keys();
    let wanted: std::collections::HashSet<&(String, String)> = keys.iter().collect();
    let mut request_keys: Vec<i64> = keys.iter().map(|(_, r)| request_key(r)).collect();
    request_keys.sort_unstable();
    request_keys.dedup();
    for chunk in request_keys.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            // `IS NOT NULL` lets PostgreSQL use the partial index.
            "SELECT source, request_id, id FROM entries WHERE request_key IS NOT NULL AND request_key IN ({})",
            placeholders(chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(|k| Value::Int(*k)).collect();
        for mut row in tx.query(&sql, &params).await? {
            let key = (row.text(0)?, row.text(1)?);
            if wanted.contains(&key) {
                context
                    .request_owners
                    .insert(key, parse_uuid(&row.text(2)?)?);
            }
        }
    }
    Ok(context)
}

async fn events_at(handle: &mut Handle, seqs: &[i64]) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::new();
    for chunk in seqs.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE seq IN ({})",
            placeholders(chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(|s| Value::Int(*s)).collect();
        for row in handle.query(&sql, &params).await? {
            events.push(event_from_row(row)?);
        }
    }
    events.sort_by_key(|e| e.seq);
    Ok(events)
}

async fn change_events(handle: &mut Handle, ids: &[Uuid]) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        // The `kind` term lets both backends use the partial index of changes.
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE kind <> 'entry_logged' AND entry_id IN ({})",
            placeholders(chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(|id| Value::Text(id.to_string())).collect();
        for row in handle.query(&sql, &params).await? {
            events.push(event_from_row(row)?);
        }
    }
    events.sort_by_key(|e| e.seq);
    Ok(events)
}

/// `$1, $2, ..., $n`
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Column types, in `EVENT_COLUMNS` and `ENTRY_COLUMNS` order.
const EVENT_TYPES: &[Column] = &[
    Column::Int,
    Column::Int,
    Column::Text,
    Column::Text,
    Column::Text,
    Column::Text,
    Column::Text,
];
const ENTRY_TYPES: &[Column] = &[
    Column::Text, // id
    Column::Int,  // logged_seq
    Column::Text, // kind
    Column::Int,  // occurred_at
    Column::Text, // source
    Column::Text, // model
    Column::Text, // description
    Column::Text, // client
    Column::Text, // project
    Column::Text, // deliverable
    Column::Text, // request_id
    Column::Text, // status
    Column::Int,  // duration_ms
    Column::Text, // params
    Column::Int,  // estimate_micros
    Column::Text, // estimate_currency
    Column::Text, // estimate_tier
    Column::Int,  // actual_micros
    Column::Text, // actual_currency
    Column::Int,  // actual_confirmed_at
    Column::Text, // void_reason
    Column::Int,  // voided_at
    Column::Int,  // cost_micros
    Column::Text, // cost_currency
    Column::Text, // cost_tier
    Column::Int,  // is_void
    Column::Text, // price_version
    Column::Text, // license
    Column::Int,  // day
    Column::Int,  // request_key
];

/// Runs groups of statements in order, building the next group while the
/// database executes the current one (the two run on different threads).
async fn execute_all(
    tx: &mut Handle,
    statements: impl Iterator<Item = Vec<RowsInsert>>,
) -> Result<(), StoreError> {
    let mut statements = statements;
    let mut current = statements.next();
    while let Some(inserts) = current.take() {
        let mut running = std::pin::pin!(tx.insert_rows(inserts));
        // The first poll hands the statement to the database.
        let first = futures_util::poll!(running.as_mut());
        current = statements.next();
        match first {
            std::task::Poll::Ready(result) => result?,
            std::task::Poll::Pending => running.await?,
        };
    }
    Ok(())
}

/// The INSERTs that append these events (at most `INSERT_CHUNK`) and add the
/// entries they log to the view.
fn append_statements<'a>(
    events: impl Iterator<Item = (&'a Event, &'a EventBody)>,
) -> Vec<RowsInsert> {
    let mut event_params = Vec::new();
    let mut entry_params = Vec::new();
    let (mut event_rows, mut entry_rows) = (0, 0);
    for (e, body) in events {
        event_params.extend([
            Value::Int(e.seq),
            Value::Int(e.recorded_at.0),
            Value::Text(e.kind.clone()),
            e.entry_id.map(|id| id.to_string()).into(),
            Value::Text(e.payload.clone()),
            Value::Text(e.prev_hash.to_hex()),
            Value::Text(e.hash.to_hex()),
        ]);
        event_rows += 1;
        if let EventBody::EntryLogged(record) = body {
            entry_params.extend(entry_values(entry_from_record(
                record,
                e.seq,
                e.recorded_at,
            )));
            entry_rows += 1;
        }
    }
    let mut statements = Vec::with_capacity(2);
    if event_rows > 0 {
        statements.push(RowsInsert {
            table: "events",
            columns: EVENT_COLUMNS,
            types: EVENT_TYPES,
            values: event_params,
            on_conflict: "",
        });
    }
    if entry_rows > 0 {
        statements.push(RowsInsert {
            table: "entries",
            columns: ENTRY_COLUMNS,
            types: ENTRY_TYPES,
            values: entry_params,
            on_conflict: "",
        });
    }
    statements
}

/// Applies change events (all but `entry_logged`, whose entries are already
/// inserted) to the view. `known` holds entries already loaded.
async fn apply_changes<'a>(
    tx: &mut Handle,
    events: impl Iterator<Item = (&'a Event, &'a EventBody)>,
    mut known: HashMap<Uuid, Entry>,
) -> Result<(), StoreError> {
    let mut changed: HashMap<Uuid, Entry> = HashMap::new();
    for (event, body) in events {
        if matches!(body, EventBody::EntryLogged(_) | EventBody::LedgerReset(_)) {
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
        let entry = changed.entry(id).or_insert(entry);
        apply_change(entry, body, event.recorded_at);
    }
    for entry in changed.values() {
        update_entry(tx, entry).await?;
    }
    Ok(())
}

async fn update_entry(tx: &mut Handle, entry: &Entry) -> Result<(), StoreError> {
    let assignments: Vec<String> = ENTRY_COLUMNS
        .split(", ")
        .enumerate()
        .skip(1)
        .map(|(i, column)| format!("{} = ${}", column.trim(), i + 1))
        .collect();
    let sql = format!(
        "UPDATE entries SET {} WHERE id = $1",
        assignments.join(", ")
    );
    tx.execute(&sql, &entry_values(entry.clone())).await?;
    Ok(())
}

/// The view row of an entry, in `ENTRY_COLUMNS` order; takes the entry so
/// its text moves into the row instead of being copied.
fn entry_values(e: Entry) -> Vec<Value> {
    let cost = e.cost();
    let day = e.occurred_at.day();
    let request_key = e.request_id.as_deref().map(request_key);
    let (void_reason, voided_at) = match e.void {
        Some(v) => (Some(v.reason), Some(v.at.0)),
        None => (None, None),
    };
    vec![
        Value::Text(e.id.to_string()),
        Value::Int(e.logged_seq),
        e.kind.as_str().into(),
        Value::Int(e.occurred_at.0),
        Value::Text(e.source),
        e.model.into(),
        e.description.into(),
        e.tags.client.into(),
        e.tags.project.into(),
        e.tags.deliverable.into(),
        e.request_id.into(),
        e.status.as_str().into(),
        e.duration_ms.into(),
        Value::Text(e.params),
        e.estimate.micros.into(),
        e.estimate.currency.code().into(),
        e.estimate.tier.as_str().into(),
        e.actual.map(|a| a.amount.micros).into(),
        e.actual
            .map(|a| a.amount.currency.code().to_string())
            .into(),
        e.actual.map(|a| a.confirmed_at.0).into(),
        void_reason.into(),
        Value::from(voided_at),
        cost.micros.into(),
        cost.currency.code().into(),
        cost.tier.as_str().into(),
        Value::Int(i64::from(voided_at.is_some())),
        e.price_version.into(),
        e.license.into(),
        Value::Int(day),
        request_key.into(),
    ]
}

fn entry_from_row(mut row: Row) -> Result<Entry, StoreError> {
    let actual = match (row.opt_int(17)?, row.opt_text(18)?, row.opt_int(19)?) {
        (Some(micros), Some(currency), Some(at)) => Some(Actual {
            amount: Money::new(micros, parse_currency(&currency)?),
            confirmed_at: Timestamp(at),
        }),
        _ => None,
    };
    let void = match (row.opt_text(20)?, row.opt_int(21)?) {
        (Some(reason), Some(at)) => Some(Voiding {
            reason,
            at: Timestamp(at),
        }),
        _ => None,
    };
    let occurred_at = Timestamp(row.int(3)?);
    // The day is derived from occurred_at; a row where they disagree was altered.
    if row.int(28)? != occurred_at.day() {
        return Err(StoreError::Corrupt(format!(
            "entry {}: its stored day does not match its time {occurred_at}",
            row.opt_text(0)?.unwrap_or_default()
        )));
    }
    Ok(Entry {
        id: parse_uuid(&row.text(0)?)?,
        logged_seq: row.int(1)?,
        kind: parse_enum(&row.text(2)?)?,
        occurred_at,
        source: row.text(4)?,
        model: row.opt_text(5)?,
        description: row.opt_text(6)?,
        tags: Tags {
            client: row.opt_text(7)?,
            project: row.opt_text(8)?,
            deliverable: row.opt_text(9)?,
        },
        request_id: row.opt_text(10)?,
        status: parse_enum(&row.text(11)?)?,
        duration_ms: row.opt_int(12)?,
        params: row.text(13)?,
        estimate: Estimate {
            micros: row.opt_int(14)?,
            currency: parse_currency(&row.text(15)?)?,
            tier: parse_enum(&row.text(16)?)?,
        },
        actual,
        void,
        price_version: row.opt_text(26)?,
        license: row.opt_text(27)?,
    })
}

fn event_from_row(mut row: Row) -> Result<Event, StoreError> {
    let seq = row.int(0)?;
    Ok(Event {
        seq,
        recorded_at: Timestamp(row.int(1)?),
        kind: row.text(2)?,
        entry_id: row.opt_text(3)?.map(|t| parse_uuid(&t)).transpose()?,
        payload: row.text(4)?,
        prev_hash: parse_hash(&row.text(5)?)?,
        hash: parse_hash(&row.text(6)?)?,
    })
}

fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt(format!("malformed id '{text}'")))
}

fn parse_hash(text: &str) -> Result<Hash, StoreError> {
    Hash::from_hex(text).ok_or_else(|| StoreError::Corrupt(format!("malformed hash '{text}'")))
}

fn parse_currency(text: &str) -> Result<Currency, StoreError> {
    text.parse()
        .map_err(|e: crate::money::UnknownCurrency| StoreError::Corrupt(e.to_string()))
}

fn parse_enum<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T, StoreError> {
    text.parse().map_err(StoreError::Corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_types_match_column_lists() {
        assert_eq!(EVENT_COLUMNS.split(',').count(), EVENT_TYPES.len());
        assert_eq!(ENTRY_COLUMNS.split(',').count(), ENTRY_TYPES.len());
    }
}
