//! Replicate as a provider. A prediction is created (`POST
//! /v1/predictions`, `/v1/models/{owner}/{name}/predictions`,
//! `/v1/deployments/{owner}/{name}/predictions`) and read
//! (`GET /v1/predictions/{id}`); with `Prefer: wait` the create may answer
//! it finished. Replicate's answer carries no dollar figure: an official
//! model is priced per output (the count of `output`), any other by
//! `metrics.predict_time` × the per-second price of the hardware its
//! catalog entry names. Statuses `starting|processing` leave a run
//! pending; `succeeded`, `failed`, `canceled` (and `aborted`, never
//! started) settle it. `reconcile` reads open predictions again.

use super::{is_success, json_object, kept_params, segments};
use crate::error::Result;
use crate::fal::json::FalObject;
use crate::ledger::{Entry, Status};
use crate::service::fal::UnitPrices;
use crate::service::provider::{Answer, Call, Outcome, Provider};
use crate::service::runs::{bill_units, Billed, RunReport};
use reqwest::Url;
use serde_json::{Map, Value};

pub const SOURCE: &str = "Replicate";
const HOST: &str = "api.replicate.com";

pub struct Replicate;

impl Provider for Replicate {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn key_variable(&self) -> &'static str {
        "REPLICATE_API_TOKEN"
    }

    fn key_header(&self) -> (&'static str, &'static str) {
        ("authorization", "Bearer ")
    }

    fn allow(&self, target: &str) -> std::result::Result<Url, String> {
        super::check_url(target, HOST, SOURCE, |path| {
            matches!(
                path,
                ["v1", "predictions"]
                    | ["v1", "predictions", _]
                    | ["v1", "predictions", _, "cancel"]
                    | ["v1", "models", _, _]
                    | ["v1", "models", _, _, "predictions"]
                    | ["v1", "models", _, _, "versions", _]
                    | ["v1", "deployments", _, _, "predictions"]
                    | ["v1", "files"]
            )
        })
    }

    /// Reads are GET; creates, cancels and uploads POST; nothing else
    /// (Replicate deletes models and versions by DELETE).
    fn allows_method(&self, method: &str, target: &Url) -> bool {
        match segments(target).as_slice() {
            ["v1", "predictions"] | ["v1", "files"] => method == "POST",
            ["v1", "predictions", _] => method == "GET",
            ["v1", "predictions", _, "cancel"]
            | ["v1", "models", _, _, "predictions"]
            | ["v1", "deployments", _, _, "predictions"] => method == "POST",
            ["v1", "models", _, _] | ["v1", "models", _, _, "versions", _] => method == "GET",
            _ => false,
        }
    }

    fn classify(&self, method: &str, target: &Url, body: &[u8]) -> Call {
        match (method, segments(target).as_slice()) {
            ("POST", ["v1", "predictions"]) => {
                let version = json_object(body)
                    .and_then(|b| b.get("version").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_default();
                Call::Submit {
                    endpoint: version_endpoint(&version),
                }
            }
            ("POST", ["v1", "models", owner, name, "predictions"]) => Call::Submit {
                endpoint: format!("replicate/{owner}/{name}"),
            },
            ("POST", ["v1", "deployments", owner, name, "predictions"]) => Call::Submit {
                endpoint: format!("replicate/deployments/{owner}/{name}"),
            },
            ("GET", ["v1", "predictions", id]) => Call::Status {
                request_id: id.to_string(),
            },
            ("POST", ["v1", "predictions", id, "cancel"]) => Call::Cancel {
                request_id: id.to_string(),
            },
            _ => Call::Other,
        }
    }

    /// The model's `input` (its parameters), and the version run.
    fn params(&self, body: &[u8]) -> Map<String, Value> {
        let Some(request) = json_object(body) else {
            return Map::new();
        };
        let mut params = match request.get("input") {
            Some(Value::Object(input)) => input.clone(),
            _ => Map::new(),
        };
        if let Some(version) = request.get("version").filter(|v| v.is_string()) {
            params.insert("version".into(), version.clone());
        }
        kept_params(params)
    }

    fn forwards(&self, header: &str) -> bool {
        matches!(
            header,
            "accept" | "content-type" | "user-agent" | "prefer" | "cancel-after"
        )
    }

    fn reads_answer(&self, call: &Call, status: u16) -> bool {
        is_success(status)
            && matches!(
                call,
                Call::Submit { .. } | Call::Status { .. } | Call::Cancel { .. }
            )
    }

    fn outcome(&self, call: Call, answer: &Answer) -> Outcome {
        if !is_success(answer.status) {
            return Outcome::Nothing;
        }
        let prediction = answer.body.and_then(|b| FalObject::from_slice(b).ok());
        match call {
            Call::Submit { endpoint } => {
                let Some(prediction) = prediction else {
                    return Outcome::Unreadable(format!(
                        "the prediction of {endpoint} was answered without a readable body; it is not logged"
                    ));
                };
                let Some(id) = prediction.text("id").filter(|id| !id.trim().is_empty()) else {
                    return Outcome::Unreadable(format!(
                        "the prediction of {endpoint} was answered without an id; it is not logged"
                    ));
                };
                // A bare version id names no model: the answer does.
                let endpoint = match prediction.text("model") {
                    Some(model) if endpoint.starts_with("replicate/version/") => {
                        format!("replicate/{model}")
                    }
                    _ => endpoint,
                };
                let report = report_of(&prediction);
                if report.status.is_some() {
                    Outcome::Finished {
                        endpoint,
                        request_id: Some(id),
                        report,
                    }
                } else {
                    Outcome::Started {
                        endpoint,
                        request_id: Some(id),
                    }
                }
            }
            Call::Status { request_id } | Call::Cancel { request_id } => {
                match prediction.map(|p| report_of(&p)) {
                    Some(report) if report.status.is_some() => {
                        Outcome::Settled { request_id, report }
                    }
                    _ => Outcome::Nothing,
                }
            }
            _ => Outcome::Nothing,
        }
    }

    /// Per output for a model priced per output, per compute second for
    /// one priced by time; a failed run of a model priced per output made
    /// nothing to bill.
    fn bill(
        &self,
        entry: &Entry,
        report: &RunReport,
        prices: &UnitPrices,
    ) -> Result<Option<Billed>> {
        let model = entry.model.clone().unwrap_or_default();
        let by_time = match prices.get(&model, entry.occurred_at.day()) {
            Some(found) => found.unit == "compute seconds",
            // Unpriced: the time is what a price would be applied to.
            None => true,
        };
        let units = if by_time {
            report.compute_seconds.clone()
        } else if report.status == Some(Status::Succeeded) {
            report.outputs.map(|n| n.to_string())
        } else {
            None
        };
        let Some(units) = units else {
            return Ok(None);
        };
        let (what, unit) = if by_time {
            ("metrics.predict_time", Some("compute seconds"))
        } else {
            ("output", None)
        };
        bill_units(prices, entry, what, &units, model, unit).map(Some)
    }

    fn status_path(&self, request_id: &str) -> Option<String> {
        plain_id(request_id).then(|| format!("/v1/predictions/{request_id}"))
    }

    /// Replicate's problem shape, with 402: what it answers an account
    /// without credit.
    fn refusal(&self, message: &str) -> (u16, Value) {
        (
            402,
            serde_json::json!({ "title": "Payment Required", "detail": message, "status": 402 }),
        )
    }
}

