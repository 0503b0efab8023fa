//! The invoices and invoice_locks tables: written from the invoice events
//! in the transaction that appends them, read for the checks commands make
//! (a locked entry, the next number) and for drafting and showing invoices.

use super::columns::{entry_from_row, event_from_row, parse_currency, parse_uuid, ENTRY_LIST};
use super::error::StoreError;
use super::session::Session;
use super::value::{placeholders, Column, Row, RowsInsert, Value};
use crate::ledger::invoice::{credit_record, issued_record, line_lock, InvoiceRecord, Lock};
use crate::ledger::tags::fold;
use crate::ledger::{ChangesSince, Entry, Event, EventBody};
use std::collections::HashMap;
use uuid::Uuid;

const LOOKUP_CHUNK: usize = 500;
/// Lock rows written per INSERT.
const LOCK_CHUNK: usize = 1000;

const INVOICE_LIST: &str = "number, kind, series, year, seq, client, refers_to, currency, \
     total_micros, lines, event_seq, void_reason";

fn invoice_from_row(mut row: Row) -> Result<InvoiceRecord, StoreError> {
    let kind = match row.text("kind")?.as_str() {
        "invoice" => "invoice",
        "credit" => "credit",
        other => {
            return Err(StoreError::Corrupt(format!(
                "unknown invoice kind '{other}'"
            )))
        }
    };
    Ok(InvoiceRecord {
        number: row.text("number")?,
        kind,
        series: row.text("series")?,
        year: i32::try_from(row.int("year")?)
            .map_err(|_| StoreError::Corrupt("invoice year out of range".into()))?,
        seq: row.int("seq")?,
        client: row.text("client")?,
        refers_to: row.opt_text("refers_to")?,
        currency: parse_currency(&row.text("currency")?)?,
        total: row.int("total_micros")?,
        lines: row.int("lines")?,
        event_seq: row.int("event_seq")?,
        void_reason: row.opt_text("void_reason")?,
    })
}

fn lock_from_row(row: &mut Row) -> Result<(Uuid, Lock), StoreError> {
    Ok((
        parse_uuid(&row.text("entry_id")?)?,
        Lock {
            invoice: row.text("invoice")?,
            micros: row.opt_int("micros")?,
            currency: parse_currency(&row.text("currency")?)?,
            adjusted_by: row.opt_text("adjusted_by")?,
        },
    ))
}

