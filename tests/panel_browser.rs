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
/// for at most 5 s; returns the last result.
async fn wait_for(page: &Client, script: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
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
            let pools = loop {
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
