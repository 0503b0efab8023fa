//! The proxy's allowlist: a client names the fal URL it would have called
//! (`x-fal-target-url`); only fal's run, queue and CDN-upload endpoints
//! pass, so the proxy can never be used to reach anything else with the
//! studio's key.

use reqwest::Url;

/// Why a target is refused, in words for the error message.
pub fn check(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("'{}' is not a URL: {e}", clip(text)))?;
    if url.scheme() != "https" {
        return Err(format!("{} is not https", clip(text)));
    }
    if !url.username().is_empty() || url.password().is_some() || url.port().is_some() {
        return Err(format!("{} carries credentials or a port", clip(text)));
    }
    let host = url.host_str().unwrap_or_default();
    let allowed = match host {
        "fal.run" | "queue.fal.run" => url.path().len() > 1,
        "rest.fal.ai" => {
            matches!(
                url.path(),
                "/storage/upload/initiate" | "/storage/upload/complete-multipart"
            ) && url
                .query_pairs()
                .any(|(k, v)| k == "storage_type" && v == "fal-cdn-v3")
        }
        _ => false,
    };
    if allowed {
        Ok(url)
    } else {
        Err(format!(
            "{} is not a fal.ai endpoint this proxy forwards to (fal.run, queue.fal.run, or rest.fal.ai's CDN upload)",
            clip(text)
        ))
    }
}

/// At most 200 characters of a URL for a message.
fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fal_run_queue_and_cdn_uploads_pass() {
        for ok in [
            "https://fal.run/fal-ai/flux/dev",
            "https://queue.fal.run/fal-ai/flux/dev",
            "https://queue.fal.run/fal-ai/flux/requests/abc/status",
            "https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3",
            "https://rest.fal.ai/storage/upload/complete-multipart?storage_type=fal-cdn-v3",
        ] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://evil.example/",
            "http://fal.run/fal-ai/flux/dev",
            "https://fal.run/",
            "https://fal.run.evil.example/x",
            "https://user:pw@fal.run/fal-ai/flux/dev",
            "https://fal.run:8443/fal-ai/flux/dev",
            "https://rest.fal.ai/storage/upload/initiate",
            "https://rest.fal.ai/storage/upload/initiate?storage_type=gcs",
            "https://rest.fal.ai/admin",
            "https://api.fal.ai/v1/models/pricing",
            "not a url",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
