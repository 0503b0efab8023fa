//! The real `gencost serve` on a port it chose, for the end-to-end tests:
//! started on a test ledger, its address read from its first line, killed
//! when dropped.

use super::TestLedger;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

pub struct Server {
    child: Child,
    /// Everything the server printed on stderr so far (also echoed).
    pub stderr: Arc<Mutex<String>>,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The bound `127.0.0.1:PORT`.
    pub addr: String,
}

impl Server {
    /// `gencost serve --addr 127.0.0.1:0 ARGS...` on `ledger`.
    pub fn start(ledger: &TestLedger, args: &[&str]) -> Server {
        Server::start_with_env(ledger, args, &[])
    }

    /// The same, with these environment variables set.
    pub fn start_with_env(ledger: &TestLedger, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gencost"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env_remove("FAL_KEY")
            .env_remove("GENCOST_FAL_UPSTREAM")
            .env_remove("OPENAI_API_KEY")
            .env_remove("REPLICATE_API_TOKEN")
            .env_remove("RUNWAYML_API_SECRET")
            .env_remove("ELEVENLABS_API_KEY")
            .env_remove("GENCOST_OPENAI_UPSTREAM")
            .env_remove("GENCOST_REPLICATE_UPSTREAM")
            .env_remove("GENCOST_RUNWAY_UPSTREAM")
            .env_remove("GENCOST_ELEVENLABS_UPSTREAM")
            // No test server reaches out to ECB unless a test asks it to.
            .env("GENCOST_RATE_UPDATES", "0")
            .envs(env.iter().copied())
            .env("GENCOST_DATABASE", &ledger.url)
            .env("GENCOST_CONFIG_DIR", ledger.config_dir())
            .env("GENCOST_DATA_DIR", ledger.dir.path())
            .env_remove("GENCOST_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gencost serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let errors = BufReader::new(child.stderr.take().expect("serve's stderr"));
        let kept = stderr.clone();
        std::thread::spawn(move || {
            for line in errors.lines().map_while(Result::ok) {
                eprintln!("{line}");
                let mut all = kept.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let stdout = child.stdout.take().expect("serve's stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines
            .next()
            .expect("serve printed a line")
            .expect("serve's output");
        let url = first
            .strip_prefix("gencost serving ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .trim()
            .to_string();
        std::thread::spawn(move || lines.for_each(drop));
        let addr = url.trim_start_matches("http://").to_string();
        Server {
            child,
            stderr,
            url,
            addr,
        }
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }

    /// Kills the server outright (SIGKILL: no shutdown, no flush) and waits.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits: the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        self.child.wait().expect("wait for serve")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain-HTTP client for the server under test; `follow` redirects or not.
pub fn http_client(follow: bool) -> reqwest::Client {
    // reqwest is built without a default TLS provider; the tests speak
    // plain HTTP, but building a client still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let policy = if follow {
        reqwest::redirect::Policy::default()
    } else {
        reqwest::redirect::Policy::none()
    };
    reqwest::Client::builder()
        .redirect(policy)
        .build()
        .expect("an HTTP client")
}
