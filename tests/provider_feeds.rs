//! The OpenAI, Replicate, Runway and ElevenLabs routes of `gencost serve`
//! against the stand-in for them, over plain HTTP as their clients speak
//! it: a missing key answers 503 naming its variable; a path off a
//! provider's allowlist is refused with nothing sent; a server with a
//! token takes it in each client's own key slot; `reconcile` settles open
//! predictions and tasks and compares Runway's daily credits; a hard
//! budget refuses a run in the provider's own error shape before anything
//! is sent; ElevenLabs credits are priced once the plan's price is set.

mod common;
use common::fake_providers::FakeProviders;
use common::server::Server;
use common::TestLedger;
use reqwest::StatusCode;
use serde_json::{json, Value};

const OPENAI_KEY: &str = "sk-proj-71c0ffee";
const REPLICATE_KEY: &str = "r8_b0a7c1d2";
const RUNWAY_KEY: &str = "key_4e5f6a7b";
const ELEVENLABS_KEY: &str = "sk_0d9c8b7a";
const TOKEN: &str = "a-token-of-twenty-characters";

async fn stand_in() -> FakeProviders {
    FakeProviders::start(&[
        ("openai", OPENAI_KEY),
        ("replicate", REPLICATE_KEY),
        ("runway", RUNWAY_KEY),
        ("elevenlabs", ELEVENLABS_KEY),
    ])
    .await
}

fn keys() -> Vec<(&'static str, &'static str)> {
    vec![
        ("OPENAI_API_KEY", OPENAI_KEY),
        ("REPLICATE_API_TOKEN", REPLICATE_KEY),
        ("RUNWAYML_API_SECRET", RUNWAY_KEY),
        ("ELEVENLABS_API_KEY", ELEVENLABS_KEY),
    ]
}

fn upstreams(url: &str) -> Vec<String> {
    ["openai", "replicate", "runway", "elevenlabs"]
        .iter()
        .flat_map(|name| [format!("--{name}-upstream"), url.to_string()])
        .collect()
}

fn start(ledger: &TestLedger, fake: &FakeProviders, extra: &[&str]) -> Server {
    let mut args = upstreams(&fake.url);
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start_with_env(ledger, &args, &keys())
}

fn client() -> reqwest::Client {
    common::server::http_client(false)
}

