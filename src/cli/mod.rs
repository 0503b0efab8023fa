//! The `gencost` command line: clap definitions and dispatch. Each command
//! group lives in its own file and calls the shared service functions.

mod admin;
pub mod args;
mod pricing;
mod query;
mod rates;
mod record;
pub mod table;

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
    #[arg(long, global = true, env = "GENCOST_PRICING", value_name = "FILE")]
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
    /// Take an entry out of totals (it stays on record)
    Void(record::VoidArgs),
    /// Recompute the hash chain and check the entries against it
    Verify(admin::VerifyArgs),
    /// Clear the ledger after writing a full backup
    Reset(admin::ResetArgs),
    /// Ledger storage: information and copying between backends
    #[command(subcommand)]
    Db(admin::DbCommand),
    /// Exchange rates (ECB euro reference rates)
    #[command(subcommand)]
    Rates(rates::RatesCommand),
    /// The pricing catalog and cost estimates
    #[command(subcommand)]
    Pricing(pricing::PricingCommand),
}

/// Exit codes: 0 success, 1 the operation failed, 2 bad usage or input.
const EXIT_FAILURE: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// Parses `args`, runs the command, prints its output; returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
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
    match runtime.block_on(dispatch(cli)) {
        Ok(Outcome { stdout, code }) => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            let _ = out.write_all(stdout.as_bytes()).and_then(|_| out.flush());
            ExitCode::from(code)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Input(_) => EXIT_USAGE,
        Error::Store(StoreError::Refused(_)) => EXIT_USAGE,
        _ => EXIT_FAILURE,
    }
}

/// What a command prints, and its exit code when it did not fail outright.
pub struct Outcome {
    pub stdout: String,
    pub code: u8,
}

impl Outcome {
    pub fn ok(stdout: impl Into<String>) -> Outcome {
        Outcome {
            stdout: stdout.into(),
            code: 0,
        }
    }
}

async fn dispatch(cli: Cli) -> Result<Outcome, Error> {
    let database = cli.database.as_deref();
    // `use` and `db copy` do not work on the one ledger; every other command does.
    match cli.command {
        Command::Use(args) => record::use_tags(args),
        Command::Db(admin::DbCommand::Copy(args)) => admin::copy(args).await,
        Command::Log(args) => {
            let catalog = catalog(cli.pricing.as_deref())?;
            record::log(&open(database).await?, &catalog, args).await
        }
        Command::Pricing(command) => {
            pricing::run(&catalog(cli.pricing.as_deref())?, command, database).await
        }
        Command::Confirm(args) => record::confirm(&open(database).await?, args).await,
        Command::Void(args) => record::void(&open(database).await?, args).await,
        Command::List(args) => query::list(&open(database).await?, args).await,
        Command::Total(args) => query::total(&open(database).await?, args).await,
        Command::Tags(args) => query::tags(&open(database).await?, args).await,
        Command::Verify(args) => admin::verify(open(database).await?, args).await,
        Command::Reset(args) => admin::reset(&open(database).await?, args).await,
        Command::Rates(command) => rates::run(&open(database).await?, command).await,
        Command::Db(admin::DbCommand::Info(args)) => {
            admin::info(&open(database).await?, args).await
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
            _ => return Ok(crate::pricing::Catalog::embedded()),
        },
    };
    crate::pricing::Catalog::with_user_file(&path).map_err(|e| Error::input(e.to_string()))
}

pub async fn open(database: Option<&str>) -> Result<SqlStore, Error> {
    let url = database_url(database)?;
    Ok(SqlStore::open(&url).await?)
}

/// JSON text with a trailing newline.
pub fn json_line(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
