//! `log`, `confirm`, `void` and `use`: recording costs from the terminal.

use super::args::{parse_currency, parse_duration_ms, parse_kind, parse_money, parse_param};
use super::{json_line, Outcome};
use crate::config;
use crate::error::{Error, Result};
use crate::ledger::{Status, Tags, Tier};
use crate::pricing::Catalog;
use crate::service::record::{self, LogRequest, Priced};
use crate::store::Store;
use crate::timestamp::Timestamp;
use clap::Args;
use serde_json::json;
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
    #[arg(long)]
    client: Option<String>,
    #[arg(long)]
    project: Option<String>,
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
    #[arg(long, default_value = "fal.ai")]
    source: String,
    /// succeeded, failed or cancelled
    #[arg(long, default_value = "succeeded")]
    status: String,
    /// generation or external
    #[arg(long, default_value = "generation")]
    kind: String,
    /// When it happened (RFC 3339); default now
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Print JSON: {"id","existing"}
    #[arg(long)]
    json: bool,
}

pub async fn log<S: Store>(store: &S, catalog: &Catalog, args: LogArgs) -> Result<Outcome> {
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
    if estimate.into_iter().chain(actual).any(|m| m.micros < 0) {
        return Err(Error::input("a generation cost cannot be negative"));
    }
    let kind = parse_kind(&args.kind)?;
    if kind == crate::ledger::Kind::Pool {
        return Err(Error::input(
            "--kind: log records generation or external costs; a pool cost is split across projects, not logged",
        ));
    }
    let status: Status = args
        .status
        .parse()
        .map_err(|e: String| Error::input(format!("--status: {e}")))?;
    let occurred_at = args
        .at
        .as_deref()
        .map(|t| Timestamp::parse_rfc3339(t).map_err(|e| Error::input(format!("--at: {e}"))))
        .transpose()?;
    let duration_ms = args
        .duration
        .as_deref()
        .map(parse_duration_ms)
        .transpose()?;
    let mut params = serde_json::Map::new();
    for p in &args.params {
        let (key, value) = parse_param(p)?;
        params.insert(key, value);
    }
    let given = Tags {
        client: args.client,
        project: args.project,
        deliverable: args.deliverable,
    };
    let tags = if given.is_empty() {
        config::load_active_tags()?
    } else {
        given
    };
    let mut request = LogRequest {
        kind,
        occurred_at,
        source: args.source,
        model: Some(args.model),
        description: args.description,
        tags,
        request_id: args.request_id,
        status,
        duration_ms,
        params,
        estimate,
        actual,
        estimate_tier: None,
        price_version: None,
        license: None,
    };
    // The license as the catalog states it today is kept with the entry;
    // without a given cost, the catalog (or history) prices the generation.
    if let Some(model) = request.model.as_deref() {
        request.license = catalog.get(model).map(|m| m.license.label());
    }
    if kind == crate::ledger::Kind::Generation && request.estimate.is_none() {
        let priced =
            record::price_generation(store, catalog, request.model.as_deref(), &request.params)
                .await?;
        apply_price(&mut request, priced);
    }
    let logged = record::log(store, request).await?;
    for (field, given, existing) in &logged.respelled {
        eprintln!(
            "note: {field} '{given}' logged as '{existing}', the spelling already in the ledger"
        );
    }
    if logged.existing {
        eprintln!(
            "already logged: this source and request id are held by entry {}; nothing added",
            logged.id
        );
    }
    if args.json {
        return Ok(Outcome::ok(json_line(
            &json!({"id": logged.id.to_string(), "existing": logged.existing}),
        )));
    }
    Ok(Outcome::ok(format!("{}\n", logged.id)))
}

/// Fills in the estimate a generation is logged with, and says how it was made.
fn apply_price(request: &mut LogRequest, priced: Priced) {
    match priced {
        Priced::Estimated {
            money,
            explanation,
            price_version,
            stale,
        } => {
            let stale = if stale {
                format!(" (stale: price verified {price_version}, over 90 days ago)")
            } else {
                String::new()
            };
            eprintln!("estimated: {explanation}{stale}");
            request.estimate = Some(money);
            request.estimate_tier = Some(Tier::Estimated);
            request.price_version = Some(price_version);
        }
        Priced::Historical { money, from } => {
            eprintln!("historical: {money}, the median of {from} confirmed costs of this model");
            request.estimate = Some(money);
            request.estimate_tier = Some(Tier::Historical);
        }
        Priced::Unpriced { why } => {
            eprintln!("unpriced: {why}; logged with no price (never as zero)");
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
}

pub async fn confirm<S: Store>(store: &S, args: ConfirmArgs) -> Result<Outcome> {
    let entry = record::resolve_entry(store, &args.target, args.source.as_deref()).await?;
    let id = entry.id;
    let currency = match args.currency.as_deref() {
        Some(code) => parse_currency("--currency", code)?,
        None => entry.estimate.currency,
    };
    let actual = parse_money("--actual", &args.actual, currency)?;
    let replaced = record::confirm(store, id, actual).await?;
    let mut out = format!("{id}: actual {actual} confirmed\n");
    if let Some(previous) = replaced {
        out.push_str(&format!("(replaces the earlier actual {previous})\n"));
    }
    Ok(Outcome::ok(out))
}

#[derive(Args, Debug)]
pub struct VoidArgs {
    /// Entry id
    entry: String,
    /// Why the entry no longer counts
    #[arg(long)]
    reason: String,
}

pub async fn void<S: Store>(store: &S, args: VoidArgs) -> Result<Outcome> {
    let id = Uuid::parse_str(args.entry.trim())
        .map_err(|_| Error::input(format!("'{}' is not an entry id", args.entry)))?;
    record::void(store, id, &args.reason).await?;
    Ok(Outcome::ok(format!(
        "{id}: void ({})\n",
        args.reason.trim()
    )))
}

#[derive(Args, Debug)]
pub struct UseArgs {
    #[arg(long)]
    client: Option<String>,
    #[arg(long)]
    project: Option<String>,
    #[arg(long)]
    deliverable: Option<String>,
    /// Forget the active tags
    #[arg(long, conflicts_with_all = ["client", "project", "deliverable"])]
    clear: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

/// Active tags live in this user's config directory, not in the ledger: on a
/// shared ledger each editor works on their own project.
pub fn use_tags(args: UseArgs) -> Result<Outcome> {
    use crate::ledger::tags::normalize;
    let mut tags = config::load_active_tags()?;
    if args.clear {
        tags = Tags::default();
        config::save_active_tags(&tags)?;
    } else if args.client.is_some() || args.project.is_some() || args.deliverable.is_some() {
        // Setting a tag keeps the others; an empty value ("") clears that one.
        for (value, slot) in [
            (args.client, &mut tags.client),
            (args.project, &mut tags.project),
            (args.deliverable, &mut tags.deliverable),
        ] {
            if let Some(value) = value {
                *slot = normalize(&value);
            }
        }
        config::save_active_tags(&tags)?;
    }
    if args.json {
        return Ok(Outcome::ok(json_line(&tags)));
    }
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    Ok(Outcome::ok(format!(
        "client       {}\nproject      {}\ndeliverable  {}\n",
        show(&tags.client),
        show(&tags.project),
        show(&tags.deliverable)
    )))
}
