//! `reconcile` and `pricing sync`: settling fal runs later and keeping
//! fal's unit prices fresh, with the key from `FAL_KEY`.

use super::{write_json, write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::pricing::Catalog;
use crate::service::fal::reconcile::{reconcile as reconcile_runs, ReconcileOptions};
use crate::service::fal::sync;
use crate::store::SqlStore;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Where fal's hosts really are: for tests and air-gapped use.
#[derive(Args, Debug, Clone)]
pub struct UpstreamArgs {
    /// Send fal requests here instead of fal.ai (scheme, host and port
    /// replaced; the real host goes in x-forwarded-host)
    #[arg(long, env = "GENCOST_FAL_UPSTREAM", value_name = "URL")]
    pub fal_upstream: Option<String>,
}

impl UpstreamArgs {
    /// The upstream, if set: `https://` anywhere, or `http://` only to this
    /// machine (the key travels with every request). Says on stderr where
    /// fal requests will go, so a stray environment variable is seen.
    pub fn url(&self) -> Result<Option<reqwest::Url>> {
        upstream_url("--fal-upstream", "fal.ai", self.fal_upstream.as_deref())
    }
}

/// Where the other providers' hosts really are: for tests and air-gapped
/// use, under the rule of `--fal-upstream`.
#[derive(Args, Debug, Clone, Default)]
pub struct FeedUpstreamArgs {
    /// Send OpenAI requests here instead of api.openai.com
    #[arg(long, env = "GENCOST_OPENAI_UPSTREAM", value_name = "URL")]
    pub openai_upstream: Option<String>,
    /// Send Replicate requests here instead of api.replicate.com
    #[arg(long, env = "GENCOST_REPLICATE_UPSTREAM", value_name = "URL")]
    pub replicate_upstream: Option<String>,
    /// Send Runway requests here instead of api.dev.runwayml.com
    #[arg(long, env = "GENCOST_RUNWAY_UPSTREAM", value_name = "URL")]
    pub runway_upstream: Option<String>,
    /// Send ElevenLabs requests here instead of api.elevenlabs.io
    #[arg(long, env = "GENCOST_ELEVENLABS_UPSTREAM", value_name = "URL")]
    pub elevenlabs_upstream: Option<String>,
}

impl FeedUpstreamArgs {
    /// The upstream of the feed `name` (`openai` ...), checked.
    pub fn url(&self, name: &str) -> Result<Option<reqwest::Url>> {
        let (given, source) = match name {
            "openai" => (&self.openai_upstream, "OpenAI"),
            "replicate" => (&self.replicate_upstream, "Replicate"),
            "runway" => (&self.runway_upstream, "Runway"),
            "elevenlabs" => (&self.elevenlabs_upstream, "ElevenLabs"),
            _ => return Ok(None),
        };
        upstream_url(&format!("--{name}-upstream"), source, given.as_deref())
    }
}

/// An upstream URL given to `flag`, if any: `https://` anywhere, or
/// `http://` only to this machine (the key travels with every request).
/// Says on stderr where the provider's requests will go, so a stray
/// environment variable is seen.
fn upstream_url(flag: &str, provider: &str, text: Option<&str>) -> Result<Option<reqwest::Url>> {
    let Some(text) = text else {
        return Ok(None);
    };
    let url = reqwest::Url::parse(text.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| {
            Error::input(format!(
                "{flag}: '{text}' is not a URL such as https://proxy.example or http://127.0.0.1:8080"
            ))
        })?;
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(Error::input(format!(
            "{flag}: '{text}' would send the {provider} key over plain http to another machine; \
             use https://, or http:// only to 127.0.0.1, [::1] or localhost"
        )));
    }
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    eprintln!(
        "{provider} requests (and the {provider} key) go to {shown}, not to {provider} ({flag})"
    );
    Ok(Some(url))
}

/// The providers whose runs can be read again later (Replicate, Runway),
/// each with its API: its key from its variable, its upstream.
fn asked_later_feeds(
    upstreams: &FeedUpstreamArgs,
) -> Result<
    Vec<(
        &'static crate::service::providers::Feed,
        crate::service::provider_api::ProviderApi,
    )>,
