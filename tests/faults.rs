//! A billing ledger must never lose or invent a cent: the server killed
//! with SIGKILL under load keeps every entry it acknowledged, once; damaged
//! or foreign database files are refused and left as they were.

mod common;
use common::server::{http_client, Server};
use common::TestLedger;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Kill rounds per backend (`GENCOST_CRASH_ROUNDS`, default 20).
fn rounds() -> usize {
    std::env::var("GENCOST_CRASH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
}

/// A pause of 50 to 450 ms, different each round.
fn random_pause(round: usize) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as usize;
    Duration::from_millis(50 + ((nanos / 1000 + round * 7919) % 400) as u64)
}

const CLIENTS: usize = 8;

#[tokio::test(flavor = "multi_thread")]
async fn a_server_killed_under_load_keeps_every_acknowledged_entry_once() {
    for ledger in TestLedger::each() {
        let mut acknowledged: Vec<String> = Vec::new();
        for round in 0..rounds() {
            let server = Server::start(&ledger, &[]);
            let url = server.api("/entries");
            let stop = Arc::new(AtomicBool::new(false));
            let acked = Arc::new(Mutex::new(Vec::new()));
            let mut clients = Vec::new();
            for client in 0..CLIENTS {
                let (url, stop, acked) = (url.clone(), stop.clone(), acked.clone());
                clients.push(tokio::spawn(async move {
                    let http = http_client(true);
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let request_id = format!("crash-{round}-{client}-{n}");
                        n += 1;
                        let answer = http
                            .post(&url)
                            .json(&json!({
                                "model": "fal-ai/flux/dev",
                                "request_id": request_id,
                                "cost": {"amount": "0.01", "currency": "USD"},
                            }))
                            .timeout(Duration::from_secs(10))
                            .send()
                            .await;
                        match answer {
                            Ok(a) if a.status().is_success() => {
                                // Acknowledged only once the whole answer arrived.
                                if a.bytes().await.is_ok() {
                                    acked.lock().unwrap().push(request_id);
                                }
                            }
                            Ok(a) => panic!("round {round}: {} before the kill", a.status()),
                            Err(_) => break,
                        }
                    }
                }));
            }
            tokio::time::sleep(random_pause(round)).await;
            server.kill();
            stop.store(true, Ordering::Relaxed);
            for client in clients {
                client.await.unwrap();
            }
            acknowledged.extend(acked.lock().unwrap().drain(..));
        }
        assert!(
            acknowledged.len() > rounds(),
            "[{}] the clients got answers",
            ledger.backend
        );
        let stored = common::assert_each_acknowledged_once(&ledger, "crash-", &acknowledged);
        let verify = ledger.run(&["verify"]);
        assert_eq!(
            verify.code, 0,
            "[{}] {}{}",
            ledger.backend, verify.stdout, verify.stderr
        );
        eprintln!(
            "[{}] {} rounds: {} acknowledged, {} stored (the rest were in flight at the kill)",
            ledger.backend,
            rounds(),
            acknowledged.len(),
            stored
        );
    }
}

