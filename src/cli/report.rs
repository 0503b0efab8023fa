//! `report html`: the self-contained HTML report for a client or an
//! accountant, written whole to a file (or not at all).

use super::args::FilterArgs;
use super::output_file::PartialFile;
use super::{write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::report::html::write_html;
use crate::service::report::{report, ReportOptions, ReportRequest};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// One self-contained HTML file: KPIs, charts, invoice summary, estimate
    /// accuracy, compliance and the full log
    Html(HtmlArgs),
}

#[derive(Args, Debug)]
pub struct HtmlArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Currency of every figure, each amount at the rate of its own day
    #[arg(long, default_value = "USD", value_name = "CODE")]
    currency: String,
    /// Title at the top of the report (default: names the client and project)
    #[arg(long)]
    title: Option<String>,
    /// Markup added on the invoice, in percent (0 to 1000), e.g. 15 or 12.5
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true)]
    markup: Option<String>,
    /// The time the report states it was generated (RFC 3339; default now):
    /// the same ledger and time give a byte-identical file
    #[arg(long, value_name = "RFC3339")]
    generated_at: Option<String>,
    /// Time zone times are shown in, e.g. Europe/Stockholm (default: this
    /// machine's); periods and buckets stay UTC days
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// The HTML file to write (written whole, or not at all); - for stdout
    #[arg(short = 'o', long = "output", value_name = "FILE.html")]
    output: PathBuf,
}

/// Everything typed on the command line, checked before the ledger is read.
struct Checked {
    request: ReportRequest,
    output: PathBuf,
}

fn check(args: HtmlArgs) -> Result<Checked> {
    let request = ReportOptions {
        filter: args.filter.to_filter()?,
        currency: args.currency,
        title: args.title,
        markup: args.markup,
        generated_at: args.generated_at,
        tz: args.tz,
    }
    .into_request()?;
    if args.output.as_os_str() != "-" && args.output.is_dir() {
        return Err(Error::input(format!(
            "-o {}: is a directory; give the path of the .html file to write",
            args.output.display()
        )));
    }
    Ok(Checked {
        request,
        output: args.output,
    })
}

pub async fn run(
    database: Option<&str>,
    pricing: Option<&Path>,
    command: ReportCommand,
    out: Out<'_>,
) -> Result<Exit> {
    let ReportCommand::Html(args) = command;
    let Checked { request, output } = check(args)?;
    let catalog = super::catalog(pricing)?;
    if output.as_os_str() == "-" {
        let store = Arc::new(super::open_to_read(database).await?);
        let report = report(store, &catalog, &request).await?;
        warn_if_unsound(&report);
        write_html(&report, out).map_err(super::output_error)?;
        return Ok(Exit::Success);
    }
    // Written beside the target and renamed over it once complete, so a
    // failed report never leaves half a file where the whole one should be;
    // the file is opened first, so an unwritable path fails before the work.
    let (partial, file) = PartialFile::create(&output)
        .map_err(|e| Error::input(format!("-o {}: cannot write there: {e}", output.display())))?;
    let report = async {
        let store = Arc::new(super::open_to_read(database).await?);
        let report = report(store, &catalog, &request).await?;
        let mut writer = std::io::BufWriter::new(file);
        write_html(&report, &mut writer)
            .and_then(|_| writer.flush())
            .map_err(|e| Error::Io(format!("cannot write {}: {e}", output.display())))?;
        Ok::<_, Error>(report)
    }
    .await?;
    partial
        .finish()
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", output.display())))?;
    warn_if_unsound(&report);
    let entries: usize = report.log.iter().map(|m| m.rows.len()).sum();
    write_text(
        out,
        &format!(
            "wrote {} ({} {}, {} events verified)\n",
            output.display(),
            entries,
            if entries == 1 { "entry" } else { "entries" },
            report.compliance.events
        ),
    )
}

fn warn_if_unsound(report: &crate::service::report::Report) {
    if let Some(problem) = &report.compliance.problem {
        eprintln!(
            "warning: verify found a problem, and the report's compliance badge says so: {problem}"
        );
    }
    for u in &report.unconverted {
        eprintln!(
            "warning: left out of the report in {}: {} {} of {}: {}",
            report.currency,
            crate::money::format_exact(u.amount, u.currency),
            u.currency,
            u.day,
            u.reason
        );
    }
}
