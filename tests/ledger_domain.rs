//! The ledger's pure domain, without a store: what `decide` appends or
//! refuses for each command, and what replaying a chain of events gives.

use gencost::ledger::event::{
    ActualConfirmed, EntriesImported, EntryVoided, ImportedCost, LedgerReset, Params, TagsChanged,
    IMPORT_EVENT_BYTES, IMPORT_EVENT_ROWS,
};
use gencost::ledger::replay::{
    apply_change, entry_from_record, replay_entries, replay_entry, Positions,
};
use gencost::ledger::{
    decide, Actual, Billing, Command, Context, Entry, EntryRecord, Estimate, Event, EventBody,
    Hash, Head, ImportedEntry, ImportedIndex, ImportedRow, Kind, LedgerError, LogResult, Outcome,
    RowOutcome, RunSettled, Status, Tags, Tier, Voiding,
};
use gencost::money::{Currency, Money};
use gencost::timestamp::Timestamp;
use std::collections::HashMap;
use uuid::Uuid;

const LOGGED_AT: Timestamp = Timestamp(1_719_500_000_000_000);

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn usd(micros: i64) -> Money {
    Money::new(micros, Currency::USD)
}

fn tags(client: &str, project: &str) -> Tags {
    Tags {
        client: Some(client.into()),
        project: Some(project.into()),
        deliverable: None,
    }
}

/// A generation estimated at `estimate` micro-USD.
fn generation(n: u128, source: &str, request_id: Option<&str>, estimate: i64) -> EntryRecord {
    let mut params = serde_json::Map::new();
    params.insert("num_images".into(), 2.into());
    EntryRecord {
        id: id(n),
        kind: Kind::Generation,
        occurred_at: 1_719_400_000_000_000,
        source: source.into(),
        model: Some("fal-ai/flux/dev".into()),
        description: Some("hero frame".into()),
        tags: tags("Acme", "Spot 30s"),
        request_id: request_id.map(Into::into),
        status: Status::Succeeded,
        duration_ms: Some(4_200),
        params: Params::from_map(&params).unwrap(),
        estimate_micros: Some(estimate),
        estimate_currency: Currency::USD,
        estimate_tier: Tier::Estimated,
        actual_micros: None,
        actual_currency: None,
        price_version: Some("2024-06-01".into()),
        license: Some("commercial".into()),
        batch: None,
        billing: None,
    }
}

/// An external cost (a subscription, a refund) of `micros` micro-USD.
fn external(n: u128, micros: i64) -> EntryRecord {
    EntryRecord {
        kind: Kind::External,
        source: "csv".into(),
        model: None,
        request_id: None,
        duration_ms: None,
        params: Params::from_map(&serde_json::Map::new()).unwrap(),
        estimate_tier: Tier::Billed,
        actual_micros: Some(micros),
        actual_currency: Some(Currency::USD),
        estimate_micros: Some(micros),
        ..generation(n, "csv", None, micros)
    }
}

fn logged(record: &EntryRecord) -> Entry {
    entry_from_record(record, 1, LOGGED_AT)
}

fn with_entries(entries: impl IntoIterator<Item = Entry>) -> Context {
    Context {
        entries: entries.into_iter().map(|e| (e.id, e)).collect(),
        ..Context::default()
    }
}

fn voided(entry: Entry) -> Entry {
    Entry {
        void: Some(Voiding {
            reason: "duplicate".into(),
            at: Timestamp(LOGGED_AT.0 + 1),
        }),
        ..entry
    }
}

// ---- decide: logging ----

#[test]
fn new_records_are_logged_one_event_each() {
    let (a, b) = (
        generation(1, "fal", Some("req-1"), 25_000),
        generation(2, "fal", None, 50_000),
    );
    let (events, outcome) = decide(
        Command::Log(vec![a.clone(), b.clone()]),
        &Context::default(),
    )
    .unwrap();
    assert_eq!(
        events,
        vec![
            EventBody::EntryLogged(Box::new(a)),
            EventBody::EntryLogged(Box::new(b))
        ]
    );
    assert_eq!(
        outcome,
        Outcome::Logged(vec![LogResult::New(id(1)), LogResult::New(id(2))])
    );
}

