//! The embedded SQLite backend: one file, WAL, `synchronous=FULL`, and a busy
//! timeout so several processes can write the same ledger file.
//!
//! It talks to SQLite through rusqlite rather than sqlx: sqlx copies every
//! value across a worker thread per row, which made a million-entry seed take
//! 90 s and `verify` 40 s. SQLite calls block (on disk, and on another
//! process's write lock), so each call here runs on tokio's blocking pool with
//! the connection moved to it and back: an async worker never waits on
//! SQLite, and a request waiting for a lock does not stall other requests.

use super::error::StoreError;
use super::request_key;
use super::value::{CellRef, Row, Value};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// How long a writer waits for another process's write to finish before it
/// gives up with `StoreError::Busy`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);
/// Page cache of a connection in a write transaction, and otherwise.
const WRITE_CACHE_KIB: u32 = 49_152;
const READ_CACHE_KIB: u32 = 8_192;
/// Idle connections kept for reuse.
const IDLE_CONNECTIONS: usize = 4;

/// Rows for one table: `into` is `INSERT OR FAIL INTO table (columns)`,
/// `suffix` an optional `ON CONFLICT` clause, and `values` all the rows'
/// values, `width` per row.
pub struct BulkInsert {
    pub into: String,
    pub suffix: &'static str,
    pub values: Vec<Value>,
    pub width: usize,
}

/// Connections to one ledger file, each on its own thread, reused between
/// calls.
pub struct SqlitePool {
    path: PathBuf,
    idle: Mutex<Vec<Worker>>,
}

impl SqlitePool {
    /// Opens (creating when `create`) the file; refuses a missing file otherwise.
    pub async fn open(path: &Path, create: bool) -> Result<Arc<SqlitePool>, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(open_error(
                    path,
                    format!("directory {} does not exist", parent.display()),
                ));
            }
        }
        if path.exists() {
            let owned = path.to_path_buf();
            tokio::task::spawn_blocking(move || check_is_ledger(&owned))
                .await
                .map_err(|e| StoreError::Database(format!("the SQLite worker stopped: {e}")))??;
        } else if !create {
            return Err(open_error(path, "no such ledger file".to_string()));
        }
        let pool = Arc::new(SqlitePool {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        });
        let first = Worker::start(&pool.path).await?;
        pool.put_back(first);
        Ok(pool)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn put_back(&self, worker: Worker) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_CONNECTIONS {
                idle.push(worker);
            }
        }
    }

    /// A connection for one caller; returned to the pool when dropped.
    pub async fn session(self: &Arc<Self>) -> Result<SqliteSession, StoreError> {
        let reused = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let worker = match reused {
            Some(worker) => worker,
            None => Worker::start(&self.path).await?,
        };
        Ok(SqliteSession {
            worker: Some(worker),
            pool: Arc::clone(self),
            in_transaction: false,
            in_flight: false,
            spent: Vec::new(),
        })
    }
}

/// The pool's connections are closed before it is gone: the last one to
/// close copies the write-ahead log into the file and removes it. A process
/// that exits with its connection threads still open leaves the log
/// behind, so the ledger file alone is not the whole ledger (a copy of it
/// misses the latest writes) and the next process to open it reads the
/// whole log first (up to 128 MB after a bulk write).
impl Drop for SqlitePool {
    fn drop(&mut self) {
        let idle = match self.idle.get_mut() {
            Ok(idle) => std::mem::take(idle),
            Err(poisoned) => std::mem::take(poisoned.into_inner()),
        };
        for worker in idle {
            worker.close();
        }
    }
}

/// Work for a connection's thread.
type Job = Box<dyn FnOnce(&Connection) + Send>;

/// One connection on a thread of its own, running the jobs sent to it in
/// order. Dropping the worker ends the thread once the jobs already sent are
/// done; closing the connection rolls back a transaction left open.
struct Worker {
    jobs: std::sync::mpsc::Sender<Job>,
    thread: std::thread::JoinHandle<()>,
}

