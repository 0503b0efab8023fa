//! Invoices through the real binary and the API, on both backends: what an
//! invoice takes and leaves out, its numbers (per series and year, never
//! reused, gapless under concurrent creates), the locks it puts on what it
//! bills (CLI exit 2, API 409 `locked`, batch voids), credit notes and
//! voids that release them, adjustments for costs settled after invoicing,
//! the document and its CSV, `verify` over the invoice tables, and reset.

mod common;
use common::server::{http_client, Server};
use common::TestLedger;
use gencost::ledger::{Command, RunSettled};
use gencost::store::Store;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn log(ledger: &TestLedger, args: &[&str]) -> String {
    let mut all = vec!["log", "--model", "fal-ai/flux/dev"];
    all.extend_from_slice(args);
    ledger.ok(&all).trim().to_string()
}

fn create(ledger: &TestLedger, args: &[&str]) -> Value {
    let mut all = vec!["invoice", "create", "--json"];
    all.extend_from_slice(args);
    ledger.json(&all)
}

fn verified(ledger: &TestLedger) {
    let out = ledger.ok(&["verify"]);
    assert!(out.starts_with("ok"), "[{}] {out}", ledger.backend);
}

#[test]
fn an_invoice_bills_what_no_invoice_holds_and_locks_it() {
    for ledger in TestLedger::each() {
        let b = ledger.backend;
        let estimate = log(
            &ledger,
            &[
                "--cost",
                "0.40",
                "--client",
                "Örebro Film",
                "--project",
                "Spot",
                "--deliverable",
                "Hero",
                "--at",
                "2026-11-03",
            ],
        );
        let billed = log(
            &ledger,
            &[
                "--actual",
                "1.25",
                "--client",
                "ÖREBRO FILM",
                "--project",
                "Spot",
                "--at",
                "2026-11-30T23:59:59Z",
            ],
        );
        let pending = log(
            &ledger,
            &[
                "--cost",
                "2",
                "--client",
                "örebro film",
                "--status",
                "pending",
                "--at",
                "2026-11-05",
            ],
        );
        let unpriced = ledger
            .ok(&[
                "log",
                "--model",
                "x/unknown",
                "--client",
                "Örebro Film",
                "--at",
                "2026-11-06",
            ])
            .trim()
            .to_string();
        let failed = log(
            &ledger,
            &[
                "--cost",
                "0.30",
                "--client",
                "Örebro Film",
                "--status",
                "failed",
                "--at",
                "2026-11-07",
            ],
        );
        let voided = log(
            &ledger,
            &[
                "--cost",
                "0.50",
                "--client",
                "Örebro Film",
                "--at",
                "2026-11-08",
            ],
        );
        ledger.ok(&["void", &voided, "--reason", "duplicate"]);
        let december = log(
            &ledger,
            &[
                "--cost",
                "2",
                "--client",
                "Örebro Film",
                "--at",
                "2026-12-01",
            ],
        );
        let other = log(
            &ledger,
            &["--cost", "2", "--client", "Acme", "--at", "2026-11-10"],
        );

        // Unpriced entries are refused, named, unless allowed.
        let run = ledger.run(&[
            "invoice",
            "create",
            "--client",
            "örebro film",
            "--month",
            "2026-11",
        ]);
        assert_eq!(run.code, 2, "[{b}] {}", run.stderr);
        assert!(
            run.stderr.contains(&unpriced) && run.stderr.contains("--allow-unpriced"),
            "{}",
            run.stderr
        );
        // --require-confirmed names the estimates.
        let run = ledger.run(&[
            "invoice",
            "create",
            "--client",
            "Örebro Film",
            "--month",
            "2026-11",
            "--allow-unpriced",
            "--require-confirmed",
        ]);
        assert_eq!(run.code, 2, "[{b}] {}", run.stderr);
        assert!(run.stderr.contains(&estimate), "{}", run.stderr);
        assert!(!run.stderr.contains(&billed), "{}", run.stderr);
        assert_eq!(
            ledger.json(&["invoice", "list", "--json"]),
            json!([]),
            "[{b}] nothing issued"
        );

        let dry = create(
            &ledger,
            &[
                "--client",
                "Örebro Film",
                "--month",
                "2026-11",
                "--allow-unpriced",
                "--dry-run",
            ],
        );
        assert_eq!(dry["issued"], false);
        assert_eq!(ledger.json(&["invoice", "list", "--json"]), json!([]));

        let invoice = create(
            &ledger,
            &[
                "--client",
                "örebro film",
                "--month",
                "2026-11",
                "--allow-unpriced",
                "--markup",
                "15",
            ],
        );
        assert_eq!(invoice["number"], "INV-2026-0001", "[{b}] {invoice}");
        assert_eq!(invoice["client"], "Örebro Film", "the ledger's spelling");
        // 0.40 + 1.25 (30 November, its last second, included) and the
        // unpriced entry with no amount; 15 % on 1.65 = 0.2475 → 1.90.
        assert_eq!(invoice["lines"], 3, "[{b}] {invoice}");
        assert_eq!(invoice["subtotal"], "$1.65");
        assert_eq!(invoice["total"], "$1.90");
        assert_eq!(invoice["estimated"], "$0.46", "0.40 + its markup 0.06");
        assert_eq!(invoice["pending_left_out"], json!([pending]));
        assert_eq!(invoice["unpriced"], json!([unpriced]));

        // The invoiced entries are locked, named by their invoice.
        for args in [
            vec!["confirm", "--actual", "0.5", estimate.as_str()],
            vec!["retag", estimate.as_str(), "--project", "Other"],
            vec!["void", billed.as_str(), "--reason", "wrong"],
        ] {
            let run = ledger.run(&args);
            assert_eq!(run.code, 2, "[{b}] {args:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("INV-2026-0001") && run.stderr.contains("locked"),
                "{}",
                run.stderr
            );
        }
        let shown = ledger.json(&["show", &estimate, "--json"]);
        assert_eq!(shown["invoice"], "INV-2026-0001", "{shown}");
        assert!(ledger
            .ok(&["show", &estimate])
            .contains("INV-2026-0001 (billed on it, and locked)"));
        assert!(ledger
            .json(&["show", &pending, "--json"])
            .get("invoice")
            .is_none());
        // What the invoice left alone stays editable.
        ledger.ok(&["retag", &failed, "--project", "Teaser"]);
        let late = log(
            &ledger,
            &[
                "--cost",
                "0.10",
                "--client",
                "Örebro Film",
                "--at",
                "2026-11-12",
            ],
        );
        ledger.ok(&["retag", &december, "--project", "Teaser"]);
        ledger.ok(&["retag", &other, "--project", "Teaser"]);

        // The next invoice takes only what is new: an entry logged late.
        let run = ledger.run(&[
            "invoice",
            "create",
            "--client",
            "Örebro Film",
            "--month",
            "2026-11",
            "--series",
            "inv",
        ]);
        assert_eq!(run.code, 0, "[{b}] {}", run.stderr);
        assert!(
            run.stdout.contains("INV-2026-0002") && run.stdout.contains("1 lines"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains(&pending),
            "the pending run is listed as left out: {}",
            run.stdout
        );
        assert_eq!(ledger.run(&["retag", &late, "--project", "X"]).code, 2);
        let run = ledger.run(&[
            "invoice",
            "create",
            "--client",
            "Örebro Film",
            "--month",
            "2026-11",
        ]);
        assert_eq!(run.code, 2, "[{b}] nothing left: {}", run.stderr);
        assert!(run.stderr.contains("nothing to invoice"), "{}", run.stderr);
        // Another series counts on its own.
        let other_series = create(
            &ledger,
            &[
                "--client",
                "Acme",
                "--since",
                "2026-11-01",
                "--until",
                "2026-11-30",
                "--series",
                "AC",
            ],
        );
        assert_eq!(other_series["number"], "AC-2026-0001");
        verified(&ledger);
    }
}

#[test]
fn voids_and_credit_notes_release_locks_and_numbers_are_never_reused() {
    for ledger in TestLedger::each() {
        let b = ledger.backend;
        let a = log(
            &ledger,
            &[
                "--cost",
                "1",
                "--client",
                "Acme",
                "--project",
                "Spot",
                "--at",
                "2026-11-03",
            ],
        );
        let c = log(
            &ledger,
            &[
                "--cost",
                "2",
                "--client",
                "Acme",
                "--project",
                "Spot",
                "--at",
                "2026-11-04",
            ],
        );
        let first = create(&ledger, &["--client", "Acme", "--month", "2026-11"]);
        assert_eq!(first["number"], "INV-2026-0001");

        // A credit for an amount releases nothing.
        let credit = ledger.json(&[
            "invoice",
            "credit",
            "INV-2026-0001",
            "--amount",
            "0.50",
            "--reason",
            "goodwill",
            "--json",
        ]);
        assert_eq!(credit["number"], "CN-2026-0001", "[{b}] {credit}");
        assert_eq!(ledger.run(&["retag", &a, "--project", "X"]).code, 2);
        // A credit of lines releases those lines only.
        let run = ledger.run(&[
            "invoice",
            "credit",
            "INV-2026-0001",
            "--entries",
            &a,
            "--reason",
            "wrong project",
        ]);
        assert_eq!(run.code, 0, "[{b}] {}", run.stderr);
        assert!(
            run.stdout.contains("CN-2026-0002") && run.stdout.contains("1 entry released"),
            "{}",
            run.stdout
        );
        ledger.ok(&["retag", &a, "--project", "Teaser"]);
        assert_eq!(ledger.run(&["retag", &c, "--project", "X"]).code, 2);
        // A line credited already is no longer on the invoice's locks.
        let run = ledger.run(&[
            "invoice",
            "credit",
            "INV-2026-0001",
            "--entries",
            &a,
            "--reason",
            "again",
        ]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("not held by invoice INV-2026-0001"),
            "{}",
            run.stderr
        );
        // Credited, it can be invoiced again.
        let second = create(&ledger, &["--client", "Acme", "--month", "2026-11"]);
        assert_eq!(
            (second["number"].clone(), second["lines"].clone()),
            (json!("INV-2026-0002"), json!(1))
        );

        // A credited invoice is not voided (its credits would stand).
        let run = ledger.run(&["invoice", "void", "INV-2026-0001", "--reason", "x"]);
        assert_eq!(run.code, 2, "[{b}] {}", run.stderr);
        assert!(
            run.stderr
                .contains("has credit notes (CN-2026-0001, CN-2026-0002)"),
            "{}",
            run.stderr
        );
        // Credit notes together credit at most the invoice's total ($3.00).
        let run = ledger.run(&[
            "invoice",
            "credit",
            "INV-2026-0001",
            "--amount",
            "1.60",
            "--reason",
            "more",
        ]);
        assert_eq!(run.code, 2, "[{b}] {}", run.stderr);
        assert!(
            run.stderr
                .contains("more than the invoice's total of $3.00"),
            "{}",
            run.stderr
        );
        // A voided invoice keeps its number and releases its entries.
        let run = ledger.run(&[
            "invoice",
            "void",
            "INV-2026-0002",
            "--reason",
            "sent to the wrong address",
        ]);
        assert_eq!(run.code, 0, "[{b}] {}", run.stderr);
        ledger.ok(&["retag", &a, "--project", "Spot"]);
        let run = ledger.run(&["invoice", "void", "INV-2026-0002", "--reason", "again"]);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("is void"), "{}", run.stderr);
        let run = ledger.run(&[
            "invoice",
            "credit",
            "INV-2026-0002",
            "--amount",
            "1",
            "--reason",
            "x",
        ]);
        assert_eq!(
            run.code, 2,
            "a void invoice is not credited: {}",
            run.stderr
        );
        let third = create(&ledger, &["--client", "Acme", "--month", "2026-11"]);
        assert_eq!(third["number"], "INV-2026-0003", "[{b}] never reused");
        let list = ledger.json(&["invoice", "list", "--json"]);
        let numbers: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["number"].as_str().unwrap())
            .collect();
        assert_eq!(
            numbers,
            [
                "CN-2026-0001",
                "CN-2026-0002",
                "INV-2026-0001",
                "INV-2026-0002",
                "INV-2026-0003"
            ]
        );
        assert_eq!(list[3]["void_reason"], "sent to the wrong address");
        let run = ledger.run(&["invoice", "show", "INV-2099-0001"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("no invoice or credit note numbered INV-2099-0001"),
            "{}",
            run.stderr
        );
        verified(&ledger);

        // A reset keeps invoices only when told, and numbering goes on.
        let run = ledger.run(&["reset", "--confirm", "DELETE"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("--including-invoices"),
            "{}",
            run.stderr
        );
        assert_eq!(ledger.entries(&[]).len(), 2, "nothing removed");
        ledger.ok(&["reset", "--confirm", "DELETE", "--including-invoices"]);
        log(
            &ledger,
            &["--cost", "2", "--client", "Acme", "--at", "2026-11-05"],
        );
        let after = create(&ledger, &["--client", "Acme", "--month", "2026-11"]);
        assert_eq!(
            after["number"], "INV-2026-0004",
            "[{b}] numbering carried into the new chain"
        );
        let credit = ledger.json(&[
            "invoice",
            "credit",
            "INV-2026-0004",
            "--amount",
            "1",
            "--reason",
            "x",
            "--json",
        ]);
        assert_eq!(credit["number"], "CN-2026-0003");
        verified(&ledger);
    }
}

#[test]
fn imports_and_pools_holding_billed_entries_are_not_voided() {
    for ledger in TestLedger::each() {
        let file = ledger.write_file(
            "costs.csv",
            "date,description,amount,currency,tool,project\n2026-11-03,Midjourney Pro,30.00,USD,Midjourney,Spot\n",
        );
        let import = ledger.json(&["import", &file, "--client", "Acme", "--json"]);
        let batch = import["batch"].as_str().unwrap().to_string();
        create(&ledger, &["--client", "Acme", "--month", "2026-11"]);
        let run = ledger.run(&["import", "void", &batch, "--reason", "wrong file"]);
        assert_eq!(run.code, 2, "[{}] {}", ledger.backend, run.stderr);
        assert!(run.stderr.contains("INV-2026-0001"), "{}", run.stderr);
        assert_eq!(ledger.total(&["--client", "Acme"]), "30");
        verified(&ledger);
    }
}

#[test]
fn a_cost_settled_after_invoicing_is_recorded_and_carried_by_the_next_invoice() {
    for ledger in TestLedger::each() {
        let b = ledger.backend;
        let run_id = log(
            &ledger,
            &[
                "--cost",
                "0.40",
                "--client",
                "Acme",
                "--project",
                "Spot",
                "--at",
                "2026-11-03",
            ],
        );
        create(&ledger, &["--client", "Acme", "--month", "2026-11"]);
        // The provider's figure arrives later: recorded, not refused.
        {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                let store = ledger.open_store().await;
                let settled = RunSettled {
                    entry_id: run_id.parse().unwrap(),
                    status: None,
                    duration_ms: None,
                    billing: None,
                    micros: Some(550_000),
                    currency: Some(gencost::money::Currency::USD),
                };
                store
                    .execute(
                        Command::Settle(settled),
                        gencost::timestamp::Timestamp::now(),
                    )
                    .await
                    .expect("a settlement of a locked entry is recorded");
            });
        }
        assert_eq!(
            ledger.total(&["--client", "Acme"]),
            "0.55",
            "[{b}] totals follow the truth"
        );
        let later = log(
            &ledger,
            &["--cost", "1", "--client", "Acme", "--at", "2026-12-02"],
        );
        let next = create(&ledger, &["--client", "Acme", "--month", "2026-12"]);
        assert_eq!(next["number"], "INV-2026-0002");
        assert_eq!(
            (next["lines"].clone(), next["adjustments"].clone()),
            (json!(1), json!(1)),
            "[{b}] {next}"
        );
        assert_eq!(next["total"], "$1.15", "1.00 and the 0.15 adjustment");
        let csv = ledger.ok(&["invoice", "show", "INV-2026-0002", "--csv"]);
        assert!(
            csv.contains(&format!("adjustment of INV-2026-0001,{run_id}")),
            "{csv}"
        );
        assert!(csv.contains(&later));
        // Carried once: a third invoice has nothing more for it.
        let run = ledger.run(&[
            "invoice", "create", "--client", "Acme", "--month", "2026-12",
        ]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("nothing to invoice"), "{}", run.stderr);
        // While INV-2026-0002 carries its adjustment, the entry's first
        // invoice is neither voided nor credited for it.
        for args in [
            vec!["invoice", "void", "INV-2026-0001", "--reason", "x"],
            vec![
                "invoice",
                "credit",
                "INV-2026-0001",
                "--entries",
                run_id.as_str(),
                "--reason",
                "x",
            ],
        ] {
            let run = ledger.run(&args);
            assert_eq!(run.code, 2, "[{b}] {args:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("INV-2026-0002 carries an adjustment"),
                "{}",
                run.stderr
            );
        }
        // Voiding the invoice that carried it brings the adjustment back.
        ledger.ok(&["invoice", "void", "INV-2026-0002", "--reason", "redo"]);
        let again = create(&ledger, &["--client", "Acme", "--month", "2026-12"]);
        assert_eq!(
            (
                again["number"].clone(),
                again["adjustments"].clone(),
                again["total"].clone()
            ),
            (json!("INV-2026-0003"), json!(1), json!("$1.15"))
        );
        verified(&ledger);
    }
}

