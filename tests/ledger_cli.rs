//! End-to-end: the real `gencost` binary logging, confirming, listing,
//! totalling, tagging and voiding, on every backend.

mod common;
use common::TestLedger;
use serde_json::Value;

#[test]
fn log_then_list_shows_the_entry_in_the_stable_json_shape() {
    for ledger in TestLedger::each() {
        let id = ledger.ok(&[
            "log",
            "--model",
            "fal-ai/flux/dev",
            "--cost",
            "0.025",
            "--client",
            "  Acme   Corp ",
            "--project",
            "Spot A",
            "--deliverable",
            "Hero 16x9",
            "--duration",
            "3.2s",
            "--param",
            "num_images=2",
            "--param",
            "image_size=landscape_16_9",
            "--request-id",
            "req-1",
            "--at",
            "2026-03-01T15:30:00+01:00",
        ]);
        let id = id.trim();
        let list = ledger.entries(&[]);
        assert_eq!(list.len(), 1, "[{}]", ledger.backend);
        let e = &list[0];
        assert_eq!(e["id"], id);
        assert_eq!(e["kind"], "generation");
        assert_eq!(e["occurred_at"], "2026-03-01T14:30:00Z");
        assert_eq!(e["source"], "fal.ai");
        assert_eq!(e["model"], "fal-ai/flux/dev");
        assert_eq!(
            e["client"], "Acme Corp",
            "tags are trimmed and whitespace-collapsed"
        );
        assert_eq!(e["project"], "Spot A");
        assert_eq!(e["deliverable"], "Hero 16x9");
        assert_eq!(e["request_id"], "req-1");
        assert_eq!(e["status"], "succeeded");
        assert_eq!(e["duration_ms"], 3200);
        assert_eq!(
            e["params"],
            serde_json::json!({"num_images": 2, "image_size": "landscape_16_9"})
        );
        assert_eq!(
            e["estimate"],
            serde_json::json!({"amount": "0.025", "currency": "USD", "tier": "estimated"})
        );
        assert_eq!(e["actual"], Value::Null);
        assert_eq!(
            e["cost"],
            serde_json::json!({"amount": "0.025", "currency": "USD", "tier": "estimated"})
        );
        assert_eq!(e["void"], false);
    }
}

#[test]
fn without_a_cost_an_entry_is_unpriced_and_never_summed_as_zero() {
    for ledger in TestLedger::each() {
        ledger.ok(&["log", "--model", "acme/unlisted-model", "--project", "P"]);
        ledger.ok(&[
            "log",
            "--model",
            "fal-ai/flux/dev",
            "--cost",
            "0.5",
            "--project",
            "P",
        ]);
        let e = &ledger.entries(&["--model", "acme/unlisted-model"])[0];
        assert_eq!(e["estimate"]["tier"], "unpriced");
        assert_eq!(e["cost"]["amount"], Value::Null);
        let total = ledger.json(&["total", "--json"]);
        assert_eq!(total["total"], "0.5");
        assert_eq!(total["count"], 2);
        assert_eq!(total["unpriced_count"], 1);
        let human = ledger.ok(&["list"]);
        assert!(human.contains("No price"), "{human}");
    }
}

#[test]
fn a_second_log_with_the_same_request_id_adds_nothing() {
    for ledger in TestLedger::each() {
        let first = ledger.ok(&["log", "--model", "m", "--cost", "1", "--request-id", "abc"]);
        let again = ledger.run(&["log", "--model", "m", "--cost", "1", "--request-id", "abc"]);
        assert_eq!(again.code, 0);
        assert_eq!(again.stdout, first, "the retry returns the existing entry");
        assert!(again.stderr.contains("already logged"), "{}", again.stderr);
        // Another source may use the same request id.
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "1",
            "--request-id",
            "abc",
            "--source",
            "Runway",
        ]);
        assert_eq!(ledger.entries(&[]).len(), 2, "[{}]", ledger.backend);
    }
}

