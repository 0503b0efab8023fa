//! Calls to fal with the studio's key: the proxy's forwarded requests,
//! result re-fetches, unit prices and billing records. `upstream` stands in
//! for every fal host (tests, air-gapped use): scheme, host and port are
//! replaced, the real host goes in `x-forwarded-host`, nothing else changes.

use crate::error::{Error, Result};
use crate::fal::json::FalObject;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Method, RequestBuilder, Url};
use serde_json::value::RawValue;

/// The environment variable the key is read from (never a flag, which
/// would show in the process list).
pub const KEY_VARIABLE: &str = "FAL_KEY";

pub struct FalApi {
    client: reqwest::Client,
    key: Option<String>,
    upstream: Option<Url>,
}

impl std::fmt::Debug for FalApi {
    // The key stays out of every debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FalApi")
            .field("key", &self.key.as_ref().map(|_| "(set)"))
            .field("upstream", &self.upstream)
            .finish()
    }
}

impl FalApi {
    /// No overall timeout: proxied results and streams may take minutes (a
    /// stalled connection still fails).
    pub fn new(key: Option<String>, upstream: Option<Url>) -> Result<FalApi> {
        Ok(FalApi {
            client: crate::http::streaming_client()?,
            key: key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty()),
            upstream,
        })
    }

    /// With the key from `FAL_KEY`.
    pub fn from_env(upstream: Option<Url>) -> Result<FalApi> {
        FalApi::new(std::env::var(KEY_VARIABLE).ok(), upstream)
    }

    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// A request to `target` (a fal URL) with the key, sent to the
    /// upstream stand-in when there is one.
    pub fn request(&self, method: Method, target: &Url) -> Result<RequestBuilder> {
        let key = self.key.as_deref().ok_or_else(|| {
            Error::Unavailable(format!(
                "no fal.ai key: set {KEY_VARIABLE} in the environment"
            ))
        })?;
        let authorization = HeaderValue::from_str(&format!("Key {key}")).map_err(|_| {
            Error::input(format!(
                "{KEY_VARIABLE} holds characters a header cannot carry"
            ))
        })?;
        let url = match &self.upstream {
            Some(upstream) => crate::fal::target::redirected(target, upstream),
            None => target.clone(),
        };
        let mut builder = self
            .client
            .request(method, url)
            .header(AUTHORIZATION, authorization);
        if self.upstream.is_some() {
            if let Some(host) = target.host_str() {
                builder = builder.header("x-forwarded-host", host);
            }
        }
        Ok(builder)
    }
}

/// A fal call that failed, in words that never hold the key or a URL's
/// query.
pub fn call_failed(what: &str, error: reqwest::Error) -> Error {
    Error::Io(format!(
        "{what}: fal.ai could not be reached: {}",
        error.without_url()
    ))
}

/// A GET of a fal JSON API (`api.fal.ai`), read within `limit` bytes: the
/// answer's object, each member kept as its own text (numbers are never
/// read through a float).
pub async fn get_json(api: &FalApi, what: &str, target: &Url, limit: usize) -> Result<FalObject> {
    let response = api
        .request(Method::GET, target)?
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| call_failed(what, e))?;
    let status = response.status();
    if status == reqwest::StatusCode::FORBIDDEN || status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(Error::Unavailable(format!(
            "{what}: fal.ai answered HTTP {status}: the key in {KEY_VARIABLE} is not allowed this (billing records and prices need an admin key)"
        )));
    }
    if !status.is_success() {
        return Err(Error::Io(format!("{what}: fal.ai answered HTTP {status}")));
    }
    let body = read_limited(response, limit)
        .await
        .map_err(|e| Error::Io(format!("{what}: {e}")))?;
    FalObject::from_slice(&body).map_err(|e| {
        Error::Io(format!(
            "{what}: fal.ai's answer is not the JSON expected: {e}"
        ))
    })
}

/// Every item of a paged fal list (`{FIELD: [...], next_cursor, has_more}`),
/// each as its own JSON text: `url` with its query, then `cursor=` each
/// `next_cursor` until `has_more` is false; each page read within
/// `page_limit` bytes.
pub async fn get_all_pages(
    api: &FalApi,
    what: &str,
    url: &Url,
    field: &str,
    page_limit: usize,
) -> Result<Vec<Box<RawValue>>> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut page_url = url.clone();
        if let Some(c) = &cursor {
            page_url.query_pairs_mut().append_pair("cursor", c);
        }
        let page = get_json(api, what, &page_url, page_limit).await?;
        items.extend(page.items(field).map_err(|e| {
            Error::Io(format!(
                "{what}: fal.ai's answer is not the JSON expected: {e}"
            ))
        })?);
        let more = page.flag("has_more").unwrap_or(false);
        cursor = page.text("next_cursor");
        if !more || cursor.is_none() {
            return Ok(items);
        }
    }
}

async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> std::result::Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("reading fal.ai's answer: {}", e.without_url()))?
    {
        if body.len() + chunk.len() > limit {
            return Err(format!("fal.ai's answer is larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