#[test]
fn the_document_is_offline_escaped_and_adds_up_with_its_csv() {
    for ledger in TestLedger::each() {
        let client = "<b>Ör&bro</b> \"Film\"";
        ledger.ok(&[
            "invoice",
            "settings",
            "--name",
            "Nordljus <Studio>",
            "--address",
            "Storgatan 1\\n702 10 Örebro",
            "--vat-id",
            "SE556677889901",
            "--footer",
            "Bankgiro 123-4567",
        ]);
        for (cost, project) in [
            ("0.333333", "Spot"),
            ("0.333333", "Spot"),
            ("0.333333", "=HYPERLINK(\"x\")"),
        ] {
            log(
                &ledger,
                &[
                    "--actual",
                    cost,
                    "--client",
                    client,
                    "--project",
                    project,
                    "--deliverable",
                    "Hero",
                    "--at",
                    "2026-11-03",
                ],
            );
        }
        let html_path = ledger.dir.path().join("invoice.html");
        let html_arg = html_path.display().to_string();
        ledger.ok(&[
            "invoice", "create", "--client", client, "--month", "2026-11", "--markup", "12.5",
            "-o", &html_arg,
        ]);
        let html = std::fs::read_to_string(&html_path).unwrap();
        assert!(html.contains("default-src 'none'"), "its own CSP");
        assert!(
            !html.contains("<b>") && html.contains("&#60;b&#62;Ör&#38;bro"),
            "names escaped"
        );
        assert!(
            html.contains("Nordljus &#60;Studio&#62;")
                && html.contains("SE556677889901")
                && html.contains("Bankgiro 123-4567")
        );
        for external in ["http://", "https://", "src=", "<link rel=\"stylesheet"] {
            assert!(!html.contains(external), "offline: {external}");
        }
        assert!(html.contains("@media print"), "a print stylesheet");
        // 3 × 0.333333 = 0.999999 → $1.00; the lines round to add up to it.
        // 12.5 % of 0.999999 is 0.124999…: the total 1.124999 rounds to $1.12.
        assert!(
            html.contains("$1.00") && html.contains("$1.12"),
            "subtotal and total with 12.5 %"
        );
        let shown = ledger.ok(&["invoice", "show", "INV-2026-0001", "--html"]);
        assert_eq!(shown, html, "printed again, the same document");
        assert!(
            !html.contains("gencost-checkpoint"),
            "no key, no checkpoint"
        );
        // With the user's key, the document carries a signed checkpoint
        // that `verify --checkpoint` checks.
        ledger.ok(&["key", "show"]);
        let signed_path = ledger.dir.path().join("signed.html");
        let signed_arg = signed_path.display().to_string();
        ledger.ok(&[
            "invoice",
            "show",
            "INV-2026-0001",
            "--html",
            "-o",
            &signed_arg,
        ]);
        let signed = std::fs::read_to_string(&signed_path).unwrap();
        assert!(
            signed.contains("id=\"gencost-checkpoint\"") && signed.contains("Signed checkpoint")
        );
        let checked = ledger.ok(&["verify", "--checkpoint", &signed_arg]);
        assert!(
            checked.contains("ok: the ledger is what the checkpoint"),
            "{checked}"
        );

        let csv = ledger.ok(&["invoice", "show", "INV-2026-0001", "--csv"]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 3);
        let cents = |text: &str| -> i64 { (text.parse::<f64>().unwrap() * 100.0).round() as i64 };
        let amounts: i64 = rows.iter().map(|r| cents(&r[at("amount")])).sum();
        let totals: i64 = rows.iter().map(|r| cents(&r[at("total")])).sum();
        assert_eq!(
            (amounts, totals),
            (100, 112),
            "the lines add up to the invoice"
        );
        assert!(
            rows.iter().all(|r| &r[at("cost")] == "0.333333"),
            "exact figures beside them"
        );
        assert!(
            rows.iter().any(|r| r[at("project")].starts_with("'=")),
            "formulas neutralised: {csv}"
        );
        verified(&ledger);
    }
}

