//! The CSV and XLSX exports: every entry matching a filter, newest first,
//! read page by page and written to a writer in bounded memory however
//! large the ledger.

use super::convert::entry_in;
use super::entries::MAX_PAGE;
use super::rates::rate_table;
use crate::error::{Error, Result};
use crate::export::csv::{row, HEADER};
use crate::export::sorted::{SortedLines, RUN_BYTES};
use crate::export::xlsx::XlsxExport;
use crate::fx::{RateTable, RateUsed};
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

/// How the CSV is written: RFC 4180 with `,` by default; spreadsheets in
/// locales whose decimal mark is a comma (Swedish, German) expect `;`, and
/// Excel reads UTF-8 only after a byte-order mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    pub delimiter: u8,
    pub byte_order_mark: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            byte_order_mark: false,
        }
    }
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
    out: impl Write,
    progress: impl FnMut(u64),
) -> Result<Exported> {
    export_csv_with(
        store,
        filter,
        currency,
        CsvOptions::default(),
        out,
        progress,
    )
    .await
}

/// `export_csv` with the delimiter and byte-order mark of `options`.
pub async fn export_csv_with<S: Store>(
    store: &S,
    filter: &Filter,
    currency: Option<Currency>,
    options: CsvOptions,
    mut out: impl Write,
    mut progress: impl FnMut(u64),
) -> Result<Exported> {
    let table = match currency {
        Some(_) => Some(rate_table(store, None).await?),
        None => None,
    };
    if options.byte_order_mark {
        out.write_all("\u{feff}".as_bytes()).map_err(write_failed)?;
    }
    let mut lines = Lines::new(options.delimiter);
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

/// Writes the XLSX workbook of the entries matching `filter` to `out`:
/// the CSV's rows with typed cells, and a sheet of totals per client and
/// project (see `export::xlsx`). `currency` and `progress` as for the CSV.
/// Rows are read newest first through the date index (the workbook is
/// built in memory as it goes).
pub async fn export_xlsx<S: Store>(
    store: &S,
    filter: &Filter,
    currency: Option<Currency>,
    out: impl Write + Send,
    mut progress: impl FnMut(u64),
) -> Result<Exported> {
    let table = match currency {
        Some(_) => Some(rate_table(store, None).await?),
        None => None,
    };
    let table = table.as_ref().zip(currency);
    let mut book = XlsxExport::new().map_err(Error::Io)?;
    let mut snapshot = store.snapshot().await?;
    let head = snapshot.head().await?;
    let (mut pages, reader) = read_ahead(snapshot, filter.clone(), true);
    let mut rows = 0u64;
    while let Some(page) = pages.recv().await {
        for entry in &page? {
            let (entry, rates) = converted(entry, table);
            book.push(&entry, &rates).map_err(Error::Io)?;
            rows += 1;
        }
        progress(rows);
    }
    drop(pages);
    let _ = reader.await;
    book.finish(out).map_err(|e| {
        if e.contains("Broken pipe") {
            Error::ClosedPipe
        } else {
            Error::Io(e)
        }
    })?;
    Ok(Exported {
        rows,
        head_seq: head.seq,
        head: (head.seq > 0).then(|| head.hash.to_hex()),
    })
}

/// An entry with its amounts converted with `table` when given, and the
/// rates used. An amount no rate converts stays in its own currency, which
/// the row's currency columns name.
fn converted(entry: &Entry, table: Option<(&RateTable, Currency)>) -> (Entry, Vec<RateUsed>) {
    match table.map(|(table, to)| entry_in(table, entry, to)) {
        Some(Ok(converted)) => (converted.entry, converted.rates),
        _ => (entry.clone(), Vec::new()),
    }
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
struct Lines {
    writer: csv::Writer<Vec<u8>>,
    delimiter: u8,
}

impl Lines {
    fn new(delimiter: u8) -> Lines {
        Lines {
            writer: Lines::writer(Vec::new(), delimiter),
            delimiter,
        }
    }

    fn writer(buffer: Vec<u8>, delimiter: u8) -> csv::Writer<Vec<u8>> {
        csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(buffer)
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
        if self.writer.get_ref().len() > 1 << 20 {
            let emptied = Lines::writer(Vec::new(), self.delimiter);
            let writer = std::mem::replace(&mut self.writer, emptied);
            let mut buffer = writer
                .into_inner()
                .map_err(|e| failed(e.into_error().into()))?;
            buffer.clear();
            self.writer = Lines::writer(buffer, self.delimiter);
        }
        let start = self.writer.get_ref().len();
        self.writer.write_record(record).map_err(failed)?;
        self.writer.flush().map_err(|e| failed(e.into()))?;
        Ok(&self.writer.get_ref()[start..])
    }
}
