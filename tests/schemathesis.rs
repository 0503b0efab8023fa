//! Schemathesis (from PyPI) against `/api/v1/openapi.json` of a running
//! server, bounded in time: no 5xx, every status and error body as the
//! document says. Skipped where `schemathesis` is not installed, unless
//! `GENCOST_REQUIRE_SCHEMATHESIS` is set (`.ci/run` installs it and sets it).
//! `GENCOST_SCHEMATHESIS_SECONDS` sets the time budget (default 60).

mod common;
use common::server::Server;
use common::TestLedger;
use std::process::Command;

#[test]
fn the_api_matches_its_openapi_document_under_generated_requests() {
    if Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("GENCOST_REQUIRE_SCHEMATHESIS").is_none(),
            "GENCOST_REQUIRE_SCHEMATHESIS is set but schemathesis is not installed (pip install schemathesis)"
        );
        eprintln!("skipped: schemathesis is not installed");
        return;
    }
    let seconds = std::env::var("GENCOST_SCHEMATHESIS_SECONDS").unwrap_or_else(|_| "60".into());
    let ledger = TestLedger::sqlite();
    let server = Server::start(&ledger, &[]);
    let output = Command::new("schemathesis")
        .args([
            "run",
            &server.api("/openapi.json"),
            "--max-time",
            &seconds,
            "--workers",
            "2",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--seed",
            "20261204",
        ])
        .env("NO_COLOR", "1")
        // Its cache goes in the test's folder, not the repository.
        .current_dir(ledger.dir.path())
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("passed"), "{report}");
    let verify = ledger.run(&["verify"]);
    assert_eq!(verify.code, 0, "the ledger stays sound: {}", verify.stderr);
}
