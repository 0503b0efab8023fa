//! What the panel needs of the API as an editor uses it, end to end on the
//! real binary: a plain receipt file imported with the dialog's fields,
//! large amounts that need a confirmation, warnings for misspelt parameters
//! and new projects, the parameters a model picker shows, errors in words a
//! person understands and downloads named after their scope. The command
//! line's side of the same rules is tested here too.

mod common;
use common::server::Server;
use common::TestLedger;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    common::server::http_client(true)
}

async fn post(url: &str, body: Value) -> (StatusCode, Value) {
    let response = client().post(url).json(&body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(url: &str) -> (StatusCode, Value) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn import(server: &Server, file: &str, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::text(file.to_string()).file_name("receipts.csv"),
    );
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    let response = client()
        .post(server.api("/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn error(body: &Value) -> (&str, Option<&str>, &str) {
    (
        body["error"]["code"].as_str().unwrap_or(""),
        body["error"]["field"].as_str(),
        body["error"]["message"].as_str().unwrap_or(""),
    )
}

fn today() -> String {
    gencost::timestamp::day_label(gencost::timestamp::today())
}

/// The shape users are told to prepare: date, description, amount, category.
const RECEIPTS: &str = "date,description,amount,category\n\
                        03/11/2026,Midjourney Pro,30.00,Midjourney\n\
                        04/11/2026,Runway credits,15.00,Runway\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_receipt_file_imports_with_the_dialogs_fields() {
    for ledger in TestLedger::each() {
        let server = Server::start(&ledger, &[]);
        let before = ledger.events();
        // Without a currency: the refusal names the dialog's field, not a flag.
        let (status, body) = import(&server, RECEIPTS, &[("date_format", "%d/%m/%Y")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            error(&body),
            (
                "invalid_input",
                Some("currency"),
                "currency: the file has no currency column; choose the currency its amounts are in"
            )
        );
        assert_eq!(ledger.events(), before);
        // With it, and the tags and date format the dialog offers: the
        // preview, then the import, both with every field applied.
        let fields = [
            ("currency", "EUR"),
            ("client", "Acme"),
            ("project", "Summer Spot"),
            ("deliverable", "Hero Film"),
            ("date_format", "%d/%m/%Y"),
        ];
        let (status, preview) = import(
            &server,
            RECEIPTS,
            &[&fields[..], &[("dry_run", "true")]].concat(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        assert_eq!(preview["added"], 2);
        assert_eq!(preview["filled"]["currency"], 2);
        let first = &preview["first_rows"][0];
        assert_eq!(first["line"], 2);
        assert_eq!(first["occurred_at"], "2026-11-03T00:00:00Z");
        assert_eq!(first["source"], "Midjourney");
        assert_eq!(first["amount"], json!({"amount": "30", "currency": "EUR"}));
        assert_eq!(
            (&first["client"], &first["project"], &first["deliverable"]),
            (&json!("Acme"), &json!("Summer Spot"), &json!("Hero Film"))
        );
        assert_eq!(ledger.events(), before, "a dry run writes nothing");
        let (status, imported) = import(&server, RECEIPTS, &fields).await;
        assert_eq!(status, StatusCode::CREATED, "{imported}");
        assert_eq!(imported["added"], 2);
        let entries = ledger.entries(&["--project", "summer spot"]);
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().all(|e| e["client"] == "Acme"
            && e["deliverable"] == "Hero Film"
            && e["kind"] == "external"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn import_errors_come_one_per_line_with_their_own_line_numbers() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    // Line 3 opens a quote nothing closes.
    let unclosed = "date,description,amount,category\n\
                    2026-11-02,Plan,30.00,Midjourney\n\
                    2026-11-03,\"Runway credits,15.00,Runway\n\
                    2026-11-04,Voice,5.00,ElevenLabs\n";
    let (status, body) = import(&server, unclosed, &[("currency", "USD")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, _, message) = error(&body);
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 2, "{message}");
    assert!(lines[1].starts_with("receipts.csv:3: "), "{message}");
    assert!(lines[1].contains("not closed"), "{message}");
    // Two bad rows: each on its own line, named by its line.
    let bad = "date,description,amount,category\n\
               2026-11-02,Plan,30.00,Midjourney\n\
               2026-11-03,Credits,,Runway\n\
               2026-13-04,Voice,5.00,ElevenLabs\n";
    let (status, body) = import(&server, bad, &[("currency", "USD")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, _, message) = error(&body);
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 3, "{message}");
    assert!(
        lines[0].starts_with("receipts.csv: 2 bad rows"),
        "{message}"
    );
    assert!(lines[1].starts_with("receipts.csv:3: amount"), "{message}");
    assert!(lines[2].starts_with("receipts.csv:4: date"), "{message}");
    assert!(!message.contains("--"), "no flag is named: {message}");
    assert_eq!(ledger.entries(&[]).len(), 0);
}

#[test]
fn the_command_line_names_its_flag_for_a_file_without_a_currency() {
    let ledger = TestLedger::sqlite();
    let path = ledger.write_file("receipts.csv", RECEIPTS);
    let run = ledger.run(&["import", &path, "--date-format", "%d/%m/%Y"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("receipts.csv: the file has no currency column; choose the currency its amounts are in: give --currency CODE"),
        "{}",
        run.stderr
    );
    ledger.ok(&[
        "import",
        &path,
        "--date-format",
        "%d/%m/%Y",
        "--currency",
        "USD",
    ]);
    assert_eq!(ledger.entries(&[]).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_amount_typed_by_hand_needs_a_confirmation() {
    for ledger in TestLedger::each() {
        let server = Server::start(&ledger, &[]);
        let before = ledger.events();
        let huge = json!({"model": "fal-ai/flux/dev", "cost": {"amount": "1000000000", "currency": "USD"}});
        let (status, body) = post(&server.api("/entries"), huge.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (code, field, message) = error(&body);
        assert_eq!((code, field), ("confirm_large", Some("cost")));
        assert!(message.contains("$1,000,000,000"), "{message}");
        assert!(message.contains("$10,000 or more"), "{message}");
        assert!(message.contains("confirm_large"), "{message}");
        // Over 100 × the catalog's estimate ($0.025 for one image).
        let (status, body) = post(
            &server.api("/entries"),
            json!({"model": "fal-ai/flux/dev", "cost": {"amount": "5", "currency": "USD"}}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (code, field, message) = error(&body);
        assert_eq!((code, field), ("confirm_large", Some("cost")));
        assert!(
            message.contains("100 × the catalog's estimate of $0.025"),
            "{message}"
        );
        // In another currency, at the entry's day's rate: €9,900 on
        // 2026-11-03 is above $10,000.
        let (status, body) = post(
            &server.api("/entries"),
            json!({"model": "Midjourney", "kind": "external", "source": "Midjourney",
                   "cost": {"amount": "9900", "currency": "EUR"}, "occurred_at": "2026-11-03"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error(&body).2.contains("at the rate of"), "{body}");
        assert_eq!(ledger.events(), before, "nothing written");
        // Confirmed, each goes in.
        let mut confirmed = huge;
        confirmed["confirm_large"] = json!(true);
        let (status, body) = post(&server.api("/entries"), confirmed).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // An ordinary amount needs nothing.
        let (status, logged) = post(
            &server.api("/entries"),
            json!({"model": "fal-ai/flux/dev", "cost": {"amount": "0.05", "currency": "USD"}}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{logged}");
        let id = logged["id"].as_str().unwrap();
        // The actual typed later, likewise.
        let url = server.api(&format!("/entries/{id}/actual"));
        let (status, body) = post(&url, json!({"amount": "25000"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error(&body).0, "confirm_large");
        assert_eq!(error(&body).1, Some("amount"));
        let (status, body) = post(&url, json!({"amount": "10"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error(&body).2.contains("100 ×"), "{body}");
        let (status, body) = post(&url, json!({"amount": "0.06"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = post(&url, json!({"amount": "25000", "confirm_large": true})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["actual"]["amount"], "25000");
        // A pool is not typed into a log: no confirmation.
        let (status, body) = post(
            &server.api("/pools"),
            json!({"amount": {"amount": "50000", "currency": "USD"}, "description": "Studio plan",
                   "period": "2026-11", "projects": ["Summer Spot"]}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

#[test]
fn the_command_line_asks_for_yes_on_a_large_amount() {
    let ledger = TestLedger::sqlite();
    let run = ledger.run(&["log", "--model", "fal-ai/flux/dev", "--cost", "20000"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--cost: $20,000"), "{}", run.stderr);
    assert!(run.stderr.contains("give --yes"), "{}", run.stderr);
    assert_eq!(ledger.events(), 0);
    let logged = ledger.json(&[
        "log",
        "--model",
        "fal-ai/flux/dev",
        "--cost",
        "0.03",
        "--json",
    ]);
    let id = logged["id"].as_str().unwrap();
    let run = ledger.run(&["confirm", id, "--actual", "30"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("--actual: $30.00 is more than 100 ×"),
        "{}",
        run.stderr
    );
    ledger.ok(&["confirm", id, "--actual", "30", "--yes"]);
    ledger.ok(&[
        "log",
        "--model",
        "fal-ai/flux/dev",
        "--cost",
        "20000",
        "--yes",
    ]);
    assert_eq!(ledger.total(&[]), "20030");
}

#[tokio::test(flavor = "multi_thread")]
async fn misspelt_parameters_are_warned_about_and_others_pass() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    let warning = json!([{"field": "num_imgs",
        "message": "num_imgs is not a parameter of fal-ai/flux/dev; did you mean num_images?"}]);
    let (status, body) = post(
        &server.api("/entries"),
        json!({"model": "fal-ai/flux/dev", "params": {"num_imgs": 2, "prompt": "a cat", "seed": 7}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["warnings"], warning);
    assert_eq!(body["estimate"]["amount"], "0.025", "priced as one image");
    let (status, body) = post(
        &server.api("/entries"),
        json!({"model": "fal-ai/flux/dev", "params": {"num_images": 2, "prompt": "a cat"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        body.get("warnings").is_none(),
        "left out when empty: {body}"
    );
    let (status, body) = get(&server.api(
        "/estimate?model=fal-ai/flux/dev&param.num_imgs=2&param.prompt=x&param.image_url=https://a/b.png",
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["warnings"], warning);
    let (_, body) = get(&server.api("/estimate?model=fal-ai/veo3&param.duraton=4")).await;
    assert_eq!(body["warnings"][0]["field"], "duraton");
    let (_, body) = get(&server.api("/estimate?model=fal-ai/flux/dev&param.seed=3")).await;
    assert!(body.get("warnings").is_none(), "{body}");
    // The command line says it on stderr.
    let run = ledger.run(&["log", "--model", "fal-ai/flux/dev", "--param", "num_imgs=2"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "warning: num_imgs is not a parameter of fal-ai/flux/dev; did you mean num_images?"
        ),
        "{}",
        run.stderr
    );
    let run = ledger.run(&[
        "pricing",
        "estimate",
        "fal-ai/flux/dev",
        "--param",
        "num_imgs=2",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("did you mean num_images?"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_model_lists_the_parameters_a_picker_shows() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    let (status, models) = get(&server.api("/pricing/models")).await;
    assert_eq!(status, StatusCode::OK);
    let model = |endpoint: &str| {
        models
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["model"] == endpoint)
            .unwrap_or_else(|| panic!("{endpoint}"))
            .clone()
    };
    let flux = model("fal-ai/flux/dev");
    assert_eq!(flux["name"], "FLUX.1 [dev]");
    assert_eq!(
        flux["parameters"],
        json!([
            {"name": "image_size", "input": "select",
             "options": ["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"],
             "default": "landscape_4_3"},
            {"name": "num_images", "input": "number", "default": 1, "min": 1, "step": 1}
        ])
    );
    assert_eq!(
        model("fal-ai/veo3.1")["parameters"],
        json!([
            {"name": "resolution", "input": "select", "options": ["720p", "1080p", "4k"], "default": "720p"},
            {"name": "duration", "input": "number", "default": 8, "min": 0},
            {"name": "generate_audio", "input": "flag", "default": true}
        ])
    );
    assert_eq!(
        model("fal-ai/minimax/hailuo-2.3/standard/text-to-video")["parameters"],
        json!([{"name": "duration", "input": "select", "options": ["6", "10"], "default": "6"}])
    );
    // An unpriced model reads no parameters.
    assert_eq!(model("fal-ai/ideogram/v3")["parameters"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn pools_and_imports_say_when_they_create_a_project() {
    for ledger in TestLedger::each() {
        let server = Server::start(&ledger, &[]);
        for project in ["Summer Spot", "Winter Campaign"] {
            let (status, _) = post(
                &server.api("/entries"),
                json!({"model": "fal-ai/flux/dev", "project": project, "occurred_at": "2026-11-03"}),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let pool = |projects: Value| {
            json!({"amount": {"amount": "30", "currency": "USD"}, "description": "Plan",
                   "period": "2026-11", "projects": projects})
        };
        let (status, body) = post(
            &server.api("/pools"),
            pool(json!(["summer spot", "Sumer Spot"])),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(
            body["warnings"],
            json!([{"field": "projects",
                    "message": "new project 'Sumer Spot' (closest: 'Summer Spot', 'Winter Campaign')"}])
        );
        // Names the ledger has, in any case, are not new.
        let (_, body) = post(&server.api("/pools"), pool(json!(["SUMMER SPOT"]))).await;
        assert!(body.get("warnings").is_none(), "{body}");
        let file = "date,description,amount,category,project\n\
                    2026-11-03,Plan,30.00,Midjourney,Winter Campaign\n\
                    2026-11-04,Plan,10.00,Midjourney,\n";
        let fields = [("currency", "USD"), ("project", "Nonexistent Project")];
        for dry_run in ["true", "false"] {
            let (status, body) = import(
                &server,
                file,
                &[&fields[..], &[("dry_run", dry_run)]].concat(),
            )
            .await;
            assert!(status.is_success(), "{body}");
            let message = body["warnings"][0]["message"].as_str().unwrap_or("");
            assert_eq!(body["warnings"][0]["field"], "project", "{body}");
            assert!(
                message.starts_with("new project 'Nonexistent Project' (closest: '"),
                "{body}"
            );
            assert_eq!(body["warnings"].as_array().unwrap().len(), 1, "{body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_in_words_a_person_understands() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    let (status, body) = post(
        &server.api("/pools"),
        json!({"amount": {"amount": "", "currency": "USD"}, "description": "Plan",
               "period": "2026-11", "projects": ["Summer Spot"]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, field, message) = error(&body);
    assert_eq!(field, Some("amount"));
    assert!(
        message.starts_with("amount: not a number ('')"),
        "{message}"
    );
    let (status, body) = post(
        &server.api("/entries"),
        json!({"model": "m", "cost": {"amount": "abc", "currency": "USD"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error(&body).1, Some("cost"));
    assert!(
        error(&body).2.starts_with("cost: not a number ('abc')"),
        "{body}"
    );
    // Broken JSON is the body's fault, not that of the field it broke in.
    for broken in [r#"{"model": "fal-ai/flux/dev""#, r#"{"model": fal}"#] {
        let response = client()
            .post(server.api("/entries"))
            .header("content-type", "application/json")
            .body(broken)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.unwrap();
        let (_, field, message) = error(&body);
        assert_eq!(field, Some("body"), "{body}");
        assert!(
            message.starts_with("the body is not valid JSON: "),
            "{message}"
        );
    }
    assert_eq!(ledger.events(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_are_named_after_their_scope_and_day() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    let day = today();
    for (path, name) in [
        ("/export.csv", format!("gencost-{day}.csv")),
        ("/export.csv?client=Acme", format!("gencost-acme-{day}.csv")),
        (
            "/export.csv?project=Caf%C3%A9%20Noir",
            format!("gencost-cafe-noir-{day}.csv"),
        ),
        ("/report.html", format!("gencost-{day}.html")),
        (
            "/report.html?client=Acme&project=Summer%20Spot",
            format!("gencost-acme-summer-spot-{day}.html"),
        ),
    ] {
        let response = client().get(server.api(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let disposition = response.headers()["content-disposition"].to_str().unwrap();
        assert_eq!(
            disposition,
            format!("attachment; filename=\"{name}\""),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn import_messages_speak_of_the_dialogs_fields() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    // Day-first dates without a format: the row asks for the date format.
    let (status, body) = import(&server, RECEIPTS, &[("currency", "USD")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, _, message) = error(&body);
    assert!(
        message.contains("receipts.csv:2: date '03/11/2026': day and month order unknown; choose the date format '%d/%m/%Y'"),
        "{message}"
    );
    // A format that names no day is the field's fault.
    let (status, body) = import(
        &server,
        RECEIPTS,
        &[("currency", "USD"), ("date_format", "%H:%M")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error(&body).1, Some("date_format"), "{body}");
    // No source column and no source: the field to fill is named.
    let no_source = "date,description,amount\n2026-11-03,Plan,30.00\n";
    let (status, body) = import(&server, no_source, &[("currency", "USD")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error(&body).1, Some("source"), "{body}");
    for (_, body) in [
        import(&server, RECEIPTS, &[("currency", "USD")]).await,
        import(&server, no_source, &[("currency", "USD")]).await,
    ] {
        assert!(!error(&body).2.contains("--"), "no flag is named: {body}");
    }
    let path = ledger.write_file("receipts.csv", RECEIPTS);
    let run = ledger.run(&[
        "import",
        &path,
        "--currency",
        "USD",
        "--date-format",
        "%H:%M",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("--date-format '%H:%M': "),
        "{}",
        run.stderr
    );
    assert_eq!(ledger.events(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_shows_the_new_fields() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    let (status, doc) = get(&server.api("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("LogBody", "confirm_large"),
        ("ActualBody", "confirm_large"),
        ("ModelJson", "parameters"),
        ("EstimateReport", "warnings"),
        ("Warning", "field"),
        ("Warning", "message"),
        ("ParameterInput", "input"),
    ] {
        assert!(
            schemas[schema]["properties"].get(field).is_some(),
            "{schema}.{field}: {}",
            schemas[schema]
        );
    }
    let logged = doc["paths"]["/api/v1/entries"]["post"]["responses"]["201"].to_string();
    assert!(logged.contains("LoggedJson"), "{logged}");
    assert!(
        schemas["LoggedJson"].to_string().contains("warnings"),
        "{}",
        schemas["LoggedJson"]
    );
}