#[test]
fn concurrent_creates_number_gaplessly_and_never_bill_twice() {
    for ledger in TestLedger::each() {
        let clients: Vec<String> = (0..8).map(|i| format!("Client {i}")).collect();
        for client in &clients {
            log(
                &ledger,
                &["--cost", "1", "--client", client, "--at", "2026-11-03"],
            );
            log(
                &ledger,
                &["--cost", "2", "--client", "Shared", "--at", "2026-11-04"],
            );
        }
        let runs: Vec<std::thread::JoinHandle<(i32, String)>> = clients
            .iter()
            .flat_map(|c| [c.clone(), "Shared".to_string()])
            .map(|client| {
                let (url, config, data) = (
                    ledger.url.clone(),
                    ledger.config_dir(),
                    ledger.dir.path().to_path_buf(),
                );
                std::thread::spawn(move || {
                    let run = common::run_with(
                        &url,
                        &config,
                        &data,
                        &[
                            "invoice", "create", "--client", &client, "--month", "2026-11",
                            "--json",
                        ],
                    );
                    (run.code, format!("{}{}", run.stdout, run.stderr))
                })
            })
            .collect();
        let results: Vec<(i32, String)> = runs.into_iter().map(|r| r.join().unwrap()).collect();
        let issued: Vec<Value> = results
            .iter()
            .filter(|(code, _)| *code == 0)
            .map(|(_, out)| serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}")))
            .collect();
        // Each client once; "Shared" by exactly one of its eight callers.
        assert_eq!(issued.len(), 9, "[{}] {results:?}", ledger.backend);
        let numbers: BTreeSet<String> = issued
            .iter()
            .map(|i| i["number"].as_str().unwrap().to_string())
            .collect();
        let expected: BTreeSet<String> = (1..=9).map(|n| format!("INV-2026-{n:04}")).collect();
        assert_eq!(numbers, expected, "[{}] unique and gapless", ledger.backend);
        let shared: Vec<&Value> = issued.iter().filter(|i| i["client"] == "Shared").collect();
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0]["lines"], 8);
        verified(&ledger);
    }
}