#[test]
fn a_retry_within_one_batch_is_the_entry_logged_first() {
    let first = generation(1, "fal", Some("req-1"), 25_000);
    let retry = generation(2, "fal", Some("req-1"), 25_000);
    let other_source = generation(3, "replicate", Some("req-1"), 25_000);
    let (events, outcome) = decide(
        Command::Log(vec![first.clone(), retry, other_source.clone()]),
        &Context::default(),
    )
    .unwrap();
    assert_eq!(
        outcome,
        Outcome::Logged(vec![
            LogResult::New(id(1)),
            LogResult::Existing(id(1)),
            LogResult::New(id(3)),
        ])
    );
    assert_eq!(
        events,
        vec![
            EventBody::EntryLogged(Box::new(first)),
            EventBody::EntryLogged(Box::new(other_source))
        ]
    );
}

#[test]
fn records_without_a_request_id_are_never_taken_for_retries() {
    let (a, b) = (
        generation(1, "fal", None, 25_000),
        generation(2, "fal", None, 25_000),
    );
    let (events, outcome) = decide(Command::Log(vec![a, b]), &Context::default()).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        outcome,
        Outcome::Logged(vec![LogResult::New(id(1)), LogResult::New(id(2))])
    );
}

#[test]
fn a_retry_of_a_request_already_in_the_ledger_is_the_existing_entry() {
    let ctx = Context {
        request_owners: [(("fal".to_string(), "req-1".to_string()), id(9))].into(),
        ..Context::default()
    };
    let retry = generation(1, "fal", Some("req-1"), 25_000);
    let fresh = generation(2, "fal", Some("req-2"), 25_000);
    let (events, outcome) = decide(Command::Log(vec![retry, fresh.clone()]), &ctx).unwrap();
    assert_eq!(
        outcome,
        Outcome::Logged(vec![LogResult::Existing(id(9)), LogResult::New(id(2))])
    );
    assert_eq!(events, vec![EventBody::EntryLogged(Box::new(fresh))]);
}

#[test]
fn a_negative_generation_cost_refuses_the_whole_batch() {
    let good = generation(1, "fal", None, 25_000);
    let negative_estimate = generation(2, "fal", None, -1);
    assert_eq!(
        decide(
            Command::Log(vec![good.clone(), negative_estimate]),
            &Context::default()
        ),
        Err(LedgerError::NegativeCost(id(2)))
    );
    let negative_actual = EntryRecord {
        actual_micros: Some(-1),
        actual_currency: Some(Currency::USD),
        ..generation(3, "fal", None, 25_000)
    };
    assert_eq!(
        decide(
            Command::Log(vec![good, negative_actual]),
            &Context::default()
        ),
        Err(LedgerError::NegativeCost(id(3)))
    );
}

#[test]
fn a_negative_external_cost_is_logged() {
    let refund = external(1, -12_000_000);
    let (events, outcome) =
        decide(Command::Log(vec![refund.clone()]), &Context::default()).unwrap();
    assert_eq!(outcome, Outcome::Logged(vec![LogResult::New(id(1))]));
    assert_eq!(events, vec![EventBody::EntryLogged(Box::new(refund))]);
}

// ---- decide: changes to an entry ----

