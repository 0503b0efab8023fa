//! Budgets, alerts and holds, end to end with the real binary on SQLite
//! and PostgreSQL: figures kept apart and true to the totals, `verify`
//! catching a budget edited by hand, thresholds recorded once, webhooks
//! delivered signed (checked by Standard Webhooks' reference library) even
//! across a killed server, and hard budgets refusing exactly the holds
//! that would go over, however many arrive at once.

mod common;
use common::fake_fal::FakeFal;
use common::server::{http_client, Server};
use common::{exec_sql, TestLedger};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The entries with this status.
fn with_status(ledger: &TestLedger, status: &str) -> Vec<Value> {
    ledger
        .entries(&[])
        .into_iter()
        .filter(|e| e["status"] == status)
        .collect()
}

fn log(ledger: &TestLedger, args: &[&str]) -> String {
    let mut all = vec!["log", "--model", "studio/grade"];
    all.extend_from_slice(args);
    ledger.ok(&all).trim().to_string()
}

#[test]
fn spent_held_and_unpriced_are_kept_apart_and_add_up_to_the_total() {
    for ledger in TestLedger::each() {
        let set = ledger.json(&[
            "budget",
            "set",
            "Örebro Q4",
            "--amount",
            "2000",
            "--currency",
            "EUR",
            "--client",
            "Örebro Film",
            "--resets",
            "quarter",
            "--json",
        ]);
        assert_eq!(set["state"], "ok", "{set}");
        assert_eq!(set["period"]["label"].as_str().unwrap().len(), 7);
        // Matched by the folding rule, converted at each entry's own day.
        log(
            &ledger,
            &[
                "--client",
                "ÖREBRO FILM",
                "--cost",
                "12.5",
                "--currency",
                "USD",
            ],
        );
        let confirmed = log(
            &ledger,
            &[
                "--client",
                "örebro film",
                "--cost",
                "3",
                "--currency",
                "USD",
            ],
        );
        ledger.ok(&["confirm", &confirmed, "--actual", "4", "--currency", "USD"]);
        log(
            &ledger,
            &[
                "--client",
                "Örebro Film",
                "--cost",
                "7.25",
                "--currency",
                "EUR",
                "--status",
                "pending",
            ],
        );
        log(&ledger, &["--client", "Örebro Film", "--status", "pending"]);
        let voided = log(
            &ledger,
            &[
                "--client",
                "Örebro Film",
                "--cost",
                "100",
                "--currency",
                "EUR",
            ],
        );
        ledger.ok(&["void", &voided, "--reason", "duplicate"]);
        log(
            &ledger,
            &[
                "--client",
                "Örebro Film",
                "--cost",
                "9",
                "--currency",
                "EUR",
                "--status",
                "failed",
            ],
        );
        log(
            &ledger,
            &["--client", "Acme", "--cost", "50", "--currency", "EUR"],
        );

        let shown = ledger.json(&["budget", "show", "örebro q4", "--json"]);
        assert_eq!(shown["held"], "7.25", "[{}] {shown}", ledger.backend);
        assert_eq!(shown["unpriced"], 1, "{shown}");
        assert_eq!(shown["unpriced_held"], 1, "{shown}");
        assert_eq!(
            shown["entries"], 4,
            "voided and uncharged runs do not count: {shown}"
        );
        // spent + held is what the running total says for the client, in EUR.
        let total = ledger.json(&[
            "total",
            "--client",
            "Örebro Film",
            "--currency",
            "EUR",
            "--json",
        ]);
        let sum = |v: &Value| v.as_str().unwrap().parse::<f64>().unwrap();
        let (spent, held, total_eur) = (
            sum(&shown["spent"]),
            sum(&shown["held"]),
            sum(&total["total"]),
        );
        assert!(
            (spent + held - total_eur).abs() < 0.0000015,
            "{shown} vs {total}"
        );
        assert!(
            sum(&shown["spent_billed"]) > 3.0,
            "the confirmed 4 USD: {shown}"
        );
        let remaining = 2000.0 - spent - held;
        assert!((sum(&shown["remaining"]) - remaining).abs() < 0.0000015);

        // Budget list, a change that keeps what it does not name, removal.
        let changed = ledger.json(&["budget", "set", "Örebro Q4", "--amount", "2500", "--json"]);
        assert_eq!(
            (changed["amount"].as_str(), changed["currency"].as_str()),
            (Some("2500"), Some("EUR"))
        );
        assert_eq!(changed["client"], "Örebro Film");
        assert!(ledger.ok(&["verify"]).starts_with("ok"));
        let listed = ledger.json(&["budget", "list", "--json"]);
        assert_eq!(listed.as_array().unwrap().len(), 1);

        // Wrong input says what and where; nothing is written.
        let events = ledger.events();
        for (args, says) in [
            (
                vec!["budget", "set", "X", "--amount=-5", "--currency", "EUR"],
                "--amount",
            ),
            (
                vec!["budget", "set", "X", "--amount", "0", "--currency", "EUR"],
                "not above zero",
            ),
            (
                vec!["budget", "set", "X", "--amount", "5", "--currency", "EURO"],
                "--currency",
            ),
            (
                vec![
                    "budget",
                    "set",
                    "X",
                    "--amount",
                    "5",
                    "--currency",
                    "EUR",
                    "--resets",
                    "weekly",
                ],
                "--resets",
            ),
            (
                vec![
                    "budget",
                    "set",
                    "X",
                    "--amount",
                    "5",
                    "--currency",
                    "EUR",
                    "--alerts",
                    "50,abc",
                ],
                "--alerts",
            ),
            (
                vec![
                    "budget",
                    "set",
                    "X",
                    "--amount",
                    "5",
                    "--currency",
                    "EUR",
                    "--from",
                    "2026-13-01",
                ],
                "--from",
            ),
            (
                vec![
                    "budget",
                    "set",
                    "X\u{7}",
                    "--amount",
                    "5",
                    "--currency",
                    "EUR",
                ],
                "control character",
            ),
            (vec!["budget", "set", "X", "--currency", "EUR"], "amount"),
            (vec!["budget", "show", "nope"], "no budget named nope"),
            (vec!["budget", "rm", "nope"], "no budget named nope"),
        ] {
            let run = ledger.run(&args);
            assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
            assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        }
        assert_eq!(ledger.events(), events);

        // A budget or its sums edited by hand fails verify.
        let edited = exec_sql(
            &ledger.url,
            "UPDATE budgets SET definition = REPLACE(definition, '2500000000', '9500000000')",
        );
        assert_eq!(edited, 1);
        let run = ledger.run(&["verify"]);
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(run.stdout.contains("budget 'örebro q4'"), "{}", run.stdout);
        exec_sql(
            &ledger.url,
            "UPDATE budgets SET definition = REPLACE(definition, '9500000000', '2500000000')",
        );
        assert!(ledger.ok(&["verify"]).starts_with("ok"));
        exec_sql(
            &ledger.url,
            "UPDATE cost_rollups SET micros = micros + 1 WHERE dimension = 'budget' AND group_key LIKE '%held'",
        );
        let run = ledger.run(&["verify"]);
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(
            run.stdout.contains("sums of budget 'örebro q4' (held)"),
            "{}",
            run.stdout
        );

        ledger.ok(&["budget", "rm", "ÖREBRO Q4"]);
        assert_eq!(ledger.json(&["budget", "list", "--json"]), json!([]));
    }
}

