//! Premiere Pro's two panels in headless Chromium at 320 px, against the
//! real `gencost serve` and with none: the CEP shell (a local file, as CEP
//! loads it) with a stand-in for CEP's `window.__adobe_cep__` bridge that
//! answers the ExtendScript call for the open project, and the UXP shell
//! and the panel in its webview with stand-ins for `require("premierepro")`
//! and `window.uxpHost`. Premiere itself cannot run here: these stand-ins
//! speak what Adobe documents, nothing more. Screenshots under
//! `target/screenshots/premiere-*.png`.

mod common;
use common::browser::{axe_violations, browser, session, Cdp, Driver, Network};
use common::server::Server;
use common::TestLedger;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

const WIDTH: u32 = 320;

/// CEP's bridge as the shell uses it: `evalScript` answers the open
/// project the way host/project.jsx does (name and path on two lines),
/// and `addEventListener` keeps the handlers so a test can fire
/// `dev.gencost.projectChanged`. Only in the local shell page.
const CEP_BRIDGE: &str = r#"
if (location.protocol === "file:") {
  window.premiereProject = "Summer Spot.prproj\n/Users/editor/Projects/Summer Spot.prproj";
  window.cepListeners = {};
  window.__adobe_cep__ = {
    evalScript(script, callback) {
      const answer = script === "gencostProject()" ? window.premiereProject : "EvalScript error.";
      setTimeout(() => callback(answer), 0);
    },
    addEventListener(type, handler) { window.cepListeners[type] = handler; },
  };
}
"#;