#[test]
fn confirming_appends_the_actual_and_says_what_it_replaced() {
    let entry = logged(&generation(1, "fal", None, 25_000));
    let command = Command::Confirm {
        entry_id: id(1),
        amount: usd(24_000),
    };
    let (events, outcome) = decide(command, &with_entries([entry.clone()])).unwrap();
    assert_eq!(
        events,
        vec![EventBody::ActualConfirmed(ActualConfirmed {
            entry_id: id(1),
            micros: 24_000,
            currency: Currency::USD,
        })]
    );
    assert_eq!(outcome, Outcome::Confirmed { replaced: None });

    let confirmed = Entry {
        actual: Some(Actual {
            amount: usd(24_000),
            confirmed_at: LOGGED_AT,
        }),
        ..entry
    };
    let command = Command::Confirm {
        entry_id: id(1),
        amount: usd(26_000),
    };
    let (_, outcome) = decide(command, &with_entries([confirmed])).unwrap();
    assert_eq!(
        outcome,
        Outcome::Confirmed {
            replaced: Some(usd(24_000))
        }
    );
}

fn billing(units: &str, price: Option<&str>) -> Billing {
    Billing {
        units: units.into(),
        endpoint: "fal-ai/flux/dev".into(),
        unit_price: price.map(String::from),
        unit: price.map(|_| "megapixels".into()),
        price_date: price.map(|_| "2026-12-01".into()),
        price_from: price.map(|_| "sync".into()),
        rounded: None,
        usage: None,
    }
}

fn settlement(status: Option<Status>, billing: Option<Billing>, micros: Option<i64>) -> RunSettled {
    RunSettled {
        entry_id: id(1),
        status,
        duration_ms: Some(2_345),
        billing,
        micros,
        currency: micros.map(|_| Currency::USD),
    }
}

#[test]
fn a_settled_run_takes_its_status_duration_billing_and_billed_cost() {
    let pending = Entry {
        status: Status::Pending,
        ..logged(&generation(1, "fal.ai", Some("req-1"), 25_000))
    };
    assert!(pending.is_charged(), "a pending run counts at its estimate");
    let settled = settlement(
        Some(Status::Succeeded),
        Some(billing("1.5", Some("0.025"))),
        Some(37_500),
    );
    let (events, outcome) = decide(
        Command::Settle(settled.clone()),
        &with_entries([pending.clone()]),
    )
    .unwrap();
    assert_eq!(events, vec![EventBody::RunSettled(settled.clone())]);
    assert_eq!(outcome, Outcome::Settled { changed: true });
    let mut after = pending.clone();
    apply_change(&mut after, &events[0], LOGGED_AT);
    assert_eq!(after.status, Status::Succeeded);
    assert_eq!(after.duration_ms, Some(2_345));
    assert_eq!(after.actual.map(|a| a.amount), Some(usd(37_500)));
    assert_eq!(after.estimate.micros, Some(25_000), "the estimate stays");
    assert_eq!(after.cost().tier, Tier::Billed);
    // The same report again appends nothing.
    let (events, outcome) = decide(Command::Settle(settled), &with_entries([after])).unwrap();
    assert!(events.is_empty());
    assert_eq!(outcome, Outcome::Settled { changed: false });
    // A negative billed cost, and a void entry, are refused.
    let negative = settlement(None, None, Some(-1));
    assert_eq!(
        decide(Command::Settle(negative), &with_entries([pending.clone()])).unwrap_err(),
        LedgerError::NegativeCost(id(1))
    );
    let void = settlement(Some(Status::Failed), None, None);
    assert_eq!(
        decide(Command::Settle(void), &with_entries([voided(pending)])).unwrap_err(),
        LedgerError::EntryIsVoid(id(1))
    );
}

#[test]
fn failed_runs_count_only_when_charged_and_zero_units_stay_open() {
    let failed = Entry {
        status: Status::Failed,
        ..logged(&generation(1, "fal.ai", Some("req-1"), 25_000))
    };
    assert!(!failed.is_charged(), "no units, no record: kept apart");
    let charged = Entry {
        billing: Some(billing("2", None)),
        ..failed.clone()
    };
    assert!(charged.is_charged(), "units reported: a charged failure");
    assert!(!charged.has_zero_units());
    let zero = Entry {
        status: Status::Succeeded,
        billing: Some(billing("0", Some("0.025"))),
        ..failed.clone()
    };
    assert!(zero.has_zero_units());
    assert!(zero.is_charged());
    assert_eq!(zero.cost().tier, Tier::Estimated, "counted at its estimate");
    let zero_failed = Entry {
        billing: Some(billing("0", Some("0.025"))),
        ..failed
    };
    assert!(!zero_failed.is_charged());
}

