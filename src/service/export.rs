//! The CSV export: every entry matching a filter, newest first, streamed
//! page by page to a writer, so memory stays constant however large the
//! ledger.

use super::convert::entry_in;
use super::entries::MAX_PAGE;
use super::rates::rate_table;
use crate::error::{Error, Result};
use crate::export::csv::{row, HEADER};
use crate::money::Currency;
use crate::store::{Cursor, Filter, Page, Store};
use std::io::Write;

/// What an export wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Exported {
    pub rows: u64,
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
    let mut rows = 0u64;
    let mut after: Option<Cursor> = None;
    loop {
        let page = store
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
    Ok(Exported { rows })
}
