//! Storage. Everything reaches the ledger through `trait Store`; the backend
//! (embedded SQLite or a studio's PostgreSQL) is chosen once from the URL.

mod append;
mod budgets;
mod columns;
mod error;
mod filter;
mod folded_keys;
mod invoices;
pub mod migrate;
mod postgres;
mod queries;
mod rates;
mod request_key;
mod rollups;
mod session;
mod sql_store;
mod sqlite;
mod unit_prices;
pub mod url;
mod value;
mod webhooks;

pub use budgets::StoredBudgets;
pub use columns::{RowDigest, ENTRY_COLUMNS, EVENT_COLUMNS};
pub use error::StoreError;
pub use filter::{Cursor, Filter, Page};
pub use folded_keys::NameMerge;
pub use rates::RatesImported;
pub use rollups::{Counted, CountedRef, Rollup, RollupSums};
pub use sql_store::{SqlStore, Upgraded, Writer};
pub use url::DatabaseUrl;
pub use webhooks::{message_id, Attempt, Delivery, DeliveryCounts, Webhook, THRESHOLD_CROSSED};

use crate::fx::DayRate;
use crate::ledger::totals::{Grouping, SumRow};
use crate::ledger::{Command, Entry, Event, Head, Outcome, TagField};
use crate::money::{Currency, Money};
use crate::timestamp::Timestamp;
use std::future::Future;
use std::sync::Arc;
use uuid::Uuid;

/// A command's outcome and the events it appended.
#[derive(Debug)]
pub struct Executed {
    pub events: Vec<Event>,
    pub outcome: Outcome,
}

/// A tag value and how many live entries use it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TagCount {
    pub value: String,
    pub count: i64,
}

/// A row of the view as stored: which entry, and a fingerprint of every
/// stored cell (see `RowDigest`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewRow {
    pub id: Uuid,
    pub position: i64,
    pub fingerprint: u64,
}

/// A page of the view as `verify` reads it: its rows in log order, and
/// what those that count in totals add to the cost rollups.
#[derive(Debug, Default)]
pub struct ViewPage {
    pub rows: Vec<ViewRow>,
    pub sums: RollupSums,
}

/// The live entries of one batch in one currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchTotal {
    pub batch: Uuid,
    pub currency: Currency,
    pub entries: i64,
    pub micros: i64,
}

/// A run the learned figures are made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecentRun {
    /// Its parameters as JSON text.
    pub params: String,
    pub occurred_at: Timestamp,
    pub actual: Option<Money>,
    pub duration_ms: Option<i64>,
}

/// What `db info` reports.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StoreInfo {
    pub backend: &'static str,
    /// The location with any password redacted.
    pub location: String,
    pub schema_version: i64,
    pub events: i64,
    pub entries: i64,
}

/// The ledger's storage: an append-only event log plus the view of entries
/// derived from it in the same transaction.
pub trait Store: Send + Sync {
    type Snapshot: LedgerSnapshot + 'static;
    type Writer: LedgerWriter + 'static;

    /// Runs a command in one write transaction: loads what it needs, decides,
    /// appends the events to the chain and applies them to the view.
    fn execute(
        &self,
        command: Command,
        at: Timestamp,
    ) -> impl Future<Output = Result<Executed, StoreError>> + Send;

    /// A write transaction for several commands that stand or fall
    /// together (an import: every row, or none). It holds the chain's write
    /// lock until it is committed or dropped; dropped, it writes nothing.
    fn writer(&self) -> impl Future<Output = Result<Self::Writer, StoreError>> + Send;

    fn entry(&self, id: Uuid) -> impl Future<Output = Result<Option<Entry>, StoreError>> + Send;

    /// The events that record imports and pools, their voids and the
    /// corrections imports made, in chain order.
    fn batch_events(&self) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;

    /// The live entries of every import and pool, counted and summed per
    /// batch and currency.
    fn batch_totals(&self) -> impl Future<Output = Result<Vec<BatchTotal>, StoreError>> + Send;

    /// Entries carrying this provider request id, from any source.
    fn entries_with_request(
        &self,
        request_id: &str,
    ) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send;

    /// Newest first.
    fn list(
        &self,
        filter: &Filter,
        page: Page,
    ) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send;

    /// Sums of the cost used in totals, per group, currency and UTC day (for
    /// conversion at each day's rate), live and charged entries only.
    fn sums(
        &self,
        filter: &Filter,
        grouping: Grouping,
    ) -> impl Future<Output = Result<Vec<SumRow>, StoreError>> + Send;

