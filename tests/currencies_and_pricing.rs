//! Exchange rates and the pricing catalog, through the real binary on
//! SQLite and (when configured) PostgreSQL.

mod common;

use common::{write_file, TestLedger};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/ecb/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A zip archive holding `inner_name`, as ECB ships eurofxref-hist.zip.
fn zip_of(dir: &Path, inner_name: &str, content: &[u8]) -> String {
    let path: PathBuf = dir.join(format!("{inner_name}.zip"));
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    writer.start_file(inner_name, options).unwrap();
    writer.write_all(content).unwrap();
    writer.finish().unwrap();
    path.display().to_string()
}

fn rate_on(ledger: &TestLedger, date: &str, code: &str) -> (String, String) {
    let shown = ledger.json(&["rates", "show", "--date", date, "--json"]);
    let rate = shown["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["currency"] == code)
        .map(|r| r["rate"].as_str().unwrap().to_string())
        .unwrap_or_default();
    (shown["date"].as_str().unwrap().to_string(), rate)
}

#[test]
fn rates_import_is_idempotent_and_all_or_nothing() {
    for ledger in TestLedger::each() {
        let csv = fixture("eurofxref-hist-excerpt.csv");
        let first = ledger.json(&["rates", "import", &csv, "--json"]);
        assert_eq!(
            (first["days"].clone(), first["added"].clone()),
            (json!(4), json!(124))
        );
        assert!(first["skipped_currencies"]
            .as_array()
            .unwrap()
            .contains(&json!("CYP")));
        let again = ledger.json(&["rates", "import", &csv, "--json"]);
        assert_eq!(
            (
                again["added"].clone(),
                again["changed"].clone(),
                again["unchanged"].clone()
            ),
            (json!(0), json!(0), json!(124))
        );
        assert_eq!(
            rate_on(&ledger, "2019-04-09", "SEK"),
            ("2019-04-09".into(), "10.425".into())
        );
        // A Saturday falls back to Friday's rates (from the embedded history:
        // Thursday and Friday are not in the excerpt).
        assert_eq!(
            rate_on(&ledger, "2019-04-13", "USD"),
            ("2019-04-12".into(), "1.1321".into())
        );

        // A bad cell on line 3: nothing of the file is written, not even
        // line 2 (whose USD differs from ECB's 1.1321 of that day).
        let bad = ledger.write_file(
            "bad.csv",
            "Date,USD,SEK,\n2019-04-12,1.1315,10.4893,\n2019-04-11,1.1275,ten,\n",
        );
        let run = ledger.run(&["rates", "import", &bad]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("bad.csv: line 3: SEK on 2019-04-11"),
            "{}",
            run.stderr
        );
        assert_eq!(rate_on(&ledger, "2019-04-12", "USD").1, "1.1321");

        // The daily XML, and the historical CSV zipped as ECB ships it.
        let xml = ledger.json(&[
            "rates",
            "import",
            &fixture("eurofxref-daily-2024-06-28.xml"),
            "--json",
        ]);
        assert_eq!(xml["added"], 30);
        let zipped = zip_of(
            ledger.dir.path(),
            "eurofxref-hist.csv",
            &std::fs::read(&csv).unwrap(),
        );
        let from_zip = ledger.json(&["rates", "import", &zipped, "--json"]);
        assert_eq!(
            (from_zip["rates"].clone(), from_zip["unchanged"].clone()),
            (json!(124), json!(124))
        );
        assert_eq!(
            rate_on(&ledger, "2024-06-30", "GBP"),
            ("2024-06-28".into(), "0.84638".into())
        );

        let shown = ledger.ok(&["rates", "show", "--date", "2019-04-09"]);
        assert!(
            shown.contains("embedded: ECB's history, 7126 days, 1999-01-04 to 2026-10-30"),
            "{shown}"
        );
        assert!(
            shown.contains("imported: 5 days, 2019-04-08 to 2024-06-28"),
            "{shown}"
        );
    }
}

#[test]
fn imported_rates_travel_with_a_copied_ledger() {
    for ledger in TestLedger::each() {
        ledger.ok(&["rates", "import", &fixture("eurofxref-hist-excerpt.csv")]);
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "10",
            "--at",
            "2019-04-09T12:00:00Z",
        ]);
        let copy = format!("sqlite://{}", ledger.dir.path().join("copy.db").display());
        ledger.ok(&["db", "copy", "--from", &ledger.url, "--to", &copy]);
        let total = |url: &str| {
            let run = common::run_with(
                url,
                &ledger.config_dir(),
                ledger.dir.path(),
                &["total", "--currency", "SEK", "--json"],
            );
            assert_eq!(run.code, 0, "{}", run.stderr);
            serde_json::from_str::<Value>(&run.stdout).unwrap()["total"].clone()
        };
        assert_eq!(total(&ledger.url), json!("92.444799"));
        assert_eq!(total(&copy), json!("92.444799"));
    }
}

