//! End to end: `gencost export xlsx` writes a workbook a spreadsheet opens
//! with typed cells (read back with calamine, a reader independent of the
//! writer), `GET /api/v1/export.xlsx` serves the same workbook, and `export
//! csv --excel --delimiter ';'` writes what Excel in a Swedish or German
//! locale reads.

mod common;
use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use common::server::{http_client, Server};
use common::TestLedger;
use std::io::{Cursor, Read};

type Sheet = calamine::Range<Data>;

/// Runs `gencost` on `ledger`, asserting success; its stdout as bytes.
fn run_bytes(ledger: &TestLedger, args: &[&str]) -> Vec<u8> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gencost"))
        .args(args)
        .env("GENCOST_DATABASE", &ledger.url)
        .env("GENCOST_CONFIG_DIR", ledger.config_dir())
        .env("GENCOST_DATA_DIR", ledger.dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn sheets(bytes: &[u8]) -> (Sheet, Sheet, Xlsx<Cursor<Vec<u8>>>) {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an XLSX");
    assert_eq!(book.sheet_names(), ["Entries", "Totals"]);
    let entries = book.worksheet_range("Entries").unwrap();
    let totals = book.worksheet_range("Totals").unwrap();
    (entries, totals, book)
}

/// A part of the workbook's zip archive, as text.
fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    zip.by_name(name)
        .unwrap_or_else(|_| panic!("no {name}"))
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn column(sheet: &Sheet, name: &str) -> usize {
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// The row whose `column` holds `text`.
fn row_with<'a>(sheet: &'a Sheet, col: usize, text: &str) -> &'a [Data] {
    sheet
        .rows()
        .find(|r| r[col] == Data::String(text.to_string()))
        .unwrap_or_else(|| panic!("no row with {text}"))
}

/// A spreadsheet's serial day number of a UTC time (days since 1899-12-30).
fn serial(rfc3339: &str) -> f64 {
    let t: jiff::Timestamp = rfc3339.parse().unwrap();
    let epoch: jiff::Timestamp = "1899-12-30T00:00:00Z".parse().unwrap();
    (t.as_millisecond() - epoch.as_millisecond()) as f64 / 86_400_000.0
}

fn ledger_with_entries(ledger: &TestLedger) {
    ledger.ok(&[
        "log",
        "--model",
        "fal-ai/flux/dev",
        "--cost",
        "0.0035",
        "--client",
        "=HYPERLINK(\"http://x\")",
        "--project",
        "Spot",
        "--at",
        "2026-03-02T10:00:00.250Z",
    ]);
    ledger.ok(&[
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
        "--client",
        "Örebro Film",
        "--project",
        "Spot",
        "--at",
        "2026-03-03",
    ]);
    ledger.ok(&[
        "log",
        "--model",
        "m",
        "--cost",
        "12.35",
        "--currency",
        "SEK",
        "--client",
        "Örebro Film",
        "--project",
        "Spot",
        "--at",
        "2026-03-04T08:30:00Z",
    ]);
    ledger.ok(&[
        "log",
        "--model",
        "m",
        "--cost",
        "2",
        "--client",
        "örebro film",
        "--project",
        "SPOT",
        "--at",
        "2026-03-05T08:30:00Z",
    ]);
}

