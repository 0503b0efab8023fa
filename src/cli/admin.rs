//! `verify`, `reset` and `db`: looking after the ledger itself.

use super::{database_url, write_json, write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::service::transfer;
use crate::service::verify::verify as verify_ledger;
use crate::store::{SqlStore, Store};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Also check the ledger against a signed checkpoint (a file `gencost
    /// checkpoint` wrote): its signature, and that the ledger's hash at its
    /// position is the one signed
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// The public key the checkpoint must be signed by (default: this
    /// user's key, when there is one)
    #[arg(long, value_name = "HEX", requires = "checkpoint")]
    public_key: Option<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn verify<S: Store + 'static>(store: S, args: VerifyArgs, out: Out<'_>) -> Result<Exit> {
    let store = std::sync::Arc::new(store);
    let mut report = verify_ledger(store.clone()).await?;
    let checked = match (&args.checkpoint, report.is_sound()) {
        (Some(file), true) => Some(
            super::checkpoint::verify_checkpoint(&*store, file, args.public_key.as_deref()).await?,
        ),
        _ => None,
    };
    if let Some(problem) = checked.as_ref().and_then(|c| c.problem.clone()) {
        report.problem = Some(problem);
    }
    let exit = if report.is_sound() {
        Exit::Success
    } else {
        Exit::Failed
    };
    if args.json {
        let mut value = serde_json::to_value(&report)
            .map_err(|e| Error::Io(format!("cannot write JSON: {e}")))?;
        if let Some(checked) = &checked {
            value["checkpoint"] = serde_json::to_value(checked)
                .map_err(|e| Error::Io(format!("cannot write JSON: {e}")))?;
        }
        write_json(out, &value)?;
        return Ok(exit);
    }
    let head = report.head.clone().unwrap_or_else(|| "(empty)".into());
    let mut text = match &report.problem {
        None => format!(
            "ok: {} events, {} entries, head {head}\n",
            report.events, report.entries
        ),
        Some(problem) => format!("FAILED: {problem}\n"),
    };
    if let Some(checked) = checked.filter(|c| c.problem.is_none()) {
        text.push_str(&format!(
            "ok: the ledger is what the checkpoint of {} signed at position {} (key {})\n",
            checked.time, checked.position, checked.public_key
        ));
    }
    write_text(out, &text)?;
    Ok(exit)
}

