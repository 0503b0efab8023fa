//! Recording costs: logging entries, confirming actuals, retagging, voiding.

use super::warning::Warning;
use super::{large, limits, rates};
use crate::error::{Error, Result};
use crate::ledger::event::Params;
use crate::ledger::tags::normalize;
use crate::ledger::{
    Command, Entry, EntryRecord, Kind, LogResult, Outcome, Status, TagField, Tags, Tier,
};
use crate::money::{Currency, Money};
use crate::pricing::{Catalog, PriceSource};
use crate::store::Store;
use crate::timestamp::{today, Timestamp};
use uuid::Uuid;

/// A cost to log, as every surface gives it (command-line flags, an API
/// body). The service decides the rest: the price when none is given, its
/// tier and price version, the license, the spelling of tags.
#[derive(Clone, Debug)]
pub struct LogRequest {
    pub kind: Kind,
    pub occurred_at: Option<Timestamp>,
    pub source: String,
    pub model: Option<String>,
    pub description: Option<String>,
    pub tags: Tags,
    pub request_id: Option<String>,
    pub status: Status,
    pub duration_ms: Option<i64>,
    pub params: serde_json::Map<String, serde_json::Value>,
    /// A cost estimated by the caller; `None` lets the catalog (or history)
    /// price a generation.
    pub estimate: Option<Money>,
    /// A cost already confirmed by the provider.
    pub actual: Option<Money>,
    /// The amounts were typed by a person who has not confirmed a large
    /// one: a large `estimate` or `actual` is refused (see `large`). False
    /// for amounts a provider reported, and once the person confirmed.
    pub check_large: bool,
    /// A pending run logged before it starts (the API, `log --status
    /// pending`, the proxy before it calls a provider under a hard
    /// budget): refused if it takes a hard budget over. A run already
    /// started is logged whatever the budgets say.
    pub hold: bool,
}

/// The source an entry names when its caller gives none (the CLI, the API):
/// fal.ai, where most runs are made.
pub const DEFAULT_SOURCE: &str = "fal.ai";
/// The kind and status of an entry whose caller names none.
pub const DEFAULT_KIND: Kind = Kind::Generation;
pub const DEFAULT_STATUS: Status = Status::Succeeded;

/// What logging did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Logged {
    pub id: Uuid,
    /// True when the (source, request id) was already logged: nothing was added.
    pub existing: bool,
    /// Tags whose spelling was changed to the one already in the ledger.
    pub respelled: Vec<Respelled>,
    /// How the estimate was made, when the service priced the entry.
    pub priced: Option<Priced>,
    /// Parameters the price did not read that look misspelt (see
    /// `pricing::parameter_warnings`).
    pub warnings: Vec<Warning>,
    /// Budget thresholds the write crossed.
    pub alerts: Vec<crate::ledger::budget::BudgetAlert>,
}

/// A tag logged with the spelling already in the ledger.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Respelled {
    pub field: TagField,
    pub given: String,
    pub logged_as: String,
}

/// The estimate an entry is logged with and how it was made.
struct Pricing {
    estimate: Option<Money>,
    tier: Tier,
    price_version: Option<String>,
    license: Option<String>,
}

fn into_record(request: LogRequest, pricing: Pricing, now: Timestamp) -> Result<EntryRecord> {
    let currency = pricing
        .estimate
        .or(request.actual)
        .map_or(Currency::USD, |m| m.currency);
    let params =
        Params::from_map(&request.params).map_err(|e| Error::input(format!("parameters: {e}")))?;
    limits::params(params.as_str().len())?;
    Ok(EntryRecord {
        id: Uuid::now_v7(),
        kind: request.kind,
        occurred_at: request.occurred_at.unwrap_or(now).0,
        source: request.source.trim().to_string(),
        model: request
            .model
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty()),
        description: request.description.filter(|d| !d.trim().is_empty()),
        tags: Tags {
            client: request.tags.client.as_deref().and_then(normalize),
            project: request.tags.project.as_deref().and_then(normalize),
            deliverable: request.tags.deliverable.as_deref().and_then(normalize),
        },
        request_id: request
            .request_id
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty()),
        status: request.status,
        duration_ms: request.duration_ms,
        params,
        estimate_micros: pricing.estimate.map(|m| m.micros),
        estimate_currency: pricing.estimate.map_or(currency, |m| m.currency),
        estimate_tier: pricing.tier,
        actual_micros: request.actual.map(|m| m.micros),
        actual_currency: request.actual.map(|m| m.currency),
        price_version: pricing.price_version,
        license: pricing.license,
        batch: None,
        billing: None,
    })
}

