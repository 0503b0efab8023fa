//! `show`: one entry, found by its id or a provider request id, with how
//! its cost was arrived at and the events that made it.

use super::args::parse_currency;
use super::query::{local_minute, stale_warning, zone_name};
use super::{table, write_json, write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::ledger::{Entry, Status};
use crate::money::format_exact;
use crate::service::show::{self, Found, Shown};
use crate::store::Store;
use crate::wire::EntryJson;
use clap::Args;

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Entry id, or the provider's request id
    target: String,
    /// The source that logged the request id, when several did
    #[arg(long)]
    source: Option<String>,
    /// Show the amounts in this currency, at the rate of the entry's date
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Show times in UTC rather than this machine's time zone
    #[arg(long)]
    utc: bool,
    /// Print JSON: the entry as `list --json` prints it, its "basis" and
    /// its "events"
    #[arg(long)]
    json: bool,
}

pub async fn show<S: Store>(store: &S, args: ShowArgs, out: Out<'_>) -> Result<Exit> {
    let currency = args
        .currency
        .as_deref()
        .map(|c| parse_currency("--currency", c))
        .transpose()?;
    let zone = if args.utc || args.json {
        jiff::tz::TimeZone::UTC
    } else {
        jiff::tz::TimeZone::system()
    };
    match show::show(store, &args.target, args.source.as_deref(), currency).await? {
        Found::Entry(shown) => {
            if let Some(stale) = &shown.stale {
                eprintln!("{}", stale_warning(stale));
            }
            if let Some(why) = &shown.entry.unconverted {
                eprintln!("warning: shown in its own currency: {why}");
            }
            if args.json {
                write_json(out, &shown.to_json()?)
            } else {
                write_text(out, &render(&shown, &zone))
            }
        }
        Found::Several {
            request_id,
            entries,
        } => {
            // The candidates on stdout, the question on stderr.
            let sources: Vec<String> = entries.iter().map(|e| e.source.clone()).collect();
            if args.json {
                let entries = entries
                    .into_iter()
                    .map(|e| EntryJson::new(e, None))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| Error::Io(format!("an entry's parameters are not JSON: {e}")))?;
                write_json(
                    out,
                    &serde_json::json!({ "request_id": request_id, "entries": entries }),
                )?;
            } else {
                let rows: Vec<Vec<String>> = entries
                    .iter()
                    .map(|e| {
                        vec![
                            e.source.clone(),
                            e.id.to_string(),
                            local_minute(e.occurred_at, &zone),
                            e.model.clone().unwrap_or_else(|| "-".into()),
                            cost(e),
                        ]
                    })
                    .collect();
                let when = format!("WHEN ({})", zone_name(&zone));
                write_text(
                    out,
                    &table::render(&["SOURCE", "ID", &when, "MODEL", "COST"], &rows, &[4]),
                )?;
            }
            out.flush().map_err(super::output_error)?;
            Err(Error::input(format!(
                "request id '{request_id}' is logged by {} sources ({}); name one with --source",
                sources.len(),
                sources.join(", ")
            )))
        }
    }
}

/// The cost used in totals, as a listing shows it.
fn cost(entry: &Entry) -> String {
    let cost = entry.cost();
    match cost.micros {
        Some(micros) => format!("{} ({})", format_exact(micros, cost.currency), cost.tier),
        None => "No price".to_string(),
    }
}

/// The entry as labelled lines, then its events as a table.
fn render(shown: &Shown, zone: &jiff::tz::TimeZone) -> String {
    let e = &shown.entry.entry;
    let mut lines: Vec<(&str, String)> = vec![
        ("Entry", e.id.to_string()),
        ("Kind", format!("{} ({})", e.kind, e.source)),
    ];
    let mut push = |label, value: Option<String>| {
        if let Some(value) = value {
            lines.push((label, value));
        }
    };
    push("Model", e.model.clone());
    push("Description", e.description.clone());
    push(
        "When",
        Some(format!(
            "{} ({})",
            local_minute(e.occurred_at, zone),
            zone_name(zone)
        )),
    );
    push("Client", e.tags.client.clone());
    push("Project", e.tags.project.clone());
    push("Deliverable", e.tags.deliverable.clone());
    push("Request id", e.request_id.clone());
    push(
        "Invoice",
        shown
            .invoice
            .as_ref()
            .map(|number| format!("{number} (billed on it, and locked)")),
    );
    let status = if e.status == Status::Succeeded || e.is_charged() {
        e.status.to_string()
    } else {
        format!("{}, not charged", e.status)
    };
    push("Status", Some(status));
    push(
        "Duration",
        e.duration_ms
            .map(|ms| format!("{} s", crate::money::decimal_string(ms * 1_000))),
    );
    if e.params != "{}" {
        push("Parameters", Some(e.params.clone()));
    }
    let estimate = match e.estimate.micros {
        Some(micros) => format!(
            "{} ({})",
            format_exact(micros, e.estimate.currency),
            e.estimate.tier
        ),
        None => "No price (unpriced)".to_string(),
    };
    push("Estimate", Some(estimate));
    push(
        "Actual",
        e.actual.map(|a| {
            format!(
                "{} (confirmed {})",
                format_exact(a.amount.micros, a.amount.currency),
                local_minute(a.confirmed_at, zone)
            )
        }),
    );
    let counts = if e.void.is_some() {
        "void: counts in no total"
    } else if !e.is_charged() {
        "not charged: counts in no total"
    } else {
        "used in totals"
    };
    push("Cost", Some(format!("{}, {counts}", cost(e))));
    push("Basis", Some(shown.basis.clone()));
    for rate in &shown.entry.rates {
        push(
            "Rate",
            Some(format!(
                "1 {} = {} {} (ECB reference rates of {})",
                rate.from, rate.rate, rate.to, rate.date
            )),
        );
    }
    push("Not converted", shown.entry.unconverted.clone());
    push("License", e.license.clone());
    push("Price version", e.price_version.clone());
    push("Batch", e.batch.map(|b| b.to_string()));
    push(
        "Void",
        e.void
            .as_ref()
            .map(|v| format!("{} ({})", v.reason, local_minute(v.at, zone))),
    );
    let width = lines
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for (label, value) in &lines {
        text.push_str(&format!("{label:<width$}  {}\n", table::printable(value)));
    }
    text.push_str("\nEvents\n");
    let rows: Vec<Vec<String>> = shown
        .events
        .iter()
        .map(|event| {
            let what = event
                .body()
                .map(|body| show::summary(&body, e))
                .unwrap_or_else(|err| format!("unreadable: {err}"));
            vec![
                event.seq.to_string(),
                local_minute(event.recorded_at, zone),
                event.kind.clone(),
                what,
            ]
        })
        .collect();
    let when = format!("RECORDED ({})", zone_name(zone));
    text.push_str(&table::render(&["SEQ", &when, "KIND", "WHAT"], &rows, &[0]));
    text
}
