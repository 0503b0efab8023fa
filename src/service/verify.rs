//! `verify`: recomputes the hash chain and checks that the stored view of
//! entries equals a replay of the events. The chain and the view are scanned
//! at the same time, on two snapshots of the same state, and compared by a
//! 64-bit fingerprint of each entry's whole stored row (derived columns
//! included), so memory stays small on large ledgers and no stored value
//! escapes the check.

use crate::ledger::budget::{Budget, BudgetBook, BudgetScope};
use crate::ledger::event::Hash;
use crate::ledger::invoice::InvoiceBook;
use crate::ledger::replay::{into_entry, replay_entries, Positions};
use crate::ledger::{Event, EventBody, Head};
use crate::store::{
    LedgerSnapshot, RollupSums, RowDigest, Store, StoreError, StoredBudgets, ENTRY_COLUMNS,
    EVENT_COLUMNS,
};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

const PAGE: i64 = 5_000;

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub events: i64,
    pub entries: i64,
    pub head: Option<String>,
    /// The first problem found, if any.
    pub problem: Option<String>,
}

impl VerifyReport {
    pub fn is_sound(&self) -> bool {
        self.problem.is_none()
    }
}

pub async fn verify<S: Store + 'static>(store: Arc<S>) -> Result<VerifyReport, StoreError> {
    let [chain_snapshot, view_snapshot] = matching_snapshots(&*store).await?;
    verify_snapshots(chain_snapshot, view_snapshot).await
}

/// `verify` of the state two snapshots of one head see (from
/// `matching_snapshots`): the report reads its entries from a third.
pub async fn verify_snapshots<T: LedgerSnapshot + 'static>(
    mut chain_snapshot: T,
    view_snapshot: T,
) -> Result<VerifyReport, StoreError> {
    if let Some(problem) = unchecked_columns(&mut chain_snapshot).await? {
        let (events, entries) = chain_snapshot.counts().await?;
        return Ok(VerifyReport {
            events,
            entries,
            head: None,
            problem: Some(problem),
        });
    }
    // One key for both sides of this check, drawn afresh for each check.
    let digest = Arc::new(RowDigest::new());
    let view_scan = tokio::spawn(scan_view(view_snapshot, Arc::clone(&digest)));
    let (chain, mut chain_snapshot) = replay_chain(chain_snapshot, &digest).await?;
    let view = view_scan
        .await
        .map_err(|e| StoreError::Database(format!("the view scan stopped: {e}")))??;

    let mut report = VerifyReport {
        events: chain.events,
        entries: 0,
        head: chain.head,
        problem: chain.problem,
    };
    if report.problem.is_some() {
        return Ok(report);
    }
    // Every row is accounted for: the scans start after position 0, so a
    // row put at position 0 or below by hand would otherwise go unread.
    let (stored_events, stored_entries) = chain_snapshot.counts().await?;
    let scanned_entries = view.fingerprints.len() as i64;
    if stored_events != chain.events || stored_entries != scanned_entries {
        report.problem = Some(format!(
            "the events and entries tables hold {stored_events} and {stored_entries} rows, \
             but the chain has {} events and the view {scanned_entries} entries in order: \
             rows were added by hand outside the chain",
            chain.events
        ));
        return Ok(report);
    }
    // Both lists are in id order: walk them side by side.
    let mut replayed = chain.fingerprints.iter().peekable();
    for (id, print) in &view.fingerprints {
        if let Some((missing, _)) = replayed.next_if(|(r, _)| r < id) {
            report.problem = Some(format!(
                "entry {missing}: logged by an event but missing from the view"
            ));
            return Ok(report);
        }
        match replayed.next_if(|(r, _)| r == id) {
            None => {
                report.problem = Some(format!(
                    "entry {id}: in the view but never logged by an event"
                ));
                return Ok(report);
            }
            Some((_, expected)) if expected != print => {
                report.problem = Some(format!(
                    "entry {id}: the view differs from a replay of its events"
                ));
                return Ok(report);
            }
            Some(_) => report.entries += 1,
        }
    }
    if let Some((missing, _)) = replayed.next() {
        report.problem = Some(format!(
            "entry {missing}: logged by an event but missing from the view"
        ));
        return Ok(report);
    }
    if let Some(problem) = invoice_difference(&mut chain_snapshot, &chain.invoices).await? {
        report.problem = Some(problem);
        return Ok(report);
    }
    if let Some(problem) = budget_difference(&view.budgets_stored, &chain.budgets) {
        report.problem = Some(problem);
        return Ok(report);
    }
    // The view equals the replay, so the rollups must equal the view's sums.
    if let Some(key) = view.rollups.first_difference(&view.rollups_stored) {
        if key.rollup == crate::store::Rollup::Budget {
            let (name, state) = key
                .key
                .as_deref()
                .and_then(crate::ledger::budget::split_sum_key)
                .map_or(("?", "?"), |(n, s)| (n, s.as_str()));
            report.problem = Some(format!(
                "the sums of budget '{name}' ({state}) in {} on {} differ from its entries",
                key.currency,
                crate::timestamp::day_label(key.day)
            ));
            return Ok(report);
        }
        report.problem = Some(format!(
            "the cost rollup for {:?} '{}' in {} on {} differs from the sum of its entries",
            key.rollup,
            key.key.as_deref().unwrap_or("(none)"),
            key.currency,
            crate::timestamp::day_label(key.day)
        ));
    }
    Ok(report)
}