/// The price a generation is logged with when no cost is given.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "tier", rename_all = "lowercase")]
pub enum Priced {
    /// From the catalog formula.
    Estimated {
        money: Money,
        explanation: String,
        price_version: String,
        stale: bool,
        /// Whether the catalog's price was published by fal or reported by
        /// a third party (or is the user's own).
        price_source: PriceSource,
    },
    /// The median of the model's confirmed actuals.
    Historical { money: Money, from: usize },
    /// No price known; `why` says so in words.
    Unpriced { why: String },
}

/// Confirmed actuals needed before their median is used as a price.
pub const HISTORICAL_MINIMUM: usize = 3;

/// Prices a generation of `model` from the catalog; else the median of the
/// model's confirmed costs of the last 60 days with the same settings (at
/// least three: `learned`); else unpriced.
pub async fn price_generation<S: Store>(
    store: &S,
    catalog: &Catalog,
    model: Option<&str>,
    params: &serde_json::Map<String, serde_json::Value>,
) -> Result<Priced> {
    let Some(model) = model.map(str::trim).filter(|m| !m.is_empty()) else {
        return Ok(Priced::Unpriced {
            why: "no model given".into(),
        });
    };
    let listed = catalog.get(model);
    if let Some(price) = listed {
        let estimate = price
            .estimate(params, today())
            .map_err(|e| Error::input(format!("cannot estimate {model}: {e}")))?;
        if let Some(e) = estimate {
            let priced = Priced::Estimated {
                money: Money::new(e.micros, e.currency),
                explanation: e.explanation,
                price_version: e.verified,
                stale: e.stale,
                price_source: e.price_source,
            };
            return Ok(priced);
        }
    }
    let learned = super::learned::learn(store, catalog, model, params).await?;
    if let Some((money, from)) = learned.historical {
        return Ok(Priced::Historical { money, from });
    }
    let why = match listed {
        Some(_) => format!("{model} has no published price in the catalog"),
        None => format!("{model} is not in the pricing catalog"),
    };
    Ok(Priced::Unpriced { why })
}

/// The median of the amounts in the currency most of them are in, once
/// there are at least `HISTORICAL_MINIMUM`; an even count averages the two
/// middle amounts, rounded half to even.
pub fn median_of_most_common_currency(amounts: &[Money]) -> Option<(Money, usize)> {
    let mut by_currency: std::collections::BTreeMap<Currency, Vec<i64>> = Default::default();
    for m in amounts {
        by_currency.entry(m.currency).or_default().push(m.micros);
    }
    let (currency, mut values) = by_currency
        .into_iter()
        .max_by(|(ca, a), (cb, b)| a.len().cmp(&b.len()).then(cb.cmp(ca)))?;
    if values.len() < HISTORICAL_MINIMUM {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        let sum = i128::from(values[n / 2 - 1]) + i128::from(values[n / 2]);
        i64::try_from(crate::money::div_round_half_even(sum, 2)).ok()?
    };
    Some((Money::new(median, currency), n))
}

