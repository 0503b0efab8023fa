//! The billing panel in headless Chromium over WebDriver, against the real
//! `gencost serve`: history paging, live totals, the Actual badge, project
//! chips, the currency switch, autocomplete, the import preview and the
//! reset dialog; screenshots at 360 px and 1280 px under
//! `target/screenshots/`.

mod common;
use common::browser::{browser, session, Driver, Log, Network};
use common::server::{http_client, Server};
use common::TestLedger;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// Runs `script` (which returns a value) until `done` accepts its result,
/// for at most 15 s (a loaded machine runs several browsers); returns the
/// last result.
async fn wait_for(page: &Client, script: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let value = page.execute(script, vec![]).await.expect("script");
        if done(&value) || std::time::Instant::now() > deadline {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const ROWS: &str = "return document.querySelectorAll('#history li.entry').length";
const TOTAL: &str =
    "const t = document.querySelector('#summary .total .amount'); return t ? t.textContent : ''";

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

async fn log(server: &Server, body: Value) -> Value {
    let response = http_client(true)
        .post(server.api("/entries"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_panel_pages_filters_converts_updates_live_and_guards_reset() {
    let Some((chromium, driver_path)) = browser() else {
        return;
    };
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    for i in 0..6 {
        let project = if i % 2 == 0 { "Summer Spot" } else { "Winter" };
        log(
            &server,
            json!({"model": "fal-ai/flux/dev", "client": "Acme", "project": project,
            "deliverable": "Hero Film", "cost": {"amount": "1.25", "currency": "USD"}}),
        )
        .await;
    }
    let driver = Driver::start(&driver_path);
    let profile = tempfile::tempdir().unwrap();
    let page = session(
        &chromium,
        &driver,
        profile.path(),
        (1280, 900),
        Network::Loopback,
    )
    .await;
    let checked = {
        let page = page.clone();
        let url = server.url.clone();
        let api = server.api("");
        async move {
            page.goto(&url).await.unwrap();
            // 4 first, View more adds up to 10, Hide goes back to 4.
            assert_eq!(wait_for(&page, ROWS, |v| v == 4).await, 4);
            assert_eq!(wait_for(&page, TOTAL, |v| v == "$7.50").await, "$7.50");
            let shown = "return ['view-more', 'hide'].map(id => getComputedStyle(document.getElementById(id)).display !== 'none')";
            assert_eq!(
                page.execute(shown, vec![]).await.unwrap(),
                json!([true, false]),
                "View more, no Hide"
            );
            page.find(Locator::Id("view-more"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            assert_eq!(wait_for(&page, ROWS, |v| v == 6).await, 6);
            let more_hidden = page
                .execute("return getComputedStyle(document.getElementById('view-more')).display === 'none'", vec![])
                .await
                .unwrap();
            assert_eq!(more_hidden, true, "no more entries to load");
            page.find(Locator::Id("hide"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            assert_eq!(wait_for(&page, ROWS, |v| v == 4).await, 4);

            // A generation posted to the API shows up without a reload.
            let posted: Value = http_client(true)
                .post(format!("{api}/entries"))
                .json(
                    &json!({"model": "fal-ai/veo3", "client": "Acme", "project": "Winter",
                    "cost": {"amount": "3.20", "currency": "USD"}}),
                )
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(wait_for(&page, TOTAL, |v| v == "$10.70").await, "$10.70");
            // Confirming its actual shows the green badge.
            let id = posted["id"].as_str().unwrap();
            http_client(true)
                .post(format!("{api}/entries/{id}/actual"))
                .json(&json!({"amount": "3.10"}))
                .send()
                .await
                .unwrap();
            let badge = wait_for(&page, "const b = document.querySelector('#history .badge.actual'); return b ? b.textContent : ''",
                |v| v != "").await;
            assert_eq!(badge, "Actual $3.10");

            // A project chip filters history and total.
            page.find(Locator::Css("button.chip[data-project='Winter']"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            assert_eq!(wait_for(&page, TOTAL, |v| v == "$6.85").await, "$6.85");
            let tags = wait_for(&page,
                "return Array.from(document.querySelectorAll('#history .tags')).map(t => t.textContent)",
                |v| v.as_array().is_some_and(|a| a.iter().all(|t| t.as_str().unwrap().contains("Winter")))).await;
            assert!(
                tags.as_array()
                    .unwrap()
                    .iter()
                    .all(|t| t.as_str().unwrap().contains("Winter")),
                "{tags}"
            );
            page.find(Locator::Css("button.chip[data-project='']"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();

            // The currency switch: kr with one decimal, remembered on reload.
            page.execute("const s = document.getElementById('currency'); s.value = 'SEK'; s.dispatchEvent(new Event('change'));", vec![]).await.unwrap();
            let sek = wait_for(&page, TOTAL, |v| {
                v.as_str().is_some_and(|t| t.ends_with(" kr"))
            })
            .await;
            let text = sek.as_str().unwrap();
            let number = text.trim_end_matches(" kr").replace(',', "");
            assert!(
                number.split_once('.').is_some_and(|(_, d)| d.len() == 1),
                "{text}"
            );
            page.refresh().await.unwrap();
            let sek = wait_for(&page, TOTAL, |v| {
                v.as_str().is_some_and(|t| t.ends_with(" kr"))
            })
            .await;
            assert!(sek.as_str().unwrap().ends_with(" kr"), "{sek}");

            // Autocomplete offers the client already used.
            let client = page.find(Locator::Id("client")).await.unwrap();
            client.clear().await.unwrap();
            client.send_keys("ac").await.unwrap();
            let options = wait_for(&page,
                "return Array.from(document.querySelectorAll('#client-options option')).map(o => o.value)",
                |v| v.as_array().is_some_and(|a| !a.is_empty())).await;
            assert_eq!(options, json!(["Acme"]));

            // The import preview: a dry run says what would be added.
            let csv = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
            std::fs::write(csv.path(), "date,description,amount,category,currency\n2026-11-03,Midjourney Pro,30.00,Midjourney,USD\n2026-11-04,Runway,15.00,Runway,USD\n").unwrap();
            page.find(Locator::Id("open-import"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            page.find(Locator::Id("import-file"))
                .await
                .unwrap()
                .send_keys(&csv.path().display().to_string())
                .await
                .unwrap();
            page.find(Locator::Id("import-check"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            let preview = wait_for(
                &page,
                "return document.getElementById('import-preview').textContent",
                |v| v != "",
            )
            .await;
            assert!(
                preview.as_str().unwrap().contains("Would add 2"),
                "{preview}"
            );
            page.find(Locator::Css("#import-dialog button.close"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();

            // A pool cost: its currency is asked in the dialog, starting at
            // the currency shown.
            page.find(Locator::Id("open-pool"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            for (id, text) in [
                ("pool-description", "Midjourney Pro"),
                ("pool-amount", "30"),
                ("pool-period", "2026-11"),
                ("pool-projects", "Winter"),
            ] {
                page.find(Locator::Id(id))
                    .await
                    .unwrap()
                    .send_keys(text)
                    .await
                    .unwrap();
            }
            let shown = page
                .execute("return document.getElementById('pool-currency').value === document.getElementById('currency').value", vec![])
                .await
                .unwrap();
            assert_eq!(shown, true, "the dialog starts at the currency shown");
            page.execute("const s = document.getElementById('pool-currency'); s.value = 'EUR'; s.dispatchEvent(new Event('change'));", vec![])
                .await
                .unwrap();
            page.find(Locator::Id("pool-add"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            let pools = loop {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the pool was not added"
                );
                let pools: Value = http_client(true)
                    .get(format!("{api}/pools"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if pools.as_array().is_some_and(|p| !p.is_empty()) {
                    break pools;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            assert_eq!(pools[0]["amount"]["currency"], "EUR", "{pools}");

            // Long names must not push the panel sideways.
            let long = "Very Long Client Name Incorporated ".repeat(5);
            http_client(true).post(format!("{api}/entries"))
                .json(&json!({"model": format!("fal-ai/{}", "x".repeat(150)), "client": long.trim(),
                    "project": long.trim(), "deliverable": long.trim(), "cost": {"amount": "0.0035", "currency": "USD"}}))
                .send().await.unwrap();
            wait_for(
                &page,
                "return document.querySelector('#history .model').textContent.length",
                |v| v.as_i64() > Some(100),
            )
            .await;

            // Screenshots at a side panel's width and a desktop's.
            let dir = screenshots();
            page.set_window_size(1280, 900).await.unwrap();
            std::fs::write(dir.join("panel-1280.png"), page.screenshot().await.unwrap()).unwrap();
            page.set_window_size(360, 900).await.unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            let overflow = page
                .execute(
                    "return document.documentElement.scrollWidth <= window.innerWidth",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(
                overflow, true,
                "the panel fits 360 px without scrolling sideways"
            );
            std::fs::write(dir.join("panel-360.png"), page.screenshot().await.unwrap()).unwrap();

            // Reset: only DELETE, exactly, enables the button.
            page.find(Locator::Id("open-reset"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            let word = page.find(Locator::Id("reset-word")).await.unwrap();
            // The dialog keeps the keyboard: Tab never leaves it.
            let inside =
                "return document.getElementById('reset-dialog').contains(document.activeElement)";
            for _ in 0..5 {
                page.active_element()
                    .await
                    .unwrap()
                    .send_keys("\u{e004}")
                    .await
                    .unwrap();
                assert_eq!(
                    page.execute(inside, vec![]).await.unwrap(),
                    true,
                    "focus left the reset dialog"
                );
            }
            word.click().await.unwrap();
            let disabled = "return document.getElementById('reset-confirm').disabled";
            word.send_keys("delete").await.unwrap();
            assert_eq!(page.execute(disabled, vec![]).await.unwrap(), true);
            word.clear().await.unwrap();
            word.send_keys("DELETE").await.unwrap();
            assert_eq!(wait_for(&page, disabled, |v| v == false).await, false);
            page.find(Locator::Id("reset-confirm"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            assert_eq!(wait_for(&page, ROWS, |v| v == 0).await, 0);
            let empty = page.execute("return getComputedStyle(document.getElementById('history-empty')).display === 'none' ", vec![]).await.unwrap();
            assert_eq!(empty, false, "an empty ledger says so");
            let buttons = page.execute("return ['view-more', 'hide'].map(id => getComputedStyle(document.getElementById(id)).display)", vec![]).await.unwrap();
            assert_eq!(buttons, json!(["none", "none"]), "nothing to page through");
            std::fs::write(
                dir.join("panel-empty-360.png"),
                page.screenshot().await.unwrap(),
            )
            .unwrap();

            // No console errors along the way.
            let console = page.issue_cmd(Log("browser")).await.unwrap();
            let errors: Vec<&Value> = console
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["level"] == "SEVERE")
                .collect();
            assert!(errors.is_empty(), "console: {errors:?}");
        }
    };
    let outcome = tokio::spawn(checked).await;
    let _ = page.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
    let totals = ledger.json(&["total", "--json"]);
    assert_eq!(totals["count"], 0, "the reset cleared the ledger");
}

/// A panel in headless Chromium 360 px wide (an editor's side panel), with
/// its driver and profile kept alive as long as it is.
struct Panel {
    page: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Panel {
    async fn open(server: &Server) -> Option<Panel> {
        let (chromium, driver_path) = browser()?;
        let driver = Driver::start(&driver_path);
        let profile = tempfile::tempdir().unwrap();
        let page = session(
            &chromium,
            &driver,
            profile.path(),
            (360, 1400),
            Network::Loopback,
        )
        .await;
        // The command line's window size is raised to Chromium's minimum;
        // a resize is not.
        page.set_window_size(360, 1400).await.unwrap();
        page.goto(&server.url).await.unwrap();
        wait_for(&page, TOTAL, |v| v != "").await;
        let width = page
            .execute("return window.innerWidth", vec![])
            .await
            .unwrap();
        assert_eq!(width, 360, "the panel is tried at 360 px");
        Some(Panel {
            page,
            _driver: driver,
            _profile: profile,
        })
    }

    async fn js(&self, script: &str) -> Value {
        self.page.execute(script, vec![]).await.unwrap()
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

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.page.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn text(&self, css: &str) -> String {
        let script = format!(
            "const e = document.querySelector({css:?}); return e ? e.textContent.trim() : null"
        );
        self.js(&script)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the element's text satisfies `done`; returns it.
    async fn text_until(&self, css: &str, done: impl Fn(&str) -> bool) -> String {
        let script = format!(
            "const e = document.querySelector({css:?}); return e ? e.textContent.trim() : ''"
        );
        let value = wait_for(&self.page, &script, |v| v.as_str().is_some_and(&done)).await;
        value.as_str().unwrap().to_string()
    }

    /// A screenshot at the panel's width, named for the state it shows;
    /// nothing may stick out sideways.
    async fn shot(&self, name: &str) {
        let fits = self
            .js("return document.documentElement.scrollWidth <= window.innerWidth")
            .await;
        assert_eq!(fits, true, "{name}: the panel scrolls sideways at 360 px");
        std::fs::write(
            screenshots().join(format!("{name}-360.png")),
            self.page.screenshot().await.unwrap(),
        )
        .unwrap();
    }

    /// axe-core's accessibility rules on the page as it is now: none broken.
    async fn assert_accessible(&self, state: &str) {
        let axe = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/js/node_modules/axe-core/axe.min.js");
        let Ok(source) = std::fs::read_to_string(&axe) else {
            assert!(
                std::env::var_os("GENCOST_REQUIRE_NODE").is_none(),
                "axe-core is not installed: (cd tests/js && npm ci)"
            );
            eprintln!("axe-core not installed: accessibility not checked");
            return;
        };
        self.page.execute(&source, vec![]).await.unwrap();
        let found = self
            .page
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,
                       nodes: v.nodes.map(n => n.target.join(' ')) }))))
                   .catch(e => done(String(e)));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(found, json!([]), "axe-core, {state}");
    }

    /// The console had no errors but the refusals the test provoked (the
    /// browser logs every 4xx answer; the panel shows them in words).
    async fn assert_no_console_errors(&self, provoked: &[&str]) {
        common::browser::assert_no_console_errors(&self.page, provoked).await;
    }
}

/// Runs `check` against the panel and closes the browser even when it fails.
async fn with_panel<F, Fut>(server: &Server, check: F)
where
    F: FnOnce(std::sync::Arc<Panel>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(panel) = Panel::open(server).await else {
        return;
    };
    let panel = std::sync::Arc::new(panel);
    let outcome = tokio::spawn(check(std::sync::Arc::clone(&panel))).await;
    let _ = panel.page.clone().close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

async fn post(api: &str, path: &str, body: Value) -> reqwest::Response {
    http_client(true)
        .post(format!("{api}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn confirm_actual(server: &Server, id: &str, amount: &str) {
    let answer = post(
        &server.api(""),
        &format!("/entries/{id}/actual"),
        json!({ "amount": amount }),
    )
    .await;
    assert!(answer.status().is_success(), "{}", answer.status());
}

fn row(id: &str) -> String {
    format!("#history li.entry[data-id='{id}']")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_editor_sees_estimate_and_actual_opens_a_row_and_fixes_mistakes() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    let id = |v: Value| v["id"].as_str().unwrap().to_string();
    let kling = id(log(
        &server,
        json!({"model": "fal-ai/kling-video/v2.1/master/text-to-video",
        "client": "Acme", "project": "Winter", "deliverable": "Hero Film",
        "params": {"duration": "10"}, "duration_ms": 95_000,
        "description": "a fox running through snow at dawn"}),
    )
    .await);
    let confirmed = id(log(
        &server,
        json!({"model": "fal-ai/flux/dev", "client": "Acme", "project": "Winter",
            "cost": {"amount": "0.05", "currency": "USD"}}),
    )
    .await);
    confirm_actual(&server, &confirmed, "0.06").await;
    let close = id(log(
        &server,
        json!({"model": "fal-ai/flux/dev", "client": "Acme", "project": "Winter",
            "cost": {"amount": "1.00", "currency": "USD"}}),
    )
    .await);
    confirm_actual(&server, &close, "1.005").await;
    let uncharged = id(log(
        &server,
        json!({"model": "fal-ai/veo3", "client": "Acme", "project": "Winter",
            "status": "failed", "cost": {"amount": "4.80", "currency": "USD"}}),
    )
    .await);
    let charged = id(log(
        &server,
        json!({"model": "fal-ai/veo3", "client": "Acme", "project": "Winter",
            "status": "failed", "cost": {"amount": "4.80", "currency": "USD"}}),
    )
    .await);
    confirm_actual(&server, &charged, "1.20").await;
    let api = server.api("");
    let server_api = api.clone();
    with_panel(&server, move |panel| async move {
        panel.page.execute("document.getElementById('view-more').click()", vec![]).await.unwrap();
        wait_for(&panel.page, ROWS, |v| v == 5).await;

        // A confirmed entry shows its estimate and, beside it, the actual.
        let cost = format!("{} .cost", row(&confirmed));
        assert_eq!(panel.text(&cost).await, "~estimate $0.05");
        assert_eq!(panel.text(&format!("{} .badge.actual", row(&confirmed))).await, "Actual $0.06");
        assert_eq!(panel.text(&format!("{} .difference", row(&confirmed))).await, "+20.0 %");
        // Within 1 %, no difference is shown.
        assert_eq!(panel.text(&format!("{} .badge.actual", row(&close))).await, "Actual $1.00");
        assert_eq!(panel.js(&format!("return document.querySelector(\"{} .difference\")", row(&close))).await, Value::Null);

        // A failure fal did not charge is struck through and says so; a
        // charged one says so with its cost.
        assert_eq!(panel.text(&format!("{} .note.state", row(&uncharged))).await, "failed · not charged");
        assert_eq!(panel.text(&format!("{} .cost s", row(&uncharged))).await, "$4.80");
        assert_eq!(panel.text(&format!("{} .note.state", row(&charged))).await, "failed · charged");
        assert_eq!(panel.text(&format!("{} .badge.actual", row(&charged))).await, "Actual $1.20");

        // The catalog's display name, whole at 360 px; the provider and the
        // endpoint on hover.
        let model = format!("{} .model", row(&kling));
        assert_eq!(panel.text(&model).await, "Kling 2.1 Master (text to video)");
        let fits = panel.js(&format!("const m = document.querySelector(\"{model}\"); return m.scrollWidth <= m.clientWidth && m.getAttribute('title')")).await;
        assert_eq!(fits, "fal.ai · fal-ai/kling-video/v2.1/master/text-to-video");
        panel.assert_accessible("the history").await;
        panel.shot("panel-rows").await;

        // A row opens to what was stored: description, parameters,
        // duration, billing basis, events.
        panel.click(&format!("{} button.open", row(&kling))).await;
        let details = format!("{} .details", row(&kling));
        let text = panel.text_until(&details, |t| t.contains("Events")).await;
        for part in ["a fox running through snow at dawn", "duration 10", "1 min 35.0 s",
            "fal-ai/kling-video/v2.1/master/text-to-video", "Billing basis", "logged: estimate $2.80"] {
            assert!(text.contains(part), "{part} in {text}");
        }
        assert_eq!(panel.js(&format!("return document.querySelector(\"{} button.open\").getAttribute('aria-expanded')", row(&kling))).await, "true");
        panel.assert_accessible("a row opened").await;
        panel.shot("panel-row-open").await;

        // Void with a reason, asked once; then undo it.
        let total = panel.text("#summary .total .amount").await;
        panel.click(&format!("{details} button.void")).await;
        assert_eq!(panel.js("return document.getElementById('ask-dialog').open").await, true);
        panel.assert_accessible("the void dialog").await;
        panel.click("#ask-confirm").await;
        assert!(panel.text("#ask-status").await.contains("Reason"), "a void needs a reason");
        panel.type_into("#ask-reason", "wrong client").await;
        panel.click("#ask-confirm").await;
        panel.text_until(&format!("{} .note.state", row(&kling)), |t| t == "voided").await;
        panel.text_until("#summary .total .amount", |t| t != total).await;
        // The row is still open, now offering the undo.
        panel.text_until(&format!("{details} button.restore"), |t| t == "Undo void").await;
        panel.click(&format!("{details} button.restore")).await;
        panel.click("#ask-confirm").await;
        panel.text_until("#summary .total .amount", |t| t == total).await;
        let history: Value = http_client(true).get(format!("{api}/entries/{kling}/history")).send().await.unwrap().json().await.unwrap();
        let kinds: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["entry_logged", "entry_voided", "entry_restored"]);
        assert!(history["events"][1]["summary"].as_str().unwrap().contains("wrong client"), "{history}");

        // A large actual typed by hand needs a second click.
        let form = format!("{details} form.actual-form");
        panel.text_until(&format!("{form} button"), |t| t == "Confirm actual").await;
        panel.type_into(&format!("{form} .actual-amount"), "25000").await;
        // A live update while an editor types keeps what is typed.
        let before = panel.text("#summary .total .amount").await;
        post(&server_api, "/entries", json!({"model": "fal-ai/flux/dev", "project": "Winter",
            "cost": {"amount": "0.02", "currency": "USD"}})).await;
        panel.text_until("#summary .total .amount", |t| t != before).await;
        let typed = format!("return document.querySelector(\"{form} .actual-amount\").value");
        assert_eq!(panel.js(&typed).await, "25000");
        let focused = format!("return document.activeElement === document.querySelector(\"{form} .actual-amount\")");
        assert_eq!(panel.js(&focused).await, true, "the field keeps the keyboard");
        panel.click(&format!("{form} button")).await;
        let said = panel.text_until(&format!("{details} .entry-status"), |t| !t.is_empty()).await;
        assert!(said.contains("25,000") || said.contains("25000"), "{said}");
        assert_eq!(panel.text(&format!("{form} button")).await, "Confirm 25000 USD anyway");
        panel.shot("panel-confirm-large").await;
        panel.click(&format!("{form} button")).await;
        panel.text_until(&format!("{} .badge.actual", row(&kling)), |t| t.starts_with("Actual $25,000")).await;
        // The row's details come back fresh, the form empty again.
        panel.text_until(&format!("{form} button"), |t| t == "Confirm actual").await;

        // A decimal comma is read as one; "1,234" is refused as ambiguous.
        panel.type_into(&format!("{form} .actual-amount"), "1,234").await;
        panel.click(&format!("{form} button")).await;
        assert!(panel.text_until(&format!("{details} .entry-status"), |t| t.contains("ambiguous")).await.contains("'1,234'"));
        panel.text_until(&format!("{form} button"), |t| t == "Confirm actual").await;
        panel.type_into(&format!("{form} .actual-amount"), "2,50").await;
        panel.click(&format!("{form} button")).await;
        panel.text_until(&format!("{} .badge.actual", row(&kling)), |t| t == "Actual $2.50").await;
        panel.assert_no_console_errors(&["/actual - Failed to load resource: the server responded with a status of 400"]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_editor_estimates_imports_a_receipt_adds_a_pool_and_voids_them() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    for project in ["Summer Spot", "Winter Campaign"] {
        log(
            &server,
            json!({"model": "fal-ai/flux/dev", "client": "Acme", "project": project,
                "cost": {"amount": "2.00", "currency": "USD"}}),
        )
        .await;
    }
    let put = http_client(true)
        .put(server.api("/active-tags"))
        .json(&json!({"client": "Acme", "project": "Summer Spot"}))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let receipt = ledger.write_file(
        "receipts.csv",
        "date,description,amount,category\n2026-11-03,Midjourney Pro,30.00,Midjourney\n2026-11-04,Runway Standard,15.00,Runway\n",
    );
    let broken = ledger.write_file(
        "broken.csv",
        "date,description,amount,category\n2026-11-03,Midjourney Pro,30.00,Midjourney\n2026-11-04,\"Runway Standard,15.00,Runway\n",
    );
    let api = server.api("");
    with_panel(&server, move |panel| async move {
        // The model picker: a display name, then one input per
        // price-relevant parameter; the estimate follows them.
        assert_eq!(panel.text("label[for=model]").await, "Model");
        panel.type_into("#model", "FLUX.1 [dev]").await;
        panel.text_until("#model-name", |t| t == "FLUX.1 [dev] · fal-ai/flux/dev").await;
        assert_eq!(panel.js("return document.getElementById('param-image_size').tagName").await, "SELECT");
        assert_eq!(panel.js("return document.getElementById('param-num_images').type").await, "number");
        let one = panel.text_until("#estimate", |t| t.contains('$')).await;
        panel.type_into("#param-num_images", "2").await;
        let two = panel.text_until("#estimate", |t| t.contains('$') && t != one).await;
        assert!(two.contains("× 2") || two.contains("2 ×") || two.contains("2 images"), "{one} → {two}");
        panel.assert_accessible("the model picker").await;
        // A misspelt parameter is named with what was probably meant.
        panel.type_into("#params", "num_imgs=3").await;
        let warned = panel.text_until("#estimate", |t| t.contains("num_imgs")).await;
        assert!(warned.contains("num_images"), "{warned}");
        panel.shot("panel-estimate").await;

        // The simplest receipt file: no currency column. The dialog asks
        // the currency (the panel's), and tags rows with the active tags.
        panel.click("#open-import").await;
        assert_eq!(panel.js("return document.getElementById('import-currency').value").await, "USD");
        assert_eq!(panel.js("return document.getElementById('import-project').value").await, "Summer Spot");
        panel.page.find(Locator::Id("import-file")).await.unwrap().send_keys(&broken).await.unwrap();
        panel.click("#import-check").await;
        let refused = panel.text_until("#import-preview", |t| !t.is_empty()).await;
        assert!(refused.contains("broken.csv:3: a quote"), "{refused}");
        panel.page.find(Locator::Id("import-file")).await.unwrap().send_keys(&receipt).await.unwrap();
        panel.click("#import-check").await;
        let preview = panel.text_until("#import-preview", |t| t.contains("Would add")).await;
        assert!(preview.contains("Would add 2 (45.00 USD)") || preview.contains("Would add 2"), "{preview}");
        panel.assert_accessible("the import dialog's preview").await;
        panel.shot("panel-import").await;
        panel.click("#import-commit").await;
        panel.text_until("#action-status", |t| t.contains("Added 2")).await;
        let imported: Value = http_client(true).get(format!("{api}/entries?kind=external")).send().await.unwrap().json().await.unwrap();
        let rows = imported["entries"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{imported}");
        for row in rows {
            assert_eq!(row["client"], "Acme");
            assert_eq!(row["project"], "Summer Spot");
            assert_eq!(row["estimate"]["currency"], "USD", "{row}");
        }

        // A pool naming a project the ledger lacks asks first, offering
        // the closest names; a decimal comma is read as one.
        panel.click("#open-pool").await;
        assert_eq!(panel.js("return document.getElementById('pool-projects').placeholder").await, "Summer Spot, Winter Campaign");
        panel.type_into("#pool-description", "Midjourney Pro").await;
        panel.type_into("#pool-amount", "30,00").await;
        panel.type_into("#pool-period", "2026-11").await;
        panel.type_into("#pool-projects", "Sumer Spot").await;
        panel.click("#pool-add").await;
        let asked = panel.text_until("#pool-status", |t| t.contains("New project")).await;
        assert!(asked.contains("'Sumer Spot'") && asked.contains("'Summer Spot'"), "{asked}");
        panel.assert_accessible("the pool dialog asking").await;
        panel.shot("panel-pool-new-project").await;
        panel.click("#pool-suggestions button").await;
        assert_eq!(panel.js("return document.getElementById('pool-projects').value").await, "Summer Spot");
        panel.click("#pool-add").await;
        panel.text_until("#action-status", |t| t == "Pool cost added.").await;
        let pools: Value = http_client(true).get(format!("{api}/pools")).send().await.unwrap().json().await.unwrap();
        assert_eq!(pools[0]["amount"]["amount"], "30", "{pools}");
        assert_eq!(pools[0]["shares"][0]["project"], "Summer Spot", "{pools}");

        // Imports and pools are listed, and voided whole, asked once.
        panel.click("#show-batches").await;
        panel.text_until("#batches-view", |t| t.contains("receipts.csv") && t.contains("Midjourney Pro")).await;
        panel.assert_accessible("imports and pools").await;
        panel.click("#batches-view li.batch:first-child button.void-batch").await;
        panel.type_into("#ask-reason", "billed twice").await;
        panel.click("#ask-confirm").await;
        panel.text_until("#batches-view li.batch:first-child .note.state", |t| t == "voided: billed twice").await;
        panel.shot("panel-batches").await;
        let pools: Value = http_client(true).get(format!("{api}/pools")).send().await.unwrap().json().await.unwrap();
        assert_eq!(pools[0]["void_reason"], "billed twice", "{pools}");

        // The export is named after its scope and day.
        let day = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
        panel.click("#show-history").await;
        panel.click("button.chip[data-project='Summer Spot']").await;
        wait_for(&panel.page, "return document.getElementById('export').href", |v| v.as_str().is_some_and(|h| h.contains("project="))).await;
        let named = panel.page.execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.getElementById('export').href).then(r => done(r.headers.get('content-disposition')));",
            vec![]).await.unwrap();
        assert_eq!(named, format!("attachment; filename=\"gencost-summer-spot-{day}.csv\""));

        // Reset says why it is still disabled.
        panel.click("#open-reset").await;
        assert!(panel.text("#reset-hint").await.contains("type DELETE"));
        assert_eq!(panel.js("return getComputedStyle(document.getElementById('reset-hint')).display !== 'none'").await, true);
        panel.assert_accessible("the reset dialog").await;
        panel.assert_no_console_errors(&["/import - Failed to load resource: the server responded with a status of 400"]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chips_keep_their_order_and_the_keyboard_through_live_updates() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    for (project, amount) in [("Zebra", "9.00"), ("alpha", "1.00"), ("Mango", "5.00")] {
        log(
            &server,
            json!({"model": "fal-ai/flux/dev", "project": project,
                "cost": {"amount": amount, "currency": "USD"}, "confirm_large": true}),
        )
        .await;
    }
    let chips =
        "return Array.from(document.querySelectorAll('#summary .chip')).map(c => c.textContent)";
    let focused = "return document.activeElement.dataset.project ?? null";
    let server_api = server.api("");
    with_panel(&server, move |panel| async move {
        // By name, not by spend.
        assert_eq!(panel.js(chips).await, json!(["All", "alpha", "Mango", "Zebra"]));
        // Focus a chip from the keyboard and press Enter: it is selected,
        // the chips are rebuilt, and the focus stays on it.
        panel.page.execute("document.querySelector(\"#summary .chip[data-project='Mango']\").focus()", vec![]).await.unwrap();
        panel.page.active_element().await.unwrap().send_keys("\u{e007}").await.unwrap();
        wait_for(&panel.page, "return document.querySelector(\"#summary .chip[data-project='Mango']\").getAttribute('aria-pressed')", |v| v == "true").await;
        assert_eq!(panel.js(focused).await, "Mango");
        // A live update (a generation logged elsewhere) rebuilds them again.
        http_client(true).post(format!("{server_api}/entries"))
            .json(&json!({"model": "fal-ai/flux/dev", "project": "Mango", "cost": {"amount": "50.00", "currency": "USD"}, "confirm_large": true}))
            .send().await.unwrap();
        panel.text_until("#summary .total .amount", |t| t == "$55.00").await;
        assert_eq!(panel.js(focused).await, "Mango", "the focus stays on the chip");
        assert_eq!(panel.js(chips).await, json!(["All", "alpha", "Mango", "Zebra"]));
        panel.assert_accessible("a chip selected").await;
    })
    .await;
}

/// A producer invoices a client from the By client view: a preview, then
/// the invoice, whose entries show as invoiced and offer no change.
#[tokio::test(flavor = "multi_thread")]
async fn a_producer_invoices_a_client_and_its_entries_show_locked() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    // Last month, what the dialog offers first.
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
    let last_month = now.date().first_of_month().yesterday().unwrap();
    let month = last_month.strftime("%Y-%m").to_string();
    let at = format!("{}T10:00:00Z", last_month.strftime("%Y-%m-%d"));
    let mut ids = Vec::new();
    for project in ["Summer Spot", "Winter"] {
        let logged = log(
            &server,
            json!({"model": "fal-ai/flux/dev", "client": "Örebro Film", "project": project,
                "occurred_at": at, "cost": {"amount": "1.25", "currency": "USD"}}),
        )
        .await;
        ids.push(logged["id"].as_str().unwrap().to_string());
    }
    let api = server.api("");
    with_panel(&server, move |panel| async move {
        panel.click("#show-clients").await;
        panel.text_until("#clients-view", |t| t.contains("Örebro Film")).await;
        panel.click("#clients-view button.invoice-client").await;
        assert_eq!(panel.js("return document.getElementById('invoice-month').value").await, month);
        panel.type_into("#invoice-markup", "10").await;
        panel.click("#invoice-preview").await;
        let preview = panel.text_until("#invoice-result", |t| t.starts_with("Would bill")).await;
        assert!(preview.contains("2 entries") && preview.contains("$2.75"), "{preview}");
        let listed: Value = http_client(true).get(format!("{api}/invoices")).send().await.unwrap().json().await.unwrap();
        assert_eq!(listed["invoices"], json!([]), "a preview issues nothing");
        panel.assert_accessible("the invoice dialog's preview").await;
        panel.shot("panel-invoice").await;
        panel.click("#invoice-create").await;
        let made = panel.text_until("#invoice-result", |t| t.starts_with("Invoice ")).await;
        let number = format!("INV-{}-0001", now.year());
        assert!(made.contains(&number), "{made}");
        let link = panel.js("return document.querySelector('#invoice-result a').getAttribute('href')").await;
        assert_eq!(link, format!("/api/v1/invoices/{number}.html"));
        panel.click("#invoice-dialog button.close").await;

        panel.click("#show-history").await;
        let badge = panel.text_until(&format!("{} .badge.locked", row(&ids[0])), |t| !t.is_empty()).await;
        assert_eq!(badge, format!("Invoiced {number}"));
        panel.click(&format!("{} button.open", row(&ids[0]))).await;
        let note = panel.text_until(&format!("{} .locked-note", row(&ids[0])), |t| !t.is_empty()).await;
        assert!(note.contains(&number), "{note}");
        let offered = panel.js(&format!("return document.querySelectorAll(\"{} .details button.void, {} .details form.actual-form\").length", row(&ids[0]), row(&ids[0]))).await;
        assert_eq!(offered, 0, "no change offered on an invoiced entry");
        panel.assert_accessible("an invoiced entry opened").await;
        panel.shot("panel-invoiced-entry").await;
        panel.assert_no_console_errors(&[]).await;
    })
    .await;
}

/// The budget of the active client under the running total: its figures,
/// amber from its first alert and red at 100 %, live as runs are logged;
/// the budgets dialog makes and changes one.
#[tokio::test(flavor = "multi_thread")]
async fn the_active_clients_budget_burns_under_the_total_and_is_edited_in_a_dialog() {
    let ledger = TestLedger::sqlite();
    ledger.ok(&["use", "--client", "Örebro Film"]);
    ledger.ok(&[
        "budget",
        "set",
        "Örebro Q4",
        "--amount",
        "10",
        "--currency",
        "USD",
        "--client",
        "örebro film",
        "--hard",
    ]);
    ledger.ok(&[
        "budget",
        "set",
        "Studio",
        "--amount",
        "1000",
        "--currency",
        "USD",
    ]);
    let server = Server::start(&ledger, &[]);
    let api = server.api("");
    with_panel(&server, move |panel| async move {
        let figures = panel
            .text_until(".budget .budget-figures", |t| t.contains("remaining"))
            .await;
        assert!(figures.contains("remaining $10.00"), "{figures}");
        assert!(panel
            .text(".budget .budget-name")
            .await
            .contains("Örebro Q4"));
        assert_eq!(panel.text(".budget button.open-budgets").await, "+1 more");
        let state = |panel: std::sync::Arc<Panel>| async move {
            panel
                .js("return document.querySelector('.budget').className")
                .await
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(state(panel.clone()).await, "budget ok");
        let logged = post(
            &api,
            "/entries",
            json!({"model": "studio/grade", "client": "Örebro Film",
                   "cost": {"amount": "6", "currency": "USD"}, "status": "pending"}),
        )
        .await;
        assert_eq!(logged.status(), 201);
        let body: Value = logged.json().await.unwrap();
        assert_eq!(body["alerts"][0]["threshold"], 50, "{body}");
        let figures = panel
            .text_until(".budget .budget-figures", |t| t.contains("held $6.00"))
            .await;
        assert!(figures.contains("remaining $4.00 (60 %)"), "{figures}");
        assert_eq!(state(panel.clone()).await, "budget warning");
        panel.shot("budget-warning").await;
        // Over: a finished run is recorded whatever the budget says.
        post(
            &api,
            "/entries",
            json!({"model": "studio/grade", "client": "Örebro Film",
                   "cost": {"amount": "5", "currency": "USD"}}),
        )
        .await;
        panel
            .text_until(".budget .budget-figures", |t| {
                t.contains("remaining -$1.00")
            })
            .await;
        assert_eq!(state(panel.clone()).await, "budget over");
        panel.shot("budget-over").await;
        panel.assert_accessible("a budget over").await;

        // The dialog lists both; a new budget is made from the form.
        panel.click("#open-budgets").await;
        let listed = panel
            .text_until("#budget-list", |t| t.contains("Studio"))
            .await;
        assert!(
            listed.contains("Örebro Q4") && listed.contains("110 %"),
            "{listed}"
        );
        panel.type_into("#budget-name", "Spot").await;
        panel.type_into("#budget-amount", "ten").await;
        panel.click("#budget-save").await;
        let refused = panel.text_until("#budget-status", |t| !t.is_empty()).await;
        assert!(refused.contains("Amount"), "{refused}");
        panel.type_into("#budget-amount", "250").await;
        panel.type_into("#budget-client", "").await;
        panel.click("#budget-save").await;
        panel
            .text_until("#budget-list", |t| t.contains("Spot"))
            .await;
        panel.shot("budgets-dialog").await;
        panel.assert_accessible("the budgets dialog").await;
        panel.assert_no_console_errors(&["400"]).await;
    })
    .await;
    let made = ledger.json(&["budget", "show", "Spot", "--json"]);
    assert_eq!(made["amount"], "250");
    assert_eq!(made["client"], Value::Null);
}
