//! What a request to fal is, read from its method and URL, as fal's
//! JavaScript client builds them: a queue submit, a synchronous run, a
//! stream, or a status, result or cancel of a queued request. Endpoint ids
//! may have sub-paths (`fal-ai/flux/dev`) and a namespace
//! (`workflows/owner/alias`); queued requests are addressed by the app
//! (`owner/alias`) and the request id.

use reqwest::Url;

pub use crate::service::provider::Call;

pub fn classify(method: &str, url: &Url) -> Call {
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|part| !part.is_empty()).collect())
        .unwrap_or_default();
    let host = url.host_str().unwrap_or_default();
    if host == "queue.fal.run" {
        if let Some(at) = segments.iter().position(|s| *s == "requests") {
            if at >= 2 {
                if let Some(id) = segments.get(at + 1) {
                    let request_id = (*id).to_string();
                    return match (method, &segments[at + 2..]) {
                        ("GET", []) => Call::Result { request_id },
                        ("GET", ["status"]) => Call::Status { request_id },
                        ("PUT", ["cancel"]) => Call::Cancel { request_id },
                        _ => Call::Other,
                    };
                }
            }
        }
        if method == "POST" && segments.len() >= 2 {
            return Call::Submit {
                endpoint: segments.join("/"),
            };
        }
        return Call::Other;
    }
    if host == "fal.run" && method == "POST" && segments.len() >= 2 {
        if segments.len() >= 3 && segments.last() == Some(&"stream") {
            return Call::Stream {
                endpoint: segments[..segments.len() - 1].join("/"),
            };
        }
        return Call::Run {
            endpoint: segments.join("/"),
        };
    }
    Call::Other
}

/// The URL of a queued request's result, as fal's client builds it: the
/// app (`owner/alias`, after a namespace if any), the endpoint's sub-path
/// dropped.
pub fn result_url(endpoint: &str, request_id: &str) -> Option<Url> {
    let parts: Vec<&str> = endpoint.split('/').filter(|p| !p.is_empty()).collect();
    let app = match parts.as_slice() {
        [namespace @ ("workflows" | "comfy"), owner, alias, ..] => {
            format!("{namespace}/{owner}/{alias}")
        }
        [owner, alias, ..] => format!("{owner}/{alias}"),
        _ => return None,
    };
    Url::parse(&format!(
        "https://queue.fal.run/{app}/requests/{request_id}"
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str, url: &str) -> Call {
        classify(method, &Url::parse(url).unwrap())
    }

    #[test]
    fn requests_are_read_as_fal_client_builds_them() {
        let endpoint = |e: &str| e.to_string();
        assert_eq!(
            call("POST", "https://queue.fal.run/fal-ai/flux/dev"),
            Call::Submit {
                endpoint: endpoint("fal-ai/flux/dev")
            }
        );
        assert_eq!(
            call(
                "POST",
                "https://queue.fal.run/fal-ai/flux/dev?fal_webhook=x"
            ),
            Call::Submit {
                endpoint: endpoint("fal-ai/flux/dev")
            }
        );
        assert_eq!(
            call("POST", "https://fal.run/fal-ai/flux/schnell"),
            Call::Run {
                endpoint: endpoint("fal-ai/flux/schnell")
            }
        );
        assert_eq!(
            call("POST", "https://fal.run/fal-ai/flux/dev/stream"),
            Call::Stream {
                endpoint: endpoint("fal-ai/flux/dev")
            }
        );
        let id = || "764cabcf-b745".to_string();
        assert_eq!(
            call(
                "GET",
                "https://queue.fal.run/fal-ai/flux/requests/764cabcf-b745/status?logs=0"
            ),
            Call::Status { request_id: id() }
        );
        assert_eq!(
            call(
                "GET",
                "https://queue.fal.run/fal-ai/flux/requests/764cabcf-b745"
            ),
            Call::Result { request_id: id() }
        );
        assert_eq!(
            call(
                "PUT",
                "https://queue.fal.run/fal-ai/flux/requests/764cabcf-b745/cancel"
            ),
            Call::Cancel { request_id: id() }
        );
        assert_eq!(
            call(
                "GET",
                "https://queue.fal.run/fal-ai/flux/requests/764cabcf-b745/status/stream"
            ),
            Call::Other
        );
        assert_eq!(
            call(
                "POST",
                "https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3"
            ),
            Call::Other
        );
    }

    #[test]
    fn result_urls_drop_the_sub_path() {
        assert_eq!(
            result_url("fal-ai/flux/dev", "abc").unwrap().as_str(),
            "https://queue.fal.run/fal-ai/flux/requests/abc"
        );
        assert_eq!(
            result_url("workflows/me/flow/x", "abc").unwrap().as_str(),
            "https://queue.fal.run/workflows/me/flow/requests/abc"
        );
        assert!(result_url("single", "abc").is_none());
    }
}
