//! The `Store` contract, checked at the library level on every backend
//! (SQLite always, PostgreSQL when configured): what each method promises,
//! whatever database is behind it.

mod common;
use common::TestLedger;
use gencost::fx::{DayRate, Rate};
use gencost::ledger::event::{LedgerReset, Params};
use gencost::ledger::totals::Grouping;
use gencost::ledger::{
    Command, EntryRecord, Head, Kind, LedgerError, LogResult, Outcome, Status, TagField, Tags, Tier,
};
use gencost::money::{Currency, Money};
use gencost::store::{Cursor, Filter, Page, SqlStore, Store, StoreError};
use gencost::timestamp::{Timestamp, MICROS_PER_DAY};
use std::collections::HashSet;
use uuid::Uuid;

/// Noon UTC on day `day` of 2026-11 (1-based), plus `seconds`.
fn at(day: i64, seconds: i64) -> i64 {
    // 2026-11-01T00:00:00Z
    1_793_491_200_000_000 + (day - 1) * MICROS_PER_DAY + 43_200_000_000 + seconds * 1_000_000
}

fn record(occurred_at: i64, request_id: Option<&str>, micros: Option<i64>) -> EntryRecord {
    EntryRecord {
        id: Uuid::now_v7(),
        kind: Kind::Generation,
        occurred_at,
        source: "fal.ai".into(),
        model: Some("fal-ai/flux/dev".into()),
        description: None,
        tags: Tags::default(),
        request_id: request_id.map(str::to_string),
        status: Status::Succeeded,
        duration_ms: None,
        params: Params::from_map(&serde_json::Map::new()).unwrap(),
        estimate_micros: micros,
        estimate_currency: Currency::USD,
        estimate_tier: if micros.is_some() {
            Tier::Estimated
        } else {
            Tier::Unpriced
        },
        actual_micros: None,
        actual_currency: None,
        price_version: None,
        license: None,
        batch: None,
        billing: None,
    }
}

fn tagged(mut r: EntryRecord, client: &str, project: &str) -> EntryRecord {
    r.tags = Tags {
        client: Some(client.into()),
        project: Some(project.into()),
        deliverable: None,
    };
    r
}

async fn log(store: &SqlStore, records: Vec<EntryRecord>) -> Vec<LogResult> {
    match store
        .execute(Command::Log(records), Timestamp::now())
        .await
        .unwrap()
        .outcome
    {
        Outcome::Logged(results) => results,
        other => panic!("{other:?}"),
    }
}

