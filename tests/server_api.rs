//! `gencost serve` end to end: the real binary on port 0, on SQLite and
//! PostgreSQL, driven over HTTP as a plugin or script would.

mod common;
use common::server::Server;
use common::TestLedger;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    common::server::http_client(true)
}

async fn post(url: &str, body: Value) -> (StatusCode, Value) {
    let response = client().post(url).json(&body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(url: &str) -> (StatusCode, Value) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every 4xx has the documented shape.
fn assert_error(body: &Value, code: &str, field: Option<&str>) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["error"]["field"].as_str(), field, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_are_logged_confirmed_retagged_and_voided_over_http() {
    for ledger in TestLedger::each() {
        let server = Server::start(&ledger, &[]);
        let body = json!({"model": "fal-ai/flux/dev", "params": {"num_images": 2},
            "client": "Acme", "project": "Summer Spot", "request_id": "req-1"});
        let (status, entry) = post(&server.api("/entries"), body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "[{}] {entry}", ledger.backend);
        assert_eq!(entry["estimate"]["amount"], "0.05");
        assert_eq!(entry["estimate"]["tier"], "estimated");
        let id = entry["id"].as_str().unwrap().to_string();
        // A retry with the same request id returns the entry, adds nothing.
        let (status, again) = post(&server.api("/entries"), body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["id"], id.as_str());
        // The same object `gencost list --json` prints.
        let listed = ledger.json(&["list", "--json"]);
        assert_eq!(listed[0], entry, "[{}]", ledger.backend);

        let (status, confirmed) = post(
            &server.api(&format!("/entries/{id}/actual")),
            json!({"amount": "0.031"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{confirmed}");
        assert_eq!(confirmed["actual"]["amount"], "0.031");
        assert_eq!(confirmed["actual"]["currency"], "USD");
        assert_eq!(confirmed["estimate"]["amount"], "0.05");

        let response = client()
            .patch(server.api(&format!("/entries/{id}/tags")))
            .json(&json!({"deliverable": "Hero Film", "client": "acme"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let retagged: Value = response.json().await.unwrap();
        // The spelling already in the ledger is kept; the project stays.
        assert_eq!(retagged["client"], "Acme");
        assert_eq!(retagged["project"], "Summer Spot");
        assert_eq!(retagged["deliverable"], "Hero Film");
        // The CLI twin changes tags the same way, by an event.
        let out = ledger.json(&["retag", &id, "--deliverable", "Social Cut", "--json"]);
        assert_eq!(out["deliverable"], "Social Cut");

        let (status, totals) = get(&server.api("/totals?by=project&currency=USD")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(totals["total"], "0.031");
        assert_eq!(totals["groups"][0]["key"], "Summer Spot");

        let (status, page) = get(&server.api("/entries?limit=1&project=summer%20spot")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["entries"].as_array().unwrap().len(), 1);
        assert_eq!(page["next_cursor"], Value::Null);

        let (status, tags) = get(&server.api("/tags/client?prefix=ac")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(tags, json!([{"value": "Acme", "count": 1}]));

        let (status, voided) = post(
            &server.api(&format!("/entries/{id}/void")),
            json!({"reason": "test render"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(voided["void"], true);
        // A void entry cannot change: 409, and nothing is written.
        let before = ledger.events();
        let (status, body) = post(
            &server.api(&format!("/entries/{id}/actual")),
            json!({"amount": "1"}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_error(&body, "conflict", None);
        assert_eq!(ledger.events(), before);
        let (status, body) = get(&server.api("/totals")).await;
        assert_eq!(
            (status, body["total"].as_str()),
            (StatusCode::OK, Some("0"))
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_with_the_error_shape_and_nothing_written() {
    for ledger in TestLedger::each() {
        let server = Server::start(&ledger, &[]);
        post(
            &server.api("/entries"),
            json!({"model": "m", "cost": {"amount": "1", "currency": "USD"}}),
        )
        .await;
        let before = ledger.events();
        let unknown = "01a23ec2-cf57-7294-b2d6-09b8983f3378";
        let cases: Vec<(&str, Value, StatusCode, &str, Option<&str>)> = vec![
            (
                "/entries",
                json!({"model": "m", "cost": {"amount": 0.5, "currency": "USD"}}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
                Some("cost.amount"),
            ),
            (
                "/entries",
                json!({"model": "m", "projct": "x"}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
                Some("projct"),
            ),
            (
                "/entries",
                json!({"model": "m", "cost": {"amount": "1", "currency": "XYZ"}}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
                Some("cost.currency"),
            ),
            (
                "/entries",
                json!({"model": "m", "cost": {"amount": "-1", "currency": "USD"}}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
                None,
            ),
            (
                "/entries",
                json!({"model": "m", "client": "a\u{7}b"}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
                Some("client"),
            ),
            (
                "/entries",
                json!({"model": "m", "occurred_at": "2099-01-01"}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
                Some("occurred_at"),
            ),
            (
                "/entries",
                json!({"kind": "pool", "model": "m"}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
                Some("kind"),
            ),
            (
                "/entries",
                json!({"model": "m", "duration_ms": -5}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
                Some("duration_ms"),
            ),
            (
                "/entries/not-an-id/actual",
                json!({"amount": "1"}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
                Some("id"),
            ),
            (
                &*Box::leak(format!("/entries/{unknown}/actual").into_boxed_str()),
                json!({"amount": "1"}),
                StatusCode::NOT_FOUND,
                "not_found",
                None,
            ),
            (
                &*Box::leak(format!("/entries/{unknown}/void").into_boxed_str()),
                json!({"reason": "x"}),
                StatusCode::NOT_FOUND,
                "not_found",
                None,
            ),
            (
                "/reset",
                json!({"confirm": "delete"}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
                Some("confirm"),
            ),
            (
                "/pools",
                json!({"amount": {"amount": "30", "currency": "USD"}, "description": "MJ", "period": "2026-13", "projects": ["A"]}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
                Some("period"),
            ),
        ];
        for (path, body, status, code, field) in cases {
            let (got, answer) = post(&server.api(path), body.clone()).await;
            assert_eq!(got, status, "[{}] {path} {body}: {answer}", ledger.backend);
            assert_error(&answer, code, field);
        }
        // Not JSON, not declared as JSON, too large.
        let response = client()
            .post(server.api("/entries"))
            .body("{\"model\":\"m\"}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let response = client()
            .post(server.api("/entries"))
            .header("content-type", "application/json")
            .body("{\"model\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let huge = json!({"model": "m", "description": "x".repeat(2 * 1024 * 1024)});
        let (status, body) = post(&server.api("/entries"), huge).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_error(&body, "too_large", None);
        // Query strings: a misspelt filter is an error, not a wider total.
        let (status, body) = get(&server.api("/totals?projct=x")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_error(&body, "invalid_input", Some("projct"));
        let (status, body) = get(&server.api("/totals?by=colour")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_error(&body, "invalid_input", Some("by"));
        let (status, body) = get(&server.api("/entries?since=yesterday")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_error(&body, "invalid_input", Some("since"));
        let (status, body) = get(&server.api("/entries?limit=100000")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_error(&body, "invalid_input", Some("limit"));
        let (status, body) = get(&server.api("/entries?cursor=nonsense")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_error(&body, "invalid_input", Some("cursor"));
        let (status, body) = get(&server.api("/no/such/route")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_error(&body, "not_found", None);
        assert_eq!(
            ledger.events(),
            before,
            "[{}] nothing written",
            ledger.backend
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_hosts_and_origins_are_refused_and_listed_origins_allowed() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &["--allow-origin", "http://localhost:3000"]);
    let url = server.api("/totals");
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1.
    let response = client()
        .get(&url)
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_error(&response.json().await.unwrap(), "forbidden", None);
    for host in ["localhost", "127.0.0.1", server.addr.as_str()] {
        let response = client()
            .get(&url)
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{host}");
    }
    // CSRF: a state change from a foreign page.
    let response = client()
        .post(server.api("/entries"))
        .header("origin", "http://evil.example")
        .json(&json!({"model": "m"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(ledger.events(), 0);
    // The panel's own origin and a listed one may write; only the listed
    // one gets CORS headers.
    let own = format!("http://{}", server.addr);
    for origin in [own.as_str(), "http://localhost:3000"] {
        let response = client()
            .post(server.api("/entries"))
            .header("origin", origin)
            .json(&json!({"model": "m", "request_id": origin}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{origin}");
        let cors = response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(cors.as_deref(), (origin != own).then_some(origin));
    }
    let preflight = |origin: &'static str| {
        client()
            .request(reqwest::Method::OPTIONS, server.api("/entries"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("http://localhost:3000").await.unwrap();
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
    assert!(allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("x-fal-target-url"));
    assert_eq!(
        preflight("http://evil.example").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_guards_the_api_and_the_panel_trades_it_for_a_session() {
    let ledger = TestLedger::sqlite();
    // A non-loopback address without a token refuses to start.
    let run = ledger.run(&["serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--token"), "{}", run.stderr);
    let token = "correct-horse-battery-staple";
    let server = Server::start(&ledger, &["--token", token]);
    let url = server.api("/totals");
    assert_eq!(
        client().get(&url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong = client()
        .get(&url)
        .bearer_auth("correct-horse-battery-stapler")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let wrong_body: Value = wrong.json().await.unwrap();
    assert_error(&wrong_body, "unauthorized", None);
    assert!(
        wrong_body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not this server's"),
        "a wrong token is told apart from a missing one: {wrong_body}"
    );
    // The scheme is case-insensitive (RFC 7235).
    let lower = client()
        .get(&url)
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
    assert_eq!(
        client()
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // The panel's fragments need it too; its script and styles do not.
    for (path, status) in [
        ("/panel/summary", StatusCode::UNAUTHORIZED),
        ("/panel/history", StatusCode::UNAUTHORIZED),
        ("/assets/panel.js", StatusCode::OK),
    ] {
        let answer = client()
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{path}");
    }
    // The panel asks for the token, then works with its cookie alone.
    let page = client()
        .get(&server.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"token\""), "{page}");
    let plain = common::server::http_client(false);
    let refused = plain
        .post(format!("{}/session", server.url))
        .form(&[("token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().get("set-cookie").is_none());
    let opened = plain
        .post(format!("{}/session", server.url))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(cookie.contains("Max-Age=43200"), "sessions end: {cookie}");
    let session = cookie.split(';').next().unwrap().to_string();
    let with_cookie = client()
        .get(&url)
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), StatusCode::OK);
    let panel = client()
        .get(&server.url)
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(panel.contains("id=\"history\""));
    assert!(
        panel.contains("/session/logout"),
        "the panel offers to log out"
    );
    let forged = client()
        .get(&url)
        .header("cookie", "gencost_session=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    // Logging out ends the session on the server, not only in the browser.
    let out = plain
        .post(format!("{}/session/logout", server.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = client()
        .get(&url)
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_methods_forms_and_repeated_fields_get_the_error_shape() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    let wrong_method = client().delete(server.api("/totals")).send().await.unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_error(
        &wrong_method.json().await.unwrap(),
        "method_not_allowed",
        None,
    );
    let not_multipart = client()
        .post(server.api("/import"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(not_multipart.status(), StatusCode::BAD_REQUEST);
    assert_error(
        &not_multipart.json().await.unwrap(),
        "invalid_input",
        Some("body"),
    );
    let csv = "date,description,amount\n2026-11-03,plan,9\n";
    let two_files = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::text(csv).file_name("a.csv"),
        )
        .part(
            "file",
            reqwest::multipart::Part::text(csv).file_name("b.csv"),
        );
    let answer = client()
        .post(server.api("/import"))
        .multipart(two_files)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_error(&answer.json().await.unwrap(), "invalid_input", Some("file"));
    let (status, body) =
        get(&server.api("/estimate?model=fal-ai/flux/dev&param.num_images=1&param.num_images=4"))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid_input", Some("param.num_images"));
    let panel = client()
        .get(format!(
            "{}/panel/estimate?model=fal-ai/flux/dev&params=num_images%3D1+num_images%3D4",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(panel.status(), StatusCode::BAD_REQUEST);
    // Requests without parameters refuse any given, as the others do.
    for path in [
        "/pools?client=acme",
        "/imports?x=1",
        "/verify?full=1",
        "/active-tags?c=1",
        "/pricing/models?commercial=1",
    ] {
        let (status, body) = get(&server.api(path)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body["error"]["code"], "invalid_input", "{path}");
    }
    assert_eq!(ledger.events(), 0, "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_reports_imports_and_pools_match_the_command_line() {
    for ledger in TestLedger::each() {
        let server = Server::start(&ledger, &[]);
        for (model, project, cost) in [
            ("fal-ai/flux/dev", "Summer Spot", "0.05"),
            ("fal-ai/veo3", "Winter", "3.20"),
        ] {
            let (status, _) = post(&server.api("/entries"), json!({"model": model, "client": "Acme",
                "project": project, "cost": {"amount": cost, "currency": "USD"}, "occurred_at": "2026-11-03"})).await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let csv = "date,description,amount,category\n2026-11-03,Midjourney Pro,30.00,Midjourney\n2026-11-04,Refund,-5.00,Midjourney\n";
        let form = |dry_run: &str| {
            reqwest::multipart::Form::new()
                .part(
                    "file",
                    reqwest::multipart::Part::text(csv).file_name("receipts.csv"),
                )
                .text("project", "Summer Spot")
                .text("currency", "USD")
                .text("dry_run", dry_run.to_string())
        };
        let before = ledger.events();
        let preview: Value = client()
            .post(server.api("/import"))
            .multipart(form("true"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(preview["dry_run"], true);
        assert_eq!(preview["added"], 2);
        assert_eq!(ledger.events(), before, "a dry run writes nothing");
        let response = client()
            .post(server.api("/import"))
            .multipart(form("false"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let imported: Value = response.json().await.unwrap();
        assert_eq!(
            (imported["added"].as_i64(), imported["refunds"].as_i64()),
            (Some(2), Some(1))
        );
        // Again: nothing new.
        let again: Value = client()
            .post(server.api("/import"))
            .multipart(form("false"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (again["added"].as_i64(), again["present"].as_i64()),
            (Some(0), Some(2))
        );
        // A bad row refuses the whole file, naming file and line.
        let bad = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::text(
                    "date,description,amount\n2026-11-03,ok,1\n2026-11-04,bad,12.3.4\n",
                )
                .file_name("bad.csv"),
            )
            .text("source", "Midjourney")
            .text("currency", "USD");
        let response = client()
            .post(server.api("/import"))
            .multipart(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("bad.csv:3"),
            "{body}"
        );
        let (status, imports) = get(&server.api("/imports")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(imports.as_array().unwrap().len(), 1);
        assert_eq!(imports[0]["live_entries"], 2);

        let (status, pool) = post(
            &server.api("/pools"),
            json!({"amount": {"amount": "30", "currency": "USD"},
            "description": "Runway", "period": "2026-11", "projects": ["Summer Spot", "Winter"]}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{pool}");
        let pool_id = pool["id"].as_str().unwrap().to_string();
        let (_, pools) = get(&server.api("/pools")).await;
        assert_eq!(pools[0]["shares"].as_array().unwrap().len(), 2);
        let cli_total = ledger.json(&["total", "--json"]);
        let (_, api_total) = get(&server.api("/totals")).await;
        assert_eq!(api_total, cli_total);

        // The export and the report are the files the commands write.
        let exported = client()
            .get(server.api("/export.csv?currency=EUR"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            exported.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        assert_eq!(
            exported.text().await.unwrap(),
            ledger.ok(&["export", "csv", "--currency", "EUR"])
        );
        let at = "2026-12-01T12:00:00Z";
        let html = client()
            .get(server.api(&format!(
                "/report.html?client=Acme&generated_at={at}&tz=UTC&markup=15"
            )))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let cli = ledger.ok(&[
            "report",
            "html",
            "--client",
            "Acme",
            "--generated-at",
            at,
            "--tz",
            "UTC",
            "--markup",
            "15",
            "-o",
            "-",
        ]);
        assert_eq!(
            html, cli,
            "[{}] the report differs from the CLI's",
            ledger.backend
        );
        let (status, body) = get(&server.api("/report.html?markup=lots")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_error(&body, "invalid_input", Some("markup"));

        let (status, voided) = post(
            &server.api(&format!("/pools/{pool_id}/void")),
            json!({"reason": "wrong month"}),
        )
        .await;
        assert_eq!(
            (status, voided["entries_voided"].as_i64()),
            (StatusCode::OK, Some(2))
        );
        let (status, _) = post(
            &server.api(&format!("/imports/{pool_id}/void")),
            json!({"reason": "x"}),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a pool is not voided as an import"
        );

        let (status, verify) = get(&server.api("/verify")).await;
        assert_eq!((status, &verify["problem"]), (StatusCode::OK, &Value::Null));
        let (status, reset) = post(&server.api("/reset"), json!({"confirm": "DELETE"})).await;
        assert_eq!(status, StatusCode::OK, "{reset}");
        assert!(reset["events_backed_up"].as_i64().unwrap() > 0);
        let (_, totals) = get(&server.api("/totals")).await;
        assert_eq!(totals["count"], 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn estimates_models_and_active_tags() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    let (status, estimate) = get(&server
        .api("/estimate?model=fal-ai/flux/dev&param.num_images=2&param.image_size=square_hd"))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (estimate["amount"].as_str(), estimate["tier"].as_str()),
        (Some("0.05"), Some("estimated"))
    );
    let cli = ledger.json(&[
        "pricing",
        "estimate",
        "fal-ai/flux/dev",
        "--param",
        "num_images=2",
        "--param",
        "image_size=square_hd",
        "--json",
    ]);
    assert_eq!(estimate, cli);
    let (status, body) = get(&server.api("/estimate")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid_input", Some("model"));
    let (status, models) = get(&server.api("/pricing/models")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(models
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["model"] == "fal-ai/flux/dev"));

    let response = client()
        .put(server.api("/active-tags"))
        .json(&json!({"client": "Acme", "project": "Summer Spot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // The same active tags as `gencost use`, and used when a log names none.
    assert_eq!(ledger.json(&["use", "--json"])["project"], "Summer Spot");
    let (_, entry) = post(&server.api("/entries"), json!({"model": "fal-ai/flux/dev"})).await;
    assert_eq!(
        (entry["client"].as_str(), entry["project"].as_str()),
        (Some("Acme"), Some("Summer Spot"))
    );
    let response = client()
        .put(server.api("/active-tags"))
        .json(&json!({"client": "Other"}))
        .send()
        .await
        .unwrap();
    let tags: Value = response.json().await.unwrap();
    assert_eq!(
        tags,
        json!({"client": "Other", "project": null, "deliverable": null})
    );
    let (status, doc) = get(&server.api("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/entries",
        "/api/v1/totals",
        "/api/v1/import",
        "/api/v1/reset",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
}

/// The data of the next server-sent event, or None after `wait`.
async fn next_change(response: &mut reqwest::Response, wait: std::time::Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut text = String::new();
    loop {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .ok()?
            .ok()??;
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let message: String = text.drain(..end + 2).collect();
            if let Some(data) = message.lines().find_map(|l| l.strip_prefix("data: ")) {
                return serde_json::from_str(data).ok();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_event_stream_reports_changes_from_other_processes_within_two_seconds() {
    for ledger in TestLedger::each() {
        let server = Server::start(&ledger, &[]);
        let mut stream = client().get(server.api("/events")).send().await.unwrap();
        assert_eq!(stream.headers()["content-type"], "text/event-stream");
        // The first message is the head as it is.
        let first = next_change(&mut stream, std::time::Duration::from_secs(2)).await;
        assert_eq!(first.expect("the first message")["events"], 0);
        // Another process writes to the same ledger.
        ledger.ok(&["log", "--model", "m", "--cost", "1"]);
        let change = next_change(&mut stream, std::time::Duration::from_secs(2)).await;
        let change =
            change.unwrap_or_else(|| panic!("[{}] no change event within 2 s", ledger.backend));
        assert_eq!(change["events"], 1);
        // And a write through the server itself.
        post(
            &server.api("/entries"),
            json!({"model": "m", "cost": {"amount": "1", "currency": "USD"}}),
        )
        .await;
        let change = next_change(&mut stream, std::time::Duration::from_secs(2))
            .await
            .expect("a second change");
        assert_eq!(change["events"], 2);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_shuts_down_cleanly_even_with_an_open_event_stream() {
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    let _stream = client().get(server.api("/events")).send().await.unwrap();
    post(&server.api("/entries"), json!({"model": "m"})).await;
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(ledger.json(&["verify", "--json"])["problem"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_panel_groups_totals_by_client_then_project_and_escapes_names() {
    for ledger in TestLedger::each() {
        let server = Server::start(&ledger, &[]);
        for (client, project, cost) in [
            ("Acme", "Summer Spot", "1.25"),
            ("Acme", "Summer Spot", "0.75"),
            ("Acme", "Winter", "3.00"),
            ("<script>alert(1)</script>", "Launch", "0.50"),
        ] {
            post(
                &server.api("/entries"),
                json!({"model": "m", "client": client, "project": project,
                "cost": {"amount": cost, "currency": "USD"}}),
            )
            .await;
        }
        post(
            &server.api("/entries"),
            json!({"model": "m", "cost": {"amount": "0.10", "currency": "USD"}}),
        )
        .await;
        let html = client()
            .get(format!("{}/panel/clients?currency=USD", server.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let flat: String = html.split_whitespace().collect::<Vec<_>>().join(" ");
        for expected in [
            r#"<span class="name">Acme</span><span class="amount" title="$5.00">$5.00</span>"#,
            r#"<span class="name">Summer Spot</span><span class="amount" title="$2.00">$2.00</span>"#,
            r#"<span class="name">Winter</span><span class="amount" title="$3.00">$3.00</span>"#,
            r#"<span class="name">(no client)</span><span class="amount" title="$0.10">$0.10</span>"#,
            "&#60;script&#62;alert(1)&#60;/script&#62;",
        ] {
            assert!(
                flat.contains(expected),
                "[{}] {expected} not in {flat}",
                ledger.backend
            );
        }
        assert!(!html.contains("<script>"), "user text is escaped");
        let summary = client()
            .get(format!("{}/panel/summary?currency=USD", server.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(summary.contains("$5.60"), "{summary}");
    }
}