#[test]
fn a_negative_actual_is_refused_for_a_generation_and_allowed_for_an_external_cost() {
    let ctx = with_entries([
        logged(&generation(1, "fal", None, 25_000)),
        logged(&external(2, 5_000_000)),
    ]);
    let confirm = |n, micros| Command::Confirm {
        entry_id: id(n),
        amount: usd(micros),
    };
    assert_eq!(
        decide(confirm(1, -1), &ctx),
        Err(LedgerError::NegativeCost(id(1)))
    );
    let (events, _) = decide(confirm(2, -5_000_000), &ctx).unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn retagging_appends_the_new_tags() {
    let ctx = with_entries([logged(&generation(1, "fal", None, 25_000))]);
    let command = Command::Retag {
        entry_id: id(1),
        tags: tags("Globex", "Launch"),
    };
    let (events, outcome) = decide(command, &ctx).unwrap();
    assert_eq!(
        events,
        vec![EventBody::TagsChanged(TagsChanged {
            entry_id: id(1),
            tags: tags("Globex", "Launch"),
        })]
    );
    assert_eq!(outcome, Outcome::Retagged);
}

#[test]
fn voiding_appends_the_trimmed_reason() {
    let ctx = with_entries([logged(&generation(1, "fal", None, 25_000))]);
    let command = Command::Void {
        entry_id: id(1),
        reason: "  logged twice \n".into(),
    };
    let (events, outcome) = decide(command, &ctx).unwrap();
    assert_eq!(
        events,
        vec![EventBody::EntryVoided(EntryVoided {
            entry_id: id(1),
            reason: "logged twice".into(),
        })]
    );
    assert_eq!(outcome, Outcome::Voided);
}

/// Confirm, retag and void of entry `n`.
fn changes(n: u128) -> [Command; 3] {
    [
        Command::Confirm {
            entry_id: id(n),
            amount: usd(1),
        },
        Command::Retag {
            entry_id: id(n),
            tags: tags("Globex", "Launch"),
        },
        Command::Void {
            entry_id: id(n),
            reason: "duplicate".into(),
        },
    ]
}

#[test]
fn changing_a_missing_entry_is_no_such_entry() {
    let ctx = with_entries([logged(&generation(1, "fal", None, 25_000))]);
    for command in changes(2) {
        let kind = format!("{command:?}");
        assert_eq!(
            decide(command, &ctx),
            Err(LedgerError::NoSuchEntry(id(2))),
            "{kind}"
        );
    }
}

#[test]
fn changing_a_void_entry_is_refused() {
    let ctx = with_entries([voided(logged(&generation(1, "fal", None, 25_000)))]);
    for command in changes(1) {
        let kind = format!("{command:?}");
        assert_eq!(
            decide(command, &ctx),
            Err(LedgerError::EntryIsVoid(id(1))),
            "{kind}"
        );
    }
}

#[test]
fn a_void_needs_a_reason() {
    let ctx = with_entries([logged(&generation(1, "fal", None, 25_000))]);
    for reason in ["", "   ", "\n\t"] {
        let command = Command::Void {
            entry_id: id(1),
            reason: reason.into(),
        };
        assert_eq!(
            decide(command, &ctx),
            Err(LedgerError::MissingReason),
            "{reason:?}"
        );
    }
}

// ---- replay ----

/// Seals `bodies` into a chain from the empty head, one microsecond apart
/// starting at `LOGGED_AT`.
fn chain(bodies: &[EventBody]) -> Vec<Event> {
    let mut head = Head::EMPTY;
    bodies
        .iter()
        .enumerate()
        .map(|(i, body)| head.append(body, Timestamp(LOGGED_AT.0 + i as i64)))
        .collect::<Result<_, _>>()
        .expect("events seal")
}

fn confirmed(micros: i64) -> EventBody {
    EventBody::ActualConfirmed(ActualConfirmed {
        entry_id: id(1),
        micros,
        currency: Currency::USD,
    })
}

#[test]
fn a_logged_confirmed_retagged_and_voided_entry_replays_to_its_view() {
    let record = generation(1, "fal", Some("req-1"), 25_000);
    let events = chain(&[
        EventBody::EntryLogged(Box::new(record)),
        confirmed(24_000),
        EventBody::TagsChanged(TagsChanged {
            entry_id: id(1),
            tags: tags("Globex", "Launch"),
        }),
        EventBody::EntryVoided(EntryVoided {
            entry_id: id(1),
            reason: "logged twice".into(),
        }),
    ]);
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(events[0].prev_hash, Hash::GENESIS);
    for pair in events.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }

    let expected = Entry {
        id: id(1),
        position: 1,
        kind: Kind::Generation,
        occurred_at: Timestamp(1_719_400_000_000_000),
        source: "fal".into(),
        model: Some("fal-ai/flux/dev".into()),
        description: Some("hero frame".into()),
        tags: tags("Globex", "Launch"),
        request_id: Some("req-1".into()),
        status: Status::Succeeded,
        duration_ms: Some(4_200),
        params: r#"{"num_images":2}"#.into(),
        estimate: Estimate {
            micros: Some(25_000),
            currency: Currency::USD,
            tier: Tier::Estimated,
        },
        actual: Some(Actual {
            amount: usd(24_000),
            confirmed_at: Timestamp(LOGGED_AT.0 + 1),
        }),
        void: Some(Voiding {
            reason: "logged twice".into(),
            at: Timestamp(LOGGED_AT.0 + 3),
        }),
        price_version: Some("2024-06-01".into()),
        license: Some("commercial".into()),
        batch: None,
        billing: None,
    };
    assert_eq!(replay_entry(id(1), 1, &events).unwrap(), Some(expected));
}

