//! Signed checkpoints through the real binary, on both backends: a
//! checkpoint signs the head, `verify --checkpoint` accepts the ledger it
//! signed (and the same ledger grown since), and refuses one whose chain
//! was rewritten — which plain `verify` cannot see; an altered checkpoint
//! file and another signer's key are refused; the key moves between
//! computers with `key export` / `key import`; `serve --checkpoint-every`
//! signs as the ledger changes.

mod common;
use common::server::{http_client, Server};
use common::{run_with, TestLedger};
use serde_json::Value;

fn log(ledger: &TestLedger, cost: &str, client: &str) {
    ledger.ok(&[
        "log",
        "--model",
        "fal-ai/flux/dev",
        "--cost",
        cost,
        "--client",
        client,
    ]);
}

#[test]
fn verify_checkpoint_sees_a_rewritten_chain_that_plain_verify_accepts() {
    for ledger in TestLedger::each() {
        log(&ledger, "0.025", "Örebro Film");
        log(&ledger, "1.50", "Acme");
        log(&ledger, "0.000004", "Acme");
        let file = ledger.dir.path().join("checkpoint.json");
        let path = file.display().to_string();
        let checkpoint: Value = ledger.json(&["checkpoint", "-o", &path, "--json"]);
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(checkpoint, written);
        assert_eq!(checkpoint["format"], "gencost checkpoint 1");
        assert_eq!(checkpoint["entries"], 3);
        assert_eq!(
            checkpoint["totals"]["USD"], "1.525004",
            "exact, in micro-units"
        );
        let verified = ledger.json(&["verify", "--json"]);
        assert_eq!(checkpoint["position"], verified["events"]);
        assert_eq!(checkpoint["hash"], verified["head"]);
        let public_key = ledger.ok(&["key", "show"]);
        assert_eq!(checkpoint["public_key"], public_key.trim());

        // The ledger it signed, and the same ledger grown since, pass.
        let ok = ledger.ok(&["verify", "--checkpoint", &path]);
        assert!(ok.contains("ok: the ledger is what the checkpoint"), "{ok}");
        log(&ledger, "2", "Acme");
        ledger.ok(&["verify", "--checkpoint", &path]);

        // Cleared and filled again with other figures: a whole new chain
        // that verifies on its own, but not against the checkpoint.
        let backups = tempfile::tempdir().unwrap();
        let backup_dir = |name: &str| {
            let dir = backups.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            dir.display().to_string()
        };
        ledger.ok(&[
            "reset",
            "--confirm",
            "DELETE",
            "--backup-dir",
            &backup_dir("first"),
        ]);
        log(&ledger, "0.025", "Örebro Film");
        log(&ledger, "0.15", "Acme");
        log(&ledger, "0.000004", "Acme");
        log(&ledger, "2", "Acme");
        ledger.ok(&["verify"]);
        let run = ledger.run(&["verify", "--checkpoint", &path]);
        assert_eq!(run.code, 1, "{run:?}");
        let position = checkpoint["position"].as_i64().unwrap();
        assert!(
            run.stdout.contains(&format!(
                "differs from the checkpoint of {}",
                checkpoint["time"].as_str().unwrap()
            )) && run.stdout.contains(&format!("at position {position}"))
                && run.stdout.contains("rewritten"),
            "{}",
            run.stdout
        );
        // Fewer events than the checkpoint's position: named too.
        ledger.ok(&[
            "reset",
            "--confirm",
            "DELETE",
            "--backup-dir",
            &backup_dir("second"),
        ]);
        let run = ledger.run(&["verify", "--checkpoint", &path]);
        assert_eq!(run.code, 1);
        assert!(
            run.stdout
                .contains(&format!("the checkpoint signed position {position}")),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn an_altered_checkpoint_or_another_signer_is_refused() {
    let ledger = TestLedger::sqlite();
    log(&ledger, "1.50", "Acme");
    let file = ledger.dir.path().join("checkpoint.json");
    let path = file.display().to_string();
    ledger.ok(&["checkpoint", "-o", &path]);
    let original = std::fs::read_to_string(&file).unwrap();

    // A figure changed after signing.
    std::fs::write(&file, original.replace("\"1.5\"", "\"1.05\"")).unwrap();
    let run = ledger.run(&["verify", "--checkpoint", &path]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("altered after signing"),
        "{}",
        run.stderr
    );

    // Re-signed by someone else's key: refused against this user's key,
    // and against a key named on the command line.
    std::fs::write(&file, &original).unwrap();
    let other = tempfile::tempdir().unwrap();
    let theirs = run_with(
        &ledger.url,
        other.path(),
        other.path(),
        &["checkpoint", "-o", &path],
    );
    assert_eq!(theirs.code, 0, "{theirs:?}");
    let run = ledger.run(&["verify", "--checkpoint", &path]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not by the key it must be signed by"),
        "{}",
        run.stderr
    );
    let mine = ledger.ok(&["key", "show"]);
    let run = run_with(
        &ledger.url,
        other.path(),
        other.path(),
        &["verify", "--checkpoint", &path, "--public-key", mine.trim()],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not by the key it must be signed by"),
        "{}",
        run.stderr
    );
    // On a computer with no key of its own and no key named, a valid
    // signature proves nothing: whoever rewrote the ledger could have
    // signed with a key of their own.
    std::fs::write(&file, &original).unwrap();
    let auditor = tempfile::tempdir().unwrap();
    let run = run_with(
        &ledger.url,
        auditor.path(),
        auditor.path(),
        &["verify", "--checkpoint", &path],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("no key to compare with") && run.stdout.contains("--public-key"),
        "{}",
        run.stdout
    );
    assert!(
        !auditor.path().join("checkpoint.key").exists(),
        "verify makes no key"
    );
    let run = run_with(
        &ledger.url,
        auditor.path(),
        auditor.path(),
        &["verify", "--checkpoint", &path, "--public-key", mine.trim()],
    );
    assert_eq!(run.code, 0, "{run:?}");
    // Not a checkpoint at all.
    std::fs::write(&file, "{\"format\": 1}").unwrap();
    let run = ledger.run(&["verify", "--checkpoint", &path]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a gencost checkpoint"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_key_moves_with_export_and_import() {
    let ledger = TestLedger::sqlite();
    log(&ledger, "1", "Acme");
    let public = ledger.ok(&["key", "show"]);
    let exported = ledger.dir.path().join("exported.key");
    let path = exported.display().to_string();
    ledger.ok(&["key", "export", "-o", &path]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&exported).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A second export never overwrites a file.
    assert_eq!(ledger.run(&["key", "export", "-o", &path]).code, 2);

    let laptop = tempfile::tempdir().unwrap();
    let on_laptop = |args: &[&str]| run_with(&ledger.url, laptop.path(), laptop.path(), args);
    let made = on_laptop(&["key", "show"]);
    assert_ne!(made.stdout, public, "a new computer makes its own key");
    let refused = on_laptop(&["key", "import", &path]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--replace"), "{}", refused.stderr);
    assert_eq!(on_laptop(&["key", "import", &path, "--replace"]).code, 0);
    assert_eq!(on_laptop(&["key", "show"]).stdout, public);
    // Checkpoints signed on either computer now check on the other.
    let file = laptop.path().join("cp.json").display().to_string();
    assert_eq!(on_laptop(&["checkpoint", "-o", &file]).code, 0);
    ledger.ok(&["verify", "--checkpoint", &file]);
    std::fs::write(&exported, "not a key").unwrap();
    let run = on_laptop(&["key", "import", &path]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a checkpoint key"),
        "{}",
        run.stderr
    );
}

#[test]
fn serve_signs_checkpoints_as_the_ledger_changes() {
    let ledger = TestLedger::sqlite();
    log(&ledger, "1", "Acme");
    let server = Server::start(&ledger, &["--checkpoint-every", "1s"]);
    let folder = ledger.dir.path().join("checkpoints");
    let positions = || -> Vec<i64> {
        let Ok(files) = std::fs::read_dir(&folder) else {
            return Vec::new();
        };
        let mut positions: Vec<i64> = files
            .map(|f| {
                let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
                serde_json::from_str::<Value>(&text).unwrap()["position"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        positions.sort();
        positions
    };
    let wait_for = |count: usize| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while positions().len() < count && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        positions()
    };
    assert_eq!(wait_for(1).len(), 1, "one at start");
    let api = server.api("/entries");
    common::on_own_runtime(move || async move {
        let response = http_client(true)
            .post(api)
            .json(&serde_json::json!({ "model": "fal-ai/flux/dev", "cost": { "amount": "0.5", "currency": "USD" } }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    });
    let seen = wait_for(2);
    assert_eq!(seen.len(), 2, "one more after the change: {seen:?}");
    assert!(seen[1] > seen[0]);
    // Nothing changed since: no third one.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(positions().len(), 2);
    let newest = std::fs::read_dir(&folder)
        .unwrap()
        .map(|f| f.unwrap().path())
        .max()
        .unwrap();
    ledger.ok(&["verify", "--checkpoint", &newest.display().to_string()]);
    let run = ledger.run(&["serve", "--checkpoint-every", "soon"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--checkpoint-every: 'soon'"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_report_carries_a_checkpoint_only_with_a_key_and_verify_reads_it() {
    for ledger in TestLedger::each() {
        log(&ledger, "0.025", "Örebro Film");
        log(&ledger, "1.50", "Acme");
        let unsigned = ledger.dir.path().join("unsigned.html");
        ledger.ok(&["report", "html", "-o", &unsigned.display().to_string()]);
        let html = std::fs::read_to_string(&unsigned).unwrap();
        assert!(!html.contains("gencost-checkpoint") && !html.contains("Signed checkpoint"));
        assert!(
            !ledger.config_dir().join("checkpoint.key").exists(),
            "a report makes no key"
        );
        let run = ledger.run(&["verify", "--checkpoint", &unsigned.display().to_string()]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains("carries no signed checkpoint"),
            "{}",
            run.stderr
        );

        let public_key = ledger.ok(&["key", "show"]);
        let report = ledger.dir.path().join("report.html");
        let path = report.display().to_string();
        ledger.ok(&["report", "html", "-o", &path]);
        let html = std::fs::read_to_string(&report).unwrap();
        assert!(html.contains("Signed checkpoint"), "beside the badge");
        assert!(html.contains(public_key.trim()));
        let ok = ledger.ok(&["verify", "--checkpoint", &path]);
        assert!(ok.contains("ok: the ledger is what the checkpoint"), "{ok}");
        // The report's figures cannot be re-signed: editing its embedded
        // checkpoint breaks the signature.
        // It states the head only: a client's report must not tell the
        // studio's other totals or how many entries it has.
        let start = html.find("id=\"gencost-checkpoint\">").unwrap();
        let embedded = &html[start..start + html[start..].find("</script>").unwrap()];
        assert!(
            !embedded.contains("totals") && !embedded.contains("entries"),
            "{embedded}"
        );
        let position = format!(
            "\"position\":{}",
            ledger.json(&["verify", "--json"])["events"]
        );
        assert!(embedded.contains(&position), "{embedded}");
        let altered = html.replacen(&position, "\"position\":1", 1);
        assert_ne!(altered, html);
        std::fs::write(&report, altered).unwrap();
        let run = ledger.run(&["verify", "--checkpoint", &path]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains("altered after signing"),
            "{}",
            run.stderr
        );
        std::fs::write(&report, &html).unwrap();
        // Rewritten behind the report's back: found.
        let backups = tempfile::tempdir().unwrap();
        ledger.ok(&[
            "reset",
            "--confirm",
            "DELETE",
            "--backup-dir",
            &backups.path().display().to_string(),
        ]);
        log(&ledger, "0.025", "Örebro Film");
        log(&ledger, "0.50", "Acme");
        log(&ledger, "1", "Acme");
        let run = ledger.run(&["verify", "--checkpoint", &path]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stdout
                .contains("the ledger differs from the checkpoint"),
            "{}",
            run.stdout
        );
    }
}
