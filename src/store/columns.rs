//! The entries and events tables, column by column, defined once: the
//! column lists the SQL selects and inserts, the row a value is written as,
//! its reading back by column name, and the fingerprint `verify` compares.
//! The view row of an entry is built by destructuring every field of
//! `Entry`, so a new field cannot be left out of the row, and `verify`
//! fingerprints whole rows, derived columns included, so no stored value
//! escapes the check.

use super::error::StoreError;
use super::request_key::request_key;
use super::value::{Column, Row, Value};
use crate::ledger::{Actual, Entry, Estimate, Event, Hash, Tags, Voiding};
use crate::money::{Currency, Money};
use crate::timestamp::Timestamp;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Defines a table's column names (a slice and the comma-separated list for
/// SQL) and their types, in the order rows are written.
macro_rules! table {
    ($(#[$meta:meta])* $names:ident, $list:ident, $types:ident:
     $first:literal $first_type:ident $(, $name:literal $type:ident)* $(,)?) => {
        $(#[$meta])*
        pub const $names: &[&str] = &[$first $(, $name)*];
        pub const $list: &str = concat!($first $(, ", ", $name)*);
        pub const $types: &[Column] = &[Column::$first_type $(, Column::$type)*];
    };
}

table! {
    /// The view of entries. `cost_*` and `is_void` (what totals sum), `day`
    /// (the UTC day totals group by) and `request_key` are derived from the
    /// other columns when a row is written.
    ENTRY_COLUMNS, ENTRY_LIST, ENTRY_TYPES:
    "id" Text, "logged_seq" Int, "kind" Text, "occurred_at" Int, "source" Text,
    "model" Text, "description" Text, "client" Text, "project" Text,
    "deliverable" Text, "request_id" Text, "status" Text, "duration_ms" Int,
    "params" Text, "estimate_micros" Int, "estimate_currency" Text,
    "estimate_tier" Text, "actual_micros" Int, "actual_currency" Text,
    "actual_confirmed_at" Int, "void_reason" Text, "voided_at" Int,
    "cost_micros" Int, "cost_currency" Text, "cost_tier" Text, "is_void" Int,
    "price_version" Text, "license" Text, "day" Int, "request_key" Int,
}

table! {
    /// The event log; the hash covers every other column.
    EVENT_COLUMNS, EVENT_LIST, EVENT_TYPES:
    "seq" Int, "recorded_at" Int, "kind" Text, "entry_id" Text, "payload" Text,
    "prev_hash" Text, "hash" Text,
}

/// The view row of an entry, in `ENTRY_COLUMNS` order; takes the entry so
/// its text moves into the row instead of being copied.
pub fn entry_values(entry: Entry) -> Vec<Value> {
    let cost = entry.cost();
    let Entry {
        id,
        logged_seq,
        kind,
        occurred_at,
        source,
        model,
        description,
        tags: Tags {
            client,
            project,
            deliverable,
        },
        request_id,
        status,
        duration_ms,
        params,
        estimate:
            Estimate {
                micros: estimate_micros,
                currency: estimate_currency,
                tier: estimate_tier,
            },
        actual,
        void,
        price_version,
        license,
    } = entry;
    let key = request_id.as_deref().map(request_key);
    let (void_reason, voided_at) = match void {
        Some(Voiding { reason, at }) => (Some(reason), Some(at.0)),
        None => (None, None),
    };
    vec![
        Value::Text(id.to_string()),
        Value::Int(logged_seq),
        kind.as_str().into(),
        Value::Int(occurred_at.0),
        Value::Text(source),
        model.into(),
        description.into(),
        client.into(),
        project.into(),
        deliverable.into(),
        request_id.into(),
        status.as_str().into(),
        duration_ms.into(),
        Value::Text(params),
        estimate_micros.into(),
        estimate_currency.code().into(),
        estimate_tier.as_str().into(),
        actual.map(|a| a.amount.micros).into(),
        actual.map(|a| a.amount.currency.code().to_string()).into(),
        actual.map(|a| a.confirmed_at.0).into(),
        void_reason.into(),
        Value::from(voided_at),
        cost.micros.into(),
        cost.currency.code().into(),
        cost.tier.as_str().into(),
        Value::Int(i64::from(voided_at.is_some())),
        price_version.into(),
        license.into(),
        Value::Int(occurred_at.day()),
        key.into(),
    ]
}

/// An entry read back from its view row (selected with `ENTRY_LIST`).
pub fn entry_from_row(mut row: Row) -> Result<Entry, StoreError> {
    let id = parse_uuid(&row.text("id")?)?;
    let context = |e: StoreError| StoreError::Corrupt(format!("entry {id}: {e}"));
    let mut read = || -> Result<Entry, StoreError> {
        let actual = match (
            row.opt_int("actual_micros")?,
            row.opt_text("actual_currency")?,
            row.opt_int("actual_confirmed_at")?,
        ) {
            (Some(micros), Some(currency), Some(at)) => Some(Actual {
                amount: Money::new(micros, parse_currency(&currency)?),
                confirmed_at: timestamp(at)?,
            }),
            (None, None, None) => None,
            _ => return Err(StoreError::Corrupt("its actual cost is incomplete".into())),
        };
        let void = match (row.opt_text("void_reason")?, row.opt_int("voided_at")?) {
            (Some(reason), Some(at)) => Some(Voiding {
                reason,
                at: timestamp(at)?,
            }),
            (None, None) => None,
            _ => return Err(StoreError::Corrupt("its void is incomplete".into())),
        };
        Ok(Entry {
            id,
            logged_seq: row.int("logged_seq")?,
            kind: parse_enum(&row.text("kind")?)?,
            occurred_at: timestamp(row.int("occurred_at")?)?,
            source: row.text("source")?,
            model: row.opt_text("model")?,
            description: row.opt_text("description")?,
            tags: Tags {
                client: row.opt_text("client")?,
                project: row.opt_text("project")?,
                deliverable: row.opt_text("deliverable")?,
            },
            request_id: row.opt_text("request_id")?,
            status: parse_enum(&row.text("status")?)?,
            duration_ms: row.opt_int("duration_ms")?,
            params: row.text("params")?,
            estimate: Estimate {
                micros: row.opt_int("estimate_micros")?,
                currency: parse_currency(&row.text("estimate_currency")?)?,
                tier: parse_enum(&row.text("estimate_tier")?)?,
            },
            actual,
            void,
            price_version: row.opt_text("price_version")?,
            license: row.opt_text("license")?,
        })
    };
    read().map_err(context)
}

/// An event's row, in `EVENT_COLUMNS` order.
pub fn event_values(event: &Event) -> [Value; 7] {
    let Event {
        seq,
        recorded_at,
        kind,
        entry_id,
        payload,
        prev_hash,
        hash,
    } = event;
    [
        Value::Int(*seq),
        Value::Int(recorded_at.0),
        Value::Text(kind.clone()),
        entry_id.map(|id| id.to_string()).into(),
        Value::Text(payload.clone()),
        Value::Text(prev_hash.to_hex()),
        Value::Text(hash.to_hex()),
    ]
}

/// An event read back from its row (selected with `EVENT_LIST`). Ids and
/// hashes must be in the exact form gencost writes, so that no stored text
/// differs from what the chain's hash covers.
pub fn event_from_row(mut row: Row) -> Result<Event, StoreError> {
    let seq = row.int("seq")?;
    let mut read = || -> Result<Event, StoreError> {
        Ok(Event {
            seq,
            recorded_at: timestamp(row.int("recorded_at")?)?,
            kind: row.text("kind")?,
            entry_id: row
                .opt_text("entry_id")?
                .map(|t| parse_uuid(&t))
                .transpose()?,
            payload: row.text("payload")?,
            prev_hash: parse_hash(&row.text("prev_hash")?)?,
            hash: parse_hash(&row.text("hash")?)?,
        })
    };
    read().map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))
}