#[test]
fn confirming_twice_keeps_the_last_actual_and_the_estimate() {
    let record = generation(1, "fal", None, 25_000);
    let events = chain(&[
        EventBody::EntryLogged(Box::new(record)),
        confirmed(24_000),
        confirmed(26_500),
    ]);
    let entry = replay_entry(id(1), 1, &events).unwrap().unwrap();
    assert_eq!(
        entry.actual,
        Some(Actual {
            amount: usd(26_500),
            confirmed_at: Timestamp(LOGGED_AT.0 + 2),
        })
    );
    assert_eq!(
        entry.estimate,
        Estimate {
            micros: Some(25_000),
            currency: Currency::USD,
            tier: Tier::Estimated,
        }
    );
    let cost = entry.cost();
    assert_eq!(
        (cost.micros, cost.tier),
        (Some(26_500), Tier::Billed),
        "the actual is what counts"
    );
}

#[test]
fn a_logged_record_replays_to_the_entry_it_was_decided_from() {
    let record = generation(1, "fal", Some("req-1"), 25_000);
    let (bodies, _) = decide(Command::Log(vec![record.clone()]), &Context::default()).unwrap();
    let events = chain(&bodies);
    let entry = replay_entry(id(1), 1, &events).unwrap().unwrap();
    assert_eq!(entry, entry_from_record(&record, 1, LOGGED_AT));
    assert_eq!(entry.actual, None);
    assert_eq!(entry.void, None);
    assert_eq!(entry.params, record.params.as_str());
}

#[test]
fn an_actual_known_at_logging_is_confirmed_at_the_logging_time() {
    let entry = entry_from_record(&external(1, 9_990_000), 7, LOGGED_AT);
    assert_eq!(entry.position, 7);
    assert_eq!(
        entry.actual,
        Some(Actual {
            amount: usd(9_990_000),
            confirmed_at: LOGGED_AT,
        })
    );
}

