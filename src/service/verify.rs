//! `verify`: recomputes the hash chain and checks that the stored view of
//! entries equals a replay of the events. The chain and the view are scanned
//! at the same time, on two snapshots of the same state, and compared by a
//! 64-bit fingerprint of each entry's whole stored row (derived columns
//! included), so memory stays small on large ledgers and no stored value
//! escapes the check.

use crate::ledger::event::Hash;
use crate::ledger::replay::{entry_from_record, replay_entry};
use crate::ledger::{EventBody, Head};
use crate::store::{
    LedgerSnapshot, RollupSums, RowDigest, Store, StoreError, ENTRY_COLUMNS, EVENT_COLUMNS,
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
    let (mut chain_snapshot, view_snapshot) = matching_snapshots(&*store).await?;
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
    let chain = replay_chain(&mut chain_snapshot, &digest).await?;
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
    // The view equals the replay, so the rollups must equal the view's sums.
    if let Some(key) = view.rollups.first_difference(&view.rollups_stored) {
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

/// A column of the ledger's tables that this binary does not write and so
/// could not check, named as a problem.
async fn unchecked_columns<T: LedgerSnapshot>(
    snapshot: &mut T,
) -> Result<Option<String>, StoreError> {
    for (table, known) in [("entries", ENTRY_COLUMNS), ("events", EVENT_COLUMNS)] {
        let columns = snapshot.table_columns(table).await?;
        if let Some(extra) = columns.iter().find(|c| !known.contains(&c.as_str())) {
            return Ok(Some(format!(
                "the {table} table has a column '{extra}' that this gencost does not know, so it cannot be checked"
            )));
        }
    }
    Ok(None)
}

/// Two snapshots that see the same head, hence the same ledger.
async fn matching_snapshots<S: Store>(store: &S) -> Result<(S::Snapshot, S::Snapshot), StoreError> {
    for _ in 0..5 {
        let mut first = store.snapshot().await?;
        let mut second = store.snapshot().await?;
        if first.head().await? == second.head().await? {
            return Ok((first, second));
        }
    }
    Err(StoreError::Conflict(
        "the ledger kept changing while verify started; try again".into(),
    ))
}

struct ChainScan {
    events: i64,
    head: Option<String>,
    problem: Option<String>,
    /// (entry id, fingerprint of its replay), in id order.
    fingerprints: Vec<(Uuid, u64)>,
}

/// Checks every link of the chain and replays the entries it logs.
async fn replay_chain<T: LedgerSnapshot>(
    snapshot: &mut T,
    digest: &RowDigest,
) -> Result<ChainScan, StoreError> {
    let mut scan = ChainScan {
        events: 0,
        head: None,
        problem: None,
        fingerprints: Vec::new(),
    };
    let mut expected = Head::EMPTY;
    // (entry id, fingerprint as logged, position of its logged event)
    let mut logged: Vec<(Uuid, u64, i64)> = Vec::new();
    // (entry id, position of the change event)
    let mut changed: Vec<(Uuid, i64)> = Vec::new();
    'pages: loop {
        let page = snapshot.events_page(expected.seq, PAGE).await?;
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
                    Ok(EventBody::EntryLogged(record)) => {
                        let entry = entry_from_record(&record, event.seq, event.recorded_at);
                        logged.push((record.id, digest.entry(entry), event.seq));
                        None
                    }
                    Ok(EventBody::LedgerReset(_)) => (event.seq != 1)
                        .then(|| format!("event {}: a reset can only start a chain", event.seq)),
                    Ok(change) => {
                        if let Some(id) = change.entry_id().filter(|_| change.changes_entry()) {
                            changed.push((id, event.seq));
                        }
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
    scan.head = (expected.hash != Hash::GENESIS).then(|| expected.hash.to_hex());
    if scan.problem.is_some() {
        return Ok(scan);
    }

    // Each entry logged once, and changed only after it was logged.
    logged.sort_unstable_by_key(|(id, _, _)| *id);
    if let Some(pair) = logged.windows(2).find(|w| w[0].0 == w[1].0) {
        let seq = pair[0].2.max(pair[1].2);
        scan.problem = Some(format!("event {seq}: entry {} is logged twice", pair[0].0));
        return Ok(scan);
    }
    let position = |logged: &[(Uuid, u64, i64)], id: &Uuid| {
        logged.binary_search_by_key(id, |(i, _, _)| *i).ok()
    };
    for (id, seq) in &changed {
        if position(&logged, id).is_none_or(|i| logged[i].2 >= *seq) {
            scan.problem = Some(format!(
                "event {seq}: changes entry {id}, which was not logged before it"
            ));
            return Ok(scan);
        }
    }

    // Entries changed after logging: replay all their events.
    let mut changed: Vec<Uuid> = changed.into_iter().map(|(id, _)| id).collect();
    changed.sort_unstable();
    changed.dedup();
    for chunk in changed.chunks(5_000) {
        let seqs: Vec<i64> = chunk
            .iter()
            .filter_map(|id| position(&logged, id).map(|i| logged[i].2))
            .collect();
        let mut events = snapshot.events_at(&seqs).await?;
        events.extend(snapshot.change_events(chunk).await?);
        events.retain(|e| e.seq <= expected.seq);
        events.sort_by_key(|e| e.seq);
        let mut by_entry: HashMap<Uuid, Vec<_>> = HashMap::new();
        for event in events {
            if let Some(id) = event.entry_id {
                by_entry.entry(id).or_default().push(event);
            }
        }
        for (id, events) in by_entry {
            let entry = replay_entry(&events).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if let (Some(entry), Some(i)) = (entry, position(&logged, &id)) {
                logged[i].1 = digest.entry(entry);
            }
        }
    }
    scan.fingerprints = logged
        .into_iter()
        .map(|(id, print, _)| (id, print))
        .collect();
    Ok(scan)
}

struct ViewScan {
    /// (entry id, fingerprint of the stored row), in id order.
    fingerprints: Vec<(Uuid, u64)>,
    /// What the stored rows add up to per rollup row.
    rollups: RollupSums,
    /// The rollups as stored, read in the same snapshot.
    rollups_stored: RollupSums,
}

async fn scan_view<T: LedgerSnapshot>(
    mut snapshot: T,
    digest: Arc<RowDigest>,
) -> Result<ViewScan, StoreError> {
    let mut scan = ViewScan {
        fingerprints: Vec::new(),
        rollups: RollupSums::default(),
        rollups_stored: snapshot.rollups().await?,
    };
    let mut after = 0;
    loop {
        let page = snapshot.view_page(after, PAGE, &digest).await?;
        let Some(last) = page.last() else { break };
        after = last.logged_seq;
        for row in &page {
            scan.fingerprints.push((row.id, row.fingerprint));
            if let Some(counted) = &row.counted {
                scan.rollups.add(counted, 1);
            }
        }
    }
    scan.rollups = scan.rollups.without_zeros();
    // Read in log order (SQLite's table order), compared in id order.
    scan.fingerprints.sort_unstable_by_key(|(id, _)| *id);
    Ok(scan)
}
