//! `SqlStore`: the one implementation of `Store` for both backends. It picks
//! the backend from the URL, checks the schema on open, and opens the three
//! kinds of session the ledger uses: a plain connection, a write
//! transaction that holds the chain's lock, and a read-only snapshot.

use super::append::{append_verbatim, finish_write, reset_chain, run_command, run_command_with};
use super::columns::RowDigest;
use super::error::StoreError;
use super::filter::{Filter, Page};
use super::folded_keys::NameMerge;
use super::migrate::{self, SchemaState};
use super::queries;
use super::rollups::RollupSums;
use super::session::Session;
use super::sqlite::SqlitePool;
use super::value::Value;
use super::{
    postgres, BatchTotal, DatabaseUrl, Executed, LedgerSnapshot, LedgerWriter, RatesImported,
    Store, StoreInfo, TagCount, ViewPage,
};
use crate::fx::DayRate;
use crate::ledger::event::LedgerReset;
use crate::ledger::invoice::{InvoiceRecord, Lock};
use crate::ledger::totals::{Grouping, SumRow};
use crate::ledger::{Command, Entry, Event, Head, ImportedIndex, TagField};
use crate::money::Currency;
use crate::timestamp::Timestamp;
use sqlx::PgPool;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use uuid::Uuid;

enum Backend {
    Sqlite(Arc<SqlitePool>),
    Postgres(PgPool),
}

/// The ledger in a SQLite file or a PostgreSQL database.
pub struct SqlStore {
    backend: Backend,
    url: DatabaseUrl,
    /// Events this process appended, and the count at which it next
    /// refreshes PostgreSQL's planner statistics.
    appended: AtomicU64,
    next_analyze: AtomicU64,
    /// Set when opening upgraded a private SQLite ledger.
    upgrade: Option<Upgraded>,
}

/// A ledger upgraded, and (for a SQLite file) where its copy from before is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upgraded {
    pub from: i64,
    pub to: i64,
    pub backup: Option<PathBuf>,
    /// Names the upgrade made one (schema 11's folding rule).
    pub merged: Vec<NameMerge>,
}

/// How a PostgreSQL snapshot transaction begins.
const READ_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// Bulk appends (seeding, `db copy`) refresh PostgreSQL's statistics after
/// this many events, then each time the count doubles: a table that grew from
/// nothing has none, and without them the request-id lookup scans the table.
const FIRST_ANALYZE: u64 = 10_000;

impl SqlStore {
    /// Opens the ledger, creating a new one where there is none. A private
    /// SQLite file at an older schema is upgraded after a backup; a shared
    /// PostgreSQL ledger at an older schema is refused (`gencost db
    /// migrate` upgrades it), and so is any ledger newer than this binary.
    pub async fn open(url: &DatabaseUrl) -> Result<SqlStore, StoreError> {
        let mut store = Self::connect(url, true).await?;
        match store.schema_state().await? {
            SchemaState::Current => {}
            SchemaState::Empty => store.apply_migrations(0).await?,
            SchemaState::Older(found) if store.is_postgres() => {
                return Err(StoreError::SchemaTooOld {
                    found,
                    needed: migrate::latest_version(),
                })
            }
            SchemaState::Older(found) => store.upgrade = Some(store.upgrade_from(found).await?),
        }
        Ok(store)
    }

    /// Opens the ledger as it is, for `gencost db migrate`: an older schema
    /// is not refused; a newer one still is. A missing SQLite file is created
    /// only when `create`.
    pub async fn open_for_migration(
        url: &DatabaseUrl,
        create: bool,
    ) -> Result<SqlStore, StoreError> {
        let store = Self::connect(url, create).await?;
        store.schema_state().await?;
        Ok(store)
    }

    /// Upgrades the ledger from schema `found` to this binary's. A SQLite
    /// file is first copied whole beside itself; the copy's path is returned.
    pub async fn upgrade_from(&self, found: i64) -> Result<Upgraded, StoreError> {
        let backup = match &self.backend {
            Backend::Sqlite(pool) => {
                let backup = migrate::backup_path(pool.path(), found);
                let mut session = pool.session().await?;
                session.backup_to(&backup).await?;
                Some(backup)
            }
            Backend::Postgres(_) => None,
        };
        let merged = self.name_merges().await?;
        self.apply_migrations(found).await?;
        Ok(Upgraded {
            from: found,
            to: migrate::latest_version(),
            backup,
            merged,
        })
    }