    /// Failed or cancelled runs that were not charged, among the live
    /// entries matching `filter` (left out of `sums`).
    fn not_charged(&self, filter: &Filter) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Tag values starting with `prefix` (case-insensitive), most used first.
    fn tag_values(
        &self,
        field: TagField,
        prefix: &str,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<TagCount>, StoreError>> + Send;

    /// The spelling the ledger first logged a name with, among names that
    /// differ from `name` only by case: one index look-up.
    fn tag_spelling(
        &self,
        field: TagField,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    fn head(&self) -> impl Future<Output = Result<Head, StoreError>> + Send;

    /// A read-only view of the ledger as it is now, for long scans.
    fn snapshot(&self) -> impl Future<Output = Result<Self::Snapshot, StoreError>> + Send;

    /// `count` read-only views of one and the same state, to scan it on
    /// several connections at once (`verify`, a report).
    fn snapshots(
        &self,
        count: usize,
    ) -> impl Future<Output = Result<Vec<Self::Snapshot>, StoreError>> + Send;

    /// Appends events exactly as given (from another ledger), checking that
    /// they continue this chain, and applies them to the view.
    fn append_events(
        &self,
        events: &[Event],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Clears events and entries if the head is still `expected`, and starts
    /// a new chain with `first`.
    fn reset(
        &self,
        expected: Head,
        first: crate::ledger::event::LedgerReset,
        at: Timestamp,
    ) -> impl Future<Output = Result<Event, StoreError>> + Send;

    fn info(&self) -> impl Future<Output = Result<StoreInfo, StoreError>> + Send;

    /// Stores exchange rates in one transaction (all or nothing); a rate
    /// already stored for the same currency and day is replaced.
    fn import_rates(
        &self,
        rates: &[DayRate],
    ) -> impl Future<Output = Result<RatesImported, StoreError>> + Send;

    /// The latest live runs of this model with a confirmed cost or a
    /// duration, newest first, at most `limit`.
    fn recent_runs(
        &self,
        model: &str,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<RecentRun>, StoreError>> + Send;

    /// Stores fal unit prices read on their day (all or nothing); a price
    /// equal to the one already in force that day is not stored again.
    fn store_unit_prices(
        &self,
        prices: &[crate::pricing::unit_price::UnitPrice],
    ) -> impl Future<Output = Result<crate::pricing::unit_price::UnitPricesStored, StoreError>> + Send;

    /// Every stored fal unit price, by endpoint, then day.
    fn unit_prices(
        &self,
    ) -> impl Future<Output = Result<Vec<crate::pricing::unit_price::UnitPrice>, StoreError>> + Send;

    /// Stores these fal unit prices as they are, each on its own day (all
    /// or nothing): how `db copy` carries them.
    fn copy_unit_prices(
        &self,
        prices: &[crate::pricing::unit_price::UnitPrice],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The invoice holding each of these entries locked, where one does.
    fn invoice_locks_of(
        &self,
        ids: &[Uuid],
    ) -> impl Future<
        Output = Result<std::collections::HashMap<Uuid, crate::ledger::invoice::Lock>, StoreError>,
    > + Send;

    /// Live pending runs without a confirmed cost logged before `before`,
    /// oldest first, at most `limit` (holds that stay open).
    fn open_holds(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send;

    /// Every budget, by name.
    fn budgets(
        &self,
    ) -> impl Future<Output = Result<Vec<crate::ledger::budget::Budget>, StoreError>> + Send;

    /// A budget's figures over a period in its currency, and the
    /// thresholds it crossed in that period.
    fn budget_figures(
        &self,
        budget: &crate::ledger::budget::Budget,
        period: &crate::ledger::budget::Period,
    ) -> impl Future<Output = Result<(crate::ledger::budget::Figures, Vec<u32>), StoreError>> + Send;

    fn add_webhook(&self, webhook: &Webhook)
        -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every webhook, with how its deliveries stand.
    fn webhooks(
        &self,
    ) -> impl Future<Output = Result<Vec<(Webhook, DeliveryCounts)>, StoreError>> + Send;

    /// Removes a webhook (and what it is still owed); false when unknown.
    fn remove_webhook(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// A new secret; the old one signs too until `until`. False when unknown.
    fn rotate_webhook(
        &self,
        id: &str,
        secret: &str,
        until: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Owes one message to one webhook.
    fn enqueue_webhook(
        &self,
        webhook: &str,
        id: &str,
        event_type: &str,
        body: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Claims due deliveries until `lease_until` (see `webhooks::claim`).
    fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    fn finish_delivery(
        &self,
        delivery: &Delivery,
        attempt: &Attempt,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stored exchange rates of these currencies, or of all when `None`.
    fn rates(
        &self,
        currencies: Option<&[Currency]>,
    ) -> impl Future<Output = Result<Vec<DayRate>, StoreError>> + Send;

    /// The first day of the stored rates of `currency` (of any currency
    /// when `None`), if any are stored: one look-up in the key's index.
    fn first_rate_day(
        &self,
        currency: Option<Currency>,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
}

/// Commands run one after another in one write transaction.
pub trait LedgerWriter: Send {
    fn execute(
        &mut self,
        command: Command,
        at: Timestamp,
    ) -> impl Future<Output = Result<Executed, StoreError>> + Send;

    /// Writes everything executed, at once.
    fn commit(self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Writes nothing (a dry run).
    fn rollback(self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Reads that all see one consistent state of the ledger.
pub trait LedgerSnapshot: Send {
    fn head(&mut self) -> impl Future<Output = Result<Head, StoreError>> + Send;

    /// A page of the entries `filter` matches, as `Store::list` gives it.
    fn list(
        &mut self,
        filter: &Filter,
        page: Page,
    ) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send;

    /// The entries `filter` matches in log order (by `position`), after
    /// position `after`, at most `limit`: one pass down the table, whatever
    /// order the entries' dates are in.
    fn list_in_log_order(
        &mut self,
        filter: &Filter,
        after: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send;

    /// Events after `after_seq` in chain order, at most `limit`, and fewer
    /// where import events (up to a megabyte each) would make the page large.
    fn events_page(
        &mut self,
        after_seq: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;

    /// The events at these chain positions, in chain order.
    fn events_at(
        &mut self,
        seqs: &[i64],
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;

    /// The change events (all but the logging event) of these entries, in chain order.
    fn change_events(
        &mut self,
        ids: &[Uuid],
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;

    fn entry(&mut self, id: Uuid)
        -> impl Future<Output = Result<Option<Entry>, StoreError>> + Send;

    /// The events of one entry in chain order: the event that logged it
    /// (for an imported row, the event that logged its import's rows),
    /// then every change.
    fn entry_events(
        &mut self,
        entry: &Entry,
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;

    /// The view in log order (by `position`), after position `after`
    /// (exclusive), at most `limit`.
    fn view_page(
        &mut self,
        after: i64,
        limit: i64,
        digest: &Arc<RowDigest>,
        budgets: &Arc<Vec<crate::ledger::budget::BudgetScope>>,
    ) -> impl Future<Output = Result<ViewPage, StoreError>> + Send;

    /// The budgets and crossed thresholds as stored, for `verify`.
    fn stored_budgets(&mut self) -> impl Future<Output = Result<StoredBudgets, StoreError>> + Send;

    /// The stored cost rollups, rows without entries left out.
    fn rollups(&mut self) -> impl Future<Output = Result<RollupSums, StoreError>> + Send;

    /// (events, entries)
    fn counts(&mut self) -> impl Future<Output = Result<(i64, i64), StoreError>> + Send;

    /// The columns `table` has in the database.
    fn table_columns(
        &mut self,
        table: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Every invoice and credit note, in number order.
    fn invoices(
        &mut self,
    ) -> impl Future<Output = Result<Vec<crate::ledger::invoice::InvoiceRecord>, StoreError>> + Send;

    /// Every entry an invoice holds, with its lock, in id order.
    fn invoice_locks(
        &mut self,
    ) -> impl Future<Output = Result<Vec<(Uuid, crate::ledger::invoice::Lock)>, StoreError>> + Send;

    /// The first (or, with `last`, the latest) event of a kind.
    fn event_of_kind(
        &mut self,
        kind: &str,
        last: bool,
    ) -> impl Future<Output = Result<Option<Event>, StoreError>> + Send;

    /// A client's locked entries (by folded key) whose cost now differs
    /// from what was billed for them, each with its lock.
    fn adjustments_due(
        &mut self,
        client_key: &str,
    ) -> impl Future<Output = Result<Vec<(crate::ledger::invoice::Lock, Entry)>, StoreError>> + Send;
}
