//! `list`, `total` and `tags`: reading the ledger.

use super::args::{parse_currency, FilterArgs};
use super::{table, write_json, write_json_value, write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::fx::{Stale, STALE_AFTER_DAYS};
use crate::ledger::totals::{Dimension, Unconverted};
use crate::ledger::{Entry, TagField};
use crate::money::{format_display, format_exact};
use crate::service::entries::{self, ListRequest, MAX_PAGE};
use crate::service::totals::totals;
use crate::store::Store;
use clap::Args;

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// At most this many entries
    #[arg(long, default_value_t = 50, allow_negative_numbers = true)]
    limit: i64,
    /// Continue after an earlier listing: the cursor it printed
    #[arg(long, value_name = "CURSOR")]
    after: Option<String>,
    /// Only entries logged with this provider request id (any source)
    #[arg(long, value_name = "ID")]
    request_id: Option<String>,
    /// Only entries whose description or model holds this text (case and
    /// accents folded as names are; % and _ are plain characters)
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Also show void entries
    #[arg(long)]
    include_void: bool,
    /// Show every amount in this currency, at the rate of the entry's date
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Show times in UTC rather than this machine's time zone
    #[arg(long)]
    utc: bool,
    /// Print JSON instead of a table (times are always RFC 3339 UTC there)
    #[arg(long)]
    json: bool,
}

/// Lists entries page by page; JSON is written as each page arrives, so a
/// long listing never sits whole in memory.
pub async fn list<S: Store>(store: &S, args: ListArgs, out: Out<'_>) -> Result<Exit> {
    if args.limit < 0 {
        return Err(Error::input(format!(
            "--limit: {} is negative; give the number of entries to show",
            args.limit
        )));
    }
    let currency = args
        .currency
        .as_deref()
        .map(|c| parse_currency("--currency", c))
        .transpose()?;
    let mut filter = args.filter.to_filter()?;
    filter.include_void = args.include_void;
    filter.request_id = args
        .request_id
        .as_deref()
        .map(entries::request_id)
        .transpose()?;
    let mut request = ListRequest {
        filter,
        limit: 0,
        after: args.after,
        currency,
        search: args.search,
    };
    // Only tables show local times; finding the system's zone reads the
    // time-zone database, which JSON output never needs.
    let zone = if args.utc || args.json {
        jiff::tz::TimeZone::UTC
    } else {
        jiff::tz::TimeZone::system()
    };
    let mut left = args.limit;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut shown = 0;
    let mut stale: Option<Stale> = None;
    let mut unconverted = 0usize;
    if args.json {
        write_text(out, "[")?;
    }
    let more = loop {
        request.limit = left.min(MAX_PAGE);
        let page = entries::list(store, &request).await?;
        left -= page.entries.len() as i64;
        let next_cursor = page.next_cursor.clone();
        stale = older(stale, page.stale.clone());
        unconverted += page
            .entries
            .iter()
            .filter(|c| c.unconverted.is_some())
            .count();
        if args.json {
            for entry in page.into_wire(currency.is_some())?.entries {
                write_text(out, if shown == 0 { "\n" } else { ",\n" })?;
                write_json_value(out, &entry)?;
                shown += 1;
            }
        } else {
            rows.extend(
                page.entries
                    .iter()
                    .map(|c| list_row(&c.entry, c.unconverted.as_deref(), &zone)),
            );
            shown = rows.len();
        }
        match next_cursor {
            Some(cursor) if left > 0 => request.after = Some(cursor),
            next => break next,
        }
    };
    if args.json {
        write_text(out, if shown == 0 { "]\n" } else { "\n]\n" })?;
    } else if rows.is_empty() {
        write_text(out, "no entries\n")?;
    } else {
        let when = format!("WHEN ({})", zone_name(&zone));
        let header = [
            "ID",
            when.as_str(),
            "MODEL",
            "CLIENT",
            "PROJECT",
            "DELIVERABLE",
            "COST",
            "TIER",
            "NOTE",
        ];
        write_text(out, &table::render(&header, &rows, &[6]))?;
    }
    if let (Some(currency), true) = (currency, unconverted > 0) {
        eprintln!(
            "warning: {} shown in {} own currency: no exchange rate converts {} into {currency} \
             (see {})",
            plural(unconverted, "entry"),
            if unconverted == 1 { "its" } else { "their" },
            if unconverted == 1 { "it" } else { "them" },
            if args.json { "\"unconverted\"" } else { "NOTE" }
        );
    }
    if let Some(stale) = &stale {
        eprintln!("{}", stale_warning(stale));
    }
    if let Some(cursor) = more {
        eprintln!(
            "{} shown; more entries: gencost list --after {cursor}",
            plural(shown, "entry")
        );
    }
    Ok(Exit::Success)
}

