//! End-to-end: `db info`, `db copy` between backends, the two schemas kept in
//! step, and the one-line errors for ledgers that cannot be opened.

mod common;
use common::{exec_sql, postgres_admin_url, run_with, TestLedger};

fn fill(ledger: &TestLedger) {
    let ids: Vec<String> = (0..12)
        .map(|i| {
            let project = ["Spot A", "Spot B", "Launch"][i % 3];
            let cost = format!("0.{:03}", 10 + i);
            let at = format!("2026-0{}-1{}T10:00:00Z", 1 + i % 3, i % 9);
            let request = format!("req-{i}");
            let mut args = vec![
                "log",
                "--model",
                "fal-ai/flux/dev",
                "--project",
                project,
                "--at",
                &at,
                "--request-id",
                &request,
            ];
            if i % 4 != 0 {
                args.extend(["--cost", &cost]);
            }
            ledger.ok(&args).trim().to_string()
        })
        .collect();
    ledger.ok(&["confirm", &ids[1], "--actual", "0.5"]);
    ledger.ok(&["void", &ids[2], "--reason", "duplicate"]);
}

#[test]
fn db_info_names_backend_schema_and_counts() {
    for ledger in TestLedger::each() {
        fill(&ledger);
        let info = ledger.json(&["db", "info", "--json"]);
        assert_eq!(info["backend"], ledger.backend);
        assert_eq!(info["schema_version"], 13);
        assert_eq!(info["events"], 14);
        assert_eq!(info["entries"], 12);
        assert!(ledger.ok(&["db", "info"]).contains("schema version  13"));
    }
}

#[test]
fn db_info_redacts_the_password() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    // The test server trusts local connections, so any password is accepted.
    let ledger = TestLedger::postgres(&admin);
    let with_password = ledger.url.replacen(
        "postgres://postgres@",
        "postgres://postgres:hunter2secret@",
        1,
    );
    assert_ne!(
        with_password, ledger.url,
        "the test URL has the form postgres://postgres@host/db"
    );
    let dir = tempfile::tempdir().unwrap();
    run_with(
        &with_password,
        dir.path(),
        dir.path(),
        &["log", "--model", "m"],
    );
    let run = run_with(&with_password, dir.path(), dir.path(), &["db", "info"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("postgres:***@"), "{}", run.stdout);
    assert!(!run.stdout.contains("hunter2secret") && !run.stderr.contains("hunter2secret"));
}

#[test]
fn copy_moves_a_whole_ledger_between_backends_with_its_chain() {
    let source = TestLedger::sqlite();
    fill(&source);
    let mut targets = vec![TestLedger::sqlite()];
    if let Some(admin) = postgres_admin_url() {
        targets.push(TestLedger::postgres(&admin));
    }
    let source_verify = source.json(&["verify", "--json"]);
    let source_totals = source.json(&["total", "--by", "project", "--json"]);
    let source_list = source.json(&["list", "--json", "--include-void"]);
    for target in &targets {
        let out = source.ok(&["db", "copy", "--from", &source.url, "--to", &target.url]);
        assert!(out.contains("copied 14 events (12 entries)"), "{out}");
        let verified = target.json(&["verify", "--json"]);
        assert_eq!(
            verified, source_verify,
            "[{}] same chain, same head",
            target.backend
        );
        assert_eq!(
            target.json(&["total", "--by", "project", "--json"]),
            source_totals
        );
        assert_eq!(
            target.json(&["list", "--json", "--include-void"]),
            source_list
        );

        // And back again, from this backend into a fresh SQLite file.
        let back = TestLedger::sqlite();
        target.ok(&["db", "copy", "--from", &target.url, "--to", &back.url]);
        assert_eq!(back.json(&["verify", "--json"]), source_verify);
    }
}

#[test]
fn copy_refuses_a_ledger_that_is_not_empty() {
    for target in TestLedger::each() {
        let source = TestLedger::sqlite();
        fill(&source);
        target.ok(&["log", "--model", "m"]);
        let run = source.run(&["db", "copy", "--from", &source.url, "--to", &target.url]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("is not empty"), "{}", run.stderr);
        assert_eq!(
            target.json(&["db", "info", "--json"])["events"],
            1,
            "nothing was copied"
        );
    }
}

