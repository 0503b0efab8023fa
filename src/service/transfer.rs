//! Moving whole ledgers: `db copy` between backends, the backup written
//! before a reset, and the reset itself. A copy carries the events exactly,
//! hashes and all, and rebuilds the target's view by replaying them.

use crate::error::{Error, Result};
use crate::ledger::event::LedgerReset;
use crate::ledger::Event;
use crate::store::{DatabaseUrl, LedgerSnapshot, SqlStore, Store};
use crate::timestamp::Timestamp;
use std::path::{Path, PathBuf};

const COPY_PAGE: i64 = 10_000;

/// The word `reset` requires, exactly.
pub const RESET_WORD: &str = "DELETE";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CopyReport {
    pub events: i64,
    pub entries: i64,
}

/// Copies every event of `from` into the empty ledger `to`. `progress` is
/// told how many events are done out of how many.
pub async fn copy<A: Store, B: Store>(
    from: &A,
    to: &B,
    mut progress: impl FnMut(i64, i64),
) -> Result<CopyReport> {
    let target = to.info().await?;
    if target.events > 0 || target.entries > 0 {
        return Err(Error::input(format!(
            "the target ledger {} is not empty ({} events); copy only into an empty ledger",
            target.location, target.events
        )));
    }
    let mut snapshot = from.snapshot().await?;
    let (total_events, _) = snapshot.counts().await?;
    let mut done = 0i64;
    let mut after = 0i64;
    loop {
        let page: Vec<Event> = snapshot.events_page(after, COPY_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        to.append_events(&page).await?;
        done += page.len() as i64;
        progress(done, total_events);
    }
    // Imported exchange rates and synced unit prices travel with the
    // ledger, so totals stay the same and runs settle at the same prices.
    let rates = from.rates(None).await?;
    to.import_rates(&rates).await?;
    let prices = from.unit_prices().await?;
    if !prices.is_empty() {
        to.copy_unit_prices(&prices).await?;
    }
    // Webhooks and their secrets too (reference data, like prices); the
    // deliveries still owed stay with the ledger that owes them.
    let present: Vec<String> = to
        .webhooks()
        .await?
        .into_iter()
        .map(|(w, _)| w.id)
        .collect();
    for (webhook, _) in from.webhooks().await? {
        if !present.contains(&webhook.id) {
            to.add_webhook(&webhook).await?;
        }
    }
    let copied = to.info().await?;
    Ok(CopyReport {
        events: copied.events,
        entries: copied.entries,
    })
}

/// Writes a complete copy of the ledger into a new SQLite file at `path`.
pub async fn backup<S: Store>(store: &S, path: &Path) -> Result<CopyReport> {
    if path.exists() {
        return Err(Error::Io(format!(
            "backup file {} already exists",
            path.display()
        )));
    }
    let target = SqlStore::open(&DatabaseUrl::Sqlite(path.to_path_buf())).await?;
    let result = copy(store, &target, |_, _| {}).await;
    if result.is_err() {
        // A half-written backup is worse than none.
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Where a backup goes: beside a SQLite ledger, else in `fallback_dir`.
pub fn backup_path(
    url: &DatabaseUrl,
    dir: Option<&Path>,
    fallback_dir: &Path,
    at: Timestamp,
) -> PathBuf {
    let stamp = at.compact_label();
    let (default_dir, stem) = match url {
        DatabaseUrl::Sqlite(path) => (
            path.parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| fallback_dir.to_path_buf()),
            path.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("ledger")
                .to_string(),
        ),
        DatabaseUrl::Postgres(_) => (fallback_dir.to_path_buf(), "ledger".to_string()),
    };
    let dir = dir.map(Path::to_path_buf).unwrap_or(default_dir);
    dir.join(format!("{stem}-backup-{stamp}.db"))
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResetReport {
    pub backup: String,
    pub events_backed_up: i64,
    pub previous_head: Option<String>,
}

/// Clears the ledger after writing a full backup. Refuses unless `word` is
/// exactly `DELETE`.
pub async fn reset<S: Store>(
    store: &S,
    word: &str,
    backup_file: &Path,
    including_invoices: bool,
) -> Result<ResetReport> {
    if word != RESET_WORD {
        return Err(Error::input(format!(
            "reset refused: type the word {RESET_WORD} exactly (case-sensitive) to confirm; nothing was removed"
        )));
    }
    // The numbers and the head from one read: an invoice issued after it
    // changes the head, and the reset then refuses.
    let (invoice_numbers, head) = invoice_numbers(store, including_invoices).await?;
    if let Some(parent) = backup_file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::Io(format!("cannot create {}: {e}", parent.display())))?;
    }
    let copied = backup(store, backup_file).await?;
    let backup = backup_file.display().to_string();
    let previous_head = (head.seq > 0).then(|| head.hash.to_hex());
    let first = LedgerReset {
        previous_head: previous_head.clone(),
        previous_events: head.seq,
        backup: Some(backup.clone()),
        invoice_numbers,
    };
    if let Err(e) = store.reset(head, first, Timestamp::now()).await {
        // Nothing was removed: the copy backs up no reset, so it goes too
        // (a reset run again writes a new one).
        let _ = std::fs::remove_file(backup_file);
        return Err(e.into());
    }
    Ok(ResetReport {
        backup,
        events_backed_up: copied.events,
        previous_head,
    })
}

/// Clears the ledger after a full backup written to `dir`, or to the usual
/// place: beside a SQLite ledger, else `backups/` in the data directory.
pub async fn reset_with_backup(
    store: &crate::store::SqlStore,
    word: &str,
    dir: Option<&Path>,
    including_invoices: bool,
) -> Result<ResetReport> {
    let fallback = crate::config::data_dir()?.join("backups");
    let path = backup_path(store.url(), dir, &fallback, Timestamp::now());
    reset(store, word, &path, including_invoices).await
}

/// The last number used per series and year, to carry into the new chain;
/// refuses while the ledger holds invoices unless they go too.
async fn invoice_numbers<S: Store>(
    store: &S,
    including_invoices: bool,
) -> Result<(std::collections::BTreeMap<String, i64>, crate::ledger::Head)> {
    use crate::ledger::invoice::numbering_key;
    use crate::store::LedgerSnapshot;
    let mut snapshot = store.snapshot().await?;
    let head = snapshot.head().await?;
    let invoices = snapshot.invoices().await?;
    if !invoices.is_empty() && !including_invoices {
        return Err(Error::input(format!(
            "reset refused: the ledger holds {} invoices and credit notes; a reset would take what they billed out of the ledger. \
             Reset including invoices to go on (--including-invoices; the backup keeps them, and numbering goes on after the highest number used); nothing was removed",
            invoices.len()
        )));
    }
    let mut numbers = match snapshot.event_of_kind("ledger_reset", false).await? {
        Some(event) => match event.body() {
            Ok(crate::ledger::EventBody::LedgerReset(reset)) => reset.invoice_numbers,
            _ => Default::default(),
        },
        None => Default::default(),
    };
    for invoice in invoices {
        let last = numbers
            .entry(numbering_key(&invoice.series, invoice.year))
            .or_insert(0);
        *last = (*last).max(invoice.seq);
    }
    Ok((numbers, head))
}