/// An id that is one path segment.
fn plain_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The endpoint a `version` names: `owner/name:id` and `owner/name` name
/// their model; a bare version id is kept as it is.
fn version_endpoint(version: &str) -> String {
    let model = version.split(':').next().unwrap_or_default().trim();
    if model.contains('/') {
        format!("replicate/{model}")
    } else {
        format!("replicate/version/{model}")
    }
}

/// What a prediction says of its run: a terminal status, its predict
/// time (kept as written, and as the duration), and its outputs (unknown
/// once Replicate removed the data).
pub fn report_of(prediction: &FalObject) -> RunReport {
    let status = match prediction.text("status").as_deref() {
        Some("succeeded") => Some(Status::Succeeded),
        Some("failed") => Some(Status::Failed),
        Some("canceled" | "aborted") => Some(Status::Cancelled),
        _ => None,
    };
    let predict_time = prediction
        .object("metrics")
        .and_then(|m| m.number("predict_time").ok().flatten())
        .filter(|t| !t.is_negative());
    let compute_seconds = predict_time.as_ref().and_then(|t| {
        let rounded = t.round_to(6, 1_000_000_000_000_000)?;
        Some(crate::money::decimal_string(
            i64::try_from(rounded.value).ok()?,
        ))
    });
    let duration_ms = predict_time
        .and_then(|t| t.shifted(3).round_to(0, 1_000_000_000_000))
        .and_then(|ms| i64::try_from(ms.value).ok());
    let removed = prediction.flag("data_removed").unwrap_or(false);
    let outputs = if removed {
        None
    } else {
        prediction
            .raw("output")
            .map(|raw| match serde_json::from_str::<Value>(raw.get()) {
                Ok(Value::Null) | Err(_) => 0,
                Ok(Value::Array(items)) => items.iter().filter(|i| !i.is_null()).count() as u64,
                Ok(_) => 1,
            })
    };
    RunReport {
        status,
        duration_ms,
        outputs: outputs.filter(|_| status.is_some()),
        compute_seconds: compute_seconds.filter(|_| status.is_some()),
        ..RunReport::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: &str) -> RunReport {
        report_of(&FalObject::from_slice(json.as_bytes()).unwrap())
    }

    #[test]
    fn a_prediction_reports_outputs_and_predict_time_once_it_ended() {
        let done = report(
            r#"{"id":"p1","status":"succeeded","output":["https://a","https://b"],"metrics":{"predict_time":2.1234567}}"#,
        );
        assert_eq!(done.status, Some(Status::Succeeded));
        assert_eq!(done.outputs, Some(2));
        assert_eq!(done.compute_seconds.as_deref(), Some("2.123457"));
        assert_eq!(done.duration_ms, Some(2123));
        let running = report(r#"{"id":"p1","status":"processing","output":null}"#);
        assert_eq!(running, RunReport::default());
        let removed = report(r#"{"status":"succeeded","output":null,"data_removed":true}"#);
        assert_eq!(removed.outputs, None);
        assert_eq!(
            report(r#"{"status":"aborted"}"#).status,
            Some(Status::Cancelled)
        );
    }

    #[test]
    fn a_create_names_its_model() {
        let url = |path: &str| {
            Replicate
                .allow(&format!("https://api.replicate.com{path}"))
                .unwrap()
        };
        assert_eq!(
            Replicate.classify(
                "POST",
                &url("/v1/models/black-forest-labs/flux-schnell/predictions"),
                b"{}"
            ),
            Call::Submit {
                endpoint: "replicate/black-forest-labs/flux-schnell".into()
            }
        );
        assert_eq!(
            Replicate.classify(
                "POST",
                &url("/v1/predictions"),
                br#"{"version":"acme/upscaler:5c7d","input":{}}"#
            ),
            Call::Submit {
                endpoint: "replicate/acme/upscaler".into()
            }
        );
        assert!(Replicate
            .allow("https://api.replicate.com/v1/account")
            .is_err());
        assert!(Replicate
            .allow("https://api.replicate.com/v1/trainings")
            .is_err());
    }
}
