//! Proxied runs in the ledger, for every provider: a run is logged pending
//! at its catalog estimate when it starts (or before, as a hold), and what
//! the provider later says of it settles it — how it ended, how long it
//! took, and what it billed, priced by the provider (`Provider::bill`).

use super::provider::Provider;
use super::record::{self, LogRequest, Logged};
use super::{active_tags, limits};
use crate::error::{Error, Result};
use crate::fal::billing::{cost_micros, Decimal};
use crate::ledger::{Billing, Command, Entry, Kind, RunSettled, Status, Tags};
use crate::money::Money;
use crate::pricing::Catalog;
use crate::store::Store;
use crate::timestamp::Timestamp;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::fal::UnitPrices;

/// A run as the proxy saw it start.
#[derive(Clone, Debug)]
pub struct RunStarted {
    /// The provider's source (`fal.ai`, `OpenAI`, ...).
    pub source: &'static str,
    /// The catalog endpoint of the model run (`fal-ai/flux/dev`,
    /// `openai/gpt-image-1`, ...).
    pub model: String,
    /// The run's parameters, as the provider reads them from the request.
    pub params: Map<String, Value>,
    /// Tags the caller named (`x-gencost-client` ...); the active tags
    /// fill the rest.
    pub tags: Tags,
    pub request_id: Option<String>,
    /// Logged before the run is started, under a hard budget: refused if
    /// it would take the budget over.
    pub hold: bool,
}

/// Logs a run at its catalog estimate, pending until the provider says how
/// it ended. A retried submit (same source and request id) is logged once.
/// A run is a fact even when its input cannot be priced: it is then
/// logged unpriced.
pub async fn log_started<S: Store>(
    store: &S,
    catalog: &Catalog,
    run: RunStarted,
) -> Result<Logged> {
    record::log(store, catalog, log_request(run)?).await
}

/// Logs a run that finished in its one answer, settled by `report`, in one
/// write. A run already logged (a retried call) is settled as it stands.
pub async fn log_finished<S: Store>(
    store: &S,
    catalog: &Catalog,
    provider: &dyn Provider,
    run: RunStarted,
    report: RunReport,
) -> Result<Logged> {
    let prices = super::provider::prices_of(store, catalog, provider).await?;
    let settle = |entry: &Entry| settlement(provider, &prices, entry, report.clone());
    let logged = record::log_settled(store, catalog, log_request(run)?, settle).await?;
    if logged.existing {
        if let Some(entry) = store.entry(logged.id).await? {
            settle_entry(store, provider, &prices, &entry, report).await?;
        }
    }
    Ok(logged)
}

/// The log of a run as it starts: pending, at its catalog estimate, with
/// the active tags filling those the caller did not name.
fn log_request(run: RunStarted) -> Result<LogRequest> {
    let tags = active_tags::for_log(run.tags)?;
    Ok(LogRequest {
        kind: Kind::Generation,
        occurred_at: None,
        source: run.source.into(),
        model: Some(run.model),
        description: None,
        tags,
        request_id: run.request_id,
        status: Status::Pending,
        duration_ms: None,
        params: run.params,
        estimate: None,
        actual: None,
        check_large: false,
        hold: run.hold,
    })
}

/// What a provider said of a run after it started. Each provider fills
/// the figures it reports; `Provider::bill` prices them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    pub status: Option<Status>,
    pub duration_ms: Option<i64>,
    /// Billed units as sent (fal's `x-fal-billable-units`, ElevenLabs'
    /// `character-cost`).
    pub units: Option<String>,
    /// The endpoint billed, when the provider names another than the one
    /// called (fal's `x-fal-bill-as`).
    pub bill_as: Option<String>,
    /// Tokens by kind (OpenAI's `usage`).
    pub usage: Option<BTreeMap<String, i64>>,
    /// How many outputs the run produced (Replicate's `output`).
    pub outputs: Option<u64>,
    /// Seconds of compute the run took, as sent (Replicate's
    /// `metrics.predict_time`).
    pub compute_seconds: Option<String>,
}

/// What a run billed, priced where a price is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Billed {
    pub billing: Billing,
    /// The cost confirmed, or `None`: the units stay on record, unpriced.
    pub cost: Option<Money>,
}

