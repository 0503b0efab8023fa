//! The fal proxy of `gencost serve`, against a stand-in for fal on this
//! machine (`--fal-upstream`): what is forwarded, what is refused, and that
//! answers and streams come back as fal sent them.

mod common;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use common::server::{http_client, Server};
use common::TestLedger;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "fal-test-key-7c1d:0f9e2b";

/// What the stand-in received, one line per request.
type Seen = Arc<Mutex<Vec<Value>>>;

/// Echoes each request as JSON (with fal-like headers); `/stream` paths
/// answer with server-sent events spaced out in time; `?status=N` sets the
/// status.
async fn fake_fal(State(seen): State<Seen>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let headers: serde_json::Map<String, Value> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or("?"))))
        .collect();
    let record = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "body_len": body.len(),
    });
    seen.lock().unwrap().push(record.clone());
    if parts.uri.path().ends_with("/stream") {
        let events = futures_util::stream::unfold(0, |i| async move {
            if i == 2 {
                return None;
            }
            if i == 1 {
                tokio::time::sleep(Duration::from_millis(800)).await;
            }
            Some((
                Ok::<_, std::io::Error>(Bytes::from(format!("data: {{\"n\":{i}}}\n\n"))),
                i + 1,
            ))
        });
        return Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(events))
            .unwrap();
    }
    let status = parts
        .uri
        .query()
        .and_then(|q| q.strip_prefix("status="))
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-fal-request-id", "req-123")
        .header("x-fal-billable-units", "3.008")
        .body(Body::from(record.to_string()))
        .unwrap()
}

async fn start_fake() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .fallback(fake_fal)
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn proxied(server: &Server, target: &str) -> reqwest::RequestBuilder {
    http_client(true)
        .post(format!("{}/fal/proxy", server.url))
        .header("x-fal-target-url", target)
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_go_to_fal_with_the_key_and_answers_come_back_unchanged() {
    let (fake, seen) = start_fake().await;
    let ledger = TestLedger::sqlite();
    let server = Server::start_with_env(&ledger, &["--fal-upstream", &fake], &[("FAL_KEY", KEY)]);
    let response = proxied(&server, "https://queue.fal.run/fal-ai/flux/dev?status=202")
        .header("content-type", "application/json")
        .header("x-fal-queue-priority", "low")
        .header("user-agent", "@fal-ai/client/1.6.0")
        .header("cookie", "session=secret-cookie")
        .header("x-other", "not forwarded")
        .body(r#"{"prompt":"a fjord at dawn","num_images":2}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "fal's status comes back"
    );
    assert_eq!(response.headers()["x-fal-request-id"], "req-123");
    assert_eq!(response.headers()["x-fal-billable-units"], "3.008");
    let echoed: Value = response.json().await.unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/fal-ai/flux/dev");
    assert_eq!(echoed["query"], "status=202");
    let headers = &echoed["headers"];
    assert_eq!(headers["authorization"], format!("Key {KEY}"));
    assert_eq!(headers["x-forwarded-host"], "queue.fal.run");
    assert_eq!(headers["x-fal-queue-priority"], "low");
    assert_eq!(headers["user-agent"], "@fal-ai/client/1.6.0");
    assert_eq!(headers["content-type"], "application/json");
    for never in ["cookie", "x-other", "x-fal-target-url", "origin"] {
        assert!(
            headers.get(never).is_none(),
            "{never} was forwarded: {headers}"
        );
    }
    // GET (status, result) and PUT (cancel) pass too.
    for method in [reqwest::Method::GET, reqwest::Method::PUT] {
        let answer = http_client(true)
            .request(method.clone(), format!("{}/api/fal/proxy", server.url))
            .header(
                "x-fal-target-url",
                "https://queue.fal.run/fal-ai/flux/requests/r1/status",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{method}");
        let echoed: Value = answer.json().await.unwrap();
        assert_eq!(echoed["method"], method.as_str());
    }
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_arrives_as_it_is_sent() {
    let (fake, _) = start_fake().await;
    let ledger = TestLedger::sqlite();
    let server = Server::start_with_env(&ledger, &["--fal-upstream", &fake], &[("FAL_KEY", KEY)]);
    let started = Instant::now();
    let mut response = proxied(&server, "https://fal.run/fal-ai/flux/dev/stream")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let first = response.chunk().await.unwrap().unwrap();
    let first_at = started.elapsed();
    assert!(String::from_utf8_lossy(&first).contains("\"n\":0"));
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert!(String::from_utf8_lossy(&rest).contains("\"n\":1"));
    // The first event came before the stand-in's pause was over: nothing
    // waited for the whole body.
    assert!(
        first_at < Duration::from_millis(700),
        "first event after {first_at:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_targets_missing_headers_and_huge_bodies_are_refused_and_nothing_leaves() {
    let (fake, seen) = start_fake().await;
    let ledger = TestLedger::sqlite();
    let server = Server::start_with_env(&ledger, &["--fal-upstream", &fake], &[("FAL_KEY", KEY)]);
    let missing = http_client(true)
        .post(format!("{}/fal/proxy", server.url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["field"], "x-fal-target-url");
    for target in [
        "https://evil.example/",
        "http://fal.run/fal-ai/flux/dev",
        "https://fal.run.evil.example/x",
        "https://rest.fal.ai/storage/upload/initiate?storage_type=gcs",
        "https://api.fal.ai/v1/models/billing-events",
    ] {
        let answer = proxied(&server, target).body("{}").send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{target}");
        let text = answer.text().await.unwrap();
        assert!(!text.contains(KEY), "the key was echoed");
        assert!(text.contains("\"code\":\"invalid_input\""), "{text}");
    }
    let huge = proxied(&server, "https://fal.run/fal-ai/flux/dev")
        .body(vec![b'x'; 33 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let delete = http_client(true)
        .delete(format!("{}/fal/proxy", server.url))
        .header("x-fal-target-url", "https://fal.run/fal-ai/flux/dev")
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::BAD_REQUEST);
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the upstream"
    );
    // The key is not in the ledger, and nothing was logged.
    let events = ledger.json(&["verify", "--json"]);
    assert_eq!(events["events"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_key_or_a_token_the_proxy_says_so() {
    let (fake, seen) = start_fake().await;
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &["--fal-upstream", &fake]);
    let answer = proxied(&server, "https://fal.run/fal-ai/flux/dev")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("FAL_KEY"),
        "{body}"
    );
    // With a server token, the proxy needs it like the API does.
    let guarded = Server::start_with_env(
        &ledger,
        &[
            "--fal-upstream",
            &fake,
            "--token",
            "correct-horse-battery-staple",
        ],
        &[("FAL_KEY", KEY)],
    );
    let answer = proxied(&guarded, "https://fal.run/fal-ai/flux/dev")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let answer = proxied(&guarded, "https://fal.run/fal-ai/flux/dev")
        .bearer_auth("correct-horse-battery-staple")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(seen.lock().unwrap().len(), 1);
}