#[test]
fn a_schema_newer_than_this_binary_is_refused() {
    for ledger in TestLedger::each() {
        ledger.ok(&["log", "--model", "m"]);
        exec_sql(
            &ledger.url,
            "INSERT INTO gencost_schema (version, name, applied_at) VALUES (99, '0099_future', 0)",
        );
        let run = ledger.run(&["list"]);
        assert_eq!(run.code, 1);
        assert!(
            run.stderr
                .contains("schema is version 99, newer than this gencost knows"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn postgres_connection_failures_say_which_in_one_line() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "postgres://postgres:pw@127.0.0.1:1/test",
            "connection refused",
        ),
        (
            &*common::replace_database(&admin, "gencost_no_such_database"),
            "database does not exist",
        ),
        (
            &*admin.replacen(
                "postgres://postgres@",
                "postgres://no_such_role_here:pw@",
                1,
            ),
            "authentication failed",
        ),
    ];
    for (url, expected) in cases {
        let run = run_with(url, dir.path(), dir.path(), &["list"]);
        assert_eq!(run.code, 1, "{url}: {}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "{url}: expected '{expected}' in {}",
            run.stderr
        );
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(
            !run.stderr.contains(":pw@"),
            "the password is redacted: {}",
            run.stderr
        );
    }
}

/// A ledger's schema from the database's own catalogue, in one vocabulary
/// for both backends: `column TABLE.NAME TYPE null|not null` and
/// `index TABLE.NAME (COLUMNS) [unique] [partial]` lines, sorted. Types are
/// named by what they hold (integer, text); primary keys count as not null.
fn schema(url: &str) -> Vec<String> {
    let kind = |t: &str| {
        let t = t.to_lowercase();
        if t.contains("int") {
            "integer"
        } else if t.contains("text") || t.contains("char") {
            "text"
        } else {
            "other"
        }
        .to_string()
    };
    let mut lines = Vec::new();
    if url.starts_with("postgres") {
        for row in common::query_text(
            url,
            "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable::text \
             FROM information_schema.columns c WHERE c.table_schema = current_schema()",
        ) {
            let null = if row[3] == "YES" { "null" } else { "not null" };
            lines.push(format!("column {}.{} {} {null}", row[0], row[1], kind(&row[2])));
        }
        // Index columns in key order; primary keys are checked as not-null columns.
        for row in common::query_text(
            url,
            "SELECT t.relname::text, i.relname::text, \
                    (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
                     FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) \
                     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum), \
                    CASE WHEN x.indisunique THEN 'unique' ELSE '' END, \
                    CASE WHEN x.indpred IS NOT NULL THEN 'partial' ELSE '' END \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema()",
        ) {
            let line = if row[1].ends_with("_pkey") {
                format!("primary {} ({})", row[0], row[2])
            } else {
                format!("index {}.{} ({}) {} {}", row[0], row[1], row[2], row[3], row[4])
            };
            lines.push(line);
        }
    } else {
        for row in common::query_text(
            url,
            "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master m \
             JOIN pragma_table_xinfo(m.name) p WHERE m.type = 'table'",
        ) {
            let null = if row[3] == "1" || row[4] != "0" {
                "not null"
            } else {
                "null"
            };
            lines.push(format!(
                "column {}.{} {} {null}",
                row[0],
                row[1],
                kind(&row[2])
            ));
        }
        for row in common::query_text(
            url,
            "SELECT m.name, l.name, \
                    (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno)), \
                    CASE WHEN l.\"unique\" THEN 'unique' ELSE '' END, \
                    CASE WHEN l.partial THEN 'partial' ELSE '' END \
             FROM sqlite_master m JOIN pragma_index_list(m.name) l \
             WHERE m.type = 'table' AND l.origin <> 'pk'",
        ) {
            lines.push(format!("index {}.{} ({}) {} {}", row[0], row[1], row[2], row[3], row[4]));
        }
        for row in common::query_text(
            url,
            "SELECT m.name, (SELECT group_concat(name, ',') FROM \
                 (SELECT name FROM pragma_table_xinfo(m.name) WHERE pk > 0 ORDER BY pk)) \
             FROM sqlite_master m WHERE m.type = 'table' \
             AND EXISTS (SELECT 1 FROM pragma_table_xinfo(m.name) WHERE pk > 0)",
        ) {
            lines.push(format!("primary {} ({})", row[0], row[1]));
        }
    }
    lines.sort();
    lines
}

