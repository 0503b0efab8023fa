//! End-to-end: names match by one folding rule on every backend (filters,
//! prefix suggestions, rollups, the one-spelling merge; CLI and API), and
//! date ranges: `--until` a date includes that day, `--month`, `--on`.

mod common;
use common::server::{http_client, Server};
use common::TestLedger;
use serde_json::Value;

/// The total of `--client NAME` as the rollups answer it, as the entries
/// answer it (a bound inside a day), and grouped by client.
fn client_totals(ledger: &TestLedger, name: &str) -> [String; 3] {
    let total = |extra: &[&str]| {
        let mut args = vec!["total", "--client", name, "--json"];
        args.extend_from_slice(extra);
        ledger.json(&args)["total"].as_str().unwrap().to_string()
    };
    [
        total(&[]),
        total(&["--since", "2000-01-01T00:00:01Z"]),
        total(&["--by", "client"]),
    ]
}

fn suggested(ledger: &TestLedger, prefix: &str) -> Vec<String> {
    ledger
        .json(&["tags", "client", "--prefix", prefix, "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["value"].as_str().unwrap().to_string())
        .collect()
}

const CLIENTS: [(&str, &str); 8] = [
    ("Örebro Film", "1"),
    ("Straße", "2"),
    ("ΣΟΦΙΑΣ", "4"),
    ("Ålesund", "8"),
    ("50%_off", "16"),
    ("50xy off", "32"),
    ("Sıla", "64"),
    ("Silas", "128"),
];

#[test]
fn names_match_one_way_on_every_backend() {
    for ledger in TestLedger::each() {
        for (client, cost) in CLIENTS {
            ledger.ok(&["log", "--model", "m", "--cost", cost, "--client", client]);
        }
        let b = ledger.backend;
        for (spelled, expected) in [
            ("Örebro Film", "1"),
            ("örebro film", "1"),
            ("ÖREBRO FILM", "1"),
            ("O\u{308}rebro  Film", "1"),
            ("Straße", "2"),
            ("STRASSE", "2"),
            ("strasse", "2"),
            ("ΣΟΦΙΑΣ", "4"),
            ("σοφιας", "4"),
            ("σοφιασ", "4"),
            ("ålesund", "8"),
            ("50%_off", "16"),
            ("50x_off", "0"),
            ("sıla", "64"),
            // Default folding, not the Turkic one: dotless ı is not i.
            ("sila", "0"),
        ] {
            let expected = expected.to_string();
            assert_eq!(
                client_totals(&ledger, spelled),
                [expected.clone(), expected.clone(), expected],
                "[{b}] --client {spelled:?}"
            );
        }
        for prefix in ["Ö", "ö", "O\u{308}", "örebro f"] {
            assert_eq!(
                suggested(&ledger, prefix),
                ["Örebro Film"],
                "[{b}] {prefix}"
            );
        }
        assert_eq!(suggested(&ledger, "STRASS"), ["Straße"], "[{b}]");
        assert_eq!(suggested(&ledger, "straß"), ["Straße"], "[{b}]");
        assert_eq!(suggested(&ledger, "σοφ"), ["ΣΟΦΙΑΣ"], "[{b}]");
        assert_eq!(suggested(&ledger, "50%"), ["50%_off"], "[{b}]");
        assert_eq!(suggested(&ledger, "50_"), Vec::<String>::new(), "[{b}]");
        // A new spelling of a known name is logged as the ledger spells it.
        let respelled = ledger.run(&["log", "--model", "m", "--client", "STRASSE"]);
        assert!(
            respelled.stderr.contains("'Straße'"),
            "{}",
            respelled.stderr
        );
        let listed = ledger.json(&["list", "--client", "strasse", "--json"]);
        let clients: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["client"].as_str().unwrap())
            .collect();
        assert_eq!(clients, ["Straße", "Straße"], "[{b}]");
        let by_client = ledger.json(&["total", "--by", "client", "--json"]);
        assert_eq!(
            by_client["groups"].as_array().unwrap().len(),
            CLIENTS.len(),
            "[{b}] {by_client}"
        );
        let verified = ledger.run(&["verify"]);
        assert_eq!(verified.code, 0, "[{b}] {}", verified.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_matches_names_as_the_cli_does() {
    for ledger in TestLedger::each() {
        for (client, cost) in CLIENTS {
            ledger.ok(&["log", "--model", "m", "--cost", cost, "--client", client]);
        }
        let server = Server::start(&ledger, &[]);
        let client = http_client(false);
        let get = |path: String| {
            let client = client.clone();
            let url = server.api(&path);
            async move {
                let response = client.get(&url).send().await.unwrap();
                assert_eq!(response.status(), 200, "{url}");
                response.json::<Value>().await.unwrap()
            }
        };
        let totals = get("/totals?client=%C3%B6rebro%20film".into()).await;
        assert_eq!(totals["total"], "1", "[{}] {totals}", ledger.backend);
        let totals = get("/totals?client=STRASSE&by=client".into()).await;
        assert_eq!(totals["total"], "2", "[{}] {totals}", ledger.backend);
        let page = get("/entries?client=%CF%83%CE%BF%CF%86%CE%B9%CE%B1%CF%83".into()).await;
        assert_eq!(
            page["entries"].as_array().map(Vec::len),
            Some(1),
            "[{}] {page}",
            ledger.backend
        );
        let tags = get("/tags/client?prefix=%C3%B6".into()).await;
        assert!(
            tags.to_string().contains("Örebro Film"),
            "[{}] {tags}",
            ledger.backend
        );
    }
}

/// Entries at the edges of March 2026, each cost a power of two.
fn march_edges(ledger: &TestLedger) {
    for (at, cost) in [
        ("2026-02-28T23:59:59Z", "1"),
        ("2026-03-01T00:00:00Z", "2"),
        ("2026-03-31T23:59:59Z", "4"),
        ("2026-04-01T00:00:00Z", "8"),
    ] {
        ledger.ok(&["log", "--model", "m", "--cost", cost, "--at", at]);
    }
}

#[test]
fn until_a_date_includes_that_day_and_month_and_on_name_calendar_ranges() {
    for ledger in TestLedger::each() {
        march_edges(&ledger);
        let b = ledger.backend;
        for (range, expected) in [
            (&["--since", "2026-03-01", "--until", "2026-03-31"][..], "6"),
            (&["--month", "2026-03"], "6"),
            (&["--on", "2026-03-31"], "4"),
            (&["--on", "2026-02-28"], "1"),
            (&["--until", "2026-03-31T23:59:59Z"], "3"),
            (&["--until", "2026-03-31"], "7"),
            (
                &[
                    "--since",
                    "2026-03-01",
                    "--until",
                    "2026-03-31",
                    "--by",
                    "client",
                ],
                "6",
            ),
        ] {
            assert_eq!(ledger.total(range), expected, "[{b}] {range:?}");
        }
        let listed = ledger.json(&["list", "--month", "2026-03", "--json"]);
        assert_eq!(listed.as_array().map(Vec::len), Some(2), "[{b}]");
        let csv = ledger.dir.path().join("march.csv");
        ledger.ok(&[
            "export",
            "csv",
            "--on",
            "2026-03-31",
            "-o",
            csv.to_str().unwrap(),
        ]);
        let rows = std::fs::read_to_string(&csv).unwrap().lines().count();
        assert_eq!(rows, 2, "[{b}] a header and the entry of 31 March");
        let html = ledger.dir.path().join("march.html");
        ledger.ok(&[
            "report",
            "html",
            "--month",
            "2026-03",
            "-o",
            html.to_str().unwrap(),
        ]);
        ledger.ok(&["accuracy", "--month", "2026-03"]);

        for (range, says) in [
            (&["--month", "2026-13"][..], "--month"),
            (&["--month", "2026-3"], "--month"),
            (&["--on", "2026-03"], "--on"),
            (&["--on", "2026-03-31T10:00:00Z"], "--on"),
            (&["--month", "2026-03", "--since", "2026-01-01"], "--month"),
            (&["--on", "2026-03-01", "--until", "2026-04-01"], "--on"),
            (&["--until", "31/03/2026"], "--until"),
        ] {
            let mut args = vec!["total"];
            args.extend_from_slice(range);
            let run = ledger.run(&args);
            assert_eq!(run.code, 2, "[{b}] {range:?}: {}", run.stderr);
            assert!(run.stderr.contains(says), "[{b}] {range:?}: {}", run.stderr);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_takes_month_and_on_and_until_a_date_includes_it() {
    let ledger = TestLedger::sqlite();
    march_edges(&ledger);
    let server = Server::start(&ledger, &[]);
    let client = http_client(false);
    for (query, expected) in [
        ("month=2026-03", "6"),
        ("on=2026-03-31", "4"),
        ("since=2026-03-01&until=2026-03-31", "6"),
        ("until=2026-03-31T23:59:59Z", "3"),
    ] {
        let response = client
            .get(server.api(&format!("/totals?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["total"], expected, "{query}: {body}");
    }
    for query in [
        "month=2026-13",
        "month=2026-03&since=2026-01-01",
        "on=yesterday",
    ] {
        let response = client
            .get(server.api(&format!("/totals?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
    }
    let listed = client
        .get(server.api("/entries?month=2026-03"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        listed["entries"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
}

#[test]
fn a_pool_takes_its_month_by_period_or_month() {
    let ledger = TestLedger::sqlite();
    ledger.ok(&[
        "log",
        "--model",
        "m",
        "--cost",
        "1",
        "--project",
        "Spot",
        "--at",
        "2026-03-02",
    ]);
    ledger.ok(&[
        "pool",
        "add",
        "--amount",
        "30",
        "--description",
        "Sub",
        "--month",
        "2026-03",
        "--project",
        "Spot",
    ]);
    assert_eq!(
        ledger.total(&["--month", "2026-03", "--kind", "pool"]),
        "30"
    );
}

/// Two spellings of one name (as a ledger upgraded to the folding rule may
/// hold) are one name in a report: one invoice line, one spelling shown.
#[test]
fn a_report_shows_two_spellings_of_one_name_as_one() {
    for ledger in TestLedger::each() {
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "1",
            "--client",
            "Straße",
            "--project",
            "P",
        ]);
        common::exec_sql(&ledger.url, "DELETE FROM tag_spellings");
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "2",
            "--client",
            "STRASSE",
            "--project",
            "P",
        ]);
        let html = ledger.dir.path().join("r.html");
        ledger.ok(&["report", "html", "-o", html.to_str().unwrap()]);
        let text = std::fs::read_to_string(&html).unwrap();
        let shown = [text.contains("Straße"), text.contains("STRASSE")];
        assert_eq!(
            shown.iter().filter(|s| **s).count(),
            1,
            "[{}] one spelling in the report: {shown:?}",
            ledger.backend
        );
    }
}
