//! The CSV export: every entry matching a filter, newest first, streamed
//! page by page to a writer, so memory stays constant however large the
//! ledger.

use super::convert::entry_in;
use super::entries::MAX_PAGE;
use super::rates::rate_table;
use crate::error::{Error, Result};
use crate::export::csv::{row, HEADER};
use crate::money::Currency;
use crate::store::{Cursor, Filter, LedgerSnapshot, Page, Store};
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
/// the rows written so far after each page.
pub async fn export_csv<S: Store>(
    store: &S,
    filter: &Filter,
    currency: Option<Currency>,
    out: impl Write,
    mut progress: impl FnMut(u64),
) -> Result<Exported> {
    let table = match currency {
        Some(_) => Some(rate_table(store, None).await?),
        None => None,
    };
    let mut writer = csv::Writer::from_writer(out);
    let failed = |e: csv::Error| match e.kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe => Error::ClosedPipe,
        _ => Error::Io(format!("cannot write the CSV: {e}")),
    };
    writer.write_record(HEADER).map_err(failed)?;
    let mut snapshot = store.snapshot().await?;
    let head = snapshot.head().await?;
    let mut rows = 0u64;
    let mut after: Option<Cursor> = None;
    loop {
        let page = snapshot
            .list(
                filter,
                Page {
                    limit: MAX_PAGE,
                    after,
                },
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(Cursor::after(last));
        for entry in page {
            let cells = match (&table, currency) {
                // An amount no rate converts stays in its own currency,
                // which the row's currency columns name.
                (Some(table), Some(to)) => match entry_in(table, &entry, to) {
                    Ok(converted) => row(&converted.entry, &converted.rates),
                    Err(_) => row(&entry, &[]),
                },
                _ => row(&entry, &[]),
            };
            writer.write_record(&cells).map_err(failed)?;
            rows += 1;
        }
        progress(rows);
    }
    writer.flush().map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Error::ClosedPipe,
        _ => Error::Io(format!("cannot write the CSV: {e}")),
    })?;
    Ok(Exported {
        rows,
        head_seq: head.seq,
        head: (head.seq > 0).then(|| head.hash.to_hex()),
    })
}
