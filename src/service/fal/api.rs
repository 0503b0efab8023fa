//! Calls to fal with the studio's key: the proxy's forwarded requests,
//! result re-fetches, unit prices and billing records (through
//! `ProviderApi`, which stands in an upstream for every fal host).

use crate::error::{Error, Result};
use crate::fal::json::FalObject;
use reqwest::{Method, Url};
use serde_json::value::RawValue;

/// The environment variable the key is read from (never a flag, which
/// would show in the process list).
pub const KEY_VARIABLE: &str = "FAL_KEY";

/// Calls to fal: the provider's API with fal's key.
pub type FalApi = crate::service::provider_api::ProviderApi;

/// fal's API with the key from `FAL_KEY`.
pub fn from_env(upstream: Option<Url>) -> Result<FalApi> {
    FalApi::from_env(&super::provider::Fal, upstream)
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
