//! `verify`, `reset` and `db`: looking after the ledger itself.

use super::{database_url, json_line, Outcome};
use crate::config;
use crate::error::{Error, Result};
use crate::service::transfer::{self, backup_path};
use crate::service::verify::verify as verify_ledger;
use crate::store::{SqlStore, Store};
use crate::timestamp::Timestamp;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn verify<S: Store + 'static>(store: S, args: VerifyArgs) -> Result<Outcome> {
    let report = verify_ledger(std::sync::Arc::new(store)).await?;
    let code = if report.is_sound() { 0 } else { 1 };
    if args.json {
        return Ok(Outcome {
            stdout: json_line(&report),
            code,
        });
    }
    let head = report.head.clone().unwrap_or_else(|| "(empty)".into());
    let stdout = match &report.problem {
        None => format!(
            "ok: {} events, {} entries, head {head}\n",
            report.events, report.entries
        ),
        Some(problem) => format!("FAILED: {problem}\n"),
    };
    Ok(Outcome { stdout, code })
}

#[derive(Args, Debug)]
pub struct ResetArgs {
    /// Must be exactly DELETE
    #[arg(long, value_name = "WORD")]
    confirm: Option<String>,
    /// Where to write the backup (default: beside a SQLite ledger, else the data directory)
    #[arg(long, value_name = "DIR")]
    backup_dir: Option<PathBuf>,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn reset(store: &SqlStore, args: ResetArgs) -> Result<Outcome> {
    let word = args.confirm.unwrap_or_default();
    let fallback = config::data_dir()?.join("backups");
    let path = backup_path(
        store.url(),
        args.backup_dir.as_deref(),
        &fallback,
        Timestamp::now(),
    );
    let report = transfer::reset(store, &word, &path).await?;
    if args.json {
        return Ok(Outcome::ok(json_line(&report)));
    }
    Ok(Outcome::ok(format!(
        "ledger cleared; backup of {} events written to {}\n",
        report.events_backed_up, report.backup
    )))
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Backend, location, schema version, event and entry counts
    Info(InfoArgs),
    /// Copy a whole ledger into an empty one (e.g. SQLite into PostgreSQL)
    Copy(CopyArgs),
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn info<S: Store>(store: &S, args: InfoArgs) -> Result<Outcome> {
    let info = store.info().await?;
    if args.json {
        return Ok(Outcome::ok(json_line(&info)));
    }
    Ok(Outcome::ok(format!(
        "backend         {}\nlocation        {}\nschema version  {}\nevents          {}\nentries         {}\n",
        info.backend, info.location, info.schema_version, info.events, info.entries
    )))
}

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// Ledger to copy from
    #[arg(long, value_name = "URL")]
    from: String,
    /// Empty ledger to copy into
    #[arg(long, value_name = "URL")]
    to: String,
}

pub async fn copy(args: CopyArgs) -> Result<Outcome> {
    let from_url = database_url(Some(&args.from))?;
    let to_url = database_url(Some(&args.to))?;
    if from_url == to_url {
        return Err(Error::input("--from and --to name the same ledger"));
    }
    let from = SqlStore::open(&from_url).await?;
    let to = SqlStore::open(&to_url).await?;
    let bar = progress_bar();
    let report = transfer::copy(&from, &to, |done, total| {
        bar.set_length(total.max(0) as u64);
        bar.set_position(done.max(0) as u64);
    })
    .await;
    bar.finish_and_clear();
    let report = report?;
    Ok(Outcome::ok(format!(
        "copied {} events ({} entries) from {} to {}\n",
        report.events, report.entries, from_url, to_url
    )))
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} events  {eta}") {
        bar.set_style(style);
    }
    bar
}