#[test]
fn the_workbook_has_typed_cells_a_frozen_header_and_totals() {
    for ledger in TestLedger::each() {
        ledger_with_entries(&ledger);
        let out = ledger.dir.path().join("ledger.xlsx");
        let out_text = out.display().to_string();
        let summary = ledger.json(&["export", "xlsx", "-o", &out_text, "--json"]);
        assert_eq!(summary["rows"], 4, "[{}]", ledger.backend);
        let bytes = std::fs::read(&out).unwrap();
        let (entries, totals, mut book) = sheets(&bytes);
        assert_eq!(entries.height(), 5);

        // Times: date cells, UTC as the header says, to the millisecond.
        let at = column(&entries, "occurred_at (UTC)");
        let client = column(&entries, "client");
        let flux = row_with(&entries, client, "=HYPERLINK(\"http://x\")");
        match &flux[at] {
            Data::DateTime(t) => {
                assert!(t.is_datetime());
                assert!(
                    (t.as_f64() - serial("2026-03-02T10:00:00.250Z")).abs() < 1e-9,
                    "{t:?}"
                );
            }
            other => panic!("the time is {other:?}, not a date cell"),
        }
        // Amounts: numbers, exact as the spreadsheet shows them.
        let cost = column(&entries, "cost");
        assert_eq!(flux[cost], Data::Float(0.0035));
        let orebro = row_with(&entries, column(&entries, "source"), "Midjourney");
        assert_eq!(orebro[cost], Data::Float(1234.5));
        assert_eq!(
            orebro[column(&entries, "cost_currency")],
            Data::String("EUR".into())
        );
        assert_eq!(orebro[client], Data::String("Örebro Film".into()));
        assert_eq!(flux[column(&entries, "counted")], Data::Bool(true));
        assert_eq!(flux[column(&entries, "duration_ms")], Data::Empty);
        // Text that looks like a formula is a string cell, and the
        // workbook holds no formula at all.
        assert_eq!(
            flux[client],
            Data::String("=HYPERLINK(\"http://x\")".into())
        );
        let formulas = book.worksheet_formula("Entries").unwrap();
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "a formula"
        );
        let sheet = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(!sheet.contains("<f>"), "a formula in the sheet");
        // The header row is frozen, and each currency has its format.
        assert!(
            sheet.contains(
                r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
            ),
            "{sheet}"
        );
        let styles = part(&bytes, "xl/styles.xml");
        for format in [
            r##"formatCode="&quot;$&quot;#,##0.00####;-&quot;$&quot;#,##0.00####""##,
            r##"formatCode="&quot;€&quot;#,##0.00####;-&quot;€&quot;#,##0.00####""##,
            r##"formatCode="#,##0.0#####&quot; kr&quot;;-#,##0.0#####&quot; kr&quot;""##,
            r##"formatCode="yyyy-mm-dd hh:mm:ss""##,
        ] {
            assert!(styles.contains(format), "{format} in {styles}");
        }

        // Totals per client and project (names folded as `total` folds
        // them) and currency, as numbers.
        let rows: Vec<Vec<String>> = totals
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(
            rows[0],
            [
                "client",
                "project",
                "currency",
                "entries",
                "without a price",
                "cost"
            ]
        );
        let mut body: Vec<Vec<String>> = rows[1..].to_vec();
        body.sort();
        assert_eq!(
            body,
            [
                [
                    "=HYPERLINK(\"http://x\")",
                    "Spot",
                    "USD",
                    "1",
                    "0",
                    "0.0035"
                ],
                ["Örebro Film", "Spot", "EUR", "1", "0", "1234.5"],
                ["Örebro Film", "Spot", "SEK", "1", "0", "12.35"],
                ["Örebro Film", "Spot", "USD", "1", "0", "2"],
            ]
        );
        assert!(totals
            .rows()
            .skip(1)
            .all(|r| matches!(r[5], Data::Float(_))));
        assert!(part(&bytes, "xl/worksheets/sheet2.xml").contains("state=\"frozen\""));

        // In one currency: converted at each day's rate, the rate's date a
        // date cell; the totals sheet then has one currency.
        let eur = ledger.dir.path().join("eur.xlsx");
        ledger.ok(&[
            "export",
            "xlsx",
            "--currency",
            "EUR",
            "-o",
            &eur.display().to_string(),
        ]);
        let bytes = std::fs::read(&eur).unwrap();
        let (entries, totals, _) = sheets(&bytes);
        let flux = row_with(&entries, client, "=HYPERLINK(\"http://x\")");
        assert_eq!(
            flux[column(&entries, "cost_currency")],
            Data::String("EUR".into())
        );
        assert!(
            matches!(flux[column(&entries, "rate_date")], Data::DateTime(_)),
            "{:?}",
            flux
        );
        let currencies: Vec<String> = totals.rows().skip(1).map(|r| r[2].to_string()).collect();
        assert!(currencies.iter().all(|c| c == "EUR"), "{currencies:?}");
        assert_eq!(currencies.len(), 2);

        // Filters as everywhere: one client.
        let one = ledger.dir.path().join("one.xlsx");
        ledger.ok(&[
            "export",
            "xlsx",
            "--client",
            "örebro film",
            "-o",
            &one.display().to_string(),
        ]);
        let (entries, _, _) = sheets(&std::fs::read(&one).unwrap());
        assert_eq!(entries.height(), 4);
        // To stdout with `-o -`: the same workbook.
        let run = run_bytes(&ledger, &["export", "xlsx", "-o", "-"]);
        let (entries, _, _) = sheets(&run);
        assert_eq!(entries.height(), 5);
    }
}