    async fn connect(url: &DatabaseUrl, create: bool) -> Result<SqlStore, StoreError> {
        let backend = match url {
            DatabaseUrl::Sqlite(path) => Backend::Sqlite(SqlitePool::open(path, create).await?),
            DatabaseUrl::Postgres(raw) => {
                Backend::Postgres(postgres::connect(raw, &url.to_string()).await?)
            }
        };
        Ok(SqlStore {
            backend,
            url: url.clone(),
            appended: AtomicU64::new(0),
            next_analyze: AtomicU64::new(FIRST_ANALYZE),
            upgrade: None,
        })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The upgrade opening made, if any (so the caller can say so).
    pub fn upgrade(&self) -> Option<&Upgraded> {
        self.upgrade.as_ref()
    }

    fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Where the schema stands; refuses a newer schema and a database that
    /// holds something other than a gencost ledger.
    pub async fn schema_state(&self) -> Result<SchemaState, StoreError> {
        let mut session = self.connection().await?;
        migrate::state(&mut session, self.is_postgres(), &self.url.to_string()).await
    }

    /// Names an upgrade to schema 11 makes one (they fold equal only under
    /// its rule); empty for a ledger already past it.
    pub async fn name_merges(&self) -> Result<Vec<NameMerge>, StoreError> {
        let mut session = self.connection().await?;
        let version = migrate::current_version(&mut session, self.is_postgres()).await?;
        if version >= 11 {
            return Ok(Vec::new());
        }
        super::folded_keys::merges(&mut session, version).await
    }

    /// The migrations not yet applied to this ledger.
    pub async fn pending_migrations(&self) -> Result<Vec<&'static migrate::Migration>, StoreError> {
        let mut session = self.connection().await?;
        let version = migrate::current_version(&mut session, self.is_postgres()).await?;
        Ok(migrate::MIGRATIONS
            .iter()
            .filter(|m| m.version > version)
            .collect())
    }

    /// Applies every pending migration in one write transaction, if the
    /// schema is still at version `from` once the lock is held (another
    /// process may have upgraded it meanwhile).
    pub async fn apply_migrations(&self, from: i64) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        migrate::apply_pending(&mut tx, self.is_postgres(), from).await?;
        tx.commit().await
    }

    /// Refreshes PostgreSQL's statistics after a bulk append. It runs after
    /// the commit and only speeds up later queries, so a failure here is not
    /// the write's: the write stands, and the next bulk append tries again.
    async fn after_append(&self, appended: usize) {
        if !self.is_postgres() || appended < 1_000 {
            return;
        }
        let total = self.appended.fetch_add(appended as u64, Ordering::Relaxed) + appended as u64;
        if total >= self.next_analyze.load(Ordering::Relaxed) {
            let analyzed = async {
                let mut conn = self.connection().await?;
                conn.execute("ANALYZE entries", &[]).await?;
                conn.execute("ANALYZE events", &[]).await
            };
            if analyzed.await.is_ok() {
                self.next_analyze.store(total * 2, Ordering::Relaxed);
            }
        }
    }

    async fn connection(&self) -> Result<Session, StoreError> {
        Ok(match &self.backend {
            Backend::Sqlite(pool) => Session::Sqlite(pool.session().await?),
            Backend::Postgres(pool) => {
                Session::PostgresConn(pool.acquire().await.map_err(StoreError::from_sqlx)?)
            }
        })
    }

    /// A transaction that holds the chain's write lock from its first statement,
    /// so reading the head and appending after it cannot interleave with
    /// another writer.
    /// A transaction for the webhook outbox: on PostgreSQL without the
    /// chain's lock (deliveries never wait for ledger writes, nor hold
    /// them up); SQLite writes one transaction at a time anyway.
    async fn delivery_transaction(&self) -> Result<Session, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => self.write_transaction().await,
            Backend::Postgres(pool) => Ok(Session::PostgresTx(
                pool.begin().await.map_err(StoreError::from_sqlx)?,
            )),
        }
    }

    async fn write_transaction(&self) -> Result<Session, StoreError> {
        match &self.backend {
            Backend::Sqlite(pool) => {
                let mut session = pool.session().await?;
                session.begin("BEGIN IMMEDIATE").await?;
                Ok(Session::Sqlite(session))
            }
            Backend::Postgres(pool) => {
                let tx = pool.begin().await.map_err(StoreError::from_sqlx)?;
                let mut session = Session::PostgresTx(tx);
                session
                    .execute(
                        "SELECT pg_advisory_xact_lock($1)",
                        &[Value::Int(postgres::CHAIN_LOCK)],
                    )
                    .await?;
                Ok(session)
            }
        }
    }
}