/// The zone's name for a table header: its IANA name, else `UTC` or `local`.
pub(super) fn zone_name(zone: &jiff::tz::TimeZone) -> String {
    match zone.iana_name() {
        Some(name) => name.to_string(),
        None if zone == &jiff::tz::TimeZone::UTC => "UTC".to_string(),
        None => "local time".to_string(),
    }
}

/// `YYYY-MM-DD HH:MM` in `zone`.
pub(super) fn local_minute(at: crate::timestamp::Timestamp, zone: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::from_microsecond(at.0) {
        Ok(t) => t
            .to_zoned(zone.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => at.minute_label(),
    }
}

/// Of two stale conversions, the one with the older rate.
fn older(a: Option<Stale>, b: Option<Stale>) -> Option<Stale> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.rate_date < a.rate_date { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// One line: amounts were converted at rates much older than they are.
pub(super) fn stale_warning(stale: &Stale) -> String {
    format!(
        "warning: amounts were converted at exchange rates more than {STALE_AFTER_DAYS} days older \
         than they are, the oldest of {} (for an amount of {}); fetch ECB's latest rates with \
         gencost rates update, or import a rates file with gencost rates import FILE",
        stale.rate_date, stale.amount_date
    )
}

fn list_row(e: &Entry, unconverted: Option<&str>, zone: &jiff::tz::TimeZone) -> Vec<String> {
    let cost = e.cost();
    let amount = cost.micros.map_or_else(
        || "No price".to_string(),
        |m| format_exact(m, cost.currency),
    );
    let when = local_minute(e.occurred_at, zone);
    let mut note = Vec::new();
    if let Some(v) = &e.void {
        note.push(format!("VOID: {}", v.reason));
    }
    if e.status != crate::ledger::Status::Succeeded {
        note.push(if e.is_charged() {
            format!("{}, charged", e.status)
        } else {
            format!("{}, not charged", e.status)
        });
    }
    if let Some(why) = unconverted {
        note.push(format!("not converted: {why}"));
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
    /// Break down by client, project, deliverable, model, kind, day, week (ISO, from Monday)
    /// or month (UTC days)
    #[arg(long)]
    by: Option<String>,
    /// Currency to total in
    #[arg(long, default_value = "USD", value_name = "CODE")]
    currency: String,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn total<S: Store>(store: &S, args: TotalArgs, out: Out<'_>) -> Result<Exit> {
    let filter = args.filter.to_filter()?;
    let by = args
        .by
        .as_deref()
        .map(str::parse::<Dimension>)
        .transpose()
        .map_err(|e| Error::input(format!("--by: {e}")))?;
    let currency = parse_currency("--currency", &args.currency)?;
    let totals = totals(store, &filter, by, currency).await?;
    // Warnings go to stderr, with or without --json (which lists the same).
    for line in unconverted_warnings(&totals.unconverted, currency) {
        eprintln!("{line}");
    }
    if let Some(stale) = &totals.stale {
        eprintln!("{}", stale_warning(stale));
    }
    if args.json {
        return write_json(out, &totals);
    }
    let mut text = format!(
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
        text.push_str(&format!(
            "; {} without a price, not included",
            totals.unpriced_count
        ));
    }
    if totals.not_charged_count > 0 {
        text.push_str(&format!(
            "; {} failed or cancelled, not charged",
            totals.not_charged_count
        ));
    }
    let left_out: i64 = totals.unconverted.iter().map(|u| u.entries).sum();
    if left_out > 0 {
        text.push_str(&format!(
            "; {left_out} not converted into {currency}, left out"
        ));
    }
    text.push('\n');
    let days: std::collections::BTreeSet<&str> =
        totals.rates.iter().map(|r| r.date.as_str()).collect();
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        text.push_str(&format!(
            "Converted at the ECB reference rates of {} ({first} to {last}); --json lists each rate\n",
            plural(days.len(), "day"),
        ));
    }
    if let Some(by) = by {
        let rows: Vec<Vec<String>> = totals
            .groups
            .iter()
            .map(|g| {
                // A group of unpriced entries only has no total: "No
                // price", never a zero that reads as free.
                let total = if g.unpriced_count == g.count && g.count > 0 {
                    "No price".to_string()
                } else {
                    format_display(g.total, currency)
                };
                vec![
                    g.key.clone().unwrap_or_else(|| "(none)".into()),
                    total,
                    g.count.to_string(),
                    g.unpriced_count.to_string(),
                ]
            })
            .collect();
        text.push('\n');
        let heading = by.to_string().to_uppercase();
        text.push_str(&table::render(
            &[heading.as_str(), "TOTAL", "ENTRIES", "UNPRICED"],
            &rows,
            &[1, 2, 3],
        ));
    }
    write_text(out, &text)
}

/// The most amounts left out that are named one by one.
const UNCONVERTED_SHOWN: usize = 10;

/// One warning line per currency and day left out of a total, at most
/// `UNCONVERTED_SHOWN`, then how many more.
fn unconverted_warnings(left_out: &[Unconverted], currency: crate::money::Currency) -> Vec<String> {
    let mut lines: Vec<String> = left_out
        .iter()
        .take(UNCONVERTED_SHOWN)
        .map(|u| {
            format!(
                "warning: left out of the total in {currency}: {} in {} of {} ({}): {}",
                format_exact(u.amount, u.currency),
                plural(u.entries as usize, "entry"),
                u.day,
                u.currency,
                u.reason
            )
        })
        .collect();
    if left_out.len() > UNCONVERTED_SHOWN {
        lines.push(format!(
            "warning: {} more amounts left out (by currency and day); total --json lists them all under \"unconverted\"",
            left_out.len() - UNCONVERTED_SHOWN
        ));
    }
    lines
}

/// "1 entry", "2 entries", "3 days".
fn plural(n: usize, noun: &str) -> String {
    let consonant_y = noun
        .strip_suffix('y')
        .filter(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u']));
    match (n, consonant_y) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {noun}s"),
    }
}

#[derive(Args, Debug)]
pub struct TagsArgs {
    /// client, project or deliverable
    field: String,
    /// Values starting with this text (by Unicode case folding, as filters
    /// match names)
    #[arg(long, default_value = "")]
    prefix: String,
    /// At most this many values
    #[arg(long, default_value_t = 20, allow_negative_numbers = true)]
    limit: i64,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn tags<S: Store>(store: &S, args: TagsArgs, out: Out<'_>) -> Result<Exit> {
    let field: TagField = args.field.parse().map_err(Error::Input)?;
    let values = crate::service::tags::suggest(store, field, &args.prefix, args.limit).await?;
    if args.json {
        return write_json(out, &values);
    }
    let mut text = String::new();
    for v in &values {
        text.push_str(&format!("{}\t{}\n", table::printable(&v.value), v.count));
    }
    write_text(out, &text)
}

#[derive(Args, Debug)]
pub struct AccuracyArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Currency to compare totals in
    #[arg(long, default_value = "USD", value_name = "CODE")]
    currency: String,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

/// `gencost accuracy`: estimates against confirmed costs, per model.
pub async fn accuracy<S: Store>(store: &S, args: AccuracyArgs, out: Out<'_>) -> Result<Exit> {
    let filter = args.filter.to_filter()?;
    let currency = parse_currency("--currency", &args.currency)?;
    let report = crate::service::accuracy::accuracy(store, &filter, currency).await?;
    if args.json {
        return write_json(out, &report);
    }
    if report.all.confirmed == 0 {
        return write_text(out, "No generation has a confirmed cost yet.\n");
    }
    let pct = |p: &Option<String>| p.as_deref().map_or("-".to_string(), |p| format!("{p}%"));
    let mut rows: Vec<Vec<String>> = report
        .models
        .iter()
        .chain(std::iter::once(&report.all))
        .map(|m| {
            vec![
                table::printable(&m.model),
                m.confirmed.to_string(),
                m.estimated.clone(),
                m.confirmed_total.clone(),
                pct(&m.mean_abs_pct),
                if m.drifting { "over 10%" } else { "" }.to_string(),
                m.zero_confirmed.to_string(),
            ]
        })
        .collect();
    if let Some(last) = rows.last_mut() {
        last[5].clear();
    }
    let mut text = table::render(
        &[
            "model",
            "confirmed",
            &format!("estimated {}", report.currency),
            &format!("confirmed {}", report.currency),
            "mean |diff|",
            "",
            "confirmed at 0",
        ],
        &rows,
        &[1, 2, 3, 4, 6],
    );
    if !report.largest.is_empty() {
        text.push_str("\nLargest differences:\n");
        for d in &report.largest {
            text.push_str(&format!(
                "  {}  {}  estimated {} {}, confirmed {} {}  ({}%)\n",
                d.occurred_at,
                table::printable(&d.model),
                d.estimate,
                d.currency,
                d.confirmed,
                d.currency,
                d.difference_pct
            ));
        }
    }
    write_text(out, &text)?;
    Ok(Exit::Success)
}
