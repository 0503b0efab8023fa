//! `pricing`: the catalog and what a generation will cost before it runs.

use super::args::{parse_currency, parse_param};
use super::{json_line, open, table, Outcome};
use crate::error::{Error, Result};
use crate::money::{decimal_string, format_display, format_price, Money};
use crate::pricing::{Catalog, LicenseStatus, ModelPrice};
use crate::service::rates::rate_table_into;
use crate::service::record::{price_generation, Priced};
use crate::timestamp::today;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

#[derive(Subcommand, Debug)]
pub enum PricingCommand {
    /// List the models the catalog knows, with their prices
    List(ListArgs),
    /// One model's price, formula, source, license and price version
    Show(ShowArgs),
    /// What one generation will cost, with the arithmetic
    Estimate(EstimateArgs),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only models whose license allows commercial use
    #[arg(long)]
    commercial: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Endpoint id, e.g. fal-ai/flux/dev
    model: String,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct EstimateArgs {
    /// Endpoint id, e.g. fal-ai/flux/dev
    model: String,
    /// Generation parameter key=value (repeatable), e.g. image_size=landscape_16_9
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// Show the amount in this currency, at the latest rate
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

pub async fn run(
    catalog: &Catalog,
    command: PricingCommand,
    database: Option<&str>,
) -> Result<Outcome> {
    match command {
        PricingCommand::List(args) => list(catalog, args),
        PricingCommand::Show(args) => show(catalog, args),
        PricingCommand::Estimate(args) => estimate(catalog, args, database).await,
    }
}

fn model_json(m: &ModelPrice, today: i64) -> Value {
    json!({
        "model": m.endpoint,
        "name": m.name,
        "currency": m.currency.code(),
        "formula": m.formula,
        "verified": m.verified_label(),
        "stale": m.is_stale(today),
        "source": m.source,
        "license": m.license,
        "defaults": m.defaults,
        "note": m.note,
        "origin": m.origin,
    })
}

fn list(catalog: &Catalog, args: ListArgs) -> Result<Outcome> {
    let today = today();
    let models: Vec<&ModelPrice> = catalog
        .models()
        .filter(|m| !args.commercial || m.license.status == LicenseStatus::Commercial)
        .collect();
    if args.json {
        let items: Vec<Value> = models.iter().map(|m| model_json(m, today)).collect();
        return Ok(Outcome::ok(json_line(&items)));
    }
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            vec![
                m.endpoint.clone(),
                m.formula
                    .as_ref()
                    .map_or_else(|| "No price".to_string(), |f| price_summary(f, m)),
                m.license.status.as_str().to_string(),
                format!(
                    "{}{}",
                    m.verified_label(),
                    if m.is_stale(today) { " (stale)" } else { "" }
                ),
            ]
        })
        .collect();
    Ok(Outcome::ok(table::render(
        &["MODEL", "PRICE", "LICENSE", "VERIFIED"],
        &rows,
        &[],
    )))
}

fn show(catalog: &Catalog, args: ShowArgs) -> Result<Outcome> {
    let today = today();
    let m = catalog.get(&args.model).ok_or_else(|| {
        Error::NotFound(format!(
            "{} is not in the pricing catalog; `gencost pricing list` shows the models it knows",
            args.model
        ))
    })?;
    if args.json {
        return Ok(Outcome::ok(json_line(&model_json(m, today))));
    }
    let mut out = format!("{} ({})\n", m.endpoint, m.name);
    match &m.formula {
        Some(f) => out.push_str(&format!("price:     {}\n", price_summary(f, m))),
        None => out.push_str("price:     No price (unpriced: none published)\n"),
    }
    out.push_str(&format!(
        "verified:  {}{}\n",
        m.verified_label(),
        if m.is_stale(today) {
            " (stale: over 90 days ago)"
        } else {
            ""
        }
    ));
    out.push_str(&format!("source:    {}\n", m.source));
    out.push_str(&format!("license:   {}\n", m.license.label()));
    if !m.defaults.is_empty() {
        out.push_str(&format!(
            "defaults:  {}\n",
            Value::Object(m.defaults.clone())
        ));
    }
    if let Some(note) = &m.note {
        out.push_str(&format!("note:      {note}\n"));
    }
    if m.origin == crate::pricing::Origin::UserFile {
        out.push_str("from:      your pricing file\n");
    }
    Ok(Outcome::ok(out))
}

