//! Headless Chromium over WebDriver (Debian's chromium and chromium-driver)
//! for the browser tests: finding them, a chromedriver on a port of its
//! own, a session with the network off, and chromedriver's logs.

use std::path::{Path, PathBuf};

/// Chromium and its WebDriver (Debian's chromium and chromium-driver), if
/// installed. Without them the browser test is skipped, unless
/// `GENCOST_REQUIRE_BROWSER` is set (as `.ci/run` sets it): then it fails.
pub fn browser() -> Option<(PathBuf, PathBuf)> {
    let find = |names: &[&str]| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
            .find(|p| p.is_file())
    };
    match (
        find(&["chromium", "chromium-browser", "google-chrome"]),
        find(&["chromedriver"]),
    ) {
        (Some(chromium), Some(driver)) => Some((chromium, driver)),
        _ => {
            assert!(
                std::env::var_os("GENCOST_REQUIRE_BROWSER").is_none(),
                "GENCOST_REQUIRE_BROWSER is set but chromium or chromedriver is not installed \
                 (apt-get install chromium chromium-driver)"
            );
            eprintln!("skipped: chromium and chromedriver are not installed");
            None
        }
    }
}

/// A running chromedriver on a port it chose, stopped when dropped.
pub struct Driver {
    child: std::process::Child,
    pub port: u16,
}

impl Driver {
    pub fn start(path: &Path) -> Driver {
        use std::io::BufRead;
        let mut child = std::process::Command::new(path)
            .arg("--port=0")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let stdout = child.stdout.take().expect("chromedriver's stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("chromedriver printed its port")
                .expect("chromedriver's output");
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                break rest.trim_end_matches('.').trim().parse().expect("a port");
            }
        };
        // Keep reading its output so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver's log of one type ("browser": the console; "performance":
/// DevTools events, every network request among them).
#[derive(Debug)]
pub struct Log(pub &'static str);

impl fantoccini::wd::WebDriverCompatibleCommand for Log {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(serde_json::json!({ "type": self.0 }).to_string()),
        )
    }
}

/// What the browser may reach.
pub enum Network {
    /// Nothing: no name resolves, and any connection goes to a closed port.
    Off,
    /// Only 127.0.0.1 (the server under test).
    Loopback,
}

/// A WebDriver session of headless Chromium, `size` px wide and high.
pub async fn session(
    chromium: &Path,
    driver: &Driver,
    profile: &Path,
    (width, height): (u32, u32),
    network: Network,
) -> fantoccini::Client {
    let mut args = vec![
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--no-default-browser-check",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push(format!("--window-size={width},{height}"));
    match network {
        Network::Off => {
            args.push("--host-resolver-rules=MAP * ~NOTFOUND".into());
            args.push("--proxy-server=127.0.0.1:9".into());
        }
        Network::Loopback => {
            args.push("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".into());
        }
    }
    let capabilities = serde_json::json!({
        "goog:chromeOptions": { "binary": chromium.display().to_string(), "args": args },
        "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session")
}

/// axe-core's violations on the page `client` shows, as `{id, impact,
/// nodes}`; `None` when axe-core is not installed (`cd tests/js && npm
/// ci`), which fails instead when `GENCOST_REQUIRE_NODE` is set.
pub async fn axe_violations(client: &fantoccini::Client) -> Option<serde_json::Value> {
    let axe =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/js/node_modules/axe-core/axe.min.js");
    let Ok(source) = std::fs::read_to_string(&axe) else {
        assert!(
            std::env::var_os("GENCOST_REQUIRE_NODE").is_none(),
            "axe-core is not installed: (cd tests/js && npm ci)"
        );
        eprintln!("axe-core not installed: accessibility not checked");
        return None;
    };
    client
        .execute(&source, vec![])
        .await
        .expect("axe-core loads");
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,
                   nodes: v.nodes.map(n => n.target.join(' ')) }))))
               .catch(e => done(String(e)));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    Some(found)
}

/// A Chrome DevTools command through chromedriver (`goog/cdp/execute`),
/// e.g. `Emulation.setDeviceMetricsOverride` for a window narrower than
/// headless Chromium's smallest.
#[derive(Debug)]
pub struct Cdp(pub &'static str, pub serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(serde_json::json!({ "cmd": self.0, "params": self.1 }).to_string()),
        )
    }
}

/// Makes the page `width` × `height` CSS px, whatever the window's size.
pub async fn emulate_viewport(client: &fantoccini::Client, (width, height): (u32, u32)) {
    client
        .issue_cmd(Cdp(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        ))
        .await
        .expect("the viewport emulated");
}

/// Fails unless the browser's console holds no errors besides those
/// containing one of `provoked` (the refusals a test caused on purpose:
/// the browser logs every 4xx answer, which the page shows in words).
pub async fn assert_no_console_errors(client: &fantoccini::Client, provoked: &[&str]) {
    let console = client.issue_cmd(Log("browser")).await.unwrap();
    let errors: Vec<&serde_json::Value> = console
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .filter(|e| {
            let message = e["message"].as_str().unwrap_or_default();
            !provoked.iter().any(|p| message.contains(p))
        })
        .collect();
    assert!(errors.is_empty(), "console: {errors:?}");
}
