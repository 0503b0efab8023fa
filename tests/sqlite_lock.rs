//! SQLite inside one process that serves many requests: while another
//! process holds the ledger's write lock, a write waits (boundedly) and reads
//! still answer, because no SQLite call blocks an async worker.

mod common;
use common::TestLedger;
use gencost::ledger::event::Params;
use gencost::ledger::{Command, EntryRecord, Kind, Status, Tags, Tier};
use gencost::money::Currency;
use gencost::store::{DatabaseUrl, Filter, Page, SqlStore, Store};
use gencost::timestamp::Timestamp;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Process, Stdio};

const HOLD_LOCK: &str = "GENCOST_TEST_HOLD_LOCK";

/// Not a test: the other process of the test below, which runs it with
/// `HOLD_LOCK` naming the ledger. It takes the write lock, says so, and
/// holds it until its stdin closes.
#[test]
#[ignore = "run as a child process by reads_answer_while_another_process_holds_the_write_lock"]
fn lock_holder_process() {
    let path = std::env::var_os(HOLD_LOCK).expect("the ledger to lock, in GENCOST_TEST_HOLD_LOCK");
    let conn = rusqlite::Connection::open(path).expect("open the ledger");
    conn.execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    println!("locked");
    std::io::stdout().flush().expect("flush");
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
    conn.execute_batch("ROLLBACK").expect("release");
}

fn record(request_id: &str) -> EntryRecord {
    EntryRecord {
        id: uuid::Uuid::now_v7(),
        kind: Kind::Generation,
        occurred_at: Timestamp::now().0,
        source: "fal.ai".into(),
        model: Some("m".into()),
        description: None,
        tags: Tags::default(),
        request_id: Some(request_id.into()),
        status: Status::Succeeded,
        duration_ms: None,
        params: Params::from_map(&serde_json::Map::new()).unwrap(),
        estimate_micros: Some(10_000),
        estimate_currency: Currency::USD,
        estimate_tier: Tier::Estimated,
        actual_micros: None,
        actual_currency: None,
        price_version: None,
        license: None,
        batch: None,
        billing: None,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn reads_answer_while_another_process_holds_the_write_lock() {
    let ledger = TestLedger::sqlite();
    let url = DatabaseUrl::parse(&ledger.url).unwrap();
    let store = std::sync::Arc::new(SqlStore::open(&url).await.unwrap());
    store
        .execute(Command::Log(vec![record("before")]), Timestamp::now())
        .await
        .unwrap();

    let mut holder = Process::new(std::env::current_exe().unwrap())
        .args(["--exact", "lock_holder_process", "--ignored", "--nocapture"])
        .env(HOLD_LOCK, ledger.sqlite_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    assert!(
        lines.any(|l| l.is_ok_and(|l| l.contains("locked"))),
        "the lock holder did not start"
    );

    // One runtime thread: a write blocking it would stall every read below.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .execute(Command::Log(vec![record("during")]), Timestamp::now())
                .await
        })
    };
    // Time for the write to start and wait on the lock (not a measurement).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let listed = store
        .list(
            &Filter::default(),
            Page {
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    assert_eq!(listed.len(), 1, "the read sees the ledger as committed");
    assert_eq!(head.seq, 1);
    assert!(
        !writer.is_finished(),
        "the write waits for the other process's lock while reads answer"
    );

    // The other process lets go: the waiting write goes through.
    drop(holder.stdin.take());
    holder.wait().unwrap();
    writer.await.unwrap().unwrap();
    assert_eq!(store.head().await.unwrap().seq, 2);
}

/// A command that wrote closes its connections before it exits, so the
/// write-ahead log is copied into the ledger file and removed: the file
/// alone is the whole ledger (a copy of it misses nothing) and the next
/// command does not first read a log left behind.
#[test]
fn a_command_leaves_the_whole_ledger_in_its_file() {
    let ledger = TestLedger::sqlite();
    let path = ledger.dir.path().join("ledger.db");
    let wal = ledger.dir.path().join("ledger.db-wal");
    for i in 0..3 {
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "1",
            "--request-id",
            &format!("r{i}"),
        ]);
        assert!(!wal.exists(), "a write-ahead log was left after log {i}");
    }
    let copy = ledger.dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let listed = common::run_with(
        &format!("sqlite://{}", copy.display()),
        ledger.dir.path(),
        ledger.dir.path(),
        &["list", "--json"],
    );
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let entries: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(entries.as_array().map(Vec::len), Some(3), "{entries}");
}
