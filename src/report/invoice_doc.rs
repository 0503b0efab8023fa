//! The invoice and credit note documents: one self-contained HTML page each
//! in the report's look (with a print stylesheet for A4 and Letter), and the
//! invoice's lines as CSV, rounded as on the invoice with the exact figures
//! beside them. Everything comes from the issuing event, so a document
//! printed again shows what was sent.

use super::invoice_layout::{layout, Layout, ADJUSTMENTS};
use crate::checkpoint::Checkpoint;
use crate::export::csv::neutralise;
use crate::ledger::invoice::{CreditNoteIssued, InvoiceIssued, InvoiceRecord, StudioDetails};
use crate::money::{
    decimal_string, display_decimals, display_unit, format_exact, scaled_decimal_string, Currency,
};
use crate::timestamp::{day_label, Timestamp};
use askama::Template;
use std::io;

#[derive(Template)]
#[template(path = "invoice.html")]
struct Page<'a> {
    title: String,
    void_reason: Option<&'a str>,
    studio: &'a StudioDetails,
    client: &'a str,
    meta: Vec<(&'static str, String)>,
    lines_heading: &'static str,
    lead: Option<String>,
    rows: Vec<Row>,
    foot: Vec<Row>,
    has_markup: bool,
    total: String,
    due: Option<String>,
    notes: Vec<String>,
    rates: Vec<[String; 4]>,
    ledger_line: String,
    checkpoint_json: Option<String>,
}

struct Row {
    class: &'static str,
    name: String,
    count: String,
    cost: String,
    markup: String,
    total: String,
}

fn money(micros: i64, currency: Currency) -> String {
    format_exact(micros, currency)
}

fn checkpoint_parts(checkpoint: Option<&Checkpoint>, seq: i64) -> (String, Option<String>) {
    match checkpoint {
        Some(c) => (
            format!(
                "Issued as event {seq} of the studio's ledger. Signed checkpoint: position {}, signed {} by key {} (check: gencost verify --checkpoint THIS-FILE).",
                c.head.position, c.head.time, c.public_key
            ),
            // A data block: `<` escaped so it can never close the element.
            Some(
                serde_json::to_string(c)
                    .unwrap_or_default()
                    .replace('<', "\\u003c"),
            ),
        ),
        None => (
            format!("Issued as event {seq} of the studio's hash-chained ledger (no signing key set up, so no signed checkpoint)."),
            None,
        ),
    }
}

pub fn render_invoice(
    record: &InvoiceRecord,
    invoice: &InvoiceIssued,
    checkpoint: Option<&Checkpoint>,
) -> String {
    let c = invoice.currency;
    let laid_out = layout(invoice);
    let has_markup = invoice.markup.is_some();
    let mut meta = vec![
        ("Invoice number", invoice.number.clone()),
        ("Issued", day_label(invoice.issued_on)),
        ("Due", day_label(invoice.due_on)),
        ("Period", period(invoice)),
    ];
    if !invoice.projects.is_empty() {
        meta.push(("Projects", invoice.projects.join(", ")));
    }
    meta.push(("Currency", c.to_string()));
    if let Some(m) = invoice.markup {
        meta.push(("Markup", percent(m)));
    }
    let (ledger_line, checkpoint_json) = checkpoint_parts(checkpoint, record.event_seq);
    let page = Page {
        title: format!("Invoice {}", invoice.number),
        void_reason: record.void_reason.as_deref(),
        studio: &invoice.studio,
        client: &invoice.client,
        meta,
        lines_heading: "Lines",
        lead: Some(
            "Costs by project and deliverable, each entry converted at the rate of its own day."
                .into(),
        ),
        rows: rows(&laid_out, c),
        foot: foot(&laid_out, invoice, c),
        has_markup,
        total: money(laid_out.total, c),
        due: Some(day_label(invoice.due_on)),
        notes: notes(invoice, &laid_out),
        rates: invoice
            .rates
            .iter()
            .map(|r| {
                [
                    r.from.to_string(),
                    r.to.to_string(),
                    r.day.clone(),
                    r.rate.clone(),
                ]
            })
            .collect(),
        ledger_line,
        checkpoint_json,
    };
    page.render().unwrap_or_default()
}

