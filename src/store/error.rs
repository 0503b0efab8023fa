//! The store's error: what went wrong reading or writing the ledger.

use crate::ledger::LedgerError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Refused(#[from] LedgerError),
    #[error("cannot open ledger {location}: {reason}")]
    Open { location: String, reason: String },
    #[error("this ledger's schema is version {found}, newer than this gencost knows (version {known}); upgrade gencost")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("this ledger's schema is version {found} and this gencost needs version {needed}; run `gencost db migrate` to upgrade it (every user of this ledger then needs a gencost that knows version {needed})")]
    SchemaTooOld { found: i64, needed: i64 },
    #[error("database error: {0}")]
    Database(String),
    #[error("the ledger holds unreadable data: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Conflict(String),
    #[error(
        "the ledger is busy: another process has held its write lock for {waited_s} s; try again"
    )]
    Busy { waited_s: u64 },
    #[error(
        "the disk holding the ledger is full: nothing was written; free some space and try again"
    )]
    Full,
}

impl StoreError {
    pub fn from_sqlx(e: sqlx::Error) -> StoreError {
        match e {
            // 53100: disk_full.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("53100") => StoreError::Full,
            sqlx::Error::Database(db) => StoreError::Database(db.message().to_string()),
            other => StoreError::Database(other.to_string()),
        }
    }
}