#[test]
fn changes_apply_in_order_and_logging_or_reset_events_change_nothing() {
    let record = generation(1, "fal", None, 25_000);
    let mut entry = logged(&record);
    let before = entry.clone();
    apply_change(
        &mut entry,
        &EventBody::EntryLogged(Box::new(generation(1, "other", None, 1))),
        Timestamp(5),
    );
    apply_change(
        &mut entry,
        &EventBody::LedgerReset(LedgerReset {
            previous_head: None,
            previous_events: 0,
            backup: None,
            invoice_numbers: Default::default(),
        }),
        Timestamp(6),
    );
    assert_eq!(entry, before);

    apply_change(
        &mut entry,
        &EventBody::TagsChanged(TagsChanged {
            entry_id: id(1),
            tags: Tags::default(),
        }),
        Timestamp(7),
    );
    assert!(entry.tags.is_empty());
    apply_change(&mut entry, &confirmed(30_000), Timestamp(8));
    assert_eq!(entry.actual.map(|a| a.amount), Some(usd(30_000)));
    assert_eq!(entry.estimate, before.estimate);
}

#[test]
fn changes_before_the_logging_event_are_not_an_entry() {
    let events = chain(&[confirmed(24_000)]);
    assert_eq!(replay_entry(id(1), 1, &events).unwrap(), None);
}

#[test]
fn a_pool_share_keeps_the_tags_its_split_gave_it() {
    let share = Entry {
        kind: Kind::Pool,
        ..logged(&external(1, 15_000_000))
    };
    let command = Command::Retag {
        entry_id: id(1),
        tags: tags("Acme", "Elsewhere"),
    };
    assert_eq!(
        decide(command, &with_entries([share])).unwrap_err(),
        LedgerError::PoolShareTags(id(1))
    );
}

// ---- imports: many rows to an event ----

fn imported_cost(n: u128, micros: i64) -> ImportedCost {
    ImportedCost {
        id: id(n),
        occurred_at: 1_719_400_000_000_000,
        source: "Midjourney".into(),
        model: None,
        description: Some(format!("row {n}")),
        client: Some("Acme".into()),
        project: None,
        deliverable: None,
        fingerprint: format!("import:{n:032x}"),
        micros,
        currency: Currency::USD,
    }
}

fn import_rows(range: std::ops::RangeInclusive<u128>, corrects: bool) -> Vec<ImportedRow> {
    range
        .map(|n| ImportedRow {
            cost: imported_cost(n, 1_000 * n as i64),
            corrects,
        })
        .collect()
}

#[test]
fn an_import_logs_its_rows_a_thousand_to_an_event_and_corrections_after() {
    let batch = id(9_000);
    // Row 1 was imported before with another amount: a correction.
    let ctx = Context {
        imported: std::sync::Arc::new(ImportedIndex::new(vec![(
            1,
            ImportedEntry {
                id: id(77),
                micros: 5,
                currency: Currency::USD,
            },
        )])),
        ..Context::default()
    };
    let rows = import_rows(1..=(IMPORT_EVENT_ROWS as u128 * 2 + 1), true);
    let (events, outcome) = decide(Command::Import { batch, rows }, &ctx).unwrap();
    let Outcome::Imported(outcomes) = outcome else {
        panic!("not an import outcome: {outcome:?}")
    };
    assert_eq!(outcomes[0], RowOutcome::Corrected);
    assert!(outcomes[1..].iter().all(|o| *o == RowOutcome::Added));
    let sizes: Vec<usize> = events
        .iter()
        .map(|e| match e {
            EventBody::EntriesImported(e) => {
                assert_eq!(e.batch, batch);
                e.rows.len()
            }
            _ => 0,
        })
        .collect();
    assert_eq!(sizes, [IMPORT_EVENT_ROWS, IMPORT_EVENT_ROWS, 0]);
    assert!(
        matches!(&events[2], EventBody::AmountCorrected(c) if c.entry_id == id(77) && c.micros == 1_000)
    );
    // Every added row, once, in file order.
    let logged: Vec<Uuid> = events
        .iter()
        .flat_map(|e| e.logged_records())
        .map(|r| r.id)
        .collect();
    assert_eq!(logged, (2..=2001).map(id).collect::<Vec<_>>());
}

