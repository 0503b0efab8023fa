//! The report as one self-contained HTML file: inline CSS and SVG, a
//! Content-Security-Policy that allows nothing external, no script, no web
//! fonts. Every piece of user text goes through askama's HTML escaping (or
//! the SVG writer's). The same `Report` and the same time zone always give
//! the same bytes.

use super::rounding::{round_invoice, RoundedGroup, RoundedInvoice};
use super::svg::{self, Bar};
use crate::ledger::{Kind, Status, Tier};
use crate::money::{display_unit, div_round_half_even, format_display, format_exact, Currency};
use crate::pricing::LicenseStatus;
use crate::service::report::{
    InvoiceGroup, LicenseOrigin, LogMonth, LogRow, ModelAccuracy, Report, Sum, ACCURACY_THRESHOLD,
};
use crate::timestamp::{day_label, Timestamp};
use askama::Template;
use std::io;

/// The most bars a breakdown draws; the rest are added up in one bar.
const MAX_BARS: usize = 12;

/// Months are shown open when the whole log has at most this many rows;
/// longer logs start collapsed, each month a click away.
const OPEN_LOG_ROWS: usize = 500;

/// Writes the report's HTML to `out`.
pub fn write_html(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    Page::new(report).write_into(out)
}

/// The report's HTML as a string.
pub fn render_html(report: &Report) -> String {
    let mut out = Vec::new();
    // Writing into memory cannot fail.
    let _ = write_html(report, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    title: &'a str,
    meta: Vec<(&'static str, String)>,
    kpis: Vec<Kpi>,
    model_chart: String,
    deliverable_chart: String,
    /// The cost of entries without a deliverable, told apart from its chart.
    untagged: Option<String>,
    time_chart: String,
    time_caption: String,
    invoice: Vec<InvoiceRow>,
    invoice_foot: Vec<InvoiceRow>,
    rounding_note: String,
    markup: Option<String>,
    accuracy: Vec<AccuracyRow>,
    accuracy_all: Option<AccuracyRow>,
    threshold: String,
    badge: Badge,
    /// The signed checkpoint as JSON, for `verify --checkpoint REPORT`.
    checkpoint_json: Option<String>,
    licenses: Vec<LicenseRow>,
    flagged_licenses: usize,
    months: &'a [LogMonth],
    log_rows: usize,
    open_months: bool,
    rates: Vec<[String; 4]>,
    unconverted: Vec<String>,
    stale: Option<String>,
    currency: Currency,
    tz: &'a jiff::tz::TimeZone,
    zone: String,
}

struct Kpi {
    label: &'static str,
    value: String,
    notes: Vec<String>,
    class: &'static str,
}

struct InvoiceRow {
    class: &'static str,
    name: String,
    count: String,
    cost: String,
    markup: String,
    total: String,
}

struct AccuracyRow {
    class: &'static str,
    model: String,
    confirmed: String,
    compared: String,
    estimated: String,
    actual: String,
    difference: String,
    over: String,
    zero: String,
    no_estimate: String,
}

struct Badge {
    class: &'static str,
    headline: String,
    details: Vec<(&'static str, String)>,
}

struct LicenseRow {
    class: &'static str,
    model: String,
    status: &'static str,
    name: String,
    origin: &'static str,
    entries: String,
    flag: &'static str,
}

/// One log row's cells, escaped by the template.
struct Cells {
    class: &'static str,
    time: String,
    kind: &'static str,
    source: String,
    model: String,
    client: String,
    project: String,
    deliverable: String,
    estimate: String,
    actual: String,
    tier: String,
}

impl<'a> Page<'a> {
    fn new(r: &'a Report) -> Page<'a> {
        let c = r.currency;
        let log_rows = r.log.iter().map(|m| m.rows.len()).sum();
        let rounded = round_invoice(&r.invoice, c);
        Page {
            title: &r.title,
            meta: meta(r),
            kpis: kpis(r),
            model_chart: model_chart(r),
            deliverable_chart: bar_chart(
                "Cost by deliverable",
                r.by_deliverable
                    .iter()
                    .filter_map(|l| Some((l.key.clone()?, l.sum))),
                ("other deliverable", "other deliverables"),
                c,
            ),
            untagged: r.by_deliverable.iter().find(|l| l.key.is_none()).map(|l| {
                format!(
                    "Not tagged with a deliverable: {} ({})",
                    sum_text(&l.sum, c),
                    plural(l.sum.count, "entry", "entries")
                )
            }),
            time_chart: time_chart(r),
            time_caption: format!(
                "By {} (UTC days{}), in {c}.",
                r.over_time.bucket.as_str(),
                if r.over_time.bucket.as_str() == "week" {
                    "; ISO weeks from Monday"
                } else {
                    ""
                }
            ),
            invoice: invoice_rows(r, &rounded),
            invoice_foot: invoice_foot(r, &rounded),
            rounding_note: rounding_note(c),
            markup: r.invoice.markup.map(|m| m.to_string()),
            accuracy: r
                .accuracy
                .models
                .iter()
                .map(|m| accuracy_row(m, c, false))
                .collect(),
            accuracy_all: (!r.accuracy.models.is_empty())
                .then(|| accuracy_row(&r.accuracy.all, c, true)),
            threshold: percent(ACCURACY_THRESHOLD),
            badge: badge(r),
            checkpoint_json: r.compliance.checkpoint.as_ref().map(|c| {
                // A data block: `<` escaped so it can never close the element.
                serde_json::to_string(c)
                    .unwrap_or_default()
                    .replace('<', "\\u003c")
            }),
            licenses: license_rows(r),
            flagged_licenses: r.licenses.iter().filter(|l| l.flagged()).count(),
            months: &r.log,
            log_rows,
            open_months: log_rows <= OPEN_LOG_ROWS,
            rates: r
                .rates
                .iter()
                .map(|u| {
                    [
                        u.from.code().to_string(),
                        u.to.code().to_string(),
                        u.rate.clone(),
                        u.date.clone(),
                    ]
                })
                .collect(),
            unconverted: r
                .unconverted
                .iter()
                .map(|u| {
                    format!(
                        "{} in {} of {} ({}): {}",
                        format_exact(u.amount, u.currency),
                        plural(u.entries, "entry", "entries"),
                        u.day,
                        u.currency,
                        u.reason
                    )
                })
                .collect(),
            stale: r.stale.as_ref().map(|s| stale_warning(s, &r.stale_days)),
            currency: c,
            tz: &r.tz,
            zone: zone_name(&r.tz),
        }
    }

    fn month_summary(&self, m: &LogMonth) -> String {
        format!(
            "{} · {} · {}",
            m.label,
            plural(m.rows.len() as i64, "entry", "entries"),
            sum_text(&m.sum, self.currency)
        )
    }

    fn cells(&self, row: &LogRow) -> Cells {
        let dash = |t: &Option<std::sync::Arc<str>>| t.as_deref().unwrap_or("").to_string();
        let estimate = match row.estimate.micros {
            Some(m) => format_exact(m, row.estimate.currency),
            None => "No price".to_string(),
        };
        let mut tier = row.tier.as_str().to_string();
        if row.status != Status::Succeeded {
            tier.push_str(if row.charged {
                " · charged"
            } else {
                " · not charged"
            });
            tier = format!("{} ({})", tier, row.status.as_str());
        }
        Cells {
            class: match (row.charged, row.tier) {
                (false, _) => " class=nc",
                (true, Tier::Unpriced) => " class=np",
                _ => "",
            },
            time: local_minute(row.occurred_at, self.tz),
            kind: kind_label(row.kind),
            source: row.source.to_string(),
            model: dash(&row.model),
            client: dash(&row.client),
            project: dash(&row.project),
            deliverable: dash(&row.deliverable),
            estimate,
            actual: row
                .actual
                .map(|a| format_exact(a.micros, a.currency))
                .unwrap_or_default(),
            tier,
        }
    }
}

/// The warning when some amounts were converted at rates much older than
/// they are: which days, how old, and the command that fixes it.
fn stale_warning(s: &crate::fx::Stale, days: &[i64]) -> String {
    format!(
        "Amounts of {} were converted at exchange rates more than {} days older than they are \
         (the oldest of {}), because this ledger has no ECB rates for {}. \
         Fetch them with “gencost rates update” (or import ECB's file with “gencost rates import FILE”), \
         then make this report again.",
        day_ranges(days),
        crate::fx::STALE_AFTER_DAYS,
        s.rate_date,
        if days.len() == 1 { "that day" } else { "those days" },
    )
}

/// `2026-12-01 to 2026-12-04, 2026-12-07`: days, runs of consecutive ones
/// joined.
fn day_ranges(days: &[i64]) -> String {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &d in days {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == d => *end = d,
            _ => runs.push((d, d)),
        }
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|&(a, b)| match b - a {
            0 => day_label(a),
            1 => format!("{}, {}", day_label(a), day_label(b)),
            _ => format!("{} to {}", day_label(a), day_label(b)),
        })
        .collect();
    parts.join(", ")
}

fn kind_label(kind: Kind) -> &'static str {
    kind.as_str()
}

/// A tag's text, or what to call its absence.
fn name(key: &Option<String>, none: &str) -> String {
    key.clone().unwrap_or_else(|| none.to_string())
}

/// `$12.34`, `$12.34 + 3 unpriced`, or `No price` when nothing was priced.
fn sum_text(sum: &Sum, currency: Currency) -> String {
    if sum.count > 0 && sum.unpriced == sum.count {
        return "No price".to_string();
    }
    let total = format_display(sum.total, currency);
    match sum.unpriced {
        0 => total,
        n => format!("{total} + {n} unpriced"),
    }
}

fn meta(r: &Report) -> Vec<(&'static str, String)> {
    let f = &r.filter;
    let all = |t: &Option<String>, everything: &str| {
        t.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map_or_else(|| everything.to_string(), str::to_string)
    };
    let mut meta = vec![
        ("Client", all(&f.client, "All clients")),
        ("Project", all(&f.project, "All projects")),
    ];
    if f.deliverable.is_some() {
        meta.push(("Deliverable", all(&f.deliverable, "")));
    }
    if let Some(kind) = f.kind {
        meta.push(("Kind", kind.as_str().to_string()));
    }
    if f.model.is_some() {
        meta.push(("Model", all(&f.model, "")));
    }
    let period = match r.period {
        Some((first, last)) => format!(
            "{} to {} (UTC days, both included)",
            day_label(first),
            day_label(last)
        ),
        None => "no entries".to_string(),
    };
    meta.push(("Period", period));
    meta.push((
        "Currency",
        format!(
            "{} — amounts in other currencies converted at the ECB reference rate of their own day",
            r.currency
        ),
    ));
    meta.push((
        "Generated",
        format!(
            "{} ({}) · {}",
            local_second(r.generated_at, &r.tz),
            zone_name(&r.tz),
            r.generated_at
        ),
    ));
    meta.push((
        "Times",
        format!(
            "shown in {}; periods, charts and log months are UTC days",
            zone_name(&r.tz)
        ),
    ));
    meta
}

fn kpis(r: &Report) -> Vec<Kpi> {
    let c = r.currency;
    let k = &r.kpis;
    let unpriced_note = |s: &Sum| {
        (s.unpriced > 0).then(|| {
            format!(
                "{} without a price, not included",
                plural(s.unpriced, "entry", "entries")
            )
        })
    };
    let mut internal = vec![plural(k.internal.count, "generation", "generations")];
    internal.extend(unpriced_note(&k.internal));
    let mut external = vec![format!(
        "imported {} · pool shares {}",
        format_display(k.imported.total, c),
        format_display(k.pool.total, c)
    )];
    external.extend(unpriced_note(&k.external));
    let mut combined = vec![plural(k.combined.count, "entry", "entries")];
    combined.extend(unpriced_note(&k.combined));
    let mut generations = Vec::new();
    if k.internal.unpriced > 0 {
        generations.push(format!(
            "{} unpriced: no price known, shown as “No price”, never as 0",
            k.internal.unpriced
        ));
    }
    if k.not_charged > 0 {
        generations.push(format!(
            "{} failed or cancelled, not charged (in the log, in no total)",
            k.not_charged
        ));
    }
    vec![
        Kpi {
            label: "Internal AI cost",
            value: format_display(k.internal.total, c),
            notes: internal,
            class: "",
        },
        Kpi {
            label: "External AI cost",
            value: format_display(k.external.total, c),
            notes: external,
            class: "",
        },
        Kpi {
            label: "Combined total",
            value: format_display(k.combined.total, c),
            notes: combined,
            class: " total",
        },
        Kpi {
            label: "Generations",
            value: count(k.internal.count),
            notes: generations,
            class: if k.internal.unpriced > 0 { " warn" } else { "" },
        },
    ]
}

/// Generations by model, then external costs by source, marked external.
fn model_chart(r: &Report) -> String {
    let c = r.currency;
    let mut bars = bars(
        r.by_model
            .iter()
            .map(|l| (name(&l.key, "(no model)"), l.sum)),
        ("other model", "other models"),
        c,
    );
    bars.extend(
        self::bars(
            r.by_external
                .iter()
                .map(|l| (name(&l.key, "(no source)"), l.sum)),
            ("other external source", "other external sources"),
            c,
        )
        .into_iter()
        .map(|b| Bar {
            label: format!("{} (external)", b.label),
            external: true,
            ..b
        }),
    );
    if bars.is_empty() {
        return String::new();
    }
    svg::bar_chart("Cost by model, and external costs by source", &bars, c)
}

fn bar_chart(
    label: &str,
    lines: impl Iterator<Item = (String, Sum)>,
    others: (&str, &str),
    c: Currency,
) -> String {
    let bars = bars(lines, others, c);
    if bars.is_empty() {
        return String::new();
    }
    svg::bar_chart(label, &bars, c)
}

/// The `MAX_BARS` largest lines, and one bar adding up the rest.
fn bars(
    lines: impl Iterator<Item = (String, Sum)>,
    (one, many): (&str, &str),
    c: Currency,
) -> Vec<Bar> {
    let lines: Vec<(String, Sum)> = lines.collect();
    let mut bars: Vec<Bar> = lines
        .iter()
        .take(MAX_BARS)
        .map(|(name, sum)| Bar {
            label: name.clone(),
            micros: sum.total,
            value: sum_text(sum, c),
            external: false,
        })
        .collect();
    if lines.len() > MAX_BARS {
        let rest = &lines[MAX_BARS..];
        let mut sum = Sum::default();
        for (_, s) in rest {
            sum.total = sum.total.saturating_add(s.total);
            sum.count += s.count;
            sum.unpriced += s.unpriced;
        }
        let n = rest.len();
        bars.push(Bar {
            label: format!("{n} {}", if n == 1 { one } else { many }),
            micros: sum.total,
            value: sum_text(&sum, c),
            external: false,
        });
    }
    bars
}

fn time_chart(r: &Report) -> String {
    if r.over_time.points.is_empty() {
        return String::new();
    }
    let points: Vec<svg::Point> = r
        .over_time
        .points
        .iter()
        .map(|p| svg::Point {
            label: p.label.clone(),
            micros: p.sum.total,
            value: sum_text(&p.sum, r.currency),
        })
        .collect();
    svg::line_chart(
        &format!("Cost over time, by {}", r.over_time.bucket.as_str()),
        &points,
        r.currency,
    )
}

fn invoice_rows(r: &Report, rounded: &RoundedInvoice) -> Vec<InvoiceRow> {
    let c = r.currency;
    let mut rows = Vec::new();
    let row =
        |class: &'static str, g: &InvoiceGroup, shown: &RoundedGroup, none: &str| InvoiceRow {
            class,
            name: name(&g.name, none),
            count: if g.unpriced > 0 {
                format!("{} ({} unpriced)", count(g.count), count(g.unpriced))
            } else {
                count(g.count)
            },
            cost: format_rounded(shown.cost, c),
            markup: format_rounded(shown.markup, c),
            total: format_rounded(shown.total(), c),
        };
    for (client, rc) in r.invoice.clients.iter().zip(&rounded.clients) {
        rows.push(row("l1", client, rc, "(no client)"));
        for (project, rp) in client.children.iter().zip(&rc.children) {
            rows.push(row("l2", project, rp, "(no project)"));
            for (deliverable, rd) in project.children.iter().zip(&rp.children) {
                rows.push(row("l3", deliverable, rd, "(no deliverable)"));
            }
        }
    }
    rows
}

fn invoice_foot(r: &Report, rounded: &RoundedInvoice) -> Vec<InvoiceRow> {
    let c = r.currency;
    let i = &r.invoice;
    let mut rows = vec![InvoiceRow {
        class: "sub",
        name: "Subtotal".into(),
        count: count(i.count),
        cost: format_rounded(rounded.subtotal, c),
        markup: format_rounded(rounded.markup_total, c),
        total: format_rounded(rounded.total, c),
    }];
    if let Some(m) = i.markup {
        rows.push(InvoiceRow {
            class: "mk",
            name: format!("Markup {m}"),
            count: String::new(),
            cost: String::new(),
            markup: format_rounded(rounded.markup_total, c),
            total: format_rounded(rounded.markup_total, c),
        });
        rows.push(InvoiceRow {
            class: "tot",
            name: "Total with markup".into(),
            count: String::new(),
            cost: String::new(),
            markup: String::new(),
            total: format_rounded(rounded.total, c),
        });
    }
    rows
}

/// An amount already rounded to display decimals, shown at them (never the
/// two significant digits `format_display` gives a tiny non-zero total).
fn format_rounded(micros: i64, c: Currency) -> String {
    format_exact(micros, c)
}

/// The line under the invoice saying how its figures are rounded.
fn rounding_note(c: Currency) -> String {
    let step = format_exact(display_unit(c), c);
    format!(
        "Amounts are rounded to {step}: the subtotal and the total are each rounded once, \
         the lines are rounded so that they add up to them exactly (largest remainder), \
         and each client and project is the sum of its rounded lines. The log keeps the exact figures."
    )
}

/// Millionths of a percent with two decimals: `12.35%`.
fn percent(micro_percent: i64) -> String {
    let hundredths = div_round_half_even(i128::from(micro_percent), 10_000);
    format!("{}.{:02}%", hundredths / 100, (hundredths % 100).abs())
}

fn accuracy_row(m: &ModelAccuracy, c: Currency, all: bool) -> AccuracyRow {
    AccuracyRow {
        class: match (all, m.is_off()) {
            (true, true) => "all off",
            (true, false) => "all",
            (false, true) => "off",
            (false, false) => "",
        },
        model: m.model.clone(),
        confirmed: count(m.confirmed),
        compared: count(m.compared),
        estimated: if m.compared > 0 {
            format_display(m.estimated, c)
        } else {
            String::new()
        },
        actual: if m.compared > 0 {
            format_display(m.actual, c)
        } else {
            String::new()
        },
        difference: m.mean_abs_pct.map(percent).unwrap_or_default(),
        over: count(m.over_threshold),
        zero: count(m.zero_actuals),
        no_estimate: count(m.no_estimate),
    }
}

fn badge(r: &Report) -> Badge {
    let v = &r.compliance;
    let checked = format!(
        "{} ({})",
        local_second(v.checked_at, &r.tz),
        zone_name(&r.tz)
    );
    let mut details = vec![
        ("Events in the chain", count(v.events)),
        ("Entries in the ledger", count(v.entries)),
        (
            "Head hash",
            v.head.clone().unwrap_or_else(|| "(empty ledger)".into()),
        ),
        (
            "Full check",
            format!("verify ran on every event at {checked}"),
        ),
    ];
    if let Some(checkpoint) = &v.checkpoint {
        details.push((
            "Signed checkpoint",
            format!(
                "position {} signed {} by key {} (check: gencost verify --checkpoint THIS-FILE)",
                checkpoint.head.position, checkpoint.head.time, checkpoint.public_key
            ),
        ));
    }
    match &v.problem {
        None => Badge {
            class: "ok",
            headline: format!(
                "Generated from the tracked ledger: {}; verify passed",
                plural(v.events, "event", "events")
            ),
            details,
        },
        Some(problem) => {
            details.push(("Problem found", problem.clone()));
            Badge {
                class: "bad",
                headline: format!(
                    "Generated from the tracked ledger: {}; verify FAILED",
                    plural(v.events, "event", "events")
                ),
                details,
            }
        }
    }
}

fn license_rows(r: &Report) -> Vec<LicenseRow> {
    r.licenses
        .iter()
        .map(|l| LicenseRow {
            class: if l.flagged() { "flag" } else { "" },
            model: l.model.clone(),
            status: l.status.as_str(),
            name: l.name.clone().unwrap_or_default(),
            origin: match l.origin {
                LicenseOrigin::Recorded => "recorded when logged",
                LicenseOrigin::Catalog => "catalog today",
                LicenseOrigin::None => "not known",
            },
            entries: count(l.entries),
            flag: match l.status {
                LicenseStatus::Commercial => "",
                LicenseStatus::NonCommercial => "⚠ non-commercial use only",
                LicenseStatus::Unknown => "⚠ license unknown",
            },
        })
        .collect()
}

/// The zone's name: its IANA name, else `UTC` or `local time`.
fn zone_name(zone: &jiff::tz::TimeZone) -> String {
    match zone.iana_name() {
        Some(name) => name.to_string(),
        None if zone == &jiff::tz::TimeZone::UTC => "UTC".to_string(),
        None => "local time".to_string(),
    }
}

fn civil(at: Timestamp, zone: &jiff::tz::TimeZone) -> Option<jiff::civil::DateTime> {
    jiff::Timestamp::from_microsecond(at.0)
        .ok()
        .map(|t| zone.to_datetime(t))
}

/// `YYYY-MM-DD HH:MM` in `zone`.
fn local_minute(at: Timestamp, zone: &jiff::tz::TimeZone) -> String {
    match civil(at, zone) {
        Some(d) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minute()
        ),
        None => at.to_string(),
    }
}

