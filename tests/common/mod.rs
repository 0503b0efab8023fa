//! Fixtures shared by the end-to-end tests: fresh ledgers on each backend
//! (SQLite always; PostgreSQL when `GENCOST_TEST_POSTGRES_URL` is set) and a
//! runner for the real `gencost` binary.
#![allow(dead_code)]

pub mod browser;
pub mod fake_fal;
pub mod fake_providers;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

/// A fresh, empty ledger and a private config directory for one test.
pub struct TestLedger {
    pub url: String,
    pub backend: &'static str,
    pub dir: TempDir,
    /// Set for PostgreSQL: the database to drop when the test ends.
    drop_database: Option<(String, String)>,
}

/// The server every PostgreSQL test database is created on, if any. When
/// `GENCOST_REQUIRE_POSTGRES` is set, a missing URL fails instead of skipping.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("GENCOST_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("GENCOST_REQUIRE_POSTGRES").is_none(),
                "GENCOST_REQUIRE_POSTGRES is set but GENCOST_TEST_POSTGRES_URL is not"
            );
            None
        }
    }
}

impl TestLedger {
    pub fn sqlite() -> TestLedger {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("ledger.db").display());
        TestLedger {
            url,
            backend: "sqlite",
            dir,
            drop_database: None,
        }
    }

    /// A new database on the test PostgreSQL server.
    pub fn postgres(admin_url: &str) -> TestLedger {
        let dir = tempfile::tempdir().expect("temp dir");
        let name = format!("gencost_test_{}", uuid::Uuid::now_v7().simple());
        let admin = admin_url.to_string();
        let create = format!("CREATE DATABASE {name}");
        on_own_runtime(move || async move {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to the test PostgreSQL server");
            sqlx::query(&create)
                .execute(&mut conn)
                .await
                .expect("create test database");
        });
        let url = replace_database(admin_url, &name);
        TestLedger {
            url,
            backend: "postgres",
            dir,
            drop_database: Some((admin_url.to_string(), name)),
        }
    }

    /// SQLite, plus PostgreSQL when configured: the backends every test covers.
    pub fn each() -> Vec<TestLedger> {
        let mut ledgers = vec![TestLedger::sqlite()];
        if let Some(admin) = postgres_admin_url() {
            ledgers.push(TestLedger::postgres(&admin));
        }
        ledgers
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("ledger.db")
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// Runs `gencost` against this ledger.
    pub fn run(&self, args: &[&str]) -> Run {
        run_with(&self.url, &self.config_dir(), self.dir.path(), args)
    }

    /// Runs `gencost` against this ledger with these environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run_with_env(&self.url, &self.config_dir(), self.dir.path(), args, env)
    }

    /// Runs `gencost`, asserting success, and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "[{}] gencost {args:?} failed: {}",
            self.backend, run.stderr
        );
        run.stdout
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// Writes a file into this test's directory; returns its path.
    pub fn write_file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        write_file(self.dir.path(), name, contents)
    }

    /// The entries `list --json` shows (up to 1,000), with these filters.
    pub fn entries(&self, extra: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["list", "--json", "--limit", "1000"];
        args.extend_from_slice(extra);
        self.json(&args).as_array().cloned().unwrap_or_default()
    }

    /// The `total` of `total --json` with these arguments, as its text.
    pub fn total(&self, args: &[&str]) -> String {
        let mut all = vec!["total", "--json"];
        all.extend_from_slice(args);
        self.json(&all)["total"].as_str().unwrap().to_string()
    }

    /// Events in the ledger (0 before a SQLite ledger's file exists).
    pub fn events(&self) -> i64 {
        if self.backend == "sqlite" && !self.sqlite_path().exists() {
            return 0;
        }
        self.json(&["db", "info", "--json"])["events"]
            .as_i64()
            .unwrap()
    }

    /// The ledger opened as a store, in this process.
    pub async fn open_store(&self) -> gencost::store::SqlStore {
        let url = gencost::store::DatabaseUrl::parse(&self.url).unwrap();
        gencost::store::SqlStore::open(&url).await.unwrap()
    }
}

/// Writes a file into `dir`; returns its path.
pub fn write_file(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

impl Drop for TestLedger {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.drop_database.take() {
            on_own_runtime(move || async move {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        }
    }
}

/// Runs async set-up on a runtime of its own thread, so it works from both
/// plain and `#[tokio::test]` tests.
pub fn on_own_runtime<F, Fut>(f: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(f());
    })
    .join()
    .expect("set-up thread panicked");
}

pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run_with(url: &str, config_dir: &Path, data_dir: &Path, args: &[&str]) -> Run {
    run_with_env(url, config_dir, data_dir, args, &[])
}

