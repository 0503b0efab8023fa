//! `list`, `total` and `tags`: reading the ledger.

use super::args::{parse_currency, FilterArgs};
use super::{json_line, table, Outcome};
use crate::error::{Error, Result};
use crate::ledger::totals::Dimension;
use crate::ledger::{Entry, TagField};
use crate::money::format_display;
use crate::service::convert::{entries_in, Converted};
use crate::service::totals::totals;
use crate::store::{Page, Store};
use crate::wire::entry_json;
use clap::Args;

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// At most this many entries
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// Skip this many entries first
    #[arg(long, default_value_t = 0)]
    offset: i64,
    /// Also show void entries
    #[arg(long)]
    include_void: bool,
    /// Show every amount in this currency, at the rate of the entry's date
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn list<S: Store>(store: &S, args: ListArgs) -> Result<Outcome> {
    if args.limit < 0 || args.offset < 0 {
        return Err(Error::input("--limit and --offset cannot be negative"));
    }
    let currency = args
        .currency
        .as_deref()
        .map(|c| parse_currency("--currency", c))
        .transpose()?;
    let mut filter = args.filter.to_filter()?;
    filter.include_void = args.include_void;
    let entries = store
        .list(
            &filter,
            Page {
                limit: args.limit,
                offset: args.offset,
            },
        )
        .await?;
    let entries: Vec<Converted> = match currency {
        Some(currency) => entries_in(store, entries, currency).await?,
        None => entries
            .into_iter()
            .map(|entry| Converted {
                entry,
                rates: Vec::new(),
            })
            .collect(),
    };
    if args.json {
        let items: Vec<_> = entries
            .iter()
            .map(|c| {
                let mut item = entry_json(&c.entry);
                if currency.is_some() {
                    item["rates"] = serde_json::json!(c.rates);
                }
                item
            })
            .collect();
        return Ok(Outcome::ok(json_line(&items)));
    }
    let entries: Vec<Entry> = entries.into_iter().map(|c| c.entry).collect();
    if entries.is_empty() {
        return Ok(Outcome::ok("no entries\n"));
    }
    let rows: Vec<Vec<String>> = entries.iter().map(list_row).collect();
    let header = [
        "ID",
        "WHEN (UTC)",
        "MODEL",
        "CLIENT",
        "PROJECT",
        "DELIVERABLE",
        "COST",
        "TIER",
        "NOTE",
    ];
    Ok(Outcome::ok(table::render(&header, &rows, &[6])))
}

fn list_row(e: &Entry) -> Vec<String> {
    let cost = e.cost();
    let amount = cost.micros.map_or_else(
        || "No price".to_string(),
        |m| format_display(m, cost.currency),
    );
    let when = e.occurred_at.to_datetime();
    let when = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        when.year(),
        u8::from(when.month()),
        when.day(),
        when.hour(),
        when.minute()
    );
    let mut note = Vec::new();
    if let Some(v) = &e.void {
        note.push(format!("VOID: {}", v.reason));
    }
    if e.status != crate::ledger::Status::Succeeded {
        note.push(e.status.to_string());
    }
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    vec![
        e.id.to_string(),
        when,
        e.model.clone().unwrap_or_else(|| e.source.clone()),
        dash(&e.tags.client),
        dash(&e.tags.project),
        dash(&e.tags.deliverable),
        amount,
        cost.tier.to_string(),
        note.join("; "),
    ]
}

#[derive(Args, Debug)]
pub struct TotalArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Break down by client, project, deliverable, model, kind, day or month (UTC)
    #[arg(long)]
    by: Option<String>,
    /// Currency to total in
    #[arg(long, default_value = "USD", value_name = "CODE")]
    currency: String,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn total<S: Store>(store: &S, args: TotalArgs) -> Result<Outcome> {
    let filter = args.filter.to_filter()?;
    let by = args
        .by
        .as_deref()
        .map(str::parse::<Dimension>)
        .transpose()
        .map_err(|e| Error::input(format!("--by: {e}")))?;
    let currency = parse_currency("--currency", &args.currency)?;
    let totals = totals(store, &filter, by, currency).await?;
    if args.json {
        return Ok(Outcome::ok(json_line(&totals)));
    }
    let mut out = format!(
        "Total: {} over {} {}",
        format_display(totals.total, currency),
        totals.count,
        if totals.count == 1 {
            "entry"
        } else {
            "entries"
        }
    );
    if totals.unpriced_count > 0 {
        out.push_str(&format!(
            "; {} without a price, not included",
            totals.unpriced_count
        ));
    }
    out.push('\n');
    let days: std::collections::BTreeSet<&str> =
        totals.rates.iter().map(|r| r.date.as_str()).collect();
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        out.push_str(&format!(
            "Converted at the ECB reference rates of {} ({first} to {last}); --json lists each rate\n",
            plural(days.len(), "day"),
        ));
    }
    if let Some(by) = by {
        let rows: Vec<Vec<String>> = totals
            .groups
            .iter()
            .map(|g| {
                vec![
                    g.key.clone().unwrap_or_else(|| "(none)".into()),
                    format_display(g.total, currency),
                    g.count.to_string(),
                    g.unpriced_count.to_string(),
                ]
            })
            .collect();
        out.push('\n');
        let heading = by.to_string().to_uppercase();
        out.push_str(&table::render(
            &[heading.as_str(), "TOTAL", "ENTRIES", "UNPRICED"],
            &rows,
            &[1, 2, 3],
        ));
    }
    Ok(Outcome::ok(out))
}

fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[derive(Args, Debug)]
pub struct TagsArgs {
    /// client, project or deliverable
    field: String,
    /// Values starting with this text (case-insensitive)
    #[arg(long, default_value = "")]
    prefix: String,
    #[arg(long, default_value_t = 20)]
    limit: i64,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn tags<S: Store>(store: &S, args: TagsArgs) -> Result<Outcome> {
    let field: TagField = args.field.parse().map_err(Error::Input)?;
    let values = store
        .tag_values(field, &args.prefix, args.limit.max(0))
        .await?;
    if args.json {
        return Ok(Outcome::ok(json_line(&values)));
    }
    let mut out = String::new();
    for v in &values {
        out.push_str(&format!("{}\t{}\n", v.value, v.count));
    }
    Ok(Outcome::ok(out))
}
