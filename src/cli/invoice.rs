//! `invoice settings|create|list|show|void|credit`: invoices that lock what
//! they bill, and credit notes (see `service::invoice`).

use super::output_file::PartialFile;
use super::{write_json, write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::ledger::invoice::StudioDetails;
use crate::money::format_exact;
use crate::report::invoice_doc::{render_credit, render_invoice, write_csv};
use crate::service::invoice::{self as service, CreateOptions, Created, Credited, Document};
use crate::store::Store;
use crate::timestamp::{day_label, Timestamp};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Subcommand, Debug)]
pub enum InvoiceCommand {
    /// The studio's details printed on invoices (kept in the ledger)
    Settings(SettingsArgs),
    /// Bill a client's entries of a period that no invoice holds yet, and
    /// lock them
    Create(CreateArgs),
    /// Every invoice and credit note
    List(ListArgs),
    /// One invoice or credit note; --html or --csv writes its document
    Show(ShowArgs),
    /// Void an invoice: it keeps its number and releases its entries
    Void(VoidArgs),
    /// A credit note on an invoice: for some of its entries (released to be
    /// invoiced again) or for an amount
    Credit(CreditArgs),
}

#[derive(Args, Debug)]
pub struct SettingsArgs {
    /// The studio's name
    #[arg(long)]
    name: Option<String>,
    /// The studio's address (several lines: use \n or quote a multi-line text)
    #[arg(long)]
    address: Option<String>,
    /// The studio's VAT id
    #[arg(long)]
    vat_id: Option<String>,
    /// A footer (payment details, terms)
    #[arg(long)]
    footer: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The client billed (names match by the folding rule)
    #[arg(long)]
    client: String,
    /// Only these projects (repeat for several)
    #[arg(long = "project", value_name = "PROJECT")]
    projects: Vec<String>,
    /// The UTC month billed, e.g. 2026-11
    #[arg(long, conflicts_with_all = ["since", "until"])]
    month: Option<String>,
    /// From this date or time on (inclusive)
    #[arg(long, requires = "until")]
    since: Option<String>,
    /// Up to this date (that whole UTC day included) or time (exclusive)
    #[arg(long, requires = "since")]
    until: Option<String>,
    /// Markup in percent (0 to 1000), e.g. 15
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true)]
    markup: Option<String>,
    /// The invoice's currency; each entry is converted at its own day's rate
    #[arg(long, default_value = "USD", value_name = "CODE")]
    currency: String,
    /// The numbering series (numbers run per series and year: INV-2026-0001)
    #[arg(long, value_name = "SERIES")]
    series: Option<String>,
    /// Days until payment is due
    #[arg(long, value_name = "DAYS")]
    due: Option<i64>,
    /// Refuse while any line is still an estimate
    #[arg(long)]
    require_confirmed: bool,
    /// Bill entries with no price with no amount (listed, never as zero)
    #[arg(long)]
    allow_unpriced: bool,
    /// Show what the invoice would bill; issue and lock nothing
    #[arg(long)]
    dry_run: bool,
    /// Write the invoice's HTML document here too
    #[arg(short = 'o', long = "output", value_name = "FILE.html")]
    output: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The invoice or credit note number, e.g. INV-2026-0001
    number: String,
    /// Write the HTML document (to -o, or to stdout)
    #[arg(long, conflicts_with = "csv")]
    html: bool,
    /// Write the invoice's lines as CSV (to -o, or to stdout)
    #[arg(long)]
    csv: bool,
    /// The file to write (written whole, or not at all)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct VoidArgs {
    number: String,
    /// Why it is voided (kept in the ledger)
    #[arg(long)]
    reason: String,
}

#[derive(Args, Debug)]
pub struct CreditArgs {
    number: String,
    /// Credit these lines (entry ids); their entries can be invoiced again
    #[arg(long, num_args = 1.., value_name = "ENTRY_ID", conflicts_with = "amount")]
    entries: Vec<String>,
    /// Credit an amount in the invoice's currency; releases no entry
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    amount: Option<String>,
    /// Why it is credited (printed on the credit note)
    #[arg(long)]
    reason: String,
    /// Write the credit note's HTML document here too
    #[arg(short = 'o', long = "output", value_name = "FILE.html")]
    output: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub async fn run<S: Store + 'static>(
    store: Arc<S>,
    command: InvoiceCommand,
    out: Out<'_>,
) -> Result<Exit> {
    match command {
        InvoiceCommand::Settings(args) => settings(&*store, args, out).await,
        InvoiceCommand::Create(args) => create(store, args, out).await,
        InvoiceCommand::List(args) => list(&*store, args, out).await,
        InvoiceCommand::Show(args) => show(store, args, out).await,
        InvoiceCommand::Void(args) => {
            service::void(&*store, &args.number, &args.reason, Timestamp::now()).await?;
            write_text(
                out,
                &format!(
                    "invoice {} voided; it keeps its number and its entries can be invoiced again\n",
                    args.number.trim().to_uppercase()
                ),
            )
        }
        InvoiceCommand::Credit(args) => credit(store, args, out).await,
    }
}

