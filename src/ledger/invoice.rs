//! Invoices and credit notes as the chain records them, and the state they
//! leave: which invoices exist (numbered per series and year, never
//! reused) and which entries each one holds locked. An invoice is one
//! event carrying its whole document, so a sent invoice is never edited:
//! later truth becomes an adjustment line on the client's next invoice.

use super::entry::{Kind, Tier};
use super::event::EventBody;
use crate::money::Currency;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The series credit notes are numbered in.
pub const CREDIT_SERIES: &str = "CN";

/// The studio's details printed on its invoices.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
}

/// Entries an invoice bills that share everything the invoice shows of them
/// but their figures: a group is written once, its lines after it, so an
/// invoice of 100,000 entries stays a few megabytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineGroup {
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliverable: Option<String>,
    /// The model, or the source of an external cost or pool share.
    pub what: String,
    /// How sure the cost is (billed, estimated, historical, unpriced).
    pub tier: Tier,
    /// The currency of the entries' own costs.
    pub currency: Currency,
    pub lines: Vec<LineFigures>,
}

/// One entry's figures as the invoice bills it, written as an array:
/// `[entry id, occurred_at, cost in its own currency, cost converted into
/// the invoice's currency]`, the costs `null` when unpriced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineFigures(pub Uuid, pub i64, pub Option<i64>, pub Option<i64>);

impl LineFigures {
    pub fn entry(&self) -> Uuid {
        self.0
    }

    pub fn occurred_at(&self) -> i64 {
        self.1
    }

    pub fn micros(&self) -> Option<i64> {
        self.2
    }

    pub fn converted(&self) -> Option<i64> {
        self.3
    }
}

/// A cost that changed after an earlier invoice billed it (an actual that
/// arrived later, a failure found not charged): the difference, carried
/// by the client's next invoice with a reference to the first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentLine {
    pub entry: Uuid,
    /// The invoice that billed the entry first.
    pub invoice: String,
    pub occurred_at: i64,
    /// When the new figure was confirmed.
    pub confirmed_at: i64,
    pub what: String,
    /// What was billed so far, in the entry's currency then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_micros: Option<i64>,
    pub previous_currency: Currency,
    /// What the entry costs now.
    pub micros: i64,
    pub currency: Currency,
    /// The difference in the invoice's currency.
    pub converted: i64,
    /// The invoice that carried the entry's last adjustment before this
    /// one, if any: what a void of this invoice puts back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_adjusted_by: Option<String>,
}

/// A rate an invoice converted with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLine {
    pub from: Currency,
    pub to: Currency,
    /// The rate's day, `YYYY-MM-DD`.
    pub day: String,
    /// Units of `to` per unit of `from`, exact.
    pub rate: String,
}

/// An invoice as issued: its number and everything its document shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceIssued {
    pub number: String,
    pub series: String,
    pub year: i32,
    pub seq: i64,
    pub client: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<String>,
    /// The range billed: `[since, until)`, and how it was asked for.
    pub since: i64,
    pub until: i64,
    pub period: String,
    /// UTC days (days since 1970-01-01).
    pub issued_on: i64,
    pub due_on: i64,
    pub currency: Currency,
    /// The markup in millionths of a percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markup: Option<i64>,
    pub studio: StudioDetails,
    pub lines: Vec<LineGroup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<AdjustmentLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rates: Vec<RateLine>,
    /// Runs still pending in the range, left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<Uuid>,
    /// Rounded to display decimals, as the document shows them.
    pub subtotal: i64,
    pub markup_total: i64,
    pub total: i64,
    /// How much of `total` rests on estimates (not confirmed costs).
    pub estimated: i64,
    /// The chain position the invoice was drafted at, and its hash.
    pub drafted_at_seq: i64,
    #[serde(default)]
    pub drafted_at_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceVoided {
    pub number: String,
    pub reason: String,
}

/// A credit note: its own numbered document referring to an invoice. With
/// entries it credits those lines and releases their locks; without, it
/// credits a sum and releases nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNoteIssued {
    pub number: String,
    pub series: String,
    pub year: i32,
    pub seq: i64,
    pub invoice: String,
    pub client: String,
    pub issued_on: i64,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<Uuid>,
    pub currency: Currency,
    /// The amount credited (markup included), in display decimals.
    pub total: i64,
    pub studio: StudioDetails,
}

/// The studio's details from now on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceSettingsChanged {
    pub studio: StudioDetails,
}

impl InvoiceIssued {
    /// Every line with its group, in the order the invoice lists them.
    pub fn each_line(&self) -> impl Iterator<Item = (&LineGroup, &LineFigures)> {
        self.lines
            .iter()
            .flat_map(|group| group.lines.iter().map(move |line| (group, line)))
    }

