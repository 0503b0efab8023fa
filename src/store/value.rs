//! The values the ledger's SQL reads and writes (integers, text, NULL), rows
//! whose cells are read by column name, and the bulk insert both backends
//! run. A leaf: every other store module builds on it.

use super::error::StoreError;
use std::sync::Arc;

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

/// A cell borrowed from the row a backend read, so a scan can digest or
/// sum rows without copying their text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellRef<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

impl Value {
    pub fn as_cell(&self) -> CellRef<'_> {
        match self {
            Value::Null | Value::NullInt => CellRef::Null,
            Value::Int(v) => CellRef::Int(*v),
            Value::Text(t) => CellRef::Text(t),
        }
    }
}

impl<'a> CellRef<'a> {
    /// An integer or NULL; `name` says which column in an error.
    pub fn opt_int(self, name: &str) -> Result<Option<i64>, StoreError> {
        match self {
            CellRef::Null => Ok(None),
            CellRef::Int(v) => Ok(Some(v)),
            CellRef::Text(t) => Err(StoreError::Corrupt(format!(
                "column {name}: expected an integer, found text '{t}'"
            ))),
        }
    }

    pub fn int(self, name: &str) -> Result<i64, StoreError> {
        self.opt_int(name)?.ok_or_else(|| {
            StoreError::Corrupt(format!("column {name}: expected an integer, found NULL"))
        })
    }

    /// Text or NULL.
    pub fn opt_text(self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self {
            CellRef::Null => Ok(None),
            CellRef::Text(t) => Ok(Some(t)),
            CellRef::Int(v) => Err(StoreError::Corrupt(format!(
                "column {name}: expected text, found the integer {v}"
            ))),
        }
    }
}

impl From<CellRef<'_>> for Value {
    fn from(cell: CellRef<'_>) -> Value {
        match cell {
            CellRef::Null => Value::Null,
            CellRef::Int(v) => Value::Int(v),
            CellRef::Text(t) => Value::Text(t.to_string()),
        }
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
    /// The column names, comma-separated, in the order of `types`.
    pub columns: &'static str,
    pub types: &'static [Column],
    /// Row after row, `types.len()` values each.
    pub values: Vec<Value>,
    /// Appended to the statement, e.g. an `ON CONFLICT` clause; usually empty.
    pub on_conflict: &'static str,
}

/// One result row: its cells and the names of the result's columns.
#[derive(Debug)]
pub struct Row {
    pub names: Arc<[String]>,
    pub cells: Vec<Value>,
}

impl Row {
    fn index(&self, name: &str) -> Result<usize, StoreError> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| StoreError::Corrupt(format!("the result has no column {name}")))
    }

    pub fn int(&self, name: &str) -> Result<i64, StoreError> {
        self.opt_int(name)?.ok_or_else(|| {
            StoreError::Corrupt(format!("column {name}: expected an integer, found NULL"))
        })
    }

    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match &self.cells[self.index(name)?] {
            Value::Null | Value::NullInt => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            Value::Text(t) => Err(StoreError::Corrupt(format!(
                "column {name}: expected an integer, found text '{t}'"
            ))),
        }
    }

    /// Takes the text out of a column (each column is read once).
    pub fn text(&mut self, name: &str) -> Result<String, StoreError> {
        self.opt_text(name)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {name}: expected text, found NULL")))
    }

    /// The text of a column, leaving it in the row.
    pub fn peek_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        match &self.cells[self.index(name)?] {
            Value::Null | Value::NullInt => Ok(None),
            Value::Text(v) => Ok(Some(v.clone())),
            Value::Int(v) => Err(StoreError::Corrupt(format!(
                "column {name}: expected text, found the integer {v}"
            ))),
        }
    }

    pub fn opt_text(&mut self, name: &str) -> Result<Option<String>, StoreError> {
        let i = self.index(name)?;
        match std::mem::replace(&mut self.cells[i], Value::Null) {
            Value::Null | Value::NullInt => Ok(None),
            Value::Text(v) => Ok(Some(v)),
            Value::Int(v) => Err(StoreError::Corrupt(format!(
                "column {name}: expected text, found the integer {v}"
            ))),
        }
    }
}

/// `$1, $2, ..., $n`
pub fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
