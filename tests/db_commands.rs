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
        assert_eq!(info["schema_version"], 3);
        assert_eq!(info["events"], 14);
        assert_eq!(info["entries"], 12);
        assert!(ledger.ok(&["db", "info"]).contains("schema version  3"));
    }
}

#[test]
fn db_info_redacts_the_password() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    // The test server trusts local connections, so any password is accepted.
    let with_password = admin.replacen(
        "postgres://postgres@",
        "postgres://postgres:hunter2secret@",
        1,
    );
    assert_ne!(
        with_password, admin,
        "the test URL has the form postgres://postgres@host/db"
    );
    let dir = tempfile::tempdir().unwrap();
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

/// Tables and columns of a ledger, from the database's own catalogue.
fn schema(url: &str) -> Vec<(String, String)> {
    let url = url.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    common::on_own_runtime(move || async move {
        use sqlx::{Connection, Row};
        let columns: Vec<(String, String)> = if url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query("SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema()")
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
                .collect()
        } else {
            let conn = rusqlite::Connection::open(url.trim_start_matches("sqlite://")).unwrap();
            let mut statement = conn
                .prepare("SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p WHERE m.type = 'table'")
                .unwrap();
            let rows = statement
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            rows.map(Result::unwrap).collect()
        };
        tx.send(columns).unwrap();
    });
    let mut columns = rx.recv().unwrap();
    columns.sort();
    columns
}

#[test]
fn both_backends_have_the_same_tables_and_columns() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let sqlite = TestLedger::sqlite();
    let postgres = TestLedger::postgres(&admin);
    sqlite.ok(&["db", "info"]);
    postgres.ok(&["db", "info"]);
    let (a, b) = (schema(&sqlite.url), schema(&postgres.url));
    assert!(a.iter().any(|(t, c)| t == "events" && c == "hash"), "{a:?}");
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
