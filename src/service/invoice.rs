//! Invoices: drafting one from a client's billable entries no invoice holds
//! yet, issuing it (numbered and locking its entries in one event), and
//! listing, showing, voiding and crediting them. The studio's details live
//! in the ledger as events, so a shared ledger shares them.

use super::filter::FilterText;
use super::rates::rate_table_into;
use crate::error::{Error, Result};
use crate::fx::{RateTable, RateUsed};
use crate::ledger::invoice::{
    check_series, AdjustmentLine, CreditNoteIssued, InvoiceIssued, InvoiceRecord, LineFigures,
    LineGroup, RateLine, StudioDetails, CREDIT_SERIES,
};
use crate::ledger::tags::fold;
use crate::ledger::{
    Command, Entry, EventBody, Kind, LedgerError, Outcome, Status, TagField, Tier,
};
use crate::money::{parse_amount, round_to_display, Currency};
use crate::report::invoice_layout::layout;
use crate::report::markup::Markup;
use crate::store::{Filter, LedgerSnapshot, Store, StoreError};
use crate::timestamp::{day_label, Timestamp};
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// Entries read from the ledger at a time while drafting.
const PAGE: i64 = 5_000;
/// Times a draft is made again when the ledger changed under it.
const ATTEMPTS: usize = 8;
/// Entries an error lists by id before it says how many more.
const NAMED: usize = 10;

/// `invoice create` as typed.
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    pub client: String,
    pub projects: Vec<String>,
    pub month: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub markup: Option<String>,
    pub currency: String,
    pub series: Option<String>,
    pub due_days: Option<i64>,
    pub require_confirmed: bool,
    pub allow_unpriced: bool,
}

/// An invoice made (or, on a dry run, drafted): its figures and what it
/// left out. The document itself is in its event (see `show`).
#[derive(Clone, Debug)]
pub struct Created {
    pub number: String,
    pub issued: bool,
    pub client: String,
    pub period: String,
    pub currency: Currency,
    pub lines: usize,
    pub adjustments: usize,
    pub subtotal: i64,
    pub markup_total: i64,
    pub total: i64,
    pub estimated: i64,
    pub issued_on: i64,
    pub due_on: i64,
    /// Pending runs left out.
    pub pending: Vec<Uuid>,
    /// Unpriced entries billed with no amount (with `allow_unpriced`).
    pub unpriced: Vec<Uuid>,
}

impl Created {
    /// As `invoice create --json` and `POST /invoices` answer.
    pub fn json(&self) -> serde_json::Value {
        let c = self.currency;
        let exact = |micros| crate::money::format_exact(micros, c);
        serde_json::json!({
            "number": self.number,
            "issued": self.issued,
            "client": self.client,
            "period": self.period,
            "currency": c,
            "lines": self.lines,
            "adjustments": self.adjustments,
            "subtotal": exact(self.subtotal),
            "markup": exact(self.markup_total),
            "total": exact(self.total),
            "total_micros": self.total,
            "estimated": exact(self.estimated),
            "estimated_micros": self.estimated,
            "issued_on": day_label(self.issued_on),
            "due_on": day_label(self.due_on),
            "pending_left_out": self.pending,
            "unpriced": self.unpriced,
        })
    }

    pub fn of(invoice: &InvoiceIssued, issued: bool, unpriced: Vec<Uuid>) -> Created {
        Created {
            number: invoice.number.clone(),
            issued,
            client: invoice.client.clone(),
            period: invoice.period.clone(),
            currency: invoice.currency,
            lines: invoice.line_count(),
            adjustments: invoice.adjustments.len(),
            subtotal: invoice.subtotal,
            markup_total: invoice.markup_total,
            total: invoice.total,
            estimated: invoice.estimated,
            issued_on: invoice.issued_on,
            due_on: invoice.due_on,
            pending: invoice.pending.clone(),
            unpriced,
        }
    }
}

/// Checked options.
struct Request {
    client: String,
    projects: HashSet<String>,
    project_names: Vec<String>,
    since: Timestamp,
    until: Timestamp,
    period: String,
    markup: Option<Markup>,
    currency: Currency,
    series: String,
    due_days: i64,
    require_confirmed: bool,
    allow_unpriced: bool,
}

