//! Schema migrations: paired SQL files with the same names under
//! `migrations/sqlite/` and `migrations/postgres/`, compiled into the binary
//! and applied in order. A ledger whose schema is newer than this binary
//! knows is refused rather than misread, and so is a database that holds
//! something other than a gencost ledger.

use super::error::StoreError;
use super::session::Session;
use super::value::Value;
use crate::timestamp::Timestamp;
use std::path::{Path, PathBuf};

/// Where a ledger's schema stands against this binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaState {
    /// No gencost tables yet: a new ledger.
    Empty,
    /// At an older version, to be upgraded.
    Older(i64),
    Current,
}

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_ledger",
        sqlite: include_str!("../../migrations/sqlite/0001_ledger.sql"),
        postgres: include_str!("../../migrations/postgres/0001_ledger.sql"),
    },
    Migration {
        version: 2,
        name: "0002_rates_and_pricing",
        sqlite: include_str!("../../migrations/sqlite/0002_rates_and_pricing.sql"),
        postgres: include_str!("../../migrations/postgres/0002_rates_and_pricing.sql"),
    },
    Migration {
        version: 3,
        name: "0003_entries_by_seq",
        sqlite: include_str!("../../migrations/sqlite/0003_entries_by_seq.sql"),
        postgres: include_str!("../../migrations/postgres/0003_entries_by_seq.sql"),
    },
    Migration {
        version: 4,
        name: "0004_charged",
        sqlite: include_str!("../../migrations/sqlite/0004_charged.sql"),
        postgres: include_str!("../../migrations/postgres/0004_charged.sql"),
    },
    Migration {
        version: 5,
        name: "0005_batches",
        sqlite: include_str!("../../migrations/sqlite/0005_batches.sql"),
        postgres: include_str!("../../migrations/postgres/0005_batches.sql"),
    },
    Migration {
        version: 6,
        name: "0006_grouping_costs",
        sqlite: include_str!("../../migrations/sqlite/0006_grouping_costs.sql"),
        postgres: include_str!("../../migrations/postgres/0006_grouping_costs.sql"),
    },
    Migration {
        version: 7,
        name: "0007_fal_billing",
        sqlite: include_str!("../../migrations/sqlite/0007_fal_billing.sql"),
        postgres: include_str!("../../migrations/postgres/0007_fal_billing.sql"),
    },
    Migration {
        version: 8,
        name: "0008_cost_rollups",
        sqlite: include_str!("../../migrations/sqlite/0008_cost_rollups.sql"),
        postgres: include_str!("../../migrations/postgres/0008_cost_rollups.sql"),
    },
    Migration {
        version: 9,
        name: "0009_rollups_for_tags",
        sqlite: include_str!("../../migrations/sqlite/0009_rollups_for_tags.sql"),
        postgres: include_str!("../../migrations/postgres/0009_rollups_for_tags.sql"),
    },
    Migration {
        version: 10,
        name: "0010_entry_positions",
        sqlite: include_str!("../../migrations/sqlite/0010_entry_positions.sql"),
        postgres: include_str!("../../migrations/postgres/0010_entry_positions.sql"),
    },
    Migration {
        version: 11,
        name: "0011_folded_keys",
        sqlite: include_str!("../../migrations/sqlite/0011_folded_keys.sql"),
        postgres: include_str!("../../migrations/postgres/0011_folded_keys.sql"),
    },
    Migration {
        version: 12,
        name: "0012_invoices",
        sqlite: include_str!("../../migrations/sqlite/0012_invoices.sql"),
        postgres: include_str!("../../migrations/postgres/0012_invoices.sql"),
    },
    Migration {
        version: 13,
        name: "0013_budgets",
        sqlite: include_str!("../../migrations/sqlite/0013_budgets.sql"),
        postgres: include_str!("../../migrations/postgres/0013_budgets.sql"),
    },
];

pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