/// A receiver of webhooks: records every delivery (headers and body) and
/// answers with the status the test sets (or hangs, to be killed under).
/// A delivery as received: its headers and its body.
type Delivery = (Vec<(String, String)>, String);

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Delivery>>>,
    status: Arc<Mutex<u16>>,
    hang_first: Arc<Mutex<bool>>,
}

impl Receiver {
    async fn start(&self) -> String {
        *self.status.lock().unwrap() = 200;
        let me = self.clone();
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let me = me.clone();
            async move {
                let headers = request
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect();
                let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                    .await
                    .unwrap_or_default();
                let hang = std::mem::take(&mut *me.hang_first.lock().unwrap());
                me.got
                    .lock()
                    .unwrap()
                    .push((headers, String::from_utf8_lossy(&body).to_string()));
                if hang {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                let status = *me.status.lock().unwrap();
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.got.lock().unwrap().clone()
    }

    async fn wait_for(
        &self,
        count: usize,
        within: Duration,
    ) -> Vec<(Vec<(String, String)>, String)> {
        let start = Instant::now();
        while self.deliveries().len() < count && start.elapsed() < within {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.deliveries()
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Checks deliveries with the `standardwebhooks` package (Standard
/// Webhooks' reference implementation); returns what it said of each.
fn reference_verdicts(secret: &str, deliveries: &[Delivery]) -> Vec<String> {
    let available = Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        assert!(
            std::env::var_os("GENCOST_REQUIRE_STANDARDWEBHOOKS").is_none(),
            "GENCOST_REQUIRE_STANDARDWEBHOOKS is set but the standardwebhooks package is not installed"
        );
        eprintln!("skipped: the standardwebhooks package is not installed");
        return Vec::new();
    }
    let cases: Vec<Value> = deliveries
        .iter()
        .map(|(headers, body)| {
            json!({
                "headers": {
                    "webhook-id": header(headers, "webhook-id"),
                    "webhook-timestamp": header(headers, "webhook-timestamp"),
                    "webhook-signature": header(headers, "webhook-signature"),
                },
                "body": body,
            })
        })
        .collect();
    let script = r#"
import json, sys
from standardwebhooks import Webhook
secret, cases = sys.argv[1], json.loads(sys.stdin.read())
hook = Webhook(secret)
for case in cases:
    try:
        payload = hook.verify(case["body"], case["headers"])
        print("ok " + payload["type"])
    except Exception as e:
        print("refused " + type(e).__name__)
"#;
    let mut child = Command::new("python3")
        .args(["-c", script, secret])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Array(cases).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn thresholds_alert_once_per_period_and_are_delivered_signed() {
    for ledger in TestLedger::each() {
        let receiver = Receiver::default();
        let url = receiver.start().await;
        let added = ledger.json(&["webhook", "add", &url, "--json"]);
        let secret = added["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("whsec_"));
        ledger.ok(&[
            "budget",
            "set",
            "Spot",
            "--amount",
            "10",
            "--currency",
            "USD",
            "--project",
            "Spot",
        ]);

        let first = ledger.run(&[
            "log",
            "--model",
            "m",
            "--project",
            "spot",
            "--cost",
            "6",
            "--currency",
            "USD",
        ]);
        assert_eq!(first.code, 0, "{}", first.stderr);
        assert!(
            first.stderr.contains("budget Spot has reached 50 %"),
            "{}",
            first.stderr
        );
        let id = first.stdout.trim().to_string();
        let second = ledger.run(&[
            "log",
            "--model",
            "m",
            "--project",
            "Spot",
            "--cost",
            "4.5",
            "--currency",
            "USD",
        ]);
        assert!(
            second.stderr.contains("80 %") && second.stderr.contains("100 %"),
            "{}",
            second.stderr
        );
        // Below and above again after a void: nothing new in this period.
        ledger.ok(&["void", &id, "--reason", "wrong project"]);
        let again = ledger.run(&[
            "log",
            "--model",
            "m",
            "--project",
            "Spot",
            "--cost",
            "6",
            "--currency",
            "USD",
        ]);
        assert!(!again.stderr.contains("has reached"), "{}", again.stderr);
        let shown = ledger.json(&["budget", "show", "spot", "--json"]);
        assert_eq!(shown["crossed"], json!([50, 80, 100]));
        assert_eq!(shown["state"], "over");

        // No server runs: `webhook deliver` sends what the outbox holds.
        let delivered = ledger.json(&["webhook", "deliver", "--json"]);
        assert_eq!(
            delivered["delivered"], 3,
            "[{}] {delivered}",
            ledger.backend
        );
        let got = receiver.deliveries();
        assert_eq!(got.len(), 3);
        let mut bodies: Vec<Value> = got
            .iter()
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect();
        bodies.sort_by_key(|b| b["threshold"].as_i64());
        assert_eq!(bodies[0]["type"], "budget.threshold_crossed");
        assert_eq!(bodies[0]["budget"], "Spot");
        assert_eq!(bodies[0]["threshold"], 50);
        assert_eq!(bodies[0]["spent"], "6");
        assert_eq!(bodies[0]["remaining"], "4");
        assert_eq!(bodies[0]["currency"], "USD");
        assert_eq!(bodies[0]["entry_id"], json!(id));
        assert_eq!(bodies[2]["threshold"], 100);
        for (headers, _) in &got {
            assert!(header(headers, "webhook-id").starts_with("msg_"));
            assert!(header(headers, "webhook-signature").starts_with("v1,"));
        }
        let verdicts = reference_verdicts(&secret, &got);
        if !verdicts.is_empty() {
            assert_eq!(verdicts, vec!["ok budget.threshold_crossed"; 3]);
            // A body changed on the way is refused by the same verifier.
            let mut tampered = got[0].clone();
            tampered.1 = tampered.1.replace("Spot", "Spit");
            assert_eq!(
                reference_verdicts(&secret, &[tampered]),
                vec!["refused WebhookVerificationError"]
            );
        }
        assert_eq!(
            ledger.json(&["webhook", "deliver", "--json"])["delivered"],
            0
        );

        // A failing receiver is retried later, and `list` shows it.
        *receiver.status.lock().unwrap() = 500;
        ledger.ok(&[
            "budget",
            "set",
            "Tiny",
            "--amount",
            "1",
            "--currency",
            "USD",
        ]);
        let failed = ledger.json(&["webhook", "deliver", "--json"]);
        assert_eq!(failed["retrying"], 3, "{failed}");
        let listed = ledger.json(&["webhook", "list", "--json"]);
        assert_eq!(listed[0]["pending"], 3, "{listed}");
        assert!(
            listed[0]["last_error"].as_str().unwrap().contains("500"),
            "{listed}"
        );
        // Rotation: the new secret signs, the old one too for a day.
        let rotated = ledger.json(&["webhook", "rotate", added["id"].as_str().unwrap(), "--json"]);
        let new_secret = rotated["secret"].as_str().unwrap();
        assert_ne!(new_secret, secret);
        assert!(ledger.ok(&["verify"]).starts_with("ok"));

        // `db copy` carries budgets (events) and webhooks with their secrets.
        let copy = format!("sqlite://{}", ledger.dir.path().join("copy.db").display());
        ledger.ok(&["db", "copy", "--from", &ledger.url, "--to", &copy]);
        let copied = common::run_with(
            &copy,
            &ledger.config_dir(),
            ledger.dir.path(),
            &["budget", "show", "Spot", "--json"],
        );
        let copied: Value =
            serde_json::from_str(&copied.stdout).unwrap_or_else(|_| panic!("{}", copied.stderr));
        assert_eq!(copied["crossed"], json!([50, 80, 100]));
        assert_eq!(copied["spent"], shown["spent"]);
        let hooks = common::run_with(
            &copy,
            &ledger.config_dir(),
            ledger.dir.path(),
            &["webhook", "list", "--json"],
        );
        assert!(
            hooks.stdout.contains(added["id"].as_str().unwrap()),
            "{}",
            hooks.stdout
        );
        let verified =
            common::run_with(&copy, &ledger.config_dir(), ledger.dir.path(), &["verify"]);
        assert_eq!(verified.code, 0, "{}", verified.stdout);

        // Only http(s); plain http beyond this machine is warned about.
        let run = ledger.run(&["webhook", "add", "ftp://example.com/x"]);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("only http and https"), "{}", run.stderr);
        let run = ledger.run(&["webhook", "add", "http://203.0.113.9/hook"]);
        assert_eq!(run.code, 0);
        assert!(
            run.stderr.contains("plain http beyond this machine"),
            "{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_cut_off_by_a_killed_server_is_sent_after_restart() {
    for ledger in TestLedger::each() {
        let receiver = Receiver::default();
        let url = receiver.start().await;
        *receiver.hang_first.lock().unwrap() = true;
        let added = ledger.json(&["webhook", "add", &url, "--json"]);
        let env = [("GENCOST_WEBHOOK_LEASE_SECONDS", "2")];
        let server = Server::start_with_env(&ledger, &[], &env);
        ledger.ok(&[
            "budget",
            "set",
            "Film",
            "--amount",
            "1",
            "--currency",
            "USD",
            "--alerts",
            "100",
        ]);
        let log = http_client(false)
            .post(server.api("/entries"))
            .json(&json!({"model": "m", "cost": {"amount": "2", "currency": "USD"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(log.status(), StatusCode::CREATED);
        let logged: Value = log.json().await.unwrap();
        assert_eq!(logged["alerts"][0]["threshold"], 100, "{logged}");
        // The server picks the delivery up and the receiver holds it open.
        let got = receiver.wait_for(1, Duration::from_secs(20)).await;
        assert_eq!(
            got.len(),
            1,
            "[{}] the first attempt arrived",
            ledger.backend
        );
        server.kill();
        // Restarted, a server sends it again once the dead one's claim
        // runs out: at least once, under the same message id.
        let server = Server::start_with_env(&ledger, &[], &env);
        let got = receiver.wait_for(2, Duration::from_secs(30)).await;
        assert!(
            got.len() >= 2,
            "[{}] {} deliveries",
            ledger.backend,
            got.len()
        );
        assert_eq!(
            header(&got[0].0, "webhook-id"),
            header(&got[1].0, "webhook-id")
        );
        let verdicts = reference_verdicts(added["secret"].as_str().unwrap(), &got[1..2]);
        if !verdicts.is_empty() {
            assert_eq!(verdicts, vec!["ok budget.threshold_crossed"]);
        }
        let start = Instant::now();
        loop {
            let listed = ledger.json(&["webhook", "list", "--json"]);
            if listed[0]["delivered"] == 1 || start.elapsed() > Duration::from_secs(10) {
                assert_eq!(listed[0]["delivered"], 1, "{listed}");
                assert_eq!(listed[0]["pending"], 0, "{listed}");
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        drop(server);
    }
}

/// Sends `count` pending runs of `cost` USD at once to these servers, in
/// turn; returns the statuses.
async fn holds_at_once(servers: &[&Server], count: usize, cost: &str) -> Vec<(StatusCode, Value)> {
    let client = http_client(false);
    let sends = (0..count).map(|i| {
        let url = servers[i % servers.len()].api("/entries");
        let client = client.clone();
        let body = json!({"model": "fal-ai/kling-video", "client": "Örebro Film",
                          "cost": {"amount": cost, "currency": "USD"}, "status": "pending"});
        async move {
            let answer = client.post(url).json(&body).send().await.unwrap();
            let status = answer.status();
            (status, answer.json::<Value>().await.unwrap())
        }
    });
    futures_util::future::join_all(sends).await
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_holds_at_once_let_exactly_as_many_through_as_the_budget_holds() {
    let mut cases: Vec<(TestLedger, usize)> =
        TestLedger::each().into_iter().map(|l| (l, 1)).collect();
    if let Some(admin) = common::postgres_admin_url() {
        cases.push((TestLedger::postgres(&admin), 2));
    }
    for (ledger, server_count) in cases {
        ledger.ok(&[
            "budget",
            "set",
            "Örebro",
            "--amount",
            "5",
            "--currency",
            "USD",
            "--client",
            "örebro film",
            "--hard",
        ]);
        let servers: Vec<Server> = (0..server_count)
            .map(|_| Server::start(&ledger, &[]))
            .collect();
        let refs: Vec<&Server> = servers.iter().collect();
        let answers = holds_at_once(&refs, 20, "0.75").await;
        let through = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .count();
        assert_eq!(
            through, 6,
            "[{} x{server_count}] {answers:?}",
            ledger.backend
        );
        let refused: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::CONFLICT)
            .map(|(_, body)| body)
            .collect();
        assert_eq!(refused.len(), 14);
        let error = &refused[0]["error"];
        assert_eq!(error["code"], "budget_exceeded");
        assert_eq!(error["budget"]["name"], "Örebro");
        assert_eq!(error["budget"]["amount"], "5");
        assert_eq!(error["budget"]["held"], "4.5");
        assert_eq!(error["budget"]["estimate"], "0.75");
        assert!(
            error["message"].as_str().unwrap().contains("would go over"),
            "{error}"
        );
        let shown = ledger.json(&["budget", "show", "Örebro", "--json"]);
        assert_eq!(shown["held"], "4.5");
        assert_eq!(ledger.entries(&[]).len(), 6, "refused holds wrote nothing");

        // The CLI is refused the same way (exit 2); a finished run is
        // recorded however far over it goes (the money is gone).
        let run = ledger.run(&[
            "log",
            "--model",
            "m",
            "--client",
            "Örebro Film",
            "--cost",
            "0.75",
            "--currency",
            "USD",
            "--status",
            "pending",
        ]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("budget Örebro would go over"),
            "{}",
            run.stderr
        );
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--client",
            "Örebro Film",
            "--cost",
            "3",
            "--currency",
            "USD",
        ]);
        // A hold settles: its estimate is no longer held.
        let held: Vec<Value> = with_status(&ledger, "pending");
        let id = held[0]["id"].as_str().unwrap();
        ledger.ok(&["confirm", id, "--actual", "0.5", "--currency", "USD"]);
        let shown = ledger.json(&["budget", "show", "Örebro", "--json"]);
        assert_eq!(shown["held"], "3.75", "{shown}");
        assert!(ledger.ok(&["verify"]).starts_with("ok"));

        // An unpriced model cannot be held, unless the budget lets it.
        let run = ledger.run(&[
            "log",
            "--model",
            "nobody/unpriced",
            "--client",
            "Örebro Film",
            "--status",
            "pending",
        ]);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("has no price"), "{}", run.stderr);
        ledger.ok(&[
            "budget",
            "set",
            "Örebro",
            "--amount",
            "50",
            "--allow-unpriced",
        ]);
        ledger.ok(&[
            "log",
            "--model",
            "nobody/unpriced",
            "--client",
            "Örebro Film",
            "--status",
            "pending",
        ]);
    }
}

const KEY: &str = "fal-key-3c9e:5d1f7a";

#[tokio::test(flavor = "multi_thread")]
async fn the_proxy_holds_before_calling_fal_and_refuses_what_the_budget_cannot_hold() {
    for ledger in TestLedger::each() {
        let fal = FakeFal::start(KEY, "admin").await;
        let server =
            Server::start_with_env(&ledger, &["--fal-upstream", &fal.url], &[("FAL_KEY", KEY)]);
        // fal-ai/flux/dev costs 0.025 USD an image: 0.1 holds four runs.
        ledger.ok(&[
            "budget",
            "set",
            "Spot",
            "--amount",
            "0.1",
            "--currency",
            "USD",
            "--project",
            "Spot",
            "--hard",
        ]);
        let submit = |n: usize| {
            let server = &server;
            async move {
                let answers = (0..n).map(|i| {
                    http_client(false)
                        .post(format!("{}/fal/proxy", server.url))
                        .header("x-fal-target-url", "https://queue.fal.run/fal-ai/flux/dev")
                        .header("x-gencost-project", "spot")
                        .header("content-type", "application/json")
                        .body(
                            json!({"prompt": format!("a fjord {i}"), "num_images": 1}).to_string(),
                        )
                        .send()
                });
                let mut out = Vec::new();
                for answer in futures_util::future::join_all(answers).await {
                    let answer = answer.unwrap();
                    out.push((
                        answer.status().as_u16(),
                        answer.json::<Value>().await.unwrap(),
                    ));
                }
                out
            }
        };
        let answers = submit(6).await;
        let ok = answers.iter().filter(|(s, _)| *s == 200).count();
        assert_eq!(ok, 4, "[{}] {answers:?}", ledger.backend);
        let refused: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == 402)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(refused.len(), 2);
        let detail = refused[0]["detail"].as_str().unwrap();
        assert!(
            detail.contains("budget Spot would go over") && detail.contains("0.025 USD"),
            "{detail}"
        );
        // fal saw only the runs the budget held.
        let submits = fal.seen().iter().filter(|s| s.method == "POST").count();
        assert_eq!(submits, 4);
        // Each held run carries fal's request id.
        let pending = with_status(&ledger, "pending");
        assert_eq!(pending.len(), 4);
        assert!(pending
            .iter()
            .all(|e| e["request_id"].as_str().is_some_and(|r| !r.is_empty())));

        // A run fal refuses is released: an uncharged failure, not held.
        ledger.ok(&["budget", "set", "Spot", "--amount", "1"]);
        fal.state
            .lock()
            .unwrap()
            .failing
            .insert("fal-ai/flux/schnell".into());
        let answer = http_client(false)
            .post(format!("{}/fal/proxy", server.url))
            .header("x-fal-target-url", "https://fal.run/fal-ai/flux/schnell")
            .header("x-gencost-project", "Spot")
            .header("content-type", "application/json")
            .body(json!({"prompt": "x"}).to_string())
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_server_error(), "{}", answer.status());
        let failed = with_status(&ledger, "failed");
        assert_eq!(failed.len(), 1, "{failed:?}");
        let shown = ledger.json(&["budget", "show", "Spot", "--json"]);
        assert_eq!(shown["held"], "0.1", "{shown}");

        // A stream fal started without naming it stays held: it runs.
        fal.state.lock().unwrap().streams_unnamed = true;
        let answer = http_client(false)
            .post(format!("{}/fal/proxy", server.url))
            .header("x-fal-target-url", "https://fal.run/fal-ai/flux/dev/stream")
            .header("x-gencost-project", "Spot")
            .header("content-type", "application/json")
            .body(json!({"prompt": "a stream", "num_images": 1}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        let _ = answer.bytes().await.unwrap();
        let shown = ledger.json(&["budget", "show", "Spot", "--json"]);
        assert_eq!(shown["held"], "0.125", "[{}] {shown}", ledger.backend);
        assert_eq!(with_status(&ledger, "failed").len(), 1);
        assert!(ledger.ok(&["verify"]).starts_with("ok"));

        // A hold that stays open is reported by reconcile, never dropped.
        let two_days_ago = (time::OffsetDateTime::now_utc() - time::Duration::days(2))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let old = log(
            &ledger,
            &[
                "--project",
                "Spot",
                "--cost",
                "0.01",
                "--currency",
                "USD",
                "--status",
                "pending",
                "--at",
                &two_days_ago,
            ],
        );
        let run = ledger.run_env(
            &["reconcile", "--json", "--fal-upstream", &fal.url],
            &[("FAL_KEY", KEY)],
        );
        let report: Value =
            serde_json::from_str(&run.stdout).unwrap_or_else(|_| panic!("{}", run.stderr));
        let reported: Vec<&str> = report["old_holds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap())
            .collect();
        assert_eq!(reported, vec![old.as_str()], "{report}");
        let run = ledger.run_env(
            &[
                "reconcile",
                "--json",
                "--fal-upstream",
                &fal.url,
                "--holds-older-than",
                "72",
            ],
            &[("FAL_KEY", KEY)],
        );
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["old_holds"], json!([]));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_makes_changes_shows_and_removes_budgets() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    let client = http_client(false);
    let made = client
        .post(server.api("/budgets"))
        .json(&json!({"name": "Acme", "amount": "2000", "currency": "EUR", "client": "Acme", "hard": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let again = client
        .post(server.api("/budgets"))
        .json(&json!({"name": "ACME", "amount": "1", "currency": "EUR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let missing = client
        .put(server.api("/budgets/Nobody"))
        .json(&json!({"amount": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let changed: Value = client
        .put(server.api("/budgets/acme"))
        .json(&json!({"amount": "2500", "alerts": [90]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (changed["amount"].as_str(), changed["alerts"].clone()),
        (Some("2500"), json!([90]))
    );
    assert_eq!(changed["hard"], true);
    let bad = client
        .post(server.api("/budgets"))
        .json(&json!({"name": "B", "amount": "ten", "currency": "EUR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["field"], "amount");
    let covering: Value = client
        .get(server.api("/budgets?client=ACME"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(covering["budgets"][0]["name"], "Acme");
    let none: Value = client
        .get(server.api("/budgets?client=Other"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["budgets"], json!([]));
    let removed = client
        .delete(server.api("/budgets/Acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    let gone = client
        .get(server.api("/budgets/Acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

/// A server keeps the converted sums of a budget's older days; a write
/// from another process to one of those days, or new exchange rates, makes
/// it read them again.
#[tokio::test(flavor = "multi_thread")]
async fn older_days_kept_by_a_server_follow_writes_and_rates_from_elsewhere() {
    for ledger in TestLedger::each() {
        let days_ago = |n: i64| {
            (time::OffsetDateTime::now_utc() - time::Duration::days(n))
                .date()
                .to_string()
        };
        ledger.ok(&[
            "budget",
            "set",
            "Year",
            "--amount",
            "1000",
            "--currency",
            "EUR",
            "--resets",
            "never",
            "--from",
            &days_ago(60),
        ]);
        log(
            &ledger,
            &["--cost", "10", "--currency", "USD", "--at", &days_ago(40)],
        );
        log(
            &ledger,
            &["--cost", "5", "--currency", "EUR", "--at", &days_ago(1)],
        );
        let server = Server::start(&ledger, &[]);
        let client = http_client(false);
        let spent = || async {
            let shown: Value = client
                .get(server.api("/budgets/Year"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            shown["spent"].as_str().unwrap().to_string()
        };
        let first = spent().await;
        assert_eq!(spent().await, first, "[{}] read twice", ledger.backend);
        let cli = ledger.json(&["budget", "show", "Year", "--json"]);
        assert_eq!(cli["spent"], json!(first));
        // Another process logs on an older day: the server reads it.
        log(
            &ledger,
            &["--cost", "7", "--currency", "USD", "--at", &days_ago(30)],
        );
        let after_log = spent().await;
        let cli = ledger.json(&["budget", "show", "Year", "--json"]);
        assert_eq!(cli["spent"], json!(after_log), "[{}]", ledger.backend);
        assert_ne!(after_log, first);
        // New rates for the older days: the server converts again.
        let day = days_ago(40);
        let rates = ledger.write_file(
            "rates.csv",
            format!("Date,USD,\n{day},2.0000,\n{},2.0000,\n", days_ago(30)),
        );
        ledger.ok(&["rates", "import", &rates]);
        let after_rates = spent().await;
        let cli = ledger.json(&["budget", "show", "Year", "--json"]);
        assert_eq!(cli["spent"], json!(after_rates), "[{}]", ledger.backend);
        assert_eq!(
            after_rates, "13.5",
            "[{}] 17 USD at 2 per euro, and 5 EUR",
            ledger.backend
        );
        assert!(ledger.ok(&["verify"]).starts_with("ok"));
    }
}
