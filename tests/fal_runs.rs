//! fal runs land in the ledger by themselves: through `gencost serve`'s
//! proxy against a stand-in for fal (`--fal-upstream`), then settled by
//! `reconcile` and priced by `pricing sync`, on SQLite and PostgreSQL.

mod common;
use common::fake_fal::FakeFal;
use common::server::{http_client, Server};
use common::TestLedger;
use reqwest::StatusCode;
use serde_json::{json, Value};

const KEY: &str = "fal-key-3c9e:5d1f7a";
const ADMIN_KEY: &str = "fal-admin-8b2a:9e4c0d";

fn proxy(server: &Server, method: reqwest::Method, target: &str) -> reqwest::RequestBuilder {
    http_client(true)
        .request(method, format!("{}/fal/proxy", server.url))
        .header("x-fal-target-url", target)
        .header("content-type", "application/json")
}

/// The ledger's one entry with this request id.
fn entry(ledger: &TestLedger, request_id: &str) -> Value {
    let list = ledger.json(&["list", "--json", "--limit", "1000"]);
    let found: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["request_id"] == json!(request_id))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "[{}] entries with {request_id}: {list}",
        ledger.backend
    );
    found[0].clone()
}

async fn submit(server: &Server, endpoint: &str, input: Value, tags: &[(&str, &str)]) -> String {
    let mut request = proxy(
        server,
        reqwest::Method::POST,
        &format!("https://queue.fal.run/{endpoint}"),
    );
    for (name, value) in tags {
        request = request.header(*name, *value);
    }
    let answer = request.body(input.to_string()).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    body["request_id"].as_str().unwrap().to_string()
}

