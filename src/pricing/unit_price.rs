//! fal's own unit prices (`GET api.fal.ai/v1/models/pricing`), as `pricing
//! sync` stores them in the ledger database: what billed units are priced
//! at. The catalog's formulas still make the estimates before a run.

use crate::money::Currency;

/// One endpoint's unit price as read on one UTC day.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UnitPrice {
    pub endpoint: String,
    /// Days since the epoch (UTC) the price was read.
    pub day: i64,
    /// Exact decimal text, canonical (no trailing zeros).
    pub unit_price: String,
    /// What one unit is: `image`, `megapixels`, `seconds`, ...
    pub unit: String,
    pub currency: Currency,
}

/// What a sync changed in the stored prices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct UnitPricesStored {
    pub added: u64,
    pub changed: u64,
    pub unchanged: u64,
}
