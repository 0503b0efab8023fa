//! fal as a provider: its allowlist (`fal::target`), its key (`FAL_KEY`),
//! its calls (`fal::call`), and what each answer means. A submit logs a
//! pending run once fal names its request id; a synchronous run is logged
//! and settled from its one answer (unless fal refused it before it ran);
//! a stream is logged when it starts; a COMPLETED status records the run's
//! duration; a result (or a run's answer) carries the billed units in
//! `x-fal-billable-units`, which settle it, charged or not; a cancel fal
//! accepted cancels a pending run.

use super::{completed_duration, result_report, UnitPrices, SOURCE};
use crate::error::Result;
use crate::fal::{call, target};
use crate::ledger::Entry;
use crate::service::provider::{Answer, Call, Outcome, Provider};
use crate::service::runs::{Billed, RunReport};
use reqwest::Url;
use serde_json::{Map, Value};

/// The header a client names the fal URL it means in.
pub const TARGET_HEADER: &str = "x-fal-target-url";

pub struct Fal;

impl Provider for Fal {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn key_variable(&self) -> &'static str {
        super::api::KEY_VARIABLE
    }

    fn key_header(&self) -> (&'static str, &'static str) {
        ("authorization", "Key ")
    }

    fn allow(&self, target: &str) -> std::result::Result<Url, String> {
        target::check(target)
    }

    /// fal takes GET, POST and PUT (a cancel).
    fn allows_method(&self, method: &str, _target: &Url) -> bool {
        matches!(method, "GET" | "POST" | "PUT")
    }

    fn classify(&self, method: &str, target: &Url, _body: &[u8]) -> Call {
        call::classify(method, target)
    }

    fn params(&self, body: &[u8]) -> Map<String, Value> {
        super::input_params(body)
    }

    /// The client's `x-fal-*` (but the target), `accept`, `content-type`
    /// and `user-agent`.
    fn forwards(&self, header: &str) -> bool {
        (header.starts_with("x-fal-") && header != TARGET_HEADER)
            || matches!(header, "accept" | "content-type" | "user-agent")
    }

    fn synced_prices(&self) -> bool {
        true
    }

    fn bill(
        &self,
        entry: &Entry,
        report: &RunReport,
        prices: &UnitPrices,
    ) -> Result<Option<Billed>> {
        super::bill(prices, entry, report)
    }

    fn reads_answer(&self, call: &Call, status: u16) -> bool {
        is_success(status) && matches!(call, Call::Submit { .. } | Call::Status { .. })
    }

    /// fal's error shape, `{"detail": "..."}`, with 402 (payment required):
    /// what fal itself answers an account that cannot pay for a run.
    fn refusal(&self, message: &str) -> (u16, serde_json::Value) {
        (402, serde_json::json!({ "detail": message }))
    }

    fn outcome(&self, call: Call, answer: &Answer) -> Outcome {
        let header = |name: &str| (answer.header)(name).map(str::to_string);
        let billed = || {
            result_report(
                answer.status,
                (answer.header)("x-fal-billable-units"),
                (answer.header)("x-fal-bill-as"),
            )
        };
        let success = is_success(answer.status);
        match call {
            Call::Submit { endpoint } if success => {
                match answer.body.and_then(submitted_request_id) {
                    Some(request_id) => Outcome::Started {
                        endpoint,
                        request_id: Some(request_id),
                    },
                    None => Outcome::Unreadable(format!(
                        "the submit to {endpoint} was answered without a request_id; it is not logged"
                    )),
                }
            }
            Call::Stream { endpoint } if success => Outcome::Started {
                endpoint,
                request_id: header("x-fal-request-id"),
            },
            Call::Run { endpoint } => {
                let report = billed();
                // Refused before it ran (auth, not found): no run to log.
                if report.status.is_none() {
                    return Outcome::Nothing;
                }
                Outcome::Finished {
                    endpoint,
                    request_id: header("x-fal-request-id"),
                    report,
                }
            }
            Call::Status { request_id } if success => {
                match answer.body.and_then(completed_duration) {
                    Some(duration_ms) => Outcome::Settled {
                        request_id,
                        report: RunReport {
                            duration_ms: Some(duration_ms),
                            ..RunReport::default()
                        },
                    },
                    None => Outcome::Nothing,
                }
            }
            Call::Result { request_id } => {
                let report = billed();
                if report.status.is_none() {
                    return Outcome::Nothing;
                }
                Outcome::Settled { request_id, report }
            }
            Call::Cancel { request_id } if success => Outcome::Cancelled { request_id },
            _ => Outcome::Nothing,
        }
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The `request_id` of a queue submit's answer.
fn submitted_request_id(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("request_id")?
        .as_str()
        .map(str::to_string)
        .filter(|id| !id.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Status;

    fn outcome(call: Call, status: u16, headers: &[(&str, &str)], body: Option<&[u8]>) -> Outcome {
        let header = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        Fal.outcome(
            call,
            &Answer {
                status,
                header: &header,
                body,
            },
        )
    }

    #[test]
    fn a_submit_starts_a_run_once_fal_names_it() {
        let submit = || Call::Submit {
            endpoint: "fal-ai/flux/dev".into(),
        };
        assert_eq!(
            outcome(submit(), 200, &[], Some(br#"{"request_id":"r-1"}"#)),
            Outcome::Started {
                endpoint: "fal-ai/flux/dev".into(),
                request_id: Some("r-1".into())
            }
        );
        assert!(matches!(
            outcome(submit(), 200, &[], Some(b"{}")),
            Outcome::Unreadable(_)
        ));
        assert_eq!(outcome(submit(), 401, &[], None), Outcome::Nothing);
        assert!(Fal.reads_answer(&submit(), 200));
        assert!(!Fal.reads_answer(&submit(), 500));
    }

    #[test]
    fn a_result_settles_with_the_billed_units_and_a_failure_says_if_charged() {
        let result = || Call::Result {
            request_id: "r-1".into(),
        };
        match outcome(result(), 200, &[("x-fal-billable-units", "2")], None) {
            Outcome::Settled { request_id, report } => {
                assert_eq!(request_id, "r-1");
                assert_eq!(report.status, Some(Status::Succeeded));
            }
            other => panic!("{other:?}"),
        }
        match outcome(result(), 500, &[], None) {
            Outcome::Settled { report, .. } => assert_eq!(report.status, Some(Status::Failed)),
            other => panic!("{other:?}"),
        }
        let cancel = Call::Cancel {
            request_id: "r-1".into(),
        };
        assert_eq!(
            outcome(cancel, 202, &[], None),
            Outcome::Cancelled {
                request_id: "r-1".into()
            }
        );
    }
}
