//! End-to-end: the edges of what gencost reaches and leaves behind. No
//! redirect is followed, `--fal-upstream` takes only https or loopback
//! http, files are created owner-only, and the token can come from a file.

mod common;
use axum::extract::{Request, State};
use axum::response::Response;
use common::server::{http_client, Server};
use common::TestLedger;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const KEY: &str = "fal-test-key-boundaries";

/// A stand-in for fal that answers every request with a redirect to
/// `location`.
async fn redirecting(State(location): State<String>, _: Request) -> Response {
    Response::builder()
        .status(307)
        .header("location", location)
        .header("x-fal-request-id", "req-redirect")
        .body(axum::body::Body::from("{\"detail\":\"moved\"}"))
        .unwrap()
}

/// A listener that counts the connections it receives (and answers none).
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (url, count)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_from_fal_is_relayed_and_never_followed() {
    let (elsewhere, reached) = counting_listener().await;
    let location = format!("{elsewhere}/latest/meta-data/iam");
    let app = axum::Router::new()
        .fallback(redirecting)
        .with_state(location.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let ledger = TestLedger::sqlite();
    let server = Server::start_with_env(&ledger, &["--fal-upstream", &fake], &[("FAL_KEY", KEY)]);
    for (method, target) in [
        ("POST", "https://queue.fal.run/fal-ai/flux/dev"),
        (
            "GET",
            "https://queue.fal.run/fal-ai/flux/dev/requests/req-1",
        ),
        ("POST", "https://fal.run/fal-ai/flux/dev"),
    ] {
        let request = http_client(false)
            .request(method.parse().unwrap(), format!("{}/fal/proxy", server.url))
            .header("x-fal-target-url", target)
            .header("content-type", "application/json")
            .body("{\"prompt\":\"a cat\"}");
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 307, "{method} {target}");
        assert_eq!(
            answer
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok()),
            Some(location.as_str())
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the redirect's target was reached"
    );
}

#[test]
fn fal_upstream_takes_https_or_loopback_http_only_and_says_where_requests_go() {
    let ledger = TestLedger::sqlite();
    for refused in [
        "http://10.0.0.7:8080",
        "http://169.254.169.254",
        "http://fal.example.com",
        "ftp://127.0.0.1",
    ] {
        for command in [
            &["serve", "--addr", "127.0.0.1:0", "--fal-upstream", refused][..],
            &["reconcile", "--fal-upstream", refused],
            &["pricing", "sync", "--fal-upstream", refused],
        ] {
            let run = ledger.run(command);
            assert_eq!(run.code, 2, "{command:?}: {}", run.stderr);
            assert!(run.stderr.contains("--fal-upstream"), "{}", run.stderr);
            assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        }
    }
    for allowed in ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"] {
        let run = ledger.run_env(
            &["reconcile", "--fal-upstream", allowed],
            &[("FAL_KEY", KEY)],
        );
        assert!(
            run.stderr
                .contains("fal.ai requests (and the fal.ai key) go to"),
            "{allowed}: {}",
            run.stderr
        );
    }
    let server = Server::start(&ledger, &["--fal-upstream", "https://fal.example.com"]);
    // The server's stderr is read on a thread of its own: give it a moment.
    let said = (0..50).any(|_| {
        let found = server
            .stderr
            .lock()
            .unwrap()
            .contains("go to https://fal.example.com/");
        if !found {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        found
    });
    assert!(said, "{}", server.stderr.lock().unwrap());
    // Every other provider's upstream is under the same rule.
    for flag in [
        "--openai-upstream",
        "--replicate-upstream",
        "--runway-upstream",
        "--elevenlabs-upstream",
    ] {
        let run = ledger.run(&[
            "serve",
            "--addr",
            "127.0.0.1:0",
            flag,
            "http://10.0.0.7:8080",
        ]);
        assert_eq!(run.code, 2, "{flag}: {}", run.stderr);
        assert!(run.stderr.contains(flag), "{}", run.stderr);
        assert!(
            run.stderr.contains("plain http to another machine"),
            "{}",
            run.stderr
        );
    }
}

