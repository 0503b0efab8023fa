//! `serve`: the billing panel and the JSON API on one address.

use super::{Exit, Out};
use crate::error::{Error, Result};
use crate::pricing::Catalog;
use crate::server::{self, ServeOptions};
use crate::store::SqlStore;
use clap::Args;
use std::net::SocketAddr;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on; 127.0.0.1:0 picks a free port (the first line
    /// printed names the address bound)
    #[arg(long, default_value = "127.0.0.1:7878", value_name = "HOST:PORT")]
    addr: String,
    /// Bearer token every API call must carry (needed on a non-loopback
    /// address); the panel asks for it once. A flag's value is visible to
    /// other users of this machine (in `ps`): prefer --token-file or the
    /// GENCOST_TOKEN variable
    #[arg(long, env = "GENCOST_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Read the bearer token from this file (its first line), so it never
    /// shows in the process list
    #[arg(long, value_name = "FILE", conflicts_with = "token")]
    token_file: Option<std::path::PathBuf>,
    /// Another host name the server answers to, besides its address,
    /// localhost and 127.0.0.1 (repeatable)
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// A web page origin allowed to call the API from a browser, e.g.
    /// http://localhost:3000 (repeatable)
    #[arg(long = "allow-origin", value_name = "URL")]
    allow_origins: Vec<String>,
    #[command(flatten)]
    upstream: super::fal::UpstreamArgs,
    #[command(flatten)]
    feed_upstreams: super::fal::FeedUpstreamArgs,
    /// Do not fetch ECB's daily exchange rates in the background (by
    /// default the server fetches them at start and once a day; also
    /// GENCOST_RATE_UPDATES=0)
    #[arg(long)]
    no_rate_updates: bool,
    /// Read NAME=value lines (provider keys such as FAL_KEY) into the
    /// environment first; the file must be readable by its owner only.
    /// `gencost service install` points the service at one
    #[arg(long, value_name = "FILE")]
    env_file: Option<std::path::PathBuf>,
    /// Sign a checkpoint of the ledger at start and then this often when it
    /// changed (e.g. 1h), into checkpoints/ in the data directory
    #[arg(long, value_name = "PERIOD")]
    checkpoint_every: Option<String>,
}

impl ServeArgs {
    pub fn env_file(&self) -> Option<&std::path::Path> {
        self.env_file.as_deref()
    }
}

/// Where the background rate updates fetch from, or `None` when they are
/// off (`--no-rate-updates`, or GENCOST_RATE_UPDATES=0); GENCOST_ECB_URL
/// points them elsewhere (a mirror, or a test's server).
fn rate_updates(off: bool) -> Result<Option<String>> {
    let on = match std::env::var("GENCOST_RATE_UPDATES")
        .ok()
        .as_deref()
        .map(str::trim)
    {
        None | Some("" | "1" | "true" | "on" | "yes") => true,
        Some("0" | "false" | "off" | "no") => false,
        Some(other) => {
            return Err(Error::input(format!(
                "GENCOST_RATE_UPDATES: '{other}' is not 0 or 1"
            )))
        }
    };
    if off || !on {
        return Ok(None);
    }
    Ok(Some(
        std::env::var("GENCOST_ECB_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| crate::service::rates::ECB_DAILY_URL.to_string()),
    ))
}

pub async fn run(store: SqlStore, catalog: Catalog, args: ServeArgs, out: Out<'_>) -> Result<Exit> {
    // `localhost:PORT` means the IPv4 loopback, where the default listens.
    let text = args.addr.trim();
    let text = match text.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => text.to_string(),
    };
    let addr: SocketAddr = text.parse().map_err(|_| {
        Error::input(format!(
            "--addr: '{}' is not HOST:PORT with an IP address, e.g. 127.0.0.1:7878",
            args.addr
        ))
    })?;
    for origin in &args.allow_origins {
        if !(origin.starts_with("http://") || origin.starts_with("https://")) {
            return Err(Error::input(format!(
                "--allow-origin: '{origin}' is not an origin such as http://localhost:3000"
            )));
        }
    }
    let token = match &args.token_file {
        Some(path) => Some(read_token(path)?),
        None => args.token.filter(|t| !t.is_empty()),
    };
    let fal_upstream = args.upstream.url()?;
    let options = ServeOptions {
        addr,
        token,
        allow_hosts: args.allow_hosts,
        allow_origins: args.allow_origins,
        // The key only ever comes from the environment, never a flag that
        // would show in the process list.
        fal_key: std::env::var(crate::service::fal::api::KEY_VARIABLE).ok(),
        fal_upstream,
        feeds: feed_settings(&args.feed_upstreams)?,
        rate_updates: rate_updates(args.no_rate_updates)?,
        checkpoints: match &args.checkpoint_every {
            Some(period) => Some((
                crate::service::checkpoint::parse_period(period)?,
                crate::service::checkpoint::default_folder()?,
            )),
            None => None,
        },
    };
    server::serve(store, catalog, options, out).await?;
    Ok(Exit::Success)
}

/// Each feed's key, from its provider's environment variable (never a
/// flag), and its upstream.
fn feed_settings(
    upstreams: &super::fal::FeedUpstreamArgs,
) -> Result<std::collections::HashMap<&'static str, server::FeedSettings>> {
    crate::service::providers::FEEDS
        .iter()
        .map(|feed| {
            let settings = server::FeedSettings {
                key: std::env::var(feed.provider.key_variable()).ok(),
                upstream: upstreams.url(feed.name)?,
            };
            Ok((feed.name, settings))
        })
        .collect()
}

/// The token in `path`: its first line, trimmed; an empty one is refused.
fn read_token(path: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(format!("--token-file {}: {e}", path.display())))?;
    let token = text.lines().next().unwrap_or("").trim();
    if token.is_empty() {
        return Err(Error::input(format!(
            "--token-file {}: the file holds no token",
            path.display()
        )));
    }
    Ok(token.to_string())
}
