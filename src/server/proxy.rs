//! The provider proxies. `/fal/proxy` (also `/api/fal/proxy`, the official
//! client's default) forwards the request fal's JavaScript client would
//! have sent to the URL in `x-fal-target-url`; `/openai/v1/...`,
//! `/replicate/v1/...`, `/runway/v1/...` and `/elevenlabs/v1/...` forward
//! to the same path at the provider, so each is its official client's base
//! URL. The studio's key goes with the request, the answer streams back.
//! Only the provider's allowlisted endpoints are reachable; only the
//! headers it names go out; the key is never logged, echoed or stored.
//!
//! On the way, runs land in the ledger by themselves: the provider
//! (`service::provider::Provider`) says what each answer means and
//! `service::provider::record` writes it; this module only moves bytes. A
//! ledger that cannot be written never costs the caller the provider's
//! answer: the run has already started, so the answer is relayed and the
//! failure printed.

use super::error::ApiError;
use super::AppState;
use crate::error::Error;
use crate::ledger::{TagField, Tags};
use crate::service::fal::provider::{Fal, TARGET_HEADER};
use crate::service::limits;
use crate::service::provider::{self, Answer, Call, Provider};
use crate::service::provider_api::ProviderApi;
use crate::service::providers::Feed;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{stream, StreamExt};

/// The largest request body forwarded.
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Headers that tag a proxied run (else the active tags do).
const TAG_HEADERS: [(&str, TagField); 3] = [
    ("x-gencost-client", TagField::Client),
    ("x-gencost-project", TagField::Project),
    ("x-gencost-deliverable", TagField::Deliverable),
];

/// Forwards one request to fal (or the upstream that stands in for it):
/// the URL it is for is in `x-fal-target-url`.
pub async fn fal(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let method = request.method();
    if !matches!(*method, Method::GET | Method::POST | Method::PUT) {
        return Err(ApiError::invalid(
            "method",
            format!("method: {method} is not forwarded (GET, POST and PUT are)"),
        ));
    }
    let bad =
        |message: String| ApiError::invalid(TARGET_HEADER, format!("{TARGET_HEADER}: {message}"));
    let target = request
        .headers()
        .get(TARGET_HEADER)
        .ok_or_else(|| bad("missing: send the fal URL this request is for".into()))?
        .to_str()
        .map_err(|_| bad("not readable text".into()))?;
    let target = Fal.allow(target).map_err(bad)?;
    let api = state.fal.clone();
    relay(&state, &Fal, &api, target, request).await
}

/// Forwards one request to a feed's provider: `/{feed}/v1/PATH?QUERY` goes
/// to the provider's `/v1/PATH?QUERY`.
pub async fn feed(
    state: AppState,
    feed: &'static Feed,
    request: Request,
) -> Result<Response, ApiError> {
    let uri = request.uri();
    let rest = uri
        .path()
        .strip_prefix(&format!("/{}", feed.name))
        .unwrap_or_default();
    let target = match uri.query() {
        Some(query) => format!("{}{rest}?{query}", feed.base),
        None => format!("{}{rest}", feed.base),
    };
    let target = feed
        .provider
        .allow(&target)
        .map_err(|message| ApiError::invalid("path", format!("path: {message}")))?;
    let api = state
        .feeds
        .get(feed.name)
        .cloned()
        .ok_or_else(|| ApiError::not_found("no such provider route"))?;
    relay(&state, feed.provider, &api, target, request).await
}