/// Checks and prices one entry, writing nothing. Refuses what can never be logged (a pool cost, which is
/// split rather than logged; a negative generation cost; a blank source).
/// Without a given estimate a generation is priced from the catalog, else
/// from its model's history, else logged unpriced; a known actual is always
/// recordable, so an estimate that fails beside one becomes a note. A tag
/// that differs only by case from one already in the ledger takes the
/// existing spelling, so names stay consistent.
pub async fn prepare<S: Store>(
    store: &S,
    catalog: &Catalog,
    mut request: LogRequest,
) -> Result<Prepared> {
    check(&request, Timestamp::now())?;
    if request.kind == Kind::Pool {
        return Err(Error::field(
            "kind",
            "log records generation or external costs; a pool cost is split across projects, not logged",
        ));
    }
    let given = request.estimate.into_iter().chain(request.actual);
    if request.kind == Kind::Generation && given.clone().any(|m| m.micros < 0) {
        return Err(Error::input("a generation cost cannot be negative"));
    }
    let model = request
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    // The license as the catalog states it today is kept with the entry.
    let license = model
        .and_then(|m| catalog.get(m))
        .map(|m| m.license.label());
    let mut pricing = Pricing {
        estimate: request.estimate,
        tier: if request.estimate.is_some() {
            Tier::Estimated
        } else {
            Tier::Unpriced
        },
        price_version: None,
        license,
    };
    let mut priced = None;
    if request.kind == Kind::Generation && request.estimate.is_none() {
        let found = match price_generation(store, catalog, model, &request.params).await {
            Ok(found) => found,
            // A cost already known, or a run already under way (a proxied
            // fal run), is recorded even when its estimate cannot be made.
            Err(Error::Input(why))
                if request.actual.is_some() || request.status == Status::Pending =>
            {
                Priced::Unpriced { why }
            }
            Err(e) => return Err(e),
        };
        match &found {
            Priced::Estimated {
                money,
                price_version,
                ..
            } => {
                pricing.estimate = Some(*money);
                pricing.tier = Tier::Estimated;
                pricing.price_version = Some(price_version.clone());
            }
            Priced::Historical { money, .. } => {
                pricing.estimate = Some(*money);
                pricing.tier = Tier::Historical;
            }
            Priced::Unpriced { .. } => {}
        }
        priced = Some(found);
    }
    // An amount that could never be converted (a currency without any rate,
    // a day before the first rate of its currency) is refused here, before
    // anything is written, rather than found by every later total.
    if let Some(estimate) = pricing.estimate {
        limits::amount("estimate", estimate)?;
    }
    let day = request.occurred_at.unwrap_or_else(Timestamp::now).day();
    for money in pricing.estimate.iter().chain(&request.actual) {
        rates::check_convertible(store, money.currency, day).await?;
    }
    if request.check_large {
        let typed = [("cost", request.estimate), ("actual", request.actual)];
        for (field, amount) in typed {
            let Some(amount) = amount else { continue };
            let typed = large::Typed {
                field,
                amount,
                day,
                model,
                params: &request.params,
            };
            large::check(store, catalog, &typed).await?;
        }
    }
    let warnings = match model {
        Some(model) if request.kind == Kind::Generation => {
            super::pricing::parameter_warnings(catalog, model, &request.params)
        }
        _ => Vec::new(),
    };
    let respelled = respell(store, &mut request.tags).await?;
    let hold = request.hold && request.status == Status::Pending;
    let record = into_record(request, pricing, Timestamp::now())?;
    Ok(Prepared {
        record,
        respelled,
        priced,
        warnings,
        hold,
    })
}

/// A checked and priced entry, ready to be written.
#[derive(Clone, Debug)]
pub struct Prepared {
    record: EntryRecord,
    respelled: Vec<Respelled>,
    priced: Option<Priced>,
    warnings: Vec<Warning>,
    hold: bool,
}

impl Prepared {
    /// A hold is written in a transaction of its own (see `commit`).
    pub fn is_hold(&self) -> bool {
        self.hold
    }
}

/// Logs one entry: `prepare`, then `commit`.
pub async fn log<S: Store>(store: &S, catalog: &Catalog, request: LogRequest) -> Result<Logged> {
    let prepared = prepare(store, catalog, request).await?;
    commit(store, vec![prepared])
        .await?
        .pop()
        .ok_or_else(|| Error::Io("the store logged nothing".into()))
}

/// Logs one entry already settled by `settle` (its status, duration,
/// confirmed cost and billing): a synchronous run, logged and settled
/// from one answer, is one event and one write. A run already logged
/// (same source and request id) comes back `existing`, unchanged: its
/// caller settles it.
pub async fn log_settled<S: Store>(
    store: &S,
    catalog: &Catalog,
    request: LogRequest,
    settle: impl FnOnce(&crate::ledger::Entry) -> Result<crate::ledger::RunSettled>,
) -> Result<Logged> {
    let mut prepared = prepare(store, catalog, request).await?;
    let record = &mut prepared.record;
    let settled = settle(&crate::ledger::replay::into_entry(
        record.clone(),
        0,
        Timestamp::now(),
    ))?;
    if let Some(status) = settled.status {
        record.status = status;
    }
    record.duration_ms = settled.duration_ms.or(record.duration_ms);
    if let (Some(micros), Some(currency)) = (settled.micros, settled.currency) {
        record.actual_micros = Some(micros);
        record.actual_currency = Some(currency);
    }
    record.billing = settled.billing;
    commit(store, vec![prepared])
        .await?
        .pop()
        .ok_or_else(|| Error::Io("the store logged nothing".into()))
}

