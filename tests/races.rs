//! End-to-end under real races, on both backends: the same (source, request
//! id) posted at the same instant by processes, API clients and two servers
//! on one ledger lands once; a report read while writers log covers exactly
//! the state of the head it names.

mod common;
use common::server::{http_client, Server};
use common::TestLedger;
use gencost::ledger::Command;
use gencost::money::Currency;
use gencost::pricing::Catalog;
use gencost::service::report::{report, ReportRequest};
use gencost::store::{DatabaseUrl, Filter, SqlStore, Store};
use gencost::timestamp::Timestamp;
use serde_json::Value;
use std::process::{Command as Process, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};

const RACERS: usize = 8;

/// Starts `RACERS` `gencost log` processes for one request id at once.
fn race_processes(ledger: &TestLedger, request: &str) -> Vec<Value> {
    let barrier = Barrier::new(RACERS);
    std::thread::scope(|scope| {
        let racers: Vec<_> = (0..RACERS)
            .map(|_| {
                scope.spawn(|| {
                    let mut command = Process::new(env!("CARGO_BIN_EXE_gencost"));
                    command
                        .args(["log", "--model", "m", "--cost", "0.5", "--json"])
                        .args(["--source", "fal.ai", "--request-id", request])
                        .env("GENCOST_DATABASE", &ledger.url)
                        .env("GENCOST_CONFIG_DIR", ledger.config_dir())
                        .env("GENCOST_DATA_DIR", ledger.dir.path())
                        .stdin(Stdio::null());
                    barrier.wait();
                    let output = command.output().expect("run gencost log");
                    assert!(
                        output.status.success(),
                        "[{}] {}",
                        ledger.backend,
                        String::from_utf8_lossy(&output.stderr)
                    );
                    serde_json::from_slice::<Value>(&output.stdout).expect("log --json")
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    })
}

/// Exactly one caller was told it added the entry, the others that it
/// already existed, and all of them the same id, which is the one stored.
fn assert_one_entry(ledger: &TestLedger, request: &str, told: &[(String, bool)]) {
    let stored = common::query_text(
        &ledger.url,
        &format!("SELECT id FROM entries WHERE request_id = '{request}'"),
    );
    assert_eq!(
        stored.len(),
        1,
        "[{}] {request}: {stored:?}",
        ledger.backend
    );
    let added = told.iter().filter(|(_, existing)| !existing).count();
    assert_eq!(added, 1, "[{}] {request}: {told:?}", ledger.backend);
    assert!(
        told.iter().all(|(id, _)| *id == stored[0][0]),
        "[{}] {request}: {told:?} vs {stored:?}",
        ledger.backend
    );
}

/// `RACERS` clients post one request id at once, spread over `servers`:
/// each answer's (entry id, already existed), from 201 or 200.
async fn race_clients(servers: &[&Server], request: &str) -> Vec<(String, bool)> {
    let client = http_client(false);
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));
    let posts: Vec<_> = (0..RACERS)
        .map(|n| {
            let (client, start) = (client.clone(), start.clone());
            let url = servers[n % servers.len()].api("/entries");
            let body = serde_json::json!({
                "model": "m", "source": "fal.ai", "request_id": request,
                "cost": {"amount": "0.5", "currency": "USD"},
            });
            tokio::spawn(async move {
                start.wait().await;
                let response = client.post(&url).json(&body).send().await.unwrap();
                let status = response.status().as_u16();
                let entry: Value = response.json().await.unwrap();
                assert!(status == 201 || status == 200, "{status}: {entry}");
                (entry["id"].as_str().unwrap().to_string(), status == 200)
            })
        })
        .collect();
    let mut told = Vec::new();
    for post in posts {
        told.push(post.await.unwrap());
    }
    told
}

#[test]
fn processes_racing_with_one_request_id_log_it_once() {
    for ledger in TestLedger::each() {
        for round in 0..3 {
            let request = format!("race-process-{round}");
            let told: Vec<(String, bool)> = race_processes(&ledger, &request)
                .iter()
                .map(|v| {
                    let id = v["id"].as_str().unwrap().to_string();
                    (id, v["existing"].as_bool().unwrap())
                })
                .collect();
            assert_one_entry(&ledger, &request, &told);
        }
        let verified = ledger.run(&["verify"]);
        assert_eq!(verified.code, 0, "{}", verified.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn api_clients_racing_with_one_request_id_log_it_once() {
    for ledger in TestLedger::each() {
        let server = Server::start(&ledger, &[]);
        for round in 0..3 {
            let request = format!("race-api-{round}");
            let told = race_clients(&[&server], &request).await;
            assert_one_entry(&ledger, &request, &told);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_on_one_postgres_ledger_log_a_request_id_once() {
    let Some(admin) = common::postgres_admin_url() else {
        return;
    };
    let ledger = TestLedger::postgres(&admin);
    let (first, second) = (Server::start(&ledger, &[]), Server::start(&ledger, &[]));
    for round in 0..3 {
        let request = format!("race-servers-{round}");
        let told = race_clients(&[&first, &second], &request).await;
        assert_one_entry(&ledger, &request, &told);
    }
    let verified = ledger.run(&["verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
}

const SEEDED: usize = 100_000;

/// A 100,000-entry report read while 8 writers log: it succeeds and holds
/// exactly the entries logged up to the head its badge names.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_report_read_while_writers_log_covers_exactly_the_head_it_names() {
    for ledger in TestLedger::each() {
        let store = Arc::new(
            SqlStore::open(&DatabaseUrl::parse(&ledger.url).unwrap())
                .await
                .unwrap(),
        );
        let now = Timestamp::now().0;
        common::seed_generations(&store, SEEDED).await;
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicU64::new(0));
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let (store, stop, written) = (store.clone(), stop.clone(), written.clone());
                tokio::spawn(async move {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let mut one = common::generation(SEEDED + w * 1_000_000 + n, now);
                        one.request_id = Some(format!("writer-{w}-{n}"));
                        store
                            .execute(Command::Log(vec![one]), Timestamp::now())
                            .await
                            .unwrap();
                        written.fetch_add(1, Ordering::Relaxed);
                        n += 1;
                    }
                })
            })
            .collect();
        // The writers are under way before the report starts.
        while written.load(Ordering::Relaxed) < 16 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let request = ReportRequest {
            filter: Filter::default(),
            currency: Currency::USD,
            title: None,
            markup: None,
            generated_at: Timestamp::now(),
            tz: jiff::tz::TimeZone::UTC,
        };
        let read = report(store.clone(), &Catalog::embedded().unwrap(), &request).await;
        let during = written.load(Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        for writer in writers {
            writer.await.unwrap();
        }
        let read = read.unwrap_or_else(|e| panic!("[{}] {e}", ledger.backend));
        assert!(read.compliance.passed(), "{:?}", read.compliance.problem);
        let head = read.compliance.head.clone().expect("a head");
        let seq: i64 = common::query_text(
            &ledger.url,
            &format!("SELECT seq FROM events WHERE hash = '{head}'"),
        )[0][0]
            .parse()
            .unwrap();
        assert_eq!(read.compliance.events, seq, "[{}]", ledger.backend);
        let logged_by_then: i64 = common::query_text(
            &ledger.url,
            &format!("SELECT COUNT(*) FROM entries WHERE position <= {seq}"),
        )[0][0]
            .parse()
            .unwrap();
        let in_report: usize = read.log.iter().map(|m| m.rows.len()).sum();
        assert_eq!(in_report as i64, logged_by_then, "[{}]", ledger.backend);
        assert_eq!(
            read.compliance.entries, logged_by_then,
            "[{}]",
            ledger.backend
        );
        let total: i64 = common::query_text(&ledger.url, "SELECT COUNT(*) FROM entries")[0][0]
            .parse()
            .unwrap();
        assert!(
            total > logged_by_then && during > 16,
            "[{}] the writers went on logging while the report was read ({total} entries, {logged_by_then} in the report)",
            ledger.backend
        );
    }
}