/// The first difference between the stored budgets and crossed thresholds
/// and those a replay of the budget events leaves.
fn budget_difference(stored: &StoredBudgets, book: &BudgetBook) -> Option<String> {
    let (budgets, alerts) = stored;
    for (key, definition, seq) in budgets {
        match book.budgets.get(key) {
            Some((expected, at)) if expected == definition && at == seq => {}
            Some(_) => {
                return Some(format!(
                    "budget '{key}': the stored budget differs from a replay of its events"
                ))
            }
            None => return Some(format!("budget '{key}': stored but never set by an event")),
        }
    }
    if let Some(missing) = book
        .budgets
        .keys()
        .find(|k| !budgets.iter().any(|(key, _, _)| key == *k))
    {
        return Some(format!(
            "budget '{missing}': set by an event but missing from the budgets table"
        ));
    }
    let stored_alerts: std::collections::BTreeMap<(String, i64, i64), i64> = alerts
        .iter()
        .map(|(k, start, t, seq)| ((k.clone(), *start, *t), *seq))
        .collect();
    if stored_alerts != book.alerts {
        return Some(
            "the budget alerts table differs from the thresholds the chain records as crossed"
                .to_string(),
        );
    }
    None
}

/// The first difference between the stored invoices and locks and those a
/// replay of the invoice events leaves.
async fn invoice_difference<T: LedgerSnapshot>(
    snapshot: &mut T,
    book: &InvoiceBook,
) -> Result<Option<String>, StoreError> {
    // Sorted here: a database's collation may order text otherwise.
    let mut stored = snapshot.invoices().await?;
    stored.sort_by(|a, b| a.number.cmp(&b.number));
    let mut replayed = book.invoices.values();
    for record in &stored {
        match replayed.next() {
            Some(expected) if expected == record => {}
            Some(expected) if expected.number == record.number => {
                return Ok(Some(format!(
                    "invoice {}: the stored invoice differs from a replay of its events",
                    record.number
                )))
            }
            _ => {
                return Ok(Some(format!(
                    "invoice {}: stored but not issued by an event in that order",
                    record.number
                )))
            }
        }
    }
    if let Some(missing) = replayed.next() {
        return Ok(Some(format!(
            "invoice {}: issued by event {} but missing from the invoices table",
            missing.number, missing.event_seq
        )));
    }
    let mut locks = snapshot.invoice_locks().await?;
    locks.sort_by_key(|(id, _)| *id);
    if locks.len() != book.locks.len() {
        return Ok(Some(format!(
            "the invoice locks hold {} entries, but the invoice events lock {}",
            locks.len(),
            book.locks.len()
        )));
    }
    for ((id, lock), (expected_id, expected)) in locks.iter().zip(&book.locks) {
        if id != expected_id || lock != expected {
            return Ok(Some(format!(
                "entry {id}: its invoice lock differs from a replay of the invoice events"
            )));
        }
    }
    Ok(None)
}

