//! Calls to a provider with the studio's key: the proxy's forwarded
//! requests and `reconcile`'s re-reads. The key goes in the provider's own
//! header and only to the provider's hosts. `upstream` stands in for them
//! (tests, air-gapped use): scheme, host and port are replaced, the real
//! host goes in `x-forwarded-host`, nothing else changes.

use super::provider::Provider;
use crate::error::{Error, Result};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, Url};

pub struct ProviderApi {
    client: reqwest::Client,
    key: Option<String>,
    upstream: Option<Url>,
    /// The provider's name, the variable its key comes from, and the
    /// header (and prefix) the key goes in.
    source: &'static str,
    key_variable: &'static str,
    key_header: (&'static str, &'static str),
}

impl std::fmt::Debug for ProviderApi {
    // The key stays out of every debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderApi")
            .field("source", &self.source)
            .field("key", &self.key.as_ref().map(|_| "(set)"))
            .field("upstream", &self.upstream)
            .finish()
    }
}

impl ProviderApi {
    /// No overall timeout: proxied results and streams may take minutes (a
    /// stalled connection still fails).
    pub fn new(
        provider: &dyn Provider,
        key: Option<String>,
        upstream: Option<Url>,
    ) -> Result<ProviderApi> {
        Ok(ProviderApi {
            client: crate::http::streaming_client()?,
            key: key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty()),
            upstream,
            source: provider.source(),
            key_variable: provider.key_variable(),
            key_header: provider.key_header(),
        })
    }

    /// With the key from the provider's environment variable.
    pub fn from_env(provider: &dyn Provider, upstream: Option<Url>) -> Result<ProviderApi> {
        ProviderApi::new(
            provider,
            std::env::var(provider.key_variable()).ok(),
            upstream,
        )
    }

    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// Why a call cannot be made without the key.
    pub fn no_key(&self) -> Error {
        Error::Unavailable(format!(
            "no {} key: set {} in the environment gencost runs in",
            self.source, self.key_variable
        ))
    }

    /// A request to `target` (a URL of the provider) with the key, sent to
    /// the upstream stand-in when there is one.
    pub fn request(&self, method: Method, target: &Url) -> Result<RequestBuilder> {
        let key = self.key.as_deref().ok_or_else(|| self.no_key())?;
        let (header, prefix) = self.key_header;
        let value = HeaderValue::from_str(&format!("{prefix}{key}")).map_err(|_| {
            Error::input(format!(
                "{} holds characters a header cannot carry",
                self.key_variable
            ))
        })?;
        let url = match &self.upstream {
            Some(upstream) => redirected(target, upstream),
            None => target.clone(),
        };
        let mut builder = self
            .client
            .request(method, url)
            .header(HeaderName::from_static(header), value);
        if self.upstream.is_some() {
            if let Some(host) = target.host_str() {
                builder = builder.header("x-forwarded-host", host);
            }
        }
        Ok(builder)
    }
}

/// `target` sent to `upstream` instead (scheme, host and port replaced;
/// path and query kept).
pub fn redirected(target: &Url, upstream: &Url) -> Url {
    let mut url = upstream.clone();
    url.set_path(target.path());
    url.set_query(target.query());
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upstream_keeps_path_and_query() {
        let target = Url::parse("https://queue.fal.run/fal-ai/flux/dev/requests/1?logs=1").unwrap();
        let upstream = Url::parse("http://127.0.0.1:9999").unwrap();
        assert_eq!(
            redirected(&target, &upstream).as_str(),
            "http://127.0.0.1:9999/fal-ai/flux/dev/requests/1?logs=1"
        );
    }
}
