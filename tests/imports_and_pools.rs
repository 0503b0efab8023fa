//! End to end, on each backend: importing external costs (fingerprints,
//! corrections of a provider's growing day buckets, all or nothing, batches
//! voided whole) and pool costs split across projects.

mod common;
use common::TestLedger;
use serde_json::Value;

fn group_totals(ledger: &TestLedger, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["total", "--json"];
    all.extend_from_slice(args);
    let mut groups: Vec<(String, String)> = ledger.json(&all)["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap_or("-").to_string(),
                g["total"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    groups.sort();
    groups
}

fn verified(ledger: &TestLedger) {
    let out = ledger.ok(&["verify"]);
    assert!(out.starts_with("ok"), "{out}");
}

const GENERIC: &str = "date,description,amount,currency,tool,project\n\
2026-11-03,Midjourney Pro,30.00,USD,Midjourney,Summer Spot\n\
2026-11-04,Voice-over,12.50,USD,ElevenLabs,Winter\n\
2026-11-04,Voice-over,12.50,USD,ElevenLabs,Winter\n";

#[test]
fn a_second_import_adds_only_rows_not_yet_imported() {
    for ledger in TestLedger::each() {
        let first = ledger.write_file("costs.csv", GENERIC.as_bytes());
        let report = ledger.json(&["import", &first, "--json"]);
        // Two identical rows in one file are two entries.
        assert_eq!(report["added"], 3, "{}", ledger.backend);
        assert_eq!(report["preset"], "generic");
        assert_eq!(
            report["added_totals"][0]["amount"], "55",
            "{}",
            ledger.backend
        );
        assert!(report["batch"].is_string());

        let again = ledger.json(&["import", &first, "--json"]);
        assert_eq!(
            (again["added"].clone(), again["present"].clone()),
            (0.into(), 3.into())
        );
        assert!(again["batch"].is_null(), "nothing new records no batch");

        // A later export of the same account: other separator, a byte order
        // mark, quoting and decimal commas, one row more.
        let later = "\u{feff}Date;Description;Amount;Currency;Tool;Project\n\
2026-11-03;Midjourney Pro;\"30,00\";usd;Midjourney;Summer Spot\n\
2026-11-04;Voice-over;12,50;USD;ElevenLabs;Winter\n\
2026-11-04;Voice-over;12,50;USD;ElevenLabs;Winter\n\
2026-11-05;Runway credits;-4,00;USD;Runway;Winter\n\n\n";
        let later = ledger.write_file("later.csv", later.as_bytes());
        let report = ledger.json(&["import", &later, "--json"]);
        assert_eq!(report["added"], 1, "{}: {report}", ledger.backend);
        assert_eq!(report["present"], 3);
        assert_eq!(report["refunds"], 1, "the refund is counted as such");
        assert_eq!(ledger.total(&["--kind", "external"]), "51");
        assert_eq!(
            group_totals(&ledger, &["--by", "project"]),
            vec![
                ("Summer Spot".to_string(), "30".to_string()),
                ("Winter".to_string(), "21".to_string())
            ]
        );
        let imports = ledger.json(&["import", "list", "--json"]);
        assert_eq!(imports.as_array().unwrap().len(), 2);
        assert_eq!(imports[1]["file"], "later.csv");
        // The same figures as the API's `GET /imports`.
        assert!(
            imports[1]["live_entries"].as_i64().unwrap() > 0,
            "{imports}"
        );
        assert!(imports[1]["live_totals"].as_array().is_some(), "{imports}");
        verified(&ledger);
    }
}

#[test]
fn a_file_with_a_bad_row_is_refused_whole_and_names_each_line() {
    for ledger in TestLedger::each() {
        let text = "date,description,amount,currency,tool\n\
2026-11-03,fine,1.00,USD,Midjourney\n\
2026-11-04,ambiguous,\"1,234\",USD,Midjourney\n\
2026-11-05,fine,2.00,USD,Midjourney\n\
03/11/2026,no format,3.00,USD,Midjourney\n\
2026-11-06,no amount,,USD,Midjourney\n";
        let path = ledger.write_file("bad.csv", text.as_bytes());
        let before = ledger.events();
        let run = ledger.run(&["import", &path]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("3 bad rows; nothing was imported"),
            "{}",
            run.stderr
        );
        for line in [3, 5, 6] {
            assert!(
                run.stderr.contains(&format!("bad.csv:{line}: ")),
                "line {line}: {}",
                run.stderr
            );
        }
        assert!(!run.stderr.contains("bad.csv:2:"), "{}", run.stderr);
        assert_eq!(ledger.events(), before, "nothing was written");

        // More than twenty bad rows: twenty listed, the rest counted.
        let mut many = String::from("date,description,amount,currency,tool\n");
        for _ in 0..25 {
            many.push_str("2026-11-03,x,abc,USD,Midjourney\n");
        }
        let path = ledger.write_file("many.csv", many.as_bytes());
        let run = ledger.run(&["import", &path]);
        assert_eq!(run.code, 2);
        assert_eq!(
            run.stderr.matches("many.csv:").count(),
            21,
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("and 5 more"), "{}", run.stderr);

        // No source anywhere: refused before any row is read.
        let path = ledger.write_file("nosource.csv", b"date,description,amount\n2026-11-03,x,1\n");
        let run = ledger.run(&["import", &path]);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("--source"), "{}", run.stderr);
        assert_eq!(ledger.events(), before);
    }
}

#[test]
fn a_dry_run_counts_and_shows_but_writes_nothing() {
    for ledger in TestLedger::each() {
        let path = ledger.write_file("costs.csv", GENERIC.as_bytes());
        let before = ledger.events();
        let report = ledger.json(&["import", &path, "--dry-run", "--client", "Acme", "--json"]);
        assert_eq!(report["dry_run"], true);
        assert_eq!(report["added"], 3);
        assert_eq!(report["filled"]["client"], 3, "--client filled every row");
        assert_eq!(report["filled"]["project"], 0, "the file's project wins");
        assert_eq!(report["first_rows"][0]["line"], 2);
        assert_eq!(report["first_rows"][0]["client"], "Acme");
        assert_eq!(ledger.events(), before);
        let text = ledger.ok(&["import", &path, "--dry-run"]);
        assert!(text.contains("would add 3"), "{text}");
        assert!(text.contains("nothing was written"), "{text}");
    }
}

const OPENAI_HEADER: &str = "start_time,end_time,start_time_iso,end_time_iso,amount_value,amount_currency,quantity,quantity_unit,line_item,user_id,api_key_id,project_id,organization_id,project_name,organization_name,user_email,api_source\n";

fn openai_row(day_start: i64, amount: &str, line_item: &str) -> String {
    format!(
        "{day_start},{},,,{amount},usd,10,images,\"{line_item}\",,key_1,proj_1,org-1,Kvarnen Ads,Studio,,\n",
        day_start + 86_400
    )
}

#[test]
fn a_provider_day_that_grew_is_corrected_and_the_void_of_that_import_undoes_it() {
    for ledger in TestLedger::each() {
        let day = 1_793_059_200; // 2026-10-27 00:00 UTC
        let first = format!(
            "{OPENAI_HEADER}{}{}",
            openai_row(
                day,
                "1.500000000000000000000000000000",
                "gpt-image-1, image generation"
            ),
            openai_row(day + 86_400, "", "")
        );
        let first = ledger.write_file("openai-1.csv", first.as_bytes());
        let report = ledger.json(&["import", &first, "--json"]);
        assert_eq!(report["preset"], "openai", "recognised from the header");
        assert_eq!(
            (report["added"].clone(), report["skipped"].clone()),
            (1.into(), 1.into())
        );

        // The next export: the same day, grown, and the next day billed.
        let later = format!(
            "{OPENAI_HEADER}{}{}",
            openai_row(
                day,
                "2.250000000000000000000000000001",
                "gpt-image-1, image generation"
            ),
            openai_row(day + 86_400, "0.75", "gpt-image-1, image generation")
        );
        let later = ledger.write_file("openai-2.csv", later.as_bytes());
        let report = ledger.json(&["import", &later, "--json"]);
        assert_eq!(report["added"], 1, "{}: {report}", ledger.backend);
        assert_eq!(report["corrected"], 1);
        let batch = report["batch"].as_str().unwrap().to_string();
        assert_eq!(ledger.total(&[]), "3");
        let entries = ledger.json(&["list", "--json"]);
        let entries = entries.as_array().unwrap();
        assert_eq!(entries.len(), 2, "a correction, not a second entry");
        let corrected = entries
            .iter()
            .find(|e| e["occurred_at"] == "2026-10-27T00:00:00Z")
            .unwrap();
        // Both figures are kept: the first as logged, the later as billed.
        assert_eq!(corrected["estimate"]["amount"], "1.5");
        assert_eq!(corrected["actual"]["amount"], "2.25");
        assert_eq!(corrected["source"], "OpenAI");
        verified(&ledger);

        // Importing the later export again changes nothing.
        let again = ledger.json(&["import", &later, "--json"]);
        assert_eq!(
            (
                again["added"].clone(),
                again["corrected"].clone(),
                again["present"].clone()
            ),
            (0.into(), 0.into(), 2.into())
        );

        let run = ledger.run(&["pool", "void", &batch, "--reason", "x"]);
        assert_eq!(run.code, 2, "an import is not voided as a pool");
        let voided = ledger.json(&[
            "import",
            "void",
            &batch,
            "--reason",
            "wrong account",
            "--json",
        ]);
        assert_eq!(voided["entries_voided"], 1);
        assert_eq!(voided["corrections_undone"], 1);
        assert_eq!(
            ledger.total(&[]),
            "1.5",
            "back to the first import's figure"
        );
        let imports = ledger.json(&["import", "list", "--json"]);
        assert_eq!(imports[1]["void_reason"], "wrong account");
        let run = ledger.run(&["import", "void", &batch, "--reason", "again"]);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("already void"), "{}", run.stderr);
        verified(&ledger);
    }
}