#[derive(Args, Debug)]
pub struct ResetArgs {
    /// Pass --confirm DELETE (exactly, in capitals) to clear the ledger
    #[arg(long, value_name = "WORD")]
    confirm: Option<String>,
    /// Where to write the backup (default: beside a SQLite ledger, else the data directory)
    #[arg(long, value_name = "DIR")]
    backup_dir: Option<PathBuf>,
    /// Reset a ledger that holds invoices too (the backup keeps them; numbering goes on after the highest number used)
    #[arg(long)]
    including_invoices: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn reset(store: &SqlStore, args: ResetArgs, out: Out<'_>) -> Result<Exit> {
    let word = args.confirm.unwrap_or_default();
    let report = transfer::reset_with_backup(
        store,
        &word,
        args.backup_dir.as_deref(),
        args.including_invoices,
    )
    .await?;
    if args.json {
        return write_json(out, &report);
    }
    write_text(
        out,
        &format!(
            "ledger cleared; backup of {} events written to {}\n",
            report.events_backed_up, report.backup
        ),
    )
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Backend, location, schema version, event and entry counts
    Info(InfoArgs),
    /// Copy a whole ledger into an empty one (e.g. SQLite into PostgreSQL)
    Copy(CopyArgs),
    /// Upgrade the ledger's schema to this gencost's (a shared PostgreSQL
    /// ledger is upgraded only by this command)
    Migrate(MigrateArgs),
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// Only say what would be done
    #[arg(long)]
    dry_run: bool,
}

/// Upgrade time measured per entry (SQLite, 1M entries: 15.9 s), rounded up.
const UPGRADE_MICROS_PER_ENTRY: i64 = 20;

pub async fn migrate(database: Option<&str>, args: MigrateArgs, out: Out<'_>) -> Result<Exit> {
    use crate::store::migrate::{latest_version, SchemaState};
    let url = database_url(database)?;
    // A dry run changes nothing, so it neither creates a file nor tables.
    if let (true, crate::store::DatabaseUrl::Sqlite(path)) = (args.dry_run, &url) {
        if !path.exists() {
            return Err(Error::NotFound(format!("no ledger at {}", path.display())));
        }
    }
    let store = SqlStore::open_for_migration(&url, !args.dry_run).await?;
    let state = store.schema_state().await?;
    if state == SchemaState::Empty {
        if args.dry_run {
            return write_text(
                out,
                &format!(
                    "would create a new ledger at schema {} in {url}\n",
                    latest_version()
                ),
            );
        }
        store.apply_migrations(0).await?;
        return write_text(
            out,
            &format!(
                "created a new ledger at schema {} in {url}\n",
                crate::store::migrate::latest_version()
            ),
        );
    }
    let pending = store.pending_migrations().await?;
    let info = store.info().await?;
    if pending.is_empty() {
        return write_text(
            out,
            &format!(
                "{} is at schema {}, the version this gencost needs; nothing to do\n",
                info.location, info.schema_version
            ),
        );
    }
    let names: Vec<&str> = pending.iter().map(|m| m.name).collect();
    let seconds = (info.entries * UPGRADE_MICROS_PER_ENTRY).div_euclid(1_000_000) + 1;
    let plan = format!(
        "{}: schema {} -> {} ({}) over {} entries; this may take about {} s, \
         during which the ledger is locked for everyone, and afterwards every \
         user of this ledger needs a gencost that knows schema {}\n",
        info.location,
        info.schema_version,
        crate::store::migrate::latest_version(),
        names.join(", "),
        info.entries,
        seconds,
        crate::store::migrate::latest_version(),
    );
    let merges: String = store
        .name_merges()
        .await?
        .iter()
        .map(|m| {
            let others: Vec<String> = m.merged.iter().map(|n| format!("'{n}'")).collect();
            format!(
                "  {} '{}' also takes {} (they fold to one name)\n",
                m.field,
                m.kept,
                others.join(", ")
            )
        })
        .collect();
    let plan = if merges.is_empty() {
        plan
    } else {
        format!("{plan}names that become one, under the spelling logged first:\n{merges}")
    };
    if args.dry_run {
        return write_text(out, &format!("would upgrade {plan}"));
    }
    eprint!("upgrading {plan}");
    let started = std::time::Instant::now();
    let upgraded = store.upgrade_from(info.schema_version).await?;
    let backup = upgraded
        .backup
        .map(|path| format!("; the ledger as it was is at {}", path.display()))
        .unwrap_or_default();
    write_text(
        out,
        &format!(
            "upgraded to schema {} in {:.1} s{backup}\n",
            latest_version(),
            started.elapsed().as_secs_f64()
        ),
    )
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn info<S: Store>(store: &S, args: InfoArgs, out: Out<'_>) -> Result<Exit> {
    let info = store.info().await?;
    if args.json {
        return write_json(out, &info);
    }
    write_text(out, &format!(
        "backend         {}\nlocation        {}\nschema version  {}\nevents          {}\nentries         {}\n",
        info.backend, info.location, info.schema_version, info.events, info.entries
    ))
}

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// Ledger to copy from
    #[arg(long, value_name = "URL")]
    from: String,
    /// Empty ledger to copy into
    #[arg(long, value_name = "URL")]
    to: String,
    /// Print JSON: {"events","entries","from","to"}
    #[arg(long)]
    json: bool,
}

/// `db copy --json`; locations with credentials redacted.
#[derive(serde::Serialize)]
struct CopiedJson {
    events: i64,
    entries: i64,
    from: String,
    to: String,
}

pub async fn copy(args: CopyArgs, out: Out<'_>) -> Result<Exit> {
    let from_url = database_url(Some(&args.from))?;
    let to_url = database_url(Some(&args.to))?;
    if from_url == to_url {
        return Err(Error::input("--from and --to name the same ledger"));
    }
    let from = super::open_to_read(Some(&args.from)).await?;
    let to = SqlStore::open(&to_url).await?;
    let bar = progress_bar();
    let report = transfer::copy(&from, &to, |done, total| {
        bar.set_length(total.max(0) as u64);
        bar.set_position(done.max(0) as u64);
    })
    .await;
    bar.finish_and_clear();
    let report = report?;
    if args.json {
        return write_json(
            out,
            &CopiedJson {
                events: report.events,
                entries: report.entries,
                from: from_url.to_string(),
                to: to_url.to_string(),
            },
        );
    }
    write_text(
        out,
        &format!(
            "copied {} events ({} entries) from {} to {}\n",
            report.events, report.entries, from_url, to_url
        ),
    )
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