const CREATE_SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS gencost_schema (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// The schema version recorded in the ledger, 0 for a new one.
pub async fn current_version(handle: &mut Session, is_postgres: bool) -> Result<i64, StoreError> {
    let exists_sql = if is_postgres {
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'gencost_schema'"
    } else {
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'gencost_schema'"
    };
    if handle.query_one(exists_sql, &[]).await?.int("n")? == 0 {
        return Ok(0);
    }
    let row = handle
        .query_one("SELECT MAX(version) AS version FROM gencost_schema", &[])
        .await?;
    Ok(row.opt_int("version")?.unwrap_or(0))
}

/// Refuses schemas newer than this binary; applies any missing migrations
/// inside the caller's write transaction.
pub async fn apply_pending(
    tx: &mut Session,
    is_postgres: bool,
    from: i64,
) -> Result<(), StoreError> {
    tx.execute(CREATE_SCHEMA_TABLE, &[]).await?;
    let current = current_version(tx, is_postgres).await?;
    check_not_newer(current)?;
    if current == latest_version() {
        // Another process made the same upgrade (or created the same new
        // ledger) first: nothing is left to do.
        return Ok(());
    }
    if current != from {
        return Err(StoreError::Conflict(format!(
            "the ledger's schema changed to version {current} meanwhile (another gencost upgraded it); run the command again"
        )));
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        let script = if is_postgres {
            migration.postgres
        } else {
            migration.sqlite
        };
        tx.execute_script(script).await?;
        if migration.version == 11 {
            super::folded_keys::fill(tx).await?;
        }
        tx.execute(
            "INSERT INTO gencost_schema (version, name, applied_at) VALUES ($1, $2, $3)",
            &[
                Value::Int(migration.version),
                migration.name.into(),
                Value::Int(Timestamp::now().0),
            ],
        )
        .await?;
    }
    Ok(())
}

pub fn check_not_newer(found: i64) -> Result<(), StoreError> {
    if found > latest_version() {
        return Err(StoreError::SchemaTooNew {
            found,
            known: latest_version(),
        });
    }
    Ok(())
}

/// The schema's state; refuses a newer schema, and a database without
/// gencost's schema table that already holds tables of its own (on SQLite
/// any table; on PostgreSQL, which a studio may share with other data, any
/// table named like one of gencost's), leaving it untouched.
pub async fn state(
    session: &mut Session,
    is_postgres: bool,
    location: &str,
) -> Result<SchemaState, StoreError> {
    let version = current_version(session, is_postgres).await?;
    check_not_newer(version)?;
    if version == latest_version() {
        return Ok(SchemaState::Current);
    }
    if version > 0 {
        return Ok(SchemaState::Older(version));
    }
    let others_sql = if is_postgres {
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() \
         AND table_name IN ('events', 'entries', 'fx_rates')"
    } else {
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type IN ('table', 'view')"
    };
    if session.query_one(others_sql, &[]).await?.int("n")? > 0 {
        // Another gencost may have created this ledger between the two
        // reads (eight processes opening a new ledger at once): its schema
        // table is there now.
        let created = current_version(session, is_postgres).await?;
        if created > 0 {
            check_not_newer(created)?;
            return Ok(if created == latest_version() {
                SchemaState::Current
            } else {
                SchemaState::Older(created)
            });
        }
        return Err(StoreError::Open {
            location: location.to_string(),
            reason: "it holds other data and is not a gencost ledger; nothing was changed".into(),
        });
    }
    Ok(SchemaState::Empty)
}

/// Where a SQLite ledger is copied before an upgrade from `version`:
/// beside it, named after the old version and the time.
pub fn backup_path(ledger: &Path, version: i64) -> PathBuf {
    // Microseconds: a retry within the same second gets a name of its own.
    let stamp = Timestamp::now().0;
    let name = ledger
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ledger.db".into());
    ledger.with_file_name(format!("{name}.schema{version}-backup-{stamp}"))
}