/// Commands in one write transaction (see `Store::writer`).
pub struct Writer {
    tx: Session,
    /// Every imported entry, loaded by the first import command: the lock
    /// is held throughout, and an import's rows never meet each other
    /// (their fingerprints differ), so it stays true for the whole import.
    imported: Option<Arc<ImportedIndex>>,
    /// The commands' changes to the cost rollups, written at commit.
    rollups: RollupSums,
}

impl LedgerWriter for Writer {
    async fn execute(&mut self, command: Command, at: Timestamp) -> Result<Executed, StoreError> {
        if matches!(command, Command::Import { .. }) && self.imported.is_none() {
            self.imported = Some(Arc::new(queries::all_imported(&mut self.tx).await?));
        }
        run_command_with(
            &mut self.tx,
            command,
            at,
            self.imported.clone(),
            &mut self.rollups,
        )
        .await
    }

    async fn commit(mut self) -> Result<(), StoreError> {
        finish_write(
            &mut self.tx,
            self.rollups,
            None,
            None,
            Timestamp::now(),
            None,
        )
        .await?;
        self.tx.commit().await
    }

    async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await
    }
}

/// Reads through one read-only transaction.
pub struct Snapshot {
    session: Session,
    is_postgres: bool,
}

impl LedgerSnapshot for Snapshot {
    async fn head(&mut self) -> Result<Head, StoreError> {
        queries::read_head(&mut self.session).await
    }

    async fn list(&mut self, filter: &Filter, page: Page) -> Result<Vec<Entry>, StoreError> {
        queries::list(&mut self.session, filter, page).await
    }

    async fn list_in_log_order(
        &mut self,
        filter: &Filter,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Entry>, StoreError> {
        queries::list_in_log_order(&mut self.session, filter, after, limit).await
    }

    async fn events_page(&mut self, after_seq: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
        queries::events_page(&mut self.session, after_seq, limit).await
    }

    async fn events_at(&mut self, seqs: &[i64]) -> Result<Vec<Event>, StoreError> {
        queries::events_at(&mut self.session, seqs).await
    }

    async fn change_events(&mut self, ids: &[Uuid]) -> Result<Vec<Event>, StoreError> {
        queries::change_events(&mut self.session, ids).await
    }

    async fn entry(&mut self, id: Uuid) -> Result<Option<Entry>, StoreError> {
        queries::load_entry(&mut self.session, id).await
    }

    async fn entry_events(&mut self, entry: &Entry) -> Result<Vec<Event>, StoreError> {
        queries::entry_events(&mut self.session, entry).await
    }

    async fn view_page(
        &mut self,
        after: i64,
        limit: i64,
        digest: &Arc<RowDigest>,
        budgets: &Arc<Vec<crate::ledger::budget::BudgetScope>>,
    ) -> Result<ViewPage, StoreError> {
        queries::view_page(&mut self.session, after, limit, digest, budgets).await
    }

    async fn stored_budgets(&mut self) -> Result<super::StoredBudgets, StoreError> {
        super::budgets::stored(&mut self.session).await
    }

    async fn rollups(&mut self) -> Result<RollupSums, StoreError> {
        super::rollups::all(&mut self.session).await
    }

    async fn counts(&mut self) -> Result<(i64, i64), StoreError> {
        queries::counts(&mut self.session).await
    }

    async fn table_columns(&mut self, table: &str) -> Result<Vec<String>, StoreError> {
        queries::table_columns(&mut self.session, self.is_postgres, table).await
    }

    async fn invoices(&mut self) -> Result<Vec<InvoiceRecord>, StoreError> {
        super::invoices::all_invoices(&mut self.session).await
    }

    async fn invoice_locks(&mut self) -> Result<Vec<(Uuid, Lock)>, StoreError> {
        super::invoices::all_locks(&mut self.session).await
    }

    async fn event_of_kind(&mut self, kind: &str, last: bool) -> Result<Option<Event>, StoreError> {
        super::invoices::event_of_kind(&mut self.session, kind, last).await
    }

    async fn adjustments_due(
        &mut self,
        client_key: &str,
    ) -> Result<Vec<(Lock, Entry)>, StoreError> {
        super::invoices::adjustments_due(&mut self.session, client_key).await
    }
}

impl Store for SqlStore {
    type Snapshot = Snapshot;
    type Writer = Writer;

    async fn writer(&self) -> Result<Writer, StoreError> {
        let mut tx = self.write_transaction().await?;
        let rollups = RollupSums::with_budgets(super::budgets::scopes(&mut tx).await?);
        Ok(Writer {
            tx,
            imported: None,
            rollups,
        })
    }

    async fn batch_events(&self) -> Result<Vec<Event>, StoreError> {
        queries::batch_events(&mut self.connection().await?).await
    }