/// Takes a ledger back from schema 11's folded keys (and schema 12's
/// invoice tables, schema 13's budget tables) to schema 10.
const UNDO_FOLDED_KEYS: &str =
    "DROP TABLE budget_stamps; DROP TABLE webhook_deliveries; DROP TABLE webhooks; \
     DROP TABLE budget_alerts; DROP TABLE budgets; \
     DROP TABLE invoice_locks; DROP TABLE invoices; \
     ALTER TABLE entries DROP COLUMN client_key; \
     ALTER TABLE entries DROP COLUMN project_key; \
     ALTER TABLE entries DROP COLUMN deliverable_key; \
     DELETE FROM gencost_schema WHERE version >= 11;";

/// A ledger of schema 10 holding names that are one name only under the
/// folding rule of schema 11 (`Straße` and `STRASSE`, two names under
/// `lower()`): `db migrate` lists them, and after it they filter, total,
/// suggest and roll up as one name, under the spelling logged first, and
/// `verify` passes.
#[test]
fn the_upgrade_to_folded_keys_merges_names_that_fold_equal() {
    for ledger in TestLedger::each() {
        let log = |client: &str, cost: &str| {
            ledger.ok(&["log", "--model", "m", "--cost", cost, "--client", client]);
        };
        log("Straße", "1");
        log("Örebro Film", "2");
        // Without the spelling on record, the next log keeps its own: how a
        // schema-10 ledger came to hold both.
        common::exec_sql(&ledger.url, "DELETE FROM tag_spellings");
        log("STRASSE", "4");
        log("Acme", "8");
        // Schema 10 kept a spelling for each of them (keyed by `lower()`).
        common::exec_sql(
            &ledger.url,
            "INSERT INTO tag_spellings (field, folded, name) VALUES ('client', 'straße', 'Straße')",
        );
        common::exec_script(&ledger.url, UNDO_FOLDED_KEYS);
        if ledger.url.starts_with("postgres") {
            let refused = ledger.run(&["total"]);
            assert_eq!(refused.code, 1, "{}", refused.stderr);
        }
        let plan = ledger.ok(&["db", "migrate", "--dry-run"]);
        assert!(
            plan.contains("client 'Straße' also takes 'STRASSE'"),
            "[{}] {plan}",
            ledger.backend
        );
        assert!(!plan.contains("Örebro"), "{plan}");
        ledger.ok(&["db", "migrate"]);
        assert_eq!(schema_version(&ledger), "13");
        let verified = ledger.run(&["verify"]);
        assert_eq!(verified.code, 0, "[{}] {}", ledger.backend, verified.stdout);
        for spelled in ["strasse", "STRASSE", "Straße", "straße"] {
            let total = ledger.json(&["total", "--client", spelled, "--json"]);
            assert_eq!(
                total["total"], "5",
                "[{}] {spelled}: {total}",
                ledger.backend
            );
            // A bound inside a day reads the entries instead of the rollups.
            let scanned = ledger.json(&[
                "total",
                "--client",
                spelled,
                "--since",
                "2000-01-01T00:00:01Z",
                "--json",
            ]);
            assert_eq!(scanned["total"], "5", "[{}] {spelled}", ledger.backend);
        }
        let by_client = ledger.json(&["total", "--by", "client", "--json"]);
        let names: Vec<&str> = by_client["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|g| g["key"].as_str())
            .collect();
        assert_eq!(names.len(), 3, "[{}] {by_client}", ledger.backend);
        assert!(names.contains(&"Straße"), "{names:?}");
        let suggested = ledger.json(&["tags", "client", "--prefix", "STR", "--json"]);
        assert_eq!(
            suggested.as_array().map(Vec::len),
            Some(1),
            "[{}] {suggested}",
            ledger.backend
        );
        // New logs take the first spelling.
        log("strasse", "16");
        let listed = ledger.json(&["list", "--client", "STRASSE", "--json"]);
        let newest = &listed[0];
        assert_eq!(newest["client"], "Straße", "{listed}");
    }
}

/// Takes a ledger back from schema 10's entry positions to the column
/// name schemas 3 to 9 had.
fn undo_entry_positions(url: &str) -> &'static str {
    if url.starts_with("postgres") {
        "ALTER TABLE entries RENAME COLUMN position TO logged_seq; \
         ALTER INDEX entries_by_position RENAME TO entries_by_seq;"
    } else {
        "ALTER TABLE entries RENAME COLUMN position TO logged_seq;"
    }
}

