//! `gencost report html`: the self-contained report. A fixed fixture ledger
//! (events with fixed ids and times, appended verbatim) renders to the golden
//! file byte for byte on every backend; user text is escaped everywhere;
//! nothing external is referenced; the invoice's markup and the estimate
//! accuracy are exact, and the invoice shown in cents adds up; the charts
//! keep external costs and untagged entries apart; bad input writes nothing;
//! and headless Chromium opens the file with the network disabled, axe-core
//! finds no violation in it, and it fits a 360 px window.
//!
//! `GENCOST_UPDATE_GOLDEN=1 cargo test --test report_html` rewrites the
//! golden file after an intended change.

mod common;
use common::browser::{axe_violations, browser, emulate_viewport, session, Driver, Log, Network};
use common::TestLedger;
use gencost::ledger::event::{ActualConfirmed, EntryVoided, Params, TagsChanged};
use gencost::ledger::{EntryRecord, Event, EventBody, Head, Kind, Status, Tags, Tier};
use gencost::money::Currency;
use gencost::pricing::Catalog;
use gencost::report::markup::Markup;
use gencost::service::report::{report, ReportRequest};
use gencost::store::{Filter, SqlStore, Store};
use gencost::timestamp::Timestamp;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

const GENERATED_AT: &str = "2025-10-20T08:30:00Z";
const EVIL: &str = "<script>alert(1)</script>";

fn at(text: &str) -> i64 {
    Timestamp::parse_rfc3339(text).unwrap().0
}

/// Builds a chain of events with fixed ids and times.
struct Chain {
    head: Head,
    events: Vec<Event>,
}

impl Chain {
    fn new() -> Chain {
        Chain {
            head: Head::EMPTY,
            events: Vec::new(),
        }
    }

    fn push(&mut self, body: EventBody) {
        // Recorded one minute apart from a fixed time.
        let recorded =
            Timestamp(at("2025-10-19T12:00:00Z") + self.events.len() as i64 * 60_000_000);
        self.events.push(self.head.append(&body, recorded).unwrap());
    }

    fn log(&mut self, record: EntryRecord) -> Uuid {
        let id = record.id;
        self.push(EventBody::EntryLogged(Box::new(record)));
        id
    }

    fn confirm(&mut self, id: Uuid, micros: i64, currency: Currency) {
        self.push(EventBody::ActualConfirmed(ActualConfirmed {
            entry_id: id,
            micros,
            currency,
        }));
    }
}

/// One entry of the fixture: entry number `n` (its id), at `when`.
#[allow(clippy::too_many_arguments)]
fn entry(
    n: u128,
    when: &str,
    kind: Kind,
    source: &str,
    model: Option<&str>,
    tags: (Option<&str>, Option<&str>, Option<&str>),
    estimate: Option<(i64, Currency)>,
    actual: Option<(i64, Currency)>,
    license: Option<&str>,
) -> EntryRecord {
    let currency = estimate.map_or(Currency::USD, |(_, c)| c);
    EntryRecord {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n),
        kind,
        occurred_at: at(when),
        source: source.into(),
        model: model.map(str::to_string),
        description: Some(format!("take {n}")),
        tags: Tags {
            client: tags.0.map(str::to_string),
            project: tags.1.map(str::to_string),
            deliverable: tags.2.map(str::to_string),
        },
        request_id: Some(format!("req-{n:04}")),
        status: Status::Succeeded,
        duration_ms: Some(12_000),
        params: Params::from_map(&serde_json::Map::new()).unwrap(),
        estimate_micros: estimate.map(|(m, _)| m),
        estimate_currency: currency,
        estimate_tier: if estimate.is_some() {
            Tier::Estimated
        } else {
            Tier::Unpriced
        },
        actual_micros: actual.map(|(m, _)| m),
        actual_currency: actual.map(|(_, c)| c),
        price_version: None,
        license: license.map(str::to_string),
        batch: None,
        billing: None,
    }
}

const USD: Currency = Currency::USD;
const EUR: Currency = Currency::EUR;
const SEK: Currency = Currency::SEK;
const FLUX: &str = "commercial (FLUX.1 [dev] on fal: personal and commercial use)";
const VEO: &str = "unknown (not stated at the source)";
const GEN: Kind = Kind::Generation;