    async fn batch_totals(&self) -> Result<Vec<BatchTotal>, StoreError> {
        queries::batch_totals(&mut self.connection().await?).await
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let session = match &self.backend {
            Backend::Sqlite(pool) => {
                let mut session = pool.session().await?;
                session.begin("BEGIN").await?;
                Session::Sqlite(session)
            }
            Backend::Postgres(pool) => Session::PostgresTx(
                pool.begin_with(READ_SNAPSHOT)
                    .await
                    .map_err(StoreError::from_sqlx)?,
            ),
        };
        Ok(Snapshot {
            session,
            is_postgres: self.is_postgres(),
        })
    }

    async fn snapshots(&self, count: usize) -> Result<Vec<Snapshot>, StoreError> {
        match &self.backend {
            // PostgreSQL shares one snapshot between transactions exactly:
            // the first exports it, the others take it before reading.
            Backend::Postgres(pool) => {
                let mut first = self.snapshot().await?;
                let id = first
                    .session
                    .query_one("SELECT pg_export_snapshot() AS id", &[])
                    .await?
                    .text("id")?;
                if !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                    return Err(StoreError::Database(format!(
                        "unexpected snapshot id '{id}'"
                    )));
                }
                let mut all = vec![first];
                for _ in 1..count {
                    let mut tx = Session::PostgresTx(
                        pool.begin_with(READ_SNAPSHOT)
                            .await
                            .map_err(StoreError::from_sqlx)?,
                    );
                    tx.execute(&format!("SET TRANSACTION SNAPSHOT '{id}'"), &[])
                        .await?;
                    all.push(Snapshot {
                        session: tx,
                        is_postgres: true,
                    });
                }
                Ok(all)
            }
            // SQLite fixes a read transaction's state at its first read:
            // snapshots opened and read one after another see one state
            // unless a write commits between them (every change to the view
            // is an event, so equal heads mean equal states).
            Backend::Sqlite(_) => {
                for attempt in 0..20u64 {
                    let mut all = Vec::with_capacity(count);
                    let mut heads = Vec::with_capacity(count);
                    for _ in 0..count {
                        let mut snapshot = self.snapshot().await?;
                        heads.push(snapshot.head().await?);
                        all.push(snapshot);
                    }
                    if heads.windows(2).all(|pair| pair[0] == pair[1]) {
                        return Ok(all);
                    }
                    drop(all);
                    tokio::time::sleep(std::time::Duration::from_millis(attempt * 5)).await;
                }
                Err(StoreError::Conflict(
                    "the ledger kept changing while it was being read; try again".into(),
                ))
            }
        }
    }

    async fn execute(&self, command: Command, at: Timestamp) -> Result<Executed, StoreError> {
        let mut tx = self.write_transaction().await?;
        // On error the transaction is dropped, which rolls it back.
        let executed = run_command(&mut tx, command, at).await?;
        tx.commit().await?;
        self.after_append(executed.events.len()).await;
        Ok(executed)
    }

    async fn entry(&self, id: Uuid) -> Result<Option<Entry>, StoreError> {
        queries::load_entry(&mut self.connection().await?, id).await
    }

    async fn entries_with_request(&self, request_id: &str) -> Result<Vec<Entry>, StoreError> {
        queries::entries_with_request(&mut self.connection().await?, request_id).await
    }

    async fn list(&self, filter: &Filter, page: Page) -> Result<Vec<Entry>, StoreError> {
        queries::list(&mut self.connection().await?, filter, page).await
    }

    async fn sums(&self, filter: &Filter, grouping: Grouping) -> Result<Vec<SumRow>, StoreError> {
        queries::sums(&mut self.connection().await?, filter, grouping).await
    }

    async fn not_charged(&self, filter: &Filter) -> Result<i64, StoreError> {
        queries::not_charged(&mut self.connection().await?, filter).await
    }

    async fn tag_values(
        &self,
        field: TagField,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<TagCount>, StoreError> {
        queries::tag_values(&mut self.connection().await?, field, prefix, limit).await
    }

    async fn tag_spelling(
        &self,
        field: TagField,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        queries::tag_spelling(&mut self.connection().await?, field, name).await
    }

    async fn head(&self) -> Result<Head, StoreError> {
        queries::read_head(&mut self.connection().await?).await
    }

    async fn append_events(&self, events: &[Event]) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        let rows = append_verbatim(&mut tx, events).await?;
        tx.commit().await?;
        self.after_append(rows).await;
        Ok(())
    }