#[test]
fn bad_input_writes_no_workbook() {
    let ledger = TestLedger::sqlite();
    ledger_with_entries(&ledger);
    let dir = ledger.dir.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let out = dir.join("x.xlsx").display().to_string();
    for (args, message) in [
        (
            vec!["--currency", "XYZ"],
            "--currency: unknown currency code 'XYZ'",
        ),
        (vec!["--since", "last week"], "--since: malformed time"),
    ] {
        let mut all = vec!["export", "xlsx"];
        all.extend(args.iter());
        all.extend(["-o", out.as_str()]);
        let run = ledger.run(&all);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{}", run.stderr);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "{args:?} wrote a file"
        );
    }
    let run = ledger.run(&["export", "xlsx"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--output"), "{}", run.stderr);
}

#[test]
fn csv_for_excel_has_a_byte_order_mark_and_takes_a_semicolon() {
    let ledger = TestLedger::sqlite();
    ledger_with_entries(&ledger);
    let plain = run_bytes(&ledger, &["export", "csv"]);
    assert!(plain.starts_with(b"id,occurred_at,"));
    let excel = run_bytes(&ledger, &["export", "csv", "--excel", "--delimiter", ";"]);
    assert!(
        excel.starts_with("\u{feff}id;occurred_at;kind;".as_bytes()),
        "{:?}",
        &excel[..20]
    );
    let text = String::from_utf8(excel[3..].to_vec()).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().any(|r| r.iter().any(|c| c == "Örebro Film")));
    // The same rows as the default file, only the separator differs.
    let mut default = csv::Reader::from_reader(&plain[..]);
    let default_rows: Vec<csv::StringRecord> = default.records().map(Result::unwrap).collect();
    assert_eq!(rows, default_rows);
    // To a file as well.
    let out = ledger.dir.path().join("x.csv");
    ledger.ok(&["export", "csv", "--excel", "-o", &out.display().to_string()]);
    assert!(std::fs::read(&out)
        .unwrap()
        .starts_with("\u{feff}id,".as_bytes()));
    // A delimiter gencost does not write is refused, naming the flag.
    let bad = ledger.dir.path().join("bad.csv");
    let run = ledger.run(&[
        "export",
        "csv",
        "--delimiter",
        "|",
        "-o",
        &bad.display().to_string(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--delimiter: '|'"), "{}", run.stderr);
    assert!(!bad.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_serves_the_same_workbook_with_the_same_filters() {
    let ledger = TestLedger::sqlite();
    ledger_with_entries(&ledger);
    let server = Server::start(&ledger, &[]);
    let response = http_client(true)
        .get(server.api("/export.xlsx?client=%C3%B6rebro%20film&currency=EUR"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    // Named after its scope, as the CSV is.
    let disposition = response.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("gencost-orebro-film-") && disposition.ends_with(".xlsx\""),
        "{disposition}"
    );
    let bytes = response.bytes().await.unwrap();
    let (entries, _, _) = sheets(&bytes);
    let out = ledger.dir.path().join("cli.xlsx");
    ledger.ok(&[
        "export",
        "xlsx",
        "--client",
        "örebro film",
        "--currency",
        "EUR",
        "-o",
        &out.display().to_string(),
    ]);
    let (cli, _, _) = sheets(&std::fs::read(&out).unwrap());
    assert_eq!(entries, cli);
    assert_eq!(entries.height(), 4);
    // A bad parameter is a 400 naming it, as for the CSV.
    let bad = http_client(true)
        .get(server.api("/export.xlsx?currency=XYZ"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("currency"));
}