/// The fixture ledger: two clients and an untagged entry over seven weeks
/// of 2025, in USD, EUR and SEK; confirmed actuals on and off the estimate,
/// one of zero, one without an estimate; failed runs charged and not; an
/// imported cost and a pool share; a void entry and a retagged one.
fn fixture() -> Vec<Event> {
    let mut c = Chain::new();
    let hero = (
        Some("Acme Beverages"),
        Some("Summer Spot"),
        Some("Hero 16x9"),
    );
    let social = (
        Some("Acme Beverages"),
        Some("Summer Spot"),
        Some("Social Cut"),
    );
    let promo = (Some("Acme Beverages"), Some("Holiday Promo"), None);
    let north = (
        Some("Northwind Studios"),
        Some("Brand Refresh"),
        Some("Storyboard"),
    );
    let kite = (
        Some("Kite & Co"),
        Some("Music Video"),
        Some("Vertical 9×16"),
    );
    let flux = Some("fal-ai/flux/dev");
    let veo = Some("fal-ai/veo3");
    // 9.09 % off: not over the threshold.
    c.log(entry(
        1,
        "2025-09-02T09:15:00Z",
        GEN,
        "fal.ai",
        flux,
        hero,
        Some((50_000, USD)),
        Some((55_000, USD)),
        Some(FLUX),
    ));
    let e2 = c.log(entry(
        2,
        "2025-09-03T14:40:00Z",
        GEN,
        "fal.ai",
        veo,
        hero,
        Some((3_200_000, USD)),
        None,
        Some(VEO),
    ));
    c.confirm(e2, 4_000_000, USD); // 20 % off
    c.log(entry(
        3,
        "2025-09-10T16:05:30Z",
        GEN,
        "fal.ai",
        Some("fal-ai/kling-video/v2/master/text-to-video"),
        hero,
        Some((1_400_000, USD)),
        Some((1_400_000, USD)),
        Some("commercial (Kling terms of use)"),
    ));
    // Confirmed at zero: counted apart.
    c.log(entry(
        4,
        "2025-09-15T08:00:00Z",
        GEN,
        "fal.ai",
        flux,
        hero,
        Some((25_000, USD)),
        Some((0, USD)),
        Some(FLUX),
    ));
    c.log(entry(
        5,
        "2025-09-18T11:11:11Z",
        GEN,
        "fal.ai",
        veo,
        social,
        Some((3_200_000, USD)),
        None,
        Some(VEO),
    ));
    // Not in the catalog, no price, no license recorded.
    c.log(entry(
        6,
        "2025-09-20T21:30:00Z",
        GEN,
        "fal.ai",
        Some("acme/house-model"),
        social,
        None,
        None,
        None,
    ));
    let mut failed = entry(
        7,
        "2025-09-21T10:00:00Z",
        GEN,
        "fal.ai",
        veo,
        social,
        Some((3_200_000, USD)),
        None,
        Some(VEO),
    );
    failed.status = Status::Failed;
    c.log(failed);
    let mut cancelled = entry(
        8,
        "2025-09-22T23:59:59Z",
        GEN,
        "fal.ai",
        flux,
        social,
        Some((25_000, USD)),
        Some((20_000, USD)),
        Some(FLUX),
    );
    cancelled.status = Status::Cancelled;
    c.log(cancelled);
    // An actual without an estimate.
    c.log(entry(
        9,
        "2025-09-25T13:00:00Z",
        GEN,
        "fal.ai",
        Some("acme/house-model"),
        social,
        None,
        Some((200_000, USD)),
        None,
    ));
    c.log(entry(
        10,
        "2025-10-01T00:00:00Z",
        Kind::External,
        "Midjourney",
        None,
        promo,
        None,
        Some((24_000_000, EUR)),
        None,
    ));
    c.log(entry(
        11,
        "2025-10-01T00:00:00Z",
        Kind::Pool,
        "Runway (monthly plan)",
        None,
        promo,
        None,
        Some((15_000_000, USD)),
        None,
    ));
    c.log(entry(
        12,
        "2025-10-05T10:20:00Z",
        GEN,
        "fal.ai",
        Some("fal-ai/flux-pro/v1.1"),
        north,
        Some((40_000, USD)),
        Some((50_000, USD)),
        Some("non-commercial (research preview)"),
    ));
    c.log(entry(
        13,
        "2025-10-06T10:20:00Z",
        GEN,
        "ElevenLabs",
        Some("fal-ai/elevenlabs/tts/eleven-v3"),
        north,
        Some((1_050_000, SEK)),
        Some((1_000_000, SEK)),
        Some("commercial (ElevenLabs terms)"),
    ));
    let void = c.log(entry(
        14,
        "2025-10-07T10:20:00Z",
        GEN,
        "fal.ai",
        flux,
        north,
        Some((25_000, USD)),
        None,
        Some(FLUX),
    ));
    c.push(EventBody::EntryVoided(EntryVoided {
        entry_id: void,
        reason: "test render".into(),
    }));
    let retag = c.log(entry(
        15,
        "2025-10-08T10:20:00Z",
        GEN,
        "fal.ai",
        flux,
        north,
        Some((25_000, USD)),
        None,
        Some(FLUX),
    ));
    c.push(EventBody::TagsChanged(TagsChanged {
        entry_id: retag,
        tags: Tags {
            client: Some("Northwind Studios".into()),
            project: Some("Brand Refresh".into()),
            deliverable: Some("Moodboard".into()),
        },
    }));
    c.log(entry(
        16,
        "2025-10-12T07:45:00Z",
        GEN,
        "fal.ai",
        Some("fal-ai/flux/schnell"),
        (None, None, None),
        Some((3_000, USD)),
        None,
        Some("commercial (Apache-2.0)"),
    ));
    c.log(entry(
        17,
        "2025-10-14T18:00:00Z",
        GEN,
        "fal.ai",
        Some("fal-ai/recraft/v3/text-to-image"),
        kite,
        Some((40_000, USD)),
        Some((40_000, USD)),
        Some("commercial (Recraft terms)"),
    ));
    c.events
}

async fn with_events(ledger: &TestLedger, events: &[Event]) -> SqlStore {
    let store = ledger.open_store().await;
    store.append_events(events).await.unwrap();
    store
}

fn golden_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/report.html")
}

