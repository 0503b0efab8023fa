//! `rates`: importing, fetching and showing ECB exchange rates.

use super::{table, write_json, write_text, Exit, Out};
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
    #[arg(long, env = "GENCOST_ECB_URL", default_value = ECB_DAILY_URL)]
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

pub async fn run<S: Store>(store: &S, command: RatesCommand, out: Out<'_>) -> Result<Exit> {
    match command {
        RatesCommand::Import(args) => {
            let report = rates::import_file(store, &args.file).await?;
            write_import(out, &report, args.json)
        }
        RatesCommand::Update(args) => {
            let report = rates::update(store, &args.url).await?;
            if !args.json {
                // What it added first: the reason one runs it.
                write_text(out, &format!("{}\n", rates::update_summary(&report)))?;
            }
            write_import(out, &report, args.json)
        }
        RatesCommand::Show(args) => show(store, args, out).await,
    }
}

fn write_import(out: Out<'_>, report: &ImportReport, json: bool) -> Result<Exit> {
    if json {
        return write_json(out, report);
    }
    let mut text = format!(
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
        text.push_str(&format!(
            "skipped retired currencies: {}\n",
            report.skipped_currencies.join(", ")
        ));
    }
    write_text(out, &text)
}

async fn show<S: Store>(store: &S, args: ShowArgs, out: Out<'_>) -> Result<Exit> {
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
        return write_json(out, &shown);
    }
    let mut text = format!(
        "ECB reference rates of {} (in force on {}), per 1 EUR\n",
        shown.date, shown.requested
    );
    let embedded = &shown.embedded;
    text.push_str(&format!(
        "embedded: ECB's history, {} days, {} to {}\n",
        embedded.days, embedded.first_date, embedded.last_date
    ));
    match &shown.imported {
        Some(range) => text.push_str(&format!(
            "imported: {} days, {} to {}\n",
            range.days, range.first_date, range.last_date
        )),
        None => {
            text.push_str("imported: none (gencost rates import FILE, or gencost rates update)\n")
        }
    }
    text.push('\n');
    let rows: Vec<Vec<String>> = shown
        .rates
        .iter()
        .map(|r| vec![r.currency.to_string(), r.rate.clone()])
        .collect();
    text.push_str(&table::render(&["CURRENCY", "RATE"], &rows, &[1]));
    write_text(out, &text)
}
