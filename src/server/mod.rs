//! `gencost serve`: the billing panel and the JSON API over one ledger.
//! Handlers read their input, call a service function and return its typed
//! result; `guard` decides who may ask, `events` tells the panel when the
//! ledger changed.

pub mod api;
mod batch;
mod budgets;
mod error;
mod events;
mod extract;
mod files;
mod guard;
mod heavy;
mod invoices;
mod openapi;
mod panel;
mod proxy;

pub use error::ApiError;

use crate::error::{Error, Result};
use crate::pricing::Catalog;
use crate::service::provider_api::ProviderApi;
use crate::service::providers::FEEDS;
use crate::store::SqlStore;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{any, get, patch, post};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// How `serve` was asked to run.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub token: Option<String>,
    pub allow_hosts: Vec<String>,
    pub allow_origins: Vec<String>,
    /// The key the fal proxy adds (`FAL_KEY`).
    pub fal_key: Option<String>,
    /// Where the fal proxy really sends requests (`--fal-upstream`).
    pub fal_upstream: Option<reqwest::Url>,
    /// Each feed's key (from its environment variable) and upstream
    /// (`--openai-upstream` ...), by feed name.
    pub feeds: std::collections::HashMap<&'static str, FeedSettings>,
    /// Where to fetch ECB's daily rates from once a day; `None`: never.
    pub rate_updates: Option<String>,
    /// `--checkpoint-every`: how often, and the folder checkpoints go to.
    pub checkpoints: Option<(std::time::Duration, std::path::PathBuf)>,
}

/// A feed's key and where its requests really go.
#[derive(Clone, Debug, Default)]
pub struct FeedSettings {
    pub key: Option<String>,
    pub upstream: Option<reqwest::Url>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<SqlStore>,
    pub catalog: Arc<Catalog>,
    logs: Arc<batch::LogBatcher>,
    fal: Arc<crate::service::fal::api::FalApi>,
    feeds: Arc<std::collections::HashMap<&'static str, Arc<ProviderApi>>>,
    changes: Arc<events::Changes>,
    access: Arc<guard::Access>,
    heavy: Arc<heavy::HeavyPages>,
    /// Turns true when the server begins to shut down (ends event streams).
    shutdown: watch::Receiver<bool>,
}

/// The whole application: API, panel and their guard.
fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/entries", get(api::list).post(api::log))
        .route("/entries/{id}", get(api::get_entry))
        .route("/entries/{id}/actual", post(api::confirm))
        .route("/entries/{id}/void", post(api::void))
        .route("/entries/{id}/restore", post(api::restore))
        .route("/entries/{id}/history", get(api::history))
        .route("/entries/{id}/tags", patch(api::retag))
        .route("/totals", get(api::totals))
        .route("/accuracy", get(api::accuracy))
        .route("/tags/{kind}", get(api::tags))
        .route("/estimate", get(api::estimate))
        .route("/pricing/models", get(api::models))
        .route("/pricing/reprice", post(invoices::reprice))
        .route(
            "/active-tags",
            get(api::active_tags).put(api::set_active_tags),
        )
        .route("/export.csv", get(files::export_csv))
        .route("/export.xlsx", get(files::export_xlsx))
        .route("/report.html", get(files::report_html))
        .route(
            "/import",
            post(files::import).layer(DefaultBodyLimit::max(files::IMPORT_LIMIT + 64 * 1024)),
        )
        .route("/imports", get(files::imports))
        .route("/imports/{id}/void", post(files::void_import))
        .route("/pools", get(files::pools).post(files::add_pool))
        .route("/pools/{id}/void", post(files::void_pool))
        .route("/budgets", get(budgets::list).post(budgets::create))
        .route(
            "/budgets/{name}",
            get(budgets::show)
                .put(budgets::change)
                .delete(budgets::remove),
        )
        .route("/invoices", get(invoices::list).post(invoices::create))
        .route("/invoices/{number}", get(invoices::show))
        .route("/invoices/{number}/void", post(invoices::void))
        .route("/invoices/{number}/credit", post(invoices::credit))
        .route("/reset", post(files::reset))
        .route("/verify", get(files::verify))
        .route("/events", get(events::stream))
        .route("/openapi.json", get(openapi::document))
        .fallback(|| async { ApiError::not_found("no such API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method (see /api/v1/openapi.json)",
            )
        });
    let proxy_limit = DefaultBodyLimit::max(proxy::BODY_LIMIT + 64 * 1024);
    let fal = any(proxy::fal).layer(proxy_limit);
    let mut app = Router::new()
        .nest("/api/v1", api)
        .route("/fal/proxy", fal.clone())
        .route("/api/fal/proxy", fal);
    for feed in &FEEDS {
        let forward = any(
            move |State(state): State<AppState>, request: axum::extract::Request| {
                proxy::feed(state, feed, request)
            },
        )
        .layer(proxy_limit);
        app = app.route(&format!("/{}/{{*path}}", feed.name), forward);
    }
    app.merge(panel::routes())
        .layer(DefaultBodyLimit::max(extract::JSON_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::check,
        ))
        .with_state(state)
}

