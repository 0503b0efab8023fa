//! `budget set|list|show|rm`: budgets with their spent, held and remaining
//! figures for the current period (see `service::budget`).

use super::{write_json, write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::ledger::BudgetWrite;
use crate::service::budget::{self as service, BudgetInput, BudgetJson};
use crate::store::Store;
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum BudgetCommand {
    /// Make a budget, or change one (options left out keep their values)
    Set(Box<SetArgs>),
    /// Every budget with its figures for the current period
    List(ListArgs),
    /// One budget: spent, held and remaining for the current period
    Show(ShowArgs),
    /// Remove a budget (its events stay in the chain)
    Rm(RmArgs),
}

#[derive(Args, Debug)]
pub struct SetArgs {
    /// The budget's name (unique; matched by the folding rule)
    name: String,
    /// The amount, exact decimal (e.g. 2000)
    #[arg(long)]
    amount: Option<String>,
    /// The budget's currency (ISO 4217); costs convert at each entry's day
    #[arg(long)]
    currency: Option<String>,
    /// Count only this client's costs ("" clears)
    #[arg(long)]
    client: Option<String>,
    /// Count only this project's costs ("" clears)
    #[arg(long)]
    project: Option<String>,
    /// Count only this deliverable's costs ("" clears)
    #[arg(long)]
    deliverable: Option<String>,
    /// Count only this model's runs ("" clears)
    #[arg(long)]
    model: Option<String>,
    /// When the budget starts again: month, quarter, year (UTC calendar
    /// periods) or never [default for a new budget: month]
    #[arg(long)]
    resets: Option<String>,
    /// The first day counted, YYYY-MM-DD [default: the start of the current
    /// period; today for --resets never]
    #[arg(long)]
    from: Option<String>,
    /// Refuse pending runs that would take spent + held over the amount
    #[arg(long, conflicts_with = "soft")]
    hard: bool,
    /// Only alert, never refuse (undoes --hard)
    #[arg(long)]
    soft: bool,
    /// Alert thresholds in percent [default: 50,80,100]; "" for none
    #[arg(long)]
    alerts: Option<String>,
    /// Under a hard budget, let runs of models without a price through
    #[arg(long, conflicts_with = "no_allow_unpriced")]
    allow_unpriced: bool,
    /// Refuse runs of models without a price again (undoes --allow-unpriced)
    #[arg(long)]
    no_allow_unpriced: bool,
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
    name: String,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    name: String,
    #[arg(long)]
    json: bool,
}

pub async fn run<S: Store>(store: &S, command: BudgetCommand, out: Out<'_>) -> Result<Exit> {
    match command {
        BudgetCommand::Set(args) => {
            let args = *args;
            let json = args.json;
            let input = BudgetInput {
                name: args.name,
                amount: args.amount,
                currency: args.currency,
                client: args.client,
                project: args.project,
                deliverable: args.deliverable,
                model: args.model,
                resets: args.resets,
                from: args.from,
                hard: (args.hard || args.soft).then_some(args.hard),
                alerts: args.alerts,
                allow_unpriced: (args.allow_unpriced || args.no_allow_unpriced)
                    .then_some(args.allow_unpriced),
            };
            let set = service::set(store, input, BudgetWrite::Upsert)
                .await
                .map_err(flag_names)?;
            for alert in &set.alerts {
                eprintln!("warning: {}", alert.message());
            }
            eprintln!(
                "{} budget {}",
                if set.created { "made" } else { "changed" },
                set.budget.name
            );
            if json {
                return write_json(out, &set.budget);
            }
            write_text(out, &describe(&set.budget))
        }
        BudgetCommand::List(args) => {
            let budgets = service::list(store).await?;
            if args.json {
                return write_json(out, &budgets);
            }
            if budgets.is_empty() {
                return write_text(
                    out,
                    "no budgets; make one with gencost budget set NAME --amount 2000 --currency EUR\n",
                );
            }
            let text: String = budgets.iter().map(line).collect();
            write_text(out, &text)
        }
        BudgetCommand::Show(args) => {
            let budget = service::show(store, &args.name).await?;
            if args.json {
                return write_json(out, &budget);
            }
            write_text(out, &describe(&budget))
        }
        BudgetCommand::Rm(args) => {
            let name = service::remove(store, &args.name).await?;
            if args.json {
                return write_json(out, &serde_json::json!({ "removed": name }));
            }
            write_text(out, &format!("removed budget {name}\n"))
        }
    }
}

/// Service errors name their input bare ("amount: ..."); here it is a flag.
fn flag_names(e: Error) -> Error {
    match e {
        Error::Field { field, message } if field != "name" => {
            Error::input(format!("--{}: {message}", field.replace('_', "-")))
        }
        other => other,
    }
}

fn scope(b: &BudgetJson) -> String {
    let parts: Vec<String> = [
        ("client", &b.client),
        ("project", &b.project),
        ("deliverable", &b.deliverable),
        ("model", &b.model),
    ]
    .iter()
    .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name} {v}")))
    .collect();
    if parts.is_empty() {
        "every cost".to_string()
    } else {
        parts.join(", ")
    }
}

