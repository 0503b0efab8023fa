//! A stand-in for fal on this machine, speaking the wire format gencost
//! relies on (DESIGN section 5, fal's client and platform API docs), for
//! `--fal-upstream`: requests arrive with the real host in
//! `x-forwarded-host`.
//!
//! - `queue.fal.run`: `POST /{endpoint}` submits (answer: `request_id`,
//!   `status_url`, `response_url`, `cancel_url`, `queue_position`);
//!   `GET /{app}/requests/{id}/status` is 202 `IN_QUEUE` at the first poll,
//!   then 200 `COMPLETED` with `metrics.inference_time`;
//!   `GET /{app}/requests/{id}` is the result, with `x-fal-billable-units`
//!   and `x-fal-bill-as` when set for the endpoint (never on status);
//!   `PUT .../cancel` is 202 `CANCELLATION_REQUESTED`.
//! - `fal.run`: `POST /{endpoint}` answers the result at once (billing
//!   headers included); `POST /{endpoint}/stream` answers server-sent events.
//! - `api.fal.ai`: `/v1/models/pricing` and `/v1/models/billing-events`,
//!   paged with `cursor`, `next_cursor` and `has_more`; billing events need
//!   the admin key (403 otherwise). Items given as text (`raw_prices`,
//!   `raw_billing`) go out byte for byte, numbers as written.
#![allow(dead_code)]

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// A request as the stand-in saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub host: String,
    pub path: String,
    pub query: String,
    pub authorization: String,
}

#[derive(Clone, Debug)]
pub struct QueuedRun {
    pub endpoint: String,
    pub polls: u32,
}

#[derive(Default)]
pub struct FalState {
    pub seen: Vec<Seen>,
    pub runs: HashMap<String, QueuedRun>,
    /// `x-fal-billable-units` on results, by endpoint (none: no header).
    pub units: HashMap<String, String>,
    /// `x-fal-bill-as` on results, by endpoint.
    pub bill_as: HashMap<String, String>,
    /// Endpoints whose runs fail (500 result).
    pub failing: HashSet<String>,
    /// `/v1/models/pricing` entries.
    pub prices: Vec<Value>,
    /// `/v1/models/billing-events` records.
    pub billing: Vec<Value>,
    /// More prices and records, each as the exact JSON text fal would send
    /// (`{"cost_total": 0.000004}` stays as written: a `Value` would print
    /// that number as `4e-6`, and lose digits past 17).
    pub raw_prices: Vec<String>,
    pub raw_billing: Vec<String>,
    pub key: String,
    pub admin_key: String,
    /// Seconds `metrics.inference_time` reports.
    pub inference_time: f64,
    /// Streams answer without `x-fal-request-id`.
    pub streams_unnamed: bool,
}

pub struct FakeFal {
    pub url: String,
    pub state: Arc<Mutex<FalState>>,
}

impl FakeFal {
    /// Starts on a free port of 127.0.0.1; `key` is the ordinary key,
    /// `admin_key` the one billing records need.
    pub async fn start(key: &str, admin_key: &str) -> FakeFal {
        let state = Arc::new(Mutex::new(FalState {
            key: key.into(),
            admin_key: admin_key.into(),
            inference_time: 2.345,
            ..FalState::default()
        }));
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeFal { url, state }
    }

    pub fn set_units(&self, endpoint: &str, units: &str) {
        let mut state = self.state.lock().unwrap();
        state.units.insert(endpoint.into(), units.into());
    }

