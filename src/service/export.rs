//! The CSV export: every entry matching a filter, newest first, read page
//! by page and written to a writer in bounded memory however large the
//! ledger.

use super::convert::entry_in;
use super::entries::MAX_PAGE;
use super::rates::rate_table;
use crate::error::{Error, Result};
use crate::export::csv::{row, HEADER};
use crate::export::sorted::{SortedLines, RUN_BYTES};
use crate::fx::RateTable;
use crate::ledger::Entry;
use crate::money::Currency;
use crate::store::{Cursor, Filter, LedgerSnapshot, Page, Store, StoreError};
use std::io::Write;

/// What an export wrote, and the state of the ledger it was read from:
/// every row comes from one snapshot, the chain's head at `head_seq`
/// (`head` its hash; `None` for an empty ledger), whatever was logged
/// while it was written.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Exported {
    pub rows: u64,
    pub head_seq: i64,
    pub head: Option<String>,
}

/// Writes the CSV of the entries matching `filter` to `out` (UTF-8, RFC 4180
/// quoting). With `currency`, every amount is converted at its own day's
/// rate, and each row names the date of the rate used. `progress` is told
/// the rows read so far after each page.
///
/// A filter bounded in time reads its entries newest first through the
/// date index, page by page, straight to `out`. Any other reads the whole
/// table once in log order and sorts the rows newest first in bounded
/// memory (`export::sorted`): through the date index, a ledger whose dates
/// do not follow log order (an unsorted import) cost a random page read per
/// row.
pub async fn export_csv<S: Store>(
    store: &S,
    filter: &Filter,
    currency: Option<Currency>,
    mut out: impl Write,
    mut progress: impl FnMut(u64),
) -> Result<Exported> {
    let table = match currency {
        Some(_) => Some(rate_table(store, None).await?),
        None => None,
    };
    let mut lines = Lines::new();
    out.write_all(lines.format(HEADER.iter().copied())?)
        .map_err(write_failed)?;
    let mut snapshot = store.snapshot().await?;
    let head = snapshot.head().await?;
    let table = table.as_ref().zip(currency);
    let by_date = filter.since.is_some() || filter.until.is_some();
    let (mut pages, reader) = read_ahead(snapshot, filter.clone(), by_date);
    let mut sorted = (!by_date).then(|| SortedLines::new(RUN_BYTES));
    let mut rows = 0u64;
    while let Some(page) = pages.recv().await {
        for entry in &page? {
            let line = lines.entry(entry, table)?;
            match &mut sorted {
                Some(sorted) => sorted
                    .push((entry.occurred_at.0, entry.position), line)
                    .map_err(|e| Error::Io(format!("cannot sort the CSV's rows: {e}")))?,
                None => out.write_all(line).map_err(write_failed)?,
            }
            rows += 1;
        }
        progress(rows);
    }
    drop(pages);
    let _ = reader.await;
    if let Some(sorted) = sorted {
        sorted.write_to(&mut out).map_err(write_failed)?;
    }
    out.flush().map_err(write_failed)?;
    Ok(Exported {
        rows,
        head_seq: head.seq,
        head: (head.seq > 0).then(|| head.hash.to_hex()),
    })
}

/// Reads the pages of an export on a task of their own, one page ahead of
/// the writing: by date (newest first) or in log order. Ends after the
/// last page, after an error, or when the receiver is dropped.
fn read_ahead<T: LedgerSnapshot + 'static>(
    mut snapshot: T,
    filter: Filter,
    by_date: bool,
) -> (
    tokio::sync::mpsc::Receiver<std::result::Result<Vec<Entry>, StoreError>>,
    tokio::task::JoinHandle<()>,
) {
    let (pages, received) = tokio::sync::mpsc::channel(1);
    let reader = tokio::spawn(async move {
        let mut after: Option<Cursor> = None;
        loop {
            let page = if by_date {
                let page = Page {
                    limit: MAX_PAGE,
                    after,
                };
                snapshot.list(&filter, page).await
            } else {
                let position = after.map_or(0, |cursor| cursor.position);
                snapshot
                    .list_in_log_order(&filter, position, MAX_PAGE)
                    .await
            };
            let last = page.as_ref().ok().and_then(|p| p.last()).map(Cursor::after);
            if pages.send(page).await.is_err() {
                return;
            }
            match last {
                Some(cursor) => after = Some(cursor),
                None => return,
            }
        }
    });
    (received, reader)
}

fn write_failed(e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::BrokenPipe => Error::ClosedPipe,
        _ => Error::Io(format!("cannot write the CSV: {e}")),
    }
}

/// Formats records as CSV lines, one at a time.
struct Lines(csv::Writer<Vec<u8>>);

impl Lines {
    fn new() -> Lines {
        Lines(csv::Writer::from_writer(Vec::new()))
    }

    /// The line of an entry, its amounts converted with `table` when given.
    fn entry(&mut self, entry: &Entry, table: Option<(&RateTable, Currency)>) -> Result<&[u8]> {
        let cells = match table {
            // An amount no rate converts stays in its own currency,
            // which the row's currency columns name.
            Some((table, to)) => match entry_in(table, entry, to) {
                Ok(converted) => row(&converted.entry, &converted.rates),
                Err(_) => row(entry, &[]),
            },
            None => row(entry, &[]),
        };
        self.format(cells.iter())
    }

    /// The line of one record, with its line ending.
    fn format<T: AsRef<[u8]>>(&mut self, record: impl IntoIterator<Item = T>) -> Result<&[u8]> {
        let failed = |e: csv::Error| Error::Io(format!("cannot write the CSV: {e}"));
        // Lines are formatted one after another into one buffer, emptied
        // now and then (the writer lends its buffer only by value).
        if self.0.get_ref().len() > 1 << 20 {
            let writer = std::mem::replace(&mut self.0, csv::Writer::from_writer(Vec::new()));
            let mut buffer = writer
                .into_inner()
                .map_err(|e| failed(e.into_error().into()))?;
            buffer.clear();
            self.0 = csv::Writer::from_writer(buffer);
        }
        let start = self.0.get_ref().len();
        self.0.write_record(record).map_err(failed)?;
        self.0.flush().map_err(|e| failed(e.into()))?;
        Ok(&self.0.get_ref()[start..])
    }
}
