//! `pricing reprice` through the real binary and the API, on both backends:
//! open estimates follow a price change from the day it is in force; runs
//! before it, confirmed, invoiced, voided entries and costs typed by hand
//! keep theirs; each change is an event `show` lists, and totals follow.

mod common;
use common::server::{http_client, Server};
use common::TestLedger;
use serde_json::{json, Value};

/// FLUX.1 [dev] at $0.03 per megapixel from 2026-11-10 on (the catalog
/// says $0.025).
const NEW_PRICE: &str = r#"
[[model]]
endpoint = "fal-ai/flux/dev"
name = "FLUX.1 [dev]"
currency = "USD"
verified = "2026-11-09"
from = "2026-11-10"
source = "https://fal.ai/models/fal-ai/flux/dev"
license = { status = "commercial", name = "FLUX.1 [dev] on fal" }
defaults = { image_size = "landscape_4_3", num_images = 1 }
formula = { type = "per_megapixel", price = "0.03" }
"#;

fn log(ledger: &TestLedger, args: &[&str]) -> String {
    let mut all = vec!["log", "--model", "fal-ai/flux/dev"];
    all.extend_from_slice(args);
    ledger.ok(&all).trim().to_string()
}

#[test]
fn open_estimates_follow_a_price_from_its_day_and_nothing_else_moves() {
    for ledger in TestLedger::each() {
        let b = ledger.backend;
        let before_change = log(&ledger, &["--client", "Acme", "--at", "2026-11-05"]);
        let open = log(
            &ledger,
            &[
                "--client",
                "Acme",
                "--param",
                "num_images=2",
                "--at",
                "2026-11-12",
            ],
        );
        let confirmed = log(
            &ledger,
            &["--client", "Acme", "--actual", "0.02", "--at", "2026-11-12"],
        );
        let typed = log(
            &ledger,
            &["--client", "Acme", "--cost", "0.07", "--at", "2026-11-12"],
        );
        let voided = log(&ledger, &["--client", "Acme", "--at", "2026-11-13"]);
        ledger.ok(&["void", &voided, "--reason", "test run"]);
        let invoiced = log(&ledger, &["--client", "Bcorp", "--at", "2026-11-14"]);
        ledger.ok(&[
            "invoice", "create", "--client", "Bcorp", "--month", "2026-11",
        ]);
        let total_before = ledger.total(&["--client", "Acme"]);

        let pricing = ledger.write_file("pricing.toml", NEW_PRICE);
        let with_file = |args: &[&str]| {
            let mut all = vec!["--pricing", pricing.as_str()];
            all.extend_from_slice(args);
            all.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        };
        let dry = ledger.json(
            &with_file(&["pricing", "reprice", "--dry-run", "--json"])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        assert_eq!(
            dry["entries"], 1,
            "[{b}] only the open estimate from 10 November on: {dry}"
        );
        assert_eq!(dry["models"][0]["model"], "fal-ai/flux/dev");
        assert_eq!(
            dry["models"][0]["sums"]["USD"],
            json!([50_000, 60_000]),
            "{dry}"
        );
        assert_eq!(
            ledger.total(&["--client", "Acme"]),
            total_before,
            "a dry run changes nothing"
        );

        let text = ledger.ok(&with_file(&["pricing", "reprice"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>());
        assert!(
            text.contains("1 open estimates changed") && text.contains("$0.05 → $0.06"),
            "[{b}] {text}"
        );
        let shown = ledger.json(&["show", &open, "--json"]);
        assert_eq!(shown["estimate"]["amount"], "0.06", "[{b}] {shown}");
        let history = shown["events"].to_string();
        assert!(
            history.contains("estimate repriced") && history.contains("in force from 2026-11-10"),
            "{history}"
        );
        for (id, amount) in [
            (&before_change, "0.025"),
            (&typed, "0.07"),
            (&voided, "0.025"),
            (&invoiced, "0.025"),
        ] {
            let entry = ledger.json(&["show", id, "--json"]);
            assert_eq!(
                entry["estimate"]["amount"], amount,
                "[{b}] {id} keeps its estimate: {entry}"
            );
        }
        let entry = ledger.json(&["show", &confirmed, "--json"]);
        assert_eq!(entry["actual"]["amount"], "0.02");
        assert_ne!(
            ledger.total(&["--client", "Acme"]),
            total_before,
            "totals follow"
        );
        // Again: nothing left to change.
        let again = ledger.json(
            &with_file(&["pricing", "reprice", "--json"])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        assert_eq!(again["entries"], 0, "{again}");
        // An unknown model is named.
        let run = ledger.run(&["pricing", "reprice", "--model", "x/none"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("x/none is not in the pricing catalog"),
            "{}",
            run.stderr
        );
        let verified = ledger.ok(&["verify"]);
        assert!(verified.starts_with("ok"), "[{b}] {verified}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_reprices_with_the_server_s_catalog() {
    for ledger in TestLedger::each() {
        let id = log(&ledger, &["--client", "Acme", "--at", "2026-11-12"]);
        let pricing = ledger.write_file("pricing.toml", NEW_PRICE);
        let server = Server::start(&ledger, &["--pricing", &pricing]);
        let client = http_client(true);
        let dry: Value = client
            .post(server.api("/pricing/reprice"))
            .json(&json!({"dry_run": true, "since": "2026-11-01"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(dry["entries"], 1, "[{}] {dry}", ledger.backend);
        let done = client
            .post(server.api("/pricing/reprice"))
            .json(&json!({"model": "fal-ai/flux/dev"}))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        let entry: Value = client
            .get(server.api(&format!("/entries/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(entry["estimate"]["amount"], "0.03", "{entry}");
        let bad = client
            .post(server.api("/pricing/reprice"))
            .json(&json!({"model": "x/none"}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        server.kill();
    }
}

/// A model the catalog does not know, billed in units fal reported while
/// no price was known: once the studio's file prices it, reprice confirms
/// the runs from its `from` day on at units × price; earlier runs and
/// confirmed costs are left alone.
#[test]
fn billed_units_without_a_price_are_priced_from_the_day_a_price_is_in_force() {
    for ledger in TestLedger::each() {
        let b = ledger.backend;
        let model = "acme-ai/custom-video";
        let log_run = |at: &str| {
            ledger
                .ok(&["log", "--model", model, "--client", "Acme", "--at", at])
                .trim()
                .to_string()
        };
        let (early, late, confirmed) = (
            log_run("2026-11-02"),
            log_run("2026-11-20"),
            log_run("2026-11-21"),
        );
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let store = ledger.open_store().await;
            for id in [&early, &late, &confirmed] {
                let settled = gencost::ledger::RunSettled {
                    entry_id: id.parse().unwrap(),
                    status: Some(gencost::ledger::Status::Succeeded),
                    duration_ms: None,
                    billing: Some(gencost::ledger::Billing {
                        units: "5".into(),
                        endpoint: model.into(),
                        unit_price: None,
                        unit: None,
                        price_date: None,
                        price_from: None,
                        rounded: None,
                        usage: None,
                    }),
                    micros: None,
                    currency: None,
                };
                gencost::store::Store::execute(
                    &store,
                    gencost::ledger::Command::Settle(settled),
                    gencost::timestamp::Timestamp::now(),
                )
                .await
                .unwrap();
            }
        });
        ledger.ok(&["confirm", "--actual", "1.00", &confirmed]);
        let pricing = ledger.write_file(
            "pricing.toml",
            format!(
                r#"
[[model]]
endpoint = "{model}"
name = "Custom video"
currency = "USD"
verified = "2026-11-10"
from = "2026-11-10"
source = "https://example.com/contract"
license = {{ status = "commercial", name = "contract" }}
formula = {{ type = "per_second", price = "0.07" }}
"#
            ),
        );
        let report = ledger.json(&["--pricing", &pricing, "pricing", "reprice", "--json"]);
        assert_eq!(
            report["models"][0]["billed_units_priced"], 1,
            "[{b}] {report}"
        );
        let priced = ledger.json(&["show", &late, "--json"]);
        assert_eq!(
            priced["actual"]["amount"], "0.35",
            "[{b}] 5 × 0.07: {priced}"
        );
        assert!(
            priced["basis"].as_str().unwrap().contains("0.07"),
            "{priced}"
        );
        let early_shown = ledger.json(&["show", &early, "--json"]);
        assert!(
            early_shown["actual"].is_null(),
            "before the price's day: {early_shown}"
        );
        let confirmed_shown = ledger.json(&["show", &confirmed, "--json"]);
        assert_eq!(
            confirmed_shown["actual"]["amount"], "1",
            "a confirmed cost stays"
        );
        let verified = ledger.ok(&["verify"]);
        assert!(verified.starts_with("ok"), "[{b}] {verified}");
    }
}