/// A column of the ledger's tables that this binary does not write and so
/// could not check, named as a problem.
async fn unchecked_columns<T: LedgerSnapshot>(
    snapshot: &mut T,
) -> Result<Option<String>, StoreError> {
    const INVOICE_COLUMNS: &[&str] = &[
        "number",
        "kind",
        "series",
        "year",
        "seq",
        "client",
        "refers_to",
        "currency",
        "total_micros",
        "lines",
        "event_seq",
        "void_reason",
    ];
    const LOCK_COLUMNS: &[&str] = &["entry_id", "invoice", "micros", "currency", "adjusted_by"];
    const BUDGET_COLUMNS: &[&str] = &["budget_key", "definition", "event_seq"];
    const ALERT_COLUMNS: &[&str] = &["budget_key", "period_start", "threshold", "event_seq"];
    for (table, known) in [
        ("budgets", BUDGET_COLUMNS),
        ("budget_alerts", ALERT_COLUMNS),
        ("entries", ENTRY_COLUMNS),
        ("events", EVENT_COLUMNS),
        ("invoices", INVOICE_COLUMNS),
        ("invoice_locks", LOCK_COLUMNS),
    ] {
        let columns = snapshot.table_columns(table).await?;
        if let Some(extra) = columns.iter().find(|c| !known.contains(&c.as_str())) {
            return Ok(Some(format!(
                "the {table} table has a column '{extra}' that this gencost does not know, so it cannot be checked"
            )));
        }
    }
    Ok(None)
}

/// `N` snapshots of one state of the ledger.
pub async fn matching_snapshots<S: Store, const N: usize>(
    store: &S,
) -> Result<[S::Snapshot; N], StoreError> {
    let all = store.snapshots(N).await?;
    all.try_into()
        .map_err(|_| StoreError::Database("fewer snapshots than asked for".into()))
}

struct ChainScan {
    events: i64,
    head: Option<String>,
    problem: Option<String>,
    /// (entry id, fingerprint of its replay), in id order.
    fingerprints: Vec<(Uuid, u64)>,
    /// The invoices and locks the chain's invoice events leave.
    invoices: InvoiceBook,
    /// The budgets and crossed thresholds its budget events leave.
    budgets: BudgetBook,
}

/// An entry as the chain logged it.
struct Logged {
    id: Uuid,
    /// The digest of its replayed row.
    print: u64,
    /// The event that logged it.
    seq: i64,
    /// Its place in log order.
    position: i64,
}

/// Reads the chain's events page after page on a task of its own, one page
/// ahead of the checks, and hands the snapshot back when the reading ends
/// (at the end of the chain, on an error, or when the checks stop early).
fn read_ahead<T: LedgerSnapshot + 'static>(
    mut snapshot: T,
) -> (
    tokio::sync::mpsc::Receiver<Result<Vec<Event>, StoreError>>,
    tokio::task::JoinHandle<T>,
) {
    let (pages, received) = tokio::sync::mpsc::channel(1);
    let reader = tokio::spawn(async move {
        let mut after = 0;
        loop {
            let page = snapshot.events_page(after, PAGE).await;
            let last = page.as_ref().ok().and_then(|p| p.last()).map(|e| e.seq);
            if pages.send(page).await.is_err() {
                break;
            }
            match last {
                Some(seq) => after = seq,
                None => break,
            }
        }
        snapshot
    });
    (received, reader)
}

