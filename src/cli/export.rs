//! `export csv`: the ledger as a CSV file for spreadsheets and accounting.

use super::args::{parse_currency, FilterArgs};
use super::output_file::PartialFile;
use super::{write_json, Exit, Out};
use crate::error::{Error, Result};
use crate::service::export::{export_csv_with, export_xlsx, CsvOptions, Exported};
use crate::store::Store;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Every entry as one CSV row (UTF-8, RFC 4180); to stdout, or -o FILE
    Csv(CsvArgs),
    /// Every entry as one row of an Excel workbook (dates and amounts as
    /// typed cells, a sheet of totals per client and project); -o FILE
    Xlsx(XlsxArgs),
}

#[derive(Args, Debug)]
pub struct XlsxArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Also export void entries (marked in the `void` column)
    #[arg(long)]
    include_void: bool,
    /// Every amount in this currency, at the rate of the entry's date
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// The workbook to write (written whole, or not at all; `-` for stdout)
    #[arg(short = 'o', long = "output", value_name = "FILE.xlsx")]
    output: PathBuf,
    /// Print a JSON summary {"rows"} on stdout
    #[arg(long)]
    json: bool,
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
    /// For Excel: start with a byte-order mark, so that it reads the file
    /// as UTF-8 ("Örebro", not "Ã–rebro")
    #[arg(long)]
    excel: bool,
    /// The field separator: `,` (default), `;` (what Excel expects in
    /// Swedish, German and other locales with a decimal comma) or `tab`
    #[arg(long, value_name = "CHAR", default_value = ",")]
    delimiter: String,
}

/// `,`, `;` or a tab (`tab` or `\t`).
fn parse_delimiter(text: &str) -> Result<u8> {
    match text {
        "," => Ok(b','),
        ";" => Ok(b';'),
        "tab" | "\t" | "\\t" => Ok(b'\t'),
        _ => Err(Error::input(format!(
            "--delimiter: '{text}' is not a delimiter gencost writes; give ',', ';' or tab"
        ))),
    }
}

pub async fn run<S: Store>(store: &S, command: ExportCommand, out: Out<'_>) -> Result<Exit> {
    let args = match command {
        ExportCommand::Csv(args) => args,
        ExportCommand::Xlsx(args) => return run_xlsx(store, args, out).await,
    };
    let options = CsvOptions {
        delimiter: parse_delimiter(&args.delimiter)?,
        byte_order_mark: args.excel,
    };
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
        let exported =
            export_csv_with(store, &filter, currency, options, &mut *out, progress).await;
        bar.finish_and_clear();
        exported?;
        return Ok(Exit::Success);
    };
    // Written beside the target and renamed over it once complete, so a
    // failed export never leaves half a file where the whole one should be.
    let (partial, file) = PartialFile::create(&path)
        .map_err(|e| Error::input(format!("-o {}: {e}", path.display())))?;
    let exported = export_csv_with(
        store,
        &filter,
        currency,
        options,
        std::io::BufWriter::new(file),
        progress,
    )
    .await;
    bar.finish_and_clear();
    finish_file(partial, &path, exported?, args.json, out)
}

async fn run_xlsx<S: Store>(store: &S, args: XlsxArgs, out: Out<'_>) -> Result<Exit> {
    let mut filter = args.filter.to_filter()?;
    filter.include_void = args.include_void;
    let currency = args
        .currency
        .as_deref()
        .map(|c| parse_currency("--currency", c))
        .transpose()?;
    let bar = progress_bar();
    let progress = |rows: u64| bar.set_position(rows);
    let path = args.output;
    if path.as_os_str() == "-" {
        // The workbook is a zip archive, made whole before any of it goes.
        let mut book = Vec::new();
        let exported = export_xlsx(store, &filter, currency, &mut book, progress).await;
        bar.finish_and_clear();
        exported?;
        out.write_all(&book)
            .and_then(|()| out.flush())
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::BrokenPipe => Error::ClosedPipe,
                _ => Error::Io(format!("cannot write the XLSX: {e}")),
            })?;
        return Ok(Exit::Success);
    }
    let (partial, file) = PartialFile::create(&path)
        .map_err(|e| Error::input(format!("-o {}: {e}", path.display())))?;
    let exported = export_xlsx(
        store,
        &filter,
        currency,
        std::io::BufWriter::new(file),
        progress,
    )
    .await;
    bar.finish_and_clear();
    finish_file(partial, &path, exported?, args.json, out)
}

/// Puts a complete export in place of `path` and says what it holds.
fn finish_file(
    partial: PartialFile,
    path: &std::path::Path,
    exported: Exported,
    json: bool,
    out: Out<'_>,
) -> Result<Exit> {
    partial
        .finish()
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))?;
    if json {
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
