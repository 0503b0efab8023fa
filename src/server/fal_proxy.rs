//! `/fal/proxy` (also `/api/fal/proxy`, the official client's default): the
//! request fal's JavaScript client would have sent, forwarded to the URL in
//! `x-fal-target-url` with the studio's key, and fal's answer streamed
//! back. Only fal's own endpoints are reachable (`crate::fal::target`);
//! only `x-fal-*` headers, `accept`, `content-type` and `user-agent` go
//! out; the key is never logged, echoed or stored.
//!
//! On the way, runs land in the ledger by themselves: the provider (fal,
//! `service::fal::provider`) says what each answer means and
//! `service::provider::record` writes it; this module only moves bytes. A
//! ledger that cannot be written never costs the caller fal's answer: the
//! run has already started, so the answer is relayed and the failure
//! printed.

use super::error::ApiError;
use super::AppState;
use crate::error::Error;
use crate::ledger::{TagField, Tags};
use crate::service::fal::provider::Fal;
use crate::service::limits;
use crate::service::provider::{self, Answer, Provider};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{stream, StreamExt};

/// The largest request body forwarded.
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The most of a submit or status answer read to log it (they are a few
/// hundred bytes); a larger one is relayed unread.
const ANSWER_READ_LIMIT: usize = 1024 * 1024;

const TARGET_HEADER: &str = "x-fal-target-url";

/// Headers that tag a proxied run (else the active tags do).
const TAG_HEADERS: [(&str, TagField); 3] = [
    ("x-gencost-client", TagField::Client),
    ("x-gencost-project", TagField::Project),
    ("x-gencost-deliverable", TagField::Deliverable),
];

fn bad(message: String) -> ApiError {
    ApiError::invalid(TARGET_HEADER, format!("{TARGET_HEADER}: {message}"))
}

/// Forwards one request to fal (or the upstream that stands in for it).
pub async fn forward(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let method = request.method().clone();
    if !matches!(method, Method::GET | Method::POST | Method::PUT) {
        return Err(ApiError::invalid(
            "method",
            format!("method: {method} is not forwarded (GET, POST and PUT are)"),
        ));
    }
    let target = request
        .headers()
        .get(TARGET_HEADER)
        .ok_or_else(|| bad("missing: send the fal URL this request is for".into()))?
        .to_str()
        .map_err(|_| bad("not readable text".into()))?;
    let provider = Fal;
    let target = provider.allow(target).map_err(bad)?;
    let tags = tags_from(request.headers())?;
    if !state.fal.has_key() {
        return Err(ApiError::from(Error::Unavailable(
            "this server has no fal.ai key: start gencost serve with FAL_KEY set".into(),
        )));
    }
    let call = provider.classify(method.as_str(), &target);
    let outgoing = outgoing_headers(request.headers());
    let body = axum::body::to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| ApiError::too_large(BODY_LIMIT))?;
    // Under a hard budget the run's estimate is held before fal is called,
    // and a run the budget cannot hold is refused without calling fal.
    let request = state
        .fal
        .request(method, &target)?
        .headers(outgoing)
        .body(body.clone());
    let held = match provider::hold(&*state.store, &state.catalog, &call, &body, tags.clone()).await
    {
        Ok(held) => held,
        Err(e) => return Ok(refused(&provider, &e)),
    };
    if held.is_some() {
        state.changes.written();
    }
    let sent = request.send().await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(e) => {
            if let Some(held) = held {
                if let Err(e) = provider::release(&*state.store, held).await {
                    eprintln!("gencost: fal proxy: cannot release hold {held}: {e}");
                }
                state.changes.written();
            }
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream",
                format!("fal.ai could not be reached: {}", e.without_url()),
            ));
        }
    };
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    let mut relayed: stream::BoxStream<'static, Result<Bytes, reqwest::Error>> =
        answer.bytes_stream().boxed();
    let read = if provider.reads_answer(&call, status) {
        let (read, rest) = read_start(relayed).await;
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
        Some(held) => provider::after_hold(&*state.store, &state.catalog, held, Some(outcome))
            .await
            .map(|_| true),
        None => provider::record(&*state.store, &state.catalog, outcome, &body, tags).await,
    };
    match recorded {
        Ok(true) => state.changes.written(),
        Ok(false) => {}
        Err(e) => eprintln!("gencost: fal proxy: {e}"),
    }
    let mut response = Response::builder().status(status);
    if let Some(out) = response.headers_mut() {
        for (name, value) in &headers {
            if !is_dropped_from_answer(name.as_str()) {
                out.append(name.clone(), value.clone());
            }
        }
    }
    response
        .body(Body::from_stream(relayed))
        .map_err(|e| ApiError::from(Error::Io(format!("cannot relay fal's answer: {e}"))))
}

/// The provider's own refusal of a run no hard budget can hold (and of a
/// run whose budget cannot be checked: the ledger could not be written).
fn refused(provider: &impl Provider, e: &Error) -> Response {
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

/// Reads the start of an answer, up to `ANSWER_READ_LIMIT`; returns it
/// (`None` when the answer is larger or broke off) and the answer to relay,
/// whole either way.
async fn read_start(
    mut answer: stream::BoxStream<'static, Result<Bytes, reqwest::Error>>,
) -> (
    Option<Vec<u8>>,
    stream::BoxStream<'static, Result<Bytes, reqwest::Error>>,
) {
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut size = 0;
    let mut complete = false;
    let mut failed = None;
    while size <= ANSWER_READ_LIMIT {
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

/// The headers sent to fal: the client's `x-fal-*` (but the target),
/// `accept`, `content-type` and `user-agent`; the key and the real host
/// are added by `FalApi`.
fn outgoing_headers(incoming: &HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in incoming {
        let name_text = name.as_str();
        let wanted = (name_text.starts_with("x-fal-") && name_text != TARGET_HEADER)
            || name == header::ACCEPT
            || name == header::CONTENT_TYPE
            || name == header::USER_AGENT;
        if wanted {
            headers.append(name.clone(), value.clone());
        }
    }
    headers
}

/// fal's answer comes back as it is, but for its length and encoding
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
