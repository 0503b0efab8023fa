//! Runway as a provider. A task is started (`POST /v1/image_to_video`,
//! `/v1/text_to_image`, `/v1/text_to_video` and the other task routes;
//! the answer names its `id`) and read (`GET /v1/tasks/{id}`); `DELETE
//! /v1/tasks/{id}` cancels it. Runway bills credits per second of video
//! or per image by model (1 credit = $0.01), so a task that SUCCEEDED is
//! billed its model's credits for the duration it asked for; a FAILED or
//! CANCELLED task is not charged. Statuses `PENDING|THROTTLED|RUNNING`
//! leave it pending.

use super::{is_success, json_object, kept_params, segments};
use crate::error::Result;
use crate::ledger::{Billing, Entry, Status};
use crate::money::Money;
use crate::pricing::params::Params;
use crate::service::fal::UnitPrices;
use crate::service::provider::{Answer, Call, Outcome, Provider};
use crate::service::runs::{Billed, RunReport};
use reqwest::Url;
use serde_json::{Map, Value};

pub const SOURCE: &str = "Runway";
const HOST: &str = "api.dev.runwayml.com";

/// The API version gencost reads tasks in (`X-Runway-Version`).
pub const VERSION: &str = "2024-11-06";

/// A credit's price: Runway sells credits at one US cent.
pub const CREDIT_MICROS: i64 = 10_000;

/// The routes that start a task.
const TASK_ROUTES: [&str; 13] = [
    "image_to_video",
    "text_to_video",
    "video_to_video",
    "text_to_image",
    "video_upscale",
    "image_upscale",
    "character_performance",
    "sound_effect",
    "text_to_speech",
    "speech_to_speech",
    "voice_dubbing",
    "voice_isolation",
    "video_to_audio",
];

pub struct Runway;