#[test]
fn without_imports_the_embedded_history_is_used_and_dated() {
    let ledger = TestLedger::sqlite();
    // Reading commands need a ledger that exists.
    ledger.ok(&["db", "migrate"]);
    assert_eq!(
        rate_on(&ledger, "2026-11-27", "SEK"),
        ("2026-10-30".into(), "10.978".into())
    );
    assert_eq!(
        rate_on(&ledger, "2020-01-01", "SEK"),
        ("2019-12-31".into(), "10.4468".into())
    );
    assert_eq!(
        rate_on(&ledger, "1999-01-04", "USD"),
        ("1999-01-04".into(), "1.1789".into())
    );
    let run = ledger.run(&["rates", "show", "--date", "1998-12-31"]);
    assert_eq!(
        run.code, 2,
        "nothing to show is bad input, like an unknown id"
    );
    assert!(
        run.stderr.contains(
            "no exchange rates on or before 1998-12-31: ECB's reference rates start on 1999-01-04"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn totals_and_lists_convert_each_amount_at_its_own_dates_rate() {
    for ledger in TestLedger::each() {
        ledger.ok(&["rates", "import", &fixture("eurofxref-hist-excerpt.csv")]);
        for (cost, currency, at) in [
            ("10", "USD", "2019-04-09T12:00:00Z"),
            ("10", "USD", "2019-04-10T12:00:00Z"),
            ("5", "EUR", "2021-12-01T12:00:00Z"),
        ] {
            ledger.ok(&[
                "log",
                "--model",
                "m",
                "--cost",
                cost,
                "--currency",
                currency,
                "--at",
                at,
                "--project",
                "Trailer",
            ]);
        }
        // 10 × 10.425 / 1.1277 + 10 × 10.44 / 1.1279 + 5 × 10.226, rounded once.
        let total = ledger.json(&["total", "--by", "project", "--currency", "SEK", "--json"]);
        assert_eq!(total["total"], "236.136196");
        assert_eq!(total["groups"][0]["total"], "236.136196");
        assert_eq!(
            total["rates"],
            json!([
                {"from": "EUR", "to": "SEK", "rate": "10.226", "date": "2021-12-01"},
                {"from": "USD", "to": "SEK", "rate": "9.2444799149", "date": "2019-04-09"},
                {"from": "USD", "to": "SEK", "rate": "9.2561397287", "date": "2019-04-10"}
            ])
        );
        let human = ledger.ok(&["total", "--currency", "SEK"]);
        assert!(
            human.starts_with("Total: 236.1 kr over 3 entries"),
            "{human}"
        );
        assert!(
            human.contains("rates of 3 days (2019-04-09 to 2021-12-01)"),
            "{human}"
        );

        // In EUR: $10 / 1.1277 + $10 / 1.1279 + €5.
        let eur = ledger.json(&["total", "--currency", "EUR", "--json"]);
        assert_eq!(eur["total"], "22.733641");

        let listed = ledger.json(&["list", "--currency", "SEK", "--json"]);
        let amounts: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["cost"]["amount"].as_str().unwrap())
            .collect();
        assert_eq!(amounts, ["51.13", "92.561397", "92.444799"]);
        assert_eq!(listed[0]["cost"]["currency"], "SEK");
        assert_eq!(listed[0]["rates"][0]["date"], "2021-12-01");

        // A currency without any rate: nothing can be converted into it.
        let run = ledger.run(&["total", "--currency", "AED"]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr
                .contains("currency AED: no exchange rate is known for it"),
            "{}",
            run.stderr
        );

        // An entry of a day the excerpt does not hold converts at the
        // embedded history's rates of that day: $1 × 10.2145 / 1.1397.
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "1",
            "--at",
            "2019-01-02T00:00:00Z",
        ]);
        let total = ledger.json(&["total", "--currency", "SEK", "--json"]);
        assert_eq!(total["total"], "245.098643");
        assert_eq!(total["unconverted"], json!([]));
        let run = ledger.run(&["total", "--currency", "XYZ"]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains("unknown currency code 'XYZ'"),
            "{}",
            run.stderr
        );
    }
}

