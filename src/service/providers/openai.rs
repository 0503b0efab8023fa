//! OpenAI Images as a provider: `POST /v1/images/generations` and
//! `/v1/images/edits` run synchronously, so each is logged and settled from
//! its one answer. The answer's `usage` (input tokens split into text and
//! image, output tokens, split where OpenAI says so) × the model's price
//! per token kind is the confirmed cost. A refused call (400: moderation,
//! a bad size) and a server error are failures, uncharged; an answer that
//! never reached a run (401, 403, 404, 429) logs nothing.

use super::{form_fields, is_success, json_object, kept_params, segments};
use crate::error::Result;
use crate::ledger::{Billing, Entry, Status};
use crate::money::Money;
use crate::pricing::formula::{token_cost, Formula};
use crate::service::fal::UnitPrices;
use crate::service::provider::{Answer, Call, Outcome, Provider};
use crate::service::runs::{Billed, RunReport};
use reqwest::Url;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const SOURCE: &str = "OpenAI";
const HOST: &str = "api.openai.com";

/// The catalog endpoints of OpenAI's models: `openai/gpt-image-1`.
pub fn endpoint(model: &str) -> String {
    format!("openai/{}", model.trim())
}

pub struct OpenAi;

impl Provider for OpenAi {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn key_variable(&self) -> &'static str {
        "OPENAI_API_KEY"
    }

    fn key_header(&self) -> (&'static str, &'static str) {
        ("authorization", "Bearer ")
    }

    fn allow(&self, target: &str) -> std::result::Result<Url, String> {
        super::check_url(target, HOST, SOURCE, |path| {
            matches!(
                path,
                ["v1", "images", "generations" | "edits" | "variations"]
            )
        })
    }

    fn allows_method(&self, method: &str, _target: &Url) -> bool {
        method == "POST"
    }

    /// The images come back inline (base64) before `usage`: the whole
    /// answer is read, up to 10 large images.
    fn answer_limit(&self) -> usize {
        128 * 1024 * 1024
    }

    fn classify(&self, method: &str, target: &Url, body: &[u8]) -> Call {
        if method != "POST" || segments(target).len() != 3 {
            return Call::Other;
        }
        let params = request_fields(body);
        // OpenAI's own default when a call names no model.
        let model = params
            .get("model")
            .and_then(Value::as_str)
            .filter(|m| !m.trim().is_empty())
            .unwrap_or("dall-e-2");
        Call::Run {
            endpoint: endpoint(model),
        }
    }

    fn params(&self, body: &[u8]) -> Map<String, Value> {
        kept_params(request_fields(body))
    }

    fn forwards(&self, header: &str) -> bool {
        matches!(
            header,
            "accept"
                | "content-type"
                | "user-agent"
                | "openai-organization"
                | "openai-project"
                | "openai-beta"
                | "idempotency-key"
        ) || header.starts_with("x-stainless-")
    }

    fn reads_answer(&self, call: &Call, status: u16) -> bool {
        is_success(status) && matches!(call, Call::Run { .. })
    }

    fn outcome(&self, call: Call, answer: &Answer) -> Outcome {
        let Call::Run { endpoint } = call else {
            return Outcome::Nothing;
        };
        let request_id = (answer.header)("x-request-id").map(str::to_string);
        let status = match answer.status {
            200..=299 => Status::Succeeded,
            400 | 500..=599 => Status::Failed,
            _ => return Outcome::Nothing,
        };
        let usage = match status {
            Status::Succeeded => answer.body.and_then(usage_of),
            _ => None,
        };
        Outcome::Finished {
            endpoint,
            request_id,
            report: RunReport {
                status: Some(status),
                usage,
                ..RunReport::default()
            },
        }
    }

    fn bill(
        &self,
        entry: &Entry,
        report: &RunReport,
        prices: &UnitPrices,
    ) -> Result<Option<Billed>> {
        let Some(usage) = &report.usage else {
            return Ok(None);
        };
        let model = entry.model.clone().unwrap_or_default();
        let total: i64 = usage.values().sum();
        let mut billing = Billing {
            units: total.to_string(),
            endpoint: model.clone(),
            unit_price: None,
            unit: Some("tokens".into()),
            price_date: None,
            price_from: None,
            rounded: None,
            usage: Some(usage.clone()),
        };
        let priced = prices.catalog().get(&model).and_then(|m| match &m.formula {
            Some(Formula::PerTokenKind { per_million, .. }) => {
                let quote = token_cost(per_million, usage, m.currency).ok()?;
                Some((quote, m))
            }
            _ => None,
        });
        let cost = priced.map(|(quote, model)| {
            billing.price_date = Some(model.verified_label());
            billing.price_from = Some("catalog".into());
            Money::new(quote.micros, model.currency)
        });
        Ok(Some(Billed { billing, cost }))
    }

    /// OpenAI's error shape, as it refuses a call past an account's hard
    /// billing limit: 400 `billing_hard_limit_reached` (a 400 its clients
    /// do not retry).
    fn refusal(&self, message: &str) -> (u16, Value) {
        (
            400,
            serde_json::json!({
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": null,
                    "code": "billing_hard_limit_reached",
                }
            }),
        )
    }
}