fn check(options: &CreateOptions) -> Result<Request> {
    let client = options.client.trim();
    if client.is_empty() {
        return Err(Error::field("client", "give the client to bill"));
    }
    let range = FilterText {
        month: options.month.clone(),
        since: options.since.clone(),
        until: options.until.clone(),
        ..FilterText::default()
    }
    .to_filter()?;
    let (Some(since), Some(until)) = (range.since, range.until) else {
        return Err(Error::field(
            "month",
            "give the period billed: a month (2026-11) or both since and until",
        ));
    };
    if until <= since {
        return Err(Error::field("until", "the period ends before it starts"));
    }
    let period = match (&options.month, &options.since, &options.until) {
        (Some(month), _, _) => month.clone(),
        (_, Some(s), Some(u)) => format!("{s} to {u}"),
        _ => String::new(),
    };
    let currency: Currency = options
        .currency
        .trim()
        .parse()
        .map_err(|e: crate::money::UnknownCurrency| Error::field("currency", e.to_string()))?;
    let markup = options
        .markup
        .as_deref()
        .map(Markup::parse)
        .transpose()
        .map_err(|e| Error::field("markup", e))?;
    let series = check_series(options.series.as_deref().unwrap_or("INV"))
        .map_err(|e| Error::field("series", e))?;
    if series == CREDIT_SERIES {
        return Err(Error::field(
            "series",
            "CN is the series of credit notes; choose another for invoices",
        ));
    }
    let due_days = options.due_days.unwrap_or(30);
    if !(0..=365).contains(&due_days) {
        return Err(Error::field(
            "due",
            "give the days until payment is due, 0 to 365",
        ));
    }
    let project_names: Vec<String> = options
        .projects
        .iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    Ok(Request {
        client: client.to_string(),
        projects: project_names.iter().map(|p| fold(p)).collect(),
        project_names,
        since,
        until,
        period,
        markup,
        currency,
        series,
        due_days,
        require_confirmed: options.require_confirmed,
        allow_unpriced: options.allow_unpriced,
    })
}

