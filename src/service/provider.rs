//! The seam every provider that `serve` proxies goes through: which URLs
//! it may reach, which key it holds, what a call is, and what an answer
//! means for the ledger (a run started, finished, settled, cancelled, or
//! nothing), and what it billed. A provider decides; `record` carries the
//! decision out; the server only moves bytes. fal, OpenAI, Replicate,
//! Runway and ElevenLabs are its implementations.

use super::fal::UnitPrices;
use super::runs::{self, Billed, RunReport, RunStarted};
use crate::error::{Error, Result};
use crate::ledger::{Command, Entry, Status, Tags};
use crate::pricing::Catalog;
use crate::store::Store;
use crate::timestamp::Timestamp;
use reqwest::Url;
use serde_json::{Map, Value};

/// What a proxied call is, in every provider's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// Starts a queued run; the answer names its request id.
    Submit { endpoint: String },
    /// Runs and answers with the result (and its billing) at once.
    Run { endpoint: String },
    /// Runs and answers with a stream of events.
    Stream { endpoint: String },
    /// Asks how a queued run is doing.
    Status { request_id: String },
    /// Fetches a queued run's result, with its billing.
    Result { request_id: String },
    /// Cancels a queued run.
    Cancel { request_id: String },
    /// Anything else (uploads, status streams): forwarded, not logged.
    Other,
}

/// A provider's answer as the proxy received it.
pub struct Answer<'a> {
    pub status: u16,
    /// A response header's value, if it is text.
    pub header: &'a dyn Fn(&str) -> Option<&'a str>,
    /// The answer's body, when `reads_answer` asked for it and it was read
    /// whole (`None` when larger than the proxy reads or broken off).
    pub body: Option<&'a [u8]>,
}

/// What an answer means for the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Nothing,
    /// A run started: logged pending at its estimate.
    Started {
        endpoint: String,
        request_id: Option<String>,
    },
    /// A synchronous run: logged and settled from the one answer.
    Finished {
        endpoint: String,
        request_id: Option<String>,
        report: RunReport,
    },
    /// News of a logged run (its duration, its billing, how it ended).
    Settled {
        request_id: String,
        report: RunReport,
    },
    /// A cancel the provider accepted.
    Cancelled {
        request_id: String,
    },
    /// The answer should have named its run and did not: not logged.
    Unreadable(String),
}

pub trait Provider: Send + Sync {
    /// The source its runs are logged under.
    fn source(&self) -> &'static str;
    /// The environment variable the studio's key is read from; the key is
    /// sent to this provider only.
    fn key_variable(&self) -> &'static str;
    /// The header the key goes in, and what precedes it there
    /// (`Authorization: Bearer KEY`).
    fn key_header(&self) -> (&'static str, &'static str);
    /// The URL a client named, if the allowlist takes it; else why not.
    /// Checked on every request; redirects are never followed.
    fn allow(&self, target: &str) -> std::result::Result<Url, String>;
    /// Whether the allowlist takes this method on `target` (checked with
    /// `allow`, before anything is sent).
    fn allows_method(&self, method: &str, target: &Url) -> bool;
    /// The most of an answer read to know what it means (it is relayed
    /// whole either way; a larger one is relayed unread).
    fn answer_limit(&self) -> usize {
        1024 * 1024
    }
    /// What a request to `target` with this body is.
    fn classify(&self, method: &str, target: &Url, body: &[u8]) -> Call;
    /// The run's parameters in a request that starts one: what its
    /// estimate is made from, kept on the entry.
    fn params(&self, body: &[u8]) -> Map<String, Value>;
    /// Whether a client's request header goes on to the provider (the key
    /// and the real host are set apart; tags and cookies stay here).
    fn forwards(&self, header: &str) -> bool;
    /// Whether the start of this answer must be read to know what it means
    /// (it is relayed whole either way).
    fn reads_answer(&self, call: &Call, status: u16) -> bool;
    /// What the answer to `call` means for the ledger: which runs are
    /// logged, how they settle, and which failures are charged (the report
    /// of a failed run says whether the provider billed it).
    fn outcome(&self, call: Call, answer: &Answer) -> Outcome;
    /// What a run billed, by the figures its report holds, priced at the
    /// prices in force on the run's day; `None` when the report says
    /// nothing of billing.
    fn bill(
        &self,
        entry: &Entry,
        report: &RunReport,
        prices: &UnitPrices,
    ) -> Result<Option<Billed>>;
    /// The path a run's status is read at later (`reconcile`), for a
    /// provider that keeps runs readable; `None` for one that answers a
    /// run once.
    fn status_path(&self, _request_id: &str) -> Option<String> {
        None
    }
    /// Whether a run is read again before a cancel is sent on: a provider
    /// whose cancel answers nothing of the run, and deletes a run that
    /// already ended (Runway), would otherwise leave a finished run
    /// recorded as cancelled.
    fn reads_before_cancel(&self) -> bool {
        false
    }
    /// Whether `pricing sync` stores this provider's unit prices (fal's),
    /// so settling reads them; else the catalog's are all there is.
    fn synced_prices(&self) -> bool {
        false
    }
    /// The answer that refuses a run a hard budget cannot hold, in the
    /// provider's own error shape: (status, JSON body).
    fn refusal(&self, message: &str) -> (u16, serde_json::Value);
}

