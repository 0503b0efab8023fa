//! An HTTP load generator for `gencost serve`: CLIENTS concurrent clients
//! post generations for SECONDS, then every entry answered with 201 is
//! looked up again. Prints entries/s and latency percentiles; also times
//! GET requests against a server, for the read figures.
//!
//! cargo run --release --example load -- --url http://127.0.0.1:7878 --clients 16 --seconds 10
//! cargo run --release --example load -- --url http://127.0.0.1:7878 --get /api/v1/totals --runs 20
//!
//! And for the fal proxy: `--fake-fal` serves a stand-in for fal (it echoes
//! a queue submit's JSON answer with a new request id each time) and
//! prints its address; `--proxy-overhead FAKE_URL`
//! times RUNS posts straight to the stand-in and through `URL/fal/proxy`,
//! alternating, and prints both.
//!
//! And for the other providers: `--fake-providers` serves a stand-in for
//! OpenAI Images, Replicate, Runway and ElevenLabs (each answer in its
//! provider's format, each run a new id); `--provider-overhead FAKE_URL
//! --provider NAME` times RUNS calls of that provider straight to the
//! stand-in and through `URL/NAME/...`, alternating; `--seed-open-predictions
//! N` logs N pending Replicate runs for `reconcile`.

use clap::Parser;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// The server, e.g. http://127.0.0.1:7878
    #[arg(long)]
    url: String,
    /// Concurrent clients posting
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// How long to post
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Instead of posting: time this GET path RUNS times, one at a time
    #[arg(long)]
    get: Option<String>,
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Serve a stand-in for fal on a free port, print its URL, run until killed
    #[arg(long)]
    fake_fal: bool,
    /// Time posts to this stand-in directly and through the proxy at --url
    #[arg(long, value_name = "FAKE_URL")]
    proxy_overhead: Option<String>,
    /// Time 401 answers to wrong tokens that differ from TOKEN in their
    /// first byte, in their last byte, and in length (RUNS each, interleaved)
    #[arg(long, value_name = "TOKEN")]
    token_timing: Option<String>,
    /// Serve a stand-in for OpenAI, Replicate, Runway and ElevenLabs on a
    /// free port, print its URL, run until killed
    #[arg(long)]
    fake_providers: bool,
    /// Time calls to this stand-in directly and through the proxy at --url
    #[arg(long, value_name = "FAKE_URL", requires = "provider")]
    provider_overhead: Option<String>,
    /// The provider --provider-overhead times: openai, replicate, runway or
    /// elevenlabs
    #[arg(long)]
    provider: Option<String>,
    /// Log this many pending Replicate predictions (ids pred-0...) through
    /// the API, for `reconcile` to settle
    #[arg(long, value_name = "N")]
    seed_open_predictions: Option<usize>,
    /// Log this many pending fal.ai generations (request ids run-0...)
    /// through the API, for `reconcile` to settle
    #[arg(long, value_name = "N")]
    seed_open_runs: Option<usize>,
    /// Time RUNS logs one at a time, alternating a finished run and a
    /// pending one (a hold), for the client named here; prints each kind's
    /// median and p99
    #[arg(long, value_name = "CLIENT")]
    log_timing: Option<String>,
}

async fn log_timing(http: &reqwest::Client, url: &str, client: &str, runs: usize) {
    let (mut finished, mut pending) = (Vec::new(), Vec::new());
    for i in 0..runs {
        for hold in [false, true] {
            let mut body = serde_json::json!({
                "model": "fal-ai/flux/dev",
                "client": client,
                "project": format!("Project {}", i % 12),
                "cost": {"amount": "0.000001", "currency": "USD"},
            });
            if hold {
                body["status"] = "pending".into();
            }
            let started = Instant::now();
            let response = http
                .post(format!("{url}/api/v1/entries"))
                .json(&body)
                .send()
                .await
                .expect("POST");
            assert!(response.status().is_success(), "{}", response.status());
            let _ = response.bytes().await.expect("body");
            let took = started.elapsed();
            if hold {
                pending.push(took)
            } else {
                finished.push(took)
            }
        }
    }
    finished.sort();
    pending.sort();
    println!(
        "{runs} logs each: finished median {:.2} ms, p99 {:.2} ms; pending (held) median {:.2} ms, p99 {:.2} ms",
        percentile(&finished, 0.5),
        percentile(&finished, 0.99),
        percentile(&pending, 0.5),
        percentile(&pending, 0.99),
    );
}

