//! The one seam between the ledger's SQL and its two backends: a connection,
//! or a transaction on one, that runs statements with positional `$n`
//! parameters. Both backends accept the same SQL text, so the queries are
//! written once and each backend only binds and decodes.

use super::error::StoreError;
use super::postgres;
use super::sqlite::{BulkInsert, RunningInsert, SqliteSession};
use super::value::{CellRef, Row, RowsInsert, Value};
use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Transaction};

/// A connection, or a transaction on one, of either backend.
pub enum Session {
    Sqlite(SqliteSession),
    PostgresConn(PoolConnection<Postgres>),
    PostgresTx(Transaction<'static, Postgres>),
}

impl Session {
    pub async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        match self {
            Session::Sqlite(s) => s.query(sql, params).await,
            Session::PostgresConn(c) => postgres::query(c, sql, params).await,
            Session::PostgresTx(t) => postgres::query(t, sql, params).await,
        }
    }

    /// Runs a query and maps each row where the backend reads it (on
    /// SQLite, beside the connection on the blocking pool).
    pub async fn query_map<T: Send + 'static>(
        &mut self,
        sql: &str,
        params: &[Value],
        map: impl Fn(Row) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Session::Sqlite(s) => s.query_map(sql, params, map).await,
            other => other
                .query(sql, params)
                .await?
                .into_iter()
                .map(map)
                .collect(),
        }
    }

    /// Runs a query and folds each row's cells into `acc` (on SQLite
    /// beside the connection, the cells borrowed from SQLite's row).
    pub async fn query_fold<A: Send + 'static>(
        &mut self,
        sql: &str,
        params: &[Value],
        acc: A,
        fold: impl FnMut(&mut A, &[CellRef<'_>]) -> Result<(), StoreError> + Send + 'static,
    ) -> Result<A, StoreError> {
        match self {
            Session::Sqlite(s) => s.query_fold(sql, params, acc, fold).await,
            Session::PostgresConn(c) => postgres::query_fold(c, sql, params, acc, fold).await,
            Session::PostgresTx(t) => postgres::query_fold(t, sql, params, acc, fold).await,
        }
    }

    pub async fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
        self.query(sql, params)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt(format!("no row returned by: {sql}")))
    }

    pub async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        match self {
            Session::Sqlite(s) => s.execute(sql, params).await,
            Session::PostgresConn(c) => postgres::execute(c, sql, params).await,
            Session::PostgresTx(t) => postgres::execute(t, sql, params).await,
        }
    }

    /// Runs groups of inserts in order. On SQLite each group runs on the
    /// blocking pool while the iterator builds the next one. (A trait object:
    /// the futures of generic closures here trip rustc's `Send` inference.)
    pub async fn insert_groups(
        &mut self,
        groups: &mut (dyn Iterator<Item = Vec<RowsInsert>> + Send),
    ) -> Result<(), StoreError> {
        match self {
            Session::Sqlite(s) => {
                let mut running: Option<RunningInsert> = None;
                for group in groups {
                    let group = group.into_iter().map(sqlite_insert).collect();
                    if let Some(previous) = running.take() {
                        s.finish(previous).await?;
                    }
                    running = Some(s.start_insert(group)?);
                }
                match running {
                    Some(last) => s.finish(last).await,
                    None => Ok(()),
                }
            }
            Session::PostgresConn(c) => {
                for group in groups {
                    for insert in group {
                        postgres::insert_rows(c, &insert).await?;
                    }
                }
                Ok(())
            }
            Session::PostgresTx(t) => {
                for group in groups {
                    for insert in group {
                        postgres::insert_rows(t, &insert).await?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Runs several statements without parameters (migrations).
    pub async fn execute_script(&mut self, sql: &str) -> Result<(), StoreError> {
        let result = match self {
            Session::Sqlite(s) => return s.execute_script(sql).await,
            Session::PostgresConn(c) => sqlx::raw_sql(sql).execute(&mut **c).await.map(drop),
            Session::PostgresTx(t) => sqlx::raw_sql(sql).execute(&mut **t).await.map(drop),
        };
        result.map_err(StoreError::from_sqlx)
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        let result = match self {
            Session::Sqlite(mut s) => return s.commit().await,
            Session::PostgresTx(t) => t.commit().await,
            Session::PostgresConn(_) => Ok(()),
        };
        result.map_err(StoreError::from_sqlx)
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        let result = match self {
            Session::Sqlite(mut s) => return s.rollback().await,
            Session::PostgresTx(t) => t.rollback().await,
            Session::PostgresConn(_) => Ok(()),
        };
        result.map_err(StoreError::from_sqlx)
    }
}

/// OR FAIL: a constraint error ends the statement without undoing its
/// earlier rows, so SQLite keeps no statement journal (a copy of every page
/// touched); the caller's transaction is rolled back on any error anyway.
fn sqlite_insert(insert: RowsInsert) -> BulkInsert {
    BulkInsert {
        into: format!("INSERT OR FAIL INTO {} ({})", insert.table, insert.columns),
        suffix: insert.on_conflict,
        width: insert.types.len(),
        values: insert.values,
    }
}
