//! The entries and events tables, column by column, defined once: the
//! column lists the SQL selects and inserts, the row a value is written as,
//! its reading back by column name, and the fingerprint `verify` compares.
//! The view row of an entry is built by destructuring every field of
//! `Entry`, so a new field cannot be left out of the row, and `verify`
//! fingerprints whole rows, derived columns included, so no stored value
//! escapes the check.

use super::error::StoreError;
use super::request_key::request_key;
use super::value::{CellRef, Column, Row, Value};
use crate::ledger::tags::fold;
use crate::ledger::{Actual, Entry, Estimate, Event, Hash, Tags, Voiding};
use crate::money::{Currency, Money};
use crate::timestamp::Timestamp;
use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
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
    /// The view of entries. `cost_*`, `is_void` and `charged` (what totals
    /// sum), `day` (the UTC day totals group by), `request_key` and the
    /// tags' folded keys (`client_key`..., what filters match) are derived
    /// from the other columns when a row is written.
    ENTRY_COLUMNS, ENTRY_LIST, ENTRY_TYPES:
    "id" Text, "position" Int, "kind" Text, "occurred_at" Int, "source" Text,
    "model" Text, "description" Text, "client" Text, "project" Text,
    "deliverable" Text, "request_id" Text, "status" Text, "duration_ms" Int,
    "params" Text, "estimate_micros" Int, "estimate_currency" Text,
    "estimate_tier" Text, "actual_micros" Int, "actual_currency" Text,
    "actual_confirmed_at" Int, "void_reason" Text, "voided_at" Int,
    "cost_micros" Int, "cost_currency" Text, "cost_tier" Text, "is_void" Int,
    "price_version" Text, "license" Text, "day" Int, "request_key" Int,
    "charged" Int, "batch_id" Text, "billing" Text, "client_key" Text,
    "project_key" Text, "deliverable_key" Text,
}

table! {
    /// The event log; the hash covers every other column.
    EVENT_COLUMNS, EVENT_LIST, EVENT_TYPES:
    "seq" Int, "recorded_at" Int, "kind" Text, "entry_id" Text, "payload" Text,
    "prev_hash" Text, "hash" Text,
}