/// Serves one HTTP response to every connection, the way a web server would.
fn serve(status: &'static str, body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{address}/stats/eurofxref/eurofxref-daily.xml")
}

#[test]
fn rates_update_downloads_the_daily_file() {
    let ledger = TestLedger::sqlite();
    let xml = std::fs::read(fixture("eurofxref-daily-2024-06-28.xml")).unwrap();
    let url = serve("200 OK", xml);
    let out = ledger.ok(&["rates", "update", "--url", &url]);
    assert!(
        out.contains("imported 30 rates over 1 day (2024-06-28 to 2024-06-28)"),
        "{out}"
    );
    assert_eq!(rate_on(&ledger, "2024-06-30", "SEK").1, "11.3595");

    let missing = serve("404 Not Found", b"not here".to_vec());
    let run = ledger.run(&["rates", "update", "--url", &missing]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("cannot download"), "{}", run.stderr);
}

#[test]
fn pricing_estimates_explain_their_arithmetic() {
    let ledger = TestLedger::sqlite();
    // Reading commands need a ledger that exists.
    ledger.ok(&["db", "migrate"]);
    let e = ledger.json(&[
        "pricing",
        "estimate",
        "fal-ai/flux/dev",
        "--param",
        "image_size=square_hd",
        "--param",
        "num_images=2",
        "--json",
    ]);
    assert_eq!(e["amount"], "0.05");
    assert_eq!(e["tier"], "estimated");
    assert_eq!(
        e["explanation"],
        "2 images × 1024×1024 px = 1.00 MP each (fal MP = 1024² px), rounded up to 1 MP × $0.025 = $0.05"
    );
    assert_eq!(e["price_version"], "2026-11-27");
    assert_eq!(e["price_source"], "published");
    assert_eq!(e["source"], "https://fal.ai/models/fal-ai/flux/dev");

    // The amount of an estimate shows exactly, as its explanation does.
    let human = ledger.ok(&[
        "pricing",
        "estimate",
        "fal-ai/flux/dev",
        "--param",
        "image_size=landscape_16_9",
    ]);
    assert!(
        human.starts_with(
            "$0.025 (estimated)\n1 image × 1024×576 px = 0.56 MP (fal MP = 1024² px), rounded up to 1 MP × $0.025 = $0.025\n"
        ),
        "{human}"
    );
    assert!(
        human
            .contains("price source: published on fal.ai: https://fal.ai/models/fal-ai/flux/dev\n"),
        "{human}"
    );
    let human = ledger.ok(&[
        "pricing",
        "estimate",
        "fal-ai/flux/dev",
        "--param",
        "image_size=1536x1024",
    ]);
    assert!(
        human.contains(
            "1536×1024 px = 1.50 MP (fal MP = 1024² px), rounded up to 2 MP × $0.025 = $0.05"
        ),
        "{human}"
    );

    let human = ledger.ok(&[
        "pricing",
        "estimate",
        "fal-ai/kling-video/v2/master/image-to-video",
        "--param",
        "duration=10",
    ]);
    assert!(
        human.starts_with("$2.80 (estimated)\n10 s: $1.40 for the first 5 s + 5 s × $0.28 = $2.80"),
        "{human}"
    );

    // In SEK at the latest rate on or before today (the embedded history's
    // last day here).
    let sek = ledger.json(&[
        "pricing",
        "estimate",
        "fal-ai/veo3",
        "--param",
        "duration=8s",
        "--currency",
        "SEK",
        "--json",
    ]);
    // $3.20 × 10.978 / 1.1172
    assert_eq!(sek["amount"], "31.444325");
    assert_eq!(sek["rate"]["date"], "2026-10-30");

    let run = ledger.run(&[
        "pricing",
        "estimate",
        "fal-ai/elevenlabs/text-to-dialogue/eleven-v3",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("needs the parameter 'characters (or text)'"),
        "{}",
        run.stderr
    );

    let unknown = ledger.json(&["pricing", "estimate", "acme/not-a-model", "--json"]);
    assert_eq!(
        (unknown["amount"].clone(), unknown["tier"].clone()),
        (Value::Null, json!("unpriced"))
    );
    assert!(ledger
        .ok(&["pricing", "estimate", "acme/not-a-model"])
        .starts_with("No price"));

    let all = ledger.json(&["pricing", "list", "--json"]);
    assert!(all.as_array().unwrap().len() >= 30);
    let commercial = ledger.json(&["pricing", "list", "--commercial", "--json"]);
    assert!(commercial
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["license"]["status"] == "commercial"));
    assert!(commercial.as_array().unwrap().len() < all.as_array().unwrap().len());

    let shown = ledger.ok(&["pricing", "show", "fal-ai/flux-2-pro"]);
    assert!(
        shown.contains("$0.03 first megapixel + $0.015 each further"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "price source: published on fal.ai: https://fal.ai/models/fal-ai/flux-2-pro\n"
        ),
        "{shown}"
    );
    let unpriced = ledger.ok(&["pricing", "show", "fal-ai/ideogram/v3"]);
    assert!(
        unpriced.contains("source:       https://fal.ai/"),
        "{unpriced}"
    );
    assert!(!unpriced.contains("price source"), "{unpriced}");
    let run = ledger.run(&["pricing", "show", "acme/not-a-model"]);
    assert_eq!(run.code, 2, "an unknown model is bad input");
}