fn digest(path: &std::path::Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn truncated_foreign_and_newer_ledgers_are_refused_and_left_untouched() {
    // A real ledger cut in half, a file of other bytes, and an empty file.
    let ledger = TestLedger::sqlite();
    for n in 0..200 {
        ledger.ok(&[
            "log",
            "--model",
            "fal-ai/flux/dev",
            "--request-id",
            &format!("t{n}"),
        ]);
    }
    let path = ledger.sqlite_path();
    let whole = std::fs::read(&path).unwrap();
    let cases: [(&str, Vec<u8>); 4] = [
        ("truncated", whole[..whole.len() / 2].to_vec()),
        ("cut inside its first page", whole[..3000].to_vec()),
        ("foreign", b"PNG\r\n not a database at all ".repeat(200)),
        ("empty header", vec![0u8; 4096]),
    ];
    for (what, bytes) in cases {
        let _ = std::fs::remove_file(path.with_extension("db-wal"));
        let _ = std::fs::remove_file(path.with_extension("db-shm"));
        std::fs::write(&path, &bytes).unwrap();
        let before = digest(&path);
        for args in [&["list"][..], &["log", "--model", "m"], &["verify"]] {
            let run = ledger.run(args);
            assert_ne!(run.code, 0, "{what} {args:?} was accepted: {}", run.stdout);
            assert_eq!(
                run.stderr.trim().lines().count(),
                1,
                "{what} {args:?}: one clear line: {}",
                run.stderr
            );
            assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
        }
        assert_eq!(digest(&path), before, "{what}: the file is as it was");
    }
    // A schema newer than this binary knows: refused, file untouched.
    let newer = TestLedger::sqlite();
    newer.ok(&["log", "--model", "m"]);
    common::exec_sql(
        &newer.url,
        "INSERT INTO gencost_schema (version, name, applied_at) VALUES (99, '0099_future', 0)",
    );
    let before = digest(&newer.sqlite_path());
    let run = newer.run(&["log", "--model", "m"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("newer than this gencost knows"),
        "{}",
        run.stderr
    );
    assert_eq!(digest(&newer.sqlite_path()), before);
}

/// A tmpfs of a few MiB mounted for one test, unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    /// `None` where this process may not mount (not root), unless
    /// `GENCOST_REQUIRE_TMPFS` is set.
    fn mount(at: std::path::PathBuf, mib: u32) -> Option<SmallDisk> {
        std::fs::create_dir_all(&at).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&at)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(
                std::env::var_os("GENCOST_REQUIRE_TMPFS").is_none(),
                "GENCOST_REQUIRE_TMPFS is set but a tmpfs cannot be mounted here"
            );
            eprintln!("skipped: cannot mount a tmpfs (needs root)");
            return None;
        }
        Some(SmallDisk(at))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_refuses_writes_clearly_keeps_reads_and_recovers() {
    let mut ledger = TestLedger::sqlite();
    let mount = ledger.dir.path().join("small-disk");
    let Some(_disk) = SmallDisk::mount(mount.clone(), 3) else {
        return;
    };
    ledger.url = format!("sqlite://{}", mount.join("ledger.db").display());
    // Room to free later.
    let filler = mount.join("filler");
    std::fs::write(&filler, vec![7u8; 512 * 1024]).unwrap();
    let server = Server::start(&ledger, &[]);
    let http = http_client(true);
    let description = "x".repeat(8_000);
    let mut written = 0;
    let refusal = loop {
        let answer = http
            .post(server.api("/entries"))
            .json(
                &json!({"model": "fal-ai/flux/dev", "description": description,
                          "request_id": format!("fill-{written}")}),
            )
            .send()
            .await
            .unwrap();
        if !answer.status().is_success() {
            break answer;
        }
        written += 1;
        assert!(written < 10_000, "the disk never filled");
    };
    eprintln!("the disk filled after {written} entries");
    assert_eq!(refusal.status(), reqwest::StatusCode::INSUFFICIENT_STORAGE);
    let body: serde_json::Value = refusal.json().await.unwrap();
    assert_eq!(body["error"]["code"], "disk_full", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("full"));
    // Reads go on.
    let totals: serde_json::Value = http
        .get(server.api("/totals"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(totals["count"], written, "{totals}");
    // Space freed: writes work again, and nothing written before was harmed.
    std::fs::remove_file(&filler).unwrap();
    let again = http
        .post(server.api("/entries"))
        .json(&json!({"model": "fal-ai/flux/dev", "request_id": "after"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), reqwest::StatusCode::CREATED);
    server.kill();
    let verify = ledger.run(&["verify", "--json"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    let report: serde_json::Value = serde_json::from_str(&verify.stdout).unwrap();
    assert_eq!(report["entries"], written + 1);
}