/// Sends an allowed request on with the studio's key, logs what the answer
/// means, and relays the answer.
async fn relay(
    state: &AppState,
    provider: &dyn Provider,
    api: &ProviderApi,
    target: reqwest::Url,
    request: Request,
) -> Result<Response, ApiError> {
    let method = request.method().clone();
    if !provider.allows_method(method.as_str(), &target) {
        return Err(ApiError::invalid(
            "method",
            format!(
                "method: {method} is not forwarded to {} {}",
                provider.source(),
                target.path()
            ),
        ));
    }
    let tags = tags_from(request.headers())?;
    if !api.has_key() {
        return Err(ApiError::from(Error::Unavailable(format!(
            "this server has no {} key: start gencost serve with {} set",
            provider.source(),
            provider.key_variable()
        ))));
    }
    let outgoing = outgoing_headers(provider, request.headers());
    let body = axum::body::to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| ApiError::too_large(BODY_LIMIT))?;
    let call = provider.classify(method.as_str(), &target, &body);
    // Under a hard budget the run's estimate is held before the provider
    // is called, and a run the budget cannot hold is refused without
    // calling it.
    let request = api
        .request(method, &target)?
        .headers(outgoing)
        .body(body.clone());
    let held = match provider::hold(
        &*state.store,
        &state.catalog,
        provider,
        &call,
        &body,
        tags.clone(),
    )
    .await
    {
        Ok(held) => held,
        Err(e) => return Ok(refused(provider, &e)),
    };
    if held.is_some() {
        state.changes.written();
    }
    // A cancel that would delete a run already ended: the run is read
    // first, so it is settled as it ended, not as cancelled.
    if let Call::Cancel { request_id } = &call {
        if provider.reads_before_cancel() {
            let base = target.origin().ascii_serialization();
            let read = crate::service::providers::reconcile::read_again(
                &*state.store,
                &state.catalog,
                provider,
                &base,
                api,
                request_id,
            )
            .await;
            match read {
                Ok(true) => state.changes.written(),
                Ok(false) => {}
                Err(e) => eprintln!(
                    "gencost: {} proxy: {request_id} could not be read before its cancel: {e}",
                    provider.source()
                ),
            }
        }
    }
    let sent = request.send().await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(e) => {
            if let Some(held) = held {
                if let Err(e) = provider::release(&*state.store, held).await {
                    eprintln!(
                        "gencost: {} proxy: cannot release hold {held}: {e}",
                        provider.source()
                    );
                }
                state.changes.written();
            }
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream",
                format!(
                    "{} could not be reached: {}",
                    provider.source(),
                    e.without_url()
                ),
            ));
        }
    };
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    let mut relayed: stream::BoxStream<'static, Result<Bytes, reqwest::Error>> =
        answer.bytes_stream().boxed();
    let read = if provider.reads_answer(&call, status) {
        let (read, rest) = read_start(relayed, provider.answer_limit()).await;
        relayed = rest;
        read
    } else {
        None
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let outcome = provider.outcome(
        call,
        &Answer {
            status,
            header: &header,
            body: read.as_deref(),
        },
    );
    let recorded = match held {
        Some(held) => {
            provider::after_hold(&*state.store, &state.catalog, provider, held, Some(outcome))
                .await
                .map(|_| true)
        }
        None => {
            provider::record(
                &*state.store,
                &state.catalog,
                provider,
                outcome,
                &body,
                tags,
            )
            .await
        }
    };
    match recorded {
        Ok(true) => state.changes.written(),
        Ok(false) => {}
        Err(e) => eprintln!("gencost: {} proxy: {e}", provider.source()),
    }
    let mut response = Response::builder().status(status);
    if let Some(out) = response.headers_mut() {
        for (name, value) in &headers {
            if !is_dropped_from_answer(name.as_str()) {
                out.append(name.clone(), value.clone());
            }
        }
    }
    response.body(Body::from_stream(relayed)).map_err(|e| {
        ApiError::from(Error::Io(format!(
            "cannot relay {}'s answer: {e}",
            provider.source()
        )))
    })
}

/// The provider's own refusal of a run no hard budget can hold (and of a
/// run whose budget cannot be checked: the ledger could not be written).
fn refused(provider: &dyn Provider, e: &Error) -> Response {
    let (status, body) = match e {
        Error::Store(crate::store::StoreError::Refused(
            crate::ledger::LedgerError::BudgetExceeded(_),
        )) => provider.refusal(&e.to_string()),
        Error::Input(_) | Error::Field { .. } => {
            (400, serde_json::json!({ "detail": e.to_string() }))
        }
        other => (
            503,
            serde_json::json!({
                "detail": format!("gencost could not check this run against its hard budget, so it was not started: {other}")
            }),
        ),
    };
    let mut response = axum::Json(body).into_response();
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::PAYMENT_REQUIRED);
    response
}

/// Reads the start of an answer, up to `limit` bytes; returns it
/// (`None` when the answer is larger or broke off) and the answer to relay,
/// whole either way.
async fn read_start(
    mut answer: stream::BoxStream<'static, Result<Bytes, reqwest::Error>>,
    limit: usize,
) -> (
    Option<Vec<u8>>,
    stream::BoxStream<'static, Result<Bytes, reqwest::Error>>,
) {
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut size = 0;
    let mut complete = false;
    let mut failed = None;
    while size <= limit {
        match answer.next().await {
            Some(Ok(chunk)) => {
                size += chunk.len();
                chunks.push(chunk);
            }
            Some(Err(e)) => {
                failed = Some(e);
                break;
            }
            None => {
                complete = true;
                break;
            }
        }
    }
    let read = (complete && failed.is_none()).then(|| chunks.concat());
    let replay = stream::iter(chunks.into_iter().map(Ok));
    let rest = match failed {
        Some(e) => replay.chain(stream::once(async move { Err(e) })).boxed(),
        None => replay.chain(answer).boxed(),
    };
    (read, rest)
}

/// The tags a caller names in `x-gencost-*` headers, checked like any tag.
fn tags_from(headers: &HeaderMap) -> Result<Tags, ApiError> {
    let mut tags = Tags::default();
    for (name, field) in TAG_HEADERS {
        if let Some(value) = headers.get(name) {
            let text = value
                .to_str()
                .map_err(|_| ApiError::invalid(name, format!("{name}: not readable text")))?;
            limits::name(name, text).map_err(|e| ApiError::invalid(name, e.to_string()))?;
            *tags.slot(field) = Some(text.to_string()).filter(|t| !t.trim().is_empty());
        }
    }
    Ok(tags)
}

/// The headers sent on: those the provider names; the key and the real
/// host are added by `ProviderApi`.
fn outgoing_headers(provider: &dyn Provider, incoming: &HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in incoming {
        if provider.forwards(name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
    headers
}

/// The provider's answer comes back as it is, but for its length and encoding
/// (the body is re-streamed, already decoded), hop-by-hop headers, and
/// cookies and CORS grants, which would apply to this server's origin.
fn is_dropped_from_answer(name: &str) -> bool {
    matches!(
        name,
        "content-length"
            | "content-encoding"
            | "transfer-encoding"
            | "connection"
            | "keep-alive"
            | "set-cookie"
    ) || name.starts_with("access-control-")
}
