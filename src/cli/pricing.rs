//! `pricing`: the catalog and what a generation will cost before it runs.

use super::args::{parse_currency, parse_params};
use super::{open_to_read, table, write_json, write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::money::{decimal_string, format_exact};
use crate::pricing::{Catalog, LicenseStatus, ModelPrice, PriceSource};
use crate::service::pricing::{estimate as estimate_generation, ModelJson};
use crate::timestamp::today;
use clap::{Args, Subcommand};
use serde_json::Value;

#[derive(Subcommand, Debug)]
pub enum PricingCommand {
    /// List the models the catalog knows, with their prices
    List(ListArgs),
    /// One model's price, formula, source, license and price version
    Show(ShowArgs),
    /// What one generation will cost, with the arithmetic
    Estimate(EstimateArgs),
    /// Fetch fal's unit prices into the ledger (they price billed units)
    Sync(super::fal::SyncArgs),
    /// Recompute open estimates (not confirmed, invoiced, voided or typed by
    /// hand) with the prices in force on their runs' days
    Reprice(RepriceArgs),
}

#[derive(Args, Debug)]
pub struct RepriceArgs {
    /// Only this model
    #[arg(long)]
    model: Option<String>,
    /// Only runs from this date or time on
    #[arg(long)]
    since: Option<String>,
    /// Print what would change, per model; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

pub async fn reprice<S: crate::store::Store>(
    store: &S,
    catalog: &Catalog,
    args: RepriceArgs,
    out: Out<'_>,
) -> Result<Exit> {
    use crate::service::reprice::{reprice, RepriceOptions};
    let options = RepriceOptions {
        model: args.model,
        since: args.since,
        dry_run: args.dry_run,
    };
    let report = reprice(store, catalog, &options, crate::timestamp::Timestamp::now())
        .await
        .map_err(|e| match e {
            Error::Field { field, message } => Error::input(format!("--{field}: {message}")),
            other => other,
        })?;
    if args.json {
        return write_json(out, &report);
    }
    let verb = if report.dry_run {
        "would change"
    } else {
        "changed"
    };
    let mut text = format!("{} open estimates {verb}\n", report.entries);
    for m in &report.models {
        let sums: Vec<String> = m
            .sums
            .iter()
            .map(|(c, (before, after))| {
                format!(
                    "{} → {}",
                    crate::money::format_exact(*before, *c),
                    crate::money::format_exact(*after, *c)
                )
            })
            .collect();
        text.push_str(&format!(
            "  {}: {} entries, {}",
            m.model,
            m.entries,
            sums.join(", ")
        ));
        if m.newly_priced > 0 {
            text.push_str(&format!(" ({} had no price", m.newly_priced));
            if m.billed_units_priced > 0 {
                text.push_str(&format!(", {} of them billed units", m.billed_units_priced));
            }
            text.push(')');
        }
        text.push('\n');
    }
    write_text(out, &text)
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
    out: Out<'_>,
) -> Result<Exit> {
    match command {
        PricingCommand::List(args) => list(catalog, args, out),
        PricingCommand::Show(args) => show(catalog, args, out),
        PricingCommand::Estimate(args) => estimate(catalog, args, database, out).await,
        PricingCommand::Sync(_) | PricingCommand::Reprice(_) => Err(Error::Io(
            "pricing sync and reprice are run with the ledger open".into(),
        )),
    }
}

fn list(catalog: &Catalog, args: ListArgs, out: Out<'_>) -> Result<Exit> {
    let today = today();
    let models: Vec<&ModelPrice> = catalog
        .models()
        .filter(|m| !args.commercial || m.license.status == LicenseStatus::Commercial)
        .collect();
    if args.json {
        let items: Vec<ModelJson> = models.iter().map(|m| ModelJson::new(m, today)).collect();
        return write_json(out, &items);
    }
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            vec![
                m.endpoint.clone(),
                m.formula
                    .as_ref()
                    .map_or_else(|| "No price".to_string(), |f| price_summary(f, m)),
                m.price_source
                    .map_or_else(|| "-".to_string(), |p| p.as_str().to_string()),
                m.license.status.as_str().to_string(),
                format!(
                    "{}{}",
                    m.verified_label(),
                    if m.is_stale(today) { " (stale)" } else { "" }
                ),
            ]
        })
        .collect();
    write_text(
        out,
        &table::render(
            &["MODEL", "PRICE", "PRICE SOURCE", "LICENSE", "VERIFIED"],
            &rows,
            &[],
        ),
    )
}