/// The flags of the golden report.
fn golden_args(out: &Path) -> Vec<String> {
    [
        "report",
        "html",
        "--currency",
        "EUR",
        "--markup",
        "12.5",
        "--title",
        "Q3 AI costs",
        "--tz",
        "Europe/Stockholm",
        "--generated-at",
        GENERATED_AT,
        "-o",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

fn run_report(ledger: &TestLedger, args: &[String]) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ledger.ok(&args);
    let out = args.last().unwrap();
    std::fs::read_to_string(out).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fixture_ledger_renders_the_golden_file_byte_for_byte() {
    let events = fixture();
    let mut rendered: Vec<(String, String)> = Vec::new();
    for ledger in TestLedger::each() {
        with_events(&ledger, &events).await;
        let out = ledger.dir.path().join("report.html");
        let first = run_report(&ledger, &golden_args(&out));
        // The same ledger and --generated-at: the same bytes.
        let again = run_report(&ledger, &golden_args(&out));
        assert!(first == again, "[{}] two runs differ", ledger.backend);
        rendered.push((ledger.backend.to_string(), first));
    }
    let (_, html) = &rendered[0];
    for (backend, other) in &rendered[1..] {
        assert!(other == html, "[{backend}] differs from SQLite's report");
    }
    let golden = golden_path();
    if std::env::var_os("GENCOST_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, html).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; write it with GENCOST_UPDATE_GOLDEN=1 cargo test --test report_html",
            golden.display()
        )
    });
    if *html != expected {
        let line = html
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| html.lines().count().min(expected.lines().count()));
        panic!(
            "the report differs from {} from line {}:\n  got:      {}\n  expected: {}\n\
             (GENCOST_UPDATE_GOLDEN=1 cargo test --test report_html rewrites it after an intended change)",
            golden.display(),
            line + 1,
            html.lines().nth(line).unwrap_or("(end of file)"),
            expected.lines().nth(line).unwrap_or("(end of file)"),
        );
    }
}

/// Every `src=`, `href=` and `url(...)` of a page, and the page's own CSP.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lower = html.to_lowercase();
    for attr in ["src=", "href=", "url("] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(attr) {
            let start = from + i + attr.len();
            let rest = &html[start..];
            let value: String = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].chars().take_while(|c| *c != q).collect(),
                _ => rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '>' && *c != ')')
                    .collect(),
            };
            found.push(value);
            from = start;
        }
    }
    found
}