fn all() -> Page {
    Page {
        limit: 1_000,
        after: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_id_is_logged_once_per_source() {
    for ledger in TestLedger::each() {
        let store = ledger.open_store().await;
        let first = log(&store, vec![record(at(1, 0), Some("r1"), Some(10))]).await;
        let LogResult::New(id) = first[0] else {
            panic!("{first:?}")
        };
        // Again, alone and twice within one batch: the existing entry.
        let again = log(
            &store,
            vec![
                record(at(1, 1), Some("r1"), Some(99)),
                record(at(1, 2), Some("r2"), Some(20)),
                record(at(1, 3), Some("r2"), Some(30)),
            ],
        )
        .await;
        assert_eq!(again[0], LogResult::Existing(id), "[{}]", ledger.backend);
        let LogResult::New(r2) = again[1] else {
            panic!("{again:?}")
        };
        assert_eq!(again[2], LogResult::Existing(r2));
        // The same request id from another source is another generation.
        let mut other = record(at(1, 4), Some("r1"), Some(10));
        other.source = "replicate".into();
        assert!(matches!(
            log(&store, vec![other]).await[0],
            LogResult::New(_)
        ));
        let found = store.entries_with_request("r1").await.unwrap();
        let sources: Vec<&str> = found.iter().map(|e| e.source.as_str()).collect();
        assert_eq!(sources, ["fal.ai", "replicate"], "[{}]", ledger.backend);
        assert_eq!(store.head().await.unwrap().seq, 3);
        assert_eq!(
            store.entry(id).await.unwrap().unwrap().estimate.micros,
            Some(10)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_are_events_and_a_void_entry_cannot_change() {
    for ledger in TestLedger::each() {
        let store = ledger.open_store().await;
        let LogResult::New(id) = log(&store, vec![record(at(2, 0), None, Some(25_000))]).await[0]
        else {
            panic!()
        };
        let confirm = |micros| Command::Confirm {
            entry_id: id,
            amount: Money::new(micros, Currency::EUR),
        };
        store
            .execute(confirm(31_000), Timestamp::now())
            .await
            .unwrap();
        let second = store
            .execute(confirm(32_000), Timestamp::now())
            .await
            .unwrap();
        assert_eq!(
            second.outcome,
            Outcome::Confirmed {
                replaced: Some(Money::new(31_000, Currency::EUR))
            }
        );
        let tags = Tags {
            client: Some("Acme".into()),
            project: None,
            deliverable: Some("Hero".into()),
        };
        store
            .execute(
                Command::Retag {
                    entry_id: id,
                    tags: tags.clone(),
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        let entry = store.entry(id).await.unwrap().unwrap();
        assert_eq!(entry.tags, tags, "[{}]", ledger.backend);
        assert_eq!(entry.estimate.micros, Some(25_000), "the estimate stays");
        assert_eq!(entry.cost().micros, Some(32_000));
        assert_eq!(entry.cost().tier, Tier::Billed);
        store
            .execute(
                Command::Void {
                    entry_id: id,
                    reason: "test render".into(),
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        let refused = store.execute(confirm(1), Timestamp::now()).await;
        assert!(
            matches!(
                refused,
                Err(StoreError::Refused(LedgerError::EntryIsVoid(e))) if e == id
            ),
            "[{}] {refused:?}",
            ledger.backend
        );
        let missing = store
            .execute(
                Command::Void {
                    entry_id: Uuid::now_v7(),
                    reason: "x".into(),
                },
                Timestamp::now(),
            )
            .await;
        assert!(matches!(
            missing,
            Err(StoreError::Refused(LedgerError::NoSuchEntry(_)))
        ));
        // 1 logged + 2 confirmed + 1 retagged + 1 voided; refusals add nothing.
        assert_eq!(store.head().await.unwrap().seq, 5, "[{}]", ledger.backend);
        assert!(store
            .list(&Filter::default(), all())
            .await
            .unwrap()
            .is_empty());
        let with_void = Filter {
            include_void: true,
            ..Filter::default()
        };
        assert_eq!(store.list(&with_void, all()).await.unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cursor_pages_cover_every_entry_once_in_order() {
    for ledger in TestLedger::each() {
        let store = ledger.open_store().await;
        // 23 entries, several sharing one time, logged in two batches.
        let times: Vec<i64> = (0..23).map(|i| at(3, (i % 7) * 60)).collect();
        let records: Vec<EntryRecord> = times.iter().map(|t| record(*t, None, Some(1))).collect();
        let (a, b) = records.split_at(11);
        log(&store, a.to_vec()).await;
        log(&store, b.to_vec()).await;
        let everything = store.list(&Filter::default(), all()).await.unwrap();
        assert_eq!(everything.len(), 23);
        let order: Vec<(i64, i64)> = everything
            .iter()
            .map(|e| (e.occurred_at.0, e.position))
            .collect();
        let mut sorted = order.clone();
        sorted.sort_by(|x, y| y.cmp(x));
        assert_eq!(order, sorted, "newest first, then latest logged first");

        let mut paged = Vec::new();
        let mut after: Option<Cursor> = None;
        loop {
            let page = store
                .list(&Filter::default(), Page { limit: 4, after })
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some(Cursor::after(last));
            paged.extend(page.iter().map(|e| e.id));
        }
        let expected: Vec<Uuid> = everything.iter().map(|e| e.id).collect();
        assert_eq!(paged, expected, "[{}]", ledger.backend);
        let cursor = Cursor::after(&everything[5]);
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sums_group_by_key_currency_and_day_leaving_out_void_entries() {
    for ledger in TestLedger::each() {
        let store = ledger.open_store().await;
        let mut sek = tagged(record(at(5, 0), None, Some(5_000_000)), "Acme", "Spot");
        sek.estimate_currency = Currency::SEK;
        let results = log(
            &store,
            vec![
                tagged(record(at(4, 0), None, Some(1_500_000)), "Acme", "Spot"),
                tagged(record(at(4, 60), None, Some(2_000_000)), "Acme", "Spot"),
                tagged(record(at(4, 120), None, None), "Acme", "Spot"),
                tagged(record(at(5, 0), None, Some(700_000)), "Globex", "Film"),
                sek,
                tagged(record(at(5, 60), None, Some(9_000_000)), "Globex", "Film"),
            ],
        )
        .await;
        let LogResult::New(voided) = results[5] else {
            panic!()
        };
        store
            .execute(
                Command::Void {
                    entry_id: voided,
                    reason: "duplicate".into(),
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        let mut rows = store
            .sums(&Filter::default(), Grouping::Column("project"))
            .await
            .unwrap();
        rows.sort_by_key(|r| (r.key.clone(), r.day, r.currency.code().to_string()));
        let first_day = rows.iter().map(|r| r.day).min().unwrap();
        // (group, day from the first, currency, micros, entries, unpriced)
        type Shown<'a> = (Option<&'a str>, i64, &'a str, i64, i64, i64);
        let shown: Vec<Shown> = rows
            .iter()
            .map(|r| {
                (
                    r.key.as_deref(),
                    r.day - first_day,
                    r.currency.code(),
                    r.micros,
                    r.count,
                    r.unpriced,
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (Some("Film"), 1, "USD", 700_000, 1, 0),
                (Some("Spot"), 0, "USD", 3_500_000, 3, 1),
                (Some("Spot"), 1, "SEK", 5_000_000, 1, 0),
            ],
            "[{}]",
            ledger.backend
        );
        let acme = Filter {
            client: Some("ACME".into()),
            ..Filter::default()
        };
        let acme_rows = store.sums(&acme, Grouping::None).await.unwrap();
        assert_eq!(acme_rows.iter().map(|r| r.count).sum::<i64>(), 4);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tag_values_match_a_prefix_case_insensitively_most_used_first() {
    for ledger in TestLedger::each() {
        let store = ledger.open_store().await;
        log(
            &store,
            vec![
                tagged(record(at(6, 0), None, None), "Acme Labs", "a"),
                tagged(record(at(6, 1), None, None), "Acme", "a"),
                tagged(record(at(6, 2), None, None), "Acme", "b"),
                tagged(record(at(6, 3), None, None), "Globex", "c"),
                tagged(record(at(6, 4), None, None), "50%_off", "d"),
            ],
        )
        .await;
        let values = store.tag_values(TagField::Client, "ac", 10).await.unwrap();
        let shown: Vec<(&str, i64)> = values.iter().map(|t| (t.value.as_str(), t.count)).collect();
        assert_eq!(
            shown,
            [("Acme", 2), ("Acme Labs", 1)],
            "[{}]",
            ledger.backend
        );
        // LIKE's wildcards in a prefix are plain characters.
        let literal = store
            .tag_values(TagField::Client, "50%_", 10)
            .await
            .unwrap();
        assert_eq!(literal.len(), 1);
        assert!(store
            .tag_values(TagField::Client, "5_%", 10)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            store
                .tag_values(TagField::Project, "", 2)
                .await
                .unwrap()
                .len(),
            2
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn copied_events_must_continue_the_chain() {
    let ledgers = TestLedger::each();
    for from_ledger in &ledgers {
        let to_ledger = if from_ledger.backend == "sqlite" {
            TestLedger::sqlite()
        } else {
            TestLedger::postgres(&common::postgres_admin_url().unwrap())
        };
        let from = from_ledger.open_store().await;
        let to = to_ledger.open_store().await;
        log(&from, vec![record(at(7, 0), Some("c1"), Some(5))]).await;
        log(&from, vec![record(at(7, 1), Some("c2"), None)]).await;
        let mut snapshot = from.snapshot().await.unwrap();
        use gencost::store::LedgerSnapshot;
        let events = snapshot.events_page(0, 100).await.unwrap();
        assert_eq!(events.len(), 2);
        // Out of order, or twice: refused, nothing written.
        assert!(matches!(
            to.append_events(&events[1..]).await,
            Err(StoreError::Conflict(_))
        ));
        to.append_events(&events).await.unwrap();
        assert!(matches!(
            to.append_events(&events).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(to.head().await.unwrap(), from.head().await.unwrap());
        let copied = to.list(&Filter::default(), all()).await.unwrap();
        assert_eq!(copied, from.list(&Filter::default(), all()).await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_needs_the_head_it_was_asked_at() {
    for ledger in TestLedger::each() {
        let store = ledger.open_store().await;
        log(&store, vec![record(at(8, 0), None, Some(1))]).await;
        let stale = store.head().await.unwrap();
        log(&store, vec![record(at(8, 1), None, Some(1))]).await;
        let first = LedgerReset {
            previous_head: Some(stale.hash.to_hex()),
            previous_events: stale.seq,
            backup: None,
            invoice_numbers: Default::default(),
        };
        let refused = store.reset(stale, first.clone(), Timestamp::now()).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        assert_eq!(store.head().await.unwrap().seq, 2, "nothing was removed");
        let head = store.head().await.unwrap();
        let event = store.reset(head, first, Timestamp::now()).await.unwrap();
        assert_eq!(event.seq, 1);
        assert_eq!(event.prev_hash, Head::EMPTY.hash);
        assert!(store
            .list(&Filter::default(), all())
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rates_are_stored_replaced_and_counted() {
    for ledger in TestLedger::each() {
        let store = ledger.open_store().await;
        let rate = |currency: Currency, day: i64, text: &str| DayRate {
            currency,
            day,
            rate: Rate::parse(text).unwrap(),
        };
        let first = [
            rate(Currency::USD, 20_000, "1.0812"),
            rate(Currency::SEK, 20_000, "11.2"),
        ];
        let imported = store.import_rates(&first).await.unwrap();
        assert_eq!(
            (imported.added, imported.changed, imported.unchanged),
            (2, 0, 0)
        );
        let again = store
            .import_rates(&[
                rate(Currency::USD, 20_000, "1.0812"),
                rate(Currency::SEK, 20_000, "11.25"),
            ])
            .await
            .unwrap();
        assert_eq!((again.added, again.changed, again.unchanged), (0, 1, 1));
        let sek = store.rates(Some(&[Currency::SEK])).await.unwrap();
        assert_eq!(sek.len(), 1);
        assert_eq!(sek[0].rate.decimal(), "11.25", "[{}]", ledger.backend);
        assert_eq!(store.rates(None).await.unwrap().len(), 2);

        // The first stored day, of one currency or of any.
        assert_eq!(
            store.first_rate_day(Some(Currency::SEK)).await.unwrap(),
            Some(20_000)
        );
        store
            .import_rates(&[rate(Currency::USD, 19_990, "1.09")])
            .await
            .unwrap();
        assert_eq!(
            store.first_rate_day(Some(Currency::USD)).await.unwrap(),
            Some(19_990)
        );
        assert_eq!(
            store.first_rate_day(Some(Currency::SEK)).await.unwrap(),
            Some(20_000)
        );
        assert_eq!(store.first_rate_day(None).await.unwrap(), Some(19_990));
        let nok = "NOK".parse().unwrap();
        assert_eq!(store.first_rate_day(Some(nok)).await.unwrap(), None);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ledger_without_rates_has_no_first_rate_day() {
    for ledger in TestLedger::each() {
        let store = ledger.open_store().await;
        assert_eq!(
            store.first_rate_day(None).await.unwrap(),
            None,
            "[{}]",
            ledger.backend
        );
        assert_eq!(
            store.first_rate_day(Some(Currency::USD)).await.unwrap(),
            None
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn recent_runs_are_live_entries_of_the_model_with_a_cost_or_a_duration() {
    for ledger in TestLedger::each() {
        let store = ledger.open_store().await;
        let mut billed = record(at(9, 0), None, Some(1));
        billed.actual_micros = Some(40_000);
        billed.actual_currency = Some(Currency::USD);
        let mut other_model = billed.clone();
        other_model.id = Uuid::now_v7();
        other_model.model = Some("fal-ai/veo3".into());
        let results = log(
            &store,
            vec![billed, other_model, record(at(9, 1), None, Some(2))],
        )
        .await;
        let LogResult::New(unconfirmed) = results[2] else {
            panic!()
        };
        store
            .execute(
                Command::Confirm {
                    entry_id: unconfirmed,
                    amount: Money::new(45_000, Currency::EUR),
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        let runs = store.recent_runs("fal-ai/flux/dev", 10).await.unwrap();
        let actuals: Vec<Option<Money>> = runs.iter().map(|r| r.actual).collect();
        // Newest logged first; the other model's run is not among them.
        assert_eq!(
            actuals,
            [
                Some(Money::new(45_000, Currency::EUR)),
                Some(Money::new(40_000, Currency::USD))
            ],
            "[{}]",
            ledger.backend
        );
        assert_eq!(
            store.recent_runs("fal-ai/flux/dev", 1).await.unwrap().len(),
            1
        );
        let ids: HashSet<Uuid> = store
            .list(&Filter::default(), all())
            .await
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids.len(), 3);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_commit_gives_a_new_name_one_spelling() {
    use gencost::service::record::{commit, prepare, LogRequest};
    for ledger in TestLedger::each() {
        let store = ledger.open_store().await;
        let catalog = gencost::pricing::Catalog::embedded().unwrap();
        let request = |client: &str| LogRequest {
            kind: gencost::ledger::Kind::Generation,
            occurred_at: None,
            source: "fal.ai".into(),
            model: Some("fal-ai/flux/dev".into()),
            description: None,
            tags: gencost::ledger::Tags {
                client: Some(client.into()),
                project: None,
                deliverable: None,
            },
            request_id: None,
            status: gencost::ledger::Status::Succeeded,
            duration_ms: None,
            params: serde_json::Map::new(),
            estimate: None,
            actual: None,
            check_large: true,
            hold: false,
        };
        // Prepared apart, as a server's concurrent requests are, then
        // written in one commit.
        let a = prepare(&store, &catalog, request("acme")).await.unwrap();
        let b = prepare(&store, &catalog, request("ACME")).await.unwrap();
        let logged = commit(&store, vec![a, b]).await.unwrap();
        assert_eq!(logged[1].respelled.len(), 1, "[{}]", ledger.backend);
        let clients: HashSet<Option<String>> = store
            .list(&Filter::default(), all())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.tags.client)
            .collect();
        assert_eq!(
            clients,
            HashSet::from([Some("acme".to_string())]),
            "[{}]",
            ledger.backend
        );
    }
}

/// Groupings the cost rollups answer give the same rows as a scan of the
/// entries, through logs, confirmations, retags and voids, and a range of
/// whole days reads only those days.
#[tokio::test(flavor = "multi_thread")]
async fn rollups_and_a_scan_of_the_entries_agree() {
    for ledger in TestLedger::each() {
        let store = ledger.open_store().await;
        let mut sek = tagged(record(at(5, 0), None, Some(5_000_000)), "Acme", "Spot");
        sek.estimate_currency = Currency::SEK;
        let mut no_model = tagged(record(at(6, 0), None, Some(1)), "Acme", "Film");
        no_model.model = None;
        let results = log(
            &store,
            vec![
                tagged(record(at(4, 0), None, Some(1_500_000)), "Acme", "Spot"),
                tagged(record(at(4, 60), None, None), "Acme", "Spot"),
                record(at(5, 0), None, Some(700_000)),
                sek,
                no_model,
                tagged(record(at(6, 60), None, Some(9_000_000)), "Globex", "Film"),
            ],
        )
        .await;
        let id = |i: usize| match results[i] {
            LogResult::New(id) => id,
            LogResult::Existing(id) => id,
        };
        let now = Timestamp::now();
        let commands = [
            Command::Confirm {
                entry_id: id(1),
                amount: Money::new(2_000_000, Currency::EUR),
            },
            Command::Retag {
                entry_id: id(2),
                tags: Tags {
                    client: Some("Globex".into()),
                    project: None,
                    deliverable: Some("Teaser".into()),
                },
            },
            Command::Void {
                entry_id: id(5),
                reason: "duplicate".into(),
            },
        ];
        for command in commands {
            store.execute(command, now).await.unwrap();
        }
        // A start one microsecond into the first day forces the scan.
        let scan = Filter {
            since: Some(Timestamp(at(1, 0) - 43_200_000_000 + 1)),
            ..Filter::default()
        };
        for grouping in [
            Grouping::Column("model"),
            Grouping::Column("deliverable"),
            Grouping::ClientProject,
            Grouping::Column("project"),
        ] {
            let sorted = |mut rows: Vec<gencost::ledger::totals::SumRow>| {
                rows.sort_by_key(|r| (r.key.clone(), r.day, r.currency.code().to_string()));
                rows
            };
            let rolled = sorted(store.sums(&Filter::default(), grouping).await.unwrap());
            let scanned = sorted(store.sums(&scan, grouping).await.unwrap());
            assert_eq!(rolled, scanned, "[{}] {grouping:?}", ledger.backend);
            assert_eq!(
                rolled.iter().map(|r| r.count).sum::<i64>(),
                5,
                "[{}] {grouping:?}",
                ledger.backend
            );
            let day_5 = Filter {
                since: Some(Timestamp(at(5, 0) - 43_200_000_000)),
                until: Some(Timestamp(at(6, 0) - 43_200_000_000)),
                ..Filter::default()
            };
            let on_day_5 = store.sums(&day_5, grouping).await.unwrap();
            assert_eq!(on_day_5.iter().map(|r| r.count).sum::<i64>(), 2);
        }
        let by_model = store
            .sums(&Filter::default(), Grouping::Column("model"))
            .await
            .unwrap();
        let eur: Vec<_> = by_model
            .iter()
            .filter(|r| r.currency == Currency::EUR)
            .collect();
        assert_eq!(eur.len(), 1);
        assert_eq!((eur[0].micros, eur[0].unpriced), (2_000_000, 0));
        assert!(by_model.iter().any(|r| r.key.is_none() && r.micros == 1));
    }
}