#[test]
fn confirm_records_the_actual_and_keeps_the_estimate() {
    for ledger in TestLedger::each() {
        let id = ledger.ok(&[
            "log",
            "--model",
            "fal-ai/kling",
            "--cost",
            "1.40",
            "--request-id",
            "r-9",
        ]);
        let id = id.trim();
        ledger.ok(&["confirm", "r-9", "--actual", "1.68"]);
        let e = &ledger.entries(&[])[0];
        assert_eq!(e["estimate"]["amount"], "1.4");
        assert_eq!(e["estimate"]["tier"], "estimated");
        assert_eq!(e["actual"]["amount"], "1.68");
        assert_eq!(
            e["cost"],
            serde_json::json!({"amount": "1.68", "currency": "USD", "tier": "billed"})
        );
        // By entry id too; a correction names what it replaces.
        let out = ledger.ok(&["confirm", id, "--actual", "1.70"]);
        assert!(out.contains("replaces"), "{out}");
        assert_eq!(ledger.json(&["total", "--json"])["total"], "1.7");
        let missing = ledger.run(&["confirm", "nope", "--actual", "1"]);
        assert_ne!(missing.code, 0);
        assert!(missing.stderr.contains("no entry"), "{}", missing.stderr);
    }
}

#[test]
fn totals_group_by_each_dimension() {
    for ledger in TestLedger::each() {
        for (client, project, model, cost, at) in [
            (
                "Acme",
                "Spot A",
                "fal-ai/flux/dev",
                "0.025",
                "2026-01-31T23:00:00Z",
            ),
            (
                "Acme",
                "Spot A",
                "fal-ai/veo3",
                "3.20",
                "2026-02-01T01:00:00Z",
            ),
            (
                "Beta",
                "Launch",
                "fal-ai/veo3",
                "1.000001",
                "2026-02-01T02:00:00Z",
            ),
        ] {
            ledger.ok(&[
                "log",
                "--model",
                model,
                "--cost",
                cost,
                "--client",
                client,
                "--project",
                project,
                "--at",
                at,
            ]);
        }
        let by_project = ledger.json(&["total", "--by", "project", "--json"]);
        assert_eq!(by_project["currency"], "USD");
        assert_eq!(by_project["total"], "4.225001");
        assert_eq!(by_project["count"], 3);
        assert_eq!(
            by_project["groups"],
            serde_json::json!([
                {"key": "Spot A", "total": "3.225", "count": 2, "unpriced_count": 0},
                {"key": "Launch", "total": "1.000001", "count": 1, "unpriced_count": 0},
            ])
        );
        let by_month = ledger.json(&["total", "--by", "month", "--json"]);
        let months: Vec<&str> = by_month["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["key"].as_str().unwrap())
            .collect();
        assert_eq!(months, ["2026-01", "2026-02"]);
        // Saturday 2026-01-31 and Sunday 2026-02-01: one ISO week, from Monday.
        let by_week = ledger.json(&["total", "--by", "week", "--json"]);
        assert_eq!(
            by_week["groups"],
            serde_json::json!([
                {"key": "2026-W05", "total": "4.225001", "count": 3, "unpriced_count": 0},
            ])
        );
        let by_day = ledger.json(&["total", "--by", "day", "--json"]);
        assert_eq!(by_day["groups"][1]["total"], "4.200001");
        let by_model = ledger.json(&["total", "--by", "model", "--json", "--client", "acme"]);
        assert_eq!(
            by_model["total"], "3.225",
            "filters match tags case-insensitively"
        );
        let since = ledger.json(&["total", "--json", "--since", "2026-02-01"]);
        assert_eq!(since["count"], 2);
        let human = ledger.ok(&["total", "--by", "client"]);
        assert!(human.contains("$4.23"), "{human}");
        let bad = ledger.run(&["total", "--by", "colour"]);
        assert_eq!(bad.code, 2);
    }
}

#[test]
fn tags_suggest_by_prefix_most_used_first_and_keep_one_spelling() {
    for ledger in TestLedger::each() {
        for client in ["Acme", "Acme", "Acme Labs", "Beta", "acme"] {
            ledger.ok(&["log", "--model", "m", "--client", client]);
        }
        let tags = ledger.json(&["tags", "client", "--prefix", "ac", "--json"]);
        assert_eq!(
            tags,
            serde_json::json!([{"value": "Acme", "count": 3}, {"value": "Acme Labs", "count": 1}]),
            "'acme' was logged with the existing spelling"
        );
        let respelled = ledger.run(&["log", "--model", "m", "--client", "ACME LABS"]);
        assert!(
            respelled.stderr.contains("'Acme Labs'"),
            "{}",
            respelled.stderr
        );
    }
}

#[test]
fn active_tags_apply_to_logs_that_give_none() {
    for ledger in TestLedger::each() {
        ledger.ok(&["use", "--client", "Acme", "--project", "Spot A"]);
        assert!(ledger.ok(&["use"]).contains("Spot A"));
        ledger.ok(&["log", "--model", "m"]);
        ledger.ok(&["log", "--model", "m", "--client", "Other"]);
        ledger.ok(&["use", "--clear"]);
        ledger.ok(&["log", "--model", "m"]);
        let list = ledger.entries(&[]);
        let tagged: Vec<(Value, Value)> = list
            .iter()
            .rev()
            .map(|e| (e["client"].clone(), e["project"].clone()))
            .collect();
        assert_eq!(
            tagged,
            [
                (Value::from("Acme"), Value::from("Spot A")),
                // A log naming another client takes none of the active
                // client's project.
                (Value::from("Other"), Value::Null),
                (Value::Null, Value::Null),
            ]
        );
    }
}

#[test]
fn void_takes_an_entry_out_of_totals_but_keeps_it_on_record() {
    for ledger in TestLedger::each() {
        let id = ledger.ok(&["log", "--model", "m", "--cost", "2"]);
        ledger.ok(&["log", "--model", "m", "--cost", "3"]);
        ledger.ok(&["void", id.trim(), "--reason", "test render"]);
        assert_eq!(ledger.json(&["total", "--json"])["total"], "3");
        assert_eq!(ledger.entries(&[]).len(), 1);
        let all = ledger.entries(&["--include-void"]);
        assert_eq!(all.len(), 2);
        let voided = all.iter().find(|e| e["id"] == id.trim()).unwrap();
        assert_eq!(voided["void"], true);
        assert_eq!(voided["void_reason"], "test render");
        let twice = ledger.run(&["void", id.trim(), "--reason", "again"]);
        assert_ne!(twice.code, 0);
        assert!(twice.stderr.contains("void"), "{}", twice.stderr);
        assert!(ledger
            .ok(&["verify"])
            .starts_with("ok: 3 events, 2 entries"));
    }
}

#[test]
fn list_pages_newest_first() {
    for ledger in TestLedger::each() {
        for day in 1..=5 {
            ledger.ok(&[
                "log",
                "--model",
                &format!("m{day}"),
                "--at",
                &format!("2026-05-0{day}T12:00:00Z"),
            ]);
        }
        let first = ledger.run(&["list", "--json", "--limit", "1"]);
        assert_eq!(first.code, 0, "{}", first.stderr);
        let cursor = first
            .stderr
            .split("--after ")
            .nth(1)
            .map(str::trim)
            .unwrap_or_else(|| panic!("no cursor in: {}", first.stderr));
        let page = ledger.json(&["list", "--json", "--limit", "2", "--after", cursor]);
        let models: Vec<&str> = page
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["model"].as_str().unwrap())
            .collect();
        assert_eq!(models, ["m4", "m3"]);
    }
}

