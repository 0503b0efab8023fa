//! `pricing reprice`: open estimates recomputed with the catalog's formulas
//! and the prices now known, each at the price in force on its run's day.
//! Open means not confirmed, not locked by an invoice, not voided, and not
//! a cost the user gave (an estimate the catalog, history or nothing made).
//! Each change is an event keeping the figure it replaces. Units a provider
//! billed while no unit price was known are priced too, once a price is in
//! force for their day (never a confirmed cost).

use super::fal::UnitPrices;
use super::filter::FilterText;
use crate::error::{Error, Result};
use crate::fal::billing::{cost_micros, Decimal};
use crate::ledger::{
    Billing, Command, Entry, EstimateRepriced, Kind, LedgerError, Repricing, RunSettled, Tier,
};
use crate::money::Currency;
use crate::pricing::Catalog;
use crate::store::{Filter, LedgerSnapshot, LedgerWriter, Store, StoreError};
use crate::timestamp::{day_label, today, Timestamp};
use std::collections::BTreeMap;

/// Entries read from the ledger at a time.
const PAGE: i64 = 5_000;
/// Changes appended per command (all in one transaction).
const CHUNK: usize = 1_000;
/// Times the changes are computed again when the ledger changed meanwhile.
const ATTEMPTS: usize = 4;

#[derive(Clone, Debug, Default)]
pub struct RepriceOptions {
    pub model: Option<String>,
    /// A date or time: only runs from then on.
    pub since: Option<String>,
    pub dry_run: bool,
}

/// What repricing changed (or, on a dry run, would change) for one model,
/// per currency: the estimates before and after.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ModelRepriced {
    pub model: String,
    pub entries: usize,
    /// Currency → (sum before, sum after), in micro-units; an estimate that
    /// had no price counts as 0 before.
    pub sums: BTreeMap<Currency, (i64, i64)>,
    /// Entries that had no price before.
    pub newly_priced: usize,
    /// Of them, billed units priced (a confirmed cost, tier billed).
    pub billed_units_priced: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RepriceReport {
    pub dry_run: bool,
    pub entries: usize,
    pub models: Vec<ModelRepriced>,
}

pub async fn reprice<S: Store>(
    store: &S,
    catalog: &Catalog,
    options: &RepriceOptions,
    now: Timestamp,
) -> Result<RepriceReport> {
    let range = FilterText {
        since: options.since.clone(),
        ..FilterText::default()
    }
    .to_filter()?;
    let filter = Filter {
        kind: Some(Kind::Generation),
        model: options
            .model
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string),
        since: range.since,
        ..Filter::default()
    };
    if let Some(model) = &filter.model {
        if catalog.get(model).is_none() {
            return Err(Error::field(
                "model",
                format!("{model} is not in the pricing catalog"),
            ));
        }
    }
    for _ in 0..ATTEMPTS {
        let changes = changes(store, catalog, &filter).await?;
        let report = summarise(&changes, options.dry_run);
        if options.dry_run || changes.is_empty() {
            return Ok(report);
        }
        match write(store, changes, now).await {
            Ok(()) => return Ok(report),
            // An entry changed or invoiced meanwhile: computed again.
            Err(Error::Store(StoreError::Refused(
                LedgerError::DraftOutdated | LedgerError::Locked { .. },
            ))) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::Store(StoreError::Conflict(
        "the ledger kept changing while estimates were repriced; run pricing reprice again".into(),
    )))
}

