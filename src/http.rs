//! The one HTTP client every outgoing call goes through (ECB's rate files,
//! fal.ai): how it is built and how a response body is read within a limit.
//! It knows nothing about what the bytes mean.

use crate::error::{Error, Result};
use std::sync::Arc;
use std::time::Duration;

/// Time allowed to open a connection, TLS handshake included.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Time allowed for a whole request, from connecting to the last body byte.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The client for outgoing calls: `gencost/<version>` as user agent, the
/// timeouts above, TLS by rustls with the ring provider and the Mozilla root
/// certificates compiled in (nothing is read from the system). No client of
/// gencost follows a redirect: only URLs that passed its allowlist are
/// fetched, and a 3xx is an answer like any other (the fal proxy relays it).
pub fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("gencost/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(tls_config()?)
        .build()
        .map_err(|e| Error::Io(format!("cannot set up the HTTP client: {}", describe(e))))
}

pub fn tls_config() -> Result<rustls::ClientConfig> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Io(format!("cannot set up TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(config)
}

/// The client for proxied calls: like `client`, but with no limit on the
/// whole request, since a proxied result or event stream may take minutes;
/// a stalled connection still fails after `REQUEST_TIMEOUT` without a byte.
pub fn streaming_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("gencost/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(tls_config()?)
        .build()
        .map_err(|e| Error::Io(format!("cannot set up the HTTP client: {}", describe(e))))
}

/// GETs `url` and returns its body. A status other than 2xx is an error
/// naming the URL and the status; so is a body over `limit` bytes, whether
/// its `Content-Length` announces it or the bytes received pass the limit.
pub async fn get_bytes(client: &reqwest::Client, url: &str, limit: u64) -> Result<Vec<u8>> {
    let failed = |message: String| Error::Io(format!("cannot download {url}: {message}"));
    let too_large = || failed(format!("the body is larger than the {} limit", size(limit)));
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| failed(describe(e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(failed(format!("the server answered HTTP {status}")));
    }
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(describe(e)))? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A reqwest error with its causes, without the URL (the caller names it).
pub fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `64 MiB`, `1 KiB`, `1500 bytes`.
fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// Serves `head` then `body` to every connection; returns the URL.
    fn serve(head: String, body: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        format!("http://{address}/file.xml")
    }

    fn with_length(status: &str, body: &[u8]) -> String {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        serve(head, body.to_vec())
    }

    /// No Content-Length: the body ends when the server closes the connection.
    fn without_length(body: &[u8]) -> String {
        serve(
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_string(),
            body.to_vec(),
        )
    }

    async fn get(url: &str, limit: u64) -> Result<Vec<u8>> {
        get_bytes(&client().unwrap(), url, limit).await
    }

    #[tokio::test]
    async fn reads_the_body() {
        let url = with_length("200 OK", b"<rates/>");
        assert_eq!(get(&url, 1024).await.unwrap(), b"<rates/>");
        let url = without_length(b"<rates/>");
        assert_eq!(get(&url, 8).await.unwrap(), b"<rates/>");
    }

    #[tokio::test]
    async fn a_status_other_than_2xx_names_the_url_and_the_status() {
        let url = with_length("404 Not Found", b"not here");
        let message = get(&url, 1024).await.unwrap_err().to_string();
        assert!(
            message.contains(&format!("cannot download {url}")),
            "{message}"
        );
        assert!(message.contains("404 Not Found"), "{message}");
    }

    #[tokio::test]
    async fn an_announced_body_over_the_limit_is_refused() {
        let url = with_length("200 OK", &[b'x'; 2048]);
        let message = get(&url, 1024).await.unwrap_err().to_string();
        assert!(
            message.contains(&format!("cannot download {url}")),
            "{message}"
        );
        assert!(message.contains("larger than the 1 KiB limit"), "{message}");
    }

    #[tokio::test]
    async fn a_streamed_body_over_the_limit_is_refused() {
        let url = without_length(&[b'x'; 1025]);
        let message = get(&url, 1024).await.unwrap_err().to_string();
        assert!(
            message.contains(&format!("cannot download {url}")),
            "{message}"
        );
        assert!(message.contains("larger than the 1 KiB limit"), "{message}");
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_url() {
        let address = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let url = format!("http://{address}/file.xml");
        let message = get(&url, 1024).await.unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("cannot download {url}: ")),
            "{message}"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(64 * 1024 * 1024), "64 MiB");
        assert_eq!(size(1024), "1 KiB");
        assert_eq!(size(1500), "1500 bytes");
    }
}
