//! Recording costs: logging entries, confirming actuals, retagging, voiding.

use crate::error::{Error, Result};
use crate::ledger::event::Params;
use crate::ledger::tags::normalize;
use crate::ledger::{
    Command, Entry, EntryRecord, Kind, LogResult, Outcome, Status, TagField, Tags, Tier,
};
use crate::money::{Currency, Money};
use crate::pricing::Catalog;
use crate::store::Store;
use crate::timestamp::{today, Timestamp};
use uuid::Uuid;

/// A cost to log.
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
    /// `None`: no price known, the entry is unpriced.
    pub estimate: Option<Money>,
    /// A cost already confirmed by the provider.
    pub actual: Option<Money>,
    /// How the estimate was made; `None`: `estimated` when there is one.
    pub estimate_tier: Option<Tier>,
    /// The catalog price version (verified date) of the estimate.
    pub price_version: Option<String>,
    /// The model's license status at logging time.
    pub license: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    pub id: Uuid,
    /// True when the (source, request id) was already logged: nothing was added.
    pub existing: bool,
    /// Tags whose spelling was changed to the one already in the ledger.
    pub respelled: Vec<(TagField, String, String)>,
}

impl LogRequest {
    /// The event record, with tags normalised; ids are UUIDv7.
    pub fn into_record(self, now: Timestamp) -> EntryRecord {
        let currency = self
            .estimate
            .or(self.actual)
            .map_or(Currency::USD, |m| m.currency);
        EntryRecord {
            id: Uuid::now_v7(),
            kind: self.kind,
            occurred_at: self.occurred_at.unwrap_or(now).0,
            source: self.source.trim().to_string(),
            model: self
                .model
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty()),
            description: self.description.filter(|d| !d.trim().is_empty()),
            tags: Tags {
                client: self.tags.client.as_deref().and_then(normalize),
                project: self.tags.project.as_deref().and_then(normalize),
                deliverable: self.tags.deliverable.as_deref().and_then(normalize),
            },
            request_id: self
                .request_id
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty()),
            status: self.status,
            duration_ms: self.duration_ms,
            params: Params::from_map(&self.params),
            estimate_micros: self.estimate.map(|m| m.micros),
            estimate_currency: self.estimate.map_or(currency, |m| m.currency),
            estimate_tier: match (self.estimate, self.estimate_tier) {
                (None, _) => Tier::Unpriced,
                (Some(_), Some(tier)) => tier,
                (Some(_), None) => Tier::Estimated,
            },
            actual_micros: self.actual.map(|m| m.micros),
            actual_currency: self.actual.map(|m| m.currency),
            price_version: self.price_version,
            license: self.license,
        }
    }
}

/// The price a generation is logged with when no cost is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Priced {
    /// From the catalog formula.
    Estimated {
        money: Money,
        explanation: String,
        price_version: String,
        stale: bool,
    },
    /// The median of the model's confirmed actuals.
    Historical { money: Money, from: usize },
    /// No price known; `why` says so in words.
    Unpriced { why: String },
}

/// Confirmed actuals needed before their median is used as a price.
pub const HISTORICAL_MINIMUM: usize = 3;

/// Prices a generation of `model` from the catalog; else the median of the
/// model's confirmed actuals (at least three); else unpriced.
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
            };
            return Ok(priced);
        }
    }
    let actuals = store.confirmed_actuals(model).await?;
    if let Some((money, from)) = median_of_most_common_currency(&actuals) {
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

/// Logs one entry. A tag that differs only by case from one already in the
/// ledger takes the existing spelling, so names stay consistent.
pub async fn log<S: Store>(store: &S, mut request: LogRequest) -> Result<Logged> {
    if request.source.trim().is_empty() {
        return Err(Error::input("the source cannot be empty"));
    }
    let mut respelled = Vec::new();
    for field in TagField::ALL {
        let Some(given) = request.tags.get(field).and_then(normalize) else {
            continue;
        };
        let existing = store.tag_values(field, &given, 20).await?;
        let lower = given.to_lowercase();
        let same_name = existing.iter().find(|t| t.value.to_lowercase() == lower);
        if let Some(found) = same_name.filter(|t| t.value != given) {
            respelled.push((field, given.clone(), found.value.clone()));
            *request.tags.slot(field) = Some(found.value.clone());
        }
    }
    let now = Timestamp::now();
    let record = request.into_record(now);
    let executed = store.execute(Command::Log(vec![record]), now).await?;
    match executed.outcome {
        Outcome::Logged(results) => match results.first() {
            Some(LogResult::New(id)) => Ok(Logged {
                id: *id,
                existing: false,
                respelled,
            }),
            Some(LogResult::Existing(id)) => Ok(Logged {
                id: *id,
                existing: true,
                respelled: Vec::new(),
            }),
            None => Err(Error::Io("the store logged nothing".into())),
        },
        other => Err(Error::Io(format!("unexpected outcome {other:?}"))),
    }
}

/// The entry meant by an entry id or a provider request id.
pub async fn resolve_entry<S: Store>(
    store: &S,
    target: &str,
    source: Option<&str>,
) -> Result<Entry> {
    let target = target.trim();
    if let Ok(id) = Uuid::parse_str(target) {
        if let Some(entry) = store.entry(id).await? {
            return Ok(entry);
        }
    }
    let mut found = store.entries_with_request(target).await?;
    if let Some(source) = source {
        found.retain(|e| e.source.eq_ignore_ascii_case(source.trim()));
    }
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

/// Records the confirmed actual cost; the estimate stays as it was.
pub async fn confirm<S: Store>(store: &S, id: Uuid, actual: Money) -> Result<Option<Money>> {
    let executed = store
        .execute(
            Command::Confirm {
                entry_id: id,
                amount: actual,
            },
            Timestamp::now(),
        )
        .await?;
    match executed.outcome {
        Outcome::Confirmed { replaced } => Ok(replaced),
        other => Err(Error::Io(format!("unexpected outcome {other:?}"))),
    }
}

/// Takes an entry out of totals, by an event; the entry stays on record.
pub async fn void<S: Store>(store: &S, id: Uuid, reason: &str) -> Result<()> {
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