impl Worker {
    async fn start(path: &Path) -> Result<Worker, StoreError> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let (ready, opened) = oneshot::channel();
        let path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("gencost-sqlite".into())
            .spawn(move || match connect(&path) {
                Ok(conn) => {
                    let _ = ready.send(Ok(()));
                    for job in queue {
                        job(&conn);
                    }
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                }
            })
            .map_err(|e| StoreError::Database(format!("cannot start a SQLite thread: {e}")))?;
        opened.await.map_err(|_| stopped())??;
        Ok(Worker { jobs, thread })
    }

    /// Ends the thread after its jobs and waits for its connection to close.
    fn close(self) {
        let Worker { jobs, thread } = self;
        drop(jobs);
        let _ = thread.join();
    }

    /// Sends `work` to the connection's thread; the answer comes back on a
    /// channel that `wait` reads.
    fn send<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> Result<oneshot::Receiver<T>, StoreError> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = answer.send(work(conn));
        });
        self.jobs.send(job).map_err(|_| stopped())?;
        Ok(answered)
    }
}

async fn wait<T>(answered: oneshot::Receiver<T>) -> Result<T, StoreError> {
    answered.await.map_err(|_| stopped())
}

fn stopped() -> StoreError {
    StoreError::Database("the SQLite connection's thread stopped".into())
}

/// Refuses, before anything is written to it, a file that is not a SQLite
/// database or that holds tables but no gencost schema: it is someone
/// else's data, and opening it as a ledger (which switches it to WAL and adds
/// tables) would change it.
fn check_is_ledger(path: &Path) -> Result<(), StoreError> {
    check_not_truncated(path)?;
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| open_error(path, e.to_string()))?;
    let count = |sql: &str| -> Result<i64, StoreError> {
        conn.query_row(sql, [], |row| row.get(0))
            .map_err(|e| open_error(path, e.to_string()))
    };
    let tables = count("SELECT COUNT(*) FROM sqlite_master")?;
    let ours = count(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'gencost_schema'",
    )?;
    if tables > 0 && ours == 0 {
        return Err(open_error(
            path,
            "it holds other data and is not a gencost ledger; nothing was changed".into(),
        ));
    }
    Ok(())
}

/// Refuses a file shorter than the pages its own header counts: a ledger
/// cut short (a copy that did not finish, a full disk) would otherwise
/// read as a ledger with tables missing, or empty. Only a header SQLite
/// vouches for is read (its "valid for" counter equals the change counter),
/// and only with no write-ahead log beside it: while one holds pages not
/// yet copied back, the file's header may count pages the file does not
/// have yet.
fn check_not_truncated(path: &Path) -> Result<(), StoreError> {
    use std::io::Read;
    let mut header = [0u8; 100];
    let mut file = std::fs::File::open(path).map_err(|e| open_error(path, e.to_string()))?;
    let length = file
        .metadata()
        .map_err(|e| open_error(path, e.to_string()))?
        .len();
    if length == 0 {
        return Ok(());
    }
    if file.read_exact(&mut header).is_err() || &header[..16] != b"SQLite format 3\0" {
        return Err(open_error(
            path,
            "it is not a SQLite database (a damaged or foreign file); nothing was changed".into(),
        ));
    }
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    let pages = u64::from(be32(28));
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let pending_wal = std::fs::metadata(std::path::PathBuf::from(wal)).is_ok_and(|m| m.len() > 0);
    if !pending_wal && be32(24) == be32(92) && pages > 0 && length < pages * page_size {
        return Err(open_error(
            path,
            format!(
                "the file is cut short: {length} bytes where its header counts {} (restore it from a backup); nothing was changed",
                pages * page_size
            ),
        ));
    }
    Ok(())
}

/// Opens one connection (blocking: run on the blocking pool).
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e.to_string()))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| open_error(path, e.to_string()))?;
    // page_size only takes effect on a new file: event rows are large and
    // bigger pages split less. Statement journals of bulk inserts stay in
    // memory. Checkpoints every 128 MB of WAL rather than SQLite's 16 MB:
    // a bulk log rewrites the same index pages commit after commit, and a
    // checkpoint copies each page once however often it changed.
    const SETUP: &str = "PRAGMA page_size = 16384;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA wal_autocheckpoint = 8192;";
    // Switching a new file to WAL needs a moment alone with it and does not
    // wait on the busy timeout; when two processes create the same ledger at
    // once, one waits (boundedly) for the other.
    let started = std::time::Instant::now();
    loop {
        match conn.execute_batch(SETUP) {
            Ok(()) => break,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(open_error(path, e.to_string())),
        }
    }
    conn.create_scalar_function(
        request_key::SQL_FUNCTION,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(request_key::request_key(&ctx.get::<String>(0)?)),
    )
    .map_err(|e| open_error(path, e.to_string()))?;
    conn.create_scalar_function(
        crate::ledger::tags::FOLD_SQL_FUNCTION,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(crate::ledger::tags::fold(&ctx.get::<String>(0)?)),
    )
    .map_err(|e| open_error(path, e.to_string()))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn open_error(path: &Path, reason: String) -> StoreError {
    StoreError::Open {
        location: path.display().to_string(),
        reason,
    }
}