#[test]
fn the_golden_file_references_nothing_external() {
    let html = std::fs::read_to_string(golden_path()).expect("the golden file");
    let lower = html.to_lowercase();
    for reference in references(&html) {
        let r = reference.trim().to_lowercase();
        assert!(
            r.starts_with("data:") || r.starts_with('#'),
            "an external reference: {reference}"
        );
    }
    // A scan of the whole file finds no URL at all, and no script.
    for needle in [
        "http://",
        "https://",
        "//cdn",
        "<script",
        "@import",
        "@font-face",
        "<iframe",
        "<img",
    ] {
        assert!(!lower.contains(needle), "the file holds {needle}");
    }
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">"
    ));
    assert!(html.contains("@media print"));
    assert!(html.contains("thead { display: table-header-group; }"));
    // Three charts, inline.
    assert_eq!(html.matches("<svg class=\"chart").count(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_states_scope_period_zone_and_figures() {
    let ledger = TestLedger::sqlite();
    with_events(&ledger, &fixture()).await;
    let out = ledger.dir.path().join("report.html");
    let html = run_report(&ledger, &golden_args(&out));
    for expected in [
        "<h1>Q3 AI costs</h1>",
        "<dt>Client</dt><dd>All clients</dd>",
        "<dt>Period</dt><dd>2025-09-02 to 2025-10-14 (UTC days, both included)</dd>",
        "2025-10-20 10:30:00 (Europe/Stockholm) · 2025-10-20T08:30:00Z",
        "shown in Europe/Stockholm; periods, charts and log months are UTC days",
        // 2025-09-02T09:15Z in Stockholm (summer time).
        "<td>2025-09-02 11:15<td>generation<td>fal.ai<td>fal-ai/flux/dev<td>Acme Beverages<td>Summer Spot<td>Hero 16x9<td>$0.05<td>$0.055<td>billed",
        "By week (UTC days; ISO weeks from Monday), in EUR.",
        "Markup 12.5%",
        "Kite &#38; Co",
        "Vertical 9×16",
        "verify passed",
        "<td>acme/house-model</td><td>unknown</td><td></td><td>not known</td>",
        "<tr><td>USD</td><td>EUR</td>",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    // The void entry is in no part of the report; the failed run is in the
    // log only, marked.
    assert!(!html.contains("test render"));
    assert_eq!(html.matches("<tr class=nc>").count(), 1);
    assert!(html.contains("estimated · not charged (failed)"));
    // The combined KPI equals `gencost total` in the same currency.
    let total = ledger.json(&["total", "--currency", "EUR", "--json"]);
    let shown = gencost::money::format_display(
        gencost::money::parse_amount(total["total"].as_str().unwrap()).unwrap(),
        EUR,
    );
    assert!(
        html.contains(&format!(
            "<h2>Combined total</h2><p class=\"v\">{shown}</p>"
        )),
        "combined total {shown}"
    );
    // Charts: generations by model, then each external source marked as
    // such; entries without a deliverable told apart, not drawn as a bar.
    let chart = |n: usize| {
        html.split("<svg class=\"chart")
            .nth(n)
            .unwrap()
            .split("</svg>")
            .next()
            .unwrap()
    };
    let models = chart(1);
    let labels: Vec<&str> = models
        .split("<title>")
        .skip(1)
        .map(|t| t.split("</title>").next().unwrap())
        .collect();
    let external: Vec<&&str> = labels.iter().filter(|l| l.contains("(external)")).collect();
    assert_eq!(
        external,
        [
            &"Midjourney (external): €24.00",
            &"Runway (monthly plan) (external): €12.79"
        ],
        "{labels:?}"
    );
    // The generations come first and hold no external source.
    assert!(
        labels
            .iter()
            .position(|l| l.contains("(external)"))
            .unwrap()
            >= labels.len() - 2
    );
    assert_eq!(models.matches("class=\"bar ext\"").count(), 2);
    // A long model id wraps onto a second line rather than being cut.
    assert!(models.contains("<tspan x=\"222\" dy=\"14\">text-to-video</tspan>"));
    assert!(!html.contains('…'));
    let deliverables = chart(2);
    assert!(!deliverables.contains("(no deliverable)"), "{deliverables}");
    assert!(html.contains(
        "<p class=\"note untagged\">Not tagged with a deliverable: €36.80 (3 entries)</p>"
    ));
    // Scoped to one client: its name heads the report and the others are gone.
    let scoped = ledger.dir.path().join("acme.html");
    let args: Vec<String> = [
        "report",
        "html",
        "--client",
        "acme beverages",
        "--tz",
        "UTC",
        "-o",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([scoped.display().to_string()])
    .collect();
    let html = run_report(&ledger, &args);
    assert!(html.contains("<h1>AI generation costs — acme beverages</h1>"));
    assert!(!html.contains("Northwind"));
    assert!(html.contains("shown in UTC"));
}

#[tokio::test(flavor = "multi_thread")]
async fn user_text_is_escaped_everywhere_it_appears() {
    for ledger in TestLedger::each() {
        let mut c = Chain::new();
        let evil = (Some(EVIL), Some(EVIL), Some(EVIL));
        c.log(entry(
            1,
            "2025-09-02T09:15:00Z",
            GEN,
            EVIL,
            Some(EVIL),
            evil,
            Some((50_000, USD)),
            Some((90_000, USD)),
            Some(&format!("non-commercial ({EVIL})")),
        ));
        with_events(&ledger, &c.events).await;
        let out = ledger.dir.path().join("evil.html");
        let args: Vec<String> = [
            "report", "html", "--client", EVIL, "--title", EVIL, "--tz", "UTC", "-o",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect();
        let html = run_report(&ledger, &args);
        assert!(
            !html.to_lowercase().contains("<script"),
            "[{}] raw markup",
            ledger.backend
        );
        let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;";
        let svgs: Vec<&str> = html
            .split("<svg")
            .skip(1)
            .map(|s| s.split("</svg>").next().unwrap())
            .collect();
        assert_eq!(svgs.len(), 3);
        // model and deliverable charts: the label (and its tooltip)
        assert!(svgs[0].contains(escaped), "model chart");
        assert!(svgs[1].contains(escaped), "deliverable chart");
        let section = |from: &str, to: &str| -> &str {
            let start = html.find(from).unwrap_or_else(|| panic!("no {from}"));
            let end = html[start..].find(to).map_or(html.len(), |e| start + e);
            &html[start..end]
        };
        for (what, part) in [
            ("title", section("<title>", "</title>")),
            ("heading", section("<h1>", "</h1>")),
            ("header", section("<dl class=\"meta\">", "</dl>")),
            ("invoice", section("<table class=\"inv\">", "</table>")),
            ("accuracy", section("<table class=\"acc\">", "</table>")),
            ("licenses", section("<table class=\"lic\">", "</table>")),
            ("log", section("<table class=\"log\">", "</table>")),
        ] {
            assert!(
                part.contains(escaped),
                "[{}] {what}: {part}",
                ledger.backend
            );
        }
        // Client, project, deliverable, source and model in the log row.
        let log = section("<table class=\"log\">", "</table>");
        assert_eq!(log.matches(escaped).count(), 5, "{log}");
    }
}

async fn gathered(store: SqlStore, markup: Option<&str>) -> gencost::service::report::Report {
    let request = ReportRequest {
        filter: Filter::default(),
        currency: USD,
        title: None,
        markup: markup.map(|m| Markup::parse(m).unwrap()),
        generated_at: Timestamp::parse_rfc3339(GENERATED_AT).unwrap(),
        tz: jiff::tz::TimeZone::UTC,
    };
    report(Arc::new(store), &Catalog::embedded().unwrap(), &request)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_markup_column_adds_up_to_the_markup_line_exactly() {
    for ledger in TestLedger::each() {
        // Three lines of $0.000005 at 10 %: 0.0000005 each, 0.0000015 on the
        // whole, which rounds half to even to 0.000002.
        let mut c = Chain::new();
        for (n, d) in [(1, "A"), (2, "B"), (3, "C")] {
            c.log(entry(
                n,
                "2025-09-02T09:15:00Z",
                GEN,
                "fal.ai",
                Some("m"),
                (Some("X"), Some("P"), Some(d)),
                Some((5, USD)),
                None,
                None,
            ));
        }
        let store = with_events(&ledger, &c.events).await;
        let r = gathered(store, Some("10")).await;
        let lines: Vec<i64> = r.invoice.clients[0].children[0]
            .children
            .iter()
            .map(|l| l.markup)
            .collect();
        assert_eq!(
            lines.iter().sum::<i64>(),
            2,
            "[{}] {lines:?}",
            ledger.backend
        );
        assert_eq!(r.invoice.markup_total, 2);
        assert_eq!(r.invoice.subtotal, 15);
        assert_eq!(r.invoice.total, 17);
        // Shown to the client in cents: $0.000017 rounds to $0.00.
        let html = gencost::report::html::render_html(&r);
        assert!(html.contains("<tr class=\"mk\"><td>Markup 10%</td><td class=\"n\"></td><td class=\"n\"></td><td class=\"n\">$0.00</td>"), "{html}");
        assert!(html.contains("<tr class=\"tot\"><td>Total with markup</td><td class=\"n\"></td><td class=\"n\"></td><td class=\"n\"></td><td class=\"n\">$0.00</td>"));
    }
    // The fixture: every group adds up its children, and the markup is
    // 12.5 % of the subtotal, rounded half to even once.
    let ledger = TestLedger::sqlite();
    let store = with_events(&ledger, &fixture()).await;
    let r = gathered(store, Some("12.5")).await;
    let i = &r.invoice;
    let m = Markup::parse("12.5").unwrap();
    assert_eq!(i128::from(i.markup_total), m.on(i.subtotal));
    assert_eq!(i.total, i.subtotal + i.markup_total);
    assert_eq!(i.subtotal, r.kpis.combined.total);
    fn check(g: &gencost::service::report::InvoiceGroup) {
        if g.children.is_empty() {
            return;
        }
        assert_eq!(g.cost, g.children.iter().map(|c| c.cost).sum::<i64>());
        assert_eq!(g.markup, g.children.iter().map(|c| c.markup).sum::<i64>());
        g.children.iter().for_each(check);
    }
    i.clients.iter().for_each(check);
    assert_eq!(i.subtotal, i.clients.iter().map(|c| c.cost).sum::<i64>());
    assert_eq!(
        i.markup_total,
        i.clients.iter().map(|c| c.markup).sum::<i64>()
    );
}

/// The invoice table's rows as (class, [cost, markup, total]) in cents.
fn invoice_cents(html: &str) -> Vec<(String, Vec<i64>)> {
    let start = html.find("<table class=\"inv\">").expect("the invoice");
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    let cents = |cell: &str| -> i64 {
        let digits: String = cell.chars().filter(|c| c.is_ascii_digit()).collect();
        assert!(
            cell.contains('.') && cell.len() - cell.find('.').unwrap() == 3,
            "{cell}"
        );
        digits.parse().unwrap()
    };
    table
        .split("<tr class=\"")
        .skip(1)
        .map(|row| {
            let class = row[..row.find('"').unwrap()].to_string();
            let cells: Vec<&str> = row
                .split("<td class=\"n\">")
                .skip(2)
                .map(|c| &c[..c.find("</td>").unwrap()])
                .filter(|c| !c.is_empty())
                .collect();
            (class, cells.iter().map(|c| cents(c)).collect())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_invoice_shows_cents_that_add_up() {
    for ledger in TestLedger::each() {
        // Three lines of $0.333333 at 10 %: $0.999999 rounds once to $1.00,
        // so one line shows $0.34; the markup, $0.10 in all, likewise.
        let mut c = Chain::new();
        for (n, d) in [(1, "A"), (2, "B"), (3, "C")] {
            c.log(entry(
                n,
                "2025-09-02T09:15:00Z",
                GEN,
                "fal.ai",
                Some("m"),
                (Some("X"), Some("P"), Some(d)),
                Some((333_333, USD)),
                None,
                None,
            ));
        }
        let store = with_events(&ledger, &c.events).await;
        let r = gathered(store, Some("10")).await;
        assert_eq!((r.invoice.subtotal, r.invoice.total), (999_999, 1_099_999));
        let html = gencost::report::html::render_html(&r);
        let rows = invoice_cents(&html);
        let expected: Vec<(String, Vec<i64>)> = [
            ("l1", vec![100, 10, 110]),
            ("l2", vec![100, 10, 110]),
            ("l3", vec![34, 4, 38]),
            ("l3", vec![33, 3, 36]),
            ("l3", vec![33, 3, 36]),
            ("sub", vec![100, 10, 110]),
            ("mk", vec![10, 10]),
            ("tot", vec![110]),
        ]
        .into_iter()
        .map(|(c, v)| (c.to_string(), v))
        .collect();
        assert_eq!(rows, expected, "[{}]", ledger.backend);
        assert!(html.contains("the lines are rounded so that they add up to them exactly"));
        // The log keeps the exact figures.
        assert!(html.contains("<td>$0.333333<td>"), "{html}");
    }
    // The golden report (EUR, 12.5 %): every group and the subtotal are the
    // sums of their rounded lines, and each row's total is cost + markup.
    let golden = std::fs::read_to_string(golden_path()).unwrap();
    let rows = invoice_cents(&golden);
    let (mut clients, mut lines) = (vec![0i64; 3], vec![0i64; 3]);
    let mut projects: Vec<(Vec<i64>, Vec<i64>)> = Vec::new();
    for (class, v) in &rows {
        match class.as_str() {
            "l1" | "l2" | "l3" | "sub" => assert_eq!(v[0] + v[1], v[2], "{class} {v:?}"),
            _ => {}
        }
        match class.as_str() {
            "l1" => (0..3).for_each(|i| clients[i] += v[i]),
            "l2" => projects.push((v.clone(), vec![0; 3])),
            "l3" => {
                let p = projects.last_mut().unwrap();
                (0..3).for_each(|i| {
                    p.1[i] += v[i];
                    lines[i] += v[i];
                });
            }
            "sub" => {
                assert_eq!(&clients, v);
                assert_eq!(&lines, v);
            }
            _ => {}
        }
    }
    for (project, sum) in projects {
        assert_eq!(project, sum);
    }
    let tot = rows.iter().find(|(c, _)| c == "tot").expect("a total line");
    assert_eq!(tot.1[0], lines[2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn estimate_accuracy_counts_zero_actuals_apart_and_highlights_misses() {
    for ledger in TestLedger::each() {
        let store = with_events(&ledger, &fixture()).await;
        let r = gathered(store, None).await;
        let model = |name: &str| {
            r.accuracy
                .models
                .iter()
                .find(|m| m.model == name)
                .unwrap_or_else(|| panic!("no {name}"))
                .clone()
        };
        // flux/dev: 0.05 vs 0.055 (9.0909 %), 0.025 vs 0 (apart), and the
        // cancelled-but-charged 0.025 vs 0.02 (25 %).
        let flux = model("fal-ai/flux/dev");
        assert_eq!(
            (
                flux.confirmed,
                flux.compared,
                flux.zero_actuals,
                flux.no_estimate
            ),
            (3, 2, 1, 0)
        );
        assert_eq!((flux.estimated, flux.actual), (75_000, 75_000));
        // (9.090909 % + 25 %) / 2 in millionths of a percent
        assert_eq!(flux.mean_abs_pct, Some(17_045_454));
        assert_eq!(flux.over_threshold, 1);
        assert!(flux.is_off());
        // veo3: 3.20 vs 4.00 = 20 %
        let veo = model("fal-ai/veo3");
        assert_eq!(veo.mean_abs_pct, Some(20_000_000));
        // kling: exactly on the estimate
        let kling = model("fal-ai/kling-video/v2/master/text-to-video");
        assert_eq!(kling.mean_abs_pct, Some(0));
        assert!(!kling.is_off());
        // ElevenLabs in SEK: 1.05 vs 1.00 = 5 %, not highlighted
        let tts = model("fal-ai/elevenlabs/tts/eleven-v3");
        assert_eq!(tts.mean_abs_pct, Some(5_000_000));
        assert!(!tts.is_off());
        // An actual without an estimate is counted apart.
        let house = model("acme/house-model");
        assert_eq!(
            (house.confirmed, house.compared, house.no_estimate),
            (1, 0, 1)
        );
        assert_eq!(house.mean_abs_pct, None);
        assert_eq!(r.accuracy.all.zero_actuals, 1);
        assert_eq!(r.accuracy.all.no_estimate, 1);
        let html = gencost::report::html::render_html(&r);
        assert!(html.contains("<tr class=\"off\"><td>fal-ai/flux/dev</td>"));
        assert!(html.contains("<td class=\"n d\">17.05%</td>"));
        assert!(html.contains("<tr class=\"\"><td>fal-ai/elevenlabs/tts/eleven-v3</td>"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn non_commercial_and_unknown_licenses_are_flagged() {
    for ledger in TestLedger::each() {
        let store = with_events(&ledger, &fixture()).await;
        let r = gathered(store, None).await;
        let flagged: Vec<(&str, &str)> = r
            .licenses
            .iter()
            .filter(|l| l.flagged())
            .map(|l| (l.model.as_str(), l.status.as_str()))
            .collect();
        assert_eq!(
            flagged,
            [
                ("acme/house-model", "unknown"),
                ("fal-ai/flux-pro/v1.1", "non-commercial"),
                ("fal-ai/veo3", "unknown")
            ]
        );
        let html = gencost::report::html::render_html(&r);
        assert!(html.contains("<tr class=\"flag\"><td>fal-ai/flux-pro/v1.1</td><td>non-commercial</td><td>research preview</td><td>recorded when logged</td><td class=\"n\">1</td><td class=\"f\">⚠ non-commercial use only</td></tr>"));
        assert!(html.contains("<tr class=\"\"><td>fal-ai/flux/schnell</td><td>commercial</td>"));
        assert!(html.contains("3 of the models used here are not under a known commercial license"));
    }
}

#[test]
fn bad_input_is_refused_with_a_clear_message_and_nothing_written() {
    let ledger = TestLedger::sqlite();
    ledger.ok(&["log", "--model", "m", "--cost", "1", "--at", "2025-09-02"]);
    let dir = ledger.dir.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let out = dir.join("r.html");
    let out_text = out.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--currency", "XYZ"],
            "--currency: unknown currency code 'XYZ'",
        ),
        (
            vec!["--generated-at", "yesterday"],
            "--generated-at: malformed time 'yesterday'",
        ),
        (
            vec!["--generated-at", "2025-10-20"],
            "--generated-at: malformed time",
        ),
        (
            vec!["--tz", "Mars/Olympus"],
            "--tz: unknown time zone 'Mars/Olympus'",
        ),
        (vec!["--markup", "-5"], "--markup: '-5' is negative"),
        (
            vec!["--markup", "5000"],
            "--markup: '5000' percent is more than 1000 percent",
        ),
        (
            vec!["--markup", "ten"],
            "--markup: 'ten' is not a percentage",
        ),
        (vec!["--since", "last week"], "--since: malformed time"),
        (
            vec!["--title", "two\nlines"],
            "--title: holds a control character",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["report", "html"];
        args.extend(flags.iter());
        args.extend(["-o", out_text.as_str()]);
        let run = ledger.run(&args);
        assert_eq!(run.code, 2, "{flags:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{flags:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "{flags:?} wrote a file"
        );
    }
    // An output that cannot be written: a missing directory, a directory.
    let missing = ledger.dir.path().join("no/such/dir/r.html");
    let run = ledger.run(&["report", "html", "-o", &missing.display().to_string()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot write there"), "{}", run.stderr);
    assert!(!ledger.dir.path().join("no").exists());
    let run = ledger.run(&["report", "html", "-o", &dir.display().to_string()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is a directory"), "{}", run.stderr);
    // A missing ledger: an error, and no file.
    let run = common::run_with(
        &format!(
            "sqlite://{}",
            ledger.dir.path().join("missing.db").display()
        ),
        &ledger.config_dir(),
        ledger.dir.path(),
        &["report", "html", "-o", &out_text],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    // And the same flags, well formed, write the file.
    ledger.ok(&[
        "report", "html", "--markup", "0", "--tz", "UTC", "-o", &out_text,
    ]);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_opens_the_report_offline_without_errors_and_draws_the_charts() {
    let Some((chromium, driver_path)) = browser() else {
        return;
    };
    let ledger = TestLedger::sqlite();
    with_events(&ledger, &fixture()).await;
    let out = ledger.dir.path().join("report.html");
    run_report(&ledger, &golden_args(&out));
    let driver = Driver::start(&driver_path);
    let profile = tempfile::tempdir().unwrap();
    let client = session(
        &chromium,
        &driver,
        profile.path(),
        (1100, 1400),
        Network::Off,
    )
    .await;
    let (session, file) = (client.clone(), out.clone());
    let checked = async move {
        let page = url::Url::from_file_path(&file).unwrap();
        // What the browser did before the page (its start page) is read
        // off the logs first, so they hold only the report's load.
        session.goto("about:blank").await.unwrap();
        session.issue_cmd(Log("browser")).await.unwrap();
        session.issue_cmd(Log("performance")).await.unwrap();
        session.goto(page.as_str()).await.unwrap();
        let sizes = session
            .execute(
                "return Array.from(document.querySelectorAll('svg.chart')).map(s => { \
                   const r = s.getBoundingClientRect(); return [r.width, r.height]; })",
                vec![],
            )
            .await
            .unwrap();
        let sizes: Vec<(f64, f64)> = serde_json::from_value(sizes).unwrap();
        assert_eq!(sizes.len(), 3, "{sizes:?}");
        for (w, h) in &sizes {
            assert!(*w > 100.0 && *h > 50.0, "a chart of {w} × {h} px");
        }
        // The page loaded nothing besides itself.
        let resources = session
            .execute(
                "return performance.getEntriesByType('resource').map(r => r.name)",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(resources, serde_json::json!([]));
        let title = session.title().await.unwrap();
        assert_eq!(title, "Q3 AI costs");
        // Console: no errors (a blocked request or a CSP violation is one).
        let console = session.issue_cmd(Log("browser")).await.unwrap();
        let errors: Vec<&serde_json::Value> = console
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["level"] != "INFO" && e["level"] != "DEBUG")
            .collect();
        assert!(errors.is_empty(), "console: {errors:?}");
        // Network: every request was for the file itself, and none failed.
        let performance = session.issue_cmd(Log("performance")).await.unwrap();
        let mut requests = Vec::new();
        for entry in performance.as_array().unwrap() {
            let message: serde_json::Value =
                serde_json::from_str(entry["message"].as_str().unwrap_or("{}")).unwrap();
            let method = message["message"]["method"].as_str().unwrap_or("");
            assert_ne!(
                method, "Network.loadingFailed",
                "a failed request: {message}"
            );
            if method == "Network.requestWillBeSent" {
                requests.push(message["message"]["params"]["request"]["url"].clone());
            }
        }
        assert_eq!(requests, [serde_json::json!(page.as_str())], "requests");
        let png = session.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_html.png");
        std::fs::write(&shot, png).unwrap();
        eprintln!("screenshot: {}", shot.display());
    };
    // The session ends whatever the checks found.
    let outcome = tokio::spawn(checked).await;
    let _ = client.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

/// The golden fixture's report opened in headless Chromium `size` px wide;
/// `check` runs on it and the session ends whatever it found.
async fn in_chromium<F, Fut>(size: (u32, u32), check: F)
where
    F: FnOnce(fantoccini::Client) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some((chromium, driver_path)) = browser() else {
        return;
    };
    let ledger = TestLedger::sqlite();
    with_events(&ledger, &fixture()).await;
    let out = ledger.dir.path().join("report.html");
    run_report(&ledger, &golden_args(&out));
    let driver = Driver::start(&driver_path);
    let profile = tempfile::tempdir().unwrap();
    let client = session(&chromium, &driver, profile.path(), size, Network::Off).await;
    let page = url::Url::from_file_path(&out).unwrap();
    client.goto(page.as_str()).await.unwrap();
    let outcome = tokio::spawn(check(client.clone())).await;
    let _ = client.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn axe_core_finds_no_violations_in_the_report() {
    in_chromium((1100, 1400), |page| async move {
        let Some(found) = axe_violations(&page).await else {
            return;
        };
        assert_eq!(found, serde_json::json!([]), "axe-core on the report");
        // With every month of the log open too.
        page.execute(
            "document.querySelectorAll('details').forEach(d => d.open = true)",
            vec![],
        )
        .await
        .unwrap();
        let found = axe_violations(&page).await.unwrap();
        assert_eq!(found, serde_json::json!([]), "axe-core, the log open");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_invoice_fits_a_360_px_window_scrolling_within_its_box() {
    in_chromium((360, 800), |page| async move {
        // Headless Chromium keeps its window at least 500 px wide or so:
        // the page is given 360 px by emulation instead.
        emulate_viewport(&page, (360, 800)).await;
        let js = |script: &'static str| {
            let page = page.clone();
            async move { page.execute(script, vec![]).await.unwrap() }
        };
        // Chromium's window is wider than its viewport by its frame: read
        // the viewport the page got.
        let viewport = js("return document.documentElement.clientWidth").await;
        let viewport = viewport.as_f64().unwrap();
        // (360 px less a scroll bar's width)
        assert!((300.0..=360.0).contains(&viewport), "{viewport}");
        // The page itself does not scroll sideways.
        let page_width = js("return document.documentElement.scrollWidth").await;
        let wide = js("return Array.from(document.querySelectorAll('body *')) \
            .filter(e => (e.getBoundingClientRect().right > document.documentElement.clientWidth \
                || e.scrollWidth > e.clientWidth + 1) && !(e.parentElement && e.parentElement.closest('.scroll'))) \
            .map(e => e.tagName + ' ' + e.getAttribute('class'))").await;
        assert!(
            page_width.as_f64().unwrap() <= viewport,
            "the page is {page_width} px wide in a {viewport} px window: {wide}"
        );
        // The invoice's box fits the window, and the table, wider than
        // it, scrolls inside it.
        let sizes = js(
            "const box = document.querySelector('.scroll:has(> table.inv)'); \
             const r = box.getBoundingClientRect(); \
             return [r.left, r.right, box.scrollWidth, box.clientWidth, getComputedStyle(box).overflowX]",
        )
        .await;
        let (left, right, scroll, client, overflow): (f64, f64, f64, f64, String) =
            serde_json::from_value(sizes).unwrap();
        assert!(left >= 0.0 && right <= viewport, "the box spans {left}..{right}");
        assert!(scroll >= client, "{scroll} {client}");
        assert_eq!(overflow, "auto");
        // A screen reader can reach the box with the keyboard.
        let focusable = js(
            "const box = document.querySelector('.scroll:has(> table.inv)'); \
             return [box.tabIndex, box.getAttribute('role'), box.getAttribute('aria-label')]",
        )
        .await;
        assert_eq!(focusable, serde_json::json!([0, "region", "Invoice summary"]));
        js("document.querySelector('table.inv').scrollIntoView()").await;
        let png = page.screenshot().await.unwrap();
        let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_html_360.png");
        std::fs::write(&shot, png).unwrap();
    })
    .await;
}

#[test]
fn an_empty_ledger_and_a_tampered_one_still_get_an_honest_report() {
    for ledger in TestLedger::each() {
        let out = ledger.dir.path().join("empty.html");
        let out_text = out.display().to_string();
        // The first command on a fresh ledger creates it.
        ledger.ok(&["db", "migrate"]);
        let html = run_report(
            &ledger,
            &[
                "report",
                "html",
                "--tz",
                "UTC",
                "--generated-at",
                GENERATED_AT,
                "-o",
                &out_text,
            ]
            .map(str::to_string),
        );
        assert!(html.contains("<dt>Period</dt><dd>no entries</dd>"));
        assert!(html.contains("<p class=\"note\">No entries.</p>"));
        assert!(html.contains("Generated from the tracked ledger: 0 events; verify passed"));
        // An entry edited behind gencost's back: the badge says verify failed.
        ledger.ok(&["log", "--model", "m", "--cost", "1", "--at", "2025-09-02"]);
        common::exec_sql(&ledger.url, "UPDATE entries SET cost_micros = 2000000");
        let run = ledger.run(&["report", "html", "--tz", "UTC", "-o", &out_text]);
        assert_eq!(run.code, 0, "[{}] {}", ledger.backend, run.stderr);
        assert!(
            run.stderr.contains("warning: verify found a problem"),
            "{}",
            run.stderr
        );
        let html = std::fs::read_to_string(&out).unwrap();
        assert!(html.contains("<div class=\"badge bad\" role=\"status\"><p>Generated from the tracked ledger: 1 event; verify FAILED</p>"));
        assert!(html.contains("<dt>Problem found</dt>"));
    }
}