/// The index of column `name` in `columns`; a name not there fails the
/// build where it is used in a constant.
pub const fn column_index(columns: &[&str], name: &str) -> usize {
    let mut i = 0;
    while i < columns.len() {
        let (a, b) = (columns[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("no such column")
}

/// Receives a row's cells in column order: a `Vec` of values to write, or
/// a digest to compare.
pub trait Cells {
    fn int(&mut self, value: Option<i64>);
    fn text(&mut self, value: Option<Cow<'_, str>>);
}

impl Cells for Vec<Value> {
    fn int(&mut self, value: Option<i64>) {
        self.push(value.into());
    }

    fn text(&mut self, value: Option<Cow<'_, str>>) {
        self.push(value.map(Cow::into_owned).into());
    }
}

/// The view row of an entry, cell by cell in `ENTRY_COLUMNS` order; takes
/// the entry so its text moves into the row instead of being copied.
pub fn entry_cells(entry: Entry, out: &mut impl Cells) {
    let cost = entry.cost();
    let charged = entry.is_charged();
    let Entry {
        id,
        position,
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
        batch,
        billing,
    } = entry;
    let key = request_id.as_deref().map(request_key);
    let folded = |tag: &Option<String>| tag.as_deref().map(|name| Cow::Owned(fold(name)));
    let tag_keys = [folded(&client), folded(&project), folded(&deliverable)];
    let (void_reason, voided_at) = match void {
        Some(Voiding { reason, at }) => (Some(reason), Some(at.0)),
        None => (None, None),
    };
    let owned = |text: Option<String>| text.map(Cow::Owned);
    fn code(currency: &Currency) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(currency.code()))
    }
    let actual_currency = actual.map(|a| a.amount.currency);
    // Ids are written out on the stack: a digest only borrows them.
    let (mut id_text, mut batch_text) = (Uuid::encode_buffer(), Uuid::encode_buffer());
    let id_text: &str = id.hyphenated().encode_lower(&mut id_text);
    let batch_text = batch.map(|b| &*b.hyphenated().encode_lower(&mut batch_text));
    out.text(Some(Cow::Borrowed(id_text)));
    out.int(Some(position));
    out.text(Some(Cow::Borrowed(kind.as_str())));
    out.int(Some(occurred_at.0));
    out.text(Some(Cow::Owned(source)));
    out.text(owned(model));
    out.text(owned(description));
    out.text(owned(client));
    out.text(owned(project));
    out.text(owned(deliverable));
    out.text(owned(request_id));
    out.text(Some(Cow::Borrowed(status.as_str())));
    out.int(duration_ms);
    out.text(Some(Cow::Owned(params)));
    out.int(estimate_micros);
    out.text(code(&estimate_currency));
    out.text(Some(Cow::Borrowed(estimate_tier.as_str())));
    out.int(actual.map(|a| a.amount.micros));
    out.text(actual_currency.as_ref().and_then(code));
    out.int(actual.map(|a| a.confirmed_at.0));
    out.text(owned(void_reason));
    out.int(voided_at);
    out.int(cost.micros);
    out.text(code(&cost.currency));
    out.text(Some(Cow::Borrowed(cost.tier.as_str())));
    out.int(Some(i64::from(voided_at.is_some())));
    out.text(owned(price_version));
    out.text(owned(license));
    out.int(Some(occurred_at.day()));
    out.int(key);
    out.int(Some(i64::from(charged)));
    out.text(batch_text.map(Cow::Borrowed));
    out.text(billing.map(|b| Cow::Owned(billing_text(&b))));
    for tag_key in tag_keys {
        out.text(tag_key);
    }
}

/// A billing as its JSON text in the view (its fields in one fixed order).
fn billing_text(billing: &crate::ledger::Billing) -> String {
    serde_json::to_string(billing).unwrap_or_default()
}

/// The view row of an entry as values, in `ENTRY_COLUMNS` order.
pub fn entry_values(entry: Entry) -> Vec<Value> {
    let mut row = Vec::with_capacity(ENTRY_COLUMNS.len());
    entry_cells(entry, &mut row);
    row
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
            position: row.int("position")?,
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
            batch: row
                .opt_text("batch_id")?
                .map(|b| parse_uuid(&b))
                .transpose()?,
            billing: row
                .opt_text("billing")?
                .map(|b| {
                    serde_json::from_str(&b)
                        .map_err(|e| StoreError::Corrupt(format!("its billing is unreadable: {e}")))
                })
                .transpose()?,
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

/// An event read back from its row (selected with `EVENT_LIST`).
pub fn event_from_row(row: Row) -> Result<Event, StoreError> {
    if *row.names != *EVENT_COLUMNS {
        return Err(StoreError::Corrupt(format!(
            "an event read as the columns {:?}",
            row.names
        )));
    }
    let cells: Vec<CellRef<'_>> = row.cells.iter().map(Value::as_cell).collect();
    event_from_cells(&cells)
}

/// An event read back from its cells, borrowed in `EVENT_COLUMNS` order.
/// Ids and hashes must be in the exact form gencost writes, so that no
/// stored text differs from what the chain's hash covers.
pub fn event_from_cells(cells: &[CellRef<'_>]) -> Result<Event, StoreError> {
    let cell = |i: usize| {
        cells.get(i).copied().ok_or_else(|| {
            StoreError::Corrupt(format!("the result has no column {}", EVENT_COLUMNS[i]))
        })
    };
    let int = |i: usize| cell(i)?.int(EVENT_COLUMNS[i]);
    let opt_text = |i: usize| cell(i)?.opt_text(EVENT_COLUMNS[i]);
    let text = |i: usize| {
        opt_text(i)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "column {}: expected text, found NULL",
                EVENT_COLUMNS[i]
            ))
        })
    };
    let seq = int(0)?;
    let read = || -> Result<Event, StoreError> {
        Ok(Event {
            seq,
            recorded_at: timestamp(int(1)?)?,
            kind: text(2)?.to_string(),
            entry_id: opt_text(3)?.map(parse_uuid).transpose()?,
            payload: text(4)?.to_string(),
            prev_hash: parse_hash(text(5)?)?,
            hash: parse_hash(text(6)?)?,
        })
    };
    read().map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))
}

/// Digests of whole rows, to compare a stored view row with the row its
/// replay would write without keeping rows in memory: 64-bit SipHash with a
/// key drawn at random for each check, so no row can be forged in advance to
/// collide. Each row's cells are encoded into one buffer (a tag, then the
/// value; text with its length, so no two rows encode alike) and hashed in
/// one call: SipHash fed cell by cell spent most of its time per call.
pub struct RowDigest(RandomState);

impl RowDigest {
    pub fn new() -> RowDigest {
        RowDigest(RandomState::new())
    }

    /// The digest of stored cells.
    pub fn row(&self, cells: &[Value]) -> u64 {
        self.cells(cells.iter().map(Value::as_cell))
    }