#[test]
fn log_prices_from_the_catalog_then_history_then_unpriced() {
    for ledger in TestLedger::each() {
        let id = ledger.ok(&[
            "log",
            "--model",
            "fal-ai/flux/dev",
            "--param",
            "num_images=3",
        ]);
        let e = &ledger.json(&["list", "--json"])[0];
        assert_eq!(e["id"], id.trim());
        assert_eq!(
            e["estimate"],
            json!({"amount": "0.075", "currency": "USD", "tier": "estimated"})
        );
        assert_eq!(e["price_version"], "2026-11-27");
        assert_eq!(
            e["license"],
            "commercial (FLUX.1 [dev] on fal: personal and commercial use)"
        );

        // A model the catalog does not price: unpriced until three actuals are confirmed.
        for (n, actual) in ["0.10", "0.30", "0.20"].iter().enumerate() {
            let run = ledger.run(&["log", "--model", "acme/house-model"]);
            assert_eq!(run.code, 0);
            assert!(
                run.stderr
                    .contains("unpriced: acme/house-model is not in the pricing catalog"),
                "{}",
                run.stderr
            );
            let entry = &ledger.json(&["list", "--limit", "1", "--json"])[0];
            assert_eq!(entry["estimate"]["tier"], "unpriced", "after {n} confirmed");
            ledger.ok(&["confirm", run.stdout.trim(), "--actual", actual]);
        }
        let run = ledger.run(&["log", "--model", "acme/house-model"]);
        assert!(
            run.stderr.contains("the median of 3 confirmed costs"),
            "{}",
            run.stderr
        );
        let entry = &ledger.json(&["list", "--limit", "1", "--json"])[0];
        assert_eq!(
            entry["estimate"],
            json!({"amount": "0.2", "currency": "USD", "tier": "historical"})
        );

        // A bad parameter is refused before anything is written.
        let before = ledger.json(&["list", "--json"]).as_array().unwrap().len();
        let run = ledger.run(&["log", "--model", "fal-ai/veo3", "--param", "duration=long"]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains("parameter 'duration' is 'long'"),
            "{}",
            run.stderr
        );
        assert_eq!(
            ledger.json(&["list", "--json"]).as_array().unwrap().len(),
            before
        );
        // With a known cost the catalog is not asked to estimate; the license is still kept.
        ledger.ok(&[
            "log",
            "--model",
            "fal-ai/veo3",
            "--cost",
            "3.2",
            "--param",
            "duration=long",
        ]);
        let entry = &ledger.json(&["list", "--limit", "1", "--json"])[0];
        assert_eq!(entry["estimate"]["amount"], "3.2");
        assert_eq!(entry["price_version"], Value::Null);
        assert_eq!(entry["license"], "unknown (not stated at the source)");
        assert!(ledger.ok(&["verify"]).starts_with("ok:"));
    }
}

