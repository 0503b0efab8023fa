//! A stand-in for OpenAI, Replicate, Runway and ElevenLabs on this
//! machine, speaking each one's documented wire format (their API
//! references and official clients) for `--openai-upstream` and the
//! others: requests arrive with the real host in `x-forwarded-host`.
//!
//! - `api.openai.com`: `POST /v1/images/generations` (JSON) and
//!   `/v1/images/edits` (a form) answer `created`, `data[].b64_json` and
//!   `usage` (input tokens split into text and image, output tokens by
//!   quality and size as OpenAI's guide lists them for gpt-image-1),
//!   with `x-request-id`; a prompt with "forbidden" is refused 400
//!   `moderation_blocked`; a wrong key is 401 `invalid_api_key`.
//! - `api.replicate.com`: a create answers 201 with the prediction
//!   (`starting`, or `succeeded` at once under `Prefer: wait`); a read is
//!   `processing` the first time, then `succeeded` with `output` and
//!   `metrics.predict_time` (or `failed` for a prompt with "fail"); a
//!   cancel answers `canceled`. Errors are problem JSON.
//! - `api.dev.runwayml.com`: a task route answers `{"id"}` and needs
//!   `X-Runway-Version`; a task reads `PENDING`, then `RUNNING`, then
//!   `SUCCEEDED` with `output` (or `FAILED` with `failureCode` for a
//!   prompt with "fail"); `DELETE` is 204; `POST
//!   /v1/organization/usage` answers the daily `usedCredits` set.
//! - `api.elevenlabs.io`: text to speech, sound effects and music answer
//!   audio (`audio/mpeg`) with `character-cost` (1 credit a character, half
//!   for Flash and Turbo; 100 a sound effect) and `request-id`; a text
//!   with "boom" is a 500; a wrong `xi-api-key` is 401.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A request as the stand-in saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub host: String,
    pub path: String,
    /// The key as it arrived (`authorization` or `xi-api-key`).
    pub key: String,
    pub body: String,
}

#[derive(Clone, Debug)]
pub struct Job {
    pub reads: u32,
    pub failing: bool,
    pub outputs: u64,
}

#[derive(Default)]
pub struct ProvidersState {
    pub keys: HashMap<&'static str, String>,
    pub seen: Vec<Seen>,
    pub jobs: HashMap<String, Job>,
    /// Reads of a prediction or task before it ends.
    pub reads_to_finish: u32,
    /// Runway's daily credits by model: (date, model, amount).
    pub runway_usage: Vec<(String, String, i64)>,
    pub next_id: u64,
}

pub struct FakeProviders {
    pub url: String,
    pub state: Arc<Mutex<ProvidersState>>,
}

type Shared = Arc<Mutex<ProvidersState>>;

