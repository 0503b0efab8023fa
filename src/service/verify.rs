//! `verify`: recomputes the hash chain and checks that the stored view of
//! entries equals a replay of the events. Runs on one snapshot, in constant
//! memory per event plus a small fingerprint per entry.

use crate::ledger::event::Hash;
use crate::ledger::replay::{entry_from_record, fingerprint, replay_entry};
use crate::ledger::{EventBody, Head};
use crate::store::{LedgerSnapshot, Store, StoreError};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

const PAGE: i64 = 20_000;

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

pub async fn verify<S: Store>(store: &S) -> Result<VerifyReport, StoreError> {
    let mut snapshot = store.snapshot().await?;
    let mut report = VerifyReport {
        events: 0,
        entries: 0,
        head: None,
        problem: None,
    };

    // Pass 1: the chain, and a fingerprint of every entry as logged.
    let mut expected = Head::EMPTY;
    // Entry id → (fingerprint of its replayed view, position of its logged event).
    let mut replayed: HashMap<Uuid, (u64, i64)> = HashMap::new();
    let mut changed: HashSet<Uuid> = HashSet::new();
    loop {
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
                None
            };
            if problem.is_some() {
                report.problem = problem;
                return Ok(report);
            }
            let body = match event.body() {
                Ok(body) => body,
                Err(e) => {
                    report.problem = Some(e.to_string());
                    return Ok(report);
                }
            };
            if body.entry_id() != event.entry_id {
                report.problem = Some(format!(
                    "event {}: its entry id does not match its payload",
                    event.seq
                ));
                return Ok(report);
            }
            match &body {
                EventBody::EntryLogged(record) => {
                    let entry = entry_from_record(record, event.seq, event.recorded_at);
                    if replayed
                        .insert(record.id, (fingerprint(&entry), event.seq))
                        .is_some()
                    {
                        report.problem = Some(format!(
                            "event {}: entry {} is logged twice",
                            event.seq, record.id
                        ));
                        return Ok(report);
                    }
                }
                EventBody::LedgerReset(_) if event.seq != 1 => {
                    report.problem = Some(format!(
                        "event {}: a reset can only start a chain",
                        event.seq
                    ));
                    return Ok(report);
                }
                EventBody::LedgerReset(_) => {}
                change => {
                    let id = change.entry_id().unwrap_or_default();
                    if !replayed.contains_key(&id) {
                        report.problem = Some(format!(
                            "event {}: changes entry {id}, which was never logged",
                            event.seq
                        ));
                        return Ok(report);
                    }
                    changed.insert(id);
                }
            }
            expected = Head {
                seq: event.seq,
                hash: event.hash,
            };
            report.events += 1;
        }
    }
    report.head = (expected.hash != Hash::GENESIS).then(|| expected.hash.to_hex());

    // Entries changed after logging: replay all their events.
    let changed: Vec<Uuid> = changed.into_iter().collect();
    for chunk in changed.chunks(5_000) {
        let logged: Vec<i64> = chunk
            .iter()
            .filter_map(|id| replayed.get(id).map(|r| r.1))
            .collect();
        let mut events = snapshot.events_at(&logged).await?;
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
            if let (Some(entry), Some(slot)) = (entry, replayed.get_mut(&id)) {
                slot.0 = fingerprint(&entry);
            }
        }
    }

    // Pass 2: the stored view must match the replay row for row.
    let mut after = None;
    loop {
        let page = snapshot.view_page(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.entry.id);
        for row in &page {
            let entry = &row.entry;
            if row.stored_cost != entry.cost() || row.stored_void != entry.void.is_some() {
                report.problem = Some(format!(
                    "entry {}: the cost or void flag stored for totals does not match the entry",
                    entry.id
                ));
                return Ok(report);
            }
            match replayed.remove(&entry.id) {
                None => {
                    report.problem = Some(format!(
                        "entry {}: in the view but never logged by an event",
                        entry.id
                    ));
                    return Ok(report);
                }
                Some((print, _)) if print != fingerprint(entry) => {
                    report.problem = Some(format!(
                        "entry {}: the view differs from a replay of its events",
                        entry.id
                    ));
                    return Ok(report);
                }
                Some(_) => report.entries += 1,
            }
        }
    }
    if let Some(missing) = replayed.keys().min() {
        report.problem = Some(format!(
            "entry {missing}: logged by an event but missing from the view"
        ));
    }
    Ok(report)
}