/// A digest of a whole stored row, to compare a view row with the row its
/// replay would write without keeping rows in memory. 64 bits of SHA-256: a
/// chance collision among a ledger's entries is negligible, and the chain
/// itself is checked with full hashes.
pub fn row_fingerprint(cells: &[Value]) -> u64 {
    let mut h = Sha256::new();
    for cell in cells {
        match cell {
            Value::Null | Value::NullInt => h.update([0]),
            Value::Int(v) => {
                h.update([1]);
                h.update(v.to_le_bytes());
            }
            Value::Text(t) => {
                h.update([2]);
                h.update((t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
        }
    }
    let digest = h.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(out)
}

/// The fingerprint of the view row this entry is written as.
pub fn entry_fingerprint(entry: Entry) -> u64 {
    row_fingerprint(&entry_values(entry))
}

fn timestamp(micros: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_micros(micros).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    match Uuid::parse_str(text) {
        Ok(id) if id.hyphenated().to_string() == text => Ok(id),
        _ => Err(StoreError::Corrupt(format!("malformed id '{text}'"))),
    }
}

fn parse_hash(text: &str) -> Result<Hash, StoreError> {
    match Hash::from_hex(text) {
        Some(hash) if hash.to_hex() == text => Ok(hash),
        _ => Err(StoreError::Corrupt(format!("malformed hash '{text}'"))),
    }
}

pub fn parse_currency(text: &str) -> Result<Currency, StoreError> {
    text.parse()
        .map_err(|e: crate::money::UnknownCurrency| StoreError::Corrupt(e.to_string()))
}

fn parse_enum<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T, StoreError> {
    text.parse().map_err(StoreError::Corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Kind, Status, Tier};
    use std::sync::Arc;

    fn full_entry() -> Entry {
        Entry {
            id: Uuid::now_v7(),
            logged_seq: 7,
            kind: Kind::Generation,
            occurred_at: Timestamp(1_700_000_000_000_000),
            source: "fal.ai".into(),
            model: Some("fal-ai/flux/dev".into()),
            description: Some("hero frame".into()),
            tags: Tags {
                client: Some("Acme".into()),
                project: Some("Summer Spot".into()),
                deliverable: Some("Hero Film".into()),
            },
            request_id: Some("req-1".into()),
            status: Status::Failed,
            duration_ms: Some(3200),
            params: r#"{"num_images":2}"#.into(),
            estimate: Estimate {
                micros: Some(25_000),
                currency: Currency::USD,
                tier: Tier::Estimated,
            },
            actual: Some(Actual {
                amount: Money::new(31_000, Currency::EUR),
                confirmed_at: Timestamp(1_700_000_100_000_000),
            }),
            void: Some(Voiding {
                reason: "test render".into(),
                at: Timestamp(1_700_000_200_000_000),
            }),
            price_version: Some("2026-11-27".into()),
            license: Some("commercial".into()),
        }
    }

    fn as_row(cells: Vec<Value>, names: &[&str]) -> Row {
        Row {
            names: names
                .iter()
                .map(|n| n.to_string())
                .collect::<Arc<[String]>>(),
            cells,
        }
    }

    #[test]
    fn lists_and_types_match() {
        assert_eq!(ENTRY_LIST.split(", ").collect::<Vec<_>>(), ENTRY_COLUMNS);
        assert_eq!(ENTRY_COLUMNS.len(), ENTRY_TYPES.len());
        assert_eq!(EVENT_LIST.split(", ").collect::<Vec<_>>(), EVENT_COLUMNS);
        assert_eq!(EVENT_COLUMNS.len(), EVENT_TYPES.len());
    }

    #[test]
    fn entries_round_trip_through_their_row() {
        let mut bare = full_entry();
        bare.model = None;
        bare.description = None;
        bare.tags = Tags::default();
        bare.request_id = None;
        bare.duration_ms = None;
        bare.estimate = Estimate::unpriced(Currency::SEK);
        bare.actual = None;
        bare.void = None;
        bare.price_version = None;
        bare.license = None;
        for entry in [full_entry(), bare] {
            let cells = entry_values(entry.clone());
            assert_eq!(cells.len(), ENTRY_COLUMNS.len());
            for (cell, column) in cells.iter().zip(ENTRY_TYPES) {
                match (cell, column) {
                    (Value::Int(_) | Value::NullInt, Column::Int) => {}
                    (Value::Text(_) | Value::Null, Column::Text) => {}
                    other => panic!("cell of the wrong type: {other:?}"),
                }
            }
            let back = entry_from_row(as_row(cells, ENTRY_COLUMNS)).unwrap();
            assert_eq!(back, entry);
        }
    }

    #[test]
    fn every_cell_counts_in_the_fingerprint() {
        let cells = entry_values(full_entry());
        let print = row_fingerprint(&cells);
        for i in 0..cells.len() {
            let mut altered = cells.clone();
            altered[i] = match &altered[i] {
                Value::Int(v) => Value::Int(v + 1),
                Value::Text(t) => Value::Text(format!("{t}x")),
                _ => Value::Int(0),
            };
            assert_ne!(
                row_fingerprint(&altered),
                print,
                "column {}",
                ENTRY_COLUMNS[i]
            );
            altered[i] = Value::Null;
            assert_ne!(
                row_fingerprint(&altered),
                print,
                "column {}",
                ENTRY_COLUMNS[i]
            );
        }
    }

    #[test]
    fn ids_and_hashes_must_be_canonical() {
        let id = Uuid::now_v7();
        assert!(parse_uuid(&id.to_string()).is_ok());
        assert!(parse_uuid(&id.to_string().to_uppercase()).is_err());
        assert!(parse_uuid(&id.simple().to_string()).is_err());
        let hash = Hash([0xab; 32]);
        assert!(parse_hash(&hash.to_hex()).is_ok());
        assert!(parse_hash(&hash.to_hex().to_uppercase()).is_err());
    }
}