async fn settings<S: Store>(store: &S, args: SettingsArgs, out: Out<'_>) -> Result<Exit> {
    let unescape = |t: Option<String>| t.map(|t| t.replace("\\n", "\n"));
    let changes = StudioDetails {
        name: args.name,
        address: unescape(args.address),
        vat_id: args.vat_id,
        footer: unescape(args.footer),
    };
    let changed = [
        &changes.name,
        &changes.address,
        &changes.vat_id,
        &changes.footer,
    ]
    .iter()
    .any(|c| c.is_some());
    let studio = if changed {
        service::set_settings(store, changes, Timestamp::now())
            .await
            .map_err(flag_names)?
    } else {
        service::settings(store).await?
    };
    if args.json {
        return write_json(out, &studio);
    }
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not set)".into());
    write_text(
        out,
        &format!(
            "name     {}\naddress  {}\nvat id   {}\nfooter   {}\n",
            show(&studio.name),
            show(&studio.address).replace('\n', "\n         "),
            show(&studio.vat_id),
            show(&studio.footer).replace('\n', "\n         "),
        ),
    )
}

/// A file named with -o goes into a folder that exists.
fn check_output(path: &Path) -> Result<()> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
    if folder.is_some_and(|f| !f.is_dir()) || path.is_dir() {
        return Err(Error::input(format!(
            "-o {}: not a file in an existing folder",
            path.display()
        )));
    }
    Ok(())
}

async fn create<S: Store + 'static>(store: Arc<S>, args: CreateArgs, out: Out<'_>) -> Result<Exit> {
    if let Some(path) = &args.output {
        check_output(path)?;
    }
    let options = CreateOptions {
        client: args.client,
        projects: args.projects,
        month: args.month,
        since: args.since,
        until: args.until,
        markup: args.markup,
        currency: args.currency,
        series: args.series,
        due_days: args.due,
        require_confirmed: args.require_confirmed,
        allow_unpriced: args.allow_unpriced,
    };
    let created = service::create(&*store, &options, args.dry_run, Timestamp::now())
        .await
        .map_err(flag_names)?;
    if let (Some(path), true) = (&args.output, created.issued) {
        let (record, document) = service::show(&*store, &created.number).await?;
        if let Document::Invoice(invoice) = document {
            let checkpoint = service::document_checkpoint(&store).await?;
            let html = render_invoice(&record, &invoice, checkpoint.as_ref());
            write_file(path, html.as_bytes())?;
        }
    }
    if args.json {
        return write_json(out, &created.json());
    }
    let mut text = summary_text(&created);
    if !created.issued {
        text.push_str("dry run: nothing was issued or locked\n");
    } else if let Some(path) = &args.output {
        text.push_str(&format!("written to {}\n", path.display()));
    }
    write_text(out, &text)
}

/// Errors in the service's field names, said as this command's flags.
fn flag_names(e: Error) -> Error {
    match e {
        Error::Field { field, message } => {
            Error::input(format!("--{}: {message}", field.replace('_', "-")))
        }
        // The period's fields, as the shared filter names them.
        Error::Input(message)
            if ["month: ", "since: ", "until: "]
                .iter()
                .any(|field| message.starts_with(field)) =>
        {
            Error::input(format!("--{message}"))
        }
        other => other,
    }
}