/// Checks every link of the chain and replays the entries it logs.
async fn replay_chain<T: LedgerSnapshot + 'static>(
    snapshot: T,
    digest: &RowDigest,
) -> Result<(ChainScan, T), StoreError> {
    let mut scan = ChainScan {
        events: 0,
        head: None,
        problem: None,
        fingerprints: Vec::new(),
        invoices: InvoiceBook::default(),
        budgets: BudgetBook::default(),
    };
    let mut expected = Head::EMPTY;
    let mut positions = Positions::default();
    let mut logged: Vec<Logged> = Vec::new();
    // (entry id, position of the change event)
    let mut changed: Vec<(Uuid, i64)> = Vec::new();
    let (mut pages, reader) = read_ahead(snapshot);
    'pages: while let Some(page) = pages.recv().await {
        let page = page?;
        if page.is_empty() {
            break;
        }
        for event in &page {
            let problem = if event.seq != expected.seq + 1 {
                Some(format!(
                    "event {}: expected event {} here; the chain has a gap",
                    event.seq,
                    expected.seq + 1
                ))
            } else if event.prev_hash != expected.hash {
                Some(format!(
                    "event {}: its previous hash does not match event {}",
                    event.seq, expected.seq
                ))
            } else if event.compute_hash() != event.hash {
                Some(format!(
                    "event {}: its hash does not match its contents (the event was altered)",
                    event.seq
                ))
            } else {
                match event.body() {
                    Err(e) => Some(e.to_string()),
                    Ok(body) if body.entry_id() != event.entry_id => Some(format!(
                        "event {}: its entry id does not match its payload",
                        event.seq
                    )),
                    Ok(EventBody::LedgerReset(_)) => (event.seq != 1)
                        .then(|| format!("event {}: a reset can only start a chain", event.seq)),
                    Ok(body) if body.logs_entries() => {
                        for record in body.into_logged_records() {
                            let position = positions.next(event.seq);
                            let id = record.id;
                            let entry = into_entry(record, position, event.recorded_at);
                            logged.push(Logged {
                                id,
                                print: digest.entry(entry),
                                seq: event.seq,
                                position,
                            });
                        }
                        None
                    }
                    Ok(change) => {
                        if let Some(id) = change.entry_id().filter(|_| change.changes_entry()) {
                            changed.push((id, event.seq));
                        }
                        scan.invoices.apply(event.seq, &change);
                        scan.budgets.apply(event.seq, &change);
                        None
                    }
                }
            };
            if problem.is_some() {
                scan.problem = problem;
                break 'pages;
            }
            expected = Head {
                seq: event.seq,
                hash: event.hash,
            };
            scan.events += 1;
        }
    }
    drop(pages);
    let mut snapshot = reader
        .await
        .map_err(|e| StoreError::Database(format!("the chain's reader stopped: {e}")))?;
    scan.head = (expected.hash != Hash::GENESIS).then(|| expected.hash.to_hex());
    if scan.problem.is_some() {
        return Ok((scan, snapshot));
    }

    // Each entry logged once, and changed only after it was logged.
    logged.sort_unstable_by_key(|l| l.id);
    if let Some(pair) = logged.windows(2).find(|w| w[0].id == w[1].id) {
        let seq = pair[0].seq.max(pair[1].seq);
        scan.problem = Some(format!("event {seq}: entry {} is logged twice", pair[0].id));
        return Ok((scan, snapshot));
    }
    let find = |logged: &[Logged], id: &Uuid| logged.binary_search_by_key(id, |l| l.id).ok();
    for (id, seq) in &changed {
        if find(&logged, id).is_none_or(|i| logged[i].seq >= *seq) {
            scan.problem = Some(format!(
                "event {seq}: changes entry {id}, which was not logged before it"
            ));
            return Ok((scan, snapshot));
        }
    }

    // Entries changed after logging: replay them from their logging events
    // and their changes, in groups that share few logging events (an
    // import's events carry a thousand rows each).
    let mut changed: Vec<(i64, Uuid)> = changed
        .into_iter()
        .filter_map(|(id, _)| find(&logged, &id).map(|i| (logged[i].seq, id)))
        .collect();
    changed.sort_unstable();
    changed.dedup();
    for group in changed_groups(&changed) {
        let mut seqs: Vec<i64> = group.iter().map(|(seq, _)| *seq).collect();
        seqs.dedup();
        let ids: Vec<Uuid> = group.iter().map(|(_, id)| *id).collect();
        let wanted: HashMap<Uuid, i64> = ids
            .iter()
            .filter_map(|id| find(&logged, id).map(|i| (*id, logged[i].position)))
            .collect();
        let mut events = snapshot.events_at(&seqs).await?;
        events.extend(snapshot.change_events(&ids).await?);
        events.retain(|e| e.seq <= expected.seq);
        events.sort_by_key(|e| e.seq);
        let replayed =
            replay_entries(&events, &wanted).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for (id, entry) in replayed {
            if let Some(i) = find(&logged, &id) {
                logged[i].print = digest.entry(entry);
            }
        }
    }
    scan.fingerprints = logged.into_iter().map(|l| (l.id, l.print)).collect();
    Ok((scan, snapshot))
}

