//! JSON shapes shared by `--json` output and the HTTP API: typed structs,
//! serialised in one place and described for OpenAPI. Amounts are exact
//! decimal strings and timestamps RFC 3339 UTC; these shapes are kept stable.

use crate::fx::RateUsed;
use crate::ledger::{Actual, Billing, Entry, Estimate, Tags, Voiding};
use crate::money::decimal_string;
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

/// An amount with its currency and confidence tier; `amount` is null when
/// unpriced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TieredAmount {
    /// Exact decimal, e.g. "0.025"; null when no price is known.
    pub amount: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// billed, estimated, historical or unpriced.
    pub tier: String,
}

/// A cost confirmed by the provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ActualJson {
    pub amount: String,
    pub currency: String,
    pub confirmed_at: String,
}

/// One ledger entry, as `gencost list --json` prints it and the API serves it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntryJson {
    pub id: String,
    pub kind: String,
    pub occurred_at: String,
    pub source: String,
    pub model: Option<String>,
    pub description: Option<String>,
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
    pub request_id: Option<String>,
    pub status: String,
    pub duration_ms: Option<i64>,
    /// The generation parameters exactly as logged.
    #[schema(value_type = Object)]
    pub params: Box<RawValue>,
    pub estimate: TieredAmount,
    pub actual: Option<ActualJson>,
    /// The cost used in totals: the actual where known, else the estimate.
    pub cost: TieredAmount,
    pub price_version: Option<String>,
    pub license: Option<String>,
    /// The import or pool the entry belongs to.
    pub batch: Option<String>,
    /// What the provider reported it billed (fal: billable units, the
    /// endpoint billed, the unit price applied), once known.
    pub billing: Option<BillingJson>,
    pub void: bool,
    pub void_reason: Option<String>,
    /// The exchange rates the amounts were converted at (only when shown in
    /// another currency).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub rates: Option<Vec<RateUsed>>,
    /// Only when shown in another currency: true when a rate used is more
    /// than 7 days older than the entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_rates: Option<bool>,
    /// Only when shown in another currency and no rate converts the entry:
    /// why; its amounts are then in their own currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unconverted: Option<String>,
}

/// What fal reported it billed for a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct BillingJson {
    /// Billable units as reported, exact decimal text.
    pub units: String,
    /// The endpoint billed (`x-fal-bill-as`, else the endpoint called).
    pub endpoint: String,
    /// The unit price applied; null when unknown (the units are unpriced).
    pub unit_price: Option<String>,
    pub unit: Option<String>,
    /// The day the unit price was read, and where from (sync or catalog).
    pub price_date: Option<String>,
    pub price_from: Option<String>,
    /// Figures fal gave more precisely than the ledger stores, each with
    /// what it was rounded to (half to even); null when none was.
    pub rounded: Option<String>,
    /// Token counts by kind, for a provider that bills tokens (OpenAI).
    pub usage: Option<std::collections::BTreeMap<String, i64>>,
    /// True when fal reported 0 units and no cost is confirmed: 0 does not
    /// prove a free run, so the entry stays open for billing records.
    pub zero_units: bool,
}

impl BillingJson {
    fn new(billing: Billing, confirmed: bool) -> BillingJson {
        let zero_units = billing.is_zero() && !confirmed;
        let Billing {
            units,
            endpoint,
            unit_price,
            unit,
            price_date,
            price_from,
            rounded,
            usage,
        } = billing;
        BillingJson {
            units,
            endpoint,
            unit_price,
            unit,
            price_date,
            price_from,
            rounded,
            usage,
            zero_units,
        }
    }
}

/// A page of entries, newest first; `next_cursor` fetches the next page.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntryPage {
    pub entries: Vec<EntryJson>,
    pub next_cursor: Option<String>,
}

impl EntryJson {
    /// The JSON of an entry (every field, by destructuring, so none is left
    /// out), with the rates its amounts were converted at, if any.
    pub fn new(entry: Entry, rates: Option<Vec<RateUsed>>) -> Result<EntryJson, serde_json::Error> {
        let cost = entry.cost();
        let Entry {
            id,
            position: _,
            kind,
            occurred_at,
            source,
            model,
            description,
            tags:
                Tags {
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
        let confirmed = actual.is_some();
        Ok(EntryJson {
            id: id.to_string(),
            kind: kind.as_str().into(),
            occurred_at: occurred_at.to_string(),
            source,
            model,
            description,
            client,
            project,
            deliverable,
            request_id,
            status: status.as_str().into(),
            duration_ms,
            params: RawValue::from_string(params)?,
            estimate: TieredAmount {
                amount: estimate_micros.map(decimal_string),
                currency: estimate_currency.code().into(),
                tier: estimate_tier.as_str().into(),
            },
            actual: actual.map(
                |Actual {
                     amount,
                     confirmed_at,
                 }| ActualJson {
                    amount: amount.decimal(),
                    currency: amount.currency.code().into(),
                    confirmed_at: confirmed_at.to_string(),
                },
            ),
            cost: TieredAmount {
                amount: cost.micros.map(decimal_string),
                currency: cost.currency.code().into(),
                tier: cost.tier.as_str().into(),
            },
            price_version,
            license,
            batch: batch.map(|b| b.to_string()),
            billing: billing.map(|b| BillingJson::new(b, confirmed)),
            void: void.is_some(),
            void_reason: void.map(|Voiding { reason, .. }| reason),
            rates,
            stale_rates: None,
            unconverted: None,
        })
    }
}