/// UXP's side in a plain browser: `require("premierepro")` with the
/// documented `Project.getActiveProject()` and `EventManager`, and the
/// webview element's `postMessage` (Chromium has no `<webview>`).
const UXP_HOST: &str = r#"
if (location.protocol === "file:") {
  window.sentToWebview = [];
  window.premiereListeners = {};
  window.require = (name) => {
    if (name === "premierepro") return {
      Project: { getActiveProject: async () => ({ name: "Örebro Film – Teaser", path: "C:\\Projects\\Örebro Film – Teaser.prproj" }) },
      EventManager: { addGlobalEventListener(event, handler) { window.premiereListeners[event] = handler; } },
      Constants: { ProjectEvent: { ACTIVATED: "projectActivated", OPENED: "projectOpened", CLOSED: "projectClosed" } },
    };
    if (name === "uxp") return { entrypoints: { setup() {} } };
    throw new Error("no module " + name);
  };
  HTMLElement.prototype.postMessage = function (message) {
    if (this.tagName === "WEBVIEW") window.sentToWebview.push(message);
  };
} else if (new URLSearchParams(location.search).get("bridge") === "uxp") {
  // The page inside the webview: UXP's bridge back to the plugin.
  window.sentToPlugin = [];
  window.uxpHost = { postMessage(message) { window.sentToPlugin.push(message); } };
}
"#;

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Shell {
    page: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Shell {
    /// Chromium at 320 px with `stand_in` run before every page's scripts.
    async fn open(stand_in: &str) -> Option<Shell> {
        let (chromium, driver_path) = browser()?;
        let driver = Driver::start(&driver_path);
        let profile = tempfile::tempdir().unwrap();
        let page = session(
            &chromium,
            &driver,
            profile.path(),
            (WIDTH, 900),
            Network::Loopback,
        )
        .await;
        page.set_window_size(WIDTH, 900).await.unwrap();
        page.issue_cmd(Cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": stand_in }),
        ))
        .await
        .expect("the stand-in is added");
        Some(Shell {
            page,
            _driver: driver,
            _profile: profile,
        })
    }

    async fn js(&self, script: &str) -> Value {
        self.page.execute(script, vec![]).await.unwrap()
    }

    /// Runs `script` until `done` accepts its result (at most 15 s).
    async fn until(&self, script: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let value = self.js(script).await;
            if done(&value) || std::time::Instant::now() > deadline {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, css: &str) -> String {
        let script =
            format!("const e = document.querySelector({css:?}); return e && !e.closest('[hidden]') ? e.textContent.trim() : ''");
        self.js(&script)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn text_until(&self, css: &str, done: impl Fn(&str) -> bool) -> String {
        let script =
            format!("const e = document.querySelector({css:?}); return e && !e.closest('[hidden]') ? e.textContent.trim() : ''");
        let value = self.until(&script, |v| v.as_str().is_some_and(&done)).await;
        value.as_str().unwrap().to_string()
    }

    async fn click(&self, css: &str) {
        self.page
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Nothing sticks out sideways, and a screenshot is kept.
    async fn shot(&self, name: &str) {
        let fits = self
            .js("return document.documentElement.scrollWidth <= window.innerWidth")
            .await;
        assert_eq!(fits, true, "{name}: scrolls sideways at {WIDTH} px");
        std::fs::write(
            screenshots().join(format!("{name}.png")),
            self.page.screenshot().await.unwrap(),
        )
        .unwrap();
    }

    async fn assert_accessible(&self, what: &str) {
        if let Some(found) = axe_violations(&self.page).await {
            assert_eq!(found, json!([]), "{what}: axe-core violations");
        }
    }

    async fn assert_no_console_errors(&self, provoked: &[&str]) {
        common::browser::assert_no_console_errors(&self.page, provoked).await;
    }
}

/// What a shell's page logs that is not its own fault: connections refused
/// before the server starts, and axe-core fetching a `file:` page's styles
/// (which Chromium refuses to scripts of a local page).
const AXE_ON_A_LOCAL_PAGE_AND_REFUSED: &[&str] = &[
    "net::ERR_CONNECTION_REFUSED",
    "from origin 'null' has been blocked by CORS policy",
    "shell.css - Failed to load resource: net::ERR_FAILED",
];

fn file_url(path: &Path) -> String {
    url::Url::from_file_path(path).unwrap().to_string()
}

/// A port nothing listens on (bound, then let go).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The shells as `integrations premiere install --root` writes them for
/// `port`: the CEP folder, and the UXP plugin unpacked from its `.ccx`.
fn install(ledger: &TestLedger, port: u16) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().display().to_string();
    let port = port.to_string();
    ledger.ok(&[
        "integrations",
        "premiere",
        "install",
        "--root",
        &root,
        "--os",
        "macos",
        "--port",
        &port,
    ]);
    let cep = home
        .path()
        .join("Library/Application Support/Adobe/CEP/extensions/dev.gencost.premiere");
    let ccx = std::fs::read(
        home.path()
            .join("Library/Application Support/gencost/premiere/gencost.ccx"),
    )
    .unwrap();
    let uxp = home.path().join("uxp");
    zip::ZipArchive::new(std::io::Cursor::new(ccx))
        .unwrap()
        .extract(&uxp)
        .unwrap();
    (home, cep, uxp)
}

/// A server process, killed when dropped (also when a test fails).
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `gencost serve` on a chosen port (the shells were written for it).
fn serve_on(ledger: &TestLedger, port: u16) -> Serving {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gencost"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("GENCOST_DATABASE", &ledger.url)
        .env("GENCOST_CONFIG_DIR", ledger.config_dir())
        .env("GENCOST_DATA_DIR", ledger.dir.path())
        .env("GENCOST_RATE_UPDATES", "0")
        .env_remove("GENCOST_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "serve listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Serving(child)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cep_panel_frames_the_ledger_and_offers_the_open_premiere_project() {
    let ledger = TestLedger::sqlite();
    // The editor already tags this work: the Premiere project is only offered.
    ledger.ok(&["use", "--client", "Örebro Film", "--project", "Client Cut"]);
    let server = Server::start(&ledger, &[]);
    let port: u16 = server.addr.rsplit(':').next().unwrap().parse().unwrap();
    let (_home, cep, _) = install(&ledger, port);
    let Some(shell) = Shell::open(CEP_BRIDGE).await else {
        return;
    };
    shell
        .page
        .goto(&file_url(&cep.join("index.html")))
        .await
        .unwrap();
    let src = shell
        .until(
            "const f = document.getElementById('panel'); return f.hidden ? '' : f.src",
            |v| v != "",
        )
        .await;
    assert_eq!(src, format!("http://127.0.0.1:{port}/?host=premiere"));
    // Inside the frame: the panel, dark, offering the project.
    shell.page.enter_frame(0).await.unwrap();
    let offer = shell
        .text_until("#use-host-project", |t| t.contains("Summer Spot"))
        .await;
    assert_eq!(offer, "Use Premiere project: Summer Spot");
    assert_eq!(
        shell
            .js("return document.getElementById('project').value")
            .await,
        "Client Cut"
    );
    let background = shell
        .js("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_eq!(
        background, "rgb(35, 35, 35)",
        "Premiere's dark panel colour"
    );
    shell.assert_accessible("the panel docked in CEP").await;
    shell.page.enter_parent_frame().await.unwrap();
    shell.shot("premiere-cep-offer-320").await;

    // One click sets it and saves it as the tag for the next generations.
    shell.page.enter_frame(0).await.unwrap();
    shell.click("#use-host-project").await;
    shell
        .text_until("#tag-status", |t| t.contains("Summer Spot"))
        .await;
    assert_eq!(
        shell
            .js("return document.getElementById('host-offer').hidden")
            .await,
        true
    );
    assert_eq!(ledger.json(&["use", "--json"])["project"], "Summer Spot");
    // An entry logged from the command line appears in the docked panel.
    ledger.ok(&["log", "--model", "fal-ai/flux/dev", "--cost", "0.025"]);
    let row = shell
        .text_until("#history li.entry", |t| t.contains("Summer Spot"))
        .await;
    assert!(row.contains("Örebro Film"), "{row}");
    shell.page.enter_parent_frame().await.unwrap();
    shell.shot("premiere-cep-320").await;
    // The narrowest the manifest lets the panel be: 280 px, still nothing sideways.
    shell.page.set_window_size(280, 900).await.unwrap();
    shell.page.enter_frame(0).await.unwrap();
    let fits = shell
        .until(
            "return window.innerWidth === 280 && document.documentElement.scrollWidth <= 280",
            |v| v == true,
        )
        .await;
    assert_eq!(fits, true, "the docked panel fits 280 px");
    shell.page.enter_parent_frame().await.unwrap();
    shell.shot("premiere-cep-280").await;

    // Premiere opens another project: ExtendScript's event, then the offer.
    shell
        .js("window.premiereProject = 'Winter Campaign.prproj\\n/Users/editor/Winter Campaign.prproj'; window.cepListeners['dev.gencost.projectChanged'](); return true")
        .await;
    shell.page.enter_frame(0).await.unwrap();
    let offer = shell
        .text_until("#use-host-project", |t| t.contains("Winter"))
        .await;
    assert_eq!(offer, "Use Premiere project: Winter Campaign");
    assert_eq!(
        shell
            .js("return document.getElementById('project').value")
            .await,
        "Summer Spot"
    );
    shell.page.enter_parent_frame().await.unwrap();
    shell.assert_no_console_errors(&[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cep_panel_says_gencost_is_not_running_and_retries() {
    let ledger = TestLedger::sqlite();
    let port = free_port();
    let (_home, cep, _) = install(&ledger, port);
    let Some(shell) = Shell::open(CEP_BRIDGE).await else {
        return;
    };
    shell
        .page
        .goto(&file_url(&cep.join("index.html")))
        .await
        .unwrap();
    let heading = shell.text_until("#down h1", |t| !t.is_empty()).await;
    assert_eq!(heading, "gencost is not running");
    assert_eq!(
        shell.text("#address").await,
        format!("http://127.0.0.1:{port}")
    );
    assert_eq!(
        shell.text("#start-command").await,
        format!("gencost serve --addr 127.0.0.1:{port}")
    );
    assert_eq!(shell.js("return document.activeElement.id").await, "retry");
    assert_eq!(
        shell
            .js("return getComputedStyle(document.body).backgroundColor")
            .await,
        "rgb(35, 35, 35)",
        "the shell's own dark styles"
    );
    shell.assert_accessible("the not-running panel").await;
    shell.shot("premiere-cep-not-running-320").await;
    // Started now: Retry finds it and shows the panel.
    let server = serve_on(&ledger, port);
    shell.click("#retry").await;
    let shown = shell
        .until("return !document.getElementById('panel').hidden", |v| {
            v == true
        })
        .await;
    assert_eq!(shown, true, "Retry shows the panel");
    // The framed panel loads; the failed connections before the server
    // started are the only errors, besides axe-core's own requests for a
    // local page's styles.
    shell.page.enter_frame(0).await.unwrap();
    shell
        .text_until("#summary .total", |t| t.contains("$0.00"))
        .await;
    shell.page.enter_parent_frame().await.unwrap();
    shell
        .assert_no_console_errors(AXE_ON_A_LOCAL_PAGE_AND_REFUSED)
        .await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_uxp_plugin_shows_the_panel_in_its_webview_and_tells_it_the_project() {
    let ledger = TestLedger::sqlite();
    let port = free_port();
    let (_home, _, uxp) = install(&ledger, port);
    let Some(shell) = Shell::open(UXP_HOST).await else {
        return;
    };
    // The plugin from the .ccx, with nothing on its port.
    shell
        .page
        .goto(&file_url(&uxp.join("index.html")))
        .await
        .unwrap();
    let heading = shell.text_until("#down h1", |t| !t.is_empty()).await;
    assert_eq!(heading, "gencost is not running");
    assert_eq!(
        shell.text("#address").await,
        format!("http://127.0.0.1:{port}")
    );
    assert!(shell
        .text("#down")
        .await
        .contains("gencost service install --now"));
    shell.assert_accessible("the UXP plugin, not running").await;
    shell.shot("premiere-uxp-not-running-320").await;
    let server = serve_on(&ledger, port);
    shell.click("#retry").await;
    let src = shell
        .until("const v = document.getElementById('panel'); return v.hidden ? '' : v.getAttribute('src')", |v| v != "")
        .await;
    assert_eq!(src, format!("http://127.0.0.1:{port}/?host=premiere"));
    // The page in the webview says it is ready; the plugin answers with
    // the project Premiere reports.
    shell
        .js("document.getElementById('panel').dispatchEvent(new MessageEvent('message', { data: { type: 'gencost.panel.ready' } })); return true")
        .await;
    let sent = shell
        .until("return window.sentToWebview", |v| {
            v.as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
    assert_eq!(
        sent[0],
        json!({ "type": "gencost.premiere.project", "name": "Örebro Film – Teaser", "path": "C:\\Projects\\Örebro Film – Teaser.prproj" })
    );

    // The page itself, as the webview shows it, with UXP's bridge.
    shell
        .page
        .goto(&format!(
            "http://127.0.0.1:{port}/?host=premiere&bridge=uxp"
        ))
        .await
        .unwrap();
    let ready = shell
        .until("return window.sentToPlugin || []", |v| {
            v.as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
    assert_eq!(ready, json!([{ "type": "gencost.panel.ready" }]));
    shell
        .js("window.postMessage({ type: 'gencost.premiere.project', name: 'Örebro Film – Teaser.prproj' }, '*'); return true")
        .await;
    let offer = shell
        .text_until("#use-host-project", |t| t.contains("Teaser"))
        .await;
    assert_eq!(offer, "Use Premiere project: Örebro Film – Teaser");
    shell.click("#use-host-project").await;
    shell
        .text_until("#tag-status", |t| t.contains("Teaser"))
        .await;
    assert_eq!(
        ledger.json(&["use", "--json"])["project"],
        "Örebro Film – Teaser"
    );
    // An entry logged from the command line appears in the webview's panel.
    ledger.ok(&["log", "--model", "fal-ai/flux/dev", "--cost", "0.04"]);
    let row = shell
        .text_until("#history li.entry", |t| t.contains("Teaser"))
        .await;
    assert!(row.contains("$0.04"), "{row}");
    shell
        .assert_accessible("the panel in the UXP webview")
        .await;
    shell.shot("premiere-uxp-320").await;

    // In a plain browser tab nothing is offered and the panel stays light.
    shell
        .page
        .goto(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap();
    shell.text_until("#tag-status", |_| true).await;
    shell
        .js("window.postMessage({ type: 'gencost.premiere.project', name: 'Elsewhere' }, '*'); return true")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        shell
            .js("return document.getElementById('host-offer').hidden")
            .await,
        true
    );
    assert_eq!(
        shell
            .js("return getComputedStyle(document.body).backgroundColor")
            .await,
        "rgb(255, 255, 255)"
    );
    // Checked while the server runs (its event stream ends with it).
    shell
        .assert_no_console_errors(AXE_ON_A_LOCAL_PAGE_AND_REFUSED)
        .await;
    drop(server);
}

/// UXP's bridge in every page the webview shows (the panel, and the login
/// page before it).
const UXP_WEBVIEW: &str = r#"
if (location.protocol === "http:") {
  window.sentToPlugin = [];
  window.uxpHost = { postMessage(message) { window.sentToPlugin.push(message); } };
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_docked_panel_on_a_server_with_a_token_signs_in_and_stays_docked() {
    let ledger = TestLedger::sqlite();
    let token = "studio-token-0123456789";
    let server = Server::start(&ledger, &["--token", token]);
    let Some(shell) = Shell::open(UXP_WEBVIEW).await else {
        return;
    };
    shell
        .page
        .goto(&format!("{}/?host=premiere", server.url))
        .await
        .unwrap();
    // The login page, in Premiere's colours; a wrong token keeps it docked.
    assert_eq!(
        shell
            .js("return getComputedStyle(document.body).backgroundColor")
            .await,
        "rgb(35, 35, 35)"
    );
    let field = shell.page.find(Locator::Css("#token")).await.unwrap();
    field.send_keys("not-the-token-at-all").await.unwrap();
    shell.click("form.login button").await;
    shell
        .text_until(".error", |t| t.contains("not the token"))
        .await;
    assert_eq!(
        shell
            .js("return getComputedStyle(document.body).backgroundColor")
            .await,
        "rgb(35, 35, 35)"
    );
    let field = shell.page.find(Locator::Css("#token")).await.unwrap();
    field.send_keys(token).await.unwrap();
    shell.click("form.login button").await;
    // Signed in, and still the docked panel: dark, talking to its plugin.
    let search = shell
        .until(
            "return document.getElementById('summary') ? location.search : ''",
            |v| v != "",
        )
        .await;
    assert_eq!(search, "?host=premiere");
    let ready = shell
        .until("return window.sentToPlugin || []", |v| {
            v.as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
    assert_eq!(ready, json!([{ "type": "gencost.panel.ready" }]));
    shell
        .js("window.postMessage({ type: 'gencost.premiere.project', name: 'Summer Spot.prproj' }, '*'); return true")
        .await;
    shell
        .text_until("#use-host-project", |t| t.contains("Summer Spot"))
        .await;
    shell.shot("premiere-uxp-signed-in-320").await;
    // Logging out comes back to the docked login page.
    shell.click("#logout").await;
    let search = shell
        .until(
            "return document.getElementById('token') ? location.search : ''",
            |v| v != "",
        )
        .await;
    assert_eq!(search, "?host=premiere");
    shell
        .assert_no_console_errors(&[
            "/session?host=premiere - Failed to load resource: the server responded with a status of 401",
        ])
        .await;
}