fn summary_text(invoice: &Created) -> String {
    let c = invoice.currency;
    let mut text = format!(
        "invoice {} for {} ({}): {} lines{}, total {}, due {}\n",
        invoice.number,
        invoice.client,
        invoice.period,
        invoice.lines,
        if invoice.adjustments == 0 {
            String::new()
        } else {
            format!(" and {} adjustments", invoice.adjustments)
        },
        format_exact(invoice.total, c),
        day_label(invoice.due_on)
    );
    if invoice.estimated > 0 {
        text.push_str(&format!(
            "{} of it rests on estimates\n",
            format_exact(invoice.estimated, c)
        ));
    }
    if !invoice.pending.is_empty() {
        text.push_str(&format!(
            "{} pending runs left out: {}\n",
            invoice.pending.len(),
            invoice
                .pending
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !invoice.unpriced.is_empty() {
        text.push_str(&format!(
            "{} lines billed with no amount (unpriced)\n",
            invoice.unpriced.len()
        ));
    }
    text
}

async fn list<S: Store>(store: &S, args: ListArgs, out: Out<'_>) -> Result<Exit> {
    let all = service::list(store).await?;
    if args.json {
        return write_json(
            out,
            &all.iter().map(service::record_json).collect::<Vec<_>>(),
        );
    }
    if all.is_empty() {
        return write_text(
            out,
            "no invoices yet (gencost invoice create --client C --month YYYY-MM)\n",
        );
    }
    let mut text = String::new();
    for r in &all {
        let status = match (&r.void_reason, &r.refers_to) {
            (Some(reason), _) => format!("VOID ({reason})"),
            (None, Some(invoice)) => format!("credits {invoice}"),
            (None, None) => String::new(),
        };
        text.push_str(&format!(
            "{:<16} {:<8} {:<24} {:>14} {:>6} lines  {}\n",
            r.number,
            r.kind,
            r.client,
            format_exact(r.total, r.currency),
            r.lines,
            status
        ));
    }
    write_text(out, &text)
}

async fn show<S: Store + 'static>(store: Arc<S>, args: ShowArgs, out: Out<'_>) -> Result<Exit> {
    if let Some(path) = &args.output {
        check_output(path)?;
    }
    let (record, document) = service::show(&*store, &args.number).await?;
    if args.html || args.csv {
        let bytes = if args.html {
            let checkpoint = service::document_checkpoint(&store).await?;
            match &document {
                Document::Invoice(invoice) => render_invoice(&record, invoice, checkpoint.as_ref()),
                Document::Credit(credit) => render_credit(&record, credit, checkpoint.as_ref()),
            }
            .into_bytes()
        } else {
            let Document::Invoice(invoice) = &document else {
                return Err(Error::input(format!(
                    "{}: a credit note has no lines to write as CSV",
                    record.number
                )));
            };
            let mut bytes = Vec::new();
            write_csv(invoice, &mut bytes).map_err(|e| Error::Io(e.to_string()))?;
            bytes
        };
        return match &args.output {
            Some(path) if path.as_os_str() != "-" => {
                write_file(path, &bytes)?;
                write_text(out, &format!("written to {}\n", path.display()))
            }
            _ => {
                out.write_all(&bytes).map_err(super::output_error)?;
                Ok(Exit::Success)
            }
        };
    }
    if args.json {
        return write_json(out, &service::record_json(&record));
    }
    let text = match &document {
        Document::Invoice(invoice) => {
            let unpriced = invoice
                .each_line()
                .filter(|(_, l)| l.micros().is_none())
                .map(|(_, l)| l.entry())
                .collect();
            let mut text = summary_text(&service::Created::of(invoice, true, unpriced));
            if let Some(reason) = &record.void_reason {
                text.push_str(&format!("VOID: {reason}\n"));
            }
            text
        }
        Document::Credit(credit) => format!(
            "credit note {} on invoice {} for {}: {}, {}\nreason: {}\n",
            credit.number,
            credit.invoice,
            credit.client,
            format_exact(credit.total, credit.currency),
            if credit.entries.is_empty() {
                "an amount".to_string()
            } else {
                format!("{} lines released", credit.entries.len())
            },
            credit.reason
        ),
    };
    write_text(out, &text)
}

async fn credit<S: Store + 'static>(store: Arc<S>, args: CreditArgs, out: Out<'_>) -> Result<Exit> {
    if let Some(path) = &args.output {
        check_output(path)?;
    }
    let credited = match (args.entries.is_empty(), args.amount) {
        (false, None) => Credited::Entries(
            args.entries
                .iter()
                .map(|id| {
                    Uuid::parse_str(id.trim())
                        .map_err(|_| Error::input(format!("--entries: '{id}' is not an entry id")))
                })
                .collect::<Result<_>>()?,
        ),
        (true, Some(amount)) => Credited::Amount(amount),
        _ => {
            return Err(Error::input(
                "give --entries ID... (credits those lines) or --amount X (credits a sum)",
            ))
        }
    };
    let credit = service::credit(
        &*store,
        &args.number,
        credited,
        &args.reason,
        Timestamp::now(),
    )
    .await
    .map_err(flag_names)?;
    if let Some(path) = &args.output {
        let (record, _) = service::show(&*store, &credit.number).await?;
        let checkpoint = service::document_checkpoint(&store).await?;
        write_file(
            path,
            render_credit(&record, &credit, checkpoint.as_ref()).as_bytes(),
        )?;
    }
    if args.json {
        return write_json(out, &credit);
    }
    write_text(
        out,
        &format!(
            "credit note {} on invoice {}: {}{}\n",
            credit.number,
            credit.invoice,
            format_exact(credit.total, credit.currency),
            if credit.entries.is_empty() {
                String::new()
            } else {
                match credit.entries.len() {
                    1 => "; 1 entry released".to_string(),
                    n => format!("; {n} entries released"),
                }
            }
        ),
    )
}

/// Written beside the target and renamed over it, whole or not at all.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| Error::Io(format!("-o {}: {e}", path.display()));
    let (partial, mut file) = PartialFile::create(path).map_err(io)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    drop(file);
    partial.finish().map_err(io)
}