/// Writes prepared entries in one transaction (all, or none on an error):
/// a server groups entries that arrive together, so one commit carries
/// many. An entry whose (source, request id) is already logged, in the
/// ledger or earlier in the same group, comes back as existing.
pub async fn commit<S: Store>(store: &S, prepared: Vec<Prepared>) -> Result<Vec<Logged>> {
    // A hold is checked against the budgets alone: its refusal must not
    // refuse the entries written with it.
    let hold = match prepared.as_slice() {
        [one] => one.hold,
        _ => false,
    };
    type Notes = (Vec<Respelled>, Option<Priced>, Vec<Warning>);
    let (mut records, mut notes): (Vec<EntryRecord>, Vec<Notes>) = prepared
        .into_iter()
        .map(|p| (p.record, (p.respelled, p.priced, p.warnings)))
        .unzip();
    // Entries prepared apart may bring a new name in two spellings (acme,
    // ACME): within one commit the first spelling is every entry's.
    let mut first: std::collections::HashMap<(TagField, String), String> = Default::default();
    for (record, (respelled, _, _)) in records.iter_mut().zip(notes.iter_mut()) {
        for field in TagField::ALL {
            let Some(name) = record.tags.get(field).map(str::to_string) else {
                continue;
            };
            let key = (field, crate::ledger::tags::fold(&name));
            match first.get(&key) {
                Some(spelling) if *spelling != name => {
                    respelled.push(Respelled {
                        field,
                        given: name,
                        logged_as: spelling.clone(),
                    });
                    *record.tags.slot(field) = Some(spelling.clone());
                }
                Some(_) => {}
                None => {
                    first.insert(key, name);
                }
            }
        }
    }
    let command = match records.pop() {
        Some(record) if hold => Command::Hold(Box::new(record)),
        Some(record) => {
            records.push(record);
            Command::Log(records)
        }
        None => Command::Log(records),
    };
    let executed = store.execute(command, Timestamp::now()).await?;
    let alerts = super::budget::alerts_in(&executed.events);
    let Outcome::Logged(results) = executed.outcome else {
        return Err(Error::Io(format!(
            "unexpected outcome {:?}",
            executed.outcome
        )));
    };
    if results.len() != notes.len() {
        return Err(Error::Io(
            "the store logged a different number of entries".into(),
        ));
    }
    Ok(results
        .into_iter()
        .zip(notes)
        .map(|(result, (respelled, priced, warnings))| match result {
            LogResult::New(id) => Logged {
                id,
                existing: false,
                respelled,
                priced,
                warnings,
                alerts: alerts_for(&alerts, id),
            },
            LogResult::Existing(id) => Logged {
                id,
                existing: true,
                respelled: Vec::new(),
                priced: None,
                warnings: Vec::new(),
                alerts: Vec::new(),
            },
        })
        .collect())
}

/// The alerts of a write that belong to one of its entries: those naming
/// it, and those of a batch that name none.
fn alerts_for(
    alerts: &[crate::ledger::budget::BudgetAlert],
    id: Uuid,
) -> Vec<crate::ledger::budget::BudgetAlert> {
    alerts
        .iter()
        .filter(|a| a.entry_id.is_none_or(|named| named == id))
        .cloned()
        .collect()
}

/// Gives each tag the spelling already in the ledger when it differs only
/// by case, so names stay consistent; returns what was changed.
async fn respell<S: Store>(store: &S, tags: &mut Tags) -> Result<Vec<Respelled>> {
    let mut respelled = Vec::new();
    for field in TagField::ALL {
        let Some(given) = tags.get(field).and_then(normalize) else {
            continue;
        };
        if let Some(found) = store.tag_spelling(field, &given).await? {
            if found != given {
                respelled.push(Respelled {
                    field,
                    given: given.clone(),
                    logged_as: found.clone(),
                });
                *tags.slot(field) = Some(found);
            }
        }
    }
    Ok(respelled)
}

/// A change to an entry's tags: each `Some` sets its field (an empty or
/// blank value clears it); `None` keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Retag {
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
}