    pub fn line_count(&self) -> usize {
        self.lines.iter().map(|g| g.lines.len()).sum()
    }
}

/// `INV-2026-0001`.
pub fn invoice_number(series: &str, year: i32, seq: i64) -> String {
    format!("{series}-{year}-{seq:04}")
}

/// A series is 1 to 12 capital letters or digits (`INV`, `CN`, `2026A`).
pub fn check_series(series: &str) -> Result<String, String> {
    let upper = series.trim().to_uppercase();
    if upper.is_empty()
        || upper.len() > 12
        || !upper
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(format!(
            "series '{series}': use 1 to 12 letters or digits, e.g. INV"
        ));
    }
    Ok(upper)
}

/// `series-year`, the key numbers are counted under.
pub fn numbering_key(series: &str, year: i32) -> String {
    format!("{series}-{year}")
}

/// An invoice or credit note as the `invoices` table holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceRecord {
    pub number: String,
    /// `invoice` or `credit`.
    pub kind: &'static str,
    pub series: String,
    pub year: i32,
    pub seq: i64,
    pub client: String,
    pub refers_to: Option<String>,
    pub currency: Currency,
    pub total: i64,
    pub lines: i64,
    pub event_seq: i64,
    pub void_reason: Option<String>,
}

/// An entry held by an invoice, and what has been billed for it so far
/// (its first invoice's line, then any adjustments carried since).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lock {
    pub invoice: String,
    pub micros: Option<i64>,
    pub currency: Currency,
    /// The invoice that carried the entry's latest adjustment, while it
    /// stands: the first invoice is then neither voided nor credited for
    /// the entry, or the adjustment would be billed twice.
    pub adjusted_by: Option<String>,
}

/// The invoices and locks a chain's events leave, built in memory: what
/// `verify` compares the stored tables with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InvoiceBook {
    pub invoices: BTreeMap<String, InvoiceRecord>,
    pub locks: BTreeMap<Uuid, Lock>,
    /// The adjustments each invoice carried, for its void.
    issued: HashMap<String, Vec<AdjustmentLine>>,
}

impl InvoiceBook {
    pub fn apply(&mut self, seq: i64, body: &EventBody) {
        match body {
            EventBody::InvoiceIssued(issued) => {
                self.invoices
                    .insert(issued.number.clone(), issued_record(issued, seq));
                for (group, line) in issued.each_line() {
                    self.locks
                        .insert(line.entry(), line_lock(&issued.number, group, line));
                }
                for adjustment in &issued.adjustments {
                    if let Some(lock) = self.locks.get_mut(&adjustment.entry) {
                        lock.micros = Some(adjustment.micros);
                        lock.currency = adjustment.currency;
                        lock.adjusted_by = Some(issued.number.clone());
                    }
                }
                self.issued
                    .insert(issued.number.clone(), issued.adjustments.clone());
            }
            EventBody::InvoiceVoided(voided) => {
                if let Some(record) = self.invoices.get_mut(&voided.number) {
                    record.void_reason = Some(voided.reason.clone());
                }
                self.locks.retain(|_, lock| lock.invoice != voided.number);
                // The adjustments it carried are billed no more: each lock
                // goes back to what its event says was billed before.
                for adjustment in self.issued.remove(&voided.number).unwrap_or_default() {
                    if let Some(lock) = self.locks.get_mut(&adjustment.entry) {
                        lock.micros = adjustment.previous_micros;
                        lock.currency = adjustment.previous_currency;
                        lock.adjusted_by = adjustment.previous_adjusted_by;
                    }
                }
            }
            EventBody::CreditNoteIssued(credit) => {
                self.invoices
                    .insert(credit.number.clone(), credit_record(credit, seq));
                for entry in &credit.entries {
                    if self
                        .locks
                        .get(entry)
                        .is_some_and(|l| l.invoice == credit.invoice)
                    {
                        self.locks.remove(entry);
                    }
                }
            }
            _ => {}
        }
    }
}

pub fn issued_record(issued: &InvoiceIssued, seq: i64) -> InvoiceRecord {
    InvoiceRecord {
        number: issued.number.clone(),
        kind: "invoice",
        series: issued.series.clone(),
        year: issued.year,
        seq: issued.seq,
        client: issued.client.clone(),
        refers_to: None,
        currency: issued.currency,
        total: issued.total,
        lines: (issued.line_count() + issued.adjustments.len()) as i64,
        event_seq: seq,
        void_reason: None,
    }
}

pub fn credit_record(credit: &CreditNoteIssued, seq: i64) -> InvoiceRecord {
    InvoiceRecord {
        number: credit.number.clone(),
        kind: "credit",
        series: credit.series.clone(),
        year: credit.year,
        seq: credit.seq,
        client: credit.client.clone(),
        refers_to: Some(credit.invoice.clone()),
        currency: credit.currency,
        total: credit.total,
        lines: credit.entries.len() as i64,
        event_seq: seq,
        void_reason: None,
    }
}