/// One connection, possibly inside a transaction that is rolled back if the
/// session is dropped before `commit`.
pub struct SqliteSession {
    worker: Option<Worker>,
    pool: Arc<SqlitePool>,
    in_transaction: bool,
    /// A job was sent and its answer not yet read: the caller went away
    /// mid-call (a timeout, a dropped request), and the connection's state
    /// is unknown (a `BEGIN` may still run).
    in_flight: bool,
    /// Rows already inserted, kept to be freed during the next insert.
    spent: Vec<BulkInsert>,
}

/// A bulk insert running on the connection's thread; `SqliteSession::finish`
/// waits for it.
pub struct RunningInsert {
    answered: oneshot::Receiver<(Result<(), StoreError>, Vec<BulkInsert>)>,
}

impl SqliteSession {
    /// Runs `work` on the connection's thread.
    async fn with_conn<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let answered = self.worker()?.send(work)?;
        self.in_flight = true;
        self.answer(answered).await?
    }

    /// Reads a job's answer; a worker whose thread stopped is not used again.
    async fn answer<T>(&mut self, answered: oneshot::Receiver<T>) -> Result<T, StoreError> {
        match wait(answered).await {
            Ok(answer) => {
                self.in_flight = false;
                Ok(answer)
            }
            Err(e) => {
                self.worker = None;
                Err(e)
            }
        }
    }

    fn worker(&self) -> Result<&Worker, StoreError> {
        self.worker
            .as_ref()
            .ok_or_else(|| StoreError::Database("the connection is closed".into()))
    }

    /// `BEGIN IMMEDIATE` takes the write lock at once (waiting up to the busy
    /// timeout), so a read-then-append cannot interleave with another writer.
    pub async fn begin(&mut self, statement: &'static str) -> Result<(), StoreError> {
        // Writers insert into several indexes at once and want a large page
        // cache; long read scans stream through and need little.
        let cache = if statement.contains("IMMEDIATE") {
            WRITE_CACHE_KIB
        } else {
            READ_CACHE_KIB
        };
        self.with_conn(move |conn| {
            conn.execute_batch(&format!("PRAGMA cache_size = -{cache}"))
                .map_err(db_error)?;
            conn.execute_batch(statement).map_err(db_error)
        })
        .await?;
        self.in_transaction = true;
        Ok(())
    }

    pub async fn commit(&mut self) -> Result<(), StoreError> {
        if self.in_transaction {
            self.with_conn(|conn| conn.execute_batch("COMMIT").map_err(db_error))
                .await?;
            self.in_transaction = false;
        }
        Ok(())
    }

    pub async fn rollback(&mut self) -> Result<(), StoreError> {
        if self.in_transaction {
            self.with_conn(|conn| conn.execute_batch("ROLLBACK").map_err(db_error))
                .await?;
            self.in_transaction = false;
        }
        Ok(())
    }

    pub async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.query_map(sql, params, Ok).await
    }

    /// Runs a query and maps each row on the blocking pool, beside the
    /// connection: a row's text is then allocated and freed on one thread
    /// (freeing it on another made long scans contend for malloc's locks).
    pub async fn query_map<T: Send + 'static>(
        &mut self,
        sql: &str,
        params: &[Value],
        map: impl Fn(Row) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<Vec<T>, StoreError> {
        let sql = positional(sql).unwrap_or_else(|| sql.to_string());
        let params = params.to_vec();
        self.with_conn(move |conn| query(conn, &sql, &params, map))
            .await
    }

    /// Runs a query and folds each row into `acc` beside the connection,
    /// its cells borrowed from SQLite: a long scan that only digests or
    /// sums its rows copies no text.
    pub async fn query_fold<A: Send + 'static>(
        &mut self,
        sql: &str,
        params: &[Value],
        acc: A,
        fold: impl FnMut(&mut A, &[CellRef<'_>]) -> Result<(), StoreError> + Send + 'static,
    ) -> Result<A, StoreError> {
        let sql = positional(sql).unwrap_or_else(|| sql.to_string());
        let params = params.to_vec();
        self.with_conn(move |conn| fold_rows(conn, &sql, &params, acc, fold))
            .await
    }

    pub async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let sql = positional(sql).unwrap_or_else(|| sql.to_string());
        let params = params.to_vec();
        self.with_conn(move |conn| {
            let mut statement = conn.prepare_cached(&sql).map_err(db_error)?;
            bind(&mut statement, &params)?;
            Ok(statement.raw_execute().map_err(db_error)? as u64)
        })
        .await
    }

    /// Starts inserting rows on the connection's thread, so the caller can
    /// prepare the next rows meanwhile; `finish` waits for it.
    pub fn start_insert(&mut self, inserts: Vec<BulkInsert>) -> Result<RunningInsert, StoreError> {
        let answered = self.worker()?.send(move |conn| {
            let result = inserts
                .iter()
                .try_for_each(|insert| insert_all(conn, insert));
            (result, inserts)
        })?;
        self.in_flight = true;
        // The last rows are freed here, on the thread that allocated them,
        // while the connection's thread inserts these.
        self.spent.clear();
        Ok(RunningInsert { answered })
    }

    pub async fn finish(&mut self, running: RunningInsert) -> Result<(), StoreError> {
        let (result, inserts) = self.answer(running.answered).await?;
        self.spent = inserts;
        result
    }

    pub async fn execute_script(&mut self, sql: &str) -> Result<(), StoreError> {
        let sql = sql.to_string();
        self.with_conn(move |conn| conn.execute_batch(&sql).map_err(db_error))
            .await
    }

    /// Copies the whole database into a new file at `target` (`VACUUM INTO`).
    pub async fn backup_to(&mut self, target: &Path) -> Result<(), StoreError> {
        let target = target.display().to_string();
        self.with_conn(move |conn| {
            conn.execute("VACUUM INTO ?1", [&target])
                .map(drop)
                .map_err(db_error)
        })
        .await
    }
}