pub fn render_credit(
    record: &InvoiceRecord,
    credit: &CreditNoteIssued,
    checkpoint: Option<&Checkpoint>,
) -> String {
    let c = credit.currency;
    let (ledger_line, checkpoint_json) = checkpoint_parts(checkpoint, record.event_seq);
    let what = if credit.entries.is_empty() {
        "an amount of the invoice".to_string()
    } else {
        format!(
            "{} of the invoice's lines",
            count(credit.entries.len() as i64)
        )
    };
    let page = Page {
        title: format!("Credit note {}", credit.number),
        void_reason: record.void_reason.as_deref(),
        studio: &credit.studio,
        client: &credit.client,
        meta: vec![
            ("Credit note number", credit.number.clone()),
            ("Issued", day_label(credit.issued_on)),
            ("Credits invoice", credit.invoice.clone()),
            ("Reason", credit.reason.clone()),
            ("Currency", c.to_string()),
        ],
        lines_heading: "Credit",
        lead: Some(format!(
            "This credit note credits {what} {}.",
            credit.invoice
        )),
        rows: Vec::new(),
        foot: Vec::new(),
        has_markup: false,
        total: format!("-{}", money(credit.total, c)),
        due: None,
        notes: credit
            .entries
            .iter()
            .map(|id| format!("Credited entry {id}"))
            .collect(),
        rates: Vec::new(),
        ledger_line,
        checkpoint_json,
    };
    page.render().unwrap_or_default()
}

fn period(invoice: &InvoiceIssued) -> String {
    let since = Timestamp(invoice.since);
    let until = Timestamp(invoice.until);
    let last = Timestamp(invoice.until - 1);
    if invoice.period.is_empty() {
        format!("{} to {}", since.minute_label(), until.minute_label())
    } else {
        format!(
            "{} ({} to {})",
            invoice.period,
            day_label(since.day()),
            day_label(last.day())
        )
    }
}

fn rows(laid_out: &Layout, c: Currency) -> Vec<Row> {
    let mut rows = Vec::new();
    for section in &laid_out.sections {
        let none = if section.adjustments {
            ADJUSTMENTS
        } else {
            "(no project)"
        };
        rows.push(row(
            "l2",
            section.total.name.as_deref().unwrap_or(none),
            &section.total,
            c,
        ));
        for r in &section.rows {
            let name = match (&r.name, section.adjustments) {
                (Some(invoice), true) => format!("to invoice {invoice}"),
                (Some(name), false) => name.clone(),
                (None, _) => "(no deliverable)".into(),
            };
            rows.push(row("l3", &name, r, c));
        }
    }
    rows
}

fn row(class: &'static str, name: &str, r: &super::invoice_layout::Row, c: Currency) -> Row {
    let mut count_text = r.count.to_string();
    let mut notes = Vec::new();
    if r.estimated > 0 {
        notes.push(format!("{} est.", r.estimated));
    }
    if r.unpriced > 0 {
        notes.push(format!("{} unpriced", r.unpriced));
    }
    if !notes.is_empty() {
        count_text = format!("{count_text} ({})", notes.join(", "));
    }
    Row {
        class,
        name: name.to_string(),
        count: count_text,
        cost: format_exact(r.cost, c),
        markup: format_exact(r.markup, c),
        total: format_exact(r.cost + r.markup, c),
    }
}

fn foot(laid_out: &Layout, invoice: &InvoiceIssued, c: Currency) -> Vec<Row> {
    let entries = (invoice.line_count() + invoice.adjustments.len()) as i64;
    let mut foot = vec![Row {
        class: "sub",
        name: "Subtotal".into(),
        count: entries.to_string(),
        cost: format_exact(laid_out.subtotal, c),
        markup: format_exact(laid_out.markup_total, c),
        total: format_exact(laid_out.total, c),
    }];
    if let Some(m) = invoice.markup {
        foot.push(Row {
            class: "tot",
            name: format!("Total with markup of {}", percent(m)),
            count: String::new(),
            cost: String::new(),
            markup: String::new(),
            total: format_exact(laid_out.total, c),
        });
    }
    foot
}

