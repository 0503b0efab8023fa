//! Finding an entry, end to end on each backend: `show` by entry id or
//! request id with its events, `list --request-id` and `list --search`,
//! `void --undo` and its API route, and the completion scripts and manual
//! page made from the command-line definitions.

mod common;
use common::server::Server;
use common::TestLedger;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// `gencost log ARGS`: the new entry's id.
fn log(ledger: &TestLedger, args: &[&str]) -> String {
    let mut all = vec!["log"];
    all.extend_from_slice(args);
    ledger.ok(&all).trim().to_string()
}

fn ids(listed: &Value) -> Vec<String> {
    let mut ids: Vec<String> = listed
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {listed}"))
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    ids.sort();
    ids
}

fn kinds(shown: &Value) -> Vec<String> {
    shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

fn event_count(ledger: &TestLedger) -> i64 {
    ledger.json(&["db", "info", "--json"])["events"]
        .as_i64()
        .unwrap()
}

fn verified(ledger: &TestLedger) {
    let out = ledger.ok(&["verify"]);
    assert!(out.starts_with("ok"), "[{}] {out}", ledger.backend);
}

fn write(ledger: &TestLedger, name: &str, text: &str) -> String {
    let path = ledger.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn show_prints_one_entry_with_its_costs_and_events_by_id_or_request_id() {
    for ledger in TestLedger::each() {
        let id = log(
            &ledger,
            &[
                "--model",
                "fal-ai/flux/dev",
                "--cost",
                "0.05",
                "--request-id",
                "req-1",
                "--client",
                "Acme",
                "--at",
                "2026-03-02",
            ],
        );
        log(&ledger, &["--model", "fal-ai/flux/dev", "--cost", "1"]);
        ledger.ok(&["confirm", &id, "--actual", "0.031"]);
        ledger.ok(&["retag", &id, "--project", "Summer Spot"]);

        let shown = ledger.json(&["show", &id, "--json"]);
        let b = ledger.backend;
        assert_eq!(shown["id"], id.as_str(), "[{b}] {shown}");
        assert_eq!(shown["request_id"], "req-1");
        assert_eq!(shown["project"], "Summer Spot");
        assert_eq!(
            shown["estimate"],
            json!({"amount": "0.05", "currency": "USD", "tier": "estimated"})
        );
        assert_eq!(shown["actual"]["amount"], "0.031");
        assert_eq!(shown["cost"]["tier"], "billed");
        assert!(
            shown["basis"].as_str().unwrap().contains("$0.031"),
            "{shown}"
        );
        assert!(shown.get("rates").is_none(), "no rates in its own currency");
        assert_eq!(
            kinds(&shown),
            ["entry_logged", "actual_confirmed", "tags_changed"],
            "[{b}]"
        );
        let events = shown["events"].as_array().unwrap();
        let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, [1, 3, 4], "[{b}] in chain order");
        for event in events {
            assert_eq!(event["hash"].as_str().unwrap().len(), 64);
        }
        assert_eq!(events[0]["payload"]["id"], id.as_str());
        assert_eq!(events[1]["payload"]["micros"], 31_000);
        assert!(events[1]["summary"].as_str().unwrap().contains("$0.031"));
        // The same entry by its request id; as `list --json` shows it, plus
        // how it was arrived at and its events.
        assert_eq!(ledger.json(&["show", "req-1", "--json"]), shown);
        let listed = ledger.json(&["list", "--json", "--request-id", "req-1"]);
        let mut as_listed = shown.clone();
        as_listed.as_object_mut().unwrap().remove("basis");
        as_listed.as_object_mut().unwrap().remove("events");
        assert_eq!(listed[0], as_listed);

        // In another currency, with the rate used.
        let eur = ledger.json(&["show", &id, "--currency", "EUR", "--json"]);
        assert_eq!(eur["cost"]["currency"], "EUR");
        assert_eq!(eur["rates"][0]["from"], "USD");
        assert_eq!(eur["rates"][0]["to"], "EUR");
        assert!(eur["rates"][0]["date"].as_str().unwrap() <= "2026-03-02");
        assert_eq!(
            eur["basis"], shown["basis"],
            "the basis in its own currency"
        );

        let text = ledger.ok(&["show", "req-1", "--utc"]);
        for part in [
            id.as_str(),
            "Estimate",
            "$0.05 (estimated)",
            "$0.031",
            "Summer Spot",
            "entry_logged",
            "actual_confirmed",
            "tags_changed",
        ] {
            assert!(text.contains(part), "[{b}] {part} missing:\n{text}");
        }
        let text = ledger.ok(&["show", &id, "--currency", "EUR", "--utc"]);
        assert!(text.contains("1 USD = "), "{text}");

        let missing = ledger.run(&["show", "no-such-request"]);
        assert_eq!(missing.code, 2);
        assert!(missing.stderr.contains("no entry"), "{}", missing.stderr);
    }
}

#[test]
fn a_request_id_logged_by_two_sources_lists_both_and_asks_for_the_source() {
    for ledger in TestLedger::each() {
        let fal = log(
            &ledger,
            &["--model", "m", "--cost", "1", "--request-id", "req-7"],
        );
        let other = log(
            &ledger,
            &[
                "--model",
                "m",
                "--cost",
                "2",
                "--request-id",
                "req-7",
                "--source",
                "Replicate",
            ],
        );
        let run = ledger.run(&["show", "req-7"]);
        assert_eq!(run.code, 2, "[{}] {}", ledger.backend, run.stderr);
        assert!(run.stderr.contains("--source"), "{}", run.stderr);
        for part in [fal.as_str(), other.as_str(), "fal.ai", "Replicate"] {
            assert!(run.stdout.contains(part), "{part}: {}", run.stdout);
        }
        let run = ledger.run(&["show", "req-7", "--json"]);
        assert_eq!(run.code, 2);
        let listed: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(ids(&listed["entries"]), sorted(&[&fal, &other]));
        assert!(run.stderr.contains("--source"), "{}", run.stderr);

        let chosen = ledger.json(&["show", "req-7", "--source", "replicate", "--json"]);
        assert_eq!(chosen["id"], other.as_str());
        assert_eq!(chosen["source"], "Replicate");
        // An entry id names one entry whatever shares its request id.
        assert_eq!(ledger.json(&["show", &fal, "--json"])["source"], "fal.ai");
    }
}

#[test]
fn show_finds_the_event_that_logged_an_entry_among_import_events() {
    for ledger in TestLedger::each() {
        let before = log(&ledger, &["--model", "m", "--cost", "1"]);
        let mut csv = String::from("date,description,amount,currency,tool,client\n");
        for n in 0..2_500 {
            csv.push_str(&format!("2026-11-03,render {n},0.10,USD,Midjourney,Acme\n"));
        }
        let file = write(&ledger, "renders.csv", &csv);
        assert_eq!(ledger.json(&["import", &file, "--json"])["added"], 2_500);
        // Its event's seq (6) is a position the imported rows took.
        let after = log(&ledger, &["--model", "m", "--cost", "2"]);
        let imported = common::query_text(
            &ledger.url,
            "SELECT id FROM entries WHERE batch_id IS NOT NULL ORDER BY position",
        );
        let b = ledger.backend;

        let shown = ledger.json(&["show", &after, "--json"]);
        assert_eq!(kinds(&shown), ["entry_logged"], "[{b}]");
        assert_eq!(shown["events"][0]["seq"], 6);
        assert_eq!(shown["events"][0]["payload"]["id"], after.as_str());
        let shown = ledger.json(&["show", &before, "--json"]);
        assert_eq!(shown["events"][0]["seq"], 1);

        // Rows of the first, second and last import events.
        for (row, seq) in [(0, 2), (999, 2), (1_000, 3), (1_700, 3), (2_499, 4)] {
            let id = &imported[row][0];
            let shown = ledger.json(&["show", id, "--json"]);
            assert_eq!(
                kinds(&shown),
                ["entries_imported", "import_recorded"],
                "[{b}] row {row}"
            );
            let event = &shown["events"][0];
            assert_eq!(event["seq"], seq, "[{b}] row {row}");
            assert_eq!(event["payload"]["row"]["id"], id.as_str());
            assert_eq!(
                event["payload"]["row"]["description"],
                format!("render {row}")
            );
            assert_eq!(event["payload"]["batch"], shown["batch"]);
        }
        let row = &imported[1_700][0];
        ledger.ok(&["void", row, "--reason", "twice"]);
        let shown = ledger.json(&["show", row, "--json"]);
        assert_eq!(
            kinds(&shown),
            ["entries_imported", "import_recorded", "entry_voided"],
            "[{b}]"
        );
        // Voided with its whole import: the batch's event says so.
        let other = &imported[10][0];
        let batch = ledger.json(&["show", other, "--json"])["batch"]
            .as_str()
            .unwrap()
            .to_string();
        ledger.ok(&["import", "void", &batch, "--reason", "wrong file"]);
        let shown = ledger.json(&["show", other, "--json"]);
        assert_eq!(
            kinds(&shown),
            [
                "entries_imported",
                "import_recorded",
                "entry_voided",
                "batch_voided"
            ],
            "[{b}]"
        );
        verified(&ledger);
    }
}

#[test]
fn list_search_folds_case_both_ways_and_takes_wildcards_as_text() {
    for ledger in TestLedger::each() {
        let d = |text: &str| log(&ledger, &["--model", "m", "--description", text]);
        let teaser = d("Örebro Film teaser");
        let recut = d("ÖREBRO FILM recut");
        let decomposed = d("O\u{308}rebro film, decomposed");
        d("Orebro without the dots");
        let sale = d("50%_off banner");
        d("500 off");
        let underscore = d("50x_off");
        d("50%%off");
        let by_model = log(&ledger, &["--model", "studio/örebro-look"]);

        let search = |text: &str| ids(&ledger.json(&["list", "--json", "--search", text]));
        let orebro = sorted(&[&teaser, &recut, &decomposed, &by_model]);
        let b = ledger.backend;
        assert_eq!(search("örebro"), orebro, "[{b}]");
        assert_eq!(search("ÖREBRO"), orebro, "[{b}]");
        assert_eq!(
            search("Örebro Film"),
            sorted(&[&teaser, &recut, &decomposed])
        );
        assert_eq!(
            search("50%_off"),
            sorted(&[&sale]),
            "[{b}] % and _ are text"
        );
        assert_eq!(search("_off"), sorted(&[&sale, &underscore]), "[{b}]");
        assert_eq!(search("STUDIO/"), sorted(&[&by_model]), "the model");
        assert!(search("nothing like it").is_empty());

        // With the other filters, and void entries only when asked.
        ledger.ok(&["void", &recut, "--reason", "duplicate"]);
        assert_eq!(
            search("örebro film"),
            sorted(&[&teaser, &decomposed]),
            "[{b}]"
        );
        let with_void = ledger.json(&["list", "--json", "--include-void", "--search", "FILM"]);
        assert_eq!(ids(&with_void), sorted(&[&teaser, &recut, &decomposed]));
        let text = ledger.ok(&["list", "--search", "örebro", "--model", "m"]);
        assert!(
            text.contains(&teaser) && !text.contains(&by_model),
            "{text}"
        );

        let blank = ledger.run(&["list", "--search", "  "]);
        assert_eq!(blank.code, 2, "{}", blank.stderr);
    }
}

#[test]
fn a_search_fills_each_page_across_entries_that_do_not_match() {
    for ledger in TestLedger::each() {
        let older = log(
            &ledger,
            &[
                "--model",
                "m",
                "--description",
                "Needle one",
                "--at",
                "2026-11-01",
            ],
        );
        let mut csv = String::from("date,description,amount,currency,tool\n");
        for n in 0..2_500 {
            csv.push_str(&format!("2026-11-03,render {n},0.10,USD,Midjourney\n"));
        }
        let file = write(&ledger, "renders.csv", &csv);
        ledger.ok(&["import", &file]);
        let newer = log(
            &ledger,
            &[
                "--model",
                "m",
                "--description",
                "needle two",
                "--at",
                "2026-11-05",
            ],
        );

        let all = ledger.json(&["list", "--json", "--search", "NEEDLE", "--limit", "5"]);
        assert_eq!(ids(&all), sorted(&[&older, &newer]), "[{}]", ledger.backend);
        let first = ledger.run(&["list", "--json", "--search", "needle", "--limit", "1"]);
        assert_eq!(first.code, 0, "{}", first.stderr);
        let page: Value = serde_json::from_str(&first.stdout).unwrap();
        assert_eq!(page[0]["id"], newer.as_str());
        let cursor = first
            .stderr
            .split("--after ")
            .nth(1)
            .unwrap_or_else(|| panic!("no cursor: {}", first.stderr))
            .trim()
            .to_string();
        let next = ledger.run(&[
            "list", "--json", "--search", "needle", "--limit", "1", "--after", &cursor,
        ]);
        let page: Value = serde_json::from_str(&next.stdout).unwrap();
        assert_eq!(ids(&page), sorted(&[&older]), "[{}]", ledger.backend);
        assert!(
            !next.stderr.contains("more entries"),
            "the last match ends the listing: {}",
            next.stderr
        );
        let rows = ledger.json(&["list", "--json", "--search", "render 24", "--limit", "1000"]);
        // render 24, render 240..249 and render 2400..2499.
        assert_eq!(rows.as_array().unwrap().len(), 111);
    }
}

#[test]
fn list_by_request_id_finds_every_source_that_logged_it() {
    for ledger in TestLedger::each() {
        let fal = log(
            &ledger,
            &["--model", "m", "--request-id", "req-7", "--client", "Acme"],
        );
        let other = log(
            &ledger,
            &[
                "--model",
                "m",
                "--request-id",
                "req-7",
                "--source",
                "Runway",
            ],
        );
        log(&ledger, &["--model", "m", "--request-id", "req-8"]);
        log(&ledger, &["--model", "m"]);
        let list = |args: &[&str]| {
            let mut all = vec!["list", "--json"];
            all.extend_from_slice(args);
            ids(&ledger.json(&all))
        };
        assert_eq!(
            list(&["--request-id", "req-7"]),
            sorted(&[&fal, &other]),
            "[{}]",
            ledger.backend
        );
        assert_eq!(list(&["--request-id", " req-7 "]), sorted(&[&fal, &other]));
        assert_eq!(
            list(&["--request-id", "req-7", "--client", "acme"]),
            sorted(&[&fal])
        );
        assert!(
            list(&["--request-id", "REQ-7"]).is_empty(),
            "exact, as logged"
        );
        assert!(list(&["--request-id", "req"]).is_empty());
    }
}

#[test]
fn void_undo_restores_the_totals_and_verify_replays_it() {
    for ledger in TestLedger::each() {
        let id = log(
            &ledger,
            &[
                "--model",
                "m",
                "--cost",
                "2.5",
                "--client",
                "Acme",
                "--at",
                "2026-03-02",
            ],
        );
        log(
            &ledger,
            &[
                "--model",
                "m",
                "--cost",
                "1",
                "--client",
                "Beta",
                "--at",
                "2026-03-03",
            ],
        );
        let totals = |ledger: &TestLedger| {
            [
                ledger.json(&["total", "--json"]),
                ledger.json(&["total", "--json", "--by", "client"]),
                ledger.json(&["total", "--json", "--client", "acme", "--by", "month"]),
                ledger.json(&["total", "--json", "--model", "m"]),
            ]
        };
        let before = totals(&ledger);
        assert_eq!(before[0]["total"], "3.5");
        ledger.ok(&["void", &id, "--reason", "test render"]);
        assert_eq!(ledger.json(&["total", "--json"])["total"], "1");

        let undone = ledger.json(&["void", "--undo", &id, "--reason", "was billed", "--json"]);
        assert_eq!(
            undone,
            json!({"id": id, "void": false, "reason": "was billed"})
        );
        assert_eq!(totals(&ledger), before, "[{}]", ledger.backend);
        let listed = ledger.json(&["list", "--json", "--include-void"]);
        assert!(listed
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["void"] == false));
        let shown = ledger.json(&["show", &id, "--json"]);
        assert_eq!(
            kinds(&shown),
            ["entry_logged", "entry_voided", "entry_restored"]
        );
        assert_eq!(shown["events"][2]["payload"]["reason"], "was billed");
        assert_eq!(shown["void"], false);
        verified(&ledger);

        // Voided again and restored again: each step is its own event.
        ledger.ok(&["void", &id, "--reason", "again"]);
        let text = ledger.ok(&["void", &id, "--undo", "--reason", "really billed"]);
        assert!(text.contains("restored"), "{text}");
        assert_eq!(totals(&ledger), before);
        assert_eq!(event_count(&ledger), 6);
        verified(&ledger);
    }
}