impl Drop for SqliteSession {
    fn drop(&mut self) {
        // A session dropped inside a transaction or mid-call (an error, or a
        // caller that went away) is not reused: its thread finishes what was
        // sent, and closing the connection rolls any transaction back.
        if let Some(worker) = self.worker.take() {
            if !self.in_transaction && !self.in_flight {
                self.pool.put_back(worker);
            }
        }
    }
}

fn query<T>(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    map: impl Fn(Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(db_error)?;
    let names: Arc<[String]> = statement
        .column_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    bind(&mut statement, params)?;
    let mut rows = statement.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_error)? {
        let mut cells = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            cells.push(cell(row, i, name)?.into());
        }
        out.push(map(Row {
            names: Arc::clone(&names),
            cells,
        })?);
    }
    Ok(out)
}

fn fold_rows<A>(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    mut acc: A,
    mut fold: impl FnMut(&mut A, &[CellRef<'_>]) -> Result<(), StoreError>,
) -> Result<A, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(db_error)?;
    let names: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    bind(&mut statement, params)?;
    let mut rows = statement.raw_query();
    // One buffer of cells for every row: emptied, it is handed from one
    // row's lifetime to the next by collecting into it in place.
    let mut spare: Vec<CellRef<'static>> = Vec::with_capacity(names.len());
    while let Some(row) = rows.next().map_err(db_error)? {
        let mut cells: Vec<CellRef<'_>> = spare.into_iter().map(|_| CellRef::Null).collect();
        for (i, name) in names.iter().enumerate() {
            cells.push(cell(row, i, name)?);
        }
        fold(&mut acc, &cells)?;
        cells.clear();
        spare = cells.into_iter().map(|_| CellRef::Null).collect();
    }
    Ok(acc)
}

/// Column `i` of a row, borrowed; the ledger stores only integers and text.
fn cell<'a>(row: &'a rusqlite::Row<'_>, i: usize, name: &str) -> Result<CellRef<'a>, StoreError> {
    Ok(match row.get_ref(i).map_err(db_error)? {
        ValueRef::Null => CellRef::Null,
        ValueRef::Integer(v) => CellRef::Int(v),
        ValueRef::Text(bytes) => CellRef::Text(std::str::from_utf8(bytes).map_err(|_| {
            StoreError::Corrupt(format!("column {name} holds text that is not UTF-8"))
        })?),
        ValueRef::Real(_) | ValueRef::Blob(_) => {
            return Err(StoreError::Corrupt(format!(
                "column {name} holds a value that is neither an integer nor text"
            )))
        }
    })
}

/// Binds `$n` parameters by their number (SQLite numbers named parameters in
/// order of first appearance, not by name) and anonymous ones in order. A
/// parameter with no value is an error, never a NULL.
fn bind(statement: &mut rusqlite::Statement<'_>, params: &[Value]) -> Result<(), StoreError> {
    for i in 1..=statement.parameter_count() {
        let number = match statement.parameter_name(i) {
            Some(name) => name
                .trim_start_matches(['$', '?'])
                .parse::<usize>()
                .map_err(|_| StoreError::Database(format!("unsupported parameter {name}")))?,
            None => i,
        };
        let value = number
            .checked_sub(1)
            .and_then(|n| params.get(n))
            .ok_or_else(|| {
                StoreError::Database(format!(
                    "statement parameter {number} has no value ({} given)",
                    params.len()
                ))
            })?;
        statement.raw_bind_parameter(i, value).map_err(db_error)?;
    }
    Ok(())
}

/// Rows per multi-row statement in a bulk insert. A statement is prepared
/// once and rebound for each group, so SQLite keeps its bound values'
/// buffers from group to group and its cursors open within one (rows one
/// statement each spent a tenth of their time closing and opening cursors;
/// an upsert also pays per statement, so rate imports want large groups).
const ROWS_PER_STATEMENT: usize = 256;

fn insert_all(conn: &Connection, insert: &BulkInsert) -> Result<(), StoreError> {
    let row = format!("({})", vec!["?"; insert.width].join(", "));
    let sql = |rows: usize| {
        format!(
            "{} VALUES {} {}",
            insert.into,
            vec![row.as_str(); rows].join(", "),
            insert.suffix
        )
    };
    let mut groups = insert
        .values
        .chunks_exact(insert.width * ROWS_PER_STATEMENT);
    if groups.len() > 0 {
        let mut statement = conn
            .prepare_cached(&sql(ROWS_PER_STATEMENT))
            .map_err(db_error)?;
        for group in &mut groups {
            run_bound(&mut statement, group)?;
        }
    }
    let rest = groups.remainder();
    if !rest.is_empty() {
        let mut statement = conn.prepare_cached(&sql(1)).map_err(db_error)?;
        for one in rest.chunks(insert.width) {
            run_bound(&mut statement, one)?;
        }
    }
    Ok(())
}

fn run_bound(statement: &mut rusqlite::Statement<'_>, values: &[Value]) -> Result<(), StoreError> {
    for (i, value) in values.iter().enumerate() {
        statement
            .raw_bind_parameter(i + 1, value)
            .map_err(db_error)?;
    }
    statement.raw_execute().map_err(db_error)?;
    Ok(())
}

fn db_error(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
            StoreError::Busy {
                waited_s: BUSY_TIMEOUT.as_secs(),
            }
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
            StoreError::Full
        }
        other => StoreError::Database(other.to_string()),
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null | Value::NullInt => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// SQLite looks up a named parameter (`$n`, `?n`) by a linear scan, so a
/// statement with thousands of them binds in quadratic time. When the `$n`
/// appear in order 1, 2, 3, ... they are rewritten to anonymous `?`, which
/// bind by position.
fn positional(sql: &str) -> Option<String> {
    if !sql.contains('$') {
        return None;
    }
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut expected = 1usize;
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            // Skip string literals untouched.
            let end = sql[i + 1..].find('\'')? + i + 2;
            i = end;
            continue;
        }
        if bytes[i] == b'$' {
            let digits = sql[i + 1..].bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                let n: usize = sql[i + 1..i + 1 + digits].parse().ok()?;
                if n != expected {
                    return None;
                }
                expected += 1;
                out.push_str(&sql[last..i]);
                out.push('?');
                i += 1 + digits;
                last = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&sql[last..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::positional;

    #[test]
    fn rewrites_only_sequential_parameters() {
        assert_eq!(
            positional("SELECT $1, '$9', $2").as_deref(),
            Some("SELECT ?, '$9', ?")
        );
        assert_eq!(positional("SELECT $2, $1"), None);
        assert_eq!(
            positional("WHERE a LIKE $1 ESCAPE '\\' LIMIT $2").as_deref(),
            Some("WHERE a LIKE ? ESCAPE '\\' LIMIT ?")
        );
    }
}