fn notes(invoice: &InvoiceIssued, laid_out: &Layout) -> Vec<String> {
    let c = invoice.currency;
    let mut notes = Vec::new();
    let estimated = invoice
        .each_line()
        .filter(|(g, _)| g.tier != crate::ledger::Tier::Billed)
        .count();
    if estimated == 0 {
        notes.push("Every line is a cost the provider confirmed.".into());
    } else {
        notes.push(format!(
            "{} of the total rests on estimates ({} not yet confirmed by the provider, marked est.); a confirmed cost that differs is carried as an adjustment on the next invoice.",
            money(laid_out.estimated, c),
            count(estimated as i64)
        ));
    }
    let unpriced = invoice
        .each_line()
        .filter(|(_, l)| l.micros().is_none())
        .count();
    if unpriced > 0 {
        notes.push(format!(
            "{} {} no price yet and {} billed with no amount (not as zero).",
            count(unpriced as i64),
            if unpriced == 1 { "has" } else { "have" },
            if unpriced == 1 { "is" } else { "are" },
        ));
    }
    if !invoice.pending.is_empty() {
        notes.push(format!(
            "{} still running when this invoice was made {} left out; {} on a later invoice.",
            count(invoice.pending.len() as i64),
            if invoice.pending.len() == 1 {
                "was"
            } else {
                "were"
            },
            if invoice.pending.len() == 1 {
                "it goes"
            } else {
                "they go"
            },
        ));
    }
    let step = format_exact(display_unit(c), c);
    notes.push(format!(
        "Amounts are rounded to {step}: the subtotal and the total are each rounded once, and the lines so that they add up to them exactly (largest remainder). The CSV of this invoice lists every entry with its exact figures."
    ));
    notes
}

/// Millionths of a percent: `15%`, `12.5%`.
fn percent(micro_percent: i64) -> String {
    format!("{}%", decimal_string(micro_percent))
}

fn count(n: i64) -> String {
    if n == 1 {
        "1 entry".into()
    } else {
        format!("{n} entries")
    }
}

/// The CSV header of an invoice's lines.
pub const CSV_HEADER: [&str; 16] = [
    "invoice",
    "line",
    "entry_id",
    "occurred_at",
    "kind",
    "project",
    "deliverable",
    "model_or_source",
    "tier",
    "cost",
    "cost_currency",
    "converted",
    "amount",
    "markup",
    "total",
    "currency",
];

/// The invoice's lines, then its adjustments: `amount`, `markup` and
/// `total` as on the invoice (they add up to its subtotal and total), the
/// entry's exact cost and its exact conversion beside them.
pub fn write_csv(invoice: &InvoiceIssued, out: &mut dyn io::Write) -> io::Result<()> {
    let laid_out = layout(invoice);
    let c = invoice.currency;
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(CSV_HEADER)?;
    let exact = |micros: Option<i64>| micros.map(decimal_string).unwrap_or_default();
    for ((group, line), amounts) in invoice.each_line().zip(&laid_out.lines) {
        let time = Timestamp(line.occurred_at());
        let priced = line.micros();
        writer.write_record([
            invoice.number.clone(),
            "entry".into(),
            line.entry().to_string(),
            time.to_string(),
            group.kind.to_string(),
            neutralise(group.project.as_deref().unwrap_or("")),
            neutralise(group.deliverable.as_deref().unwrap_or("")),
            neutralise(&group.what),
            group.tier.to_string(),
            exact(priced),
            group.currency.to_string(),
            exact(line.converted()),
            round_text(priced.map(|_| amounts.cost), c),
            round_text(priced.map(|_| amounts.markup), c),
            round_text(priced.map(|_| amounts.total()), c),
            c.to_string(),
        ])?;
    }
    let adjustments = laid_out.lines[invoice.line_count()..].iter();
    for (adjustment, amounts) in invoice.adjustments.iter().zip(adjustments) {
        // Dated at its confirmation; `cost` is the difference in the
        // entry's currency (its new cost when the currency changed).
        let time = Timestamp(adjustment.confirmed_at);
        let difference = match adjustment.previous_micros {
            Some(before) if adjustment.previous_currency == adjustment.currency => {
                adjustment.micros - before
            }
            _ => adjustment.micros,
        };
        writer.write_record([
            invoice.number.clone(),
            format!("adjustment of {}", adjustment.invoice),
            adjustment.entry.to_string(),
            time.to_string(),
            String::new(),
            String::new(),
            String::new(),
            neutralise(&adjustment.what),
            "adjustment".into(),
            decimal_string(difference),
            adjustment.currency.to_string(),
            decimal_string(adjustment.converted),
            plain(amounts.cost, c),
            plain(amounts.markup, c),
            plain(amounts.total(), c),
            c.to_string(),
        ])?;
    }
    writer.flush()
}

/// An amount already in display decimals, as plain decimal text (`3.30`).
fn plain(micros: i64, c: Currency) -> String {
    scaled_decimal_string(i128::from(micros / display_unit(c)), display_decimals(c))
}

fn round_text(micros: Option<i64>, c: Currency) -> String {
    micros.map(|m| plain(m, c)).unwrap_or_default()
}