/// The locks held on these entries.
pub async fn locks_of(
    session: &mut Session,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Lock>, StoreError> {
    let mut locks = HashMap::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            "SELECT entry_id, invoice, micros, currency, adjusted_by FROM invoice_locks WHERE entry_id IN ({})",
            placeholders(chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(|id| Value::Text(id.to_string())).collect();
        let rows = session
            .query_map(&sql, &params, |mut row| lock_from_row(&mut row))
            .await?;
        locks.extend(rows);
    }
    Ok(locks)
}

/// The entries of an invoice whose adjustment a later invoice carries.
pub async fn adjusted_later(
    session: &mut Session,
    number: &str,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    session
        .query_map(
            "SELECT entry_id, adjusted_by FROM invoice_locks \
             WHERE invoice = $1 AND adjusted_by IS NOT NULL",
            &[Value::Text(number.to_string())],
            |mut row| {
                Ok((
                    parse_uuid(&row.text("entry_id")?)?,
                    row.text("adjusted_by")?,
                ))
            },
        )
        .await
}

/// The credit notes on an invoice.
pub async fn credit_notes_of(
    session: &mut Session,
    number: &str,
) -> Result<Vec<String>, StoreError> {
    session
        .query_map(
            "SELECT number FROM invoices WHERE refers_to = $1 ORDER BY seq",
            &[Value::Text(number.to_string())],
            |mut row| row.text("number"),
        )
        .await
}

/// Every lock, in entry id order.
pub async fn all_locks(session: &mut Session) -> Result<Vec<(Uuid, Lock)>, StoreError> {
    session
        .query_map(
            "SELECT entry_id, invoice, micros, currency, adjusted_by FROM invoice_locks ORDER BY entry_id",
            &[],
            |mut row| lock_from_row(&mut row),
        )
        .await
}

pub async fn invoice(
    session: &mut Session,
    number: &str,
) -> Result<Option<InvoiceRecord>, StoreError> {
    let sql = format!("SELECT {INVOICE_LIST} FROM invoices WHERE number = $1");
    let rows = session
        .query(&sql, &[Value::Text(number.to_string())])
        .await?;
    rows.into_iter().next().map(invoice_from_row).transpose()
}

/// Every invoice and credit note, in number order.
pub async fn all_invoices(session: &mut Session) -> Result<Vec<InvoiceRecord>, StoreError> {
    let sql = format!("SELECT {INVOICE_LIST} FROM invoices ORDER BY number");
    session.query_map(&sql, &[], invoice_from_row).await
}

/// The last number used in a series and year: in this chain, or in the
/// chain a reset replaced (carried in its first event).
pub async fn last_number(
    session: &mut Session,
    series: &str,
    year: i32,
) -> Result<i64, StoreError> {
    let row = session
        .query_one(
            "SELECT MAX(seq) AS seq FROM invoices WHERE series = $1 AND year = $2",
            &[Value::Text(series.to_string()), Value::Int(i64::from(year))],
        )
        .await?;
    let here = row.opt_int("seq")?.unwrap_or(0);
    Ok(here.max(carried_number(session, series, year).await?))
}

/// The number a reset carried for a series and year.
async fn carried_number(session: &mut Session, series: &str, year: i32) -> Result<i64, StoreError> {
    let Some(first) = event_of_kind(session, "ledger_reset", false).await? else {
        return Ok(0);
    };
    match first.body() {
        Ok(EventBody::LedgerReset(reset)) => Ok(reset
            .invoice_numbers
            .get(&crate::ledger::invoice::numbering_key(series, year))
            .copied()
            .unwrap_or(0)),
        _ => Ok(0),
    }
}

/// The first (or last) event of a kind.
pub async fn event_of_kind(
    session: &mut Session,
    kind: &str,
    last: bool,
) -> Result<Option<Event>, StoreError> {
    let order = if last { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {} FROM events WHERE kind = $1 ORDER BY seq {order} LIMIT 1",
        super::columns::EVENT_LIST
    );
    let rows = session
        .query(&sql, &[Value::Text(kind.to_string())])
        .await?;
    rows.into_iter().next().map(event_from_row).transpose()
}

/// What changed after the chain's event `seq` with hash `hash` (the head a
/// draft read): the entries changed, the clients (folded) whose invoices
/// were issued, voided or credited, and whether that head is gone (a reset
/// started a new chain).
pub async fn changes_since(
    session: &mut Session,
    seq: i64,
    hash: &str,
) -> Result<ChangesSince, StoreError> {
    let mut changes = ChangesSince::default();
    if seq > 0 {
        let at = super::queries::events_at(session, &[seq]).await?;
        if at.first().is_none_or(|e| e.hash.to_hex() != hash) {
            changes.reset = true;
            return Ok(changes);
        }
    }
    let rows = session
        .query_map(
            "SELECT kind, entry_id, CASE WHEN kind IN ('invoice_voided', 'credit_note_issued') \
             THEN payload END AS payload FROM events WHERE seq > $1",
            &[Value::Int(seq)],
            |mut row| {
                Ok((
                    row.text("kind")?,
                    row.opt_text("entry_id")?,
                    row.opt_text("payload")?,
                ))
            },
        )
        .await?;
    let mut numbers = Vec::new();
    for (kind, entry, payload) in rows {
        match (kind.as_str(), payload) {
            ("ledger_reset", _) => changes.reset = true,
            ("invoice_voided", Some(payload)) => {
                if let Ok(EventBody::InvoiceVoided(v)) = EventBody::from_payload(0, &kind, &payload)
                {
                    numbers.push(v.number);
                }
            }
            ("credit_note_issued", Some(payload)) => {
                if let Ok(EventBody::CreditNoteIssued(c)) =
                    EventBody::from_payload(0, &kind, &payload)
                {
                    numbers.push(c.invoice);
                }
            }
            _ => {}
        }
        if kind != "entry_logged" {
            if let Some(entry) = entry {
                changes.entries.insert(parse_uuid(&entry)?);
            }
        }
    }
    let clients = session
        .query_map(
            "SELECT client FROM invoices WHERE kind = 'invoice' AND event_seq > $1",
            &[Value::Int(seq)],
            |mut row| row.text("client"),
        )
        .await?;
    changes.invoiced_clients = clients.iter().map(|c| fold(c)).collect();
    for number in numbers {
        if let Some(record) = invoice(session, &number).await? {
            changes.invoiced_clients.insert(fold(&record.client));
        }
    }
    Ok(changes)
}

/// The locked entries of a client (by folded key) whose cost now differs
/// from what was billed for them: each with its lock.
pub async fn adjustments_due(
    session: &mut Session,
    client_key: &str,
) -> Result<Vec<(Lock, Entry)>, StoreError> {
    // Differences are narrowed in SQL, then exactly in Rust (an uncharged
    // failure counts as zero, which SQL would have to spell per backend).
    let columns: Vec<String> = ENTRY_LIST
        .split(", ")
        .map(|c| format!("e.{c} AS {c}"))
        .collect();
    let sql = format!(
        "SELECT l.entry_id AS lock_entry, l.invoice AS lock_invoice, l.micros AS lock_micros, \
         l.currency AS lock_currency, l.adjusted_by AS lock_adjusted_by, {} \
         FROM invoice_locks l JOIN entries e ON e.id = l.entry_id \
         WHERE e.client_key = $1 AND (e.charged = 0 OR e.cost_micros <> l.micros \
         OR (e.cost_micros IS NULL) <> (l.micros IS NULL) OR e.cost_currency <> l.currency)",
        columns.join(", ")
    );
    session
        .query_map(&sql, &[Value::Text(client_key.to_string())], |mut row| {
            let lock = Lock {
                invoice: row.text("lock_invoice")?,
                micros: row.opt_int("lock_micros")?,
                currency: parse_currency(&row.text("lock_currency")?)?,
                adjusted_by: row.opt_text("lock_adjusted_by")?,
            };
            Ok((lock, entry_from_row(row)?))
        })
        .await
}

/// Writes what invoice events change to the tables.
pub async fn apply<'a>(
    tx: &mut Session,
    events: impl Iterator<Item = (&'a Event, &'a EventBody)>,
) -> Result<(), StoreError> {
    for (event, body) in events {
        match body {
            EventBody::InvoiceIssued(issued) => {
                insert_invoice(tx, &issued_record(issued, event.seq)).await?;
                let mut values = Vec::with_capacity(LOCK_CHUNK * 5);
                let mut lines = issued.each_line().peekable();
                while let Some((group, line)) = lines.next() {
                    let lock = line_lock(&issued.number, group, line);
                    values.push(Value::Text(line.entry().to_string()));
                    values.push(Value::Text(lock.invoice));
                    values.push(lock.micros.into());
                    values.push(Value::Text(lock.currency.to_string()));
                    values.push(Value::Null);
                    if values.len() == LOCK_CHUNK * 5 || lines.peek().is_none() {
                        let insert = RowsInsert {
                            table: "invoice_locks",
                            columns: "entry_id, invoice, micros, currency, adjusted_by",
                            types: &[
                                Column::Text,
                                Column::Text,
                                Column::Int,
                                Column::Text,
                                Column::Text,
                            ],
                            values: std::mem::take(&mut values),
                            on_conflict: "",
                        };
                        tx.insert_groups(&mut std::iter::once(vec![insert])).await?;
                    }
                }
                for adjustment in &issued.adjustments {
                    tx.execute(
                        "UPDATE invoice_locks SET micros = $1, currency = $2, adjusted_by = $3 \
                         WHERE entry_id = $4",
                        &[
                            Value::Int(adjustment.micros),
                            Value::Text(adjustment.currency.to_string()),
                            Value::Text(issued.number.clone()),
                            Value::Text(adjustment.entry.to_string()),
                        ],
                    )
                    .await?;
                }
            }
            EventBody::InvoiceVoided(voided) => {
                let record = invoice(tx, &voided.number).await?.ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "event {} voids invoice {}, which does not exist",
                        event.seq, voided.number
                    ))
                })?;
                tx.execute(
                    "UPDATE invoices SET void_reason = $1 WHERE number = $2",
                    &[
                        Value::Text(voided.reason.clone()),
                        Value::Text(voided.number.clone()),
                    ],
                )
                .await?;
                tx.execute(
                    "DELETE FROM invoice_locks WHERE invoice = $1",
                    &[Value::Text(voided.number.clone())],
                )
                .await?;
                // The adjustments it carried are billed no more.
                let issuing = super::queries::events_at(tx, &[record.event_seq]).await?;
                if let Some(Ok(EventBody::InvoiceIssued(issued))) = issuing.first().map(Event::body)
                {
                    for adjustment in &issued.adjustments {
                        tx.execute(
                            "UPDATE invoice_locks SET micros = $1, currency = $2, adjusted_by = $3 \
                             WHERE entry_id = $4",
                            &[
                                adjustment.previous_micros.into(),
                                Value::Text(adjustment.previous_currency.to_string()),
                                adjustment.previous_adjusted_by.clone().into(),
                                Value::Text(adjustment.entry.to_string()),
                            ],
                        )
                        .await?;
                    }
                }
            }
            EventBody::CreditNoteIssued(credit) => {
                insert_invoice(tx, &credit_record(credit, event.seq)).await?;
                for chunk in credit.entries.chunks(LOOKUP_CHUNK) {
                    let sql = format!(
                        "DELETE FROM invoice_locks WHERE invoice = $1 AND entry_id IN ({})",
                        (2..chunk.len() + 2)
                            .map(|i| format!("${i}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    let mut params = vec![Value::Text(credit.invoice.clone())];
                    params.extend(chunk.iter().map(|id| Value::Text(id.to_string())));
                    tx.execute(&sql, &params).await?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

async fn insert_invoice(tx: &mut Session, record: &InvoiceRecord) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO invoices ({INVOICE_LIST}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    tx.execute(
        &sql,
        &[
            Value::Text(record.number.clone()),
            Value::Text(record.kind.to_string()),
            Value::Text(record.series.clone()),
            Value::Int(i64::from(record.year)),
            Value::Int(record.seq),
            Value::Text(record.client.clone()),
            record.refers_to.clone().into(),
            Value::Text(record.currency.to_string()),
            Value::Int(record.total),
            Value::Int(record.lines),
            Value::Int(record.event_seq),
            record.void_reason.clone().into(),
        ],
    )
    .await?;
    Ok(())
}
