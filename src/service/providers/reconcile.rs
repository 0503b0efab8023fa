//! `reconcile` for the providers that can be asked later: Replicate's
//! predictions and Runway's tasks still pending in the ledger are read
//! again (`GET /v1/predictions/{id}`, `GET /v1/tasks/{id}`), and what each
//! says settles them as the proxy would have.

use super::Feed;
use crate::error::{Error, Result};
use crate::ledger::{Entry, Status, Tags};
use crate::pricing::Catalog;
use crate::service::provider::{self, Answer, Call, Provider};
use crate::service::provider_api::ProviderApi;
use crate::store::Store;
use crate::timestamp::Timestamp;
use futures_util::stream::{self, StreamExt};
use reqwest::Method;

/// The largest status answer read.
const STATUS_BYTES: usize = 16 * 1024 * 1024;
/// Failures listed by name.
const LISTED_FAILURES: usize = 20;

/// What a reconcile of one provider did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeedSummary {
    pub source: String,
    /// Runs pending when it started.
    pub open: u64,
    /// Runs it settled (succeeded, failed or cancelled).
    pub settled: u64,
    /// Runs the provider still reports under way.
    pub still_open: u64,
    /// Runs whose status could not be read.
    pub failed: u64,
    pub failures: Vec<String>,
}

/// The provider's runs still pending, with a request id, oldest first.
pub async fn open_runs<S: Store>(
    store: &S,
    feed: &Feed,
    since: Option<Timestamp>,
) -> Result<Vec<Entry>> {
    let source = crate::ledger::tags::fold(feed.provider.source());
    let mut open: Vec<Entry> = store
        .open_holds(Timestamp(i64::MAX), i64::MAX)
        .await?
        .into_iter()
        .filter(|e| {
            crate::ledger::tags::fold(&e.source) == source
                && e.status == Status::Pending
                && e.request_id.is_some()
                && since.is_none_or(|since| e.occurred_at >= since)
        })
        .collect();
    open.sort_by_key(|e| (e.occurred_at, e.position));
    Ok(open)
}

/// Reads each pending run of `feed` again, `concurrency` at a time.
pub async fn reconcile<S: Store>(
    store: &S,
    catalog: &Catalog,
    feed: &Feed,
    api: &ProviderApi,
    since: Option<Timestamp>,
    concurrency: usize,
) -> Result<FeedSummary> {
    let open = open_runs(store, feed, since).await?;
    let mut summary = FeedSummary {
        source: feed.provider.source().to_string(),
        open: open.len() as u64,
        ..FeedSummary::default()
    };
    if open.is_empty() {
        return Ok(summary);
    }
    if !api.has_key() {
        return Err(api.no_key());
    }
    let results: Vec<(Entry, Result<bool>)> = stream::iter(open)
        .map(|entry| async move {
            let request_id = entry.request_id.clone().unwrap_or_default();
            let read = read_again(store, catalog, feed.provider, feed.base, api, &request_id).await;
            (entry, read)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for (entry, read) in results {
        match read {
            Ok(true) => summary.settled += 1,
            Ok(false) => summary.still_open += 1,
            Err(e) => {
                summary.failed += 1;
                if summary.failures.len() < LISTED_FAILURES {
                    summary.failures.push(format!(
                        "{} ({}): {e}",
                        entry.request_id.as_deref().unwrap_or_default(),
                        entry.model.as_deref().unwrap_or_default()
                    ));
                }
            }
        }
    }
    Ok(summary)
}

/// Reads one run's status from `provider` at `base` (its API origin) and
/// records what it says; true when that settled the run.
pub async fn read_again<S: Store>(
    store: &S,
    catalog: &Catalog,
    provider: &dyn Provider,
    base: &str,
    api: &ProviderApi,
    request_id: &str,
) -> Result<bool> {
    let Some(path) = provider.status_path(request_id) else {
        return Ok(false);
    };
    let target = provider
        .allow(&format!("{base}{path}"))
        .map_err(Error::input)?;
    let call = Call::Status {
        request_id: request_id.to_string(),
    };
    let mut response = api
        .request(Method::GET, &target)?
        .header("accept", "application/json")
        .header("x-runway-version", super::runway::VERSION)
        .send()
        .await
        .map_err(|e| {
            Error::Io(format!(
                "{} could not be reached: {}",
                provider.source(),
                e.without_url()
            ))
        })?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(Error::Io(format!(
            "{} answered HTTP {status}",
            provider.source()
        )));
    }
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::Io(format!("reading the answer: {}", e.without_url())))?
    {
        if body.len() + chunk.len() > STATUS_BYTES {
            return Err(Error::Io(format!(
                "the answer is larger than {STATUS_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let outcome = provider.outcome(
        call,
        &Answer {
            status,
            header: &header,
            body: Some(&body),
        },
    );
    provider::record(store, catalog, provider, outcome, b"", Tags::default()).await
}
