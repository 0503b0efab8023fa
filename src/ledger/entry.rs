//! Entries: the current view of one logged cost, derived from its events.

use super::tags::Tags;
use crate::money::{Currency, Money};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? } expected $expected:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {} '{}': expected {}", stringify!($name).to_lowercase(), other, $expected)),
                }
            }
        }
    };
}

text_enum! {
    /// What an entry records.
    Kind { Generation => "generation", External => "external", Pool => "pool" }
    expected "generation, external or pool"
}

text_enum! {
    /// How a generation run ended; `pending` while the provider has not
    /// said (counted in totals at its estimate).
    Status { Succeeded => "succeeded", Failed => "failed", Cancelled => "cancelled", Pending => "pending" }
    expected "succeeded, failed, cancelled or pending"
}

text_enum! {
    /// How sure a shown cost is (DESIGN section 3).
    Tier { Billed => "billed", Estimated => "estimated", Historical => "historical", Unpriced => "unpriced" }
    expected "billed, estimated, historical or unpriced"
}

/// The cost known before (or without) provider confirmation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// `None` when the entry is unpriced.
    pub micros: Option<i64>,
    pub currency: Currency,
    pub tier: Tier,
}

impl Estimate {
    pub fn unpriced(currency: Currency) -> Self {
        Estimate {
            micros: None,
            currency,
            tier: Tier::Unpriced,
        }
    }
}

/// A cost confirmed from the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actual {
    pub amount: Money,
    pub confirmed_at: Timestamp,
}

/// The cost an entry contributes to totals: the actual where known, else the
/// estimate. `micros` is `None` for unpriced entries, which are never summed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    pub micros: Option<i64>,
    pub currency: Currency,
    pub tier: Tier,
}

/// What a provider reported it billed for a run (fal's
/// `x-fal-billable-units` and `x-fal-bill-as`, OpenAI's token usage,
/// Replicate's outputs or predict time, Runway's seconds, ElevenLabs'
/// `character-cost` credits), and the unit price applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Billing {
    /// Billable units as reported, exact decimal text (`3.008`).
    pub units: String,
    /// The endpoint billed: `x-fal-bill-as`, else the endpoint called.
    pub endpoint: String,
    /// The unit price applied, exact decimal text in the actual's
    /// currency; `None` when no unit price is known (the units stay
    /// visible, unpriced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<String>,
    /// What one unit is (`image`, `second`, ...), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The day the unit price was read (`YYYY-MM-DD`), and where from
    /// (`sync`: fal's pricing API; `catalog`: the pricing catalog).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_from: Option<String>,
    /// Figures the provider gave more precisely than the ledger stores
    /// (a billing record's `cost_total` below the micro-unit, say), each
    /// with what it was rounded to, half to even; `None` when nothing was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounded: Option<String>,
    /// Token counts by kind (`text_input`, `image_input`, `image_output`,
    /// ...) for a provider that bills tokens (OpenAI's `usage`): `units`
    /// is then their sum, each kind priced at its own price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<std::collections::BTreeMap<String, i64>>,
}

impl Billing {
    /// A reported `0`: it does not prove the run was free, so the entry is
    /// flagged and stays open for billing records.
    pub fn is_zero(&self) -> bool {
        self.units.bytes().all(|b| b == b'0' || b == b'.')
    }
}

/// Why and when an entry was taken out of totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Voiding {
    pub reason: String,
    pub at: Timestamp,
}

/// One ledger entry as the view holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: Uuid,
    /// The entry's place in log order (see `replay::Positions`).
    pub position: i64,
    pub kind: Kind,
    pub occurred_at: Timestamp,
    pub source: String,
    pub model: Option<String>,
    pub description: Option<String>,
    pub tags: Tags,
    pub request_id: Option<String>,
    pub status: Status,
    pub duration_ms: Option<i64>,
    /// Generation parameters as a JSON object text.
    pub params: String,
    pub estimate: Estimate,
    pub actual: Option<Actual>,
    pub void: Option<Voiding>,
    /// The catalog price version (verified date) the estimate was made with.
    pub price_version: Option<String>,
    /// The model's license status when the entry was logged.
    pub license: Option<String>,
    /// The import batch or pool the entry belongs to.
    pub batch: Option<Uuid>,
    /// What the provider reported it billed, once known.
    pub billing: Option<Billing>,
}

impl Entry {
    /// Whether the entry counts in totals: a succeeded or still pending
    /// run does; a failed or cancelled one only when the provider charged
    /// it (an actual was confirmed, or it reported billable units); until
    /// then it is kept on record and shown apart.
    pub fn is_charged(&self) -> bool {
        matches!(self.status, Status::Succeeded | Status::Pending)
            || self.actual.is_some()
            || self.billing.as_ref().is_some_and(|b| !b.is_zero())
    }

    /// A run fal reported as billed for 0 units: flagged, and open until a
    /// billing record settles it.
    pub fn has_zero_units(&self) -> bool {
        self.billing.as_ref().is_some_and(Billing::is_zero) && self.actual.is_none()
    }

    pub fn cost(&self) -> Cost {
        match &self.actual {
            Some(actual) => Cost {
                micros: Some(actual.amount.micros),
                currency: actual.amount.currency,
                tier: Tier::Billed,
            },
            None => Cost {
                micros: self.estimate.micros,
                currency: self.estimate.currency,
                tier: self.estimate.tier,
            },
        }
    }
}
