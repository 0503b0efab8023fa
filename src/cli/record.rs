//! `log`, `confirm`, `void` and `use`: recording costs from the terminal.

use super::args::{parse_currency, parse_duration_ms, parse_kind, parse_money, parse_params};
use super::{write_json, write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::ledger::{Status, Tags};
use crate::money::parse_amount;
use crate::pricing::{Catalog, PriceSource};
use crate::service::active_tags::{self, TagChange};
use crate::service::record::{self, LogRequest, Priced};
use crate::store::Store;
use crate::timestamp::Timestamp;
use clap::Args;
use uuid::Uuid;

#[derive(Args, Debug)]
pub struct LogArgs {
    /// Model / endpoint id, e.g. fal-ai/flux/dev
    #[arg(long)]
    model: String,
    /// Estimated cost; without it (and without --actual) the entry is unpriced
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    cost: Option<String>,
    /// Cost already confirmed by the provider (tier billed)
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    actual: Option<String>,
    /// Currency of --cost and --actual (ISO 4217)
    #[arg(long, default_value = "USD", value_name = "CODE")]
    currency: String,
    /// Client to bill (default: the active client, see `gencost use`)
    #[arg(long)]
    client: Option<String>,
    /// Project (default: the active project)
    #[arg(long)]
    project: Option<String>,
    /// Deliverable, e.g. Hero Film (default: the active deliverable)
    #[arg(long)]
    deliverable: Option<String>,
    /// Free text, e.g. the prompt or what the output was for
    #[arg(long)]
    description: Option<String>,
    /// Run time, e.g. 3.2s, 1500ms, 1m30s
    #[arg(long)]
    duration: Option<String>,
    /// Generation parameter key=value (repeatable)
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// Provider request id; a second log with the same source and id adds nothing
    #[arg(long)]
    request_id: Option<String>,
    /// Who was paid: fal.ai (the default), Midjourney, ElevenLabs, ...
    #[arg(long)]
    source: Option<String>,
    /// succeeded (the default), failed, cancelled, or pending (a run under
    /// way, counted at its estimate)
    #[arg(long)]
    status: Option<String>,
    /// generation (the default) or external
    #[arg(long)]
    kind: Option<String>,
    /// When it happened: RFC 3339, or a date (a UTC day); default now
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Log a large --cost or --actual (10,000 USD or more at the day's
    /// rate, or over 100 × the catalog's estimate), refused without it
    #[arg(long)]
    yes: bool,
    /// Print JSON: {"id","existing"}
    #[arg(long)]
    json: bool,
}

pub async fn log<S: Store>(
    store: &S,
    catalog: &Catalog,
    args: LogArgs,
    out: Out<'_>,
) -> Result<Exit> {
    let currency = parse_currency("--currency", &args.currency)?;
    let estimate = args
        .cost
        .as_deref()
        .map(|c| parse_money("--cost", c, currency))
        .transpose()?;
    let actual = args
        .actual
        .as_deref()
        .map(|c| parse_money("--actual", c, currency))
        .transpose()?;
    let kind = match args.kind.as_deref() {
        Some(text) => parse_kind(text)?,
        None => record::DEFAULT_KIND,
    };
    let status: Status = match args.status.as_deref() {
        Some(text) => text
            .parse()
            .map_err(|e: String| Error::input(format!("--status: {e}")))?,
        None => record::DEFAULT_STATUS,
    };
    let occurred_at = args
        .at
        .as_deref()
        .map(|t| Timestamp::parse_time_or_date(t).map_err(|e| Error::input(format!("--at: {e}"))))
        .transpose()?;
    let duration_ms = args
        .duration
        .as_deref()
        .map(parse_duration_ms)
        .transpose()?;
    let params = parse_params(&args.params)?;
    let tags = active_tags::for_log(Tags {
        client: args.client,
        project: args.project,
        deliverable: args.deliverable,
    })?;
    let request = LogRequest {
        kind,
        occurred_at,
        source: args.source.unwrap_or_else(|| record::DEFAULT_SOURCE.into()),
        model: Some(args.model),
        description: args.description,
        tags,
        request_id: args.request_id,
        status,
        duration_ms,
        params,
        estimate,
        actual,
        check_large: !args.yes,
        hold: true,
    };
    let logged = record::log(store, catalog, request)
        .await
        .map_err(confirm_hint)?;
    for r in &logged.respelled {
        eprintln!(
            "note: {} '{}' logged as '{}', the spelling already in the ledger",
            r.field, r.given, r.logged_as
        );
    }
    for w in &logged.warnings {
        eprintln!("warning: {}", w.message);
    }
    for alert in &logged.alerts {
        eprintln!("warning: {}", alert.message());
    }
    if let Some(priced) = &logged.priced {
        eprintln!("{}", pricing_note(priced));
    }
    if logged.existing {
        eprintln!(
            "already logged: this source and request id are held by entry {}; nothing added",
            logged.id
        );
    }
    if args.json {
        return write_json(
            out,
            &LoggedJson {
                id: logged.id.to_string(),
                existing: logged.existing,
            },
        );
    }
    write_text(out, &format!("{}\n", logged.id))
}

/// `log --json`: the entry's id and whether it was already logged.
#[derive(serde::Serialize)]
struct LoggedJson {
    id: String,
    existing: bool,
}

/// How the service priced a logged generation, in one line.
fn pricing_note(priced: &Priced) -> String {
    match priced {
        Priced::Estimated {
            explanation,
            price_version,
            stale,
            price_source,
            ..
        } => {
            let stale = if *stale {
                format!(" (stale: price verified {price_version}, over 90 days ago)")
            } else {
                String::new()
            };
            let reported = if *price_source == PriceSource::Reported {
                " (price reported by a third party, not read on fal.ai)"
            } else {
                ""
            };
            format!("estimated: {explanation}{stale}{reported}")
        }
        Priced::Historical { money, from } => {
            format!("historical: {money}, the median of {from} confirmed costs of this model")
        }
        Priced::Unpriced { why } => {
            format!("unpriced: {why}; logged with no price (never as zero)")
        }
    }
}

#[derive(Args, Debug)]
pub struct ConfirmArgs {
    /// Entry id, or the provider request id
    target: String,
    /// The confirmed cost
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    actual: String,
    /// Currency of the actual; default: the currency of the estimate
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Which source's request id, when several sources share it
    #[arg(long)]
    source: Option<String>,
    /// Record a large actual (10,000 USD or more at the entry's day's
    /// rate, or over 100 × the catalog's estimate), refused without it
    #[arg(long)]
    yes: bool,
    /// Print JSON: {"id","actual":{"amount","currency"},"replaced"}
    #[arg(long)]
    json: bool,
}

/// A large amount refused by the service, with how to confirm it here.
fn confirm_hint(e: Error) -> Error {
    match e {
        Error::Unconfirmed { field, message } => {
            let flag = if field == "amount" { "actual" } else { field };
            Error::Input(format!("--{flag}: {message}; give --yes to confirm it"))
        }
        other => other,
    }
}

/// `confirm --json`.
#[derive(serde::Serialize)]
struct ConfirmedJson {
    id: String,
    actual: crate::money::Money,
    replaced: Option<crate::money::Money>,
}

/// `void --json`.
#[derive(serde::Serialize)]
struct VoidedJson {
    id: String,
    void: bool,
    reason: String,
}

pub async fn confirm<S: Store>(
    store: &S,
    catalog: &Catalog,
    args: ConfirmArgs,
    out: Out<'_>,
) -> Result<Exit> {
    let currency = args
        .currency
        .as_deref()
        .map(|code| parse_currency("--currency", code))
        .transpose()?;
    let micros = parse_amount(&args.actual).map_err(|e| Error::input(format!("--actual: {e}")))?;
    let (id, confirmed) = record::confirm_target(
        store,
        catalog,
        &args.target,
        args.source.as_deref(),
        micros,
        currency,
        !args.yes,
    )
    .await
    .map_err(confirm_hint)?;
    for alert in &confirmed.alerts {
        eprintln!("warning: {}", alert.message());
    }
    let (actual, replaced) = (confirmed.actual, confirmed.replaced);
    if args.json {
        return write_json(
            out,
            &ConfirmedJson {
                id: id.to_string(),
                actual,
                replaced,
            },
        );
    }
    let mut text = format!("{id}: actual {actual} confirmed\n");
    if let Some(previous) = replaced {
        text.push_str(&format!("(replaces the earlier actual {previous})\n"));
    }
    write_text(out, &text)
}

#[derive(Args, Debug)]
pub struct VoidArgs {
    /// Entry id
    entry: String,
    /// Why the entry no longer counts (with --undo: why it counts again)
    #[arg(long)]
    reason: String,
    /// Restore a void entry: it counts in totals again, and the void and its
    /// undoing both stay on record (not for a pool's share: a pool is
    /// voided as a whole)
    #[arg(long)]
    undo: bool,
    /// Print JSON: {"id","void","reason"}
    #[arg(long)]
    json: bool,
}

pub async fn void<S: Store>(store: &S, args: VoidArgs, out: Out<'_>) -> Result<Exit> {
    let id = Uuid::parse_str(args.entry.trim())
        .map_err(|_| Error::input(format!("'{}' is not an entry id", args.entry)))?;
    if args.undo {
        record::restore(store, id, &args.reason).await?;
    } else {
        record::void(store, id, &args.reason).await?;
    }
    if args.json {
        return write_json(
            out,
            &VoidedJson {
                id: id.to_string(),
                void: !args.undo,
                reason: args.reason.trim().to_string(),
            },
        );
    }
    let done = if args.undo { "restored" } else { "void" };
    write_text(out, &format!("{id}: {done} ({})\n", args.reason.trim()))
}

#[derive(Args, Debug)]
pub struct UseArgs {
    /// Client for the next logs; a new client clears project and deliverable
    #[arg(long)]
    client: Option<String>,
    /// Project for the next logs; a new project clears the deliverable
    #[arg(long)]
    project: Option<String>,
    /// Deliverable for the next logs
    #[arg(long)]
    deliverable: Option<String>,
    /// Forget the active tags
    #[arg(long, conflicts_with_all = ["client", "project", "deliverable"])]
    clear: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

/// Shows or changes this user's active tags (see `service::active_tags`).
pub fn use_tags(args: UseArgs, out: Out<'_>) -> Result<Exit> {
    let tags = if args.clear {
        active_tags::clear()?
    } else if args.client.is_some() || args.project.is_some() || args.deliverable.is_some() {
        active_tags::change(TagChange {
            client: args.client,
            project: args.project,
            deliverable: args.deliverable,
        })?
    } else {
        active_tags::active()?
    };
    if args.json {
        return write_json(out, &tags);
    }
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    write_text(
        out,
        &format!(
            "client       {}\nproject      {}\ndeliverable  {}\n",
            show(&tags.client),
            show(&tags.project),
            show(&tags.deliverable)
        ),
    )
}

#[derive(Args, Debug)]
pub struct RetagArgs {
    /// Entry id
    entry: String,
    /// New client (an empty value clears it)
    #[arg(long)]
    client: Option<String>,
    /// New project (an empty value clears it)
    #[arg(long)]
    project: Option<String>,
    /// New deliverable (an empty value clears it)
    #[arg(long)]
    deliverable: Option<String>,
    /// Print the entry as JSON
    #[arg(long)]
    json: bool,
}

/// Changes an entry's tags by an event; tags not named stay as they are.
pub async fn retag<S: Store>(store: &S, args: RetagArgs, out: Out<'_>) -> Result<Exit> {
    let id = Uuid::parse_str(args.entry.trim())
        .map_err(|_| Error::input(format!("'{}' is not an entry id", args.entry)))?;
    if args.client.is_none() && args.project.is_none() && args.deliverable.is_none() {
        return Err(Error::input(
            "give at least one of --client, --project, --deliverable",
        ));
    }
    let change = record::Retag {
        client: args.client,
        project: args.project,
        deliverable: args.deliverable,
    };
    let (entry, respelled) = record::retag(store, id, change).await?;
    for r in &respelled {
        eprintln!(
            "note: {} '{}' tagged as '{}', the spelling already in the ledger",
            r.field, r.given, r.logged_as
        );
    }
    if args.json {
        let json = crate::wire::EntryJson::new(entry, None)
            .map_err(|e| Error::Io(format!("an entry's parameters are not JSON: {e}")))?;
        return write_json(out, &json);
    }
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    write_text(
        out,
        &format!(
            "{id}: client {} · project {} · deliverable {}\n",
            show(&entry.tags.client),
            show(&entry.tags.project),
            show(&entry.tags.deliverable)
        ),
    )
}