/// Costs typed by hand, some over 100 × the catalog's estimate: confirmed.
fn log(ledger: &TestLedger, cost: &str, client: &str, project: &str, at: &str) {
    ledger.ok(&[
        "log",
        "--yes",
        "--model",
        "fal-ai/flux/dev",
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

fn shares(report: &Value) -> Vec<(String, String, String)> {
    report["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["project"].as_str().unwrap().to_string(),
                s["client"].as_str().unwrap_or("-").to_string(),
                s["amount"]["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn pools_split_exactly_and_show_in_project_totals() {
    for ledger in TestLedger::each() {
        log(&ledger, "3", "Acme", "Summer Spot", "2026-11-05");
        log(&ledger, "1", "Acme", "Winter", "2026-11-06");
        log(&ledger, "1", "Beta", "Winter", "2026-11-07");
        log(&ledger, "50", "Acme", "Summer Spot", "2026-10-07");

        let even = ledger.json(&[
            "pool",
            "add",
            "--amount",
            "100",
            "--description",
            "Midjourney Pro, November",
            "--period",
            "2026-11",
            "--project",
            "summer spot",
            "--project",
            "Winter",
            "--project",
            "New, with comma",
            "--source",
            "Midjourney",
            "--json",
        ]);
        assert_eq!(
            shares(&even),
            vec![
                // The ledger's spelling; a client only where the project has one.
                ("Summer Spot".into(), "Acme".into(), "33.333334".into()),
                ("Winter".into(), "-".into(), "33.333333".into()),
                ("New, with comma".into(), "-".into(), "33.333333".into()),
            ],
            "{}",
            ledger.backend
        );
        // October's spend does not count for November.
        let spend = ledger.json(&[
            "pool",
            "add",
            "--amount",
            "10",
            "--description",
            "Runway",
            "--period",
            "2026-11",
            "--all-projects",
            "--split",
            "spend",
            "--json",
        ]);
        assert_eq!(
            shares(&spend),
            vec![
                ("Summer Spot".into(), "Acme".into(), "6".into()),
                ("Winter".into(), "-".into(), "4".into()),
            ]
        );
        let weights = ledger.json(&[
            "pool",
            "add",
            "--amount",
            "0.000001",
            "--currency",
            "EUR",
            "--description",
            "tiny",
            "--period",
            "2026-11",
            "--project",
            "Winter",
            "--project",
            "X",
            "--split",
            "weights",
            "--weight",
            "Winter=2",
            "--weight",
            "X=1.5",
            "--json",
        ]);
        assert_eq!(
            shares(&weights),
            vec![
                ("Winter".into(), "-".into(), "0.000001".into()),
                ("X".into(), "-".into(), "0".into())
            ]
        );

        let pool_usd = group_totals(
            &ledger,
            &[
                "--kind",
                "pool",
                "--by",
                "project",
                "--until",
                "2026-11-02",
                "--currency",
                "USD",
            ],
        );
        assert_eq!(
            pool_usd
                .iter()
                .find(|(p, _)| p == "New, with comma")
                .unwrap()
                .1,
            "33.333333"
        );
        let list = ledger.json(&["list", "--kind", "pool", "--json"]);
        assert_eq!(
            list.as_array().unwrap().len(),
            6,
            "one entry per share above zero"
        );
        assert!(list
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["occurred_at"] == "2026-11-01T00:00:00Z" && e["kind"] == "pool"));

        let pools = ledger.json(&["pool", "list", "--json"]);
        assert_eq!(pools.as_array().unwrap().len(), 3);
        assert_eq!(pools[0]["live_entries"], 3, "{pools}");
        assert_eq!(pools[0]["live_totals"][0]["currency"], "USD", "{pools}");
        let id = even["id"].as_str().unwrap();
        let voided = ledger.json(&["pool", "void", id, "--reason", "wrong month", "--json"]);
        assert_eq!(voided["entries_voided"], 3);
        assert_eq!(
            group_totals(&ledger, &["--kind", "pool", "--by", "project"])
                .iter()
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>(),
            vec!["Summer Spot", "Winter"],
            "the void pool's shares are out of totals"
        );
        verified(&ledger);
    }
}

#[test]
fn pool_input_that_cannot_be_split_is_refused_and_nothing_is_written() {
    for ledger in TestLedger::each() {
        log(&ledger, "3", "Acme", "Summer Spot", "2026-11-05");
        let before = ledger.events();
        let base = ["pool", "add", "--description", "Sub"];
        let cases: &[(&[&str], &str)] = &[
            (&["--amount", "0", "--project", "A"], "above zero"),
            (&["--amount", "-5", "--project", "A"], "above zero"),
            (
                &["--amount", "5", "--project", "Nothing", "--split", "spend"],
                "none of the projects has spend",
            ),
            (
                &[
                    "--amount",
                    "5",
                    "--project",
                    "A",
                    "--split",
                    "weights",
                    "--weight",
                    "B=1",
                ],
                "'B' is not one of the --project names",
            ),
            (
                &[
                    "--amount",
                    "5",
                    "--project",
                    "A",
                    "--split",
                    "weights",
                    "--weight",
                    "A=0",
                ],
                "above zero",
            ),
            (
                &[
                    "--amount",
                    "5",
                    "--project",
                    "A",
                    "--split",
                    "weights",
                    "--weight",
                    "A=-1",
                ],
                "above zero",
            ),
            (
                &[
                    "--amount",
                    "5",
                    "--project",
                    "A",
                    "--project",
                    "B",
                    "--split",
                    "weights",
                    "--weight",
                    "A=1",
                ],
                "no --weight for project 'B'",
            ),
            (
                &["--amount", "5", "--project", "A", "--weight", "A=1"],
                "only for --split weights",
            ),
            (
                &["--amount", "5", "--project", "A", "--project", "a"],
                "listed twice",
            ),
            (
                &["--amount", "5", "--project", "A", "--split", "bogus"],
                "unknown split",
            ),
            (
                &["--amount", "5", "--project", "A", "--period", "2026-13"],
                "is not a month",
            ),
            (
                &["--amount", "5", "--project", "A", "--period", "2099-01"],
                "future",
            ),
        ];
        for (extra, expected) in cases {
            let mut args: Vec<&str> = base.to_vec();
            args.extend_from_slice(extra);
            if !extra.contains(&"--period") {
                args.extend_from_slice(&["--period", "2026-11"]);
            }
            let run = ledger.run(&args);
            assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
            assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        }
        assert_eq!(ledger.events(), before, "nothing was written");
    }
}

#[test]
fn voiding_imports_in_any_order_puts_back_the_figure_of_the_imports_still_live() {
    for ledger in TestLedger::each() {
        let day = 1_793_059_200; // 2026-10-27 00:00 UTC
        let mut batches = Vec::new();
        for (n, amount) in ["10", "15", "20"].iter().enumerate() {
            let text = format!(
                "{OPENAI_HEADER}{}",
                openai_row(day, amount, "gpt-image-1, image generation")
            );
            let path = ledger.write_file(&format!("openai-{n}.csv"), text.as_bytes());
            let report = ledger.json(&["import", &path, "--json"]);
            batches.push(report["batch"].as_str().unwrap().to_string());
        }
        assert_eq!(ledger.total(&[]), "20");
        // The middle import first: the latest figure stays.
        ledger.ok(&["import", "void", &batches[1], "--reason", "x"]);
        assert_eq!(ledger.total(&[]), "20", "{}", ledger.backend);
        // Then the latest: back to the first import's figure, not the void
        // middle one's.
        ledger.ok(&["import", "void", &batches[2], "--reason", "x"]);
        assert_eq!(ledger.total(&[]), "10", "{}", ledger.backend);
        verified(&ledger);
    }
}

#[test]
fn a_bad_row_after_rows_already_written_leaves_the_ledger_as_it_was() {
    for ledger in TestLedger::each() {
        let mut text = String::from("date,description,amount,currency,tool\n");
        for n in 0..12_000 {
            text.push_str(&format!("2026-11-03,render {n},1.00,USD,Midjourney\n"));
        }
        let good = ledger.write_file("good.csv", text.as_bytes());
        text.push_str("2026-11-03,the last,oops,USD,Midjourney\n");
        let bad = ledger.write_file("bad.csv", text.as_bytes());
        let run = ledger.run(&["import", &bad]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("bad.csv:12002: "), "{}", run.stderr);
        assert_eq!(
            ledger.events(),
            0,
            "{}: nothing was written",
            ledger.backend
        );
        let dry = ledger.json(&["import", &good, "--dry-run", "--json"]);
        assert_eq!(dry["added"], 12_000);
        assert_eq!(
            ledger.events(),
            0,
            "a dry run of many chunks writes nothing"
        );
        assert_eq!(ledger.json(&["import", &good, "--json"])["added"], 12_000);
        assert_eq!(ledger.total(&[]), "12000");
    }
}

#[test]
fn what_the_flags_fill_is_part_of_a_rows_identity_and_names_are_spelled_as_log_spells_them() {
    for ledger in TestLedger::each() {
        let text = "date,description,amount,currency,client\n2026-11-01,Monthly plan,30.00,USD,Acme  Corp\n";
        let path = ledger.write_file("plan.csv", text.as_bytes());
        assert_eq!(
            ledger.json(&["import", &path, "--source", "Midjourney", "--json"])["added"],
            1
        );
        // The same row from another tool's bill is another cost.
        assert_eq!(
            ledger.json(&["import", &path, "--source", "Runway", "--json"])["added"],
            1
        );
        assert_eq!(
            ledger.json(&["import", &path, "--source", "runway", "--json"])["added"],
            0
        );
        assert_eq!(
            group_totals(&ledger, &["--by", "client"]),
            vec![("Acme Corp".to_string(), "60".to_string())]
        );
    }
}

#[test]
fn a_file_with_its_columns_moved_and_an_empty_column_added_adds_nothing() {
    for ledger in TestLedger::each() {
        let first = ledger.write_file("costs.csv", GENERIC.as_bytes());
        assert_eq!(ledger.json(&["import", &first, "--json"])["added"], 3);
        let moved = "Tool,Amount,Notes,Date,Currency,Project,Description\n\
Midjourney,30.00,,2026-11-03,USD,Summer Spot,Midjourney Pro\n\
ElevenLabs,12.50,,2026-11-04,USD,Winter,Voice-over\n\
ElevenLabs,12.50,,2026-11-04,USD,Winter,Voice-over\n";
        let moved = ledger.write_file("moved.csv", moved.as_bytes());
        let report = ledger.json(&["import", &moved, "--json"]);
        assert_eq!(
            (report["added"].clone(), report["present"].clone()),
            (0.into(), 3.into()),
            "{}: {report}",
            ledger.backend
        );
    }
}

#[test]
fn a_large_import_goes_a_thousand_rows_to_an_event_and_replays_with_what_was_logged_around_it() {
    for ledger in TestLedger::each() {
        let before = ledger
            .ok(&["log", "--model", "m", "--cost", "1", "--project", "Before"])
            .trim()
            .to_string();
        let mut text = String::from("date,description,amount,currency,tool,client\n");
        for n in 0..2_500 {
            text.push_str(&format!("2026-11-03,render {n},0.10,USD,Midjourney,Acme\n"));
        }
        let file = ledger.write_file("renders.csv", text.as_bytes());
        let report = ledger.json(&["import", &file, "--json"]);
        assert_eq!(report["added"], 2_500);
        let kinds = |ledger: &TestLedger| {
            common::query_text(&ledger.url, "SELECT kind FROM events ORDER BY seq")
                .into_iter()
                .map(|row| row[0].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(&ledger),
            [
                "entry_logged",
                "entries_imported",
                "entries_imported",
                "entries_imported",
                "import_recorded"
            ],
            "{}",
            ledger.backend
        );
        // Logged after the import, the entry comes after its rows in log
        // order, though its event's seq (6) is one the rows took.
        let after = ledger
            .ok(&["log", "--model", "m", "--cost", "2", "--project", "After"])
            .trim()
            .to_string();
        let position = |id: &str| {
            common::query_text(
                &ledger.url,
                &format!("SELECT position FROM entries WHERE id = '{id}'"),
            )[0][0]
                .parse::<i64>()
                .unwrap()
        };
        assert_eq!(position(&before), 1);
        assert_eq!(position(&after), 2 + 2_500);
        let imported = common::query_text(
            &ledger.url,
            "SELECT id, position FROM entries WHERE batch_id IS NOT NULL ORDER BY position",
        );
        assert_eq!(imported.len(), 2_500);
        assert_eq!(
            (imported[0][1].as_str(), imported[2_499][1].as_str()),
            ("2", "2501")
        );

        let again = ledger.json(&["import", &file, "--json"]);
        assert_eq!(
            (again["added"].clone(), again["present"].clone()),
            (0.into(), 2_500.into())
        );

        // Rows of an import event changed later replay from it.
        ledger.ok(&["void", &imported[10][0], "--reason", "twice"]);
        ledger.ok(&["retag", &imported[1_500][0], "--project", "Later"]);
        ledger.ok(&["confirm", &imported[2_400][0], "--actual", "0.25"]);
        assert_eq!(ledger.total(&["--client", "Acme"]), "250.05");
        verified(&ledger);

        // A copy carries the events as they are and numbers the entries alike.
        let copy = TestLedger::sqlite();
        ledger.ok(&["db", "copy", "--from", &ledger.url, "--to", &copy.url]);
        assert_eq!(
            copy.json(&["verify", "--json"]),
            ledger.json(&["verify", "--json"])
        );
        let export = ["export", "csv", "--include-void"];
        assert_eq!(copy.ok(&export), ledger.ok(&export));
        assert_eq!(kinds(&copy), kinds(&ledger));

        // An imported row altered in the view, or in its event, is found.
        common::exec_sql(
            &copy.url,
            &format!(
                "UPDATE entries SET description = 'render x' WHERE id = '{}'",
                imported[7][0]
            ),
        );
        let run = copy.run(&["verify"]);
        assert_ne!(run.code, 0);
        assert!(
            run.stdout.contains("differs from a replay"),
            "{}",
            run.stdout
        );
        common::exec_sql(
            &ledger.url,
            "UPDATE events SET payload = REPLACE(payload, '\"render 7\"', '\"render 8\"') WHERE seq = 2",
        );
        let run = ledger.run(&["verify"]);
        assert_ne!(run.code, 0);
        assert!(
            run.stdout.contains("event 2: its hash does not match"),
            "{}",
            run.stdout
        );
    }
}

/// The fingerprints of a file are what every earlier gencost computed for
/// it (these were written by the schema-9 build), so a file imported before
/// an upgrade adds nothing when imported again after it: two identical rows
/// (occurrences 1 and 2), a name in decomposed form with a double space, and
/// a Greek word whose final sigma folds differently from the others.
#[test]
fn fingerprints_are_those_earlier_builds_wrote() {
    let ledger = TestLedger::sqlite();
    let text = "date,description,amount,currency,tool,client,project\n\
2026-11-03,Voice-over,12.50,USD,ElevenLabs,Stro\u{308}me  Ltd,ΣΊΣΥΦΟΣ\n\
2026-11-03,Voice-over,12.50,USD,ElevenLabs,Stro\u{308}me  Ltd,ΣΊΣΥΦΟΣ\n\
2026-11-04,Midjourney Pro,30.00,USD,Midjourney,Acme,Spot\n";
    let file = ledger.write_file("golden.csv", text.as_bytes());
    ledger.ok(&["import", &file]);
    let stored = common::query_text(
        &ledger.url,
        "SELECT request_id, client FROM entries ORDER BY position",
    );
    assert_eq!(
        stored,
        [
            ["import:1e3e4ef76f59af664063585d0568ba15", "Str\u{f6}me Ltd"],
            ["import:5c25164c4c2b11d3bf3742019c1a7e4b", "Str\u{f6}me Ltd"],
            ["import:b6aaa777d3ff951d1e5ddaeb0ad220dd", "Acme"],
        ]
    );
}

/// `verify` and `db copy` read at most 16 import events a page: a ledger of
/// more takes several pages, each continuing the chain where the last ended.
#[test]
fn a_ledger_of_more_import_events_than_a_page_holds_verifies_and_copies() {
    for ledger in TestLedger::each() {
        ledger.ok(&["log", "--model", "m", "--cost", "1"]);
        let mut text = String::from("date,description,amount,currency,tool\n");
        for n in 0..17_001 {
            text.push_str(&format!("2026-11-03,render {n},0.01,USD,Runway\n"));
        }
        let file = ledger.write_file("many.csv", text.as_bytes());
        ledger.ok(&["import", &file]);
        ledger.ok(&["log", "--model", "m", "--cost", "2"]);
        assert_eq!(ledger.events(), 1 + 18 + 1 + 1, "{}", ledger.backend);
        let verified = ledger.json(&["verify", "--json"]);
        assert_eq!(verified["entries"], 17_003, "{verified}");
        assert!(verified["problem"].is_null(), "{verified}");
        let copy = TestLedger::sqlite();
        ledger.ok(&["db", "copy", "--from", &ledger.url, "--to", &copy.url]);
        assert_eq!(copy.json(&["verify", "--json"]), verified);
    }
}