/// The endpoint a call starts a run of, if it starts one.
fn run_endpoint(call: &Call) -> Option<&str> {
    match call {
        Call::Submit { endpoint } | Call::Run { endpoint } | Call::Stream { endpoint } => {
            Some(endpoint)
        }
        _ => None,
    }
}

/// Holds a run's estimate before the provider is called, when a hard
/// budget counts it: logged pending with no request id yet, in the
/// transaction that checks the budget. Returns the held entry, or `None`
/// when no hard budget counts the run (it is then logged after the call,
/// as always). A refusal is `LedgerError::BudgetExceeded`.
pub async fn hold<S: Store>(
    store: &S,
    catalog: &Catalog,
    provider: &dyn Provider,
    call: &Call,
    input: &[u8],
    tags: Tags,
) -> Result<Option<uuid::Uuid>> {
    let Some(endpoint) = run_endpoint(call) else {
        return Ok(None);
    };
    // Budgets (or active tags) that cannot be read never cost the caller
    // the run: it is relayed, and logged after, as without budgets.
    let tags = match super::active_tags::for_log(tags) {
        Ok(tags) => tags,
        Err(e) => {
            eprintln!(
                "gencost: proxy: the active tags cannot be read, the run goes ahead unheld: {e}"
            );
            return Ok(None);
        }
    };
    match hard_budget_counts(store, &tags, endpoint).await {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(e) => {
            eprintln!("gencost: proxy: the budgets cannot be read, the run goes ahead unheld: {e}");
            return Ok(None);
        }
    }
    let logged = runs::log_started(
        store,
        catalog,
        RunStarted {
            source: provider.source(),
            model: endpoint.to_string(),
            params: provider.params(input),
            tags,
            request_id: None,
            hold: true,
        },
    )
    .await?;
    Ok(Some(logged.id))
}

/// Whether a hard budget counts a run with these tags of this model today.
async fn hard_budget_counts<S: Store>(store: &S, tags: &Tags, model: &str) -> Result<bool> {
    let today = crate::timestamp::today();
    Ok(store.budgets().await?.iter().any(|budget| {
        budget.hard
            && crate::ledger::budget::BudgetScope::of(budget).counts(tags, Some(model), today)
    }))
}