async fn get(server: &Server, target: &str) -> reqwest::Response {
    proxy(server, reqwest::Method::GET, target)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_run_is_logged_pending_then_timed_and_billed_from_its_result() {
    for ledger in TestLedger::each() {
        let fal = FakeFal::start(KEY, ADMIN_KEY).await;
        fal.set_units("fal-ai/flux/dev", "1.5");
        let server =
            Server::start_with_env(&ledger, &["--fal-upstream", &fal.url], &[("FAL_KEY", KEY)]);
        let input =
            json!({"prompt": "a fjord at dawn", "image_size": "landscape_4_3", "num_images": 1});
        let tags = [
            ("x-gencost-client", "Acme"),
            ("x-gencost-project", "Summer Spot"),
            ("x-gencost-deliverable", "Hero Film"),
        ];
        let id = submit(&server, "fal-ai/flux/dev", input.clone(), &tags).await;
        let logged = entry(&ledger, &id);
        assert_eq!(logged["status"], "pending");
        assert_eq!(logged["source"], "fal.ai");
        assert_eq!(logged["model"], "fal-ai/flux/dev");
        assert_eq!(logged["client"], "Acme");
        assert_eq!(logged["project"], "Summer Spot");
        assert_eq!(logged["deliverable"], "Hero Film");
        assert_eq!(logged["params"]["prompt"], "a fjord at dawn");
        assert_eq!(logged["estimate"]["amount"], "0.025");
        assert_eq!(logged["cost"]["tier"], "estimated");
        // Pending runs count at their estimate.
        let total = ledger.json(&["total", "--json"]);
        assert_eq!(total["total"], "0.025", "{total}");

        // A retried submit is logged once.
        let again = submit(&server, "fal-ai/flux/dev", input, &tags).await;
        assert_eq!(again, id);
        entry(&ledger, &id);

        let status = format!("https://queue.fal.run/fal-ai/flux/requests/{id}/status");
        assert_eq!(get(&server, &status).await.status(), StatusCode::ACCEPTED);
        assert_eq!(entry(&ledger, &id)["duration_ms"], Value::Null);
        assert_eq!(get(&server, &status).await.status(), StatusCode::OK);
        assert_eq!(entry(&ledger, &id)["duration_ms"], 2345);

        let result = get(
            &server,
            &format!("https://queue.fal.run/fal-ai/flux/requests/{id}"),
        )
        .await;
        assert_eq!(result.status(), StatusCode::OK);
        assert_eq!(result.headers()["x-fal-billable-units"], "1.5");
        let output: Value = result.json().await.unwrap();
        assert_eq!(output["seed"], 7, "the result comes back as fal sent it");
        let settled = entry(&ledger, &id);
        assert_eq!(settled["status"], "succeeded");
        assert_eq!(settled["actual"]["amount"], "0.0375", "1.5 units × 0.025");
        assert_eq!(settled["cost"]["tier"], "billed");
        assert_eq!(settled["estimate"]["amount"], "0.025", "the estimate stays");
        assert_eq!(settled["billing"]["units"], "1.5");
        assert_eq!(settled["billing"]["endpoint"], "fal-ai/flux/dev");
        assert_eq!(settled["billing"]["unit_price"], "0.025");
        assert_eq!(settled["billing"]["price_from"], "catalog");
        assert_eq!(settled["billing"]["zero_units"], false);

        // Fetching the result again writes nothing more.
        let head = ledger.json(&["verify", "--json"])["events"].clone();
        get(
            &server,
            &format!("https://queue.fal.run/fal-ai/flux/requests/{id}"),
        )
        .await;
        assert_eq!(ledger.json(&["verify", "--json"])["events"], head);
        let verify = ledger.json(&["verify", "--json"]);
        assert_eq!(verify["problem"], Value::Null, "{verify}");

        // The key is nowhere: not in the ledger, not in what the server printed.
        let export = ledger.ok(&["export", "csv"]);
        assert!(!export.contains(KEY));
        if ledger.backend == "sqlite" {
            let bytes = std::fs::read(ledger.sqlite_path()).unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains(KEY));
        }
        assert!(!server.stderr.lock().unwrap().contains(KEY));
        // Every request reached fal with the key.
        assert!(fal
            .seen()
            .iter()
            .all(|s| s.authorization == format!("Key {KEY}")));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn synchronous_runs_settle_at_once_with_bill_as_fractional_zero_and_failed_units() {
    let ledger = TestLedger::sqlite();
    let fal = FakeFal::start(KEY, ADMIN_KEY).await;
    // Billed as another endpoint, at that endpoint's unit price.
    fal.set_units("fal-ai/flux/schnell", "3.008");
    fal.set_bill_as("fal-ai/flux/schnell", "fal-ai/flux/dev");
    // A reported zero, and units of an endpoint without a unit price.
    fal.set_units("fal-ai/flux-pro/v1.1", "0");
    fal.set_units("fal-ai/no-such-model", "2");
    fal.state
        .lock()
        .unwrap()
        .failing
        .insert("fal-ai/flux/krea".into());
    let server =
        Server::start_with_env(&ledger, &["--fal-upstream", &fal.url], &[("FAL_KEY", KEY)]);
    ledger.ok(&["use", "--client", "Globex", "--project", "Winter"]);
    let run = |endpoint: &str| {
        proxy(
            &server,
            reqwest::Method::POST,
            &format!("https://fal.run/{endpoint}"),
        )
        .body(json!({"prompt": "x"}).to_string())
        .send()
    };
    assert_eq!(
        run("fal-ai/flux/schnell").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        run("fal-ai/flux-pro/v1.1").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        run("fal-ai/no-such-model").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        run("fal-ai/flux/krea").await.unwrap().status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let list = ledger.json(&["list", "--json"]);
    let by_model = |model: &str| -> Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["model"] == json!(model))
            .cloned()
            .unwrap_or_else(|| panic!("{model} not logged: {list}"))
    };
    let schnell = by_model("fal-ai/flux/schnell");
    assert_eq!(schnell["client"], "Globex", "the active tags apply");
    assert_eq!(schnell["status"], "succeeded");
    assert_eq!(schnell["billing"]["endpoint"], "fal-ai/flux/dev");
    assert_eq!(schnell["actual"]["amount"], "0.0752", "3.008 × 0.025");
    let zero = by_model("fal-ai/flux-pro/v1.1");
    assert_eq!(zero["billing"]["units"], "0");
    assert_eq!(zero["billing"]["zero_units"], true);
    assert_eq!(zero["actual"], Value::Null, "0 does not prove a free run");
    let unknown = by_model("fal-ai/no-such-model");
    assert_eq!(unknown["billing"]["units"], "2");
    assert_eq!(unknown["billing"]["unit_price"], Value::Null);
    assert_eq!(unknown["cost"]["tier"], "unpriced");
    let failed = by_model("fal-ai/flux/krea");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["billing"], Value::Null);
    // The failed run without units is kept apart, not counted.
    let total = ledger.json(&["total", "--json"]);
    assert_eq!(total["not_charged_count"], 1, "{total}");
    assert_eq!(
        total["total"], "0.0752",
        "the zero and the unknown count unpriced: {total}"
    );
    assert_eq!(ledger.json(&["verify", "--json"])["problem"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_and_cancels_are_logged() {
    let ledger = TestLedger::sqlite();
    let fal = FakeFal::start(KEY, ADMIN_KEY).await;
    let server =
        Server::start_with_env(&ledger, &["--fal-upstream", &fal.url], &[("FAL_KEY", KEY)]);
    let stream = proxy(
        &server,
        reqwest::Method::POST,
        "https://fal.run/fal-ai/flux/dev/stream",
    )
    .body(json!({"prompt": "y"}).to_string())
    .send()
    .await
    .unwrap();
    let request_id = stream.headers()["x-fal-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let text = stream.text().await.unwrap();
    assert_eq!(text.matches("data: ").count(), 2, "{text}");
    let logged = entry(&ledger, &request_id);
    assert_eq!(logged["status"], "pending");
    assert_eq!(logged["estimate"]["amount"], "0.025");

    let id = submit(&server, "fal-ai/flux/dev", json!({"prompt": "z"}), &[]).await;
    let cancel = proxy(
        &server,
        reqwest::Method::PUT,
        &format!("https://queue.fal.run/fal-ai/flux/requests/{id}/cancel"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(cancel.status(), StatusCode::ACCEPTED);
    assert_eq!(entry(&ledger, &id)["status"], "cancelled");
    // A stream has no queued result to re-read: reconcile leaves it open
    // for billing records rather than calling it unreadable.
    let upstream = fal.url.clone();
    let done = tokio::task::block_in_place(|| {
        ledger.run_env(
            &["reconcile", "--json", "--fal-upstream", &upstream],
            &[("FAL_KEY", KEY)],
        )
    });
    assert_eq!(done.code, 0, "{}{}", done.stdout, done.stderr);
    let summary: Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(summary["failed"], 0, "{summary}");
    assert_eq!(entry(&ledger, &request_id)["status"], "pending");
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_settles_open_runs_from_results_and_billing_records() {
    for ledger in TestLedger::each() {
        let fal = FakeFal::start(KEY, ADMIN_KEY).await;
        fal.set_units("fal-ai/flux/dev", "2");
        fal.set_units("fal-ai/flux-pro/v1.1", "0");
        let server =
            Server::start_with_env(&ledger, &["--fal-upstream", &fal.url], &[("FAL_KEY", KEY)]);
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(
                submit(
                    &server,
                    "fal-ai/flux/dev",
                    json!({"prompt": format!("shot {n}")}),
                    &[],
                )
                .await,
            );
        }
        let zero = submit(
            &server,
            "fal-ai/flux-pro/v1.1",
            json!({"prompt": "zero"}),
            &[],
        )
        .await;
        drop(server);
        let upstream = fal.url.clone();
        let run = |args: Vec<&'static str>, key: &'static str| {
            let url = upstream.clone();
            let ledger = &ledger;
            let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            all.extend(["--fal-upstream".to_string(), url]);
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            ledger.run_env(&refs, &[("FAL_KEY", key)])
        };
        let done = tokio::task::block_in_place(|| run(vec!["reconcile", "--json"], KEY));
        assert_eq!(done.code, 0, "{}", done.stderr);
        let summary: Value = serde_json::from_str(&done.stdout).unwrap();
        assert_eq!(summary["open"], 4, "{summary}");
        assert_eq!(summary["confirmed"], 3);
        assert_eq!(summary["still_open"], 1, "the zero stays open");
        assert_eq!(summary["change"]["USD"], "0.075", "3 × (0.05 − 0.025)");
        for id in &ids {
            assert_eq!(entry(&ledger, id)["actual"]["amount"], "0.05");
        }
        // Billing records need an admin key: a clear refusal, nothing changed.
        let refused =
            tokio::task::block_in_place(|| run(vec!["reconcile", "--billing-events"], KEY));
        assert_ne!(refused.code, 0);
        assert!(refused.stderr.contains("admin"), "{}", refused.stderr);
        assert!(!refused.stderr.contains(KEY));
        assert_eq!(entry(&ledger, &zero)["actual"], Value::Null);
        // With one, the record settles the zero at its cost, discount included.
        fal.state.lock().unwrap().billing = vec![
            json!({"request_id": "someone-else", "endpoint_id": "fal-ai/flux/dev", "output_units": 1, "unit_price": 0.025}),
            json!({"request_id": zero, "endpoint_id": "fal-ai/flux-pro/v1.1", "timestamp": "2026-12-04T10:30:45Z",
                   "output_units": 1, "unit_price": 0.04, "percent_discount": 10, "cost_estimate_nano_usd": 36000000}),
        ];
        let settled = tokio::task::block_in_place(|| {
            run(vec!["reconcile", "--billing-events", "--json"], ADMIN_KEY)
        });
        assert_eq!(settled.code, 0, "{}", settled.stderr);
        let zero_entry = entry(&ledger, &zero);
        assert_eq!(zero_entry["actual"]["amount"], "0.036");
        assert_eq!(zero_entry["billing"]["price_from"], "billing record");
        assert_eq!(ledger.json(&["verify", "--json"])["problem"], Value::Null);
        // Billing-records calls asked by request id, at most 50 at a time.
        assert!(fal
            .seen()
            .iter()
            .any(|s| s.path == "/v1/models/billing-events" && s.query.contains("request_id=")));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pricing_sync_stores_fal_unit_prices_that_then_price_billed_units() {
    let ledger = TestLedger::sqlite();
    let fal = FakeFal::start(KEY, ADMIN_KEY).await;
    fal.set_units("fal-ai/flux/dev", "2");
    fal.state.lock().unwrap().prices = vec![
        json!({"endpoint_id": "fal-ai/flux/dev", "unit_price": 0.03, "unit": "megapixels", "currency": "USD"}),
        json!({"endpoint_id": "fal-ai/kling-video/v2.1/master/text-to-video", "unit_price": 0.28, "unit": "seconds", "currency": "usd"}),
    ];
    let sync = |key: &str| {
        ledger.run_env(
            &[
                "pricing",
                "sync",
                "--models",
                "fal-ai/flux/dev,fal-ai/kling-video/v2.1/master/text-to-video,fal-ai/unknown",
                "--json",
                "--fal-upstream",
                &fal.url,
            ],
            &[("FAL_KEY", key)],
        )
    };
    let first = tokio::task::block_in_place(|| sync(KEY));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let summary: Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(summary["stored"]["added"], 2, "{summary}");
    assert_eq!(summary["missing"], json!(["fal-ai/unknown"]));
    assert_eq!(summary["changes"][0]["now"], "0.03 USD/megapixels");
    let again: Value =
        serde_json::from_str(&tokio::task::block_in_place(|| sync(KEY)).stdout).unwrap();
    assert_eq!(again["stored"]["unchanged"], 2, "{again}");
    assert_eq!(again["changes"], json!([]));
    // Paged: the stand-in answers one price a page.
    assert!(fal
        .seen()
        .iter()
        .any(|s| s.path == "/v1/models/pricing" && s.query.contains("cursor=1")));

    let server =
        Server::start_with_env(&ledger, &["--fal-upstream", &fal.url], &[("FAL_KEY", KEY)]);
    let id = submit(&server, "fal-ai/flux/dev", json!({"prompt": "synced"}), &[]).await;
    get(
        &server,
        &format!("https://queue.fal.run/fal-ai/flux/requests/{id}"),
    )
    .await;
    let settled = entry(&ledger, &id);
    assert_eq!(
        settled["estimate"]["amount"], "0.025",
        "the catalog still estimates"
    );
    assert_eq!(settled["actual"]["amount"], "0.06", "2 units × fal's 0.03");
    assert_eq!(settled["billing"]["price_from"], "sync");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_tag_headers_are_refused_before_anything_leaves() {
    let ledger = TestLedger::sqlite();
    let fal = FakeFal::start(KEY, ADMIN_KEY).await;
    let server =
        Server::start_with_env(&ledger, &["--fal-upstream", &fal.url], &[("FAL_KEY", KEY)]);
    let answer = proxy(
        &server,
        reqwest::Method::POST,
        "https://queue.fal.run/fal-ai/flux/dev",
    )
    .header("x-gencost-client", "a".repeat(201))
    .body("{}")
    .send()
    .await
    .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["field"], "x-gencost-client");
    assert!(fal.seen().is_empty());
    // Without a key the proxy is unavailable, and says why.
    let keyless = Server::start_with_env(&ledger, &["--fal-upstream", &fal.url], &[]);
    let answer = proxy(
        &keyless,
        reqwest::Method::POST,
        "https://fal.run/fal-ai/flux/dev",
    )
    .body("{}")
    .send()
    .await
    .unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(fal.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn accuracy_compares_estimates_with_confirmed_costs_per_model() {
    for ledger in TestLedger::each() {
        // flux/dev estimates 0.025 each; confirmed 0.025, 0.030 (20% off) and 0.
        for (n, actual) in ["0.025", "0.030", "0"].iter().enumerate() {
            let id = ledger.ok(&[
                "log",
                "--model",
                "fal-ai/flux/dev",
                "--request-id",
                &format!("a{n}"),
            ]);
            ledger.ok(&["confirm", id.trim(), "--actual", actual]);
        }
        // A close one on another model.
        let id = ledger.ok(&["log", "--model", "fal-ai/flux/schnell", "--cost", "0.010"]);
        ledger.ok(&["confirm", id.trim(), "--actual", "0.0101"]);
        let report = ledger.json(&["accuracy", "--json"]);
        let models = report["models"].as_array().unwrap();
        assert_eq!(
            models[0]["model"], "fal-ai/flux/dev",
            "the worst first: {report}"
        );
        assert_eq!(models[0]["confirmed"], 3);
        assert_eq!(models[0]["compared"], 2);
        assert_eq!(models[0]["zero_confirmed"], 1, "a zero is counted apart");
        // |0.025−0.030|/0.030 = 16.666667% and 0%: the mean, 8.3333335,
        // rounds half to even.
        assert_eq!(models[0]["mean_abs_pct"], "8.333334");
        assert_eq!(models[0]["drifting"], false);
        assert_eq!(models[0]["over_threshold"], 1);
        assert_eq!(models[1]["mean_abs_pct"], "0.990099");
        assert_eq!(report["largest"][0]["difference_pct"], "16.666667");
        assert_eq!(report["largest"][0]["confirmed"], "0.03");
        let text = ledger.ok(&["accuracy"]);
        assert!(
            text.contains("fal-ai/flux/dev") && text.contains("8.333334%"),
            "{text}"
        );

        let server = Server::start(&ledger, &[]);
        let api: Value = http_client(true)
            .get(server.api("/accuracy?currency=USD"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(api, report, "the API and the CLI give the same figures");
        let refused = http_client(true)
            .get(server.api("/accuracy?modle=x"))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }
}

#[test]
fn the_ledger_learns_prices_and_run_times_per_settings() {
    for ledger in TestLedger::each() {
        let log = |model: &str, extra: &[&str]| {
            let mut args = vec!["log", "--model", model];
            args.extend_from_slice(extra);
            ledger.ok(&args);
        };
        // A model the catalog cannot price: three confirmed costs with
        // steps=30, one with steps=50, and an old one outside 60 days.
        for actual in ["0.10", "0.30", "0.20"] {
            log(
                "studio/upscaler",
                &[
                    "--actual", actual, "--param", "steps=30", "--param", "prompt=p",
                ],
            );
        }
        log("studio/upscaler", &["--actual", "9", "--param", "steps=50"]);
        log(
            "studio/upscaler",
            &["--actual", "5", "--param", "steps=30", "--at", "2020-01-01"],
        );
        let estimate = |params: &[&str]| {
            let mut args = vec!["pricing", "estimate", "studio/upscaler", "--json"];
            for p in params {
                args.extend(["--param", p]);
            }
            ledger.json(&args)
        };
        let same = estimate(&["steps=30", "prompt=another"]);
        assert_eq!(same["tier"], "historical", "{same}");
        assert_eq!(
            same["amount"], "0.2",
            "the median of 0.10, 0.20, 0.30; the 2020 one is too old"
        );
        let other = estimate(&["steps=50"]);
        assert_eq!(
            other["tier"], "unpriced",
            "one run with steps=50 is not enough: {other}"
        );

        // Run times: the median of the last durations with the same settings.
        assert_eq!(estimate(&["steps=30"])["typical_duration_ms"], Value::Null);
        for duration in ["30s", "38s", "40s"] {
            log(
                "fal-ai/flux/dev",
                &["--duration", duration, "--param", "num_images=1"],
            );
        }
        log(
            "fal-ai/flux/dev",
            &["--duration", "90s", "--param", "num_images=4"],
        );
        let flux = ledger.json(&["pricing", "estimate", "fal-ai/flux/dev", "--json"]);
        assert_eq!(flux["typical_duration_ms"], 38_000, "{flux}");
        assert_eq!(flux["typical_of_runs"], 3);
        let text = ledger.ok(&["pricing", "estimate", "fal-ai/flux/dev"]);
        assert!(text.contains("takes ≈ 38 s"), "{text}");
        let four = ledger.json(&[
            "pricing",
            "estimate",
            "fal-ai/flux/dev",
            "--param",
            "num_images=4",
            "--json",
        ]);
        assert_eq!(
            four["typical_duration_ms"],
            Value::Null,
            "one run with 4 images"
        );
    }
}

/// fal's prices are read from their JSON text: `0.0000025`, which a float
/// prints as `2.5e-6`, and an exponent fal writes itself (`1e-7`).
#[tokio::test(flavor = "multi_thread")]
async fn synced_prices_are_read_exactly_and_price_billed_units() {
    for ledger in TestLedger::each() {
        let fal = FakeFal::start(KEY, ADMIN_KEY).await;
        fal.state.lock().unwrap().raw_prices = vec![
            r#"{"endpoint_id": "fal-ai/flux/schnell", "unit_price": 0.0000025, "unit": "images", "currency": "USD"}"#.into(),
            r#"{"endpoint_id": "fal-ai/flux/krea", "unit_price": 1e-7, "unit": "images", "currency": "USD"}"#.into(),
        ];
        fal.set_units("fal-ai/flux/schnell", "1000");
        fal.set_units("fal-ai/flux/krea", "1000");
        let upstream = fal.url.clone();
        let sync = tokio::task::block_in_place(|| {
            ledger.run_env(
                &[
                    "pricing",
                    "sync",
                    "--models",
                    "fal-ai/flux/schnell,fal-ai/flux/krea",
                    "--json",
                    "--fal-upstream",
                    &upstream,
                ],
                &[("FAL_KEY", KEY)],
            )
        });
        assert_eq!(sync.code, 0, "[{}] {}", ledger.backend, sync.stderr);
        let summary: Value = serde_json::from_str(&sync.stdout).unwrap();
        assert_eq!(summary["stored"]["added"], 2, "{summary}");
        assert_eq!(summary["rounded"], json!([]));

        // Billed units at the synced prices, through the proxy.
        let server =
            Server::start_with_env(&ledger, &["--fal-upstream", &fal.url], &[("FAL_KEY", KEY)]);
        for endpoint in ["fal-ai/flux/schnell", "fal-ai/flux/krea"] {
            let answer = proxy(
                &server,
                reqwest::Method::POST,
                &format!("https://fal.run/{endpoint}"),
            )
            .body(json!({"prompt": "exact"}).to_string())
            .send()
            .await
            .unwrap();
            assert_eq!(answer.status(), StatusCode::OK);
        }
        let list = ledger.json(&["list", "--json"]);
        let by_model = |model: &str| -> Value {
            list.as_array()
                .unwrap()
                .iter()
                .find(|e| e["model"] == json!(model))
                .cloned()
                .unwrap_or_else(|| panic!("{model} not logged: {list}"))
        };
        let schnell = by_model("fal-ai/flux/schnell");
        assert_eq!(schnell["actual"]["amount"], "0.0025", "1,000 × 0.0000025");
        assert_eq!(schnell["billing"]["unit_price"], "0.0000025");
        assert_eq!(schnell["billing"]["price_from"], "sync");
        let krea = by_model("fal-ai/flux/krea");
        assert_eq!(krea["actual"]["amount"], "0.0001", "1,000 × 1e-7");
        assert_eq!(krea["billing"]["unit_price"], "0.0000001");
    }
}

/// Billing records are read from their JSON text: small totals that a
/// float prints with an exponent (`0.000004` → `4e-6`), exponents fal
/// writes itself, and digits past a float's 17 all reach the ledger
/// exactly; what is not a number refuses its record by name instead of
/// passing the turn to another field.
#[tokio::test(flavor = "multi_thread")]
async fn billing_records_are_read_exactly_and_never_fall_through() {
    for ledger in TestLedger::each() {
        let fal = FakeFal::start(KEY, ADMIN_KEY).await;
        fal.state.lock().unwrap().raw_billing = vec![
            // The total, not units × price, is the cost.
            r#"{"request_id": "r-total", "endpoint_id": "fal-ai/flux/dev", "cost_total": 0.000004, "output_units": 1, "unit_price": 0.025}"#.into(),
            r#"{"request_id": "r-units", "endpoint_id": "fal-ai/flux/dev", "output_units": 1000, "unit_price": 0.0000025}"#.into(),
            // 19 significant digits: as a float, 0.1234565, which rounds
            // half to even down.
            r#"{"request_id": "r-long", "endpoint_id": "fal-ai/flux/dev", "cost_total": 0.1234565000000000001, "cost_estimate_nano_usd": 1000}"#.into(),
            r#"{"request_id": "r-exponent", "endpoint_id": "fal-ai/flux/dev", "output_units": 1000, "unit_price": 1e-7}"#.into(),
            r#"{"request_id": "r-nan", "endpoint_id": "fal-ai/flux/dev", "cost_total": "NaN", "cost_estimate_nano_usd": 5000}"#.into(),
        ];
        for id in ["r-total", "r-units", "r-long", "r-exponent", "r-nan"] {
            ledger.ok(&[
                "log",
                "--model",
                "fal-ai/flux/dev",
                "--request-id",
                id,
                "--status",
                "pending",
            ]);
        }
        let upstream = fal.url.clone();
        let done = tokio::task::block_in_place(|| {
            ledger.run_env(
                &[
                    "reconcile",
                    "--billing-events",
                    "--json",
                    "--fal-upstream",
                    &upstream,
                ],
                &[("FAL_KEY", ADMIN_KEY)],
            )
        });
        assert_eq!(done.code, 0, "{}", done.stderr);
        let summary: Value = serde_json::from_str(&done.stdout).unwrap();
        let total = entry(&ledger, "r-total");
        assert_eq!(total["actual"]["amount"], "0.000004", "{summary}");
        assert_eq!(total["billing"]["rounded"], Value::Null);
        let units = entry(&ledger, "r-units");
        assert_eq!(units["actual"]["amount"], "0.0025", "{summary}");
        assert_eq!(units["billing"]["unit_price"], "0.0000025");
        let long = entry(&ledger, "r-long");
        assert_eq!(long["actual"]["amount"], "0.123457");
        assert_eq!(
            long["billing"]["rounded"],
            "cost_total 0.1234565000000000001 rounded to 0.123457 USD (micro-units)"
        );
        let exponent = entry(&ledger, "r-exponent");
        assert_eq!(exponent["actual"]["amount"], "0.0001", "{summary}");
        assert_eq!(exponent["billing"]["unit_price"], "0.0000001");
        // Not a number: refused by name, nothing booked from the next field.
        assert_eq!(entry(&ledger, "r-nan")["actual"], Value::Null);
        assert_eq!(summary["failed"], 1, "{summary}");
        let failure = summary["failures"][0].as_str().unwrap();
        assert!(
            failure.contains("r-nan") && failure.contains("cost_total"),
            "{failure}"
        );
        assert_eq!(ledger.json(&["verify", "--json"])["problem"], Value::Null);
    }
}

/// The UTC day `days` before today, `YYYY-MM-DD`.
fn days_ago(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() - time::Duration::days(days)).to_string()
}

/// Prices have days: a synced price is in force from the day it was first
/// read until the next change, and a run's billed units are priced at the
/// price of the run's own UTC day, however late it is settled; before the
/// first synced price, the catalog's. `db copy` carries the prices along.
#[tokio::test(flavor = "multi_thread")]
async fn billed_units_are_priced_at_the_price_in_force_on_the_runs_day() {
    for ledger in TestLedger::each() {
        let fal = FakeFal::start(KEY, ADMIN_KEY).await;
        fal.set_units("fal-ai/flux/dev", "2");
        let price = |unit_price: &str| {
            fal.state.lock().unwrap().prices = vec![serde_json::from_str(&format!(
                r#"{{"endpoint_id": "fal-ai/flux/dev", "unit_price": {unit_price}, "unit": "megapixels", "currency": "USD"}}"#
            ))
            .unwrap()];
        };
        let upstream = fal.url.clone();
        let sync = || {
            let done = tokio::task::block_in_place(|| {
                ledger.run_env(
                    &[
                        "pricing",
                        "sync",
                        "--models",
                        "fal-ai/flux/dev",
                        "--json",
                        "--fal-upstream",
                        &upstream,
                    ],
                    &[("FAL_KEY", KEY)],
                )
            });
            assert_eq!(done.code, 0, "[{}] {}", ledger.backend, done.stderr);
            serde_json::from_str::<Value>(&done.stdout).unwrap()
        };
        // 0.03 first read 30 days ago (a sync then, its row's day moved
        // back by hand), 0.04 read today.
        price("0.03");
        assert_eq!(sync()["stored"]["added"], 1);
        common::exec_sql(&ledger.url, "UPDATE unit_prices SET day = day - 30");
        price("0.04");
        let changed = sync();
        assert_eq!(changed["stored"]["changed"], 1, "{changed}");
        assert_eq!(changed["changes"][0]["before"], "0.03 USD/megapixels");
        // An unchanged price adds no row: each row's day is the day its
        // price was first read.
        assert_eq!(sync()["stored"]["unchanged"], 1);
        let rows = common::query_text(
            &ledger.url,
            "SELECT unit_price FROM unit_prices ORDER BY day",
        );
        assert_eq!(
            rows,
            vec![vec!["0.03".to_string()], vec!["0.04".to_string()]]
        );

        // Runs before any sync, on the first synced day, between the two
        // prices, and today; settled only now.
        let runs = [
            ("day-40", days_ago(40), "0.05", "catalog"),
            ("day-30", days_ago(30), "0.06", "sync"),
            ("day-20", days_ago(20), "0.06", "sync"),
            ("day-0", days_ago(0), "0.08", "sync"),
        ];
        for (id, day, _, _) in &runs {
            ledger.ok(&[
                "log",
                "--model",
                "fal-ai/flux/dev",
                "--request-id",
                id,
                "--status",
                "pending",
                "--at",
                day,
            ]);
            fal.state.lock().unwrap().runs.insert(
                id.to_string(),
                common::fake_fal::QueuedRun {
                    endpoint: "fal-ai/flux/dev".into(),
                    polls: 2,
                },
            );
        }
        // The ledger moves to the other backend (PostgreSQL when there is
        // one) before anything is settled.
        let copy = match (ledger.backend, common::postgres_admin_url()) {
            ("sqlite", Some(admin)) => TestLedger::postgres(&admin),
            _ => TestLedger::sqlite(),
        };
        ledger.ok(&["db", "copy", "--from", &ledger.url, "--to", &copy.url]);

        for (which, settled_ledger) in [("ledger", &ledger), ("copy", &copy)] {
            let done = tokio::task::block_in_place(|| {
                settled_ledger.run_env(
                    &["reconcile", "--json", "--fal-upstream", &upstream],
                    &[("FAL_KEY", KEY)],
                )
            });
            assert_eq!(done.code, 0, "{}", done.stderr);
            let summary: Value = serde_json::from_str(&done.stdout).unwrap();
            assert_eq!(summary["confirmed"], 4, "{summary}");
            for (id, _, amount, from) in &runs {
                let settled = entry(settled_ledger, id);
                let where_ = format!(
                    "[{} {which} on {}] {id}",
                    ledger.backend, settled_ledger.backend
                );
                assert_eq!(settled["actual"]["amount"], *amount, "{where_}: {settled}");
                assert_eq!(settled["billing"]["price_from"], *from, "{where_}");
                if *from == "sync" {
                    let first_read = if *id == "day-0" { 0 } else { 30 };
                    assert_eq!(
                        settled["billing"]["price_date"],
                        json!(days_ago(first_read)),
                        "{where_}"
                    );
                }
            }
            let verify = settled_ledger.json(&["verify", "--json"]);
            assert_eq!(verify["problem"], Value::Null, "{verify}");
        }
    }
}