/// `YYYY-MM-DD HH:MM:SS` in `zone`.
fn local_second(at: Timestamp, zone: &jiff::tz::TimeZone) -> String {
    match civil(at, zone) {
        Some(d) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        ),
        None => at.to_string(),
    }
}

/// `1,234`
fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 entry`, `1,234 entries`
fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_percentages() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-1_000), "-1,000");
        assert_eq!(percent(10_000_000), "10.00%");
        assert_eq!(percent(12_345_678), "12.35%");
        assert_eq!(percent(5_000), "0.00%"); // 0.005 % rounds half to even
        assert_eq!(percent(15_000), "0.02%");
        assert_eq!(plural(1, "entry", "entries"), "1 entry");
    }

    #[test]
    fn stale_days_are_named_in_runs() {
        let d = |t: &str| crate::timestamp::parse_day(t).unwrap();
        let days = [
            d("2026-12-01"),
            d("2026-12-02"),
            d("2026-12-03"),
            d("2026-12-05"),
            d("2026-12-07"),
            d("2026-12-08"),
        ];
        assert_eq!(
            day_ranges(&days),
            "2026-12-01 to 2026-12-03, 2026-12-05, 2026-12-07, 2026-12-08"
        );
        assert_eq!(day_ranges(&days[3..4]), "2026-12-05");
    }

    #[test]
    fn the_rest_is_one_bar_named_in_the_singular_or_plural() {
        let line = |i: i64| {
            (
                format!("m{i}"),
                Sum {
                    total: 1_000_000 * (20 - i),
                    count: 1,
                    unpriced: 0,
                },
            )
        };
        let names = |n: i64| -> Vec<String> {
            bars(
                (0..n).map(line),
                ("other model", "other models"),
                Currency::USD,
            )
            .into_iter()
            .map(|b| b.label)
            .collect()
        };
        assert_eq!(names(MAX_BARS as i64).len(), MAX_BARS);
        assert_eq!(names(MAX_BARS as i64 + 1).last().unwrap(), "1 other model");
        assert_eq!(names(MAX_BARS as i64 + 3).last().unwrap(), "3 other models");
    }
}