impl FakeProviders {
    /// Starts on a free port of 127.0.0.1 with each provider's key.
    pub async fn start(keys: &[(&'static str, &str)]) -> FakeProviders {
        let state = Arc::new(Mutex::new(ProvidersState {
            keys: keys.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            reads_to_finish: 1,
            ..ProvidersState::default()
        }));
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeProviders { url, state }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Adds a prediction the stand-in knows, as if created elsewhere.
    pub fn add_job(&self, id: &str, outputs: u64) {
        let mut state = self.state.lock().unwrap();
        state.jobs.insert(
            id.into(),
            Job {
                reads: 0,
                failing: false,
                outputs,
            },
        );
    }
}

fn json_response(status: u16, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn answer(State(state): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let host = header("x-forwarded-host");
    let path = parts.uri.path().to_string();
    let method = parts.method.as_str().to_string();
    let key = match host.as_str() {
        "api.elevenlabs.io" => header("xi-api-key"),
        _ => header("authorization"),
    };
    let text = String::from_utf8_lossy(&body).to_string();
    let mut s = state.lock().unwrap();
    s.seen.push(Seen {
        method: method.clone(),
        host: host.clone(),
        path: path.clone(),
        key: key.clone(),
        body: text.chars().take(2000).collect(),
    });
    let segments: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let expected = |provider: &str, prefix: &str| {
        s.keys
            .get(provider)
            .map(|k| format!("{prefix}{k}"))
            .unwrap_or_default()
    };
    let request = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    match host.as_str() {
        "api.openai.com" => {
            if key != expected("openai", "Bearer ") {
                return json_response(
                    401,
                    json!({"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
                );
            }
            openai(&mut s, &segments, &request, &text)
        }
        "api.replicate.com" => {
            if key != expected("replicate", "Bearer ") {
                return json_response(
                    401,
                    json!({"title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401}),
                );
            }
            let wait = header("prefer").starts_with("wait");
            replicate(&mut s, &method, &segments, &request, wait)
        }
        "api.dev.runwayml.com" => {
            if key != expected("runway", "Bearer ") {
                return json_response(401, json!({"error": "Invalid API key"}));
            }
            if header("x-runway-version") != "2024-11-06" {
                return json_response(
                    400,
                    json!({"error": "The X-Runway-Version header is missing or invalid", "docUrl": "https://docs.dev.runwayml.com/api"}),
                );
            }
            runway(&mut s, &method, &segments, &request)
        }
        "api.elevenlabs.io" => {
            if key != expected("elevenlabs", "") {
                return json_response(
                    401,
                    json!({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}),
                );
            }
            elevenlabs(&mut s, &segments, &request)
        }
        _ => json_response(404, json!({"error": "unknown host"})),
    }
}

/// gpt-image-1's image output tokens by quality and size (OpenAI's guide).
fn output_tokens(quality: &str, size: &str) -> i64 {
    let column = match size {
        "1024x1536" => 1,
        "1536x1024" => 2,
        _ => 0,
    };
    let row = match quality {
        "low" => [272, 408, 400],
        "high" => [4160, 6240, 6208],
        _ => [1056, 1584, 1568],
    };
    row[column]
}

fn openai(s: &mut ProvidersState, segments: &[&str], request: &Value, text: &str) -> Response {
    let edit = segments == ["v1", "images", "edits"];
    // An edit is a form: its fields are read from the text.
    let field = |name: &str| -> Option<String> {
        if let Some(v) = request.get(name) {
            return Some(v.as_str().map_or_else(|| v.to_string(), str::to_string));
        }
        let marker = format!("name=\"{name}\"\r\n\r\n");
        let start = text.find(&marker)? + marker.len();
        Some(text[start..].split("\r\n").next()?.to_string())
    };
    let prompt = field("prompt").unwrap_or_default();
    if prompt.contains("forbidden") {
        return json_response(
            400,
            json!({"error": {"message": "Your request was rejected by the safety system.", "type": "image_generation_user_error", "param": "", "code": "moderation_blocked"}}),
        );
    }
    let n: i64 = field("n").and_then(|n| n.parse().ok()).unwrap_or(1);
    let quality = field("quality").unwrap_or_else(|| "medium".into());
    let size = field("size").unwrap_or_else(|| "1024x1024".into());
    let text_tokens = (prompt.chars().count() as u64).div_ceil(4) as i64;
    let image_tokens = if edit { 323 } else { 0 };
    let output = output_tokens(&quality, &size) * n;
    s.next_id += 1;
    // An image's worth of base64: the answer is larger than a status.
    let image = "iVBORw0KGgo".repeat(40_000);
    let data: Vec<Value> = (0..n).map(|_| json!({"b64_json": image})).collect();
    let body = json!({
        "created": 1_765_000_000,
        "data": data,
        "background": "opaque",
        "output_format": "png",
        "quality": quality,
        "size": size,
        "usage": {
            "input_tokens": text_tokens + image_tokens,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
            "output_tokens": output,
            "total_tokens": text_tokens + image_tokens + output,
        }
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("x-request-id", format!("req_{:04}", s.next_id))
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn prediction(id: &str, model: &str, job: &Job, status: &str) -> Value {
    let output = match status {
        "succeeded" => Value::Array(
            (0..job.outputs)
                .map(|i| json!(format!("https://replicate.delivery/xezq/{id}/out-{i}.webp")))
                .collect(),
        ),
        _ => Value::Null,
    };
    let mut body = json!({
        "id": id,
        "model": model,
        "version": "hidden",
        "input": {},
        "logs": "",
        "output": output,
        "data_removed": false,
        "error": if status == "failed" { json!("CUDA out of memory") } else { Value::Null },
        "status": status,
        "created_at": "2026-12-07T10:00:00.000Z",
        "urls": {
            "get": format!("https://api.replicate.com/v1/predictions/{id}"),
            "cancel": format!("https://api.replicate.com/v1/predictions/{id}/cancel"),
            "web": format!("https://replicate.com/p/{id}"),
        },
    });
    if matches!(status, "succeeded" | "failed") {
        body["metrics"] = json!({"predict_time": 1.234567, "total_time": 1.5});
        body["completed_at"] = json!("2026-12-07T10:00:02.000Z");
    }
    body
}

fn replicate(
    s: &mut ProvidersState,
    method: &str,
    segments: &[&str],
    request: &Value,
    wait: bool,
) -> Response {
    let input = request.get("input").cloned().unwrap_or(Value::Null);
    let failing = input.to_string().contains("fail");
    let outputs = input
        .get("num_outputs")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let create = |s: &mut ProvidersState, model: String| {
        s.next_id += 1;
        let id = format!("rp{:06}q7", s.next_id);
        let job = Job {
            reads: 0,
            failing,
            outputs,
        };
        let status = match (wait, failing) {
            (true, false) => "succeeded",
            (true, true) => "failed",
            _ => "starting",
        };
        let body = prediction(&id, &model, &job, status);
        s.jobs.insert(id, job);
        json_response(201, body)
    };
    match (method, segments) {
        ("POST", ["v1", "models", owner, name, "predictions"]) => {
            create(s, format!("{owner}/{name}"))
        }
        ("POST", ["v1", "predictions"]) => {
            let version = request
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let model = version.split(':').next().unwrap_or_default().to_string();
            create(s, model)
        }
        ("GET", ["v1", "predictions", id]) => {
            let finish = s.reads_to_finish;
            let Some(job) = s.jobs.get_mut(*id) else {
                return json_response(
                    404,
                    json!({"title": "Not found", "detail": "The requested resource could not be found.", "status": 404}),
                );
            };
            job.reads += 1;
            let status = match (job.reads > finish, job.failing) {
                (false, _) => "processing",
                (true, false) => "succeeded",
                (true, true) => "failed",
            };
            json_response(200, prediction(id, "acme/model", job, status))
        }
        ("POST", ["v1", "predictions", id, "cancel"]) => match s.jobs.get(*id) {
            Some(job) => json_response(200, prediction(id, "acme/model", job, "canceled")),
            None => json_response(404, json!({"detail": "Not found", "status": 404})),
        },
        _ => json_response(404, json!({"detail": "Not found", "status": 404})),
    }
}

fn runway(s: &mut ProvidersState, method: &str, segments: &[&str], request: &Value) -> Response {
    match (method, segments) {
        ("POST", ["v1", "organization", "usage"]) => {
            let mut days: Vec<String> = s.runway_usage.iter().map(|(d, _, _)| d.clone()).collect();
            days.dedup();
            let results: Vec<Value> = days
                .iter()
                .map(|day| {
                    let used: Vec<Value> = s
                        .runway_usage
                        .iter()
                        .filter(|(d, _, _)| d == day)
                        .map(|(_, model, amount)| json!({"model": model, "amount": amount}))
                        .collect();
                    json!({"date": day, "usedCredits": used})
                })
                .collect();
            json_response(200, json!({"results": results, "models": []}))
        }
        ("POST", ["v1", _route]) => {
            s.next_id += 1;
            let id = format!("a1b2c3d4-0000-4000-8000-{:012}", s.next_id);
            let failing = request
                .get("promptText")
                .and_then(Value::as_str)
                .is_some_and(|p| p.contains("fail"));
            s.jobs.insert(
                id.clone(),
                Job {
                    reads: 0,
                    failing,
                    outputs: 1,
                },
            );
            json_response(200, json!({ "id": id }))
        }
        ("GET", ["v1", "tasks", id]) => {
            let finish = s.reads_to_finish;
            let Some(job) = s.jobs.get_mut(*id) else {
                return json_response(404, json!({"error": "Task not found"}));
            };
            job.reads += 1;
            let mut task = json!({"id": id, "createdAt": "2026-12-07T10:00:00.000Z"});
            if job.reads <= finish {
                task["status"] = json!(if job.reads == 1 { "PENDING" } else { "RUNNING" });
                task["progress"] = json!(0.4);
            } else if job.failing {
                task["status"] = json!("FAILED");
                task["failure"] = json!("The prompt was flagged.");
                task["failureCode"] = json!("SAFETY.INPUT.TEXT");
            } else {
                task["status"] = json!("SUCCEEDED");
                task["output"] = json!([format!("https://dnznrvs05pmza.cloudfront.net/{id}.mp4")]);
            }
            json_response(200, task)
        }
        ("DELETE", ["v1", "tasks", id]) => {
            if s.jobs.remove(*id).is_some() {
                Response::builder().status(204).body(Body::empty()).unwrap()
            } else {
                json_response(404, json!({"error": "Task not found"}))
            }
        }
        _ => json_response(404, json!({"error": "Not found"})),
    }
}

fn elevenlabs(s: &mut ProvidersState, segments: &[&str], request: &Value) -> Response {
    let text = request
        .get("text")
        .or_else(|| request.get("prompt"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if text.contains("boom") {
        return json_response(
            500,
            json!({"detail": {"status": "internal_error", "message": "Something went wrong"}}),
        );
    }
    let model = request
        .get("model_id")
        .and_then(Value::as_str)
        .unwrap_or("eleven_multilingual_v2");
    let chars = text.chars().count() as i64;
    let cost = match segments {
        ["v1", "sound-generation"] => 100,
        ["v1", "music", ..] => 800,
        _ if model.contains("flash") || model.contains("turbo") => (chars + 1) / 2,
        _ => chars,
    };
    s.next_id += 1;
    Response::builder()
        .status(200)
        .header("content-type", "audio/mpeg")
        .header("character-cost", cost.to_string())
        .header("request-id", format!("el{:08}", s.next_id))
        .header("history-item-id", format!("h{:08}", s.next_id))
        .body(Body::from(vec![0xFFu8; 48_000]))
        .unwrap()
}