impl Provider for Runway {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn key_variable(&self) -> &'static str {
        "RUNWAYML_API_SECRET"
    }

    fn key_header(&self) -> (&'static str, &'static str) {
        ("authorization", "Bearer ")
    }

    fn allow(&self, target: &str) -> std::result::Result<Url, String> {
        super::check_url(target, HOST, SOURCE, |path| match path {
            ["v1", route] => {
                TASK_ROUTES.contains(route) || matches!(*route, "organization" | "uploads")
            }
            ["v1", "tasks", _] | ["v1", "organization", "usage"] => true,
            _ => false,
        })
    }

    /// Tasks start by POST, are read by GET and cancelled by DELETE; the
    /// organization is read by GET, its usage asked by POST.
    fn allows_method(&self, method: &str, target: &Url) -> bool {
        match segments(target).as_slice() {
            ["v1", "tasks", _] => matches!(method, "GET" | "DELETE"),
            ["v1", "organization"] => method == "GET",
            _ => method == "POST",
        }
    }

    fn classify(&self, method: &str, target: &Url, body: &[u8]) -> Call {
        match (method, segments(target).as_slice()) {
            ("POST", ["v1", route]) if TASK_ROUTES.contains(route) => {
                let model = json_object(body)
                    .and_then(|b| b.get("model").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_else(|| route.to_string());
                Call::Submit {
                    endpoint: format!("runway/{model}"),
                }
            }
            ("GET", ["v1", "tasks", id]) => Call::Status {
                request_id: id.to_string(),
            },
            ("DELETE", ["v1", "tasks", id]) => Call::Cancel {
                request_id: id.to_string(),
            },
            _ => Call::Other,
        }
    }

    fn params(&self, body: &[u8]) -> Map<String, Value> {
        kept_params(json_object(body).unwrap_or_default())
    }

    fn forwards(&self, header: &str) -> bool {
        matches!(
            header,
            "accept" | "content-type" | "user-agent" | "x-runway-version"
        )
    }

    fn reads_answer(&self, call: &Call, status: u16) -> bool {
        is_success(status) && matches!(call, Call::Submit { .. } | Call::Status { .. })
    }

    fn outcome(&self, call: Call, answer: &Answer) -> Outcome {
        if !is_success(answer.status) {
            return Outcome::Nothing;
        }
        let body = answer.body.and_then(json_object);
        match call {
            Call::Submit { endpoint } => {
                match body.and_then(|b| b.get("id").and_then(Value::as_str).map(str::to_string)) {
                    Some(id) if !id.trim().is_empty() => Outcome::Started {
                        endpoint,
                        request_id: Some(id),
                    },
                    _ => Outcome::Unreadable(format!(
                        "the task of {endpoint} was answered without an id; it is not logged"
                    )),
                }
            }
            Call::Status { request_id } => match body.as_ref().and_then(task_status) {
                Some(status) => Outcome::Settled {
                    request_id,
                    report: RunReport {
                        status: Some(status),
                        ..RunReport::default()
                    },
                },
                None => Outcome::Nothing,
            },
            Call::Cancel { request_id } => Outcome::Cancelled { request_id },
            _ => Outcome::Nothing,
        }
    }

    /// A task that succeeded costs its model's credits for what it asked
    /// (the catalog's formula over the logged parameters: seconds of
    /// video, an image of a resolution), in credits at $0.01.
    fn bill(
        &self,
        entry: &Entry,
        report: &RunReport,
        prices: &UnitPrices,
    ) -> Result<Option<Billed>> {
        if report.status != Some(Status::Succeeded) {
            return Ok(None);
        }
        let model = entry.model.clone().unwrap_or_default();
        let Some(priced) = prices.catalog().get(&model) else {
            return Ok(None);
        };
        let Some(formula) = &priced.formula else {
            return Ok(None);
        };
        let params: Map<String, Value> = serde_json::from_str(&entry.params).unwrap_or_default();
        let Ok(quote) = formula.quote(&Params::new(&params, &priced.defaults), priced.currency)
        else {
            return Ok(None);
        };
        // Credits to the micro-credit: dollars × 100.
        let Some(micro_credits) = quote.micros.checked_mul(1_000_000 / CREDIT_MICROS) else {
            return Ok(None);
        };
        let credits = crate::money::decimal_string(micro_credits);
        Ok(Some(Billed {
            billing: Billing {
                units: credits,
                endpoint: model,
                unit_price: Some("0.01".into()),
                unit: Some("credits".into()),
                price_date: Some(priced.verified_label()),
                price_from: Some("catalog".into()),
                rounded: None,
                usage: None,
            },
            cost: Some(Money::new(quote.micros, priced.currency)),
        }))
    }

    /// `DELETE /v1/tasks/{id}` cancels a task under way but deletes one
    /// that ended, answering 204 either way: the task is read first.
    fn reads_before_cancel(&self) -> bool {
        true
    }

    fn status_path(&self, request_id: &str) -> Option<String> {
        let plain = !request_id.is_empty()
            && request_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        plain.then(|| format!("/v1/tasks/{request_id}"))
    }

    /// Runway's error shape; it refuses a task an organization has not
    /// the credits for with 400.
    fn refusal(&self, message: &str) -> (u16, Value) {
        (
            400,
            serde_json::json!({ "error": message, "docUrl": "https://docs.dev.runwayml.com/api" }),
        )
    }
}

/// A task's status, if it ended: SUCCEEDED, FAILED, CANCELLED (Runway
/// spells it with two Ls; one is taken too).
pub fn task_status(task: &Map<String, Value>) -> Option<Status> {
    match task.get("status")?.as_str()? {
        "SUCCEEDED" => Some(Status::Succeeded),
        "FAILED" => Some(Status::Failed),
        "CANCELLED" | "CANCELED" => Some(Status::Cancelled),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_route_names_its_model_and_a_task_read_settles_it_once_ended() {
        let url = |path: &str| {
            Runway
                .allow(&format!("https://api.dev.runwayml.com{path}"))
                .unwrap()
        };
        assert_eq!(
            Runway.classify(
                "POST",
                &url("/v1/image_to_video"),
                br#"{"model":"gen4_turbo","duration":5}"#
            ),
            Call::Submit {
                endpoint: "runway/gen4_turbo".into()
            }
        );
        assert_eq!(
            Runway.classify("DELETE", &url("/v1/tasks/t-1"), b""),
            Call::Cancel {
                request_id: "t-1".into()
            }
        );
        let task = |status: &str| {
            json_object(format!(r#"{{"id":"t","status":"{status}"}}"#).as_bytes()).unwrap()
        };
        assert_eq!(task_status(&task("RUNNING")), None);
        assert_eq!(task_status(&task("THROTTLED")), None);
        assert_eq!(task_status(&task("SUCCEEDED")), Some(Status::Succeeded));
        assert_eq!(task_status(&task("CANCELLED")), Some(Status::Cancelled));
        assert!(Runway
            .allow("https://api.dev.runwayml.com/v1/avatars")
            .is_err());
    }
}