/// Where the two schemas differ on purpose (migration 0003 says why): on
/// SQLite entries are keyed by their rowid, `position`, which also ends
/// every index key; PostgreSQL keeps `id` as the key and indexes
/// `position` explicitly.
const DELIBERATE: &[(&str, &str)] = &[
    ("primary entries (position)", "primary entries (id)"),
    (
        "index entries.entries_by_id (id) unique ",
        "index entries.entries_by_position (position) unique ",
    ),
    (
        "index entries.entries_by_time (occurred_at)  ",
        "index entries.entries_by_time (occurred_at,position)  ",
    ),
];

#[test]
fn both_backends_have_the_same_schema() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let sqlite = TestLedger::sqlite();
    let postgres = TestLedger::postgres(&admin);
    // `db migrate` creates a new ledger at this binary's schema.
    sqlite.ok(&["db", "migrate"]);
    postgres.ok(&["db", "migrate"]);
    let (mut a, mut b) = (schema(&sqlite.url), schema(&postgres.url));
    assert!(
        a.iter().any(|l| l == "column events.hash text not null"),
        "{a:#?}"
    );
    assert!(
        a.iter().any(|l| l == "primary fx_rates (currency,day)"),
        "{a:#?}"
    );
    assert!(
        a.iter()
            .any(|l| l.starts_with("index entries.entries_model_runs (model,position)  partial")),
        "{a:#?}"
    );
    for (on_sqlite, on_postgres) in DELIBERATE {
        let found = (
            a.iter().position(|l| l == on_sqlite),
            b.iter().position(|l| l == on_postgres),
        );
        let (Some(i), Some(j)) = found else {
            panic!(
                "the deliberate difference {on_sqlite:?} / {on_postgres:?} is gone: {a:#?} {b:#?}"
            );
        };
        a.remove(i);
        b.remove(j);
    }
    assert_eq!(
        a, b,
        "migrations/sqlite and migrations/postgres have drifted apart"
    );
}

#[test]
fn migration_files_are_paired_by_name() {
    let names = |dir: &str| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let root = env!("CARGO_MANIFEST_DIR");
    assert_eq!(
        names(&format!("{root}/migrations/sqlite")),
        names(&format!("{root}/migrations/postgres"))
    );
}

/// The PostgreSQL migration computes the request keys of entries logged
/// before it in SQL; they must equal the keys gencost computes, or those
/// entries could be logged twice.
#[test]
fn request_keys_filled_in_by_the_postgres_migration_find_their_entries() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let ledger = TestLedger::postgres(&admin);
    let ids = [
        "req-1",
        "3f1c9a52-7a1e-4c1b-9a55-0d6f1e0b7c21",
        "ünï-çødé 名前",
    ];
    for id in ids {
        ledger.ok(&["log", "--model", "m", "--request-id", id]);
    }
    let migration = include_str!("../migrations/postgres/0003_entries_by_seq.sql");
    let expression = migration
        .split("SET request_key = ")
        .nth(1)
        .and_then(|rest| rest.split("\nWHERE").next())
        .expect("the migration sets request_key from an expression");
    let filled = exec_sql(
        &ledger.url,
        &format!("UPDATE entries SET request_key = {expression} WHERE request_id IS NOT NULL"),
    );
    assert_eq!(filled, 3);
    for id in ids {
        let again = ledger.run(&["log", "--model", "m", "--request-id", id]);
        assert!(
            again.stderr.contains("already logged"),
            "{id}: {}",
            again.stderr
        );
    }
    assert_eq!(
        ledger.json(&["list", "--json"]).as_array().unwrap().len(),
        3
    );
}

