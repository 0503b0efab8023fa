//! The embedded SQLite backend: one file, WAL, `synchronous=FULL`, and a busy
//! timeout so several processes can write the same ledger file.

use super::sql::{Row, Value};
use super::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row as _, SqliteConnection, SqlitePool, TypeInfo, ValueRef};
use std::path::Path;
use std::time::Duration;

/// How long a writer waits for another process's write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn connect(path: &Path) -> Result<SqlitePool, StoreError> {
    let location = path.display().to_string();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(StoreError::Open {
                location,
                reason: format!("directory {} does not exist", parent.display()),
            });
        }
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true);
    SqlitePoolOptions::new()
        .max_connections(4)
        .min_connections(0)
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Open {
            location,
            reason: describe_open_error(&e),
        })
}

fn describe_open_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

fn bind_all<'q>(
    sql: &'q str,
    params: &'q [Value],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    let mut query = sqlx::query(sql);
    for p in params {
        query = match p {
            Value::Null => query.bind(None::<i64>),
            Value::Int(v) => query.bind(*v),
            Value::Text(s) => query.bind(s.as_str()),
        };
    }
    query
}

pub async fn query(
    conn: &mut SqliteConnection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>, StoreError> {
    let rows = bind_all(sql, params)
        .fetch_all(conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    rows.iter().map(decode).collect()
}

pub async fn execute(
    conn: &mut SqliteConnection,
    sql: &str,
    params: &[Value],
) -> Result<u64, StoreError> {
    let done = bind_all(sql, params)
        .execute(conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    Ok(done.rows_affected())
}

fn decode(row: &sqlx::sqlite::SqliteRow) -> Result<Row, StoreError> {
    let mut cells = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i).map_err(StoreError::from_sqlx)?;
        let cell = if raw.is_null() {
            Value::Null
        } else {
            match raw.type_info().name() {
                "INTEGER" => Value::Int(row.try_get(i).map_err(StoreError::from_sqlx)?),
                "TEXT" => Value::Text(row.try_get(i).map_err(StoreError::from_sqlx)?),
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "column {i} holds an unexpected {other} value"
                    )))
                }
            }
        };
        cells.push(cell);
    }
    Ok(Row(cells))
}