/// Drafts the invoice and, unless `dry_run`, issues it: numbered and its
/// entries locked in one event. A draft the ledger changed under (an entry
/// it bills confirmed meanwhile, another invoice issued) is made again.
pub async fn create<S: Store>(
    store: &S,
    options: &CreateOptions,
    dry_run: bool,
    now: Timestamp,
) -> Result<Created> {
    let request = check(options)?;
    for _ in 0..ATTEMPTS {
        let (mut invoice, unpriced) = draft(store, &request, now).await?;
        if dry_run {
            invoice.number = format!("{}-{}-(draft)", invoice.series, invoice.year);
            return Ok(Created::of(&invoice, false, unpriced));
        }
        // The invoice moves into its event; only its figures are kept.
        let mut created = Created::of(&invoice, true, unpriced);
        match store
            .execute(Command::IssueInvoice(Box::new(invoice)), now)
            .await
        {
            Ok(executed) => {
                if let Outcome::InvoiceIssued { number } = executed.outcome {
                    created.number = number;
                }
                return Ok(created);
            }
            Err(StoreError::Refused(LedgerError::DraftOutdated)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Store(StoreError::Conflict(
        "the ledger kept changing while the invoice was drafted; run invoice create again".into(),
    )))
}

async fn draft<S: Store>(
    store: &S,
    request: &Request,
    now: Timestamp,
) -> Result<(InvoiceIssued, Vec<Uuid>)> {
    let client = store
        .tag_spelling(TagField::Client, &request.client)
        .await?
        .ok_or_else(|| {
            Error::field(
                "client",
                format!("no client named '{}' in the ledger", request.client),
            )
        })?;
    let mut snapshot = store.snapshot().await?;
    let head = snapshot.head().await?;
    let studio = settings_in(&mut snapshot).await?;
    let mut locked: Vec<Uuid> = snapshot
        .invoice_locks()
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    locked.sort_unstable();
    let filter = Filter {
        client: Some(client.clone()),
        since: Some(request.since),
        until: Some(request.until),
        ..Filter::default()
    };
    // Lines are grouped as the pages are read: a line keeps only its
    // figures, and what it shares with others (project, deliverable,
    // model) is kept once per group.
    let mut groups: HashMap<GroupKey, Vec<LineFigures>> = HashMap::new();
    let mut pending = Vec::new();
    let mut after = 0;
    loop {
        let page = snapshot.list_in_log_order(&filter, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for entry in page {
            if locked.binary_search(&entry.id).is_ok() || !in_projects(request, &entry) {
                continue;
            }
            if entry.status == Status::Pending {
                pending.push(entry.id);
            } else if entry.is_charged() {
                let (key, figures) = line_of(entry);
                groups.entry(key).or_default().push(figures);
            }
        }
    }
    let mut lines: Vec<LineGroup> = groups
        .into_iter()
        .map(
            |((kind, project, deliverable, what, tier, currency), mut lines)| {
                lines.sort_unstable_by_key(|l| (l.occurred_at(), l.entry()));
                LineGroup {
                    kind,
                    project,
                    deliverable,
                    what,
                    tier,
                    currency,
                    lines,
                }
            },
        )
        .collect();
    lines.sort_by(|a, b| {
        (
            &a.project,
            &a.deliverable,
            &a.what,
            a.kind,
            a.tier,
            a.currency,
        )
            .cmp(&(
                &b.project,
                &b.deliverable,
                &b.what,
                b.kind,
                b.tier,
                b.currency,
            ))
    });
    let ids_where = |keep: &dyn Fn(&LineGroup, &LineFigures) -> bool| -> Vec<Uuid> {
        lines
            .iter()
            .flat_map(|g| g.lines.iter().filter(|l| keep(g, l)).map(|l| l.entry()))
            .collect()
    };
    let unpriced = ids_where(&|_, l| l.micros().is_none());
    if !unpriced.is_empty() && !request.allow_unpriced {
        return Err(Error::input(format!(
            "{} has no price: {}. Confirm their cost (gencost confirm ID AMOUNT), or pass --allow-unpriced to bill them with no amount; nothing was invoiced",
            plural(unpriced.len(), "entry", "entries"),
            named(&unpriced)
        )));
    }
    if request.require_confirmed {
        let estimates = ids_where(&|g, _| g.tier != Tier::Billed);
        if !estimates.is_empty() {
            return Err(Error::input(format!(
                "--require-confirmed: {} still an estimate: {}; nothing was invoiced",
                plural(estimates.len(), "line is", "lines are"),
                named(&estimates)
            )));
        }
    }
    let due = snapshot.adjustments_due(&fold(&client)).await?;
    let mut currencies: Vec<Currency> = lines
        .iter()
        .map(|g| g.currency)
        .chain(
            due.iter()
                .flat_map(|(lock, e)| [lock.currency, e.cost().currency]),
        )
        .collect();
    currencies.sort_unstable();
    currencies.dedup();
    let table = rate_table_into(store, currencies, request.currency).await?;
    let mut rates = BTreeSet::new();
    for group in &mut lines {
        for line in &mut group.lines {
            if let Some(micros) = line.micros() {
                let day = Timestamp(line.occurred_at()).day();
                line.3 = Some(convert(
                    &table,
                    micros,
                    group.currency,
                    request.currency,
                    day,
                    &mut rates,
                )?);
            }
        }
    }
    let mut adjustments = Vec::new();
    for (lock, entry) in &due {
        let cost = entry.cost();
        let now_micros = if entry.is_charged() {
            cost.micros
        } else {
            Some(0)
        };
        let Some(now_micros) = now_micros else {
            continue;
        };
        if (Some(now_micros), cost.currency) == (lock.micros, lock.currency) {
            continue;
        }
        let to = request.currency;
        let day = entry.occurred_at.day();
        let after = convert(&table, now_micros, cost.currency, to, day, &mut rates)?;
        let before = match lock.micros {
            Some(m) => convert(&table, m, lock.currency, to, day, &mut rates)?,
            None => 0,
        };
        adjustments.push(AdjustmentLine {
            entry: entry.id,
            invoice: lock.invoice.clone(),
            occurred_at: entry.occurred_at.0,
            confirmed_at: entry.actual.map_or(now.0, |a| a.confirmed_at.0),
            what: entry.model.clone().unwrap_or_else(|| entry.source.clone()),
            previous_micros: lock.micros,
            previous_currency: lock.currency,
            micros: now_micros,
            currency: cost.currency,
            converted: after - before,
            previous_adjusted_by: lock.adjusted_by.clone(),
        });
    }
    adjustments.sort_by(|a, b| {
        (&a.invoice, a.occurred_at, a.entry).cmp(&(&b.invoice, b.occurred_at, b.entry))
    });
    if lines.is_empty() && adjustments.is_empty() {
        return Err(Error::NotFound(format!(
            "nothing to invoice: {client} has no billable entries in {} that no invoice holds{}",
            request.period,
            if pending.is_empty() {
                String::new()
            } else {
                format!(" ({} still pending)", plural(pending.len(), "run", "runs"))
            }
        )));
    }
    let today = now.day();
    let year = issue_year(today);
    let mut invoice = InvoiceIssued {
        number: String::new(),
        series: request.series.clone(),
        year,
        seq: 0,
        client,
        projects: request.project_names.clone(),
        since: request.since.0,
        until: request.until.0,
        period: request.period.clone(),
        issued_on: today,
        due_on: today + request.due_days,
        currency: request.currency,
        markup: request.markup.map(Markup::micro_percent),
        studio,
        lines,
        adjustments,
        rates: rates
            .into_iter()
            .map(|r| RateLine {
                from: r.from,
                to: r.to,
                day: r.date,
                rate: r.rate,
            })
            .collect(),
        pending,
        subtotal: 0,
        markup_total: 0,
        total: 0,
        estimated: 0,
        drafted_at_seq: head.seq,
        drafted_at_hash: head.hash.to_hex(),
    };
    let laid_out = layout(&invoice);
    invoice.subtotal = laid_out.subtotal;
    invoice.markup_total = laid_out.markup_total;
    invoice.total = laid_out.total;
    invoice.estimated = laid_out.estimated;
    Ok((invoice, unpriced))
}

fn in_projects(request: &Request, entry: &Entry) -> bool {
    request.projects.is_empty()
        || entry
            .tags
            .project
            .as_deref()
            .is_some_and(|p| request.projects.contains(&fold(p)))
}

/// What the lines of a group share: kind, project, deliverable, model or
/// source, tier, currency.
type GroupKey = (Kind, Option<String>, Option<String>, String, Tier, Currency);

/// An entry as an invoice line (its group, its figures), before conversion.
fn line_of(entry: Entry) -> (GroupKey, LineFigures) {
    let cost = entry.cost();
    let figures = LineFigures(entry.id, entry.occurred_at.0, cost.micros, None);
    let key = (
        entry.kind,
        entry.tags.project,
        entry.tags.deliverable,
        entry.model.unwrap_or(entry.source),
        cost.tier,
        cost.currency,
    );
    (key, figures)
}

/// `micros` of `from` in `to` at the rate of `day`, noting the rate.
fn convert(
    table: &RateTable,
    micros: i64,
    from: Currency,
    to: Currency,
    day: i64,
    rates: &mut BTreeSet<RateUsed>,
) -> Result<i64> {
    if from == to {
        return Ok(micros);
    }
    let (converted, used) = table.convert(micros, from, to, day)?;
    rates.insert(used);
    Ok(converted)
}

/// The studio's details as last set.
pub async fn settings<S: Store>(store: &S) -> Result<StudioDetails> {
    settings_in(&mut store.snapshot().await?).await
}

async fn settings_in<T: LedgerSnapshot>(snapshot: &mut T) -> Result<StudioDetails> {
    match snapshot
        .event_of_kind("invoice_settings_changed", true)
        .await?
    {
        Some(event) => match event.body() {
            Ok(EventBody::InvoiceSettingsChanged(changed)) => Ok(changed.studio),
            _ => Err(Error::Store(StoreError::Corrupt(format!(
                "event {}: unreadable invoice settings",
                event.seq
            )))),
        },
        None => Ok(StudioDetails::default()),
    }
}

/// Changes the details given (`Some("")` clears one); returns them all.
pub async fn set_settings<S: Store>(
    store: &S,
    changes: StudioDetails,
    now: Timestamp,
) -> Result<StudioDetails> {
    let mut studio = settings(store).await?;
    let fields = [
        ("name", changes.name, &mut studio.name, 200),
        ("address", changes.address, &mut studio.address, 1000),
        ("vat_id", changes.vat_id, &mut studio.vat_id, 50),
        ("footer", changes.footer, &mut studio.footer, 2000),
    ];
    for (field, change, slot, limit) in fields {
        let Some(text) = change else { continue };
        let text = text.trim().replace("\r\n", "\n");
        if text.chars().count() > limit {
            return Err(Error::field(field, format!("at most {limit} characters")));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(Error::field(field, "control characters are not allowed"));
        }
        *slot = (!text.is_empty()).then_some(text);
    }
    store
        .execute(Command::SetInvoiceSettings(studio.clone()), now)
        .await?;
    Ok(studio)
}

/// An invoice or credit note as `invoice list --json` and `GET /invoices`
/// show it.
pub fn record_json(record: &InvoiceRecord) -> serde_json::Value {
    serde_json::json!({
        "number": record.number,
        "kind": record.kind,
        "client": record.client,
        "refers_to": record.refers_to,
        "currency": record.currency,
        "total": crate::money::format_exact(record.total, record.currency),
        "total_micros": record.total,
        "lines": record.lines,
        "void": record.void_reason.is_some(),
        "void_reason": record.void_reason,
        "event": record.event_seq,
    })
}

/// Every invoice and credit note, in number order.
pub async fn list<S: Store>(store: &S) -> Result<Vec<InvoiceRecord>> {
    let mut all = store.snapshot().await?.invoices().await?;
    all.sort_by(|a, b| (a.series.as_str(), a.year, a.seq).cmp(&(b.series.as_str(), b.year, b.seq)));
    Ok(all)
}

/// A document as issued: an invoice or a credit note.
#[derive(Clone, Debug)]
pub enum Document {
    Invoice(Box<InvoiceIssued>),
    Credit(Box<CreditNoteIssued>),
}

/// One invoice or credit note: its record and the document its event holds.
pub async fn show<S: Store>(store: &S, number: &str) -> Result<(InvoiceRecord, Document)> {
    let number = number.trim().to_uppercase();
    let mut snapshot = store.snapshot().await?;
    let record = snapshot
        .invoices()
        .await?
        .into_iter()
        .find(|r| r.number == number)
        .ok_or_else(|| Error::NotFound(format!("no invoice or credit note numbered {number}")))?;
    let events = snapshot.events_at(&[record.event_seq]).await?;
    let body = events
        .first()
        .map(|e| e.body())
        .transpose()
        .map_err(|e| Error::Store(StoreError::Corrupt(e.to_string())))?;
    let document = match body {
        Some(EventBody::InvoiceIssued(issued)) => Document::Invoice(issued),
        Some(EventBody::CreditNoteIssued(credit)) => Document::Credit(Box::new(credit)),
        _ => {
            return Err(Error::Store(StoreError::Corrupt(format!(
                "invoice {number}: event {} is not its issue",
                record.event_seq
            ))))
        }
    };
    Ok((record, document))
}

pub async fn void<S: Store>(store: &S, number: &str, reason: &str, now: Timestamp) -> Result<()> {
    store
        .execute(
            Command::VoidInvoice {
                number: number.trim().to_uppercase(),
                reason: reason.to_string(),
            },
            now,
        )
        .await?;
    Ok(())
}

/// What a credit note credits: lines (releasing their locks) or a sum.
#[derive(Clone, Debug)]
pub enum Credited {
    Entries(Vec<Uuid>),
    /// An amount in the invoice's currency, as typed.
    Amount(String),
}

pub async fn credit<S: Store>(
    store: &S,
    number: &str,
    credited: Credited,
    reason: &str,
    now: Timestamp,
) -> Result<CreditNoteIssued> {
    if reason.trim().is_empty() {
        return Err(Error::field("reason", "say why the invoice is credited"));
    }
    let (_, document) = show(store, number).await?;
    let Document::Invoice(invoice) = document else {
        return Err(Error::input(format!(
            "{number} is a credit note: only an invoice is credited"
        )));
    };
    let (entries, total) = match credited {
        Credited::Entries(ids) => {
            let mut ids = ids;
            ids.sort_unstable();
            ids.dedup();
            let laid_out = layout(&invoice);
            let mut total = 0i64;
            for id in &ids {
                let at = invoice
                    .each_line()
                    .position(|(_, l)| l.entry() == *id)
                    .ok_or_else(|| {
                        Error::Store(StoreError::Refused(LedgerError::NotOnInvoice {
                            entry: *id,
                            invoice: invoice.number.clone(),
                        }))
                    })?;
                total += laid_out.lines[at].total();
            }
            (ids, total)
        }
        Credited::Amount(text) => {
            let micros = parse_amount(text.trim())
                .map_err(|e| Error::field("amount", format!("'{text}': {e}")))?;
            let micros = round_to_display(micros, invoice.currency);
            if micros <= 0 {
                return Err(Error::field("amount", "credit an amount greater than zero"));
            }
            if micros > invoice.total {
                return Err(Error::field(
                    "amount",
                    format!(
                        "more than the invoice's total of {}",
                        crate::money::format_exact(invoice.total, invoice.currency)
                    ),
                ));
            }
            (Vec::new(), micros)
        }
    };
    // Credit notes together credit at most what the invoice billed.
    let credited_before: i64 = list(store)
        .await?
        .iter()
        .filter(|r| r.refers_to.as_deref() == Some(invoice.number.as_str()))
        .map(|r| r.total)
        .sum();
    if credited_before + total > invoice.total {
        return Err(Error::field(
            "amount",
            format!(
                "{} credited before and {} now would be more than the invoice's total of {}",
                crate::money::format_exact(credited_before, invoice.currency),
                crate::money::format_exact(total, invoice.currency),
                crate::money::format_exact(invoice.total, invoice.currency)
            ),
        ));
    }
    let today = now.day();
    let year = issue_year(today);
    let mut credit = CreditNoteIssued {
        number: String::new(),
        series: CREDIT_SERIES.to_string(),
        year,
        seq: 0,
        invoice: invoice.number.clone(),
        client: invoice.client.clone(),
        issued_on: today,
        reason: reason.trim().to_string(),
        entries,
        currency: invoice.currency,
        total,
        studio: settings(store).await?,
    };
    let executed = store
        .execute(Command::CreditInvoice(credit.clone()), now)
        .await?;
    if let Some(Ok(EventBody::CreditNoteIssued(issued))) = executed.events.first().map(|e| e.body())
    {
        credit = issued;
    }
    Ok(credit)
}

/// The year a document issued on `day` is numbered in.
fn issue_year(day: i64) -> i32 {
    crate::timestamp::day_date(day).map_or(1970, |d| d.year())
}

fn named(ids: &[Uuid]) -> String {
    let mut text = ids
        .iter()
        .take(NAMED)
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > NAMED {
        text.push_str(&format!(" and {} more", ids.len() - NAMED));
    }
    text
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `YYYY-MM-DD` of a UTC day.
pub fn date(day: i64) -> String {
    day_label(day)
}

/// The checkpoint an invoice or credit note carries: the ledger's head
/// signed with the user's key once `verify` passes, when the user has a key
/// (never made on the fly: an unknown key proves nothing to a client).
pub async fn document_checkpoint<S: Store + 'static>(
    store: &std::sync::Arc<S>,
) -> Result<Option<crate::checkpoint::Checkpoint>> {
    if crate::checkpoint::key::existing()?.is_none() {
        return Ok(None);
    }
    let verified = super::verify::verify(std::sync::Arc::clone(store)).await?;
    if !verified.is_sound() {
        return Ok(None);
    }
    Ok(Some(super::checkpoint::take_head_only(&**store).await?))
}