/// Splits changed entries, in order of their logging events, into groups of
/// at most `PAGE` entries and `LOGGING_EVENTS` distinct logging events.
fn changed_groups(changed: &[(i64, Uuid)]) -> Vec<&[(i64, Uuid)]> {
    const LOGGING_EVENTS: usize = 16;
    let mut groups = Vec::new();
    let mut start = 0;
    let mut events = 0;
    for i in 0..changed.len() {
        let new_event = i == start || changed[i].0 != changed[i - 1].0;
        if i > start && (i - start == PAGE as usize || (new_event && events == LOGGING_EVENTS)) {
            groups.push(&changed[start..i]);
            start = i;
            events = 0;
        }
        if i == start || new_event {
            events += 1;
        }
    }
    if start < changed.len() {
        groups.push(&changed[start..]);
    }
    groups
}

struct ViewScan {
    /// (entry id, fingerprint of the stored row), in id order.
    fingerprints: Vec<(Uuid, u64)>,
    /// What the stored rows add up to per rollup row.
    rollups: RollupSums,
    /// The rollups as stored, read in the same snapshot.
    rollups_stored: RollupSums,
    /// The budgets as stored (their sums are recomputed from these, and
    /// these are compared with the chain).
    budgets_stored: StoredBudgets,
}

async fn scan_view<T: LedgerSnapshot>(
    mut snapshot: T,
    digest: Arc<RowDigest>,
) -> Result<ViewScan, StoreError> {
    let budgets_stored = snapshot.stored_budgets().await?;
    let scopes: Vec<BudgetScope> = budgets_stored
        .0
        .iter()
        .map(|(key, definition, _)| {
            serde_json::from_str::<Budget>(definition)
                .map(|b| BudgetScope::of(&b))
                .map_err(|e| StoreError::Corrupt(format!("budget '{key}': {e}")))
        })
        .collect::<Result<_, _>>()?;
    let scopes = Arc::new(scopes);
    let mut scan = ViewScan {
        fingerprints: Vec::new(),
        rollups: RollupSums::default(),
        rollups_stored: snapshot.rollups().await?,
        budgets_stored,
    };
    let mut after = 0;
    loop {
        let page = snapshot.view_page(after, PAGE, &digest, &scopes).await?;
        let Some(last) = page.rows.last() else { break };
        after = last.position;
        scan.fingerprints
            .extend(page.rows.iter().map(|row| (row.id, row.fingerprint)));
        scan.rollups.merge(page.sums);
    }
    scan.rollups = scan.rollups.without_zeros();
    // Read in log order (SQLite's table order), compared in id order.
    scan.fingerprints.sort_unstable_by_key(|(id, _)| *id);
    Ok(scan)
}
