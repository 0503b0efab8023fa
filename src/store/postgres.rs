//! The PostgreSQL backend: one ledger shared by a studio's editors. Appends
//! are serialised with a transaction-scoped advisory lock so the hash chain
//! stays one gap-free sequence however many writers there are.

use super::error::StoreError;
use super::value::{CellRef, Column, Row, RowsInsert, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Column as _, Connection, PgConnection, PgPool, Row as _, TypeInfo, ValueRef};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The advisory lock key that guards the chain's head ("gencost" in ASCII).
/// Connections per process: two heavy pages at once hold three snapshots
/// each (the chain, the view, the entries), and the API, the panel and the
/// fal proxy keep answering beside them.
const POOL_SIZE: u32 = 12;

pub const CHAIN_LOCK: i64 = 0x67_65_6e_63_6f_73_74;

pub async fn connect(url: &str, location: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Open {
            location: location.to_string(),
            reason: format!(
                "malformed PostgreSQL URL: {}",
                redact_error(&e.to_string(), url)
            ),
        })?
        // Statements are prepared once and reused; a generic plan for a lookup
        // of 500 request ids scans the whole table, so always plan per call.
        .options([("plan_cache_mode", "force_custom_plan")]);
    // One direct connection first: a pool would retry a refused connection
    // until its timeout and then report only that it timed out.
    let first = PgConnection::connect_with(&options)
        .await
        .map_err(|e| StoreError::Open {
            location: location.to_string(),
            reason: describe_connect_error(&e, url),
        })?;
    let _ = first.close().await;
    Ok(PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(30))
        .connect_lazy_with(options))
}

/// Says which of the usual failures happened, never echoing the password.
fn describe_connect_error(e: &sqlx::Error, url: &str) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") | Some("28000") => format!("authentication failed: {}", db.message()),
            Some("3D000") => format!("database does not exist: {}", db.message()),
            _ => redact_error(db.message(), url),
        },
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused: is the PostgreSQL server running and accepting TCP connections?"
                .to_string()
        }
        sqlx::Error::PoolTimedOut => "timed out connecting to the server".to_string(),
        other => redact_error(&other.to_string(), url),
    }
}

fn redact_error(message: &str, url: &str) -> String {
    super::url::redact_message(message, url)
}

fn bind_all<'q>(
    sql: &'q str,
    params: &'q [Value],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut query = sqlx::query(sql);
    for p in params {
        query = match p {
            Value::Null => query.bind(None::<String>),
            Value::NullInt => query.bind(None::<i64>),
            Value::Int(v) => query.bind(*v),
            Value::Text(s) => query.bind(s.as_str()),
        };
    }
    query
}

pub async fn query(
    conn: &mut PgConnection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>, StoreError> {
    let rows = bind_all(sql, params)
        .fetch_all(conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let names: Arc<[String]> = first
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    rows.iter().map(|row| decode(row, &names)).collect()
}

pub async fn execute(
    conn: &mut PgConnection,
    sql: &str,
    params: &[Value],
) -> Result<u64, StoreError> {
    let done = bind_all(sql, params)
        .execute(conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    Ok(done.rows_affected())
}

/// `INSERT ... SELECT * FROM UNNEST($1::int8[], $2::text[], ...)`: one array
/// per column, so the statement and its plan stay small for any row count.
pub async fn insert_rows(conn: &mut PgConnection, insert: &RowsInsert) -> Result<u64, StoreError> {
    let width = insert.types.len();
    let arrays: Vec<String> = insert
        .types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "${}::{}[]",
                i + 1,
                if *t == Column::Int { "int8" } else { "text" }
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO {} ({}) SELECT * FROM UNNEST({}) {}",
        insert.table,
        insert.columns,
        arrays.join(", "),
        insert.on_conflict
    );
    let mut query = sqlx::query(&sql);
    for (c, column_type) in insert.types.iter().enumerate() {
        let cells = insert.values.iter().skip(c).step_by(width.max(1));
        query = match column_type {
            Column::Int => query.bind(
                cells
                    .map(|v| {
                        if let Value::Int(i) = v {
                            Some(*i)
                        } else {
                            None
                        }
                    })
                    .collect::<Vec<Option<i64>>>(),
            ),
            Column::Text => query.bind(
                cells
                    .map(|v| {
                        if let Value::Text(s) = v {
                            Some(s.clone())
                        } else {
                            None
                        }
                    })
                    .collect::<Vec<Option<String>>>(),
            ),
        };
    }
    let done = query.execute(conn).await.map_err(StoreError::from_sqlx)?;
    Ok(done.rows_affected())
}

fn decode(row: &sqlx::postgres::PgRow, names: &Arc<[String]>) -> Result<Row, StoreError> {
    Ok(Row {
        names: Arc::clone(names),
        cells: cells(row)?.into_iter().map(Value::from).collect(),
    })
}

/// A row's cells, borrowed from the row sqlx read.
fn cells(row: &sqlx::postgres::PgRow) -> Result<Vec<CellRef<'_>>, StoreError> {
    let mut cells = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(StoreError::from_sqlx)?;
        let cell = if raw.is_null() {
            CellRef::Null
        } else {
            match raw.type_info().name() {
                "INT8" => CellRef::Int(row.try_get(i).map_err(StoreError::from_sqlx)?),
                "INT4" => CellRef::Int(i64::from(
                    row.try_get::<i32, _>(i).map_err(StoreError::from_sqlx)?,
                )),
                "TEXT" | "VARCHAR" | "NAME" => {
                    CellRef::Text(row.try_get(i).map_err(StoreError::from_sqlx)?)
                }
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "column {} holds an unexpected {other} value",
                        column.name()
                    )))
                }
            }
        };
        cells.push(cell);
    }
    Ok(cells)
}

/// Runs a query and folds each row's cells, borrowed from sqlx's row,
/// into `acc`.
pub async fn query_fold<A>(
    conn: &mut PgConnection,
    sql: &str,
    params: &[Value],
    mut acc: A,
    mut fold: impl FnMut(&mut A, &[CellRef<'_>]) -> Result<(), StoreError>,
) -> Result<A, StoreError> {
    let rows = bind_all(sql, params)
        .fetch_all(conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    for row in &rows {
        fold(&mut acc, &cells(row)?)?;
    }
    Ok(acc)
}