async fn estimate(
    catalog: &Catalog,
    args: EstimateArgs,
    database: Option<&str>,
) -> Result<Outcome> {
    let mut params = serde_json::Map::new();
    for p in &args.params {
        let (key, value) = parse_param(p)?;
        params.insert(key, value);
    }
    let target = args
        .currency
        .as_deref()
        .map(|c| parse_currency("--currency", c))
        .transpose()?;
    let store = open(database).await?;
    let priced = price_generation(&store, catalog, Some(&args.model), &params).await?;
    let license = catalog.get(&args.model).map(|m| m.license.label());
    let (money, tier, explanation, price_version, stale) = match priced {
        Priced::Estimated {
            money,
            explanation,
            price_version,
            stale,
        } => (
            Some(money),
            "estimated",
            explanation,
            Some(price_version),
            stale,
        ),
        Priced::Historical { money, from } => (
            Some(money),
            "historical",
            format!("median of {from} confirmed costs of {}", args.model),
            None,
            false,
        ),
        Priced::Unpriced { why } => (None, "unpriced", why, None, false),
    };
    // In another currency: at the latest rate on or before today.
    let mut rate = None;
    let shown = match (money, target) {
        (Some(m), Some(to)) if to != m.currency => {
            let table = rate_table_into(&store, [m.currency], to).await?;
            let (micros, used) = table.convert(m.micros, m.currency, to, today())?;
            rate = Some(used);
            Some(Money::new(micros, to))
        }
        _ => money,
    };
    if args.json {
        return Ok(Outcome::ok(json_line(&json!({
            "model": args.model,
            "amount": shown.map(|m| decimal_string(m.micros)),
            "currency": shown.map(|m| m.currency.code().to_string()),
            "tier": tier,
            "explanation": explanation,
            "price_version": price_version,
            "stale": stale,
            "license": license,
            "rate": rate,
        }))));
    }
    let mut out = match shown {
        Some(m) => format!(
            "{} ({tier})\n{explanation}\n",
            format_display(m.micros, m.currency)
        ),
        None => format!("No price (unpriced)\n{explanation}\n"),
    };
    if let (Some(used), Some(original)) = (&rate, money) {
        out.push_str(&format!(
            "= {} at {} {}→{} ({})\n",
            format_display(original.micros, original.currency),
            used.rate,
            used.from,
            used.to,
            used.date
        ));
    }
    if let Some(version) = &price_version {
        out.push_str(&format!(
            "price verified {version}{}\n",
            if stale {
                " (stale: over 90 days ago)"
            } else {
                ""
            }
        ));
    }
    if let Some(license) = &license {
        out.push_str(&format!("license: {license}\n"));
    }
    Ok(Outcome::ok(out))
}

/// A short description of a formula's prices, e.g. `$0.025 per megapixel`.
fn price_summary(f: &crate::pricing::Formula, m: &ModelPrice) -> String {
    use crate::pricing::Formula::*;
    let p = |price: &crate::pricing::Price| format_price(price.0, m.currency);
    let table = |prices: &std::collections::BTreeMap<String, crate::pricing::Price>| {
        prices
            .iter()
            .map(|(k, v)| format!("{k} {}", p(v)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match f {
        PerImage { price } => format!("{} per image", p(price)),
        PerImageByOption { param, prices } => format!("per image by {param}: {}", table(prices)),
        PerMegapixel { price, .. } => format!("{} per megapixel (rounded up)", p(price)),
        TieredMegapixel { first, additional } => {
            format!(
                "{} first megapixel + {} each further",
                p(first),
                p(additional)
            )
        }
        PerSecond {
            price,
            with_audio: Some(audio),
        } => {
            format!("{} per second, {} with audio", p(price), p(audio))
        }
        PerSecond {
            price,
            with_audio: None,
        } => format!("{} per second", p(price)),
        PerSecondByResolution { prices, .. } => {
            format!("per second by resolution: {}", table(prices))
        }
        BasePlusPerSecond {
            base,
            base_seconds,
            per_extra_second,
        } => format!(
            "{} for {} s + {} per further second",
            p(base),
            decimal_string(base_seconds.0),
            p(per_extra_second)
        ),
        Per1kCharacters { price } => format!("{} per 1,000 characters", p(price)),
        PerMillionTokens { input, output } => {
            format!(
                "{} / {} per million input / output tokens",
                p(input),
                p(output)
            )
        }
        PerComputeSecond { price } => format!("{} per compute second", p(price)),
        PerRequest { price } => format!("{} per request", p(price)),
        PerVideo { price } => format!("{} per video", p(price)),
        PerVideoByOption { param, prices } => format!("per video by {param}: {}", table(prices)),
    }
}