#[test]
fn bad_input_is_refused_with_a_clear_error_and_nothing_is_written() {
    for ledger in TestLedger::each() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["log", "--model", "m", "--cost", "0,0.5"],
                "--cost: not a number ('0,0.5')",
            ),
            (
                &["log", "--model", "m", "--cost", "abc"],
                "--cost: not a number ('abc')",
            ),
            (
                &["log", "--model", "m", "--cost", "-1"],
                "cannot be negative",
            ),
            (
                &["log", "--model", "m", "--cost", "1", "--currency", "XYZ"],
                "unknown currency code 'XYZ'",
            ),
            (
                &["log", "--model", "m", "--at", "yesterday"],
                "--at: malformed time 'yesterday'",
            ),
            (
                &["log", "--model", "m", "--param", "seed"],
                "--param: 'seed' is not key=value",
            ),
            (
                &["log", "--model", "m", "--duration", "fast"],
                "--duration: malformed duration",
            ),
            (
                &["log", "--model", "m", "--status", "done"],
                "unknown status 'done'",
            ),
            (
                &["log", "--model", "m", "--cost", "0.0000001"],
                "more than 6 decimal places",
            ),
            (&["log", "--cost", "1"], "--model"),
            (
                &["log", "--model", "m", "--kind", "pool"],
                "log records generation or external",
            ),
            (&["frobnicate"], "unrecognized subcommand"),
            (&["list", "--colour"], "unexpected argument"),
        ];
        for (args, message) in cases {
            let run = ledger.run(args);
            assert_eq!(run.code, 2, "[{}] {args:?}: {}", ledger.backend, run.stderr);
            assert!(
                run.stderr.contains(message),
                "{args:?}: expected '{message}' in: {}",
                run.stderr
            );
            assert_eq!(
                run.stderr
                    .trim()
                    .lines()
                    .next()
                    .map(|l| l.starts_with("error")),
                Some(true)
            );
        }
        assert!(
            ledger.entries(&["--include-void"]).is_empty(),
            "nothing was written"
        );
        assert!(ledger.ok(&["verify"]).starts_with("ok: 0 events"));
    }
}

