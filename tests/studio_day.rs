//! A studio's day on one PostgreSQL ledger: two `gencost serve` processes
//! and command-line writers at once (logs, confirms, voids, imports,
//! pools) for a bounded time. Afterwards every acknowledged write is
//! present once, `verify` passes, totals equal the sum of the entries, and
//! each server's live total (what its panel shows) reached the ledger's
//! within 2 seconds. Runs where PostgreSQL is configured (required in CI).

mod common;
use common::server::{http_client, Server};
use common::TestLedger;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Seconds the day lasts (`GENCOST_STUDIO_SECONDS`, default 6).
fn day_length() -> Duration {
    Duration::from_secs(
        std::env::var("GENCOST_STUDIO_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(6),
    )
}

/// The head a server's event stream reports once it reaches `head`, or
/// `None` after `wait`.
async fn stream_reaches(server: &Server, head: &str, wait: Duration) -> bool {
    let mut response = http_client(true)
        .get(server.api("/events"))
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    let mut buffer = String::new();
    while started.elapsed() < wait {
        let left = wait.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                if buffer.contains(head) {
                    return true;
                }
            }
            _ => return false,
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_and_the_command_line_share_one_ledger_for_a_day() {
    let Some(admin) = common::postgres_admin_url() else {
        eprintln!("skipped: GENCOST_TEST_POSTGRES_URL is not set");
        return;
    };
    let ledger = Arc::new(TestLedger::postgres(&admin));
    ledger.ok(&[
        "log",
        "--model",
        "fal-ai/flux/dev",
        "--project",
        "Summer Spot",
    ]);
    let servers = [Server::start(&ledger, &[]), Server::start(&ledger, &[])];
    let urls: Vec<String> = servers.iter().map(|s| s.api("/entries")).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for client in 0..6 {
        let (urls, stop, acked) = (urls.clone(), stop.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let http = http_client(true);
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let request_id = format!("day-{client}-{n}");
                let url = &urls[n % urls.len()];
                n += 1;
                let answer = http
                    .post(url)
                    .json(
                        &json!({"model": "fal-ai/flux/dev", "request_id": request_id,
                                  "project": if client % 2 == 0 { "Summer Spot" } else { "Winter" },
                                  "cost": {"amount": "0.02", "currency": "USD"}}),
                    )
                    .send()
                    .await
                    .unwrap();
                assert!(answer.status().is_success(), "{}", answer.status());
                acked.lock().unwrap().push(request_id);
            }
        }));
    }
    // The command line at the same time: logs, confirms, voids, imports, pools.
    let cli = {
        let (ledger, stop, acked) = (ledger.clone(), stop.clone(), acked.clone());
        tokio::task::spawn_blocking(move || {
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                let request_id = format!("cli-{round}");
                let id = ledger.ok(&[
                    "log",
                    "--model",
                    "fal-ai/flux/dev",
                    "--request-id",
                    &request_id,
                    "--project",
                    "Winter",
                ]);
                acked.lock().unwrap().push(request_id);
                ledger.ok(&["confirm", id.trim(), "--actual", "0.03"]);
                let spare = ledger.ok(&["log", "--model", "fal-ai/flux/dev", "--cost", "0.5"]);
                ledger.ok(&["void", spare.trim(), "--reason", "test render"]);
                let csv = ledger.dir.path().join(format!("costs-{round}.csv"));
                std::fs::write(&csv, format!("date,description,amount,currency,tool\n2026-11-0{},plan {round},4.5,USD,Runway\n", 1 + round % 9)).unwrap();
                ledger.ok(&["import", &csv.display().to_string()]);
                if round % 3 == 0 {
                    ledger.ok(&[
                        "pool",
                        "add",
                        "--amount",
                        "30",
                        "--description",
                        &format!("Midjourney {round}"),
                        "--period",
                        "2026-11",
                        "--project",
                        "Summer Spot",
                        "--project",
                        "Winter",
                    ]);
                }
                round += 1;
            }
            round
        })
    };
    tokio::time::sleep(day_length()).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let cli_rounds = cli.await.unwrap();
    assert!(cli_rounds > 0, "the command line ran");

    // Every acknowledged write is present once.
    let acked = acked.lock().unwrap().clone();
    let stored = common::assert_each_acknowledged_once(&ledger, "", &acked);
    let verify = ledger.run(&["verify"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);

    // Totals equal the sum of the entries.
    let sum = common::query_text(
        &ledger.url,
        "SELECT COALESCE(SUM(cost_micros), 0)::text FROM entries WHERE is_void = 0 AND charged = 1 AND cost_currency = 'USD'",
    )[0][0]
        .parse::<i64>()
        .unwrap();
    let total = ledger.json(&["total", "--json"]);
    let total_micros = gencost::money::parse_amount(total["total"].as_str().unwrap())
        .ok()
        .unwrap();
    assert_eq!(total_micros, sum, "{total}");

    // Each server's live view reaches the ledger's head within 2 s, and
    // then shows the same total.
    let head = ledger.json(&["verify", "--json"])["head"]
        .as_str()
        .unwrap()
        .to_string();
    for server in &servers {
        assert!(
            stream_reaches(server, &head, Duration::from_secs(2)).await,
            "a server's event stream did not reach the head within 2 s"
        );
        let shown: Value = http_client(true)
            .get(server.api("/totals"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(shown["total"], total["total"]);
    }
    eprintln!(
        "{} acknowledged writes over {:?} ({} command-line rounds), {} entries",
        acked.len(),
        day_length(),
        cli_rounds,
        stored
    );
}