/// One line per budget, as `budget list` prints it.
fn line(b: &BudgetJson) -> String {
    format!(
        "{}  {} {}  {}: spent {}, held {}, remaining {} ({} %, {}){}{}\n",
        b.name,
        b.amount,
        b.currency,
        b.period.label,
        b.spent,
        b.held,
        b.remaining,
        b.percent,
        b.state,
        if b.hard { ", hard" } else { "" },
        unpriced_note(b),
    )
}

fn unpriced_note(b: &BudgetJson) -> String {
    let mut notes = Vec::new();
    if b.unpriced > 0 {
        notes.push(format!("{} unpriced (not counted as zero)", b.unpriced));
    }
    if b.unconverted > 0 {
        notes.push(format!("{} with no exchange rate", b.unconverted));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join(", "))
    }
}

/// `budget show`: every figure on its own line.
fn describe(b: &BudgetJson) -> String {
    let period = match &b.period.end {
        Some(end) => format!("{} ({} to {})", b.period.label, b.period.start, end),
        None => b.period.label.clone(),
    };
    let alerts = if b.alerts.is_empty() {
        "none".to_string()
    } else {
        b.alerts
            .iter()
            .map(|a| format!("{a} %"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let crossed = if b.crossed.is_empty() {
        "none yet".to_string()
    } else {
        b.crossed
            .iter()
            .map(|a| format!("{a} %"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!(
        "budget     {}\namount     {} {} per {} ({}{})\ncounts     {}, from {}\nperiod     {}\n\
         spent      {} {} (confirmed {}, estimated {})\nheld       {} {} (pending runs)\n\
         remaining  {} {} ({} % used, {})\nalerts     {} (crossed: {})\n",
        b.name,
        b.amount,
        b.currency,
        b.resets,
        if b.hard { "hard" } else { "alerts only" },
        if b.hard && b.allow_unpriced {
            ", unpriced runs let through"
        } else {
            ""
        },
        scope(b),
        b.from,
        period,
        b.spent,
        b.currency,
        b.spent_billed,
        b.spent_estimated,
        b.held,
        b.currency,
        b.remaining,
        b.currency,
        b.percent,
        b.state,
        alerts,
        crossed,
    );
    if b.unpriced > 0 {
        text.push_str(&format!(
            "unpriced   {} entries counted with no price (not as zero), {} of them pending\n",
            b.unpriced, b.unpriced_held
        ));
    }
    if b.unconverted > 0 {
        text.push_str(&format!(
            "unconverted {} entries no exchange rate converts into {}\n",
            b.unconverted, b.currency
        ));
    }
    text
}
