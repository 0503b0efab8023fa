//! The official Python clients of OpenAI (`openai`), Replicate
//! (`replicate`), Runway (`runwayml`) and ElevenLabs (`elevenlabs`), pinned
//! and installed by `.ci/run`, run through `gencost serve` against the
//! stand-in for the four providers (`tests/py/providers.py`): each run is
//! logged once with its model, tags, estimate and settled cost; a failed
//! run is kept apart; the key is never in an answer, a log line or the
//! ledger file. Skipped when Python or a client is missing, unless
//! `GENCOST_REQUIRE_PROVIDER_CLIENTS` is set.

mod common;
use common::fake_providers::FakeProviders;
use common::server::Server;
use common::TestLedger;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const OPENAI_KEY: &str = "sk-proj-5f0e9c2b7a4d";
const REPLICATE_KEY: &str = "r8_Q2kT9vLmX3pW7";
const RUNWAY_KEY: &str = "key_9a8b7c6d5e4f";
const ELEVENLABS_KEY: &str = "sk_e1e7f0c3a9b2";

fn clients_installed() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import openai, replicate, runwayml, elevenlabs"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("GENCOST_REQUIRE_PROVIDER_CLIENTS").is_none(),
            "GENCOST_REQUIRE_PROVIDER_CLIENTS is set but python3 cannot import openai, replicate, runwayml and elevenlabs"
        );
        eprintln!("skipped: the providers' Python clients are not installed (see .ci/run)");
    }
    found
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py/providers.py")
}

/// Runs one provider's client through the server; its JSON line.
fn run_client(provider: &str, server: &str, key: &str) -> (Value, String) {
    let output = Command::new("python3")
        .arg(script())
        .args([provider, server, key])
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("REPLICATE_API_TOKEN")
        .env_remove("REPLICATE_BASE_URL")
        .env_remove("RUNWAYML_API_SECRET")
        .env_remove("RUNWAYML_BASE_URL")
        .env_remove("ELEVENLABS_API_KEY")
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        output.status.success(),
        "the {provider} client failed: {stderr}\n{stdout}"
    );
    let line = stdout.lines().last().unwrap_or_default();
    let json = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    (json, format!("{stdout}{stderr}"))
}

fn provider_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("OPENAI_API_KEY", OPENAI_KEY),
        ("REPLICATE_API_TOKEN", REPLICATE_KEY),
        ("RUNWAYML_API_SECRET", RUNWAY_KEY),
        ("ELEVENLABS_API_KEY", ELEVENLABS_KEY),
    ]
}

async fn stand_in() -> FakeProviders {
    FakeProviders::start(&[
        ("openai", OPENAI_KEY),
        ("replicate", REPLICATE_KEY),
        ("runway", RUNWAY_KEY),
        ("elevenlabs", ELEVENLABS_KEY),
    ])
    .await
}

fn upstreams(url: &str) -> Vec<String> {
    ["openai", "replicate", "runway", "elevenlabs"]
        .iter()
        .flat_map(|name| [format!("--{name}-upstream"), url.to_string()])
        .collect()
}

fn entries(ledger: &TestLedger) -> Vec<Value> {
    ledger.json(&["list", "--json"]).as_array().unwrap().clone()
}

fn with_request<'a>(list: &'a [Value], request_id: &str) -> &'a Value {
    let found: Vec<&Value> = list
        .iter()
        .filter(|e| e["request_id"] == request_id)
        .collect();
    assert_eq!(found.len(), 1, "{request_id} logged once: {list:?}");
    found[0]
}

