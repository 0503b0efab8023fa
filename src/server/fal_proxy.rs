//! `/fal/proxy` (also `/api/fal/proxy`, the official client's default): the
//! request fal's JavaScript client would have sent, forwarded to the URL in
//! `x-fal-target-url` with the studio's key, and fal's answer streamed
//! back. Only fal's own endpoints are reachable (`crate::fal::target`);
//! only `x-fal-*` headers, `accept`, `content-type` and `user-agent` go
//! out; the key is never logged, echoed or stored.

use super::error::ApiError;
use super::AppState;
use crate::fal::target;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use reqwest::Url;

/// The largest request body forwarded.
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

const TARGET_HEADER: &str = "x-fal-target-url";

/// The proxy's settings: the key it adds, and where requests really go.
pub struct FalProxy {
    client: reqwest::Client,
    key: Option<String>,
    upstream: Option<Url>,
}

impl std::fmt::Debug for FalProxy {
    // The key stays out of every debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FalProxy")
            .field("key", &self.key.as_ref().map(|_| "(set)"))
            .field("upstream", &self.upstream)
            .finish()
    }
}

impl FalProxy {
    /// `key`: from `FAL_KEY`; `upstream`: `--fal-upstream`.
    pub fn new(key: Option<String>, upstream: Option<Url>) -> crate::Result<FalProxy> {
        // No overall timeout: results and streams may take minutes.
        let client = crate::http::streaming_client()?;
        Ok(FalProxy {
            client,
            key: key.filter(|k| !k.trim().is_empty()),
            upstream,
        })
    }
}

fn bad(message: String) -> ApiError {
    ApiError::invalid(TARGET_HEADER, format!("{TARGET_HEADER}: {message}"))
}

/// Forwards one request to fal (or the upstream that stands in for it).
pub async fn forward(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let proxy = &state.fal;
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
    let target = target::check(target).map_err(bad)?;
    let Some(key) = &proxy.key else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this server has no fal.ai key: start gencost serve with FAL_KEY set",
        ));
    };
    let outgoing = outgoing_headers(request.headers(), key, &target, proxy.upstream.is_some())?;
    let url = match &proxy.upstream {
        Some(upstream) => target::redirected(&target, upstream),
        None => target,
    };
    let body = axum::body::to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| ApiError::too_large(BODY_LIMIT))?;
    let answer = proxy
        .client
        .request(method, url)
        .headers(outgoing)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream",
                format!("fal.ai could not be reached: {}", e.without_url()),
            )
        })?;
    let mut response = Response::builder().status(answer.status().as_u16());
    if let Some(headers) = response.headers_mut() {
        for (name, value) in answer.headers() {
            if !is_dropped_from_answer(name.as_str()) {
                headers.append(name.clone(), value.clone());
            }
        }
    }
    response
        .body(Body::from_stream(answer.bytes_stream()))
        .map_err(|e| ApiError::from(crate::Error::Io(format!("cannot relay fal's answer: {e}"))))
}

/// The headers sent to fal: the client's `x-fal-*` (but the target),
/// `accept`, `content-type` and `user-agent`, and the key; with an upstream
/// stand-in, the real host in `x-forwarded-host`.
fn outgoing_headers(
    incoming: &HeaderMap,
    key: &str,
    target: &Url,
    redirected: bool,
) -> Result<HeaderMap, ApiError> {
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
    let authorization = HeaderValue::from_str(&format!("Key {key}")).map_err(|_| {
        ApiError::from(crate::Error::Io(
            "the fal.ai key holds characters a header cannot carry".into(),
        ))
    })?;
    headers.insert(header::AUTHORIZATION, authorization);
    if redirected {
        if let Ok(host) = HeaderValue::from_str(target.host_str().unwrap_or_default()) {
            headers.insert(HeaderName::from_static("x-forwarded-host"), host);
        }
    }
    Ok(headers)
}

/// fal's answer comes back as it is, but for its length and encoding
/// (the body is re-streamed, already decoded) and hop-by-hop headers.
fn is_dropped_from_answer(name: &str) -> bool {
    matches!(
        name,
        "content-length" | "content-encoding" | "transfer-encoding" | "connection" | "keep-alive"
    )
}