    /// The digest of stored cells, borrowed from the backend's row.
    pub fn cells<'a>(&self, cells: impl IntoIterator<Item = CellRef<'a>>) -> u64 {
        self.encoded(|row| {
            for cell in cells {
                match cell {
                    CellRef::Null => row.null(),
                    CellRef::Int(v) => row.int(Some(v)),
                    CellRef::Text(t) => row.str(t),
                }
            }
        })
    }

    /// The digest of the view row this entry is written as.
    pub fn entry(&self, entry: Entry) -> u64 {
        self.encoded(|row| entry_cells(entry, row))
    }

    /// The digest of the row `encode` writes, in a buffer each thread
    /// keeps from row to row.
    fn encoded(&self, encode: impl FnOnce(&mut Digesting)) -> u64 {
        thread_local! {
            static BUFFER: std::cell::RefCell<Digesting> =
                std::cell::RefCell::new(Digesting(Vec::with_capacity(4096)));
        }
        BUFFER.with(|buffer| match buffer.try_borrow_mut() {
            Ok(mut row) => {
                row.0.clear();
                encode(&mut row);
                self.0.hash_one(row.0.as_slice())
            }
            // Not reached (a digest is not taken inside another), but a
            // buffer of its own is as right.
            Err(_) => {
                let mut row = Digesting(Vec::new());
                encode(&mut row);
                self.0.hash_one(row.0.as_slice())
            }
        })
    }
}

impl Default for RowDigest {
    fn default() -> Self {
        RowDigest::new()
    }
}

/// A row's cells in one encoding for stored and replayed rows.
struct Digesting(Vec<u8>);

impl Digesting {
    fn null(&mut self) {
        self.0.push(0);
    }

    fn str(&mut self, text: &str) {
        self.0.push(2);
        self.0.extend_from_slice(&(text.len() as u64).to_le_bytes());
        self.0.extend_from_slice(text.as_bytes());
    }
}

impl Cells for Digesting {
    fn int(&mut self, value: Option<i64>) {
        match value {
            Some(v) => {
                self.0.push(1);
                self.0.extend_from_slice(&v.to_le_bytes());
            }
            None => self.null(),
        }
    }

    fn text(&mut self, value: Option<Cow<'_, str>>) {
        match value {
            Some(text) => self.str(&text),
            None => self.null(),
        }
    }
}

fn timestamp(micros: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_micros(micros).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// An id in exactly the form gencost writes (hyphenated, lowercase).
pub fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    let mut buffer = Uuid::encode_buffer();
    match Uuid::parse_str(text) {
        Ok(id) if id.hyphenated().encode_lower(&mut buffer) == text => Ok(id),
        _ => Err(StoreError::Corrupt(format!("malformed id '{text}'"))),
    }
}

/// A hash in exactly the form gencost writes (64 lowercase hex digits).
pub fn parse_hash(text: &str) -> Result<Hash, StoreError> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let malformed = || StoreError::Corrupt(format!("malformed hash '{text}'"));
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return Err(malformed());
    }
    let mut hash = [0u8; 32];
    for (out, pair) in hash.iter_mut().zip(bytes.chunks_exact(2)) {
        let (Some(high), Some(low)) = (digit(pair[0]), digit(pair[1])) else {
            return Err(malformed());
        };
        *out = high << 4 | low;
    }
    Ok(Hash(hash))
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
            position: 7,
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
            batch: Some(Uuid::now_v7()),
            billing: Some(crate::ledger::Billing {
                units: "3.008".into(),
                endpoint: "fal-ai/flux/dev".into(),
                unit_price: Some("0.025".into()),
                unit: Some("megapixels".into()),
                price_date: Some("2026-11-27".into()),
                price_from: Some("sync".into()),
                rounded: None,
                usage: None,
            }),
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
    fn a_stored_row_and_its_entry_digest_alike() {
        let digest = RowDigest::new();
        let entry = full_entry();
        assert_eq!(
            digest.row(&entry_values(entry.clone())),
            digest.entry(entry)
        );
    }

    #[test]
    fn every_cell_counts_in_the_digest() {
        let digest = RowDigest::new();
        let cells = entry_values(full_entry());
        let print = digest.row(&cells);
        for i in 0..cells.len() {
            let mut altered = cells.clone();
            altered[i] = match &altered[i] {
                Value::Int(v) => Value::Int(v + 1),
                Value::Text(t) => Value::Text(format!("{t}x")),
                _ => Value::Int(0),
            };
            assert_ne!(digest.row(&altered), print, "column {}", ENTRY_COLUMNS[i]);
            altered[i] = Value::Null;
            assert_ne!(digest.row(&altered), print, "column {}", ENTRY_COLUMNS[i]);
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
