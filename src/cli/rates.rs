//! `rates`: importing, fetching and showing ECB exchange rates.

use super::{json_line, table, Outcome};
use crate::error::{Error, Result};
use crate::service::rates::{self, ImportReport, ECB_DAILY_URL};
use crate::store::Store;
use crate::timestamp::{parse_day, today};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum RatesCommand {
    /// Import an ECB file: eurofxref-daily.xml, eurofxref-hist.csv (or .xml), or either zipped
    Import(ImportArgs),
    /// Download ECB's daily reference rates and import them
    Update(UpdateArgs),
    /// Show the rates in force on a date (the latest ECB day on or before it)
    Show(ShowArgs),
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    file: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// Where to download from
    #[arg(long, default_value = ECB_DAILY_URL)]
    url: String,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// YYYY-MM-DD (default: today, UTC)
    #[arg(long)]
    date: Option<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn run<S: Store>(store: &S, command: RatesCommand) -> Result<Outcome> {
    match command {
        RatesCommand::Import(args) => {
            let report = rates::import_file(store, &args.file).await?;
            Ok(Outcome::ok(import_text(&report, args.json)))
        }
        RatesCommand::Update(args) => {
            let report = rates::update(store, &args.url).await?;
            Ok(Outcome::ok(import_text(&report, args.json)))
        }
        RatesCommand::Show(args) => show(store, args).await,
    }
}

fn import_text(report: &ImportReport, json: bool) -> String {
    if json {
        return json_line(report);
    }
    let mut out = format!(
        "imported {} rates over {} day{} ({} to {}) from {}: {} new, {} changed, {} unchanged\n",
        report.rates,
        report.days,
        if report.days == 1 { "" } else { "s" },
        report.first_date,
        report.last_date,
        report.source,
        report.changes.added,
        report.changes.changed,
        report.changes.unchanged
    );
    if !report.skipped_currencies.is_empty() {
        out.push_str(&format!(
            "skipped retired currencies: {}\n",
            report.skipped_currencies.join(", ")
        ));
    }
    out
}

async fn show<S: Store>(store: &S, args: ShowArgs) -> Result<Outcome> {
    let day = match args.date.as_deref() {
        Some(text) => parse_day(text).ok_or_else(|| {
            Error::input(format!(
                "--date: malformed date '{text}': expected YYYY-MM-DD"
            ))
        })?,
        None => today(),
    };
    let shown = rates::rates_on(store, day).await?;
    if args.json {
        return Ok(Outcome::ok(json_line(&shown)));
    }
    let mut out = format!(
        "ECB reference rates of {} (in force on {}), per 1 EUR\n",
        shown.date, shown.requested
    );
    if let Some(snapshot) = &shown.snapshot_date {
        out.push_str(&format!("embedded snapshot: {snapshot}\n"));
    }
    match &shown.imported {
        Some(range) => out.push_str(&format!(
            "imported: {} days, {} to {}\n",
            range.days, range.first_date, range.last_date
        )),
        None => {
            out.push_str("imported: none (gencost rates import FILE, or gencost rates update)\n")
        }
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = shown
        .rates
        .iter()
        .map(|r| vec![r.currency.to_string(), r.rate.clone()])
        .collect();
    out.push_str(&table::render(&["CURRENCY", "RATE"], &rows, &[1]));
    Ok(Outcome::ok(out))
}
