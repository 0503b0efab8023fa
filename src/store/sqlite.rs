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
        .foreign_keys(true)
        // 64 MiB of page cache: large ledgers insert into several indexes at once.
        .pragma("cache_size", "-65536")
        // Statement journals of bulk inserts stay in memory.
        .pragma("temp_store", "memory")
        // Event rows are large; bigger pages split less (applies to new files).
        .page_size(16384);
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

/// SQLite looks up a named parameter (`$n`, `?n`) by a linear scan, so a
/// statement with thousands of them binds in quadratic time. When the `$n`
/// appear in order 1, 2, 3, ... they are rewritten to anonymous `?`, which
/// bind by position.
fn positional(sql: &str) -> Option<String> {
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

fn bind_all<'q>(
    sql: &'q str,
    params: &'q [Value],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    let mut query = sqlx::query(sql);
    for p in params {
        query = match p {
            Value::Null | Value::NullInt => query.bind(None::<i64>),
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
    let rewritten = positional(sql);
    let sql = rewritten.as_deref().unwrap_or(sql);
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
    let rewritten = positional(sql);
    let sql = rewritten.as_deref().unwrap_or(sql);
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