#[cfg(unix)]
#[test]
fn ledger_backups_exports_and_reports_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let ledger = TestLedger::sqlite();
    ledger.ok(&[
        "log",
        "--model",
        "m",
        "--cost",
        "1",
        "--client",
        "Örebro Film",
    ]);
    let dir = ledger.dir.path();
    let csv = dir.join("out.csv");
    let html = dir.join("out.html");
    ledger.ok(&["export", "csv", "-o", csv.to_str().unwrap()]);
    ledger.ok(&["report", "html", "-o", html.to_str().unwrap()]);
    let reset = ledger.ok(&["reset", "--confirm", "DELETE"]);
    let mut files = vec![ledger.sqlite_path(), csv, html];
    files.extend(
        std::fs::read_dir(ledger.sqlite_path().parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("backup")),
    );
    assert!(files.len() > 3, "no backup beside the ledger: {reset}");
    for file in files {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_can_come_from_a_file() {
    let ledger = TestLedger::sqlite();
    let file = ledger.dir.path().join("token");
    std::fs::write(&file, "s3cret-token-of-24-chars\n").unwrap();
    let server = Server::start(&ledger, &["--token-file", file.to_str().unwrap()]);
    let client = http_client(false);
    let without = client.get(server.api("/totals")).send().await.unwrap();
    assert_eq!(without.status(), 401);
    let with = client
        .get(server.api("/totals"))
        .bearer_auth("s3cret-token-of-24-chars")
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 200);

    std::fs::write(&file, "\n").unwrap();
    let empty = ledger.run(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--token-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(empty.code, 2, "{}", empty.stderr);
    assert!(empty.stderr.contains("holds no token"), "{}", empty.stderr);
    let help = ledger.ok(&["serve", "--help"]);
    assert!(help.contains("ps"), "{help}");
}

/// A ledger large enough that a report takes a while to make.
async fn seeded(entries: usize) -> TestLedger {
    let ledger = TestLedger::sqlite();
    let url = gencost::store::DatabaseUrl::parse(&ledger.url).unwrap();
    let store = gencost::store::SqlStore::open(&url).await.unwrap();
    common::seed_generations(&store, entries).await;
    ledger
}

#[tokio::test(flavor = "multi_thread")]
async fn at_most_two_heavy_pages_at_once_and_the_api_still_answers() {
    let ledger = seeded(30_000).await;
    let server = Server::start(&ledger, &[]);
    let client = http_client(false);
    let pages: Vec<_> = (0..6)
        .map(|n| {
            let url = server.api(if n % 2 == 0 {
                "/report.html"
            } else {
                "/export.csv"
            });
            let client = client.clone();
            tokio::spawn(async move { client.get(url).send().await.unwrap() })
        })
        .collect();
    // While they are made, the API answers.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let totals = client.get(server.api("/totals")).send().await.unwrap();
    assert_eq!(totals.status(), 200);
    let mut made = 0;
    let mut refused = 0;
    for page in pages {
        let answer = page.await.unwrap();
        match answer.status().as_u16() {
            200 => made += 1,
            503 => {
                assert_eq!(
                    answer
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()),
                    Some("5")
                );
                let body: serde_json::Value = answer.json().await.unwrap();
                assert_eq!(body["error"]["code"], "overloaded", "{body}");
                refused += 1;
            }
            other => panic!("status {other}"),
        }
    }
    assert!(made >= 2, "{made} made");
    assert!(refused >= 1, "six at once, none refused ({made} made)");
    // Once they are done, the next one is made.
    let after = client.get(server.api("/report.html")).send().await.unwrap();
    assert_eq!(after.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_on_another_site_cannot_start_a_report_on_a_server_without_a_token() {
    let ledger = TestLedger::sqlite();
    ledger.ok(&["log", "--model", "m", "--cost", "1"]);
    let server = Server::start(&ledger, &["--allow-origin", "http://localhost:3000"]);
    let client = http_client(false);
    for path in [
        "/report.html",
        "/export.csv",
        "/verify",
        "/entries?search=m",
    ] {
        for (site, origin, expected) in [
            (Some("cross-site"), None, 403),
            (Some("same-site"), Some("http://evil.localhost:1"), 403),
            (Some("same-origin"), None, 200),
            (Some("none"), None, 200),
            (None, None, 200),
            (Some("cross-site"), Some("http://localhost:3000"), 200),
        ] {
            let mut request = client.get(server.api(path));
            if let Some(site) = site {
                request = request.header("sec-fetch-site", site);
            }
            if let Some(origin) = origin {
                request = request.header("origin", origin);
            }
            let answer = request.send().await.unwrap();
            assert_eq!(answer.status(), expected, "{path} {site:?} {origin:?}");
            if expected == 403 {
                let body: serde_json::Value = answer.json().await.unwrap();
                assert_eq!(body["error"]["code"], "forbidden_origin", "{body}");
            }
        }
    }
    let token = "a-token-of-sixteen-chars";
    let guarded = Server::start(&ledger, &["--token", token]);
    let answer = client
        .get(guarded.api("/report.html"))
        .header("sec-fetch-site", "cross-site")
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        200,
        "a token is what guards a server that has one"
    );
}
