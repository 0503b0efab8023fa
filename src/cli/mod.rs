//! The `gencost` command line: clap definitions and dispatch. Each command
//! group lives in its own file and calls the shared service functions.

mod admin;
pub mod args;
mod budget;
mod checkpoint;
mod env_file;
mod export;
mod fal;
mod import;
mod install;
mod invoice;
mod manual;
mod output_file;
mod pool;
mod pricing;
mod query;
mod rates;
mod record;
mod report;
mod serve;
mod show;
pub mod table;
mod webhook;

use crate::error::Error;
use crate::store::{DatabaseUrl, SqlStore, StoreError};
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "gencost",
    version,
    about = "The paper trail for AI generation costs",
    max_term_width = 100
)]
pub struct Cli {
    /// Ledger to use: sqlite:///path/ledger.db (default: ledger.db in the
    /// user data directory) or postgres://user:password@host:port/db
    #[arg(
        long,
        global = true,
        env = "GENCOST_DATABASE",
        hide_env_values = true,
        value_name = "URL"
    )]
    database: Option<String>,

    /// Pricing file that overrides or adds catalog models (default:
    /// pricing.toml in the user config directory, when it exists)
    #[arg(
        long,
        global = true,
        env = "GENCOST_PRICING",
        hide_env_values = true,
        value_name = "FILE"
    )]
    pricing: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Log a generation and print its entry id
    Log(record::LogArgs),
    /// Record the confirmed actual cost of an entry (the estimate stays)
    Confirm(record::ConfirmArgs),
    /// List entries, newest first
    List(query::ListArgs),
    /// Running totals: the actual where known, else the estimate
    Total(query::TotalArgs),
    /// Suggest tag values by prefix, most used first
    Tags(query::TagsArgs),
    /// Show or set the active tags that `log` applies when given none
    Use(record::UseArgs),
    /// One entry by id or request id: its costs, how they were arrived at,
    /// and its events
    Show(show::ShowArgs),
    /// Take an entry out of totals (it stays on record); --undo restores it
    Void(record::VoidArgs),
    /// Change an entry's client, project or deliverable (recorded as an event)
    Retag(record::RetagArgs),
    /// The billing panel and the JSON API in the browser (default http://127.0.0.1:7878)
    Serve(serve::ServeArgs),
    /// Recompute the hash chain and check the entries against it
    Verify(admin::VerifyArgs),
    /// Clear the ledger after writing a full backup (needs --confirm DELETE)
    Reset(admin::ResetArgs),
    /// Ledger storage: information and copying between backends
    #[command(subcommand)]
    Db(admin::DbCommand),
    /// Export the ledger (CSV)
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Import external costs from a CSV file; list or void imports
    Import(import::ImportArgs),
    /// Shared costs (subscriptions) split across projects
    #[command(subcommand)]
    Pool(pool::PoolCommand),
    /// Reports for clients and accountants (self-contained HTML)
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Invoices that lock what they bill, and credit notes
    #[command(subcommand)]
    Invoice(invoice::InvoiceCommand),
    /// Budgets: spent, held and remaining per period; alerts; hard budgets
    /// refuse runs that would go over
    #[command(subcommand)]
    Budget(budget::BudgetCommand),
    /// Where budget alerts are delivered (signed per Standard Webhooks)
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Exchange rates (ECB euro reference rates)
    #[command(subcommand)]
    Rates(rates::RatesCommand),
    /// The pricing catalog and cost estimates; fal's unit prices (sync)
    #[command(subcommand)]
    Pricing(pricing::PricingCommand),
    /// Estimates against confirmed costs, per model (drift over 10% flagged)
    Accuracy(query::AccuracyArgs),
    /// Settle fal runs without a confirmed cost from their results (and
    /// fal's billing records with --billing-events)
    Reconcile(fal::ReconcileArgs),
    /// Sign the ledger's head (position, hash, entries, totals) with this
    /// user's key; `verify --checkpoint FILE` checks the ledger against it
    Checkpoint(checkpoint::CheckpointArgs),
    /// The key checkpoints are signed with (kept in the config directory)
    #[command(subcommand)]
    Key(checkpoint::KeyCommand),
    /// Integrations with editing tools: the panel docked in Premiere Pro
    #[command(subcommand)]
    Integrations(install::IntegrationsCommand),
    /// Run `gencost serve` at login (launchd, systemd or Task Scheduler)
    #[command(subcommand)]
    Service(install::ServiceCommand),
    /// Print a completion script for a shell (bash, zsh, fish, powershell)
    Completions(manual::CompletionsArgs),
    /// Print the manual page (roff), of gencost or of one of its commands
    Man(manual::ManArgs),
}