/// A ledger as a gencost of schema 2 left it: migrations 0001 and 0002, and
/// one entry logged through that schema's columns.
fn schema_2_ledger(ledger: &TestLedger) {
    let dir = if ledger.url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let read =
        |name: &str| std::fs::read_to_string(format!("{root}/migrations/{dir}/{name}")).unwrap();
    let script = format!(
        "CREATE TABLE gencost_schema (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);\n\
         {}\n{}\n\
         INSERT INTO gencost_schema VALUES (1, '0001_ledger', 0), (2, '0002_rates_and_pricing', 0);",
        read("0001_ledger.sql"),
        read("0002_rates_and_pricing.sql"),
    );
    common::exec_script(&ledger.url, &script);
}

fn schema_version(ledger: &TestLedger) -> String {
    common::query_text(&ledger.url, "SELECT MAX(version) FROM gencost_schema")[0][0].clone()
}

#[test]
fn a_shared_postgres_ledger_is_upgraded_only_by_db_migrate() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let ledger = TestLedger::postgres(&admin);
    schema_2_ledger(&ledger);
    for args in [
        &["list"][..],
        &["log", "--model", "m"],
        &["total"],
        &["verify"],
    ] {
        let run = ledger.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("schema is version 2 and this gencost needs version 13")
                && run.stderr.contains("gencost db migrate"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    }
    assert_eq!(schema_version(&ledger), "2", "refusing changed nothing");

    let plan = ledger.ok(&["db", "migrate", "--dry-run"]);
    assert!(
        plan.contains("schema 2 -> 13")
            && plan
                .contains("0003_entries_by_seq, 0004_charged, 0005_batches, 0006_grouping_costs"),
        "{plan}"
    );
    assert_eq!(schema_version(&ledger), "2", "a dry run changes nothing");

    let done = ledger.run(&["db", "migrate"]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(done.stderr.contains("may take about"), "{}", done.stderr);
    assert!(
        done.stdout.contains("upgraded to schema 13"),
        "{}",
        done.stdout
    );
    assert_eq!(schema_version(&ledger), "13");
    ledger.ok(&["log", "--model", "m", "--cost", "1"]);
    assert!(ledger.ok(&["verify"]).starts_with("ok"));
    assert!(ledger.ok(&["db", "migrate"]).contains("nothing to do"));
}

#[test]
fn a_private_sqlite_ledger_upgrades_on_open_after_a_backup() {
    let ledger = TestLedger::sqlite();
    schema_2_ledger(&ledger);
    let run = ledger.run(&["list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("upgraded this ledger from schema 2 to 13"),
        "{}",
        run.stderr
    );
    assert_eq!(schema_version(&ledger), "13");
    let backup = run
        .stderr
        .split("the file as it was is at ")
        .nth(1)
        .map(str::trim)
        .expect("the backup's path");
    let backup_url = format!("sqlite://{backup}");
    assert_eq!(
        common::query_text(&backup_url, "SELECT MAX(version) FROM gencost_schema")[0][0],
        "2",
        "the backup is the ledger as it was"
    );
    // Opened again: nothing more to do, and no second note.
    assert!(ledger.run(&["list"]).stderr.is_empty());
}

#[test]
fn a_database_that_is_not_a_gencost_ledger_is_left_untouched() {
    let ledger = TestLedger::sqlite();
    common::exec_script(
        &ledger.url,
        "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('my own data');",
    );
    let digest = |path: std::path::PathBuf| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
    };
    let before = digest(ledger.sqlite_path());
    for args in [&["list"][..], &["log", "--model", "m"]] {
        let run = ledger.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("not a gencost ledger"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(
        digest(ledger.sqlite_path()),
        before,
        "the file is byte for byte as it was"
    );
}

#[test]
fn a_dry_run_of_db_migrate_changes_nothing_and_a_migrate_of_sqlite_keeps_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.db");
    let url = format!("sqlite://{}", missing.display());
    let run = run_with(
        &url,
        dir.path(),
        dir.path(),
        &["db", "migrate", "--dry-run"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!missing.exists(), "a dry run creates no file");

    if let Some(admin) = postgres_admin_url() {
        let empty = TestLedger::postgres(&admin);
        let plan = empty.ok(&["db", "migrate", "--dry-run"]);
        assert!(plan.contains("would create a new ledger"), "{plan}");
        let tables = common::query_text(
            &empty.url,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        );
        assert_eq!(tables[0][0], "0", "a dry run creates no table");
    }

    let ledger = TestLedger::sqlite();
    schema_2_ledger(&ledger);
    let done = ledger.run(&["db", "migrate"]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    let backup = done
        .stdout
        .split("the ledger as it was is at ")
        .nth(1)
        .map(str::trim)
        .unwrap_or_else(|| panic!("no backup named: {}", done.stdout));
    assert_eq!(
        common::query_text(
            &format!("sqlite://{backup}"),
            "SELECT MAX(version) FROM gencost_schema"
        )[0][0],
        "2"
    );
    assert_eq!(schema_version(&ledger), "13");
}

/// A ledger of schema 7 with entries gets its cost rollups filled by the
/// upgrades (schema 8 for model and deliverable, 9 for kind, client and
/// project, which replace three covering indexes): verify passes and the
/// totals by each key are the same before and after.
#[test]
fn the_upgrade_to_cost_rollups_sums_the_entries_already_there() {
    const BY: [&str; 5] = ["model", "deliverable", "kind", "client", "project"];
    for ledger in TestLedger::each() {
        for (model, cost, currency, client, project) in [
            ("a", "1.25", "USD", "Acme", "Spot"),
            ("a", "2", "SEK", "acme", "Teaser"),
            ("b", "0.5", "USD", "Zeta", "Spot"),
        ] {
            ledger.ok(&[
                "log",
                "--model",
                model,
                "--cost",
                cost,
                "--currency",
                currency,
                "--deliverable",
                "Spot",
                "--client",
                client,
                "--project",
                project,
            ]);
        }
        let id = ledger
            .ok(&["log", "--model", "b", "--cost", "9", "--client", "Zeta"])
            .trim()
            .to_string();
        ledger.ok(&["void", &id, "--reason", "test"]);
        ledger.ok(&["log", "--model", "c"]);
        ledger.ok(&[
            "log",
            "--kind",
            "external",
            "--source",
            "Midjourney",
            "--model",
            "midjourney",
            "--cost",
            "-3",
            "--project",
            "Spot",
        ]);
        // A bound inside a day makes the totals read the entries.
        let totals = |since: &str| -> Vec<serde_json::Value> {
            BY.iter()
                .map(|by| {
                    ledger.json(&["total", "--by", by, "--json", "--since", since])["groups"]
                        .clone()
                })
                .collect()
        };
        let before = totals("2000-01-01T00:00:01Z");
        common::exec_script(
            &ledger.url,
            "DROP TABLE cost_rollups; \
             CREATE INDEX entries_project_costs ON entries (project, cost_currency, day, occurred_at, cost_micros) WHERE is_void = 0 AND charged = 1; \
             CREATE INDEX entries_client_costs ON entries (client, cost_currency, day, occurred_at, cost_micros) WHERE is_void = 0 AND charged = 1; \
             CREATE INDEX entries_kind_costs ON entries (kind, cost_currency, day, occurred_at, cost_micros) WHERE is_void = 0 AND charged = 1; \
             DELETE FROM gencost_schema WHERE version >= 8;",
        );
        common::exec_script(&ledger.url, UNDO_FOLDED_KEYS);
        common::exec_script(&ledger.url, undo_entry_positions(&ledger.url));
        if ledger.url.starts_with("postgres") {
            ledger.ok(&["db", "migrate"]);
        }
        let upgraded = ledger.run(&["verify"]);
        assert_eq!(
            upgraded.code, 0,
            "[{}] {}{}",
            ledger.backend, upgraded.stdout, upgraded.stderr
        );
        assert_eq!(schema_version(&ledger), "13");
        let after = totals("2000-01-01T00:00:00Z");
        assert_eq!(before, after, "[{}]", ledger.backend);
        let groups = |i: usize| after[i].as_array().unwrap().len();
        assert_eq!(
            (groups(0), groups(2), groups(3), groups(4)),
            (4, 2, 3, 3),
            "models a, b, c, midjourney; kinds; clients Acme, Zeta and none; projects {after:?}"
        );
    }
}