/// The live generation of `source` logged with this request id (sources
/// compared by the folding rule, as imports and filters compare them).
pub async fn logged_run<S: Store>(
    store: &S,
    source: &str,
    request_id: &str,
) -> Result<Option<Entry>> {
    let source = crate::ledger::tags::fold(source);
    Ok(store
        .entries_with_request(request_id)
        .await?
        .into_iter()
        .find(|e| {
            crate::ledger::tags::fold(&e.source) == source
                && e.kind == Kind::Generation
                && e.void.is_none()
        }))
}

/// Settles the run of `provider` logged with this request id, if this
/// ledger logged it; `None` when it did not (a run started elsewhere).
pub async fn settle<S: Store>(
    store: &S,
    provider: &dyn Provider,
    prices: &UnitPrices,
    request_id: &str,
    report: RunReport,
) -> Result<Option<Uuid>> {
    let Some(entry) = logged_run(store, provider.source(), request_id).await? else {
        return Ok(None);
    };
    settle_entry(store, provider, prices, &entry, report).await?;
    Ok(Some(entry.id))
}

/// Records a report on an entry: its status and duration, and what the
/// run billed as the provider prices it (tier `billed`). Units without a
/// known price, and a reported 0, are kept as a count without a confirmed
/// cost. A cost already confirmed with its basis (a billing record, which
/// knows the account's discounts) is not replaced.
pub async fn settle_entry<S: Store>(
    store: &S,
    provider: &dyn Provider,
    prices: &UnitPrices,
    entry: &Entry,
    report: RunReport,
) -> Result<bool> {
    let settled = settlement(provider, prices, entry, report)?;
    let executed = store
        .execute(Command::Settle(settled), Timestamp::now())
        .await?;
    Ok(!executed.events.is_empty())
}

/// What a report settles on an entry (see `settle_entry`), written nowhere.
pub fn settlement(
    provider: &dyn Provider,
    prices: &UnitPrices,
    entry: &Entry,
    report: RunReport,
) -> Result<RunSettled> {
    let mut settled = RunSettled {
        entry_id: entry.id,
        status: report.status,
        duration_ms: report.duration_ms,
        billing: None,
        micros: None,
        currency: None,
    };
    let confirmed_with_basis = entry.actual.is_some() && entry.billing.is_some();
    if !confirmed_with_basis {
        if let Some(billed) = provider.bill(entry, &report, prices)? {
            if let Some(cost) = billed.cost.filter(|_| entry.actual.is_none()) {
                limits::amount("billed cost", cost)?;
                settled.micros = Some(cost.micros);
                settled.currency = Some(cost.currency);
            }
            settled.billing = Some(billed.billing);
        }
    }
    Ok(settled)
}

/// `units` (what `what` reported) billed as `endpoint`, priced at its unit
/// price in force on the run's own UTC day, however late it is settled.
/// A reported 0 is kept without a cost: it does not prove a free run.
/// `unit` names what the units are when the provider says (`compute
/// seconds`, `credits`): kept while no price is known, so a price in
/// another unit never prices them later.
pub fn bill_units(
    prices: &UnitPrices,
    entry: &Entry,
    what: &str,
    units: &str,
    endpoint: String,
    unit: Option<&str>,
) -> Result<Billed> {
    let units = Decimal::parse(units).map_err(|e| Error::input(format!("{what}: {e}")))?;
    limits::name(what, &endpoint)?;
    let price = prices
        .get(&endpoint, entry.occurred_at.day())
        .filter(|found| unit.is_none_or(|unit| found.unit == unit));
    let mut cost = None;
    if let Some(found) = &price {
        if !units.is_zero() {
            let micros = cost_micros(units, found.price).map_err(Error::input)?;
            cost = Some(Money::new(micros, found.currency));
        }
    }
    Ok(Billed {
        billing: Billing {
            units: units.text(),
            endpoint,
            unit_price: price.as_ref().map(|p| p.price.text()),
            unit: price
                .as_ref()
                .map(|p| p.unit.clone())
                .or_else(|| unit.map(str::to_string)),
            price_date: price.as_ref().map(|p| p.date.clone()),
            price_from: price.as_ref().map(|p| p.from.to_string()),
            // Reported units keep their strict form: nothing is rounded.
            rounded: None,
            usage: None,
        },
        cost,
    })
}