/// Carries out what the provider answered for a held run: its request id
/// attached, its result settled, or the hold released (an uncharged
/// failure) when the provider refused the run or could not be reached.
pub async fn after_hold<S: Store>(
    store: &S,
    catalog: &Catalog,
    provider: &dyn Provider,
    held: uuid::Uuid,
    outcome: Option<Outcome>,
) -> Result<()> {
    let attach = |request_id: String| Command::AttachRequest {
        entry_id: held,
        request_id,
    };
    match outcome {
        Some(Outcome::Started {
            request_id: Some(request_id),
            ..
        }) => match store.execute(attach(request_id), Timestamp::now()).await {
            Ok(_) => Ok(()),
            // Another entry holds the run: this hold was for nothing.
            Err(crate::store::StoreError::Refused(
                e @ crate::ledger::LedgerError::RequestTaken { .. },
            )) => {
                release(store, held).await?;
                Err(Error::Store(crate::store::StoreError::Refused(e)))
            }
            // The run started: the hold stays, reported by reconcile.
            Err(e) => Err(e.into()),
        },
        // Started without naming itself (a stream with no request id): the
        // run is under way, so the hold stays, as without a budget.
        Some(Outcome::Started {
            request_id: None, ..
        }) => Ok(()),
        Some(Outcome::Finished {
            request_id, report, ..
        }) => {
            if let Some(request_id) = request_id {
                store.execute(attach(request_id), Timestamp::now()).await?;
            }
            let entry = store
                .entry(held)
                .await?
                .ok_or_else(|| Error::NotFound(format!("no entry with id {held}")))?;
            let prices = prices_of(store, catalog, provider).await?;
            runs::settle_entry(store, provider, &prices, &entry, report).await?;
            Ok(())
        }
        // The run may have started without naming itself: the hold stays
        // (reconcile reports holds that stay open).
        Some(Outcome::Unreadable(why)) => Err(Error::Io(why)),
        _ => release(store, held).await,
    }
}

/// The unit prices a provider's runs are settled at.
pub async fn prices_of<S: Store>(
    store: &S,
    catalog: &Catalog,
    provider: &dyn Provider,
) -> Result<UnitPrices> {
    if provider.synced_prices() {
        UnitPrices::load(store, catalog).await
    } else {
        Ok(UnitPrices::catalog_only(catalog))
    }
}

/// Releases a hold whose run never started: an uncharged failure.
pub async fn release<S: Store>(store: &S, held: uuid::Uuid) -> Result<()> {
    let settled = crate::ledger::RunSettled {
        entry_id: held,
        status: Some(Status::Failed),
        duration_ms: None,
        billing: None,
        micros: None,
        currency: None,
    };
    store
        .execute(Command::Settle(settled), Timestamp::now())
        .await?;
    Ok(())
}

/// Carries an outcome out in the ledger; `input` is the request's body (the
/// run's parameters). Returns whether the ledger was written.
pub async fn record<S: Store>(
    store: &S,
    catalog: &Catalog,
    provider: &dyn Provider,
    outcome: Outcome,
    input: &[u8],
    tags: Tags,
) -> Result<bool> {
    let start = |endpoint: String, request_id: Option<String>| RunStarted {
        source: provider.source(),
        model: endpoint,
        params: provider.params(input),
        tags: tags.clone(),
        request_id,
        hold: false,
    };
    match outcome {
        Outcome::Nothing => Ok(false),
        Outcome::Unreadable(why) => Err(Error::Io(why)),
        Outcome::Started {
            endpoint,
            request_id,
        } => {
            runs::log_started(store, catalog, start(endpoint, request_id)).await?;
            Ok(true)
        }
        Outcome::Finished {
            endpoint,
            request_id,
            report,
        } => {
            let run = start(endpoint, request_id);
            runs::log_finished(store, catalog, provider, run, report).await?;
            Ok(true)
        }
        Outcome::Settled { request_id, report } => {
            let prices = prices_of(store, catalog, provider).await?;
            Ok(runs::settle(store, provider, &prices, &request_id, report)
                .await?
                .is_some())
        }
        // A run still pending is marked cancelled (a result fetched later
        // still says how it really ended).
        Outcome::Cancelled { request_id } => {
            match runs::logged_run(store, provider.source(), &request_id).await? {
                Some(entry) if entry.status == Status::Pending => {
                    let report = RunReport {
                        status: Some(Status::Cancelled),
                        ..RunReport::default()
                    };
                    let prices = prices_of(store, catalog, provider).await?;
                    runs::settle_entry(store, provider, &prices, &entry, report).await?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        }
    }
}
