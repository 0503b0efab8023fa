//! End to end, what a new user ran into at the edges: secrets in URLs,
//! input that could never be summed or shown, mistyped ledgers, output that
//! cannot be written, exit codes. Each refusal writes nothing.

mod common;
use common::{run_with, TestLedger};
use std::process::{Command, Stdio};

#[test]
fn credentials_never_reach_output_and_keyword_strings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = "postgres://editor@127.0.0.1:1/ledger?sslmode=disable&password=hunter2&api_key=k-9";
    let run = run_with(url, dir.path(), dir.path(), &["db", "info"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        !run.stderr.contains("hunter2") && !run.stderr.contains("k-9"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("password=***"), "{}", run.stderr);

    let keywords = "host=127.0.0.1 user=editor password=hunter2 dbname=ledger";
    let run = run_with(keywords, dir.path(), dir.path(), &["list"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("postgres://user:password@host"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(files.is_empty(), "no file was created: {files:?}");
}

#[test]
fn times_dates_parameters_and_names_are_checked_before_logging() {
    for ledger in TestLedger::each() {
        let long_client = "c".repeat(60_000);
        let long_model = "m".repeat(100_000);
        let cases: &[(&[&str], &str)] = &[
            (
                &["log", "--model", "m", "--at", "9999-12-31T23:59:59Z"],
                "more than a day in the future",
            ),
            (
                &[
                    "log", "--model", "m", "--param", "seed=1", "--param", "seed=2",
                ],
                "'seed' is given twice",
            ),
            (&["log", "--model", "   "], "model: cannot be blank"),
            (
                &["log", "--model", "m", "--client", &long_client],
                "client: 60000 characters, more than the 200 allowed",
            ),
            (&["log", "--model", &long_model], "model: 100000 characters"),
            (
                &["log", "--model", "m", "--client", "Acme\u{1b}[2J"],
                "client: control character U+001B",
            ),
            (
                &["log", "--model", "m", "--description", "ding\u{7}"],
                "description: control character U+0007",
            ),
            (
                &["log", "--model", "m", "--cost", "9000000000000"],
                "larger than the 1000000000 allowed",
            ),
        ];
        for (args, message) in cases {
            let run = ledger.run(args);
            assert_eq!(
                run.code, 2,
                "[{}] {:.80?}: {}",
                ledger.backend, args, run.stderr
            );
            assert!(
                run.stderr.contains(message),
                "[{}] expected '{message}' in: {}",
                ledger.backend,
                run.stderr
            );
            assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        }
        assert_eq!(
            ledger.entries(&["--include-void"]).len(),
            0,
            "nothing was written"
        );

        // A date is a UTC day.
        ledger.ok(&["log", "--model", "m", "--at", "2026-01-01"]);
        let listed = ledger.json(&["list", "--json"]);
        assert_eq!(listed[0]["occurred_at"], "2026-01-01T00:00:00Z");
    }
}

#[test]
fn a_composed_and_a_decomposed_name_are_one_client() {
    for ledger in TestLedger::each() {
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "1",
            "--client",
            "Str\u{f6}m",
        ]);
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "2",
            "--client",
            "Stro\u{308}m",
        ]);
        let totals = ledger.json(&["total", "--by", "client", "--json"]);
        let groups = totals["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 1, "[{}] {totals}", ledger.backend);
        assert_eq!(groups[0]["key"], "Str\u{f6}m");
        assert_eq!(groups[0]["total"], "3");
    }
}

#[test]
fn a_known_actual_is_recorded_when_the_estimate_fails() {
    for ledger in TestLedger::each() {
        let run = ledger.run(&[
            "log",
            "--model",
            "fal-ai/veo3.1",
            "--param",
            "resolution=1440p",
            "--actual",
            "4.00",
        ]);
        assert_eq!(run.code, 0, "[{}] {}", ledger.backend, run.stderr);
        assert!(
            run.stderr
                .contains("unpriced: cannot estimate fal-ai/veo3.1"),
            "{}",
            run.stderr
        );
        let entry = &ledger.json(&["list", "--json"])[0];
        assert_eq!(entry["cost"]["amount"], "4");
        assert_eq!(entry["cost"]["tier"], "billed");
        assert_eq!(entry["estimate"]["tier"], "unpriced");
        // Without an actual the failed estimate is still an error.
        let run = ledger.run(&[
            "log",
            "--model",
            "fal-ai/veo3.1",
            "--param",
            "resolution=1440p",
        ]);
        assert_eq!(run.code, 2, "{}", run.stderr);
    }
}

#[test]
fn changing_the_active_client_clears_its_project() {
    let ledger = TestLedger::sqlite();
    ledger.ok(&[
        "use",
        "--client",
        "Acme",
        "--project",
        "Summer Spot",
        "--deliverable",
        "Hero",
    ]);
    ledger.ok(&["use", "--client", "Globex"]);
    let tags = ledger.json(&["use", "--json"]);
    assert_eq!(tags["client"], "Globex");
    assert!(
        tags["project"].is_null() && tags["deliverable"].is_null(),
        "{tags}"
    );
    ledger.ok(&["use", "--project", "Launch"]);
    ledger.ok(&["log", "--model", "m", "--deliverable", "Teaser"]);
    let entry = &ledger.json(&["list", "--json"])[0];
    assert_eq!(entry["client"], "Globex");
    assert_eq!(entry["project"], "Launch");
    assert_eq!(entry["deliverable"], "Teaser");
}

#[test]
fn reading_a_ledger_that_does_not_exist_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.db");
    let url = format!("sqlite://{}", typo.display());
    for args in [
        &["list"][..],
        &["total"],
        &["verify"],
        &["db", "info"],
        &["tags", "client"],
    ] {
        let run = run_with(&url, dir.path(), dir.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("no ledger at") && run.stderr.contains("typo.db"),
            "{}",
            run.stderr
        );
    }
    let to = format!("sqlite://{}", dir.path().join("copy.db").display());
    let run = run_with(
        &url,
        dir.path(),
        dir.path(),
        &["db", "copy", "--from", &url, "--to", &to],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!typo.exists(), "reading created no file");
    // A command that writes creates it.
    let run = run_with(&url, dir.path(), dir.path(), &["log", "--model", "m"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(typo.exists());
}

#[test]
fn output_that_cannot_be_written_fails_but_a_closed_pipe_ends_quietly() {
    let ledger = TestLedger::sqlite();
    for i in 0..300 {
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "0.01",
            "--request-id",
            &format!("r{i}"),
        ]);
    }
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_gencost"))
        .args(["list", "--json", "--limit", "300"])
        .env("GENCOST_DATABASE", &ledger.url)
        .env("GENCOST_CONFIG_DIR", ledger.config_dir())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(stderr.contains("cannot write the output"), "{stderr}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_gencost"))
        .args(["list", "--json", "--limit", "300"])
        .env("GENCOST_DATABASE", &ledger.url)
        .env("GENCOST_CONFIG_DIR", ledger.config_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once, like `| head -0`
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("error"));
}

