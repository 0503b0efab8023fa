//! `pool add`, `pool list`, `pool void`: shared costs split across projects.

use super::args::{parse_currency, parse_money};
use super::table::{printable, render};
use super::{write_json, write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::money::format_display;
use crate::service::batches::{self, BatchDetails, PoolSummary};
use crate::service::pool::{self, PoolRequest, Projects, Split};
use crate::store::Store;
use clap::{Args, Subcommand};
use uuid::Uuid;

#[derive(Subcommand, Debug)]
pub enum PoolCommand {
    /// Split one shared cost (e.g. a monthly subscription) across projects
    Add(AddArgs),
    /// Pools and their shares, oldest first
    List(ListArgs),
    /// Take a pool and all its shares out of totals (they stay on record)
    Void(VoidArgs),
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The whole cost, e.g. 30 or 29.99
    #[arg(long, allow_negative_numbers = true)]
    amount: String,
    /// Currency of --amount (ISO 4217)
    #[arg(long, default_value = "USD")]
    currency: String,
    /// What the cost is, e.g. "Midjourney Pro, November"
    #[arg(long)]
    description: String,
    /// The month it covers, e.g. 2026-11; shares are dated its first day
    #[arg(long, visible_alias = "month", value_name = "YYYY-MM")]
    period: String,
    /// A project that shares the cost (repeat it for each project)
    #[arg(
        long = "project",
        value_name = "NAME",
        required_unless_present = "all_projects"
    )]
    projects: Vec<String>,
    /// Every project with generation or external costs in the period
    #[arg(long, conflicts_with = "projects")]
    all_projects: bool,
    /// even, spend (each project's spend in the period) or weights
    #[arg(long, default_value = "even")]
    split: String,
    /// A project's weight for --split weights, e.g. --weight "Summer Spot=2" (repeat it)
    #[arg(long = "weight", value_name = "PROJECT=N")]
    weights: Vec<String>,
    /// Where the cost comes from, e.g. Midjourney (default: pool)
    #[arg(long)]
    source: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct VoidArgs {
    /// The pool's id, as `pool add` and `pool list` print it
    pool: String,
    /// Why it is taken out of totals
    #[arg(long)]
    reason: String,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

pub async fn run<S: Store>(store: &S, command: PoolCommand, out: Out<'_>) -> Result<Exit> {
    match command {
        PoolCommand::Add(args) => add(store, args, out).await,
        PoolCommand::List(args) => list(store, args, out).await,
        PoolCommand::Void(args) => void(store, args, out).await,
    }
}

async fn add<S: Store>(store: &S, args: AddArgs, out: Out<'_>) -> Result<Exit> {
    let currency = parse_currency("--currency", &args.currency)?;
    let amount = parse_money("--amount", &args.amount, currency)?;
    let split: Split = args
        .split
        .parse()
        .map_err(|e: String| Error::input(format!("--split: {e}")))?;
    let weights = args
        .weights
        .iter()
        .map(|w| {
            w.rsplit_once('=')
                .map(|(p, n)| (p.to_string(), n.to_string()))
                .ok_or_else(|| {
                    Error::input(format!(
                        "--weight '{w}': expected PROJECT=N, e.g. 'Summer Spot=2'"
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let projects = if args.all_projects {
        Projects::All
    } else {
        Projects::Listed(args.projects)
    };
    let added = pool::add(
        store,
        PoolRequest {
            amount,
            description: args.description,
            period: args.period,
            projects,
            split,
            weights,
            source: args.source,
        },
    )
    .await?;
    for w in &added.warnings {
        eprintln!("warning: {}", w.message);
    }
    if args.json {
        return write_json(out, &added);
    }
    let pool = &added.pool;
    let mut text = format!(
        "{}: pool of {} for {}, split {} across {} projects\n",
        added.id,
        format_display(pool.amount.micros, pool.amount.currency),
        pool.period,
        pool.split,
        pool.shares.len()
    );
    text.push_str(&shares_table(pool));
    write_text(out, &text)
}

/// The shares of a pool as a table.
fn shares_table(pool: &PoolSummary) -> String {
    let rows: Vec<Vec<String>> = pool
        .shares
        .iter()
        .map(|s| {
            vec![
                printable(&s.project),
                printable(s.client.as_deref().unwrap_or("-")),
                s.weight.clone(),
                s.amount.decimal(),
            ]
        })
        .collect();
    render(&["project", "client", "weight", "share"], &rows, &[2, 3])
}

async fn list<S: Store>(store: &S, args: ListArgs, out: Out<'_>) -> Result<Exit> {
    let listed = batches::listed(store, false).await?;
    if args.json {
        return write_json(out, &listed);
    }
    let pools: Vec<_> = listed.into_iter().map(|l| l.batch).collect();
    if pools.is_empty() {
        return write_text(out, "no pools\n");
    }
    let mut text = String::new();
    for batch in &pools {
        let BatchDetails::Pool(pool) = &batch.details else {
            continue;
        };
        let state = match &batch.void_reason {
            Some(reason) => format!("void ({})", printable(reason)),
            None => "live".to_string(),
        };
        text.push_str(&format!(
            "{}  {}  {}  {} split {}, {}: {}\n",
            batch.id,
            pool.period,
            format_display(pool.amount.micros, pool.amount.currency),
            printable(&pool.source),
            pool.split,
            state,
            printable(&pool.description)
        ));
        text.push_str(&shares_table(pool));
        text.push('\n');
    }
    write_text(out, &text)
}

async fn void<S: Store>(store: &S, args: VoidArgs, out: Out<'_>) -> Result<Exit> {
    let id = parse_batch_id(&args.pool, "pool")?;
    let report = batches::void(store, id, &args.reason, false).await?;
    if args.json {
        return write_json(out, &report);
    }
    write_text(
        out,
        &format!(
            "{id}: pool void ({}); {} shares taken out of totals\n",
            args.reason.trim(),
            report.entries_voided
        ),
    )
}

pub fn parse_batch_id(text: &str, what: &str) -> Result<Uuid> {
    Uuid::parse_str(text.trim()).map_err(|_| Error::input(format!("'{text}' is not a {what} id")))
}