/// `run_with`, with these environment variables set (and no fal key or
/// upstream inherited).
pub fn run_with_env(
    url: &str,
    config_dir: &Path,
    data_dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_gencost"))
        .args(args)
        .env_remove("FAL_KEY")
        .env_remove("GENCOST_FAL_UPSTREAM")
        .envs(env.iter().copied())
        .env("GENCOST_DATABASE", url)
        .env("GENCOST_CONFIG_DIR", config_dir)
        .env("GENCOST_DATA_DIR", data_dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("run gencost");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Checks that every acknowledged request id is stored, and that no
/// request id starting with `prefix` is stored twice (the ledger neither
/// lost nor invented an entry); returns how many such entries are stored.
pub fn assert_each_acknowledged_once(
    ledger: &TestLedger,
    prefix: &str,
    acknowledged: &[String],
) -> usize {
    let stored = query_text(
        &ledger.url,
        &format!("SELECT request_id FROM entries WHERE request_id LIKE '{prefix}%'"),
    );
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    for row in stored {
        *counts.entry(row[0].clone()).or_default() += 1;
    }
    let twice: Vec<&String> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .collect();
    assert!(
        twice.is_empty(),
        "[{}] stored twice: {twice:?}",
        ledger.backend
    );
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !counts.contains_key(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "[{}] {} of {} acknowledged entries lost: {:?}",
        ledger.backend,
        lost.len(),
        acknowledged.len(),
        &lost[..lost.len().min(5)]
    );
    counts.len()
}

/// Runs one SQL statement directly on a test ledger, behind gencost's back
/// (to simulate someone editing the database by hand).
pub fn exec_sql(url: &str, sql: &str) -> u64 {
    let url = url.to_string();
    let sql = sql.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    on_own_runtime(move || async move {
        use sqlx::Connection;
        let affected = if url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::query(&sql)
                .execute(&mut conn)
                .await
                .expect("execute")
                .rows_affected()
        } else {
            let path = url.trim_start_matches("sqlite://");
            let conn = rusqlite::Connection::open(path).expect("open");
            conn.execute(&sql, []).expect("execute") as u64
        };
        tx.send(affected).expect("send");
    });
    rx.recv().expect("result")
}

/// Runs one query directly on a test ledger and returns its rows, every
/// cell as text (NULL as "").
pub fn query_text(url: &str, sql: &str) -> Vec<Vec<String>> {
    let url = url.to_string();
    let sql = sql.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    on_own_runtime(move || async move {
        use sqlx::{Connection, Row};
        let rows = if url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::query(&sql)
                .fetch_all(&mut conn)
                .await
                .expect("query")
                .iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| {
                            row.try_get::<Option<String>, _>(i)
                                .map(Option::unwrap_or_default)
                                .or_else(|_| {
                                    row.try_get::<Option<i64>, _>(i)
                                        .map(|v| v.map(|v| v.to_string()).unwrap_or_default())
                                })
                                .expect("a text or integer cell")
                        })
                        .collect()
                })
                .collect()
        } else {
            let path = url.trim_start_matches("sqlite://");
            let conn = rusqlite::Connection::open(path).expect("open");
            let mut statement = conn.prepare(&sql).expect("prepare");
            let width = statement.column_count();
            let rows = statement
                .query_map([], |row| {
                    (0..width)
                        .map(|i| {
                            Ok(match row.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => String::new(),
                                rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                                rusqlite::types::ValueRef::Text(t) => {
                                    String::from_utf8_lossy(t).into_owned()
                                }
                                other => format!("{other:?}"),
                            })
                        })
                        .collect::<rusqlite::Result<Vec<String>>>()
                })
                .expect("query")
                .collect::<rusqlite::Result<Vec<_>>>()
                .expect("rows");
            rows
        };
        tx.send(rows).expect("send");
    });
    rx.recv().expect("result")
}

/// Runs several SQL statements directly on a test ledger (e.g. an old
/// schema's migrations, to make a ledger as an older gencost left it).
pub fn exec_script(url: &str, sql: &str) {
    let url = url.to_string();
    let sql = sql.to_string();
    on_own_runtime(move || async move {
        use sqlx::Connection;
        if url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::raw_sql(&sql)
                .execute(&mut conn)
                .await
                .expect("execute script");
        } else {
            let path = url.trim_start_matches("sqlite://");
            let conn = rusqlite::Connection::open(path).expect("open");
            conn.execute_batch(&sql).expect("execute script");
        }
    });
}

/// Generation `n` of a seeded ledger: a day ago, two models and two
/// clients in turn, estimated at $0.025, with a request id of its own.
#[allow(dead_code)]
pub fn generation(n: usize, now: i64) -> gencost::ledger::EntryRecord {
    use gencost::ledger::{EntryRecord, Kind, Status, Tags, Tier};
    use gencost::timestamp::MICROS_PER_DAY;
    EntryRecord {
        id: uuid::Uuid::now_v7(),
        kind: Kind::Generation,
        occurred_at: now - MICROS_PER_DAY + (n as i64 % 1_000) * 1_000_000,
        source: "fal.ai".into(),
        model: Some(["fal-ai/flux/dev", "fal-ai/veo3"][n % 2].into()),
        description: None,
        tags: Tags {
            client: Some(["Acme", "Örebro Film"][n % 2].into()),
            project: Some("Spot".into()),
            deliverable: None,
        },
        request_id: Some(format!("seed-{n}")),
        status: Status::Succeeded,
        duration_ms: None,
        params: gencost::ledger::event::Params::empty(),
        estimate_micros: Some(25_000),
        estimate_currency: gencost::money::Currency::USD,
        estimate_tier: Tier::Estimated,
        actual_micros: None,
        actual_currency: None,
        price_version: None,
        license: None,
        batch: None,
        billing: None,
    }
}

/// Logs `count` generations into `store` through its batch path, 10,000 a
/// transaction.
#[allow(dead_code)]
pub async fn seed_generations(store: &gencost::store::SqlStore, count: usize) {
    use gencost::store::Store;
    let now = gencost::timestamp::Timestamp::now();
    for start in (0..count).step_by(10_000) {
        let records = (start..(start + 10_000).min(count))
            .map(|n| generation(n, now.0))
            .collect();
        store
            .execute(gencost::ledger::Command::Log(records), now)
            .await
            .expect("seed the ledger");
    }
}