#[test]
fn every_catalog_price_says_whether_its_provider_published_it() {
    let ledger = TestLedger::sqlite();
    // Reading commands need a ledger that exists.
    ledger.ok(&["db", "migrate"]);
    let all = ledger.json(&["pricing", "list", "--json"]);
    for m in all.as_array().unwrap() {
        let source = m["source"].as_str().unwrap();
        // The provider's own pages, by the endpoint's first segment.
        let own: &[&str] = match m["model"].as_str().unwrap().split('/').next() {
            Some("openai") => &["https://developers.openai.com/"],
            Some("replicate") => &["https://replicate.com/"],
            Some("runway") => &["https://github.com/runwayml/", "https://help.runwayml.com/"],
            Some("elevenlabs") => &["https://elevenlabs.io/"],
            _ => &["https://fal.ai/", "https://api.fal.ai/"],
        };
        let by_provider = own.iter().any(|host| source.starts_with(host));
        match (m["formula"].is_null(), m["price_source"].as_str()) {
            (true, None) => {}
            (false, Some("published")) => assert!(by_provider, "{m}"),
            (false, Some("reported")) => assert!(!by_provider, "{m}"),
            _ => panic!("price_source does not fit the model: {m}"),
        }
    }
    let list = ledger.ok(&["pricing", "list"]);
    assert!(
        list.lines().next().unwrap().contains("PRICE SOURCE"),
        "{list}"
    );
    let schnell = list
        .lines()
        .find(|l| l.starts_with("fal-ai/flux/schnell "))
        .unwrap();
    assert!(schnell.contains(" reported "), "{schnell}");

    // A reported price says so wherever it is shown.
    let shown = ledger.ok(&["pricing", "show", "fal-ai/flux/schnell"]);
    assert!(
        shown.contains("price source: reported by a third party: https://skillspool.org/"),
        "{shown}"
    );
    let e = ledger.json(&["pricing", "estimate", "fal-ai/flux/schnell", "--json"]);
    assert_eq!(e["price_source"], "reported");
    let human = ledger.ok(&["pricing", "estimate", "fal-ai/flux/schnell"]);
    assert!(
        human.contains("price source: reported by a third party: https://"),
        "{human}"
    );
    let run = ledger.run(&["log", "--model", "fal-ai/flux/schnell"]);
    assert!(
        run.stderr
            .contains("(price reported by a third party, not read on fal.ai)"),
        "{}",
        run.stderr
    );
    // Re-checked on fal.ai: published, with fal's page as the source.
    let kontext = ledger.json(&["pricing", "show", "fal-ai/flux-pro/kontext", "--json"]);
    assert_eq!(kontext["price_source"], "published");
    assert_eq!(
        kontext["source"],
        "https://fal.ai/models/fal-ai/flux-pro/kontext/llms.txt"
    );
}

#[test]
fn entry_amounts_show_exactly_and_totals_round() {
    for ledger in TestLedger::each() {
        let id = ledger.ok(&["log", "--model", "m", "--cost", "0.025", "--project", "a"]);
        let id = id.trim();
        let row = |id: &str| {
            ledger
                .ok(&["list", "--include-void"])
                .lines()
                .find(|l| l.starts_with(id))
                .unwrap_or_else(|| panic!("no row for {id}"))
                .to_string()
        };
        assert!(row(id).contains(" $0.025 "), "{}", row(id));
        let total = ledger.ok(&["total", "--project", "a"]);
        assert!(total.starts_with("Total: $0.02 over 1 entry"), "{total}");

        let out = ledger.ok(&["confirm", id, "--actual", "1.005"]);
        assert_eq!(out, format!("{id}: actual $1.005 confirmed\n"));
        assert!(row(id).contains(" $1.005 "), "{}", row(id));
        let out = ledger.ok(&["confirm", id, "--actual", "1.4"]);
        assert_eq!(
            out,
            format!("{id}: actual $1.40 confirmed\n(replaces the earlier actual $1.005)\n")
        );
        let json = ledger.json(&["confirm", id, "--actual", "1.005", "--json"]);
        assert_eq!(json["actual"]["amount"], "1.005");
        assert_eq!(json["replaced"]["amount"], "1.4");

        for (cost, currency, shown) in [
            ("0.0035", "USD", " $0.0035 "),
            ("5.1", "SEK", " 5.1 kr "),
            ("12.35", "SEK", " 12.35 kr "),
            ("1234.5", "JPY", " ¥1,234.5 "),
        ] {
            let id = ledger.ok(&[
                "log",
                "--model",
                "m",
                "--cost",
                cost,
                "--currency",
                currency,
                "--project",
                "b",
            ]);
            assert!(row(id.trim()).contains(shown), "{}", row(id.trim()));
        }
        // A total rounds to the display precision, but never to zero.
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "0.004",
            "--project",
            "tiny",
        ]);
        let total = ledger.ok(&["total", "--project", "tiny"]);
        assert!(total.starts_with("Total: $0.004 over 1 entry"), "{total}");
        let total = ledger.json(&["total", "--project", "tiny", "--json"]);
        assert_eq!(total["total"], "0.004");
    }
}