fn show(catalog: &Catalog, args: ShowArgs, out: Out<'_>) -> Result<Exit> {
    let today = today();
    let m = catalog.get(&args.model).ok_or_else(|| {
        Error::NotFound(format!(
            "{} is not in the pricing catalog; `gencost pricing list` shows the models it knows",
            args.model
        ))
    })?;
    if args.json {
        return write_json(out, &ModelJson::new(m, today));
    }
    let mut text = format!("{} ({})\n", m.endpoint, m.name);
    match &m.formula {
        Some(f) => text.push_str(&format!("price:        {}\n", price_summary(f, m))),
        None => text.push_str("price:        No price (unpriced: none published)\n"),
    }
    text.push_str(&format!(
        "verified:     {}{}\n",
        m.verified_label(),
        if m.is_stale(today) {
            " (stale: over 90 days ago)"
        } else {
            ""
        }
    ));
    match m.price_source {
        Some(p) => text.push_str(&format!(
            "price source: {}\n",
            price_source_line(p, &m.source)
        )),
        None => text.push_str(&format!("source:       {}\n", m.source)),
    }
    text.push_str(&format!("license:      {}\n", m.license.label()));
    if !m.defaults.is_empty() {
        text.push_str(&format!(
            "defaults:     {}\n",
            Value::Object(m.defaults.clone())
        ));
    }
    if let Some(note) = &m.note {
        text.push_str(&format!("note:         {note}\n"));
    }
    if m.origin == crate::pricing::Origin::UserFile {
        text.push_str("from:         your pricing file\n");
    }
    write_text(out, &text)
}

async fn estimate(
    catalog: &Catalog,
    args: EstimateArgs,
    database: Option<&str>,
    out: Out<'_>,
) -> Result<Exit> {
    let params = parse_params(&args.params)?;
    let target = args
        .currency
        .as_deref()
        .map(|c| parse_currency("--currency", c))
        .transpose()?;
    let store = open_to_read(database).await?;
    let report = estimate_generation(&store, catalog, &args.model, &params, target).await?;
    for w in &report.warnings {
        eprintln!("warning: {}", w.message);
    }
    if args.json {
        return write_json(out, &report);
    }
    let mut text = match report.shown {
        Some(m) => format!(
            "{} ({})\n{}\n",
            format_exact(m.micros, m.currency),
            report.tier,
            report.explanation
        ),
        None => format!("No price (unpriced)\n{}\n", report.explanation),
    };
    if let (Some(used), Some(original)) = (&report.rate, report.original) {
        text.push_str(&format!(
            "= {} at {} {}→{} ({})\n",
            format_exact(original.micros, original.currency),
            used.rate,
            used.from,
            used.to,
            used.date
        ));
    }
    if let (Some(ms), Some(runs)) = (report.typical_duration_ms, report.typical_of_runs) {
        text.push_str(&format!(
            "takes {} (median of the last {runs} runs with these settings)\n",
            crate::service::learned::duration_label(ms)
        ));
    }
    if let Some(version) = &report.price_version {
        text.push_str(&format!(
            "price verified {version}{}\n",
            if report.stale {
                " (stale: over 90 days ago)"
            } else {
                ""
            }
        ));
    }
    if let (Some(p), Some(source)) = (report.price_source, &report.source) {
        text.push_str(&format!("price source: {}\n", price_source_line(p, source)));
    }
    if let Some(license) = &report.license {
        text.push_str(&format!("license: {license}\n"));
    }
    write_text(out, &text)
}

/// `published on fal.ai: URL`, `reported by a third party: URL` or
/// `your pricing file: URL`.
fn price_source_line(p: PriceSource, source: &str) -> String {
    let how = match p {
        PriceSource::Published => "published on fal.ai",
        PriceSource::Reported => "reported by a third party",
        PriceSource::User => "your pricing file",
    };
    format!("{how}: {}", table::printable(source))
}

/// A short description of a formula's prices, e.g. `$0.025 per megapixel`.
fn price_summary(f: &crate::pricing::Formula, m: &ModelPrice) -> String {
    use crate::pricing::Formula::*;
    let p = |price: &crate::pricing::Price| format_exact(price.0, m.currency);
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
        PerTokenKind { per_million, .. } => format!("per million tokens: {}", table(per_million)),
        PerCredit { price } => format!("{} per credit", p(price)),
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