#[test]
fn exit_codes_agree_and_changes_answer_in_json() {
    for ledger in TestLedger::each() {
        let missing = "0190f8a2-0000-7000-8000-000000000000";
        for args in [
            &["confirm", missing, "--actual", "1"][..],
            &["void", missing, "--reason", "x"],
            &["pricing", "show", "acme/no-such-model"],
        ] {
            let run = ledger.run(args);
            assert_eq!(run.code, 2, "[{}] {args:?}: {}", ledger.backend, run.stderr);
        }
        let id = ledger
            .ok(&["log", "--model", "m", "--cost", "0.025"])
            .trim()
            .to_string();
        let confirmed = ledger.json(&["confirm", &id, "--actual", "0.031", "--json"]);
        assert_eq!(confirmed["id"], id.as_str());
        assert_eq!(confirmed["actual"]["amount"], "0.031");
        assert!(confirmed["replaced"].is_null());
        let voided = ledger.json(&["void", &id, "--reason", " test render ", "--json"]);
        assert_eq!(voided["reason"], "test render");
        assert_eq!(voided["void"], true);
    }
}

#[test]
fn failed_and_cancelled_runs_count_only_when_charged() {
    for ledger in TestLedger::each() {
        let failed = ledger
            .ok(&[
                "log", "--model", "m", "--cost", "3.20", "--status", "failed",
            ])
            .trim()
            .to_string();
        ledger.ok(&["log", "--model", "m", "--cost", "1"]);
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "2",
            "--status",
            "cancelled",
            "--actual",
            "0.5",
        ]);
        let totals = ledger.json(&["total", "--json"]);
        assert_eq!(totals["total"], "1.5", "[{}] {totals}", ledger.backend);
        assert_eq!(totals["count"], 2);
        assert_eq!(totals["not_charged_count"], 1);
        let human = ledger.ok(&["total"]);
        assert!(
            human.contains("1 failed or cancelled, not charged"),
            "{human}"
        );
        assert!(ledger.ok(&["list"]).contains("failed, not charged"));

        // The provider reports it charged after all: from then on it counts.
        ledger.ok(&["confirm", &failed, "--actual", "3.20"]);
        let totals = ledger.json(&["total", "--by", "project", "--json"]);
        assert_eq!(totals["total"], "4.7");
        assert_eq!(totals["not_charged_count"], 0);
        assert!(ledger.ok(&["verify"]).starts_with("ok"));
    }
}

#[test]
fn tables_show_local_time_named_in_the_header_and_json_stays_utc() {
    let ledger = TestLedger::sqlite();
    ledger.ok(&["log", "--model", "m", "--at", "2026-01-15T12:00:00Z"]);
    ledger.ok(&["log", "--model", "m", "--at", "2026-07-01T12:00:00Z"]);
    let list = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_gencost"))
            .arg("list")
            .args(extra)
            .env("GENCOST_DATABASE", &ledger.url)
            .env("GENCOST_CONFIG_DIR", ledger.config_dir())
            .env("TZ", "Europe/Stockholm")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
        String::from_utf8(output.stdout).unwrap()
    };
    let local = list(&[]);
    assert!(local.contains("WHEN (Europe/Stockholm)"), "{local}");
    // Winter and summer time.
    assert!(
        local.contains("2026-01-15 13:00") && local.contains("2026-07-01 14:00"),
        "{local}"
    );
    let utc = list(&["--utc"]);
    assert!(
        utc.contains("WHEN (UTC)") && utc.contains("2026-07-01 12:00"),
        "{utc}"
    );
    let json = list(&["--json"]);
    assert!(json.contains("\"2026-07-01T12:00:00Z\""), "{json}");
}

#[test]
fn active_tags_are_checked_like_logged_ones() {
    let ledger = TestLedger::sqlite();
    let run = ledger.run(&["use", "--client", "Acme\u{1b}[2J"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("control character"), "{}", run.stderr);
    assert!(
        ledger.json(&["use", "--json"])["client"].is_null(),
        "nothing was saved"
    );
}