/// Exit codes: 0 success, 1 the operation failed, 2 bad usage or input.
const EXIT_FAILURE: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// Parses `args`, runs the command, prints its output; returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    let parse = |args: &[OsString]| match Cli::try_parse_from(args) {
        Ok(cli) => Ok(cli),
        Err(e) => {
            let _ = e.print();
            Err(ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 }))
        }
    };
    let mut cli = match parse(&args) {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    // `serve --env-file`: its variables are set before anything runs, and
    // the command line is read again so options that come from the
    // environment (GENCOST_DATABASE, GENCOST_TOKEN) see them.
    if let Command::Serve(serve) = &cli.command {
        if let Some(path) = serve.env_file() {
            if let Err(e) = env_file::load(path) {
                eprintln!("error: {e}");
                return ExitCode::from(exit_code(&e));
            }
            cli = match parse(&args) {
                Ok(cli) => cli,
                Err(exit) => return exit,
            };
        }
    }
    // Two workers: long scans (verify) read the chain and the view side by side.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let result = runtime
        .block_on(dispatch(cli, &mut out))
        .and_then(|exit| out.flush().map(|_| exit).map_err(output_error));
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        // A closed pipe (e.g. `| head`) ends the output quietly.
        Err(Error::ClosedPipe) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &Error) -> u8 {
    match e {
        // An id, model or file that does not exist is bad input too.
        Error::Input(_) | Error::Field { .. } | Error::Unconfirmed { .. } | Error::NotFound(_) => {
            EXIT_USAGE
        }
        Error::Store(StoreError::Refused(_)) => EXIT_USAGE,
        _ => EXIT_FAILURE,
    }
}

/// How a command that did not fail outright ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// It ran and found a problem (e.g. `verify`).
    Failed = 1,
}

/// Where a command writes its output (stdout, buffered).
pub type Out<'a> = &'a mut dyn Write;

/// A failed write: a closed pipe ends quietly, anything else is an error.
fn output_error(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Error::ClosedPipe
    } else {
        Error::Io(format!("cannot write the output: {e}"))
    }
}

pub fn write_text(out: Out<'_>, text: &str) -> Result<Exit, Error> {
    out.write_all(text.as_bytes()).map_err(output_error)?;
    Ok(Exit::Success)
}

/// Pretty JSON and a newline.
pub fn write_json(out: Out<'_>, value: &impl serde::Serialize) -> Result<Exit, Error> {
    write_json_value(out, value)?;
    write_text(out, "\n")
}

/// Pretty JSON, without a newline (an element of a streamed array).
pub fn write_json_value(out: Out<'_>, value: &impl serde::Serialize) -> Result<(), Error> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| match e.io_error_kind() {
        Some(_) => output_error(std::io::Error::from(e)),
        None => Error::Io(format!("cannot write JSON: {e}")),
    })
}