/// The changes, read from one consistent state of the ledger.
async fn changes<S: Store>(
    store: &S,
    catalog: &Catalog,
    filter: &Filter,
) -> Result<Vec<(String, Repricing)>> {
    let unit_prices = UnitPrices::load(store, catalog).await?;
    let mut snapshot = store.snapshot().await?;
    let mut locked: Vec<uuid::Uuid> = snapshot
        .invoice_locks()
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    locked.sort_unstable();
    let today = today();
    let mut changes = Vec::new();
    let mut after = 0;
    loop {
        let page = snapshot.list_in_log_order(filter, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for entry in page {
            if locked.binary_search(&entry.id).is_err() {
                let change = match billed_units(catalog, &unit_prices, &entry)? {
                    Some(settled) => Some(Repricing::BilledUnits(settled)),
                    None => repriced(catalog, &entry, today)?.map(Repricing::Estimate),
                };
                if let Some(change) = change {
                    let model = entry.model.clone().unwrap_or_default();
                    changes.push((model, change));
                }
            }
        }
    }
    Ok(changes)
}

/// Billed units without a unit price, priced at the price in force on the
/// run's day (a synced one, else the catalog's from its `from` day on).
fn billed_units(
    catalog: &Catalog,
    prices: &UnitPrices,
    entry: &Entry,
) -> Result<Option<RunSettled>> {
    let Some(billing) = entry.billing.as_ref() else {
        return Ok(None);
    };
    if entry.void.is_some()
        || entry.actual.is_some()
        || billing.unit_price.is_some()
        || billing.is_zero()
    {
        return Ok(None);
    }
    let day = entry.occurred_at.day();
    let Some(found) = prices.get(&billing.endpoint, day) else {
        return Ok(None);
    };
    // Units the provider named (compute seconds, credits) are priced only
    // by a price in the same unit.
    if billing
        .unit
        .as_ref()
        .is_some_and(|unit| *unit != found.unit)
    {
        return Ok(None);
    }
    let from = catalog.get(&billing.endpoint).and_then(|m| m.from);
    if found.from == "catalog" && from.is_some_and(|from| day < from) {
        return Ok(None);
    }
    let Ok(units) = Decimal::parse(&billing.units) else {
        return Ok(None);
    };
    let micros = cost_micros(units, found.price)
        .map_err(|e| Error::input(format!("entry {}: {e}", entry.id)))?;
    Ok(Some(RunSettled {
        entry_id: entry.id,
        status: None,
        duration_ms: None,
        billing: Some(Billing {
            unit_price: Some(found.price.text()),
            unit: Some(found.unit.clone()),
            price_date: Some(found.date.clone()),
            price_from: Some(found.from.to_string()),
            ..billing.clone()
        }),
        micros: Some(micros),
        currency: Some(found.currency),
    }))
}

/// The change repricing makes to `entry`'s estimate, if any.
fn repriced(catalog: &Catalog, entry: &Entry, today: i64) -> Result<Option<EstimateRepriced>> {
    let open = entry.kind == Kind::Generation
        && entry.void.is_none()
        && entry.actual.is_none()
        // A cost the user gave: an estimate the catalog did not make.
        && !(entry.estimate.tier == Tier::Estimated && entry.price_version.is_none());
    if !open {
        return Ok(None);
    }
    let Some(price) = entry.model.as_deref().and_then(|m| catalog.get(m)) else {
        return Ok(None);
    };
    let day = entry.occurred_at.day();
    if price.from.is_some_and(|from| day < from) {
        return Ok(None);
    }
    let params: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&entry.params).unwrap_or_default();
    // Parameters the formula cannot price leave the estimate as it was.
    let Ok(Some(estimate)) = price.estimate(&params, today) else {
        return Ok(None);
    };
    let unchanged = entry.estimate.micros == Some(estimate.micros)
        && entry.estimate.currency == estimate.currency
        && entry.estimate.tier == Tier::Estimated
        && entry.price_version.as_deref() == Some(estimate.verified.as_str());
    if unchanged {
        return Ok(None);
    }
    let mut reason = format!(
        "{}'s price of {} ({})",
        price.endpoint,
        estimate.verified,
        estimate.price_source.as_str()
    );
    if let Some(from) = price.from {
        reason.push_str(&format!(", in force from {}", day_label(from)));
    }
    Ok(Some(EstimateRepriced {
        entry_id: entry.id,
        previous_micros: entry.estimate.micros,
        previous_currency: entry.estimate.currency,
        previous_tier: entry.estimate.tier,
        previous_version: entry.price_version.clone(),
        micros: estimate.micros,
        currency: estimate.currency,
        tier: Tier::Estimated,
        price_version: estimate.verified,
        reason,
    }))
}

fn summarise(changes: &[(String, Repricing)], dry_run: bool) -> RepriceReport {
    let mut models: BTreeMap<&str, ModelRepriced> = BTreeMap::new();
    for (model, change) in changes {
        let m = models.entry(model).or_insert_with(|| ModelRepriced {
            model: model.clone(),
            entries: 0,
            sums: BTreeMap::new(),
            newly_priced: 0,
            billed_units_priced: 0,
        });
        m.entries += 1;
        let (before, after) = match change {
            Repricing::Estimate(c) => (
                c.previous_micros.map(|p| (p, c.previous_currency)),
                (c.micros, c.currency),
            ),
            Repricing::BilledUnits(s) => {
                m.billed_units_priced += 1;
                let after = (s.micros.unwrap_or(0), s.currency.unwrap_or(Currency::USD));
                (None, after)
            }
        };
        match before {
            Some((micros, currency)) => {
                let sum = m.sums.entry(currency).or_default();
                sum.0 = sum.0.saturating_add(micros);
            }
            None => m.newly_priced += 1,
        }
        let sum = m.sums.entry(after.1).or_default();
        sum.1 = sum.1.saturating_add(after.0);
    }
    RepriceReport {
        dry_run,
        entries: changes.len(),
        models: models.into_values().collect(),
    }
}

/// Appends the changes in one transaction: all or none.
async fn write<S: Store>(
    store: &S,
    changes: Vec<(String, Repricing)>,
    now: Timestamp,
) -> Result<()> {
    let mut writer = store.writer().await?;
    let mut changes = changes.into_iter().map(|(_, c)| c).peekable();
    while changes.peek().is_some() {
        let chunk: Vec<Repricing> = changes.by_ref().take(CHUNK).collect();
        writer.execute(Command::Reprice(chunk), now).await?;
    }
    writer.commit().await?;
    Ok(())
}