#[test]
fn an_imported_row_logs_the_entry_an_entry_logged_event_would() {
    let batch = id(9_000);
    let cost = imported_cost(3, -2_500_000);
    let record = cost.record(batch);
    assert_eq!(record.kind, Kind::External);
    assert_eq!(
        record.request_id.as_deref(),
        Some(cost.fingerprint.as_str())
    );
    assert_eq!(
        (record.estimate_micros, record.actual_micros),
        (Some(-2_500_000), Some(-2_500_000))
    );
    assert_eq!(record.estimate_tier, Tier::Billed);
    assert_eq!(record.params.as_str(), "{}");
    assert_eq!(record.batch, Some(batch));
    let body = EventBody::EntriesImported(EntriesImported {
        batch,
        rows: vec![cost],
    });
    let event = &chain(std::slice::from_ref(&body))[0];
    assert_eq!(event.kind, "entries_imported");
    assert_eq!(event.entry_id, None);
    assert_eq!(
        event.body().unwrap(),
        body,
        "the payload reads back as written"
    );
    assert!(
        !event.payload.contains("null"),
        "absent values are left out: {}",
        event.payload
    );
}

#[test]
fn positions_follow_event_seqs_until_an_import_event_takes_several() {
    let mut positions = Positions::default();
    // Entries logged one to an event take their event's seq.
    assert_eq!(positions.next(1), 1);
    assert_eq!(positions.next(3), 3);
    // An import event at seq 4 with three rows: 4, 5, 6.
    assert_eq!([4, 4, 4].map(|seq| positions.next(seq)), [4, 5, 6]);
    // The next events (5, 6) come after the rows; seq 9 is free again.
    assert_eq!(positions.next(5), 7);
    assert_eq!(positions.next(6), 8);
    assert_eq!(positions.next(9), 9);
    assert_eq!(Positions::after(8).next(2), 9);
}

#[test]
fn an_imported_row_changed_later_replays_from_its_import_event() {
    let batch = id(9_000);
    let import = EventBody::EntriesImported(EntriesImported {
        batch,
        rows: vec![imported_cost(1, 1_000), imported_cost(2, 2_000)],
    });
    let void = EventBody::EntryVoided(EntryVoided {
        entry_id: id(2),
        reason: "duplicate".into(),
    });
    let events = chain(&[import, void]);
    let positions = HashMap::from([(id(2), 2)]);
    let replayed = replay_entries(&events, &positions).unwrap();
    assert_eq!(replayed.len(), 1, "only the entries asked for");
    let entry = &replayed[&id(2)];
    assert_eq!(entry.position, 2);
    assert_eq!(entry.actual.map(|a| a.amount), Some(usd(2_000)));
    assert_eq!(
        entry.void.as_ref().map(|v| v.reason.as_str()),
        Some("duplicate")
    );
    assert_eq!(entry.batch, Some(batch));
}

#[test]
fn rows_with_long_descriptions_go_fewer_to_an_event() {
    let rows: Vec<ImportedRow> = (1..=300u128)
        .map(|n| ImportedRow {
            cost: ImportedCost {
                description: Some("x".repeat(10_000)),
                ..imported_cost(n, 1)
            },
            corrects: false,
        })
        .collect();
    let (events, _) = decide(
        Command::Import {
            batch: id(9_000),
            rows,
        },
        &Context::default(),
    )
    .unwrap();
    let sizes: Vec<usize> = events.iter().map(EventBody::logged_count).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 300);
    assert!(sizes.len() >= 3, "{sizes:?}");
    for event in chain(&events) {
        assert!(
            event.payload.len() <= IMPORT_EVENT_BYTES,
            "{}",
            event.payload.len()
        );
    }
}