/// The request's fields: a JSON body's, or a form's (edits).
fn request_fields(body: &[u8]) -> Map<String, Value> {
    json_object(body).unwrap_or_else(|| form_fields(body))
}

/// The token counts of an answer's `usage`, by kind: input split into
/// text and image by `input_tokens_details`, output split by
/// `output_tokens_details` where given (else all image output). A
/// streamed answer's `usage` is read from its completed event.
fn usage_of(body: &[u8]) -> Option<BTreeMap<String, i64>> {
    let usage = match json_object(body) {
        Some(answer) => answer.get("usage").cloned(),
        None => streamed_usage(body),
    }?;
    let count = |value: Option<&Value>| value.and_then(Value::as_i64).filter(|n| *n >= 0);
    let input = count(usage.get("input_tokens"))?;
    let output = count(usage.get("output_tokens"))?;
    let mut kinds = BTreeMap::new();
    match usage.get("input_tokens_details") {
        Some(details) if details.is_object() => {
            let text = count(details.get("text_tokens")).unwrap_or(0);
            let image = count(details.get("image_tokens")).unwrap_or(0);
            // Whatever the details do not name is text.
            kinds.insert(
                "text_input".to_string(),
                text + (input - text - image).max(0),
            );
            kinds.insert("image_input".to_string(), image);
        }
        _ => {
            kinds.insert("text_input".to_string(), input);
        }
    }
    match usage.get("output_tokens_details") {
        Some(details) if details.is_object() => {
            let text = count(details.get("text_tokens")).unwrap_or(0);
            kinds.insert("text_output".to_string(), text);
            kinds.insert("image_output".to_string(), (output - text).max(0));
        }
        _ => {
            kinds.insert("image_output".to_string(), output);
        }
    }
    kinds.retain(|_, tokens| *tokens != 0);
    Some(kinds)
}

/// The `usage` of a streamed answer's completed event
/// (`image_generation.completed`, `image_edit.completed`).
fn streamed_usage(body: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(body).ok()?;
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .filter(|event| {
            event
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with(".completed"))
        })
        .find_map(|event| event.get("usage").cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_splits_tokens_by_kind() {
        let body = br#"{"created":1,"data":[{"b64_json":"AA"}],"usage":{"input_tokens":50,"input_tokens_details":{"text_tokens":10,"image_tokens":40},"output_tokens":4160,"total_tokens":4210}}"#;
        let usage = usage_of(body).unwrap();
        assert_eq!(usage["text_input"], 10);
        assert_eq!(usage["image_input"], 40);
        assert_eq!(usage["image_output"], 4160);
        assert!(!usage.contains_key("text_output"));
        let split = br#"{"usage":{"input_tokens":12,"output_tokens":1100,"output_tokens_details":{"image_tokens":1056,"text_tokens":44},"total_tokens":1112}}"#;
        let usage = usage_of(split).unwrap();
        assert_eq!(usage["text_input"], 12);
        assert_eq!(usage["image_output"], 1056);
        assert_eq!(usage["text_output"], 44);
        assert_eq!(usage_of(br#"{"created":1,"data":[]}"#), None);
        assert_eq!(
            usage_of(br#"{"usage":{"input_tokens":-1,"output_tokens":2}}"#),
            None
        );
        let streamed = b"event: image_generation.completed\ndata: {\"type\":\"image_generation.completed\",\"usage\":{\"input_tokens\":9,\"output_tokens\":272}}\n\n";
        assert_eq!(usage_of(streamed).unwrap()["image_output"], 272);
    }

    #[test]
    fn a_call_names_its_model_and_only_image_routes_pass() {
        let target = OpenAi
            .allow("https://api.openai.com/v1/images/generations")
            .unwrap();
        assert_eq!(
            OpenAi.classify("POST", &target, br#"{"model":"gpt-image-1","prompt":"x"}"#),
            Call::Run {
                endpoint: "openai/gpt-image-1".into()
            }
        );
        for bad in [
            "https://api.openai.com/v1/chat/completions",
            "https://api.openai.com/v1/files",
            "https://api.openai.com.evil.example/v1/images/generations",
        ] {
            assert!(OpenAi.allow(bad).is_err(), "{bad}");
        }
    }
}