/// Binds, prints `gencost serving http://ADDR` as the first line of `out`,
/// and serves until SIGINT or SIGTERM; requests in flight then finish.
pub async fn serve(
    store: SqlStore,
    catalog: Catalog,
    options: ServeOptions,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    if !options.addr.ip().is_loopback() && options.token.is_none() {
        return Err(Error::input(format!(
            "--addr {}: not a loopback address; anyone who can reach it could read and change the ledger, so give --token (or GENCOST_TOKEN)",
            options.addr
        )));
    }
    if options
        .token
        .as_deref()
        .is_some_and(|t| t.trim().len() < 16)
    {
        return Err(Error::input("--token: use at least 16 characters"));
    }
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|e| {
            Error::Io(format!(
                "cannot listen on {}: {e}; another server may be there (choose another with --addr, or 127.0.0.1:0 for any free port)",
                options.addr
            ))
        })?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::Io(format!("cannot read the bound address: {e}")))?;
    let store = Arc::new(store);
    if let Some(url) = options.rate_updates.clone() {
        tokio::spawn(crate::service::rates::refresh_daily(
            Arc::clone(&store),
            url,
        ));
    }
    tokio::spawn(crate::service::webhook::run_deliveries(Arc::clone(&store)));
    if let Some((period, folder)) = options.checkpoints.clone() {
        tokio::spawn(crate::service::checkpoint::every(
            Arc::clone(&store),
            period,
            folder,
        ));
    }
    let (stop, shutdown) = watch::channel(false);
    let state = AppState {
        changes: Arc::new(events::Changes::start(store.clone(), shutdown.clone()).await),
        logs: Arc::new(batch::LogBatcher::start(store.clone())),
        fal: Arc::new(ProviderApi::new(
            &crate::service::fal::provider::Fal,
            options.fal_key,
            options.fal_upstream,
        )?),
        feeds: Arc::new(feed_apis(&options.feeds)?),
        store,
        catalog: Arc::new(catalog),
        access: Arc::new(guard::Access::new(
            bound,
            options.token,
            &options.allow_hosts,
            &options.allow_origins,
        )),
        heavy: Arc::new(heavy::HeavyPages::start()?),
        shutdown,
    };
    writeln!(out, "gencost serving http://{bound}")
        .and_then(|_| out.flush())
        .map_err(|e| Error::Io(format!("cannot write the output: {e}")))?;
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            stop_signal().await;
            eprintln!("gencost: shutting down; requests in flight finish first");
            let _ = stop.send(true);
        })
        .await
        .map_err(|e| Error::Io(format!("the server stopped: {e}")))
}

/// Each feed's API, with its key and upstream.
fn feed_apis(
    settings: &std::collections::HashMap<&'static str, FeedSettings>,
) -> Result<std::collections::HashMap<&'static str, Arc<ProviderApi>>> {
    FEEDS
        .iter()
        .map(|feed| {
            let given = settings.get(feed.name).cloned().unwrap_or_default();
            let api = ProviderApi::new(feed.provider, given.key, given.upstream)?;
            Ok((feed.name, Arc::new(api)))
        })
        .collect()
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