    async fn reset(
        &self,
        expected: Head,
        first: LedgerReset,
        at: Timestamp,
    ) -> Result<Event, StoreError> {
        let mut tx = self.write_transaction().await?;
        let event = reset_chain(&mut tx, expected, first, at).await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn info(&self) -> Result<StoreInfo, StoreError> {
        let mut conn = self.connection().await?;
        let schema_version = migrate::current_version(&mut conn, self.is_postgres()).await?;
        let (events, entries) = queries::counts(&mut conn).await?;
        Ok(StoreInfo {
            backend: self.url.backend(),
            location: self.url.to_string(),
            schema_version,
            events,
            entries,
        })
    }

    async fn import_rates(&self, rates: &[DayRate]) -> Result<RatesImported, StoreError> {
        let mut tx = self.write_transaction().await?;
        let imported = super::rates::import(&mut tx, rates).await?;
        tx.commit().await?;
        Ok(imported)
    }

    async fn recent_runs(
        &self,
        model: &str,
        limit: i64,
    ) -> Result<Vec<super::RecentRun>, StoreError> {
        queries::recent_runs(&mut self.connection().await?, model, limit).await
    }

    async fn store_unit_prices(
        &self,
        prices: &[crate::pricing::unit_price::UnitPrice],
    ) -> Result<crate::pricing::unit_price::UnitPricesStored, StoreError> {
        let mut tx = self.write_transaction().await?;
        let stored = super::unit_prices::store(&mut tx, prices).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn invoice_locks_of(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Lock>, StoreError> {
        super::invoices::locks_of(&mut self.connection().await?, ids).await
    }

    async fn unit_prices(&self) -> Result<Vec<crate::pricing::unit_price::UnitPrice>, StoreError> {
        super::unit_prices::all(&mut self.connection().await?).await
    }

    async fn copy_unit_prices(
        &self,
        prices: &[crate::pricing::unit_price::UnitPrice],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        super::unit_prices::copy(&mut tx, prices).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn open_holds(&self, before: Timestamp, limit: i64) -> Result<Vec<Entry>, StoreError> {
        queries::open_holds(&mut self.connection().await?, before, limit).await
    }

    async fn budgets(&self) -> Result<Vec<crate::ledger::budget::Budget>, StoreError> {
        super::budgets::all(&mut self.connection().await?).await
    }

    async fn budget_figures(
        &self,
        budget: &crate::ledger::budget::Budget,
        period: &crate::ledger::budget::Period,
    ) -> Result<(crate::ledger::budget::Figures, Vec<u32>), StoreError> {
        // One snapshot: the stamps, the sums and the thresholds of one state.
        let mut snapshot = self.snapshot().await?;
        let session = &mut snapshot.session;
        let mut rates = super::budgets::Rates::default();
        let figures = super::budgets::figures(session, &mut rates, budget, period).await?;
        let crossed = super::budgets::recorded(session, &budget.key(), period.start).await?;
        Ok((figures, crossed))
    }

    async fn add_webhook(&self, webhook: &super::Webhook) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        super::webhooks::add(&mut tx, webhook).await?;
        tx.commit().await
    }

    async fn webhooks(&self) -> Result<Vec<(super::Webhook, super::DeliveryCounts)>, StoreError> {
        super::webhooks::with_counts(&mut self.connection().await?).await
    }

    async fn remove_webhook(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_transaction().await?;
        let removed = super::webhooks::remove(&mut tx, id).await?;
        tx.commit().await?;
        Ok(removed)
    }

    async fn rotate_webhook(
        &self,
        id: &str,
        secret: &str,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_transaction().await?;
        let rotated = super::webhooks::rotate(&mut tx, id, secret, until).await?;
        tx.commit().await?;
        Ok(rotated)
    }

    async fn enqueue_webhook(
        &self,
        webhook: &str,
        id: &str,
        event_type: &str,
        body: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        super::webhooks::enqueue(&mut tx, webhook, id, event_type, body, at).await?;
        tx.commit().await
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<super::Delivery>, StoreError> {
        let mut tx = self.delivery_transaction().await?;
        let claimed = super::webhooks::claim(&mut tx, now, lease_until, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn finish_delivery(
        &self,
        delivery: &super::Delivery,
        attempt: &super::Attempt,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.delivery_transaction().await?;
        super::webhooks::finish(&mut tx, delivery, attempt, at).await?;
        tx.commit().await
    }

    async fn rates(&self, currencies: Option<&[Currency]>) -> Result<Vec<DayRate>, StoreError> {
        super::rates::load(&mut self.connection().await?, currencies).await
    }

    async fn first_rate_day(&self, currency: Option<Currency>) -> Result<Option<i64>, StoreError> {
        super::rates::first_day(&mut self.connection().await?, currency).await
    }
}