#[test]
fn undo_is_refused_where_the_entry_cannot_count_again_alone() {
    for ledger in TestLedger::each() {
        let live = log(
            &ledger,
            &[
                "--model",
                "m",
                "--cost",
                "3",
                "--project",
                "Spot",
                "--at",
                "2026-11-05",
            ],
        );
        ledger.ok(&[
            "pool",
            "add",
            "--amount",
            "30",
            "--description",
            "Midjourney Pro",
            "--period",
            "2026-11",
            "--project",
            "Spot",
        ]);
        let share = ledger.json(&["list", "--json", "--kind", "pool"])[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        ledger.ok(&["void", &share, "--reason", "by mistake"]);
        let events = event_count(&ledger);
        let total = ledger.json(&["total", "--json"])["total"].clone();

        let refused = |args: &[&str], says: &str| {
            let mut all = vec!["void", "--undo"];
            all.extend_from_slice(args);
            let run = ledger.run(&all);
            assert_eq!(run.code, 2, "[{}] {args:?}: {}", ledger.backend, run.stderr);
            assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        };
        refused(&[&share, "--reason", "x"], "share of a pool");
        refused(&[&live, "--reason", "x"], "is not void");
        refused(&[&live, "--reason", "  "], "reason");
        refused(
            &["01a24e80-566b-70c5-8137-da4a42b59391", "--reason", "x"],
            "no entry",
        );
        assert_eq!(event_count(&ledger), events, "nothing written");
        assert_eq!(ledger.json(&["total", "--json"])["total"], total);

        // An imported row voided, then imported again, counts already.
        let file = write(
            &ledger,
            "costs.csv",
            "date,description,amount,currency,tool\n\
             2026-11-03,Voice-over,12.50,USD,ElevenLabs\n\
             2026-11-04,Music,4.00,USD,Suno\n",
        );
        ledger.ok(&["import", &file]);
        let row = ledger.json(&["list", "--json", "--search", "voice-over"])[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        ledger.ok(&["void", &row, "--reason", "wrong file"]);
        assert_eq!(ledger.json(&["import", &file, "--json"])["added"], 1);
        refused(&[&row, "--reason", "x"], "counts already");
        // An entry of a void import is restored only with its import.
        let batches = ledger.json(&["import", "list", "--json"]);
        let first = batches[0]["id"].as_str().unwrap().to_string();
        ledger.ok(&["import", "void", &first, "--reason", "wrong file"]);
        let music = common::query_text(
            &ledger.url,
            &format!("SELECT id FROM entries WHERE batch_id = '{first}' AND description = 'Music'"),
        );
        refused(&[&music[0][0], "--reason", "x"], "void as a whole");
        verified(&ledger);
    }
}

async fn post(url: &str, body: Value) -> (StatusCode, Value) {
    let response = common::server::http_client(true)
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(url: &str) -> (StatusCode, Value) {
    let response = common::server::http_client(true)
        .get(url)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_searches_lists_by_request_id_shows_history_and_restores() {
    for ledger in TestLedger::each() {
        let server = Server::start(&ledger, &[]);
        let b = ledger.backend;
        let (status, entry) = post(
            &server.api("/entries"),
            json!({"model": "m", "cost": {"amount": "2", "currency": "USD"},
                   "description": "Örebro Film teaser", "request_id": "req-1"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "[{b}] {entry}");
        let id = entry["id"].as_str().unwrap().to_string();
        post(
            &server.api("/entries"),
            json!({"model": "m", "description": "50x_off", "request_id": "req-2"}),
        )
        .await;

        let (status, page) = get(&server.api("/entries?search=%C3%96REBRO%20FILM")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(ids(&page["entries"]), sorted(&[&id]), "[{b}]");
        let (_, page) = get(&server.api("/entries?search=50%25_off")).await;
        assert!(page["entries"].as_array().unwrap().is_empty(), "{page}");
        let (_, page) = get(&server.api("/entries?request_id=req-1")).await;
        assert_eq!(ids(&page["entries"]), sorted(&[&id]));

        let (status, voided) = post(
            &server.api(&format!("/entries/{id}/void")),
            json!({"reason": "test"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{voided}");
        let (status, restored) = post(
            &server.api(&format!("/entries/{id}/restore")),
            json!({"reason": "was billed"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "[{b}] {restored}");
        assert_eq!(restored["void"], false);
        assert_eq!(restored["cost"]["amount"], "2");
        let (_, totals) = get(&server.api("/totals")).await;
        assert_eq!(totals["total"], "2", "[{b}] {totals}");

        let (status, again) = post(
            &server.api(&format!("/entries/{id}/restore")),
            json!({"reason": "again"}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        assert_eq!(again["error"]["code"], "conflict");
        let (status, _) = post(&server.api(&format!("/entries/{id}/restore")), json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, blank) = post(
            &server.api(&format!("/entries/{id}/restore")),
            json!({"reason": " "}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{blank}");
        let (status, _) = post(
            &server.api("/entries/01a24e80-566b-70c5-8137-da4a42b59391/restore"),
            json!({"reason": "x"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, shown) = get(&server.api(&format!("/entries/{id}/history"))).await;
        assert_eq!(status, StatusCode::OK, "{shown}");
        assert_eq!(
            kinds(&shown),
            ["entry_logged", "entry_voided", "entry_restored"]
        );
        assert_eq!(shown, ledger.json(&["show", &id, "--json"]), "[{b}]");
        let (_, by_request) = get(&server.api("/entries/req-1/history")).await;
        assert_eq!(by_request["id"], id.as_str());

        let (_, doc) = get(&server.api("/openapi.json")).await;
        for path in [
            "/api/v1/entries/{id}",
            "/api/v1/entries/{id}/restore",
            "/api/v1/entries/{id}/history",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} not documented");
        }
        let params = doc["paths"]["/api/v1/entries"]["get"]["parameters"].to_string();
        assert!(params.contains("search") && params.contains("request_id"));
        verified(&ledger);
    }
}

#[test]
fn completions_and_the_manual_page_come_from_the_command_line() {
    let ledger = TestLedger::sqlite();
    let bash = ledger.ok(&["completions", "bash"]);
    assert!(
        bash.contains("_gencost()") && bash.contains("complete -F"),
        "{bash}"
    );
    for command in ["show", "list", "void", "--search", "--request-id", "--undo"] {
        assert!(
            bash.contains(command),
            "{command} missing from the bash script"
        );
    }
    for (shell, says) in [
        ("zsh", "#compdef gencost"),
        ("fish", "complete -c gencost"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = ledger.ok(&["completions", shell]);
        assert!(script.contains(says), "{shell}: {script}");
    }
    assert_eq!(ledger.run(&["completions", "tcsh"]).code, 2);

    let page = ledger.ok(&["man"]);
    assert!(page.contains(".TH gencost 1"), "{page}");
    assert!(page.contains("show") && page.contains("completions"));
    let list = ledger.ok(&["man", "list"]);
    assert!(list.contains(".TH gencost-list 1"), "{list}");
    assert!(list.contains("search"));
    assert_eq!(ledger.run(&["man", "nonsense"]).code, 2);
    assert!(!ledger.sqlite_path().exists(), "neither opens the ledger");
}
