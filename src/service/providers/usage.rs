//! `reconcile --runway-usage`: Runway's own daily credits by model (`POST
//! /v1/organization/usage`, net of refunds) beside the credits of the
//! Runway runs the ledger logged on the same UTC days, and the difference
//! per day and model. Runway gives no per-run figures there, so none are
//! made up: a difference is reported, not spread over runs.

use super::Feed;
use crate::error::{Error, Result};
use crate::ledger::{Kind, Status};
use crate::money::{decimal_string, Currency};
use crate::service::provider_api::ProviderApi;
use crate::store::{Cursor, Filter, Page, Store};
use crate::timestamp::{day_label, today, Timestamp};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeMap;

/// Runway's usage answers at most 90 days per call.
const MAX_DAYS: i64 = 90;
const USAGE_BYTES: usize = 16 * 1024 * 1024;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// One day and model, in credits (exact decimals).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UsageDay {
    pub date: String,
    pub model: String,
    /// What Runway counted.
    pub runway: String,
    /// What the ledger's runs come to (billed, else estimated).
    pub logged: String,
    /// Runway's minus the ledger's.
    pub difference: String,
    /// Runs of that day and model the ledger could not price.
    pub unpriced_runs: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UsageReport {
    pub start: String,
    /// The first day not covered.
    pub before: String,
    pub days: Vec<UsageDay>,
}

impl UsageReport {
    pub fn text(&self) -> String {
        let mut text = format!(
            "Runway credits by day and model, {} to {} (Runway's count, net of refunds, against the runs logged):\n",
            self.start,
            day_label(crate::timestamp::parse_day(&self.before).unwrap_or(0) - 1)
        );
        if self.days.is_empty() {
            text.push_str("  no Runway credits used or logged\n");
        }
        for day in &self.days {
            let unpriced = match day.unpriced_runs {
                0 => String::new(),
                n => format!(" ({n} unpriced runs not counted)"),
            };
            text.push_str(&format!(
                "  {} {}: Runway {}, logged {}, difference {}{unpriced}\n",
                day.date, day.model, day.runway, day.logged, day.difference
            ));
        }
        text
    }
}

/// Compares the days from `since` (default: 30 days back) to today.
pub async fn compare<S: Store>(
    store: &S,
    feed: &Feed,
    api: &ProviderApi,
    since: Option<Timestamp>,
) -> Result<UsageReport> {
    let end = today() + 1;
    let start = since.map_or(end - 30, Timestamp::day).max(end - MAX_DAYS);
    let runway = runway_credits(feed, api, start, end).await?;
    let logged = logged_credits(store, feed, start, end).await?;
    let mut keys: Vec<(String, String)> = runway.keys().chain(logged.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    let days = keys
        .into_iter()
        .map(|key| {
            let theirs = runway.get(&key).copied().unwrap_or(0);
            let (ours, unpriced_runs) = logged.get(&key).copied().unwrap_or((0, 0));
            UsageDay {
                date: key.0,
                model: key.1,
                runway: decimal_string(theirs),
                logged: decimal_string(ours),
                difference: decimal_string(theirs - ours),
                unpriced_runs,
            }
        })
        .collect();
    Ok(UsageReport {
        start: day_label(start),
        before: day_label(end),
        days,
    })
}

/// Runway's credits by (day, model), in micro-credits.
async fn runway_credits(
    feed: &Feed,
    api: &ProviderApi,
    start: i64,
    before: i64,
) -> Result<BTreeMap<(String, String), i64>> {
    let target = feed
        .provider
        .allow(&format!("{}/v1/organization/usage", feed.base))
        .map_err(Error::input)?;
    let body =
        serde_json::json!({ "startDate": day_label(start), "beforeDate": day_label(before) });
    let mut response = api
        .request(Method::POST, &target)?
        .header("x-runway-version", super::runway::VERSION)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| Error::Io(format!("Runway could not be reached: {}", e.without_url())))?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::Io(format!(
            "Runway's organization usage answered HTTP {status}"
        )));
    }
    let mut text = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::Io(format!("reading Runway's usage: {}", e.without_url())))?
    {
        if text.len() + chunk.len() > USAGE_BYTES {
            return Err(Error::Io("Runway's usage answer is too large".into()));
        }
        text.extend_from_slice(&chunk);
    }
    let unexpected = |what: &str| Error::Io(format!("Runway's usage answer {what}"));
    let answer: Value = serde_json::from_slice(&text).map_err(|_| unexpected("is not JSON"))?;
    let mut credits = BTreeMap::new();
    for day in answer
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| unexpected("has no results"))?
    {
        let date = day
            .get("date")
            .and_then(Value::as_str)
            .ok_or_else(|| unexpected("has a day without a date"))?;
        for used in day
            .get("usedCredits")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let model = used.get("model").and_then(Value::as_str).unwrap_or("");
            // Whole credits, net of refunds (so possibly negative).
            let amount = used
                .get("amount")
                .and_then(Value::as_i64)
                .ok_or_else(|| unexpected("has an amount that is not a whole number"))?;
            let micro = amount
                .checked_mul(1_000_000)
                .ok_or_else(|| unexpected("has an amount too large"))?;
            *credits
                .entry((date.to_string(), model.to_string()))
                .or_insert(0) += micro;
        }
    }
    Ok(credits)
}

/// The ledger's Runway runs by (day, model): micro-credits of those
/// charged (billed, else estimated, in US dollars at $0.01 a credit), and
/// how many could not be priced.
async fn logged_credits<S: Store>(
    store: &S,
    feed: &Feed,
    start: i64,
    before: i64,
) -> Result<BTreeMap<(String, String), (i64, u64)>> {
    let source = crate::ledger::tags::fold(feed.provider.source());
    let filter = Filter {
        kind: Some(Kind::Generation),
        since: Some(Timestamp(start * MICROS_PER_DAY)),
        until: Some(Timestamp(before * MICROS_PER_DAY)),
        ..Filter::default()
    };
    let mut page = Page {
        limit: 1000,
        after: None,
    };
    let mut logged = BTreeMap::new();
    loop {
        let entries = store.list(&filter, page).await?;
        let Some(last) = entries.last() else { break };
        page.after = Some(Cursor::after(last));
        let full = entries.len() as i64 == page.limit;
        for entry in entries {
            if crate::ledger::tags::fold(&entry.source) != source
                || !entry.is_charged()
                || entry.status == Status::Cancelled
            {
                continue;
            }
            let model = entry.model.clone().unwrap_or_default();
            let model = model.strip_prefix("runway/").unwrap_or(&model).to_string();
            let key = (day_label(entry.occurred_at.day()), model);
            let slot = logged.entry(key).or_insert((0i64, 0u64));
            let cost = entry.cost();
            match cost.micros.filter(|_| cost.currency == Currency::USD) {
                Some(micros) => slot.0 += micros.saturating_mul(100),
                None => slot.1 += 1,
            }
        }
        if !full {
            break;
        }
    }
    Ok(logged)
}