async fn body(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_key_names_its_variable_and_foreign_paths_send_nothing() {
    let fake = stand_in().await;
    let ledger = TestLedger::sqlite();
    let args = upstreams(&fake.url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let keyless = Server::start(&ledger, &args);
    for (path, variable) in [
        ("/openai/v1/images/generations", "OPENAI_API_KEY"),
        ("/replicate/v1/predictions", "REPLICATE_API_TOKEN"),
        ("/runway/v1/image_to_video", "RUNWAYML_API_SECRET"),
        ("/elevenlabs/v1/sound-generation", "ELEVENLABS_API_KEY"),
    ] {
        let (status, answer) = body(
            client()
                .post(format!("{}{path}", keyless.url))
                .json(&json!({"model": "gpt-image-1", "prompt": "x"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {answer}");
        assert!(answer.to_string().contains(variable), "{answer}");
    }
    drop(keyless);

    let server = start(&ledger, &fake, &[]);
    for path in [
        "/openai/v1/chat/completions",
        "/openai/v1/files",
        "/openai/v1/images/../models",
        "/replicate/v1/account",
        "/replicate/v1/trainings",
        "/runway/v1/avatars",
        "/elevenlabs/v1/history",
        "/elevenlabs/v1/user",
    ] {
        let (status, answer) = body(
            client()
                .post(format!("{}{path}", server.url))
                .body("{}")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
            "{path}: {status} {answer}"
        );
        for key in [OPENAI_KEY, REPLICATE_KEY, RUNWAY_KEY, ELEVENLABS_KEY] {
            assert!(!answer.to_string().contains(key));
        }
    }
    // A method a path does not take is refused too: Replicate deletes
    // models by DELETE, OpenAI generates only by POST.
    for (method, path) in [
        (
            reqwest::Method::DELETE,
            "/replicate/v1/models/acme/upscaler",
        ),
        (reqwest::Method::DELETE, "/replicate/v1/predictions/p1"),
        (
            reqwest::Method::PUT,
            "/replicate/v1/models/acme/upscaler/versions/5c7d",
        ),
        (reqwest::Method::GET, "/openai/v1/images/generations"),
        (reqwest::Method::DELETE, "/elevenlabs/v1/voices"),
        (reqwest::Method::DELETE, "/runway/v1/organization"),
    ] {
        let (status, answer) = body(
            client()
                .request(method.clone(), format!("{}{path}", server.url))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["field"], "method", "{answer}");
    }
    assert!(fake.seen().is_empty(), "nothing reached a provider");
    assert_eq!(ledger.events(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_with_a_token_takes_it_in_each_client_s_own_key_slot() {
    for ledger in TestLedger::each() {
        token_in_key_slots(ledger).await;
    }
}

/// On one backend: the token in each client's key slot, a run settled from
/// one answer with its token counts, which `verify` checks.
async fn token_in_key_slots(ledger: TestLedger) {
    let fake = stand_in().await;
    let server = start(&ledger, &fake, &["--token", TOKEN]);
    let generate = |auth: Option<String>| {
        let mut request = client()
            .post(format!("{}/openai/v1/images/generations", server.url))
            .json(&json!({"model": "gpt-image-1-mini", "prompt": "a map", "quality": "low"}));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    let (status, _) = body(generate(None).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = body(
        generate(Some("Bearer not-the-token-at-all".into()))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, answer) = body(generate(Some(format!("Bearer {TOKEN}"))).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let speech = |key: &str| {
        client()
            .post(format!(
                "{}/elevenlabs/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb",
                server.url
            ))
            .header("xi-api-key", key)
            .json(&json!({"text": "Hej", "model_id": "eleven_flash_v2_5"}))
            .send()
    };
    assert_eq!(
        speech("wrong-key").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let spoken = speech(TOKEN).await.unwrap();
    assert_eq!(spoken.status(), StatusCode::OK);
    assert_eq!(spoken.headers()["character-cost"], "2");
    // The token went nowhere: each provider got its own key only.
    for seen in fake.seen() {
        assert!(!seen.key.contains(TOKEN), "{seen:?}");
    }
    assert_eq!(ledger.entries(&[]).len(), 2);
    drop(server);

    // The token counts are part of the entry `verify` checks: one changed
    // by hand is found.
    let image = ledger
        .entries(&[])
        .into_iter()
        .find(|e| e["source"] == "OpenAI")
        .unwrap();
    assert_eq!(image["billing"]["usage"]["image_output"], 272);
    assert_eq!(ledger.run(&["verify"]).code, 0);
    let changed = common::exec_sql(
        &ledger.url,
        &format!(
            "UPDATE entries SET billing = replace(billing, '\"image_output\":272', '\"image_output\":27') WHERE id = '{}'",
            image["id"].as_str().unwrap()
        ),
    );
    assert_eq!(changed, 1);
    let run = ledger.run(&["verify"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(image["id"].as_str().unwrap()),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_settles_open_predictions_and_tasks_and_compares_runway_s_credits() {
    let fake = stand_in().await;
    let ledger = TestLedger::sqlite();
    let server = start(&ledger, &fake, &[]);
    let (status, prediction) = body(
        client()
            .post(format!(
                "{}/replicate/v1/models/black-forest-labs/flux-schnell/predictions",
                server.url
            ))
            .header("authorization", "Bearer anything")
            .json(&json!({"input": {"prompt": "a kite", "num_outputs": 3}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{prediction}");
    assert_eq!(prediction["status"], "starting");
    let (_, task) = body(
        client()
            .post(format!("{}/runway/v1/image_to_video", server.url))
            .header("x-runway-version", "2024-11-06")
            .json(&json!({"model": "gen4_turbo", "promptImage": "https://example.com/a.png", "ratio": "1280:720", "duration": 10}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    drop(server);
    let pending = ledger.entries(&[]);
    assert!(
        pending.iter().all(|e| e["status"] == "pending"),
        "{pending:?}"
    );
    assert_eq!(pending.len(), 2);

    // Without the keys nothing is read, and reconcile says which is missing.
    let run = ledger.run(&["reconcile", "--replicate-upstream", &fake.url]);
    assert_ne!(run.code, 0);
    assert!(
        run.stdout.contains("REPLICATE_API_TOKEN") || run.stderr.contains("REPLICATE_API_TOKEN"),
        "{} {}",
        run.stdout,
        run.stderr
    );

    let mut args: Vec<String> = vec!["reconcile".into(), "--json".into()];
    args.extend(upstreams(&fake.url));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = keys();
    // The first read finds them under way, the second finished.
    let first = ledger.run_env(&args, &env);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let first: Value = serde_json::from_str(&first.stdout).unwrap();
    let still: u64 = first["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["still_open"].as_u64().unwrap())
        .sum();
    assert_eq!(still, 2, "{first}");
    let second = ledger.run_env(&args, &env);
    let second: Value = serde_json::from_str(&second.stdout).unwrap();
    let settled: u64 = second["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["settled"].as_u64().unwrap())
        .sum();
    assert_eq!(settled, 2, "{second}");
    let entries = ledger.entries(&[]);
    let kite = entries
        .iter()
        .find(|e| e["request_id"] == prediction["id"])
        .unwrap();
    assert_eq!(kite["status"], "succeeded");
    assert_eq!(kite["actual"]["amount"], "0.009", "3 outputs × $0.003");
    let boat = entries
        .iter()
        .find(|e| e["request_id"] == task["id"])
        .unwrap();
    assert_eq!(boat["status"], "succeeded");
    assert_eq!(boat["actual"]["amount"], "0.5", "10 s × 5 credits");
    assert_eq!(boat["billing"]["units"], "50");
    // Nothing is left to read.
    let third = ledger.run_env(&args, &env);
    let third: Value = serde_json::from_str(&third.stdout).unwrap();
    assert_eq!(third["providers"], json!([]), "{third}");

    // Runway's own daily credits beside the runs logged.
    let today = boat["occurred_at"].as_str().unwrap()[..10].to_string();
    {
        let mut state = fake.state.lock().unwrap();
        state.runway_usage = vec![
            (today.clone(), "gen4_turbo".into(), 65),
            (today.clone(), "gen4_aleph".into(), 30),
        ];
    }
    let mut usage_args = args.clone();
    usage_args.push("--runway-usage");
    let usage = ledger.run_env(&usage_args, &env);
    let usage: Value = serde_json::from_str(&usage.stdout).unwrap();
    let days = usage["runway_usage"]["days"].as_array().unwrap();
    let turbo = days.iter().find(|d| d["model"] == "gen4_turbo").unwrap();
    assert_eq!(turbo["date"], today);
    assert_eq!(turbo["runway"], "65");
    assert_eq!(turbo["logged"], "50");
    assert_eq!(turbo["difference"], "15");
    let aleph = days.iter().find(|d| d["model"] == "gen4_aleph").unwrap();
    assert_eq!(aleph["logged"], "0");
    assert_eq!(aleph["difference"], "30");
    let mut text_args: Vec<&str> = usage_args
        .iter()
        .copied()
        .filter(|a| *a != "--json")
        .collect();
    text_args.retain(|a| !a.is_empty());
    let text = ledger.run_env(&text_args, &env);
    assert!(
        text.stdout
            .contains("gen4_turbo: Runway 65, logged 50, difference 15"),
        "{}",
        text.stdout
    );
    // The ledger is untouched by the comparison: no run was made up.
    assert_eq!(ledger.entries(&[]).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hard_budget_refuses_in_each_provider_s_own_error_shape_before_sending() {
    let fake = stand_in().await;
    let ledger = TestLedger::sqlite();
    ledger.ok(&[
        "budget",
        "set",
        "Örebro",
        "--amount",
        "0.01",
        "--currency",
        "USD",
        "--client",
        "Örebro Film",
        "--hard",
    ]);
    ledger.ok(&["use", "--client", "Örebro Film"]);
    let server = start(&ledger, &fake, &[]);
    let post = |path: &str, body: Value| {
        client()
            .post(format!("{}{path}", server.url))
            .header("x-runway-version", "2024-11-06")
            .json(&body)
            .send()
    };
    let (status, refused) = body(
        post(
            "/openai/v1/images/generations",
            json!({"model": "gpt-image-1", "prompt": "x", "quality": "high"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"]["code"], "billing_hard_limit_reached");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Örebro"));
    let (status, refused) = body(
        post(
            "/replicate/v1/models/black-forest-labs/flux-pro/predictions",
            json!({"input": {"prompt": "x"}}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(refused["status"], 402);
    assert!(refused["detail"].as_str().unwrap().contains("Örebro"));
    let (status, refused) = body(
        post(
            "/runway/v1/image_to_video",
            json!({"model": "gen4_turbo", "duration": 5}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused["error"].as_str().unwrap().contains("Örebro"));
    let (status, refused) = body(
        post(
            "/elevenlabs/v1/sound-generation",
            json!({"text": "thunder"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused["detail"]["status"], "quota_exceeded");
    assert!(
        fake.seen().is_empty(),
        "nothing was sent: {:?}",
        fake.seen()
    );
    assert_eq!(ledger.entries(&[]).len(), 0);
    // A run the budget can hold is held before the call, then settled.
    let (status, answer) = body(
        post(
            "/replicate/v1/models/black-forest-labs/flux-schnell/predictions",
            json!({"input": {"prompt": "x"}}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let held = ledger.entries(&[]);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["request_id"], answer["id"]);
    assert_eq!(held[0]["client"], "Örebro Film");
}

#[tokio::test(flavor = "multi_thread")]
async fn elevenlabs_credits_are_priced_once_the_plan_s_price_is_in_force() {
    let fake = stand_in().await;
    let ledger = TestLedger::sqlite();
    let server = start(&ledger, &fake, &[]);
    let spoken = client()
        .post(format!(
            "{}/elevenlabs/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb/stream",
            server.url
        ))
        .json(&json!({"text": "Välkommen till Örebro", "model_id": "eleven_multilingual_v2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(spoken.status(), StatusCode::OK);
    assert_eq!(
        spoken.bytes().await.unwrap().len(),
        48_000,
        "the audio came whole"
    );
    drop(server);
    let entry = &ledger.entries(&[])[0];
    assert_eq!(entry["billing"]["units"], "21");
    assert_eq!(entry["actual"], Value::Null);
    assert_eq!(entry["cost"]["tier"], "estimated");

    let day = entry["occurred_at"].as_str().unwrap()[..10].to_string();
    let plan = format!(
        "[[model]]\nendpoint = \"elevenlabs/credits\"\nname = \"Creator plan credits\"\ncurrency = \"USD\"\nverified = \"{day}\"\nsource = \"https://elevenlabs.io/pricing\"\nfrom = \"{day}\"\nlicense = {{ status = \"commercial\", name = \"paid plan\" }}\nformula = {{ type = \"per_credit\", price = \"0.00022\" }}\n"
    );
    let pricing = ledger.write_file("pricing.toml", plan);
    ledger.ok(&["--pricing", &pricing, "pricing", "reprice"]);
    let entry = &ledger.entries(&[])[0];
    // 21 credits × $0.00022, rounded half to even to the micro-unit.
    assert_eq!(entry["actual"]["amount"], "0.00462");
    assert_eq!(entry["cost"]["tier"], "billed");
    assert_eq!(entry["billing"]["unit_price"], "0.00022");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_openai_cost_export_imports_only_what_the_proxy_did_not_log() {
    let fake = stand_in().await;
    let ledger = TestLedger::sqlite();
    let server = start(&ledger, &fake, &[]);
    let generated = client()
        .post(format!("{}/openai/v1/images/generations", server.url))
        .json(
            &json!({"model": "gpt-image-1", "prompt": "x", "quality": "high", "size": "1024x1024"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(generated.status(), StatusCode::OK);
    drop(server);
    let proxied = &ledger.entries(&[])[0];
    // 1 text token × $5 + 4,160 image output tokens × $40, per million.
    assert_eq!(proxied["actual"]["amount"], "0.166405");
    let day = &proxied["occurred_at"].as_str().unwrap()[..10];
    let start = time::Date::parse(day, &time::format_description::well_known::Iso8601::DATE)
        .unwrap()
        .midnight()
        .assume_utc()
        .unix_timestamp();
    let header = "start_time,end_time,start_time_iso,end_time_iso,amount_value,amount_currency,quantity,quantity_unit,line_item,project_id,project_name";
    let row = |amount: &str, item: &str| {
        format!(
            "{start},{},{day}T00:00:00+00:00,,{amount},usd,,,\"{item}\",proj_1,Vinter\n",
            start + 86_400
        )
    };
    let csv = format!(
        "{header}\n{}{}{}",
        row("0.1", "gpt-image-1, image generation"),
        row("0.2", "gpt-image-1, output"),
        row("0.05", "gpt-5, output"),
    );
    let file = ledger.write_file("openai_costs.csv", csv);
    let preview = ledger.ok(&["import", &file, "--dry-run"]);
    assert!(
        preview.contains("2 rows less $0.166405 the proxy already logged"),
        "{preview}"
    );
    let report = ledger.json(&["import", &file, "--json"]);
    assert_eq!(report["proxied_rows"], 2);
    assert_eq!(report["proxied_totals"][0]["amount"], "0.166405");
    let imported: Vec<Value> = ledger
        .entries(&[])
        .into_iter()
        .filter(|e| e["batch"] != Value::Null)
        .collect();
    let amount_of = |item: &str| {
        let found = imported
            .iter()
            .find(|e| e["description"].as_str().unwrap_or("").starts_with(item))
            .unwrap_or_else(|| panic!("{item}: {imported:?}"));
        (
            found["cost"]["amount"].as_str().unwrap().to_string(),
            found["description"].as_str().unwrap().to_string(),
        )
    };
    let (first, note) = amount_of("gpt-image-1, image generation");
    assert_eq!(first, "0");
    assert!(
        note.contains("$0.10 of $0.10 already logged by the proxy"),
        "{note}"
    );
    assert_eq!(amount_of("gpt-image-1, output").0, "0.133595");
    assert_eq!(amount_of("gpt-5, output").0, "0.05");
    // The export's $0.35 is counted once: proxied and imported together.
    assert_eq!(ledger.total(&[]), "0.35");
    // Importing the same export again adds nothing.
    let again = ledger.json(&["import", &file, "--json"]);
    assert_eq!(again["added"], 0, "{again}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runway_task_that_ended_unseen_is_settled_before_its_delete() {
    let fake = stand_in().await;
    fake.state.lock().unwrap().reads_to_finish = 0;
    let ledger = TestLedger::sqlite();
    let server = start(&ledger, &fake, &[]);
    let (_, task) = body(
        client()
            .post(format!("{}/runway/v1/image_to_video", server.url))
            .header("x-runway-version", "2024-11-06")
            .json(&json!({"model": "gen4_turbo", "promptImage": "https://example.com/a.png", "duration": 5}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id = task["id"].as_str().unwrap();
    // The task ended, but the client never read it; it deletes it.
    let deleted = client()
        .delete(format!("{}/runway/v1/tasks/{id}", server.url))
        .header("x-runway-version", "2024-11-06")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let entry = &ledger.entries(&[])[0];
    assert_eq!(entry["status"], "succeeded", "{entry}");
    assert_eq!(entry["actual"]["amount"], "0.25");
    let seen: Vec<String> = fake
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        seen,
        [
            "POST /v1/image_to_video".to_string(),
            format!("GET /v1/tasks/{id}"),
            format!("DELETE /v1/tasks/{id}"),
        ]
    );
}
