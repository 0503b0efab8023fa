//! PostgreSQL restarted under load: on a private instance (`initdb` into a
//! temporary folder, started on a free port as user postgres; never the
//! machine's shared server), `gencost serve` keeps taking writes after the
//! restart, keeps every acknowledged entry once, and `verify` passes.
//! Skipped without initdb or the postgres user, unless
//! `GENCOST_REQUIRE_PRIVATE_POSTGRES` is set.

mod common;
use common::server::{http_client, Server};
use common::TestLedger;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A private PostgreSQL: its data folder and port; stopped when dropped.
struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

fn as_postgres(program: &Path, args: &[&str]) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl PrivatePostgres {
    fn start() -> Option<PrivatePostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("initdb").exists())?;
        let dir = tempfile::tempdir().ok()?;
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).ok()?;
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .ok()?;
        if !as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str()?,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        ) {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let pg = PrivatePostgres {
            bin,
            data,
            port,
            _dir: dir,
        };
        pg.pg_ctl("start").then_some(pg)
    }

    fn pg_ctl(&self, action: &str) -> bool {
        let options = format!(
            "-p {} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on",
            self.port
        );
        let mut args = vec![action, "-D", self.data.to_str().unwrap(), "-w", "-t", "30"];
        if action != "stop" {
            args.extend(["-o", &options]);
        }
        if action != "start" {
            args.extend(["-m", "fast"]);
        }
        as_postgres(&self.bin.join("pg_ctl"), &args)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.pg_ctl("stop");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_survive_a_postgres_restart_under_load() {
    let Some(pg) = PrivatePostgres::start() else {
        assert!(
            std::env::var_os("GENCOST_REQUIRE_PRIVATE_POSTGRES").is_none(),
            "GENCOST_REQUIRE_PRIVATE_POSTGRES is set but a private PostgreSQL could not be started"
        );
        eprintln!("skipped: no initdb or postgres user to start a private PostgreSQL");
        return;
    };
    let admin = pg.url();
    let ledger = TestLedger::postgres(&admin);
    ledger.ok(&["log", "--model", "m"]);
    let server = Server::start(&ledger, &[]);
    let url = server.api("/entries");
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let mut clients = Vec::new();
    for client in 0..8 {
        let (url, stop, acked, refused) =
            (url.clone(), stop.clone(), acked.clone(), refused.clone());
        clients.push(tokio::spawn(async move {
            let http = http_client(true);
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let request_id = format!("pg-{client}-{n}");
                n += 1;
                let answer = http
                    .post(&url)
                    .json(
                        &json!({"model": "fal-ai/flux/dev", "request_id": request_id,
                                  "cost": {"amount": "0.01", "currency": "USD"}}),
                    )
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .expect("the server itself stays up");
                let status = answer.status();
                let body = answer.text().await.unwrap_or_default();
                if status.is_success() {
                    acked.lock().unwrap().push(request_id);
                } else {
                    refused.lock().unwrap().push(format!("{status} {body}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let before = acked.lock().unwrap().len();
    assert!(
        tokio::task::block_in_place(|| pg.pg_ctl("restart")),
        "restart"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let refused = refused.lock().unwrap().clone();
    assert!(
        acked.len() > before,
        "writes went on after the restart ({before} before, {} in all)",
        acked.len()
    );
    // A refusal during the restart says the ledger was unreachable for a
    // moment (503), never an internal error.
    for r in &refused {
        assert!(r.starts_with("503"), "{r}");
    }
    common::assert_each_acknowledged_once(&ledger, "pg-", &acked);
    drop(server);
    let verify = ledger.run(&["verify"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    eprintln!(
        "{} acknowledged ({before} before the restart), {} refused during it",
        acked.len(),
        refused.len()
    );
}
