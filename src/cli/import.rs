//! `import FILE`, `import list`, `import void`: external costs from CSV
//! files (a provider's cost export, a spreadsheet of subscriptions).

use super::args::parse_currency;
use super::pool::parse_batch_id;
use super::table::{printable, render};
use super::{write_json, write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::import::{Preset, ReadOptions};
use crate::ledger::Tags;
use crate::money::{format_display, format_exact};
use crate::service::batches::{self, BatchDetails};
use crate::service::import::{self, ImportReport, ImportRequest};
use crate::store::Store;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ImportArgs {
    #[command(subcommand)]
    command: Option<ImportCommand>,
    #[command(flatten)]
    file: FileArgs,
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// Imports so far, oldest first, with what each added
    List(ListArgs),
    /// Take a whole import out of totals (its entries stay on record)
    Void(VoidArgs),
}

#[derive(Args, Debug)]
struct FileArgs {
    /// The CSV file (UTF-8 or UTF-16; `,` `;` or tab separated)
    #[arg(required = true)]
    file: Option<PathBuf>,
    /// auto (recognise from the header), generic, openai or anthropic
    #[arg(long, default_value = "auto")]
    preset: String,
    /// Source for rows without one (e.g. Midjourney); a category column wins
    #[arg(long)]
    source: Option<String>,
    /// Currency for rows that name none (ISO 4217); also settles `kr`
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Client for rows without one
    #[arg(long)]
    client: Option<String>,
    /// Project for rows without one
    #[arg(long)]
    project: Option<String>,
    /// Deliverable for rows without one
    #[arg(long)]
    deliverable: Option<String>,
    /// How dates such as 03/11/2026 are written, strftime style, e.g. '%d/%m/%Y'
    #[arg(long, value_name = "FORMAT")]
    date_format: Option<String>,
    /// Check the file and show what would be added; write nothing
    #[arg(long)]
    dry_run: bool,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct ListArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct VoidArgs {
    /// The import's batch id, as `import` and `import list` print it
    batch: String,
    /// Why it is taken out of totals
    #[arg(long)]
    reason: String,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

impl ImportArgs {
    /// Whether the command only reads the ledger.
    pub fn reads_only(&self) -> bool {
        matches!(self.command, Some(ImportCommand::List(_)))
    }
}

pub async fn run<S: Store>(store: &S, args: ImportArgs, out: Out<'_>) -> Result<Exit> {
    match args.command {
        Some(ImportCommand::List(list_args)) => list(store, list_args, out).await,
        Some(ImportCommand::Void(void_args)) => void(store, void_args, out).await,
        None => import_file(store, args.file, out).await,
    }
}

async fn import_file<S: Store>(store: &S, args: FileArgs, out: Out<'_>) -> Result<Exit> {
    let Some(path) = args.file else {
        return Err(Error::input("give the CSV file to import"));
    };
    let preset = match args.preset.trim() {
        "auto" => None,
        other => Some(
            other
                .parse::<Preset>()
                .map_err(|e| Error::input(format!("--preset: {e}")))?,
        ),
    };
    let currency = args
        .currency
        .as_deref()
        .map(|c| parse_currency("--currency", c))
        .transpose()?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let file =
        std::fs::File::open(&path).map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let request_file = name.clone();
    let request = ImportRequest {
        file: name,
        read: ReadOptions {
            preset,
            date_format: args.date_format,
            currency,
        },
        source: args.source,
        currency,
        tags: Tags {
            client: args.client,
            project: args.project,
            deliverable: args.deliverable,
        },
        dry_run: args.dry_run,
    };
    let bar = progress_bar(size);
    let report = import::import(
        store,
        std::io::BufReader::with_capacity(1 << 16, file),
        request,
        |bytes| bar.set_position(bytes),
    )
    .await;
    bar.finish_and_clear();
    let report = report.map_err(|e| match e {
        // The service names the choice; the command line says which flag makes it.
        Error::Field {
            field: "currency",
            message,
        } => Error::Input(format!(
            "{request_file}: {message}: give --currency CODE, e.g. --currency USD"
        )),
        Error::Field {
            field: "source",
            message,
        } => Error::Input(format!(
            "{request_file}: {message}: give --source NAME, e.g. --source Midjourney"
        )),
        Error::Field {
            field: "date_format",
            message,
        } => Error::Input(format!("--date-format {message}")),
        other => other,
    })?;
    for w in &report.warnings {
        eprintln!("warning: {}", w.message);
    }
    if args.json {
        return write_json(out, &report);
    }
    write_text(out, &summary(&report))
}

/// A bar on a terminal for files over a few megabytes; nothing otherwise.
fn progress_bar(size: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() || size < 4 << 20 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {eta} left") {
        bar.set_style(style);
    }
    bar
}

fn summary(report: &ImportReport) -> String {
    let mut text = String::new();
    let verb = if report.dry_run { "would add" } else { "added" };
    text.push_str(&format!(
        "{}: {} rows read ({} preset): {verb} {}, {} already present, {} corrected, {} empty days skipped\n",
        printable(&report.file),
        report.rows,
        report.preset.as_str(),
        report.added,
        report.present,
        report.corrected,
        report.skipped
    ));
    if !report.added_totals.is_empty() {
        let sums: Vec<String> = report
            .added_totals
            .iter()
            .map(|m| format_exact(m.micros, m.currency))
            .collect();
        text.push_str(&format!("total {verb}: {}\n", sums.join(", ")));
    }
    if report.refunds > 0 {
        text.push_str(&format!(
            "{} of them refunds or credits (negative amounts)\n",
            report.refunds
        ));
    }
    if report.proxied_rows > 0 {
        let sums: Vec<String> = report
            .proxied_totals
            .iter()
            .map(|m| format_exact(m.micros, m.currency))
            .collect();
        text.push_str(&format!(
            "{} rows less {} the proxy already logged for their day and model (only the rest {verb})\n",
            report.proxied_rows,
            sums.join(", ")
        ));
    }
    let filled = &report.filled;
    let flags = [
        ("--source", filled.source),
        ("--currency", filled.currency),
        ("--client", filled.client),
        ("--project", filled.project),
        ("--deliverable", filled.deliverable),
    ];
    let used: Vec<String> = flags
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(flag, n)| format!("{flag} filled {n} rows"))
        .collect();
    if !used.is_empty() {
        text.push_str(&format!("{}\n", used.join(", ")));
    }
    if report.dry_run && !report.first_rows.is_empty() {
        text.push_str("first rows that would be added:\n");
        let rows: Vec<Vec<String>> = report
            .first_rows
            .iter()
            .map(|r| {
                vec![
                    r.line.to_string(),
                    r.occurred_at.minute_label(),
                    printable(&r.source),
                    printable(r.description.as_deref().unwrap_or("")),
                    printable(r.project.as_deref().unwrap_or("-")),
                    format_exact(r.amount.micros, r.amount.currency),
                ]
            })
            .collect();
        text.push_str(&render(
            &[
                "line",
                "date (UTC)",
                "source",
                "description",
                "project",
                "amount",
            ],
            &rows,
            &[0, 5],
        ));
        text.push('\n');
    }
    match report.batch {
        Some(batch) => text.push_str(&format!("batch {batch}\n")),
        None if report.dry_run => text.push_str("dry run: nothing was written\n"),
        None => text.push_str("nothing new: no batch recorded\n"),
    }
    text
}

async fn list<S: Store>(store: &S, args: ListArgs, out: Out<'_>) -> Result<Exit> {
    let listed = batches::listed(store, true).await?;
    if args.json {
        return write_json(out, &listed);
    }
    let imports: Vec<_> = listed.into_iter().map(|l| l.batch).collect();
    if imports.is_empty() {
        return write_text(out, "no imports\n");
    }
    let live_totals = batches::live_totals(store).await?;
    let mut rows = Vec::with_capacity(imports.len());
    for batch in &imports {
        let BatchDetails::Import(import) = &batch.details else {
            continue;
        };
        let (live, sums) = live_totals.get(&batch.id).cloned().unwrap_or_default();
        let sums: Vec<String> = sums
            .iter()
            .map(|m| format_display(m.micros, m.currency))
            .collect();
        rows.push(vec![
            batch.id.to_string(),
            batch.recorded_at.minute_label(),
            printable(&import.file),
            import.preset.clone(),
            import.added.to_string(),
            import.corrected.to_string(),
            live.to_string(),
            sums.join(" + "),
            match &batch.void_reason {
                Some(reason) => format!("void: {}", printable(reason)),
                None => "live".into(),
            },
        ]);
    }
    let table = render(
        &[
            "batch",
            "imported (UTC)",
            "file",
            "preset",
            "added",
            "corrected",
            "live entries",
            "live total",
            "state",
        ],
        &rows,
        &[4, 5, 6, 7],
    );
    write_text(out, &format!("{table}\n"))
}

async fn void<S: Store>(store: &S, args: VoidArgs, out: Out<'_>) -> Result<Exit> {
    let id = parse_batch_id(&args.batch, "batch")?;
    let report = batches::void(store, id, &args.reason, true).await?;
    if args.json {
        return write_json(out, &report);
    }
    let mut text = format!(
        "{id}: import void ({}); {} entries taken out of totals\n",
        args.reason.trim(),
        report.entries_voided
    );
    if report.corrections_undone > 0 {
        text.push_str(&format!(
            "{} corrections it made to earlier imports were undone\n",
            report.corrections_undone
        ));
    }
    if report.corrections_kept > 0 {
        text.push_str(&format!(
            "{} corrections it made were left: a later import changed those amounts again\n",
            report.corrections_kept
        ));
    }
    write_text(out, &text)
}
