//! ElevenLabs as a provider: text to speech (`POST
//! /v1/text-to-speech/{voice_id}` and its `/stream` and
//! `/with-timestamps` forms), sound effects (`/v1/sound-generation`),
//! music (`/v1/music` and its forms) and dialogue run synchronously, so
//! each is logged and settled from its one answer. The `character-cost`
//! header is the credits charged; they are kept on the entry as billed
//! units, and cost credits × the plan's credit price, which the user sets
//! in their pricing file (`elevenlabs/credits`, with `from` as any price):
//! unpriced until then, and priced by `pricing reprice` once a price is in
//! force for the run's day. The headers arrive before the audio, so a
//! stream is logged as it starts.

use super::{is_success, json_object, kept_params, segments};
use crate::error::Result;
use crate::ledger::{Entry, Status};
use crate::service::fal::UnitPrices;
use crate::service::provider::{Answer, Call, Outcome, Provider};
use crate::service::runs::{bill_units, Billed, RunReport};
use reqwest::Url;
use serde_json::{Map, Value};

pub const SOURCE: &str = "ElevenLabs";
const HOST: &str = "api.elevenlabs.io";

/// What ElevenLabs credits are priced as: one price per plan, in the
/// user's pricing file.
pub const CREDITS_ENDPOINT: &str = "elevenlabs/credits";

pub struct ElevenLabs;

impl Provider for ElevenLabs {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn key_variable(&self) -> &'static str {
        "ELEVENLABS_API_KEY"
    }

    fn key_header(&self) -> (&'static str, &'static str) {
        ("xi-api-key", "")
    }

    fn allow(&self, target: &str) -> std::result::Result<Url, String> {
        super::check_url(target, HOST, SOURCE, |path| {
            generation(path).is_some()
                || matches!(
                    path,
                    ["v1", "voices"] | ["v1", "models"] | ["v1", "user", "subscription"]
                )
        })
    }

    /// Generations are POST; the voices, models and subscription GET.
    fn allows_method(&self, method: &str, target: &Url) -> bool {
        match generation(&segments(target)) {
            Some(_) => method == "POST",
            None => method == "GET",
        }
    }

    fn classify(&self, method: &str, target: &Url, body: &[u8]) -> Call {
        let path = segments(target);
        match (method, generation(&path)) {
            ("POST", Some(default_model)) => {
                let model = json_object(body)
                    .and_then(|b| {
                        b.get("model_id")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .filter(|m| !m.trim().is_empty())
                    .unwrap_or_else(|| default_model.to_string());
                Call::Run {
                    endpoint: format!("elevenlabs/{model}"),
                }
            }
            _ => Call::Other,
        }
    }

    fn params(&self, body: &[u8]) -> Map<String, Value> {
        kept_params(json_object(body).unwrap_or_default())
    }

    fn forwards(&self, header: &str) -> bool {
        matches!(header, "accept" | "content-type" | "user-agent")
    }

    fn reads_answer(&self, _call: &Call, _status: u16) -> bool {
        false
    }

    fn outcome(&self, call: Call, answer: &Answer) -> Outcome {
        let Call::Run { endpoint } = call else {
            return Outcome::Nothing;
        };
        let status = match answer.status {
            status if is_success(status) => Status::Succeeded,
            500..=599 => Status::Failed,
            // Refused before it ran (a bad key, no quota, a bad field).
            _ => return Outcome::Nothing,
        };
        let units = (answer.header)("character-cost")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        Outcome::Finished {
            endpoint,
            request_id: (answer.header)("request-id").map(str::to_string),
            report: RunReport {
                status: Some(status),
                units,
                bill_as: Some(CREDITS_ENDPOINT.into()),
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
        let Some(units) = &report.units else {
            return Ok(None);
        };
        bill_units(
            prices,
            entry,
            "character-cost",
            units,
            CREDITS_ENDPOINT.into(),
            Some("credits"),
        )
        .map(Some)
    }

    /// ElevenLabs' error shape for a request past the quota (401).
    fn refusal(&self, message: &str) -> (u16, Value) {
        (
            401,
            serde_json::json!({ "detail": { "status": "quota_exceeded", "message": message } }),
        )
    }
}

/// The model a generation route runs when the request names none; `None`
/// for a path that is not a generation.
fn generation(path: &[&str]) -> Option<&'static str> {
    match path {
        ["v1", "text-to-speech", _]
        | ["v1", "text-to-speech", _, "stream" | "with-timestamps"]
        | ["v1", "text-to-speech", _, "stream", "with-timestamps"] => {
            Some("eleven_multilingual_v2")
        }
        ["v1", "sound-generation"] => Some("eleven_text_to_sound_v2"),
        ["v1", "music"] | ["v1", "music", "stream" | "detailed"] => Some("music_v1"),
        ["v1", "text-to-dialogue"] | ["v1", "text-to-dialogue", "stream"] => Some("eleven_v3"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generation_names_its_model_and_the_header_its_credits() {
        let url = |path: &str| {
            ElevenLabs
                .allow(&format!("https://api.elevenlabs.io{path}"))
                .unwrap()
        };
        assert_eq!(
            ElevenLabs.classify(
                "POST",
                &url("/v1/text-to-speech/v1d/stream"),
                br#"{"text":"hi","model_id":"eleven_flash_v2_5"}"#
            ),
            Call::Run {
                endpoint: "elevenlabs/eleven_flash_v2_5".into()
            }
        );
        assert_eq!(
            ElevenLabs.classify("POST", &url("/v1/sound-generation"), br#"{"text":"rain"}"#),
            Call::Run {
                endpoint: "elevenlabs/eleven_text_to_sound_v2".into()
            }
        );
        let headers = [("character-cost", "120"), ("request-id", "r1")];
        let header = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let answer = |status| Answer {
            status,
            header: &header,
            body: None,
        };
        match ElevenLabs.outcome(
            Call::Run {
                endpoint: "elevenlabs/x".into(),
            },
            &answer(200),
        ) {
            Outcome::Finished {
                request_id, report, ..
            } => {
                assert_eq!(request_id.as_deref(), Some("r1"));
                assert_eq!(report.units.as_deref(), Some("120"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            ElevenLabs.outcome(
                Call::Run {
                    endpoint: "elevenlabs/x".into()
                },
                &answer(401)
            ),
            Outcome::Nothing
        );
        assert!(ElevenLabs
            .allow("https://api.elevenlabs.io/v1/history")
            .is_err());
    }
}