/// Changes an entry's tags by an event (the entry's earlier tags stay in
/// the chain). A pool share's project is where its split put it, so it is
/// refused there: void the pool and add it again instead.
pub async fn retag<S: Store>(
    store: &S,
    id: Uuid,
    change: Retag,
) -> Result<(Entry, Vec<Respelled>)> {
    let entry = store
        .entry(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no entry with id {id}")))?;
    let mut tags = entry.tags.clone();
    for (field, value) in [
        (TagField::Client, change.client),
        (TagField::Project, change.project),
        (TagField::Deliverable, change.deliverable),
    ] {
        if let Some(value) = value {
            limits::name(field.column(), &value)?;
            *tags.slot(field) = normalize(&value);
        }
    }
    let respelled = respell(store, &mut tags).await?;
    // A void entry, and a pool's share, are refused by the ledger even
    // when nothing would change.
    if tags != entry.tags || entry.void.is_some() || entry.kind == Kind::Pool {
        store
            .execute(Command::Retag { entry_id: id, tags }, Timestamp::now())
            .await?;
    }
    let entry = store
        .entry(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no entry with id {id}")))?;
    Ok((entry, respelled))
}

/// What can never be logged, refused before anything is priced or written.
fn check(request: &LogRequest, now: Timestamp) -> Result<()> {
    if request.source.trim().is_empty() {
        return Err(Error::field("source", "cannot be empty"));
    }
    limits::name("source", &request.source)?;
    // Every entry names what was run or bought.
    match request.model.as_deref() {
        None => {
            return Err(Error::field(
                "model",
                "give the model or endpoint id, e.g. fal-ai/flux/dev",
            ))
        }
        Some(model) if model.trim().is_empty() => {
            return Err(Error::field(
                "model",
                "cannot be blank; give the model or endpoint id, e.g. fal-ai/flux/dev",
            ))
        }
        Some(model) => limits::name("model", model)?,
    }
    if let Some(ms) = request.duration_ms.filter(|ms| *ms < 0) {
        return Err(Error::field("duration_ms", format!("{ms} is negative")));
    }
    for field in TagField::ALL {
        if let Some(value) = request.tags.get(field) {
            limits::name(field.column(), value)?;
        }
    }
    if let Some(id) = &request.request_id {
        limits::name("request id", id)?;
    }
    if let Some(description) = &request.description {
        limits::description(description)?;
    }
    if let Some(estimate) = request.estimate {
        limits::amount("cost", estimate)?;
    }
    if let Some(actual) = request.actual {
        limits::amount("actual", actual)?;
    }
    if let Some(at) = request.occurred_at {
        limits::occurred_at("occurred_at", at, now)?;
    }
    // The parameters' size is checked where they are serialised, once.
    Ok(())
}

/// The entries an entry id or a provider request id may mean: the entry
/// with that id, else those logged with that request id (of `source` only,
/// when given), one per source.
pub async fn candidates<S: Store>(
    store: &S,
    target: &str,
    source: Option<&str>,
) -> Result<Vec<Entry>> {
    let target = target.trim();
    if let Ok(id) = Uuid::parse_str(target) {
        if let Some(entry) = store.entry(id).await? {
            return Ok(vec![entry]);
        }
    }
    let mut found = store.entries_with_request(target).await?;
    if let Some(source) = source {
        found.retain(|e| {
            crate::ledger::tags::fold(&e.source) == crate::ledger::tags::fold(source.trim())
        });
    }
    Ok(found)
}

/// The entry meant by an entry id or a provider request id.
pub async fn resolve_entry<S: Store>(
    store: &S,
    target: &str,
    source: Option<&str>,
) -> Result<Entry> {
    let target = target.trim();
    let mut found = candidates(store, target, source).await?;
    if found.len() == 1 {
        return Ok(found.remove(0));
    }
    match found.as_slice() {
        [] => Err(Error::NotFound(format!(
            "no entry with id or request id '{target}'"
        ))),
        many => {
            let sources: Vec<&str> = many.iter().map(|e| e.source.as_str()).collect();
            Err(Error::input(format!(
                "request id '{target}' is logged by several sources ({}); name one with --source",
                sources.join(", ")
            )))
        }
    }
}

/// A confirmed actual, and the earlier one it replaced.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Confirmed {
    pub actual: Money,
    pub replaced: Option<Money>,
    /// Budget thresholds the confirmed cost crossed.
    #[serde(skip)]
    pub alerts: Vec<crate::ledger::budget::BudgetAlert>,
}

/// Records the confirmed actual cost of an entry (by entry id, or provider
/// request id with `source` when several sources share it); the estimate
/// stays as it was. Without a currency the actual is in the estimate's.
///
/// `check_large` (a figure typed by a person who has not confirmed it
/// large): a large actual is refused, see `large`.
pub async fn confirm_target<S: Store>(
    store: &S,
    catalog: &Catalog,
    target: &str,
    source: Option<&str>,
    micros: i64,
    currency: Option<Currency>,
    check_large: bool,
) -> Result<(Uuid, Confirmed)> {
    let entry = resolve_entry(store, target, source).await?;
    let actual = Money::new(micros, currency.unwrap_or(entry.estimate.currency));
    if check_large {
        limits::amount("actual", actual)?;
        rates::check_convertible(store, actual.currency, entry.occurred_at.day()).await?;
        let params = serde_json::from_str(&entry.params).unwrap_or_default();
        let typed = large::Typed {
            field: "amount",
            amount: actual,
            day: entry.occurred_at.day(),
            model: entry.model.as_deref(),
            params: &params,
        };
        large::check(store, catalog, &typed).await?;
    }
    let (replaced, alerts) = confirm(store, entry.id, actual).await?;
    Ok((
        entry.id,
        Confirmed {
            actual,
            replaced,
            alerts,
        },
    ))
}

/// Records the confirmed actual cost; the estimate stays as it was.
/// Returns the actual it replaced, and the budget thresholds it crossed.
pub async fn confirm<S: Store>(
    store: &S,
    id: Uuid,
    actual: Money,
) -> Result<(Option<Money>, Vec<crate::ledger::budget::BudgetAlert>)> {
    limits::amount("actual", actual)?;
    // An unknown id is refused by the ledger itself, below.
    if let Some(entry) = store.entry(id).await? {
        rates::check_convertible(store, actual.currency, entry.occurred_at.day()).await?;
    }
    let executed = store
        .execute(
            Command::Confirm {
                entry_id: id,
                amount: actual,
            },
            Timestamp::now(),
        )
        .await?;
    let alerts = super::budget::alerts_in(&executed.events);
    match executed.outcome {
        Outcome::Confirmed { replaced } => Ok((replaced, alerts)),
        other => Err(Error::Io(format!("unexpected outcome {other:?}"))),
    }
}

/// Undoes the void of an entry, by an event (the void stays in the chain):
/// the entry counts in totals again. Refused on an entry that is not void,
/// on a pool's share (a pool is voided as a whole), on an entry of a void
/// import, and where another live entry holds its source and request id.
pub async fn restore<S: Store>(store: &S, id: Uuid, reason: &str) -> Result<()> {
    limits::reason(reason)?;
    let executed = store
        .execute(
            Command::Restore {
                entry_id: id,
                reason: reason.to_string(),
            },
            Timestamp::now(),
        )
        .await?;
    match executed.outcome {
        Outcome::Restored => Ok(()),
        other => Err(Error::Io(format!("unexpected outcome {other:?}"))),
    }
}

/// Takes an entry out of totals, by an event; the entry stays on record.
pub async fn void<S: Store>(store: &S, id: Uuid, reason: &str) -> Result<()> {
    limits::reason(reason)?;
    store
        .execute(
            Command::Void {
                entry_id: id,
                reason: reason.to_string(),
            },
            Timestamp::now(),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> LogRequest {
        LogRequest {
            kind: DEFAULT_KIND,
            occurred_at: None,
            source: DEFAULT_SOURCE.into(),
            model: Some("fal-ai/flux/dev".into()),
            description: None,
            tags: Tags::default(),
            request_id: None,
            status: DEFAULT_STATUS,
            duration_ms: Some(0),
            params: serde_json::Map::new(),
            estimate: None,
            actual: None,
            check_large: true,
            hold: false,
        }
    }

    /// The rules every surface's log goes through (the CLI, the API and
    /// the fal proxy all call `prepare`, which checks first).
    #[test]
    fn a_log_names_its_model_and_a_duration_is_not_negative() {
        let now = Timestamp::now();
        assert!(check(&request(), now).is_ok());
        for model in [None, Some(""), Some("  ")] {
            let mut r = request();
            r.model = model.map(str::to_string);
            let e = check(&r, now).unwrap_err().to_string();
            assert!(e.starts_with("model: "), "{e}");
        }
        let mut r = request();
        r.duration_ms = Some(-1);
        let e = check(&r, now).unwrap_err().to_string();
        assert!(e.starts_with("duration_ms: "), "{e}");
    }
}