    pub fn set_bill_as(&self, endpoint: &str, billed: &str) {
        let mut state = self.state.lock().unwrap();
        state.bill_as.insert(endpoint.into(), billed.into());
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

type Shared = Arc<Mutex<FalState>>;

fn json_response(status: u16, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// The request id of a submit: the same input to the same endpoint gets
/// the same id, so a retried submit is recognisable.
fn request_id(endpoint: &str, body: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    endpoint.hash(&mut hasher);
    body.hash(&mut hasher);
    format!("{:016x}-fa1", hasher.finish())
}

fn app_of(endpoint: &str) -> String {
    endpoint.split('/').take(2).collect::<Vec<_>>().join("/")
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
    let query = parts.uri.query().unwrap_or_default().to_string();
    let method = parts.method.as_str().to_string();
    let authorization = header("authorization");
    let mut s = state.lock().unwrap();
    s.seen.push(Seen {
        method: method.clone(),
        host: host.clone(),
        path: path.clone(),
        query: query.clone(),
        authorization: authorization.clone(),
    });
    let admin = authorization == format!("Key {}", s.admin_key);
    if authorization != format!("Key {}", s.key) && !admin {
        return json_response(401, json!({"detail": "Invalid key"}));
    }
    let segments: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match host.as_str() {
        "queue.fal.run" => {
            if let Some(at) = segments.iter().position(|p| *p == "requests") {
                let id = segments
                    .get(at + 1)
                    .copied()
                    .unwrap_or_default()
                    .to_string();
                let rest = &segments[(at + 2).min(segments.len())..];
                let Some(run) = s.runs.get_mut(&id) else {
                    return json_response(404, json!({"detail": "Request not found"}));
                };
                return match (method.as_str(), rest) {
                    ("GET", ["status"]) => {
                        run.polls += 1;
                        if run.polls < 2 {
                            json_response(
                                202,
                                json!({"status": "IN_QUEUE", "queue_position": 0, "request_id": id}),
                            )
                        } else {
                            let time = s.inference_time;
                            json_response(
                                200,
                                json!({"status": "COMPLETED", "request_id": id, "logs": [], "metrics": {"inference_time": time}}),
                            )
                        }
                    }
                    ("GET", []) => {
                        let endpoint = run.endpoint.clone();
                        result(&s, &endpoint, &id)
                    }
                    ("PUT", ["cancel"]) => {
                        json_response(202, json!({"status": "CANCELLATION_REQUESTED"}))
                    }
                    _ => json_response(405, json!({"detail": "Method not allowed"})),
                };
            }
            if method == "POST" {
                let endpoint = segments.join("/");
                let id = request_id(&endpoint, &body);
                s.runs.entry(id.clone()).or_insert(QueuedRun {
                    endpoint: endpoint.clone(),
                    polls: 0,
                });
                let base = format!("https://queue.fal.run/{}/requests/{id}", app_of(&endpoint));
                return json_response(
                    200,
                    json!({
                        "request_id": id,
                        "response_url": base,
                        "status_url": format!("{base}/status"),
                        "cancel_url": format!("{base}/cancel"),
                        "queue_position": 0
                    }),
                );
            }
            json_response(405, json!({"detail": "Method not allowed"}))
        }
        "fal.run" if method == "POST" => {
            if segments.last() == Some(&"stream") {
                let id = format!("stream-{}", s.seen.len());
                let events = futures_util::stream::iter([
                    "data: {\"images\":[],\"partial\":true}\n\n",
                    "data: {\"images\":[{\"url\":\"https://v3.fal.media/files/a.png\"}]}\n\n",
                ])
                .map(|e| Ok::<_, std::io::Error>(Bytes::from(e)));
                let mut answer = Response::builder().header("content-type", "text/event-stream");
                if !s.streams_unnamed {
                    answer = answer.header("x-fal-request-id", id);
                }
                return answer.body(Body::from_stream(events)).unwrap();
            }
            // Each synchronous run is a run of its own.
            let endpoint = segments.join("/");
            let id = format!("sync-{}", s.seen.len());
            result(&s, &endpoint, &id)
        }
        "api.fal.ai" => platform(&s, &segments, &query, admin),
        _ => json_response(400, json!({"detail": format!("unknown host '{host}'")})),
    }
}

use futures_util::StreamExt;

/// A run's result: the output, with the billing headers set for its
/// endpoint; a failing endpoint answers 500 without units.
fn result(s: &FalState, endpoint: &str, id: &str) -> Response {
    let mut builder = Response::builder()
        .header("content-type", "application/json")
        .header("x-fal-request-id", id);
    if s.failing.contains(endpoint) {
        return builder
            .status(500)
            .body(Body::from(json!({"detail": "runner crashed"}).to_string()))
            .unwrap();
    }
    if let Some(units) = s.units.get(endpoint) {
        builder = builder.header("x-fal-billable-units", units);
    }
    if let Some(billed) = s.bill_as.get(endpoint) {
        builder = builder.header("x-fal-bill-as", billed);
    }
    builder
        .status(200)
        .body(Body::from(
            json!({"images": [{"url": "https://v3.fal.media/files/a.png", "width": 1024, "height": 768}], "seed": 7})
                .to_string(),
        ))
        .unwrap()
}

/// `api.fal.ai/v1/models/{pricing,billing-events}`, one item a page when a
/// cursor pages through them (so paging is exercised).
fn platform(s: &FalState, segments: &[&str], query: &str, admin: bool) -> Response {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let values = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
            .collect()
    };
    let cursor: usize = values("cursor")
        .first()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let page = |items: Vec<String>, field: &str| {
        let item = items.get(cursor).cloned();
        let more = cursor + 1 < items.len();
        let next = json!(more.then(|| (cursor + 1).to_string()));
        // Written as text, so each item goes out exactly as it was given.
        let body = format!(
            "{{{}: [{}], \"next_cursor\": {next}, \"has_more\": {more}}}",
            json!(field),
            item.unwrap_or_default()
        );
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    // Every item as JSON text, the raw ones as given.
    let all = |values: &[Value], raw: &[String]| -> Vec<(Value, String)> {
        values
            .iter()
            .map(|v| (v.clone(), v.to_string()))
            .chain(
                raw.iter()
                    .map(|text| (serde_json::from_str(text).unwrap(), text.clone())),
            )
            .collect()
    };
    match segments {
        ["v1", "models", "pricing"] => {
            let wanted = values("endpoint_id");
            if wanted.is_empty() || wanted.len() > 50 {
                return json_response(422, json!({"detail": "endpoint_id: 1 to 50 ids"}));
            }
            let items = all(&s.prices, &s.raw_prices)
                .into_iter()
                .filter(|(p, _)| wanted.iter().any(|w| p["endpoint_id"] == json!(w)))
                .map(|(_, text)| text)
                .collect();
            page(items, "prices")
        }
        ["v1", "models", "billing-events"] => {
            if !admin {
                return json_response(403, json!({"detail": "Admin API key required"}));
            }
            let wanted = values("request_id");
            if wanted.len() > 50 {
                return json_response(422, json!({"detail": "request_id: at most 50 ids"}));
            }
            let items = all(&s.billing, &s.raw_billing)
                .into_iter()
                .filter(|(e, _)| wanted.iter().any(|w| e["request_id"] == json!(w)))
                .map(|(_, text)| text)
                .collect();
            page(items, "billing_events")
        }
        _ => json_response(404, json!({"detail": "Not found"})),
    }
}
