//! End-to-end: `verify` proves the paper trail sound and names the first bad
//! event when anything was altered by hand; `reset` demands the exact word,
//! writes a readable backup first, and links the new chain to the old one.

mod common;
use common::fake_fal::{FakeFal, QueuedRun};
use common::{exec_sql, TestLedger};

fn logged(ledger: &TestLedger, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            ledger
                .ok(&[
                    "log",
                    "--model",
                    "m",
                    "--cost",
                    "0.10",
                    "--request-id",
                    &format!("r{i}"),
                ])
                .trim()
                .to_string()
        })
        .collect()
}

#[test]
fn verify_passes_on_an_untouched_ledger() {
    for ledger in TestLedger::each() {
        let ids = logged(&ledger, 3);
        ledger.ok(&["confirm", &ids[0], "--actual", "0.12"]);
        ledger.ok(&["void", &ids[1], "--reason", "duplicate"]);
        let out = ledger.ok(&["verify"]);
        assert!(out.starts_with("ok: 5 events, 3 entries, head "), "{out}");
        let report = ledger.json(&["verify", "--json"]);
        assert_eq!(report["problem"], serde_json::Value::Null);
        assert_eq!(report["head"].as_str().map(str::len), Some(64));
    }
}

#[test]
fn an_event_altered_by_hand_fails_verify_and_is_named() {
    for ledger in TestLedger::each() {
        logged(&ledger, 3);
        let changed = exec_sql(
            &ledger.url,
            "UPDATE events SET payload = replace(payload, '100000', '1000') WHERE seq = 2",
        );
        assert_eq!(changed, 1);
        let run = ledger.run(&["verify"]);
        assert_eq!(run.code, 1, "[{}] {}", ledger.backend, run.stdout);
        assert!(
            run.stdout.contains("event 2") && run.stdout.contains("altered"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn a_rehashed_event_breaks_the_link_to_the_next_one() {
    for ledger in TestLedger::each() {
        logged(&ledger, 3);
        // Altering an event and its own hash still breaks the next event's link.
        exec_sql(
            &ledger.url,
            "UPDATE events SET hash = '00' || substr(hash, 3) WHERE seq = 1",
        );
        let run = ledger.run(&["verify"]);
        assert_eq!(run.code, 1);
        assert!(
            run.stdout.contains("event 1") || run.stdout.contains("event 2"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn a_view_edited_by_hand_fails_verify_and_names_the_entry() {
    for ledger in TestLedger::each() {
        let ids = logged(&ledger, 2);
        exec_sql(
            &ledger.url,
            &format!("UPDATE entries SET cost_micros = 1 WHERE id = '{}'", ids[1]),
        );
        let run = ledger.run(&["verify"]);
        assert_eq!(run.code, 1);
        assert!(run.stdout.contains(&ids[1]), "{}", run.stdout);

        exec_sql(
            &ledger.url,
            &format!("DELETE FROM entries WHERE id = '{}'", ids[1]),
        );
        let run = ledger.run(&["verify"]);
        assert_eq!(run.code, 1);
        assert!(
            run.stdout.contains("missing from the view"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn reset_refuses_anything_but_the_exact_word() {
    for ledger in TestLedger::each() {
        logged(&ledger, 2);
        for args in [
            &["reset"][..],
            &["reset", "--confirm", "delete"],
            &["reset", "--confirm", "DELETE "],
            &["reset", "--confirm", "yes"],
        ] {
            let run = ledger.run(args);
            assert_eq!(run.code, 2, "{args:?}");
            assert!(run.stderr.contains("nothing was removed"), "{}", run.stderr);
        }
        assert_eq!(
            ledger.json(&["list", "--json"]).as_array().unwrap().len(),
            2
        );
        let backups: Vec<_> = std::fs::read_dir(ledger.dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("backup"))
            .collect();
        assert!(backups.is_empty(), "a refused reset writes no backup");
    }
}

#[test]
fn reset_writes_a_readable_backup_then_starts_a_linked_chain() {
    for ledger in TestLedger::each() {
        logged(&ledger, 3);
        let head_before = ledger.json(&["verify", "--json"])["head"].clone();
        let backup_dir = ledger.dir.path().join("backups");
        let report = ledger.json(&[
            "reset",
            "--confirm",
            "DELETE",
            "--backup-dir",
            backup_dir.to_str().unwrap(),
            "--json",
        ]);
        let backup = report["backup"].as_str().unwrap().to_string();
        assert!(std::path::Path::new(&backup).exists(), "{backup}");
        assert_eq!(report["previous_head"], head_before);

        // The ledger is empty, and its new chain verifies.
        assert!(ledger
            .json(&["list", "--json"])
            .as_array()
            .unwrap()
            .is_empty());
        assert!(ledger
            .ok(&["verify"])
            .starts_with("ok: 1 events, 0 entries"));

        // The backup is a whole ledger: readable, and its chain verifies.
        let backup_url = format!("sqlite://{backup}");
        let run = common::run_with(
            &backup_url,
            &ledger.config_dir(),
            ledger.dir.path(),
            &["list", "--json"],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let listed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 3);
        let run = common::run_with(
            &backup_url,
            &ledger.config_dir(),
            ledger.dir.path(),
            &["verify", "--json"],
        );
        let verified: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(
            verified["head"], head_before,
            "the backup ends at the old head"
        );
    }
}

/// A ledger whose rows fill every column somewhere: a generation priced
/// from the catalog (price version, license) with tags, description,
/// parameters, duration and request id, confirmed; another voided; the last
/// event a confirmation (so it names an entry).
fn rich_ledger(ledger: &TestLedger) {
    let id = ledger
        .ok(&[
            "log",
            "--model",
            "fal-ai/flux/dev",
            "--param",
            "num_images=2",
            "--client",
            "Acme",
            "--project",
            "Summer Spot",
            "--deliverable",
            "Hero Film",
            "--description",
            "hero frame",
            "--duration",
            "3.2s",
            "--request-id",
            "req-rich",
        ])
        .trim()
        .to_string();
    let ids = logged(ledger, 2);
    ledger.ok(&["void", &ids[0], "--reason", "test render"]);
    ledger.ok(&["confirm", &id, "--actual", "0.031"]);
    // A pool: its shares carry the pool's batch id.
    ledger.ok(&[
        "pool",
        "add",
        "--amount",
        "30",
        "--description",
        "Midjourney Pro",
        "--period",
        "2026-01",
        "--project",
        "Summer Spot",
        "--project",
        "Winter",
    ]);
    // Imports: a provider's day that grew (a correction), and an import voided.
    let header =
        "start_time,end_time,amount_value,amount_currency,line_item,project_id,project_name\n";
    for (n, amount) in ["1.5", "2.25"].iter().enumerate() {
        let path = ledger.dir.path().join(format!("openai-{n}.csv"));
        let row = format!("1793059200,1793145600,{amount},usd,\"gpt-image-1, image\",proj_1,Ads\n");
        std::fs::write(&path, format!("{header}{row}")).unwrap();
        ledger.ok(&["import", &path.display().to_string()]);
    }
    let path = ledger.dir.path().join("receipts.csv");
    std::fs::write(
        &path,
        "date,description,amount,currency,tool\n2026-01-05,plan,9,USD,Runway\n",
    )
    .unwrap();
    let report = ledger.json(&["import", &path.display().to_string(), "--json"]);
    let batch = report["batch"].as_str().unwrap().to_string();
    ledger.ok(&["import", "void", &batch, "--reason", "wrong file"]);
    // A fal run settled from its result (billing, a billed cost, a status).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fal = runtime.block_on(FakeFal::start("rich-key", "rich-admin"));
    fal.set_units("fal-ai/flux/dev", "2");
    fal.state.lock().unwrap().runs.insert(
        "req-settled".into(),
        QueuedRun {
            endpoint: "fal-ai/flux/dev".into(),
            polls: 0,
        },
    );
    ledger.ok(&[
        "log",
        "--model",
        "fal-ai/flux/dev",
        "--request-id",
        "req-settled",
        "--status",
        "pending",
    ]);
    let settled = ledger.run_env(
        &["reconcile", "--fal-upstream", &fal.url],
        &[("FAL_KEY", "rich-key")],
    );
    // Other fal entries of this ledger were never run at the stand-in: they
    // cannot be read (exit 1); this one is confirmed.
    assert!(
        settled.stdout.contains("1 confirmed"),
        "{}{}",
        settled.stdout,
        settled.stderr
    );
}

/// Every column of the entries and events tables, with its SQL type, read
/// from the database's own schema.
fn stored_columns(ledger: &TestLedger, table: &str) -> Vec<(String, bool)> {
    let sql = if ledger.url.starts_with("postgres") {
        format!(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
        )
    } else {
        format!("SELECT name, type FROM pragma_table_info('{table}') ORDER BY cid")
    };
    common::query_text(&ledger.url, &sql)
        .into_iter()
        .map(|row| {
            let integer = row[1].to_lowercase().contains("int");
            (row[0].clone(), integer)
        })
        .collect()
}

#[test]
fn forging_any_stored_column_fails_verify() {
    for ledger in TestLedger::each() {
        rich_ledger(&ledger);
        assert_eq!(ledger.run(&["verify"]).code, 0);
        for (table, key, other_key) in [("entries", "position", "id"), ("events", "seq", "hash")] {
            let columns = stored_columns(&ledger, table);
            assert!(columns.len() >= 7, "{table}: {columns:?}");
            for (column, integer) in columns {
                // The row to edit: one where the column holds a value (the
                // last such event, so the chain's end is edited too).
                let key_column = if column == key { other_key } else { key };
                let found = common::query_text(
                    &ledger.url,
                    &format!(
                        "SELECT {key_column} FROM {table} WHERE {column} IS NOT NULL ORDER BY {key} DESC LIMIT 1"
                    ),
                );
                let target = found.first().map(|row| row[0].clone()).unwrap_or_else(|| {
                    panic!("[{}] no row fills {table}.{column}", ledger.backend)
                });
                let target = if key_column == key {
                    target
                } else {
                    format!("'{target}'")
                };
                let (forge, undo) = if integer {
                    (format!("{column} + 1"), format!("{column} - 1"))
                } else {
                    (
                        format!("{column} || 'x'"),
                        format!("substr({column}, 1, length({column}) - 1)"),
                    )
                };
                let changed = common::exec_sql(
                    &ledger.url,
                    &format!("UPDATE {table} SET {column} = {forge} WHERE {key_column} = {target}"),
                );
                assert_eq!(changed, 1, "[{}] {table}.{column}", ledger.backend);
                let run = ledger.run(&["verify"]);
                assert_ne!(
                    run.code, 0,
                    "[{}] forging {table}.{column} went unnoticed: {}",
                    ledger.backend, run.stdout
                );
                let restored = common::exec_sql(
                    &ledger.url,
                    &format!("UPDATE {table} SET {column} = {undo} WHERE {key_column} = {target}"),
                );
                assert_eq!(restored, 1, "[{}] undo {table}.{column}", ledger.backend);
                let run = ledger.run(&["verify"]);
                assert_eq!(
                    run.code, 0,
                    "[{}] after undoing {table}.{column}: {}{}",
                    ledger.backend, run.stdout, run.stderr
                );
            }
        }
    }
}

#[test]
fn rows_added_by_hand_outside_the_chain_fail_verify() {
    for ledger in TestLedger::each() {
        rich_ledger(&ledger);
        let columns: Vec<String> = stored_columns(&ledger, "entries")
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let copied: Vec<String> = columns
            .iter()
            .map(|c| match c.as_str() {
                "id" => "'0190f8a2-0000-7000-8000-000000000001'".to_string(),
                "position" => "0".to_string(),
                "request_key" | "request_id" => "NULL".to_string(),
                other => other.to_string(),
            })
            .collect();
        let added = common::exec_sql(
            &ledger.url,
            &format!(
                "INSERT INTO entries ({}) SELECT {} FROM entries WHERE position = 1",
                columns.join(", "),
                copied.join(", ")
            ),
        );
        assert_eq!(added, 1);
        let run = ledger.run(&["verify"]);
        assert_ne!(
            run.code, 0,
            "[{}] an entry at position 0: {}",
            ledger.backend, run.stdout
        );
        assert!(run.stdout.contains("added by hand"), "{}", run.stdout);
        common::exec_sql(&ledger.url, "DELETE FROM entries WHERE position = 0");
        assert_eq!(ledger.run(&["verify"]).code, 0);

        common::exec_sql(
            &ledger.url,
            "INSERT INTO events (seq, recorded_at, kind, entry_id, payload, prev_hash, hash) \
             SELECT -1, recorded_at, kind, entry_id, payload, prev_hash, hash FROM events WHERE seq = 1",
        );
        let run = ledger.run(&["verify"]);
        assert_ne!(
            run.code, 0,
            "[{}] an event at position -1: {}",
            ledger.backend, run.stdout
        );
    }
}

/// Totals grouped by kind, client, project, deliverable or model, or
/// filtered to one of their values, read the cost rollups; they must
/// equal a scan of the entries after every kind of write (logs in two
/// currencies, unpriced, voids, confirmations, retags, pools, imports and
/// their corrections, a voided import, a settled fal run).
#[test]
fn cost_rollups_total_as_the_entries_do_after_every_write() {
    for ledger in TestLedger::each() {
        rich_ledger(&ledger);
        let moved = ledger
            .ok(&[
                "log",
                "--model",
                "m2",
                "--cost",
                "1.25",
                "--currency",
                "SEK",
                "--client",
                "Acme",
                "--deliverable",
                "Teaser",
            ])
            .trim()
            .to_string();
        ledger.ok(&[
            "retag",
            &moved,
            "--deliverable",
            "Hero Film",
            "--project",
            "Winter",
        ]);
        ledger.ok(&["log", "--model", "m2", "--deliverable", "Teaser"]);
        let answered: &[&[&str]] = &[
            &[],
            &["--by", "model"],
            &["--by", "deliverable"],
            &["--by", "client"],
            &["--by", "project"],
            &["--by", "kind"],
            &["--by", "month"],
            // One filter on the key grouped by (or no grouping): the
            // rollup's rows of that key, matched case-insensitively.
            &["--client", "acme"],
            &["--client", "ACME", "--by", "client"],
            &["--project", "winter", "--by", "week"],
            &["--deliverable", "teaser", "--by", "deliverable"],
            &["--kind", "pool"],
            &["--kind", "external", "--by", "kind"],
        ];
        for args in answered {
            let rolled = ledger.json(&[&["total", "--json"], *args].concat());
            // A start inside a day is more than the daily rollups can
            // answer: this total scans the entries.
            let scanned = ledger.json(
                &[
                    &["total", "--json", "--since", "1970-01-01T00:00:01Z"],
                    *args,
                ]
                .concat(),
            );
            for field in ["groups", "total", "count", "unpriced_count"] {
                assert_eq!(
                    rolled[field], scanned[field],
                    "[{}] {args:?}: {field}",
                    ledger.backend
                );
            }
            assert!(rolled["count"].as_i64().unwrap() >= 1, "{args:?}: {rolled}");
        }
        let teaser = ledger.json(&["total", "--by", "deliverable", "--json"]);
        let teaser = teaser["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == "Teaser")
            .unwrap()
            .clone();
        assert_eq!(teaser["count"], 1, "{teaser}");
        assert_eq!(teaser["unpriced_count"], 1, "{teaser}");
        assert_eq!(ledger.run(&["verify"]).code, 0);
    }
}

/// A rollup row changed, removed or added by hand fails verify, and
/// passes again once undone.
#[test]
fn cost_rollups_changed_by_hand_fail_verify() {
    for ledger in TestLedger::each() {
        rich_ledger(&ledger);
        let one_row = "(dimension, keyed, group_key, cost_currency, day) IN \
             (SELECT dimension, keyed, group_key, cost_currency, day FROM cost_rollups \
              WHERE dimension = 'model' AND entries > 0 ORDER BY day DESC, group_key LIMIT 1)";
        for column in ["micros", "entries", "unpriced", "day"] {
            let changed = exec_sql(
                &ledger.url,
                &format!("UPDATE cost_rollups SET {column} = {column} + 1 WHERE {one_row}"),
            );
            assert_eq!(changed, 1, "[{}] {column}", ledger.backend);
            let run = ledger.run(&["verify"]);
            assert_ne!(run.code, 0, "[{}] {column}: {}", ledger.backend, run.stdout);
            assert!(run.stdout.contains("cost rollup"), "{}", run.stdout);
            let undone = exec_sql(
                &ledger.url,
                // The row edited is still the one picked (its day, if that
                // was edited, is the latest).
                &format!("UPDATE cost_rollups SET {column} = {column} - 1 WHERE {one_row}"),
            );
            assert_eq!(undone, 1);
            let run = ledger.run(&["verify"]);
            assert_eq!(
                run.code, 0,
                "[{}] undo {column}: {}",
                ledger.backend, run.stdout
            );
        }
        exec_sql(
            &ledger.url,
            "INSERT INTO cost_rollups VALUES ('deliverable', 1, 'Ghost', 'USD', 20000, 5, 1, 0)",
        );
        assert_ne!(
            ledger.run(&["verify"]).code,
            0,
            "[{}] added row",
            ledger.backend
        );
        exec_sql(
            &ledger.url,
            "DELETE FROM cost_rollups WHERE group_key = 'Ghost'",
        );
        assert_eq!(ledger.run(&["verify"]).code, 0);
        exec_sql(
            &ledger.url,
            "DELETE FROM cost_rollups WHERE dimension = 'deliverable'",
        );
        assert_ne!(
            ledger.run(&["verify"]).code,
            0,
            "[{}] removed rows",
            ledger.backend
        );
    }
}