#[test]
fn a_user_pricing_file_overrides_adds_and_goes_stale() {
    let ledger = TestLedger::sqlite();
    // Reading commands need a ledger that exists.
    ledger.ok(&["db", "migrate"]);
    std::fs::create_dir_all(ledger.config_dir()).unwrap();
    let user = r#"
[[model]]
endpoint = "fal-ai/flux/dev"
name = "FLUX.1 [dev] (studio rate)"
currency = "USD"
verified = "2025-01-15"
source = "https://example.com/our-contract"
license = { status = "commercial", name = "studio agreement" }
defaults = { image_size = "landscape_4_3" }
formula = { type = "per_megapixel", price = "0.02" }

[[model]]
endpoint = "acme/house-model"
name = "House model"
currency = "EUR"
verified = "2026-11-20"
source = "https://example.com/house"
license = { status = "non-commercial", name = "research only" }
formula = { type = "per_image", price = "0.5" }
"#;
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let user = user.replace("2026-11-20", &today);
    write_file(&ledger.config_dir(), "pricing.toml", &user);
    let e = ledger.json(&["pricing", "estimate", "fal-ai/flux/dev", "--json"]);
    assert_eq!(
        (e["amount"].clone(), e["stale"].clone()),
        (json!("0.02"), json!(true))
    );
    let shown = ledger.ok(&["pricing", "show", "fal-ai/flux/dev"]);
    assert!(
        shown.contains("2025-01-15 (stale: over 90 days ago)"),
        "{shown}"
    );
    assert!(shown.contains("from:         your pricing file"), "{shown}");
    assert!(
        shown.contains("price source: your pricing file: https://example.com/our-contract\n"),
        "{shown}"
    );
    assert_eq!(
        e["price_source"], "user",
        "a user's file is the user's own figure"
    );
    let run = ledger.run(&["log", "--model", "fal-ai/flux/dev"]);
    assert!(
        run.stderr.contains("(stale: price verified 2025-01-15"),
        "{}",
        run.stderr
    );
    let added = ledger.json(&[
        "pricing",
        "estimate",
        "acme/house-model",
        "--param",
        "num_images=2",
        "--json",
    ]);
    assert_eq!(
        (added["amount"].clone(), added["currency"].clone()),
        (json!("1"), json!("EUR"))
    );
    assert_eq!(added["stale"], false);
    assert_eq!(added["price_source"], "user");

    // A user's file may say where its figure came from.
    let sourced = ledger.write_file(
        "sourced.toml",
        user.replace(
            "source = \"https://example.com/house\"",
            "source = \"https://example.com/house\"\nprice_source = \"reported\"",
        ),
    );
    let e = ledger.json(&[
        "--pricing",
        &sourced,
        "pricing",
        "estimate",
        "acme/house-model",
        "--json",
    ]);
    assert_eq!(e["price_source"], "reported");
    // An unpriced model has no price to source.
    let unpriced = ledger.write_file(
        "unpriced.toml",
        "[[model]]\nendpoint = \"acme/x\"\nname = \"X\"\ncurrency = \"USD\"\nverified = \"2026-01-01\"\nsource = \"https://example.com/x\"\nprice_source = \"published\"\nlicense = { status = \"unknown\", name = \"?\" }\n",
    );
    let run = ledger.run(&["--pricing", &unpriced, "pricing", "list"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("price_source is given but there is no formula"),
        "{}",
        run.stderr
    );

    // --pricing names another file; a malformed one is refused with its line.
    let broken = ledger.write_file(
        "broken.toml",
        user.replace("price = \"0.5\"", "price = 0.5"),
    );
    let run = ledger.run(&["--pricing", &broken, "pricing", "list"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("broken.toml: line 19:"),
        "{}",
        run.stderr
    );
}
