//! End to end: `gencost export csv` writes one row per entry that a
//! spreadsheet opens cleanly, with plain-number amounts and neutralised
//! formula text.

mod common;
use common::TestLedger;

fn records(csv_text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn cell<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &row[i]
}

#[test]
fn every_entry_is_one_row_with_plain_amounts_and_safe_text() {
    for ledger in TestLedger::each() {
        ledger.ok(&[
            "log",
            "--model",
            "fal-ai/flux/dev",
            "--param",
            "num_images=2",
            "--client",
            "=HYPERLINK(\"http://x\")",
            "--project",
            "Spot, \"A\"",
            "--description",
            "line one\nline two",
            "--at",
            "2026-03-02T10:00:00Z",
        ]);
        let external = ledger
            .ok(&[
                "log",
                "--kind",
                "external",
                "--source",
                "Midjourney",
                "--model",
                "mj",
                "--cost",
                "1234.5",
                "--currency",
                "EUR",
                "--at",
                "2026-03-03",
            ])
            .trim()
            .to_string();
        let voided = ledger
            .ok(&[
                "log",
                "--model",
                "m",
                "--cost",
                "0.0035",
                "--at",
                "2026-03-01",
            ])
            .trim()
            .to_string();
        ledger.ok(&["confirm", &external, "--actual", "1200"]);
        ledger.ok(&["void", &voided, "--reason=-retake"]);

        let (header, rows) = records(&ledger.ok(&["export", "csv"]));
        assert_eq!(header[0], "id");
        assert_eq!(
            rows.len(),
            2,
            "[{}] void entries are left out",
            ledger.backend
        );
        let (mj, flux) = (&rows[0], &rows[1]);
        assert_eq!(cell(&header, mj, "kind"), "external");
        assert_eq!(cell(&header, mj, "estimated_cost"), "1234.5");
        assert_eq!(cell(&header, mj, "actual_cost"), "1200");
        assert_eq!(cell(&header, mj, "cost"), "1200");
        assert_eq!(cell(&header, mj, "cost_currency"), "EUR");
        assert_eq!(cell(&header, mj, "cost_tier"), "billed");
        assert_eq!(cell(&header, flux, "client"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(cell(&header, flux, "project"), "Spot, \"A\"");
        assert_eq!(cell(&header, flux, "description"), "line one\nline two");
        assert_eq!(cell(&header, flux, "cost"), "0.05");
        assert_eq!(cell(&header, flux, "occurred_at"), "2026-03-02T10:00:00Z");
        assert_eq!(cell(&header, flux, "counted"), "true");
        assert!(cell(&header, flux, "license").starts_with("commercial"));

        let (_, all) = records(&ledger.ok(&["export", "csv", "--include-void"]));
        assert_eq!(all.len(), 3);
        let void_row = &all[2];
        assert_eq!(cell(&header, void_row, "void"), "true");
        assert_eq!(cell(&header, void_row, "void_reason"), "'-retake");
        assert_eq!(
            cell(&header, void_row, "cost"),
            "0.0035",
            "exact, never rounded"
        );

        let (_, sek) = records(&ledger.ok(&["export", "csv", "--currency", "SEK"]));
        assert_eq!(cell(&header, &sek[0], "cost_currency"), "SEK");
        assert!(!cell(&header, &sek[0], "rate_date").is_empty());
        assert!(
            !cell(&header, &sek[0], "cost").contains(','),
            "a plain number"
        );

        let filtered = ledger.ok(&["export", "csv", "--kind", "external"]);
        assert_eq!(records(&filtered).1.len(), 1);
    }
}

#[test]
fn rows_are_newest_first_whatever_order_they_were_logged_in() {
    for ledger in TestLedger::each() {
        // Logged out of date order, two on one instant.
        let dates = [
            "2026-02-10T09:00:00Z",
            "2026-01-05T09:00:00Z",
            "2026-03-01T09:00:00Z",
            "2026-01-05T09:00:00Z",
            "2026-02-28T23:59:59Z",
        ];
        let ids: Vec<String> = dates
            .iter()
            .map(|at| {
                ledger
                    .ok(&["log", "--model", "m", "--cost", "1", "--at", at])
                    .trim()
                    .to_string()
            })
            .collect();
        // Newest first; on one instant, the later logged first.
        let expected: Vec<&str> = [2, 4, 0, 3, 1].iter().map(|&i| ids[i].as_str()).collect();
        let order = |args: &[&str]| -> Vec<String> {
            let (header, rows) = records(&ledger.ok(args));
            rows.iter()
                .map(|row| cell(&header, row, "id").to_string())
                .collect()
        };
        // The whole ledger (read in log order, then sorted) and a range
        // (read through the date index) list the same rows the same way.
        assert_eq!(order(&["export", "csv"]), expected, "[{}]", ledger.backend);
        assert_eq!(
            order(&["export", "csv", "--since", "2000-01-01"]),
            expected,
            "[{}]",
            ledger.backend
        );
    }
}

/// Temporary files of an export left in `dir`.
fn partial_files(dir: &std::path::Path) -> Vec<std::fs::DirEntry> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect()
}

#[test]
fn an_export_to_a_file_is_written_whole_or_not_at_all() {
    let ledger = TestLedger::sqlite();
    for i in 0..1_200 {
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
    let path = ledger.dir.path().join("ledger.csv");
    let summary = ledger.json(&["export", "csv", "-o", path.to_str().unwrap(), "--json"]);
    assert_eq!(summary["rows"], 1_200, "more than one page of entries");
    let (_, rows) = records(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(rows.len(), 1_200);
    let ids: std::collections::HashSet<&String> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(ids.len(), 1_200, "no row twice across pages");

    let missing_dir = ledger.dir.path().join("no/such/dir/out.csv");
    let run = ledger.run(&["export", "csv", "-o", missing_dir.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no/such/dir/out.csv"), "{}", run.stderr);
    let leftovers = partial_files(ledger.dir.path());
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_export_whose_rename_fails_leaves_no_partial_file() {
    let ledger = TestLedger::sqlite();
    ledger.ok(&["log", "--model", "m", "--cost", "0.01"]);
    // A directory where the file should go: the export is written, and the
    // rename over the directory fails.
    let target = ledger.dir.path().join("taken.csv");
    std::fs::create_dir(&target).unwrap();
    let run = ledger.run(&["export", "csv", "-o", target.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot write"), "{}", run.stderr);
    assert!(run.stderr.contains("taken.csv"), "{}", run.stderr);
    assert!(target.is_dir(), "the directory is left as it was");
    let leftovers = partial_files(ledger.dir.path());
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