async fn fake_fal() {
    // Each submit gets a request id of its own, so every post through the
    // proxy logs a new generation (the proxy's heaviest path).
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    // A GET is a queue result fetch: one billable unit.
    let app = axum::Router::new().fallback(move |method: axum::http::Method| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        async move {
            if method == axum::http::Method::GET {
                return (
                    [
                        ("content-type", "application/json"),
                        ("x-fal-billable-units", "1"),
                    ],
                    r#"{"images":[{"url":"https://v3.fal.media/files/a.png"}]}"#.to_string(),
                );
            }
            (
                [
                    ("content-type", "application/json"),
                    ("x-fal-request-id", "req"),
                ],
                format!(r#"{{"request_id":"req-{n}","status":"IN_QUEUE","queue_position":0}}"#),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("http://{}", listener.local_addr().expect("address"));
    axum::serve(listener, app).await.expect("serve");
}

async fn fake_providers() {
    use axum::http::{Method, Uri};
    use axum::response::IntoResponse;
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        async move {
            let id = format!("req-{n}");
            let json = |status: u16, body: String| {
                (
                    axum::http::StatusCode::from_u16(status).expect("status"),
                    [
                        ("content-type", "application/json".to_string()),
                        ("x-request-id", id.clone()),
                    ],
                    body,
                )
                    .into_response()
            };
            let path = uri.path();
            if path.starts_with("/v1/images/") {
                return json(
                    200,
                    format!(
                        r#"{{"created":1765000000,"data":[{{"b64_json":"iVBORw0KGgo{n}"}}],"usage":{{"input_tokens":12,"input_tokens_details":{{"text_tokens":12,"image_tokens":0}},"output_tokens":272,"total_tokens":284}}}}"#
                    ),
                );
            }
            if path.starts_with("/v1/models/") && method == Method::POST {
                return json(
                    201,
                    format!(
                        r#"{{"id":"pred-{n}","model":"black-forest-labs/flux-schnell","version":"hidden","status":"starting","output":null,"urls":{{}}}}"#
                    ),
                );
            }
            if let Some(id) = path.strip_prefix("/v1/predictions/") {
                return json(
                    200,
                    format!(
                        r#"{{"id":"{id}","model":"black-forest-labs/flux-schnell","version":"hidden","status":"succeeded","output":["https://replicate.delivery/a.webp"],"metrics":{{"predict_time":0.84}}}}"#
                    ),
                );
            }
            if path == "/v1/image_to_video" {
                return json(200, format!(r#"{{"id":"task-{n}"}}"#));
            }
            if path.starts_with("/v1/text-to-speech/") {
                return (
                    [
                        ("content-type", "audio/mpeg".to_string()),
                        ("character-cost", "24".to_string()),
                        ("request-id", id.clone()),
                    ],
                    vec![0xFFu8; 16 * 1024],
                )
                    .into_response();
            }
            json(404, r#"{"detail":"not found"}"#.to_string())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("http://{}", listener.local_addr().expect("address"));
    axum::serve(listener, app).await.expect("serve");
}

/// One call of `provider` as its official client makes it: path and body.
fn provider_call(provider: &str) -> (&'static str, &'static str) {
    match provider {
        "openai" => (
            "/v1/images/generations",
            r#"{"model":"gpt-image-1-mini","prompt":"a fjord at dawn","quality":"low","size":"1024x1024"}"#,
        ),
        "replicate" => (
            "/v1/models/black-forest-labs/flux-schnell/predictions",
            r#"{"input":{"prompt":"a fjord at dawn","num_outputs":1}}"#,
        ),
        "runway" => (
            "/v1/image_to_video",
            r#"{"model":"gen4_turbo","promptImage":"https://example.com/a.png","ratio":"1280:720","duration":5}"#,
        ),
        "elevenlabs" => (
            "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb",
            r#"{"text":"A fjord at dawn, in fog.","model_id":"eleven_multilingual_v2"}"#,
        ),
        other => panic!("--provider {other}: openai, replicate, runway or elevenlabs"),
    }
}

async fn provider_overhead(
    http: &reqwest::Client,
    url: &str,
    fake: &str,
    provider: &str,
    runs: usize,
) {
    let (path, body) = provider_call(provider);
    let request = |through_proxy: bool| {
        let target = if through_proxy {
            format!("{url}/{provider}{path}")
        } else {
            format!("{fake}{path}")
        };
        http.post(target)
            .header("content-type", "application/json")
            .header("x-runway-version", "2024-11-06")
            .body(body)
    };
    let timed = time_alternating(runs, request).await;
    println!("{provider}: {runs} calls each: {timed}");
}

/// Times RUNS requests straight to a stand-in and through the proxy,
/// alternating (`request(through_proxy)` builds each); their medians,
/// p99s and what the proxy added, in words.
async fn time_alternating(
    runs: usize,
    request: impl Fn(bool) -> reqwest::RequestBuilder,
) -> String {
    let (mut direct, mut proxied) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        for through_proxy in [false, true] {
            let started = Instant::now();
            let response = request(through_proxy).send().await.expect("POST");
            assert!(response.status().is_success(), "{}", response.status());
            let _ = response.bytes().await.expect("body");
            let took = started.elapsed();
            if through_proxy {
                proxied.push(took)
            } else {
                direct.push(took)
            }
        }
    }
    direct.sort();
    proxied.sort();
    format!(
        "direct median {:.2} ms, p99 {:.2} ms; through the proxy median {:.2} ms, p99 {:.2} ms; added: median {:.2} ms, p99 {:.2} ms",
        percentile(&direct, 0.5),
        percentile(&direct, 0.99),
        percentile(&proxied, 0.5),
        percentile(&proxied, 0.99),
        percentile(&proxied, 0.5) - percentile(&direct, 0.5),
        percentile(&proxied, 0.99) - percentile(&direct, 0.99)
    )
}

async fn seed_open_predictions(http: &reqwest::Client, url: &str, n: usize, clients: usize) {
    let entry = |i: usize| {
        serde_json::json!({
            "model": "replicate/black-forest-labs/flux-schnell",
            "source": "Replicate",
            "request_id": format!("pred-{i}"),
            "status": "pending",
            "params": {"prompt": "seed", "num_outputs": 1},
        })
    };
    let took = log_pending(http, url, n, clients, entry).await;
    println!("logged {n} open predictions in {took:.1} s");
}

/// Logs `entry(0..n)` through the API, `clients` at once; the seconds it
/// took.
async fn log_pending(
    http: &reqwest::Client,
    url: &str,
    n: usize,
    clients: usize,
    entry: impl Fn(usize) -> serde_json::Value,
) -> f64 {
    use futures_util::StreamExt;
    let started = Instant::now();
    let entry = &entry;
    futures_util::stream::iter(0..n)
        .map(|i| async move {
            let response = http
                .post(format!("{url}/api/v1/entries"))
                .json(&entry(i))
                .send()
                .await
                .expect("POST");
            assert!(response.status().is_success(), "{}", response.status());
        })
        .buffer_unordered(clients)
        .collect::<Vec<()>>()
        .await;
    started.elapsed().as_secs_f64()
}

async fn proxy_overhead(http: &reqwest::Client, url: &str, fake: &str, runs: usize) {
    let body = r#"{"prompt":"a fjord at dawn","num_images":1}"#;
    let request = |through_proxy: bool| {
        let request = if through_proxy {
            http.post(format!("{url}/fal/proxy"))
                .header("x-fal-target-url", "https://queue.fal.run/fal-ai/flux/dev")
        } else {
            http.post(format!("{fake}/fal-ai/flux/dev"))
        };
        request
            .header("content-type", "application/json")
            .body(body)
    };
    let timed = time_alternating(runs, request).await;
    println!("{runs} posts each: {timed}");
}

async fn seed_open_runs(http: &reqwest::Client, url: &str, n: usize, clients: usize) {
    let entry = |i: usize| {
        serde_json::json!({
            "model": "fal-ai/flux/dev",
            "source": "fal.ai",
            "request_id": format!("run-{i}"),
            "status": "pending",
            "params": {"prompt": "seed", "num_images": 1},
        })
    };
    let took = log_pending(http, url, n, clients, entry).await;
    println!("logged {n} open runs in {took:.1} s");
}

async fn token_timing(http: &reqwest::Client, url: &str, token: &str, runs: usize) {
    let mut first = token.to_string().into_bytes();
    first[0] ^= 1;
    let mut last = token.to_string().into_bytes();
    let end = last.len() - 1;
    last[end] ^= 1;
    let wrong = [
        (
            "first byte wrong",
            String::from_utf8(first).expect("ascii token"),
        ),
        (
            "last byte wrong",
            String::from_utf8(last).expect("ascii token"),
        ),
        ("shorter", token[..token.len() / 2].to_string()),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); wrong.len()];
    for _ in 0..runs {
        for (i, (_, given)) in wrong.iter().enumerate() {
            let started = Instant::now();
            let response = http
                .get(format!("{url}/api/v1/totals"))
                .bearer_auth(given)
                .send()
                .await
                .expect("GET");
            assert_eq!(response.status().as_u16(), 401);
            let _ = response.bytes().await;
            times[i].push(started.elapsed());
        }
    }
    for ((label, _), mut t) in wrong.iter().zip(times) {
        t.sort();
        println!(
            "{label:>16}: median {:.3} ms, p90 {:.3} ms ({runs} requests)",
            percentile(&t, 0.5),
            percentile(&t, 0.9)
        );
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Some(client) = &args.log_timing {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        log_timing(&http, &args.url, client, args.runs).await;
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()
        .expect("client");
    if args.fake_fal {
        fake_fal().await;
        return;
    }
    if args.fake_providers {
        fake_providers().await;
        return;
    }
    if let (Some(fake), Some(provider)) = (&args.provider_overhead, &args.provider) {
        provider_overhead(&http, &args.url, fake, provider, args.runs).await;
        return;
    }
    if let Some(n) = args.seed_open_predictions {
        seed_open_predictions(&http, &args.url, n, args.clients).await;
        return;
    }
    if let Some(fake) = &args.proxy_overhead {
        proxy_overhead(&http, &args.url, fake, args.runs).await;
        return;
    }
    if let Some(token) = &args.token_timing {
        token_timing(&http, &args.url, token, args.runs).await;
        return;
    }
    if let Some(n) = args.seed_open_runs {
        seed_open_runs(&http, &args.url, n, args.clients).await;
        return;
    }
    if let Some(path) = &args.get {
        let mut times = Vec::new();
        for _ in 0..args.runs {
            let started = Instant::now();
            let response = http
                .get(format!("{}{path}", args.url))
                .send()
                .await
                .expect("GET");
            let status = response.status();
            let _ = response.bytes().await.expect("body");
            assert!(status.is_success(), "{path}: {status}");
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "GET {path}: {} runs, median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
            args.runs,
            percentile(&times, 0.5),
            percentile(&times, 0.9),
            percentile(&times, 1.0)
        );
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..args.clients {
        let http = http.clone();
        let url = format!("{}/api/v1/entries", args.url);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut ids = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let body = format!(
                    r#"{{"model":"fal-ai/flux/dev","params":{{"num_images":1}},"client":"Load","project":"P{}","request_id":"load-{client}-{n}"}}"#,
                    client % 4
                );
                let sent = Instant::now();
                let response = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("POST");
                let status = response.status().as_u16();
                let entry: serde_json::Value = response.json().await.expect("JSON");
                latencies.push(sent.elapsed());
                assert_eq!(status, 201, "{entry}");
                ids.push(entry["id"].as_str().unwrap_or_default().to_string());
            }
            (latencies, ids)
        }));
    }
    let mut latencies = Vec::new();
    let mut ids = Vec::new();
    for task in tasks {
        let (l, i) = task.await.expect("client");
        latencies.extend(l);
        ids.extend(i);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "{} clients, {:.1} s: {} entries (201), {:.0} entries/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        args.clients,
        elapsed,
        ids.len(),
        ids.len() as f64 / elapsed,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
    // Every acknowledged entry is there.
    let mut missing = 0;
    for id in &ids {
        let response = http
            .get(format!("{}/api/v1/entries/{id}", args.url))
            .send()
            .await
            .expect("GET");
        if response.status() != 200 {
            missing += 1;
        }
    }
    println!(
        "acknowledged entries present afterwards: {} of {}",
        ids.len() - missing,
        ids.len()
    );
    assert_eq!(missing, 0);
}
