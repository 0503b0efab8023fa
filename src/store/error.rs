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
    #[error(
        "the ledger's database cannot be reached just now ({0}); nothing was written; try again"
    )]
    Unreachable(String),
}

impl StoreError {
    pub fn from_sqlx(e: sqlx::Error) -> StoreError {
        match e {
            // 53100: disk_full.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("53100") => StoreError::Full,
            // Class 57 (the server shutting down or starting up) and 08
            // (the connection failed): the request was not at fault.
            sqlx::Error::Database(db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")) =>
            {
                StoreError::Unreachable(db.message().to_string())
            }
            sqlx::Error::Database(db) => StoreError::Database(db.message().to_string()),
            // The server went away (a restart, the network): a moment's
            // outage, not a fault of the request.
            sqlx::Error::Io(e) => StoreError::Unreachable(e.to_string()),
            sqlx::Error::PoolTimedOut => {
                StoreError::Unreachable("no connection came free in time".into())
            }
            other => StoreError::Database(other.to_string()),
        }
    }
}
