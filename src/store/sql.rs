//! The small SQL surface the ledger store needs from a backend: run a
//! statement with positional `$n` parameters and read rows of integers and
//! text. Both backends accept the same SQL text, so the ledger's queries are
//! written once (in `ledger.rs`) and each backend only binds and decodes.

use super::sqlite::{BulkInsert, SqliteSession};
use super::{postgres, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Transaction};

/// A parameter or a cell: the ledger stores only integers, text and NULL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// NULL text (and any NULL read back).
    Null,
    /// NULL integer: PostgreSQL needs a NULL's type.
    NullInt,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::NullInt, Value::Int)
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::Null, Value::Text)
    }
}

/// The type of a column in a bulk insert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Int,
    Text,
}

/// Many rows for one table, inserted by one statement: a multi-row `VALUES`
/// on SQLite, `UNNEST` of one array per column on PostgreSQL (which plans in
/// constant time however many rows there are).
pub struct RowsInsert {
    pub table: &'static str,
    pub columns: &'static str,
    pub types: &'static [Column],
    /// Row after row, `types.len()` values each.
    pub values: Vec<Value>,
    /// Appended to the statement, e.g. an `ON CONFLICT` clause; usually empty.
    pub on_conflict: &'static str,
}

impl RowsInsert {
    pub fn rows(&self) -> usize {
        self.values.len() / self.types.len().max(1)
    }
}

/// One result row.
#[derive(Debug)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Value, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("result has no column {i}")))
    }

    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.cell(i)? {
            Value::Int(v) => Ok(*v),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: expected an integer, found {other:?}"
            ))),
        }
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.cell(i)? {
            Value::Null | Value::NullInt => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    /// Takes the text out of column `i` (each column is read once).
    pub fn text(&mut self, i: usize) -> Result<String, StoreError> {
        let cell = self
            .0
            .get_mut(i)
            .ok_or_else(|| StoreError::Corrupt(format!("result has no column {i}")))?;
        match std::mem::replace(cell, Value::Null) {
            Value::Text(v) => Ok(v),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: expected text, found {other:?}"
            ))),
        }
    }

    pub fn opt_text(&mut self, i: usize) -> Result<Option<String>, StoreError> {
        match self.cell(i)? {
            Value::Null | Value::NullInt => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
}

/// A connection, or a transaction on one, of either backend.
pub enum Handle {
    Sqlite(SqliteSession),
    PostgresConn(PoolConnection<Postgres>),
    PostgresTx(Transaction<'static, Postgres>),
}

impl Handle {
    pub async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        match self {
            Handle::Sqlite(s) => s.query(sql, params),
            Handle::PostgresConn(c) => postgres::query(c, sql, params).await,
            Handle::PostgresTx(t) => postgres::query(t, sql, params).await,
        }
    }

    pub async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        match self {
            Handle::Sqlite(s) => s.execute(sql, params),
            Handle::PostgresConn(c) => postgres::execute(c, sql, params).await,
            Handle::PostgresTx(t) => postgres::execute(t, sql, params).await,
        }
    }

    /// Runs these inserts in order.
    pub async fn insert_rows(&mut self, inserts: Vec<RowsInsert>) -> Result<(), StoreError> {
        match self {
            Handle::Sqlite(s) => {
                // OR FAIL: a constraint error ends the statement without
                // undoing its earlier rows, so SQLite keeps no statement
                // journal (a copy of every page touched); the caller's
                // transaction is rolled back on any error anyway.
                let inserts = inserts
                    .into_iter()
                    .map(|insert| BulkInsert {
                        into: format!("INSERT OR FAIL INTO {} ({})", insert.table, insert.columns),
                        suffix: insert.on_conflict,
                        width: insert.types.len(),
                        values: insert.values,
                    })
                    .collect();
                s.insert_rows(inserts).await
            }
            Handle::PostgresConn(c) => {
                for insert in &inserts {
                    postgres::insert_rows(c, insert).await?;
                }
                Ok(())
            }
            Handle::PostgresTx(t) => {
                for insert in &inserts {
                    postgres::insert_rows(t, insert).await?;
                }
                Ok(())
            }
        }
    }

    /// Runs several statements without parameters (migrations).
    pub async fn execute_script(&mut self, sql: &str) -> Result<(), StoreError> {
        let result = match self {
            Handle::Sqlite(s) => return s.execute_script(sql),
            Handle::PostgresConn(c) => sqlx::raw_sql(sql).execute(&mut **c).await.map(drop),
            Handle::PostgresTx(t) => sqlx::raw_sql(sql).execute(&mut **t).await.map(drop),
        };
        result.map_err(StoreError::from_sqlx)
    }

    pub async fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
        self.query(sql, params)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt(format!("no row returned by: {sql}")))
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        let result = match self {
            Handle::Sqlite(mut s) => return s.commit(),
            Handle::PostgresTx(t) => t.commit().await,
            Handle::PostgresConn(_) => Ok(()),
        };
        result.map_err(StoreError::from_sqlx)
    }
}
