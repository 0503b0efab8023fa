//! `export csv`: the ledger as a CSV file for spreadsheets and accounting.

use super::args::{parse_currency, FilterArgs};
use super::output_file::PartialFile;
use super::{write_json, Exit, Out};
use crate::error::{Error, Result};
use crate::service::export::export_csv;
use crate::store::Store;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Every entry as one CSV row (UTF-8, RFC 4180); to stdout, or -o FILE
    Csv(CsvArgs),
}

#[derive(Args, Debug)]
pub struct CsvArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Also export void entries (marked in the `void` column)
    #[arg(long)]
    include_void: bool,
    /// Every amount in this currency, at the rate of the entry's date
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Write to this file instead of stdout (written whole, or not at all)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// With -o: print a JSON summary {"rows"} on stdout
    #[arg(long)]
    json: bool,
}

pub async fn run<S: Store>(store: &S, command: ExportCommand, out: Out<'_>) -> Result<Exit> {
    let ExportCommand::Csv(args) = command;
    let mut filter = args.filter.to_filter()?;
    filter.include_void = args.include_void;
    let currency = args
        .currency
        .as_deref()
        .map(|c| parse_currency("--currency", c))
        .transpose()?;
    let bar = progress_bar();
    let progress = |rows: u64| bar.set_position(rows);
    let Some(path) = args.output else {
        let exported = export_csv(store, &filter, currency, &mut *out, progress).await;
        bar.finish_and_clear();
        exported?;
        return Ok(Exit::Success);
    };
    // Written beside the target and renamed over it once complete, so a
    // failed export never leaves half a file where the whole one should be.
    let (partial, file) = PartialFile::create(&path)
        .map_err(|e| Error::input(format!("-o {}: {e}", path.display())))?;
    let exported = export_csv(
        store,
        &filter,
        currency,
        std::io::BufWriter::new(file),
        progress,
    )
    .await;
    bar.finish_and_clear();
    let exported = exported?;
    partial
        .finish()
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))?;
    if args.json {
        return write_json(out, &exported);
    }
    eprintln!(
        "exported {} rows to {} (the ledger as of event {})",
        exported.rows,
        path.display(),
        exported.head_seq
    );
    Ok(Exit::Success)
}

/// A count of rows on stderr, hidden when stderr is not a terminal.
fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} rows exported  {elapsed}") {
        bar.set_style(style);
    }
    bar
}