#[test]
fn verify_sees_an_invoice_lock_removed_by_hand() {
    for ledger in TestLedger::each() {
        let entry = log(
            &ledger,
            &["--cost", "1", "--client", "Acme", "--at", "2026-11-03"],
        );
        create(&ledger, &["--client", "Acme", "--month", "2026-11"]);
        verified(&ledger);
        let sql = format!("DELETE FROM invoice_locks WHERE entry_id = '{entry}'");
        if ledger.backend == "sqlite" {
            let conn = rusqlite::Connection::open(ledger.sqlite_path()).unwrap();
            conn.execute(&sql, []).unwrap();
        } else {
            common::exec_sql(&ledger.url, &sql);
        }
        let run = ledger.run(&["verify"]);
        assert_eq!(
            run.code, 1,
            "[{}] {}{}",
            ledger.backend, run.stdout, run.stderr
        );
        assert!(
            format!("{}{}", run.stdout, run.stderr).contains("invoice lock"),
            "{}{}",
            run.stdout,
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_creates_shows_and_refuses_locked_entries_with_409_locked() {
    for ledger in TestLedger::each() {
        let b = ledger.backend;
        let entry = log(
            &ledger,
            &[
                "--cost",
                "1",
                "--client",
                "Acme",
                "--project",
                "Spot",
                "--at",
                "2026-11-03",
            ],
        );
        let server = Server::start(&ledger, &[]);
        let client = http_client(true);
        let response = client
            .post(server.api("/invoices"))
            .json(&json!({"client": "acme", "month": "2026-11", "markup": "10"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "[{b}]");
        let created: Value = response.json().await.unwrap();
        assert_eq!(
            (created["number"].clone(), created["total"].clone()),
            (json!("INV-2026-0001"), json!("$1.10"))
        );

        let response = client
            .post(server.api(&format!("/entries/{entry}/void")))
            .json(&json!({"reason": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409, "[{b}]");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "locked", "{body}");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("INV-2026-0001"));
        let response = client
            .patch(server.api(&format!("/entries/{entry}/tags")))
            .json(&json!({"project": "Other"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409);

        let list: Value = client
            .get(server.api("/invoices"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["invoices"][0]["number"], "INV-2026-0001");
        let shown: Value = client
            .get(server.api("/invoices/INV-2026-0001"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(shown["entries"], json!([entry]));
        let html = client
            .get(server.api("/invoices/INV-2026-0001.html"))
            .send()
            .await
            .unwrap();
        assert_eq!(html.headers()["content-type"], "text/html; charset=utf-8");
        assert!(html.text().await.unwrap().contains("Invoice INV-2026-0001"));
        let csv = client
            .get(server.api("/invoices/INV-2026-0001.csv"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(csv.starts_with("invoice,line,entry_id"), "{csv}");
        let missing = client
            .get(server.api("/invoices/INV-2026-0404"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);

        let response = client
            .post(server.api("/invoices/INV-2026-0001/credit"))
            .json(&json!({"entries": [entry], "reason": "wrong project"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "[{b}]");
        let credit: Value = response.json().await.unwrap();
        assert_eq!(credit["number"], "CN-2026-0001");
        let response = client
            .patch(server.api(&format!("/entries/{entry}/tags")))
            .json(&json!({"project": "Other"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "released by the credit note");
        let response = client
            .post(server.api("/invoices/INV-2026-0001/void"))
            .json(&json!({"reason": "redo"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409, "a credited invoice is not voided");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("CN-2026-0001"),
            "{body}"
        );
        let response = client
            .post(server.api("/invoices"))
            .json(&json!({"client": "Acme"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "a period is needed");
        server.kill();
        verified(&ledger);
    }
}

/// The invoice document in headless Chromium with the network off: axe-core
/// finds nothing at 1100 px, and at 360 px nothing sticks out sideways.
#[tokio::test(flavor = "multi_thread")]
async fn the_invoice_document_is_accessible_and_fits_360_px() {
    use common::browser::{axe_violations, browser, emulate_viewport, session, Driver, Network};
    let Some((chromium, driver_path)) = browser() else {
        return;
    };
    let ledger = TestLedger::sqlite();
    ledger.ok(&[
        "invoice",
        "settings",
        "--name",
        "Nordljus Studio AB",
        "--address",
        "Storgatan 1\\n702 10 Örebro",
        "--vat-id",
        "SE556677889901",
        "--footer",
        "Bankgiro 123-4567",
    ]);
    for (cost, project) in [
        ("0.40", "Summer Spot"),
        ("1.20", "Winter Campaign with a long name"),
    ] {
        log(
            &ledger,
            &[
                "--cost",
                cost,
                "--client",
                "Örebro Film",
                "--project",
                project,
                "--deliverable",
                "Hero Film",
                "--at",
                "2026-11-03",
            ],
        );
    }
    log(
        &ledger,
        &[
            "--actual",
            "1.25",
            "--currency",
            "EUR",
            "--client",
            "Örebro Film",
            "--at",
            "2026-11-04",
        ],
    );
    let out = ledger.dir.path().join("invoice.html");
    ledger.ok(&[
        "invoice",
        "create",
        "--client",
        "Örebro Film",
        "--month",
        "2026-11",
        "--markup",
        "15",
        "--currency",
        "SEK",
        "-o",
        &out.display().to_string(),
    ]);
    let driver = Driver::start(&driver_path);
    let profile = tempfile::tempdir().unwrap();
    let client = session(
        &chromium,
        &driver,
        profile.path(),
        (1100, 1400),
        Network::Off,
    )
    .await;
    let page = url::Url::from_file_path(&out).unwrap();
    client.goto(page.as_str()).await.unwrap();
    let checked = {
        let client = client.clone();
        async move {
            if let Some(found) = axe_violations(&client).await {
                assert_eq!(found, json!([]), "axe-core on the invoice");
            }
            emulate_viewport(&client, (360, 800)).await;
            let fits = client
                .execute("return document.documentElement.scrollWidth <= document.documentElement.clientWidth", vec![])
                .await
                .unwrap();
            assert_eq!(fits, true, "the invoice scrolls sideways at 360 px");
        }
    };
    let outcome = tokio::spawn(checked).await;
    let _ = client.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}