fn of_model<'a>(list: &'a [Value], model: &str) -> Vec<&'a Value> {
    list.iter().filter(|e| e["model"] == model).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_official_client_runs_through_serve_and_each_run_is_logged_once() {
    if !clients_installed() {
        return;
    }
    let ledger = TestLedger::sqlite();
    ledger.ok(&["use", "--client", "Örebro Film", "--project", "Vinter"]);
    let fake = stand_in().await;
    let args = upstreams(&fake.url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_with_env(&ledger, &args, &provider_env());
    let mut printed = String::new();

    // OpenAI: logged and settled from one answer, tagged by its headers.
    let (openai, out) = run_client("openai", &server.url, "any-key-on-loopback");
    printed.push_str(&out);
    // Three images inline: an answer over a megabyte, read whole for its
    // usage.
    assert_eq!(openai["images"], 3, "{openai}");
    assert_eq!(openai["output_tokens"], 18720);
    assert_eq!(
        openai["refused"]["code"], "moderation_blocked",
        "the provider's refusal reaches the client as it was: {openai}"
    );
    let list = entries(&ledger);
    let generated = with_request(&list, openai["request_id"].as_str().unwrap());
    assert_eq!(generated["source"], "OpenAI");
    assert_eq!(generated["model"], "openai/gpt-image-1");
    assert_eq!(generated["client"], "Acme");
    assert_eq!(generated["project"], "Summer Spot");
    assert_eq!(generated["status"], "succeeded");
    assert_eq!(generated["params"]["quality"], "high");
    // 3 × $0.25 (high, 1024x1536) + 5 prompt tokens × $5 per million.
    assert_eq!(generated["estimate"]["amount"], "0.750025");
    // 5 text tokens × $5 + 18,720 image output tokens × $40, per million.
    assert_eq!(generated["actual"]["amount"], "0.748825");
    assert_eq!(generated["cost"]["tier"], "billed");
    assert_eq!(generated["billing"]["usage"]["image_output"], 18720);
    assert_eq!(generated["billing"]["usage"]["text_input"], 5);
    assert_eq!(generated["billing"]["units"], "18725");
    let edits = of_model(&list, "openai/gpt-image-1-mini");
    assert_eq!(edits.len(), 1, "{list:?}");
    // The edit's form was read: low quality, one file; the client's tag
    // headers name the client, the active project stays.
    assert_eq!(edits[0]["params"]["quality"], "low");
    assert_eq!(edits[0]["params"]["files"], 1);
    assert_eq!(edits[0]["client"], "Acme");
    // 4 × $2 + 323 image input × $2.50 + 272 × $8 per million, half to even.
    assert_eq!(edits[0]["actual"]["amount"], "0.002992");
    let refused: Vec<&Value> = of_model(&list, "openai/gpt-image-1")
        .into_iter()
        .filter(|e| e["status"] == "failed")
        .collect();
    assert_eq!(refused.len(), 1, "the refused call is kept apart: {list:?}");
    assert_eq!(refused[0]["actual"], Value::Null);

    // Replicate: a run that answered at once, one left open, one failed.
    let (replicate, out) = run_client("replicate", &server.url, "any-key-on-loopback");
    printed.push_str(&out);
    assert_eq!(replicate["outputs"], 2, "{replicate}");
    assert_eq!(replicate["failed_status"], "failed");
    let list = entries(&ledger);
    let schnell = of_model(&list, "replicate/black-forest-labs/flux-schnell");
    assert_eq!(schnell.len(), 1, "{list:?}");
    assert_eq!(schnell[0]["source"], "Replicate");
    assert_eq!(schnell[0]["client"], "Örebro Film");
    assert_eq!(schnell[0]["status"], "succeeded");
    assert_eq!(schnell[0]["params"]["num_outputs"], 2);
    // Per output: 2 images × $0.003.
    assert_eq!(schnell[0]["actual"]["amount"], "0.006");
    assert_eq!(schnell[0]["billing"]["units"], "2");
    let open = with_request(&list, replicate["open"].as_str().unwrap());
    assert_eq!(open["model"], "replicate/acme/upscaler");
    assert_eq!(open["status"], "pending");
    assert_eq!(open["estimate"]["tier"], "unpriced");
    let failed = with_request(&list, replicate["failed"].as_str().unwrap());
    assert_eq!(failed["status"], "failed");
    // A model priced by time keeps its predict time, unpriced here.
    assert_eq!(failed["billing"]["units"], "1.234567");
    assert_eq!(failed["billing"]["unit"], "compute seconds");
    assert_eq!(failed["duration_ms"], 1235);

    // Runway: a task settled by its reads, one failed, one cancelled.
    let (runway, out) = run_client("runway", &server.url, "any-key-on-loopback");
    printed.push_str(&out);
    assert_eq!(runway["statuses"][1], "SUCCEEDED", "{runway}");
    assert_eq!(runway["failed_statuses"][1], "FAILED");
    let list = entries(&ledger);
    let task = with_request(&list, runway["task"].as_str().unwrap());
    assert_eq!(task["source"], "Runway");
    assert_eq!(task["model"], "runway/gen4_turbo");
    // 5 s × 5 credits at $0.01.
    assert_eq!(task["estimate"]["amount"], "0.25");
    assert_eq!(task["actual"]["amount"], "0.25");
    assert_eq!(task["billing"]["units"], "25");
    assert_eq!(task["billing"]["unit"], "credits");
    let failed = with_request(&list, runway["failed"].as_str().unwrap());
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["actual"], Value::Null);
    assert_eq!(failed["estimate"]["amount"], "0.05", "a 720p Gen-4 image");
    let cancelled = with_request(&list, runway["cancelled"].as_str().unwrap());
    assert_eq!(cancelled["status"], "cancelled");

    // ElevenLabs: credits from `character-cost`, unpriced until the plan's
    // credit price is set.
    let (eleven, out) = run_client("elevenlabs", &server.url, "any-key-on-loopback");
    printed.push_str(&out);
    assert_eq!(eleven["character_cost"], "22", "{eleven}");
    assert_eq!(eleven["failed"], 500);
    let list = entries(&ledger);
    let speech = of_model(&list, "elevenlabs/eleven_multilingual_v2");
    let (done, failed): (Vec<&Value>, Vec<&Value>) =
        speech.into_iter().partition(|e| e["status"] == "succeeded");
    assert_eq!(done.len(), 1, "{list:?}");
    assert_eq!(done[0]["source"], "ElevenLabs");
    assert_eq!(done[0]["billing"]["units"], "22");
    assert_eq!(done[0]["billing"]["endpoint"], "elevenlabs/credits");
    assert_eq!(done[0]["billing"]["unit_price"], Value::Null);
    assert_eq!(done[0]["actual"], Value::Null);
    // 22 characters × $0.10 per 1,000.
    assert_eq!(done[0]["estimate"]["amount"], "0.0022");
    assert_eq!(failed.len(), 1, "the server error is kept apart: {list:?}");
    assert_eq!(failed[0]["status"], "failed");
    let sound = of_model(&list, "elevenlabs/eleven_text_to_sound_v2");
    assert_eq!(sound.len(), 1);
    assert_eq!(sound[0]["billing"]["units"], "100");

    // The keys went to their providers only, in each one's own header.
    let seen = fake.seen();
    assert!(!seen.is_empty());
    for request in &seen {
        let expected = match request.host.as_str() {
            "api.openai.com" => format!("Bearer {OPENAI_KEY}"),
            "api.replicate.com" => format!("Bearer {REPLICATE_KEY}"),
            "api.dev.runwayml.com" => format!("Bearer {RUNWAY_KEY}"),
            "api.elevenlabs.io" => ELEVENLABS_KEY.to_string(),
            other => panic!("a request went to {other}"),
        };
        assert_eq!(request.key, expected, "{request:?}");
    }
    // Each run was logged once: the ledger holds no more than the runs.
    assert_eq!(entries(&ledger).len(), 3 + 3 + 3 + 3);
    // No key in what the clients saw, the server printed, or the ledger.
    let logged = server.stderr.lock().unwrap().clone();
    let file = std::fs::read(ledger.dir.path().join("ledger.db")).unwrap_or_default();
    let file = String::from_utf8_lossy(&file);
    for key in [OPENAI_KEY, REPLICATE_KEY, RUNWAY_KEY, ELEVENLABS_KEY] {
        assert!(!printed.contains(key), "a client saw {key}");
        assert!(!logged.contains(key), "the server printed {key}");
        assert!(!file.contains(key), "the ledger holds {key}");
    }
    let verify = ledger.json(&["verify", "--json"]);
    assert_eq!(verify["problem"], Value::Null, "{verify}");
}