> {
    crate::service::providers::FEEDS
        .iter()
        .filter(|feed| feed.provider.status_path("id").is_some() || feed.name == "runway")
        .map(|feed| {
            let api = crate::service::provider_api::ProviderApi::from_env(
                feed.provider,
                upstreams.url(feed.name)?,
            )?;
            Ok((feed, api))
        })
        .collect()
}

/// Whether `url` names this machine: `localhost`, 127.0.0.0/8 or [::1].
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[derive(Args, Debug)]
pub struct ReconcileArgs {
    /// Only runs logged on or after this day or time
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Also read fal's billing records (needs an admin key): they include
    /// account discounts and settle streamed runs and reported zeros
    #[arg(long)]
    billing_events: bool,
    /// Results fetched at once
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Report runs still pending (holds) logged more than this many hours ago
    #[arg(long, value_name = "HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..))]
    holds_older_than: u32,
    /// Compare Runway's daily credits by model (its organization usage)
    /// with the Runway runs logged, since --since (default: 30 days)
    #[arg(long)]
    runway_usage: bool,
    #[command(flatten)]
    upstream: UpstreamArgs,
    #[command(flatten)]
    feed_upstreams: FeedUpstreamArgs,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Only these endpoint ids (comma-separated or repeated); default: the
    /// catalog's and every endpoint in the ledger
    #[arg(long, value_delimiter = ',', value_name = "ENDPOINT")]
    models: Vec<String>,
    #[command(flatten)]
    upstream: UpstreamArgs,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

pub async fn reconcile(
    store: &SqlStore,
    catalog: &Catalog,
    args: ReconcileArgs,
    out: Out<'_>,
) -> Result<Exit> {
    let since = args
        .since
        .as_deref()
        .map(|t| super::args::parse_time_flag("--since", t))
        .transpose()?;
    // fal is read when its key is set, or when no provider's is (to say
    // which key is missing); Replicate and Runway when theirs are.
    let feeds = asked_later_feeds(&args.feed_upstreams)?;
    let fal_upstream = args.upstream.url()?;
    let fal_key = std::env::var_os(crate::service::fal::api::KEY_VARIABLE).is_some();
    if !fal_key && feeds.iter().all(|(_, api)| !api.has_key()) {
        return Err(Error::Unavailable(format!(
            "no provider key: set {} (fal.ai), {} to read runs again",
            crate::service::fal::api::KEY_VARIABLE,
            feeds
                .iter()
                .map(|(feed, _)| format!(
                    "{} ({})",
                    feed.provider.key_variable(),
                    feed.provider.source()
                ))
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    let summary = if fal_key {
        let api = crate::service::fal::api::from_env(fal_upstream)?;
        let bar = progress_bar();
        let progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        let options = ReconcileOptions {
            since,
            billing_events: args.billing_events,
            concurrency: usize::from(args.concurrency),
        };
        let summary = reconcile_runs(store, catalog, &api, options, &progress).await;
        bar.finish_and_clear();
        Some(summary?)
    } else {
        None
    };
    let mut providers = Vec::new();
    for (feed, api) in &feeds {
        let open = crate::service::providers::reconcile::open_runs(store, feed, since).await?;
        if open.is_empty() {
            continue;
        }
        if !api.has_key() {
            providers.push(crate::service::providers::reconcile::FeedSummary {
                source: feed.provider.source().into(),
                open: open.len() as u64,
                failed: open.len() as u64,
                failures: vec![format!(
                    "not read: set {} to read them",
                    feed.provider.key_variable()
                )],
                ..Default::default()
            });
            continue;
        }
        providers.push(
            crate::service::providers::reconcile::reconcile(
                store,
                catalog,
                feed,
                api,
                since,
                usize::from(args.concurrency),
            )
            .await?,
        );
    }
    let usage = if args.runway_usage {
        let (feed, api) = feeds
            .iter()
            .find(|(feed, _)| feed.name == "runway")
            .ok_or_else(|| Error::Io("no Runway feed".into()))?;
        Some(crate::service::providers::usage::compare(store, feed, api, since).await?)
    } else {
        None
    };
    let cutoff = crate::timestamp::Timestamp(
        crate::timestamp::Timestamp::now().0 - i64::from(args.holds_older_than) * 3_600_000_000,
    );
    let holds = crate::store::Store::open_holds(store, cutoff, 1000).await?;
    let failed =
        summary.as_ref().map_or(0, |s| s.failed) + providers.iter().map(|p| p.failed).sum::<u64>();
    if args.json {
        let mut json = match &summary {
            Some(summary) => {
                serde_json::to_value(summary).map_err(|e| crate::error::Error::Io(e.to_string()))?
            }
            None => serde_json::json!({}),
        };
        json["providers"] =
            serde_json::to_value(&providers).map_err(|e| crate::error::Error::Io(e.to_string()))?;
        if let Some(usage) = &usage {
            json["runway_usage"] =
                serde_json::to_value(usage).map_err(|e| crate::error::Error::Io(e.to_string()))?;
        }
        json["old_holds"] = serde_json::Value::Array(
            holds
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "id": e.id, "source": e.source, "model": e.model,
                        "occurred_at": e.occurred_at.to_string(), "request_id": e.request_id,
                    })
                })
                .collect(),
        );
        return write_json(out, &json);
    }
    let mut text = String::new();
    if let Some(summary) = &summary {
        text.push_str(&format!(
            "{} open fal runs: {} confirmed, {} still open, {} could not be read\n",
            summary.open, summary.confirmed, summary.still_open, summary.failed
        ));
        for (currency, change) in &summary.change {
            text.push_str(&format!(
                "confirmed costs minus their estimates: {change} {currency}\n"
            ));
        }
        for failure in &summary.failures {
            text.push_str(&format!("  {failure}\n"));
        }
    }
    for feed in &providers {
        text.push_str(&format!(
            "{} open {} runs: {} settled, {} still open, {} could not be read\n",
            feed.open, feed.source, feed.settled, feed.still_open, feed.failed
        ));
        for failure in &feed.failures {
            text.push_str(&format!("  {failure}\n"));
        }
    }
    if let Some(usage) = &usage {
        text.push_str(&usage.text());
    }
    if !holds.is_empty() {
        text.push_str(&format!(
            "{} runs still pending after {} h, their estimates held against budgets \
             (settle them with gencost confirm, or void them):\n",
            holds.len(),
            args.holds_older_than
        ));
        for hold in &holds {
            text.push_str(&format!(
                "  {} {} {} {}\n",
                hold.id,
                hold.occurred_at,
                hold.source,
                hold.request_id.as_deref().unwrap_or("(no request id)")
            ));
        }
    }
    write_text(out, &text)?;
    Ok(if failed > 0 {
        Exit::Failed
    } else {
        Exit::Success
    })
}

pub async fn pricing_sync(
    store: &SqlStore,
    catalog: &Catalog,
    args: SyncArgs,
    out: Out<'_>,
) -> Result<Exit> {
    let api = crate::service::fal::api::from_env(args.upstream.url()?)?;
    let endpoints = sync::endpoints(store, catalog, &args.models).await?;
    let summary = sync::sync(store, &api, &endpoints).await?;
    if args.json {
        return write_json(out, &summary);
    }
    let mut text = format!(
        "{} endpoints asked: {} prices new, {} changed, {} unchanged; {} without a price from fal\n",
        summary.asked,
        summary.stored.added,
        summary.stored.changed,
        summary.stored.unchanged,
        summary.missing.len()
    );
    for change in &summary.changes {
        text.push_str(&format!(
            "  {}: {} -> {}\n",
            change.endpoint,
            change.before.as_deref().unwrap_or("(none)"),
            change.now
        ));
    }
    for note in &summary.rounded {
        text.push_str(&format!("  {note}\n"));
    }
    write_text(out, &text)?;
    Ok(Exit::Success)
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {eta}") {
        bar.set_style(style);
    }
    bar
}