pub fn line_lock(number: &str, group: &LineGroup, line: &LineFigures) -> Lock {
    Lock {
        invoice: number.to_string(),
        micros: line.micros(),
        currency: group.currency,
        adjusted_by: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(entry: Uuid, micros: i64) -> LineGroup {
        LineGroup {
            kind: Kind::Generation,
            project: None,
            deliverable: None,
            what: "m".into(),
            tier: Tier::Estimated,
            currency: Currency::USD,
            lines: vec![LineFigures(entry, 0, Some(micros), Some(micros))],
        }
    }

    fn issued(number: &str, lines: Vec<LineGroup>, adjustments: Vec<AdjustmentLine>) -> EventBody {
        EventBody::InvoiceIssued(Box::new(InvoiceIssued {
            number: number.into(),
            series: "INV".into(),
            year: 2026,
            seq: 1,
            client: "Acme".into(),
            projects: vec![],
            since: 0,
            until: 1,
            period: "2026-11".into(),
            issued_on: 0,
            due_on: 30,
            currency: Currency::USD,
            markup: None,
            studio: StudioDetails::default(),
            lines,
            adjustments,
            rates: vec![],
            pending: vec![],
            subtotal: 0,
            markup_total: 0,
            total: 0,
            estimated: 0,
            drafted_at_seq: 0,
            drafted_at_hash: String::new(),
        }))
    }

    #[test]
    fn a_line_is_written_as_an_array() {
        let figures = LineFigures(Uuid::nil(), 5, Some(1_250_000), None);
        let text = serde_json::to_string(&figures).unwrap();
        assert_eq!(
            text,
            r#"["00000000-0000-0000-0000-000000000000",5,1250000,null]"#
        );
        assert_eq!(serde_json::from_str::<LineFigures>(&text).unwrap(), figures);
    }

    #[test]
    fn numbers_have_four_digits_and_series_are_checked() {
        assert_eq!(invoice_number("INV", 2026, 1), "INV-2026-0001");
        assert_eq!(invoice_number("INV", 2026, 12345), "INV-2026-12345");
        assert_eq!(check_series(" inv ").unwrap(), "INV");
        assert!(check_series("IN-V").is_err());
        assert!(check_series("").is_err());
    }

    #[test]
    fn a_void_releases_locks_and_undoes_the_adjustments_it_carried() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut book = InvoiceBook::default();
        book.apply(
            1,
            &issued("INV-2026-0001", vec![line(a, 100), line(b, 50)], vec![]),
        );
        let adjustment = AdjustmentLine {
            entry: a,
            invoice: "INV-2026-0001".into(),
            occurred_at: 0,
            confirmed_at: 0,
            what: "m".into(),
            previous_micros: Some(100),
            previous_currency: Currency::USD,
            micros: 130,
            currency: Currency::USD,
            converted: 30,
            previous_adjusted_by: None,
        };
        book.apply(2, &issued("INV-2026-0002", vec![], vec![adjustment]));
        assert_eq!(book.locks[&a].micros, Some(130));
        assert_eq!(book.locks[&a].adjusted_by.as_deref(), Some("INV-2026-0002"));
        assert_eq!(book.locks[&a].invoice, "INV-2026-0001");
        book.apply(
            3,
            &EventBody::InvoiceVoided(InvoiceVoided {
                number: "INV-2026-0002".into(),
                reason: "sent twice".into(),
            }),
        );
        assert_eq!(book.locks[&a].micros, Some(100));
        assert_eq!(book.locks[&a].adjusted_by, None);
        book.apply(
            4,
            &EventBody::CreditNoteIssued(CreditNoteIssued {
                number: "CN-2026-0001".into(),
                series: "CN".into(),
                year: 2026,
                seq: 1,
                invoice: "INV-2026-0001".into(),
                client: "Acme".into(),
                issued_on: 0,
                reason: "wrong project".into(),
                entries: vec![b],
                currency: Currency::USD,
                total: 50,
                studio: StudioDetails::default(),
            }),
        );
        assert!(!book.locks.contains_key(&b));
        assert!(book.locks.contains_key(&a));
        book.apply(
            5,
            &EventBody::InvoiceVoided(InvoiceVoided {
                number: "INV-2026-0001".into(),
                reason: "wrong client".into(),
            }),
        );
        assert!(book.locks.is_empty());
        assert_eq!(
            book.invoices["INV-2026-0001"].void_reason.as_deref(),
            Some("wrong client")
        );
        assert_eq!(book.invoices.len(), 3);
    }
}