async fn dispatch(cli: Cli, out: Out<'_>) -> Result<Exit, Error> {
    let database = cli.database.as_deref();
    // `use`, `db copy`, `completions`, `man`, `integrations` and `service`
    // do not work on the one ledger; every other command does.
    match cli.command {
        Command::Completions(args) => manual::completions(args, out),
        Command::Man(args) => manual::man(args, out),
        Command::Use(args) => record::use_tags(args, out),
        Command::Integrations(install::IntegrationsCommand::Premiere(command)) => {
            install::premiere(command, database, out)
        }
        Command::Service(command) => install::service(command, database, out),
        Command::Key(command) => checkpoint::key_command(command, out),
        Command::Checkpoint(args) => {
            checkpoint::checkpoint(&open_to_read(database).await?, args, out).await
        }
        Command::Db(admin::DbCommand::Copy(args)) => admin::copy(args, out).await,
        Command::Db(admin::DbCommand::Migrate(args)) => admin::migrate(database, args, out).await,
        Command::Log(args) => {
            let catalog = catalog(cli.pricing.as_deref())?;
            record::log(&open(database).await?, &catalog, args, out).await
        }
        Command::Reconcile(args) => {
            let catalog = catalog(cli.pricing.as_deref())?;
            fal::reconcile(&open(database).await?, &catalog, args, out).await
        }
        Command::Pricing(pricing::PricingCommand::Sync(args)) => {
            let catalog = catalog(cli.pricing.as_deref())?;
            fal::pricing_sync(&open(database).await?, &catalog, args, out).await
        }
        Command::Pricing(pricing::PricingCommand::Reprice(args)) => {
            let catalog = catalog(cli.pricing.as_deref())?;
            pricing::reprice(&open(database).await?, &catalog, args, out).await
        }
        Command::Pricing(command) => {
            pricing::run(&catalog(cli.pricing.as_deref())?, command, database, out).await
        }
        Command::Confirm(args) => {
            let catalog = catalog(cli.pricing.as_deref())?;
            record::confirm(&open(database).await?, &catalog, args, out).await
        }
        Command::Void(args) => record::void(&open(database).await?, args, out).await,
        Command::Retag(args) => record::retag(&open(database).await?, args, out).await,
        Command::Serve(args) => {
            let catalog = catalog(cli.pricing.as_deref())?;
            serve::run(open(database).await?, catalog, args, out).await
        }
        Command::List(args) => query::list(&open_to_read(database).await?, args, out).await,
        Command::Show(args) => show::show(&open_to_read(database).await?, args, out).await,
        Command::Total(args) => query::total(&open_to_read(database).await?, args, out).await,
        Command::Accuracy(args) => query::accuracy(&open_to_read(database).await?, args, out).await,
        Command::Tags(args) => query::tags(&open_to_read(database).await?, args, out).await,
        Command::Verify(args) => admin::verify(open_to_read(database).await?, args, out).await,
        Command::Reset(args) => admin::reset(&open(database).await?, args, out).await,
        Command::Invoice(command) => {
            invoice::run(std::sync::Arc::new(open(database).await?), command, out).await
        }
        Command::Budget(command) => budget::run(&open(database).await?, command, out).await,
        Command::Webhook(command) => webhook::run(&open(database).await?, command, out).await,
        // `rates show` only reads; importing and updating write.
        Command::Rates(command @ rates::RatesCommand::Show(_)) => {
            rates::run(&open_to_read(database).await?, command, out).await
        }
        Command::Rates(command) => rates::run(&open(database).await?, command, out).await,
        Command::Import(args) if args.reads_only() => {
            import::run(&open_to_read(database).await?, args, out).await
        }
        Command::Import(args) => import::run(&open(database).await?, args, out).await,
        Command::Pool(command @ pool::PoolCommand::List(_)) => {
            pool::run(&open_to_read(database).await?, command, out).await
        }
        Command::Pool(command) => pool::run(&open(database).await?, command, out).await,
        Command::Export(command) => export::run(&open_to_read(database).await?, command, out).await,
        // The report checks every flag before it opens the ledger.
        Command::Report(command) => {
            report::run(database, cli.pricing.as_deref(), command, out).await
        }
        Command::Db(admin::DbCommand::Info(args)) => {
            admin::info(&open_to_read(database).await?, args, out).await
        }
    }
}

/// The ledger named by `--database`/`GENCOST_DATABASE`, or the default file.
pub fn database_url(database: Option<&str>) -> Result<DatabaseUrl, Error> {
    match database {
        Some(text) => {
            DatabaseUrl::parse(text).map_err(|e| Error::input(format!("--database: {e}")))
        }
        None => Ok(DatabaseUrl::Sqlite(crate::config::default_ledger_path()?)),
    }
}

/// The pricing catalog with the user's file on top: `--pricing FILE`, else
/// `pricing.toml` in the config directory when there is one.
pub fn catalog(file: Option<&std::path::Path>) -> Result<crate::pricing::Catalog, Error> {
    let path = match file {
        Some(path) => path.to_path_buf(),
        None => match crate::config::config_dir() {
            Ok(dir) if dir.join("pricing.toml").exists() => dir.join("pricing.toml"),
            _ => return crate::pricing::Catalog::embedded().map_err(|e| Error::Io(e.to_string())),
        },
    };
    crate::pricing::Catalog::with_user_file(&path).map_err(|e| Error::input(e.to_string()))
}

/// The ledger for a command that writes: created when it does not exist.
pub async fn open(database: Option<&str>) -> Result<SqlStore, Error> {
    open_with(database, true).await
}

/// The ledger for a command that only reads: a SQLite file named with
/// `--database` must exist (a mistyped path is an error, not an empty
/// ledger); the default ledger is created on first use.
pub async fn open_to_read(database: Option<&str>) -> Result<SqlStore, Error> {
    open_with(database, database.is_none()).await
}

async fn open_with(database: Option<&str>, create: bool) -> Result<SqlStore, Error> {
    let url = database_url(database)?;
    if let (false, DatabaseUrl::Sqlite(path)) = (create, &url) {
        if !path.exists() {
            return Err(Error::NotFound(format!(
                "no ledger at {}; check --database (commands that write create a new ledger)",
                path.display()
            )));
        }
    }
    let store = SqlStore::open(&url).await?;
    if let Some(upgrade) = store.upgrade() {
        let backup = upgrade
            .backup
            .as_ref()
            .map(|path| format!("; the file as it was is at {}", path.display()))
            .unwrap_or_default();
        eprintln!(
            "note: upgraded this ledger from schema {} to {}{backup}",
            upgrade.from, upgrade.to
        );
        for merge in &upgrade.merged {
            eprintln!(
                "note: {} '{}' also takes '{}' (they fold to one name)",
                merge.field,
                merge.kept,
                merge.merged.join("', '")
            );
        }
    }
    Ok(store)
}
