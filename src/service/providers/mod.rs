//! The providers besides fal, each reached at `/{feed}/v1/...` on `serve`
//! with its official client's base URL pointed there: OpenAI Images,
//! Replicate, Runway and ElevenLabs. Each is one `Provider`; what they
//! share (reading a JSON answer, a URL's checks, a form's fields) is here.

pub mod elevenlabs;
pub mod openai;
pub mod reconcile;
pub mod replicate;
pub mod runway;
pub mod usage;

use super::provider::Provider;
use reqwest::Url;
use serde_json::{Map, Value};

/// A provider reached by path: `/{name}/v1/...` goes to `{base}/v1/...`.
pub struct Feed {
    /// The route's first segment, and the stem of its `--NAME-upstream`.
    pub name: &'static str,
    /// The provider's API origin.
    pub base: &'static str,
    pub provider: &'static dyn Provider,
}

pub static FEEDS: [Feed; 4] = [
    Feed {
        name: "openai",
        base: "https://api.openai.com",
        provider: &openai::OpenAi,
    },
    Feed {
        name: "replicate",
        base: "https://api.replicate.com",
        provider: &replicate::Replicate,
    },
    Feed {
        name: "runway",
        base: "https://api.dev.runwayml.com",
        provider: &runway::Runway,
    },
    Feed {
        name: "elevenlabs",
        base: "https://api.elevenlabs.io",
        provider: &elevenlabs::ElevenLabs,
    },
];

/// The feed a source names (compared by the folding rule).
pub fn feed_of(source: &str) -> Option<&'static Feed> {
    let folded = crate::ledger::tags::fold(source);
    FEEDS
        .iter()
        .find(|feed| crate::ledger::tags::fold(feed.provider.source()) == folded)
}

/// `text` as a URL of `host` over https, with no credentials or port, and
/// a path `allowed` takes; else why not, naming `provider`.
pub fn check_url(
    text: &str,
    host: &str,
    provider: &str,
    allowed: impl Fn(&[&str]) -> bool,
) -> Result<Url, String> {
    let clip: String = text.chars().take(200).collect();
    let url = Url::parse(text.trim()).map_err(|e| format!("'{clip}' is not a URL: {e}"))?;
    if url.scheme() != "https" || url.host_str() != Some(host) {
        return Err(format!("{clip} is not on {host}"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.port().is_some() {
        return Err(format!("{clip} carries credentials or a port"));
    }
    let segments: Vec<&str> = url.path().trim_start_matches('/').split('/').collect();
    let plain = segments
        .iter()
        .all(|s| !s.is_empty() && *s != "." && *s != ".." && !s.contains('%'));
    if plain && allowed(&segments) {
        Ok(url)
    } else {
        Err(format!(
            "{} is not a {provider} endpoint this proxy forwards to",
            url.path()
        ))
    }
}

/// The segments of a target's path (`/v1/tasks/x` → `v1`, `tasks`, `x`).
pub fn segments(target: &Url) -> Vec<&str> {
    target.path().trim_start_matches('/').split('/').collect()
}

/// A JSON object body, if it is one.
pub fn json_object(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// The run's parameters from an object: inline files (`data:` URIs, long
/// base64) replaced by their size, as fal's are.
pub fn kept_params(mut map: Map<String, Value>) -> Map<String, Value> {
    let body = serde_json::to_vec(&Value::Object(std::mem::take(&mut map))).unwrap_or_default();
    super::fal::input_params(&body)
}

/// The text fields of a `multipart/form-data` body (the form's boundary
/// is its first line); file parts are counted under `files`.
pub fn form_fields(body: &[u8]) -> Map<String, Value> {
    let mut fields = Map::new();
    let Some(first_line_end) = find(body, b"\r\n") else {
        return fields;
    };
    let boundary = &body[..first_line_end];
    if !boundary.starts_with(b"--") || boundary.len() < 3 {
        return fields;
    }
    let mut separator = b"\r\n".to_vec();
    separator.extend_from_slice(boundary);
    let mut files = 0u64;
    let mut rest = &body[first_line_end + 2..];
    while let Some(end) = find(rest, &separator) {
        let part = &rest[..end];
        rest = &rest[end + separator.len()..];
        rest = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let Some(split) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]).to_ascii_lowercase();
        let value = &part[split + 4..];
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
            .map(str::to_string);
        if head.contains("filename=") {
            files += 1;
            continue;
        }
        if let (Some(name), Ok(text)) = (name, std::str::from_utf8(value)) {
            let name = name.trim_end_matches("[]").to_string();
            fields
                .entry(name)
                .or_insert_with(|| Value::String(text.to_string()));
        }
    }
    if files > 0 {
        fields.insert("files".into(), Value::from(files));
    }
    fields
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_gives_its_text_fields_and_counts_its_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-image-1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ\r\nContent-Disposition: form-data; name=\"size\"\r\n\r\n1024x1536\r\n--XyZ--\r\n";
        let fields = form_fields(body);
        assert_eq!(fields["model"], "gpt-image-1");
        assert_eq!(fields["size"], "1024x1536");
        assert_eq!(fields["files"], 1);
        assert!(form_fields(b"{\"model\":\"x\"}").is_empty());
    }

    #[test]
    fn only_the_named_host_and_plain_paths_pass() {
        let allow = |segments: &[&str]| segments == ["v1", "things"];
        assert!(check_url(
            "https://api.example.com/v1/things",
            "api.example.com",
            "X",
            allow
        )
        .is_ok());
        for bad in [
            "http://api.example.com/v1/things",
            "https://api.example.com:444/v1/things",
            "https://user@api.example.com/v1/things",
            "https://evil.example/v1/things",
            "https://api.example.com/v1/other",
            "https://api.example.com/v1/things/../admin",
            "https://api.example.com/v1/%74hings",
        ] {
            assert!(
                check_url(bad, "api.example.com", "X", allow).is_err(),
                "{bad}"
            );
        }
    }
}
