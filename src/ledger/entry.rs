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
    /// How a generation run ended.
    Status { Succeeded => "succeeded", Failed => "failed", Cancelled => "cancelled" }
    expected "succeeded, failed or cancelled"
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
    /// The chain position of the event that logged this entry.
    pub logged_seq: i64,
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
}

impl Entry {
    /// Whether the entry counts in totals: a failed or cancelled generation
    /// counts only when the provider charged it (an actual was confirmed);
    /// until then it is kept on record and shown apart.
    pub fn is_charged(&self) -> bool {
        self.status == Status::Succeeded || self.actual.is_some()
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
