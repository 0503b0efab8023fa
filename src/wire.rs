//! JSON shapes shared by `--json` output and the HTTP API. Amounts are exact
//! decimal strings and timestamps RFC 3339 UTC; these shapes are kept stable.

use crate::ledger::Entry;
use crate::money::decimal_string;
use serde_json::{json, Value};

/// An entry as `{"id","kind","occurred_at",...,"cost":{...},"void":bool}`.
pub fn entry_json(entry: &Entry) -> Value {
    let cost = entry.cost();
    let params: Value = serde_json::from_str(&entry.params).unwrap_or_else(|_| json!({}));
    json!({
        "id": entry.id.to_string(),
        "kind": entry.kind.as_str(),
        "occurred_at": entry.occurred_at.to_string(),
        "source": entry.source,
        "model": entry.model,
        "description": entry.description,
        "client": entry.tags.client,
        "project": entry.tags.project,
        "deliverable": entry.tags.deliverable,
        "request_id": entry.request_id,
        "status": entry.status.as_str(),
        "duration_ms": entry.duration_ms,
        "params": params,
        "estimate": {
            "amount": entry.estimate.micros.map(decimal_string),
            "currency": entry.estimate.currency.code(),
            "tier": entry.estimate.tier.as_str(),
        },
        "actual": entry.actual.map(|a| json!({
            "amount": a.amount.decimal(),
            "currency": a.amount.currency.code(),
            "confirmed_at": a.confirmed_at.to_string(),
        })),
        "cost": {
            "amount": cost.micros.map(decimal_string),
            "currency": cost.currency.code(),
            "tier": cost.tier.as_str(),
        },
        "price_version": entry.price_version,
        "license": entry.license,
        "void": entry.void.is_some(),
        "void_reason": entry.void.as_ref().map(|v| v.reason.clone()),
    })
}