#[test]
fn a_ledger_that_cannot_be_opened_is_named_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing_dir = format!("sqlite://{}/no/such/dir/ledger.db", dir.path().display());
    let run = common::run_with(&missing_dir, dir.path(), dir.path(), &["list"]);
    assert_eq!(
        run.code, 2,
        "reading a ledger that is not there: {}",
        run.stderr
    );
    assert!(run.stderr.contains("no ledger at"), "{}", run.stderr);
    let run = common::run_with(
        &missing_dir,
        dir.path(),
        dir.path(),
        &["log", "--model", "m"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot open ledger") && run.stderr.contains("does not exist"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.trim().lines().count(), 1);

    let not_a_db = dir.path().join("notes.txt");
    std::fs::write(
        &not_a_db,
        "this is not a database, just some text that is long enough",
    )
    .unwrap();
    let run = common::run_with(
        &format!("sqlite://{}", not_a_db.display()),
        dir.path(),
        dir.path(),
        &["list"],
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("cannot open ledger"), "{}", run.stderr);

    let run = common::run_with("mysql://x@y/z", dir.path(), dir.path(), &["list"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unsupported database URL scheme 'mysql'"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_default_ledger_lives_in_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gencost"))
        .args(["log", "--model", "m", "--cost", "1"])
        .env_remove("GENCOST_DATABASE")
        .env("GENCOST_DATA_DIR", dir.path().join("data"))
        .env("GENCOST_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("data/ledger.db").exists());
}

#[test]
fn a_cost_already_billed_is_logged_as_billed_and_totals_never_mix_currencies() {
    for ledger in TestLedger::each() {
        ledger.ok(&["log", "--model", "m", "--cost", "1.40", "--actual", "1.68"]);
        let e = &ledger.entries(&[])[0];
        assert_eq!(e["estimate"]["amount"], "1.4");
        assert_eq!(
            e["cost"],
            serde_json::json!({"amount": "1.68", "currency": "USD", "tier": "billed"})
        );

        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "2",
            "--currency",
            "EUR",
            "--at",
            "2026-03-02T10:00:00Z",
        ]);
        // The EUR entry converts at the embedded ECB rates of its day (1 EUR = 1.1698 USD).
        let total = ledger.json(&["total", "--json"]);
        assert_eq!(total["total"], "4.0196");
        assert_eq!(
            total["rates"],
            serde_json::json!([{"from": "EUR", "to": "USD", "rate": "1.1698", "date": "2026-03-02"}])
        );
        // Before any known rate: refused when logged, never summed 1:1.
        let run = ledger.run(&[
            "log",
            "--model",
            "m",
            "--cost",
            "1",
            "--currency",
            "EUR",
            "--at",
            "1998-12-31T10:00:00Z",
        ]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains(
                "1998-12-31 is before 1999-01-04, the first day an exchange rate for EUR is known"
            ),
            "{}",
            run.stderr
        );
        assert_eq!(ledger.json(&["total", "--json"])["total"], "4.0196");
        assert_eq!(
            ledger.json(&[
                "total",
                "--json",
                "--currency",
                "EUR",
                "--since",
                "2026-03-02",
                "--until",
                "2026-03-03"
            ])["total"],
            "2"
        );
    }
}

#[test]
fn a_group_of_unpriced_entries_shows_no_price_not_zero() {
    let ledger = TestLedger::sqlite();
    ledger.ok(&["log", "--model", "studio/unlisted", "--project", "Free"]);
    ledger.ok(&["log", "--model", "fal-ai/flux/dev", "--project", "Paid"]);
    let text = ledger.ok(&["total", "--by", "project"]);
    let free = text.lines().find(|l| l.starts_with("Free")).unwrap();
    assert!(
        free.contains("No price") && !free.contains("$0.00"),
        "{text}"
    );
}
