//! Rates stay fresh: `gencost serve` fetches ECB's daily rates in the
//! background (from GENCOST_ECB_URL here, a local server), unless told not
//! to; `rates update` says what it added; and a report converted at stale
//! rates names the days and the command that fixes it.

mod common;
use common::server::Server;
use common::TestLedger;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Serves ECB's daily file of 2025-10-21 to every request; counts them.
fn ecb() -> (String, Arc<AtomicUsize>) {
    let body = std::fs::read(format!(
        "{}/tests/fixtures/ecb/eurofxref-daily-2025-10-21.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            counted.fetch_add(1, Ordering::SeqCst);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (
        format!("http://{address}/stats/eurofxref/eurofxref-daily.xml"),
        requests,
    )
}

/// The range of rates imported into the ledger, if any.
fn imported(ledger: &TestLedger) -> serde_json::Value {
    ledger.json(&["rates", "show", "--date", "2025-10-22", "--json"])["imported"].clone()
}

#[test]
fn serve_fetches_the_daily_rates_in_the_background() {
    let ledger = TestLedger::sqlite();
    ledger.ok(&["db", "migrate"]);
    let (url, requests) = ecb();
    let server = Server::start_with_env(
        &ledger,
        &[],
        &[("GENCOST_RATE_UPDATES", "1"), ("GENCOST_ECB_URL", &url)],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while imported(&ledger).is_null() {
        assert!(Instant::now() < deadline, "no rates were fetched");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(imported(&ledger)["last_date"], "2025-10-21");
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.stderr.lock().unwrap().contains("rates: added") {
        assert!(
            Instant::now() < deadline,
            "{}",
            server.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        server
            .stderr
            .lock()
            .unwrap()
            .contains("rates: added 30 ECB rates (2025-10-21)"),
        "{}",
        server.stderr.lock().unwrap()
    );
}

#[test]
fn serve_fetches_nothing_when_told_not_to() {
    let (url, requests) = ecb();
    for (args, env) in [
        (
            vec!["--no-rate-updates"],
            vec![("GENCOST_RATE_UPDATES", "1")],
        ),
        (vec![], vec![("GENCOST_RATE_UPDATES", "0")]),
    ] {
        let ledger = TestLedger::sqlite();
        ledger.ok(&["db", "migrate"]);
        let mut env = env.clone();
        env.push(("GENCOST_ECB_URL", &url));
        let server = Server::start_with_env(&ledger, &args, &env);
        // The server answers at once, and in a while has fetched nothing.
        std::thread::sleep(Duration::from_millis(1500));
        assert!(imported(&ledger).is_null(), "{args:?} {env:?}");
        drop(server);
    }
    assert_eq!(requests.load(Ordering::SeqCst), 0);
    // A value that is neither on nor off is refused, naming the variable.
    let ledger = TestLedger::sqlite();
    let run = ledger.run_env(
        &["serve", "--addr", "127.0.0.1:0"],
        &[("GENCOST_RATE_UPDATES", "sometimes")],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("GENCOST_RATE_UPDATES: 'sometimes'"),
        "{}",
        run.stderr
    );
}

#[test]
fn rates_update_says_what_it_added() {
    let ledger = TestLedger::sqlite();
    let (url, _) = ecb();
    let first = ledger.ok(&["rates", "update", "--url", &url]);
    assert!(
        first.starts_with("added 30 ECB rates (2025-10-21)\n"),
        "{first}"
    );
    let again = ledger.ok(&["rates", "update", "--url", &url]);
    assert!(
        again.starts_with("up to date: nothing new (the latest ECB rates, of 2025-10-21, were already in the ledger)\n"),
        "{again}"
    );
    // GENCOST_ECB_URL is where it fetches from without --url.
    let env_run = ledger.run_env(&["rates", "update"], &[("GENCOST_ECB_URL", &url)]);
    assert_eq!(env_run.code, 0, "{}", env_run.stderr);
    assert!(
        env_run.stdout.starts_with("up to date"),
        "{}",
        env_run.stdout
    );
}

#[test]
fn a_report_at_stale_rates_names_the_days_and_the_fix() {
    let ledger = TestLedger::sqlite();
    // ECB stopped quoting the rouble on 2022-03-01: an amount of 2025 is
    // converted at that day's rate.
    for day in ["2025-09-02", "2025-09-03", "2025-09-04", "2025-09-08"] {
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "100",
            "--currency",
            "RUB",
            "--at",
            day,
        ]);
    }
    let out = ledger.dir.path().join("r.html");
    ledger.ok(&[
        "report",
        "html",
        "--tz",
        "UTC",
        "-o",
        &out.display().to_string(),
    ]);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(
        html.contains("<p class=\"warning\">Amounts of 2025-09-02 to 2025-09-04, 2025-09-08 were converted at exchange rates more than 7 days older than they are (the oldest of 2022-03-01), because this ledger has no ECB rates for those days. Fetch them with “gencost rates update”"),
        "{html}"
    );
}
