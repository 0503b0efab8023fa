//! fal's official JavaScript client (`@fal-ai/client` from npm, installed
//! in tests/js by `.ci/run`) runs `fal.subscribe` and `fal.stream` through
//! `gencost serve`'s proxy against the stand-in for fal; the runs land in
//! the ledger. Skipped when Node.js or the package is missing, unless
//! `GENCOST_REQUIRE_NODE` is set.

mod common;
use common::fake_fal::FakeFal;
use common::server::Server;
use common::TestLedger;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

const KEY: &str = "fal-key-41d2:aa07c3";

fn client_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    let installed = dir
        .join("node_modules/@fal-ai/client/package.json")
        .exists();
    let node = Command::new("node").arg("--version").output().is_ok();
    if installed && node {
        return Some(dir);
    }
    assert!(
        std::env::var_os("GENCOST_REQUIRE_NODE").is_none(),
        "GENCOST_REQUIRE_NODE is set but node or tests/js/node_modules is missing (run npm ci in tests/js)"
    );
    eprintln!("skipped: node or @fal-ai/client is not installed (npm ci in tests/js)");
    None
}

fn run_client(dir: &PathBuf, proxy: &str, mode: &str) -> Value {
    let output = Command::new("node")
        .current_dir(dir)
        .args(["run.mjs", proxy, mode])
        .env_remove("FAL_KEY")
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the fal client failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_official_client_subscribes_and_streams_through_the_proxy() {
    let Some(dir) = client_dir() else { return };
    let ledger = TestLedger::sqlite();
    let fal = FakeFal::start(KEY, "unused-admin-key").await;
    fal.set_units("fal-ai/flux/dev", "1");
    let server =
        Server::start_with_env(&ledger, &["--fal-upstream", &fal.url], &[("FAL_KEY", KEY)]);
    let proxy = format!("{}/api/fal/proxy", server.url);

    let subscribed = tokio::task::block_in_place(|| run_client(&dir, &proxy, "subscribe"));
    let request_id = subscribed["requestId"].as_str().unwrap().to_string();
    assert_eq!(subscribed["data"]["seed"], 7, "{subscribed}");
    assert!(
        subscribed["updates"]
            .as_array()
            .unwrap()
            .contains(&json!("COMPLETED")),
        "{subscribed}"
    );
    let list = ledger.json(&["list", "--json"]);
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["request_id"] == json!(request_id))
        .unwrap_or_else(|| panic!("{request_id} not logged: {list}"));
    assert_eq!(entry["model"], "fal-ai/flux/dev");
    assert_eq!(entry["client"], "Acme");
    assert_eq!(entry["project"], "Summer Spot");
    assert_eq!(entry["params"]["prompt"], "a lighthouse in fog");
    assert_eq!(entry["estimate"]["amount"], "0.025");
    assert_eq!(entry["status"], "succeeded");
    assert_eq!(entry["actual"]["amount"], "0.025", "1 unit × 0.025");
    assert_eq!(entry["cost"]["tier"], "billed");
    assert_eq!(entry["duration_ms"], 2345);

    let streamed = tokio::task::block_in_place(|| run_client(&dir, &proxy, "stream"));
    assert_eq!(
        streamed["events"].as_array().unwrap().len(),
        2,
        "{streamed}"
    );
    assert_eq!(
        streamed["done"]["images"][0]["url"],
        "https://v3.fal.media/files/a.png"
    );
    let stream_id = streamed["requestId"].as_str().unwrap().to_string();
    let list = ledger.json(&["list", "--json"]);
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["request_id"] == json!(stream_id))
        .unwrap_or_else(|| panic!("{stream_id} not logged: {list}"));
    assert_eq!(
        entry["status"], "pending",
        "a stream waits for billing records"
    );
    assert_eq!(entry["estimate"]["amount"], "0.025");
    // Every call the client made went through with the server's key.
    let seen = fal.seen();
    assert!(seen.iter().all(|s| s.authorization == format!("Key {KEY}")));
    assert!(seen
        .iter()
        .any(|s| s.host == "queue.fal.run" && s.path.ends_with("/status")));
}
