//! End-to-end: two processes logging into the same ledger at once; every
//! entry lands exactly once and the chain stays one gap-free sequence.

mod common;
use common::TestLedger;
use std::collections::HashSet;

const PER_WRITER: usize = 25;

#[test]
fn two_processes_logging_at_once_each_entry_lands_exactly_once() {
    for ledger in TestLedger::each() {
        std::thread::scope(|scope| {
            for writer in ["a", "b"] {
                let ledger = &ledger;
                scope.spawn(move || {
                    let log = |request: &str| {
                        ledger.ok(&[
                            "log",
                            "--model",
                            "m",
                            "--cost",
                            "0.01",
                            "--request-id",
                            request,
                        ]);
                    };
                    for i in 0..PER_WRITER {
                        log(&format!("{writer}-{i}"));
                        // Every writer also retries one earlier request: it must not be logged twice.
                        if i % 5 == 4 {
                            log(&format!("{writer}-0"));
                        }
                    }
                });
            }
        });
        let list = ledger.json(&["list", "--json", "--limit", "1000"]);
        let requests: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["request_id"].as_str().unwrap())
            .collect();
        assert_eq!(requests.len(), 2 * PER_WRITER, "[{}]", ledger.backend);
        let unique: HashSet<&str> = requests.iter().copied().collect();
        assert_eq!(unique.len(), 2 * PER_WRITER);
        let out = ledger.ok(&["verify"]);
        assert!(
            out.starts_with(&format!("ok: {} events", 2 * PER_WRITER)),
            "{out}"
        );
    }
}
