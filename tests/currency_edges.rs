//! Currencies at the edges, through the real binary on SQLite and (when
//! configured) PostgreSQL: what could never be converted is refused when
//! written; a fresh install converts any day since 1999 at ECB's rate of
//! that day; a total that cannot convert an amount leaves it out and says
//! so; stale rates are named; nothing saturates.

mod common;

use common::TestLedger;
use serde_json::{json, Value};

#[test]
fn a_currency_without_any_rate_is_refused_and_nothing_is_written() {
    for ledger in TestLedger::each() {
        for code in ["ARS", "CLP", "KWD"] {
            let run = ledger.run(&["log", "--model", "m", "--cost", "5", "--currency", code]);
            assert_eq!(run.code, 2, "[{}] {code}: {}", ledger.backend, run.stderr);
            assert_eq!(
                run.stderr.trim(),
                format!(
                    "error: currency {code}: no exchange rate is known for it, so it could never \
                     be converted; import rates for it with gencost rates import FILE first"
                )
            );
            let run = ledger.run(&["log", "--model", "m", "--actual", "5", "--currency", code]);
            assert_eq!(run.code, 2, "{}", run.stderr);
        }
        assert!(ledger.entries(&[]).is_empty());
        assert!(ledger
            .ok(&["total"])
            .starts_with("Total: $0.00 over 0 entries"));

        // confirm refuses it too, and leaves the entry as it was.
        let id = ledger.ok(&["log", "--model", "m", "--cost", "1", "--at", "2024-03-01"]);
        let run = ledger.run(&["confirm", id.trim(), "--actual", "2", "--currency", "KWD"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("currency KWD: no exchange rate is known"),
            "{}",
            run.stderr
        );
        assert_eq!(ledger.entries(&[])[0]["actual"], Value::Null);

        // With rates imported for it, the currency is accepted from their
        // first day on.
        let ars = ledger.write_file("ars.csv", "Date,ARS,\n2024-01-02,900.5,\n");
        ledger.ok(&["rates", "import", &ars]);
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "9005",
            "--currency",
            "ARS",
            "--at",
            "2024-01-02",
        ]);
        let run = ledger.run(&[
            "log",
            "--model",
            "m",
            "--cost",
            "1",
            "--currency",
            "ARS",
            "--at",
            "2023-12-29",
        ]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains(
                "time: 2023-12-29 is before 2024-01-02, the first day an exchange rate for ARS is known"
            ),
            "{}",
            run.stderr
        );
        assert_eq!(ledger.entries(&[]).len(), 2);
        ledger.ok(&[
            "confirm",
            id.trim(),
            "--actual",
            "1801",
            "--currency",
            "ARS",
        ]);
        // ARS 9005 / 900.5 × 1.0956 (ECB's USD of 2024-01-02) + ARS 1801 / 900.5 × 1.0813.
        let total = ledger.json(&["total", "--json"]);
        assert_eq!(total["total"], "13.1186");
        assert_eq!(total["unconverted"], json!([]));
    }
}

#[test]
fn a_2001_entry_converts_on_a_fresh_install_at_ecbs_rate_of_its_day() {
    for ledger in TestLedger::each() {
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "10",
            "--at",
            "2001-03-15T10:00:00Z",
        ]);
        // ECB, 2001-03-15: 1 EUR = 0.9064 USD = 9.147 SEK; $10 × 9.147 / 0.9064.
        let total = ledger.json(&["total", "--currency", "SEK", "--json"]);
        assert_eq!(total["total"], "100.915711");
        assert_eq!(
            total["rates"],
            json!([{"from": "USD", "to": "SEK", "rate": "10.0915710503", "date": "2001-03-15"}])
        );
        assert_eq!(total["stale_rates"], false);
        assert_eq!(total["unconverted"], json!([]));
        // A Saturday converts at Friday's rates: $10 × 9.145 / 0.8947.
        ledger.ok(&["log", "--model", "m", "--cost", "10", "--at", "2001-03-17"]);
        let listed = ledger.json(&["list", "--currency", "SEK", "--json"]);
        assert_eq!(listed[0]["cost"]["amount"], "102.213032");
        assert_eq!(listed[0]["rates"][0]["date"], "2001-03-16");
        assert_eq!(listed[0]["stale_rates"], false);
        let run = ledger.run(&["total", "--currency", "SEK"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stdout.starts_with("Total: 203.1 kr over 2 entries"),
            "{}",
            run.stdout
        );
        assert_eq!(
            run.stderr, "",
            "no warning for rates of the amounts' own days"
        );
        // Nothing was imported: these are the embedded rates.
        assert!(ledger
            .ok(&["rates", "show", "--date", "2001-03-15"])
            .contains("imported: none"));
    }
}

#[test]
fn a_time_before_the_first_rate_is_refused() {
    for ledger in TestLedger::each() {
        for (at, currency) in [
            ("1998-12-31", "USD"),
            ("1969-07-20T20:17:00Z", "USD"),
            ("1998-12-31T23:59:59Z", "EUR"),
        ] {
            let run = ledger.run(&[
                "log",
                "--model",
                "m",
                "--cost",
                "1",
                "--currency",
                currency,
                "--at",
                at,
            ]);
            assert_eq!(run.code, 2, "{at}: {}", run.stderr);
            assert!(
                run.stderr.contains(&format!(
                    "is before 1999-01-04, the first day an exchange rate for {currency} is known, \
                     so the amount could never be converted; import rates for {currency} covering \
                     that day with gencost rates import FILE first"
                )),
                "{}",
                run.stderr
            );
        }
        // A currency whose ECB rates start later is refused before them.
        let run = ledger.run(&[
            "log",
            "--model",
            "m",
            "--cost",
            "1",
            "--currency",
            "BRL",
            "--at",
            "2007-12-31",
        ]);
        assert!(
            run.stderr.contains("2007-12-31 is before 2008-01-02"),
            "{}",
            run.stderr
        );
        assert!(ledger.entries(&[]).is_empty());
        ledger.ok(&["log", "--model", "m", "--cost", "1", "--at", "1999-01-04"]);
        // Rates imported for the earlier day make it loggable, and it converts.
        let early = ledger.write_file("early.csv", "Date,USD,SEK,\n1998-12-30,1.1668,9.4845,\n");
        ledger.ok(&["rates", "import", &early]);
        ledger.ok(&["log", "--model", "m", "--cost", "1", "--at", "1998-12-31"]);
        // $1 × 9.4845 / 1.1668 + $1 × 9.4696 / 1.1789 (ECB, 1999-01-04).
        let total = ledger.json(&["total", "--currency", "SEK", "--json"]);
        assert_eq!(total["total"], "16.161215");
        assert_eq!(total["unconverted"], json!([]));
    }
}

#[test]
fn converting_at_a_rate_much_older_than_the_amount_warns() {
    for ledger in TestLedger::each() {
        // ECB stopped quoting the rouble after 2022-03-01.
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "100",
            "--currency",
            "RUB",
            "--at",
            "2023-06-01",
        ]);
        let warning = "warning: amounts were converted at exchange rates more than 7 days older \
                       than they are, the oldest of 2022-03-01 (for an amount of 2023-06-01); \
                       fetch ECB's latest rates with gencost rates update, or import a rates file \
                       with gencost rates import FILE";
        let run = ledger.run(&["total", "--json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stderr.trim(), warning);
        let total: Value = serde_json::from_str(&run.stdout).unwrap();
        // RUB 100 × 1.0697 (USD of 2023-06-01) / 117.201 (RUB of 2022-03-01);
        // the rate is dated by the older of the two.
        assert_eq!(total["total"], "0.912706");
        assert_eq!(total["stale_rates"], true);
        assert_eq!(total["rates"][0]["date"], "2022-03-01");
        let run = ledger.run(&["total"]);
        assert_eq!(run.stderr.trim(), warning);
        let run = ledger.run(&["list", "--currency", "USD", "--json"]);
        assert_eq!(run.stderr.trim(), warning);
        let listed: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(listed[0]["stale_rates"], true);
        assert_eq!(listed[0]["cost"]["amount"], "0.912706");
        // Rates of the amount's own week are not stale.
        let run = ledger.run(&["total", "--currency", "RUB", "--json"]);
        assert_eq!(run.stderr, "");
        assert_eq!(
            serde_json::from_str::<Value>(&run.stdout).unwrap()["stale_rates"],
            false
        );
        ledger.ok(&["log", "--model", "m", "--cost", "1", "--at", "2023-06-03"]);
        let run = ledger.run(&["list", "--currency", "SEK", "--limit", "1", "--json"]);
        assert!(!run.stderr.contains("warning"), "{}", run.stderr);
        let listed: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(listed[0]["stale_rates"], false);
        assert_eq!(listed[0]["rates"][0]["date"], "2023-06-02");
    }
}

#[test]
fn a_total_that_cannot_convert_an_amount_leaves_it_out_and_says_so() {
    for ledger in TestLedger::each() {
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "10",
            "--at",
            "2001-03-15",
            "--project",
            "A",
        ]);
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "2.5",
            "--at",
            "2001-03-15",
            "--project",
            "B",
        ]);
        ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "1",
            "--at",
            "2020-06-01",
            "--project",
            "A",
        ]);
        // ECB quotes the real only from 2008: the 2001 amounts cannot be shown in BRL.
        let run = ledger.run(&["total", "--currency", "BRL", "--by", "project", "--json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            run.stderr.trim(),
            "warning: left out of the total in BRL: $12.50 in 2 entries of 2001-03-15 (USD): \
             no exchange rate for BRL on or before 2001-03-15; import rates for BRL covering \
             that day with gencost rates import FILE"
        );
        let total: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(
            total["unconverted"],
            json!([{
                "currency": "USD",
                "day": "2001-03-15",
                "amount": "12.5",
                "entries": 2,
                "reason": "no exchange rate for BRL on or before 2001-03-15; import rates for BRL covering that day with gencost rates import FILE"
            }])
        );
        // $1 × 5.9276 / 1.1116 (ECB, 2020-06-01); every entry still counts.
        assert_eq!(total["total"], "5.332494");
        assert_eq!(total["count"], 3);
        assert_eq!(total["groups"][0]["total"], "5.332494");
        let human = ledger.ok(&["total", "--currency", "BRL"]);
        assert!(
            human.starts_with(
                "Total: BRL 5.33 over 3 entries; 2 not converted into BRL, left out\n"
            ),
            "{human}"
        );

        // Entries of a currency whose rates are gone (a ledger an older
        // gencost wrote, or rates removed by hand) no longer fail every total.
        let ars = ledger.write_file("ars.csv", "Date,ARS,\n2020-06-01,77.5,\n");
        ledger.ok(&["rates", "import", &ars]);
        let id = ledger.ok(&[
            "log",
            "--model",
            "m",
            "--cost",
            "155",
            "--currency",
            "ARS",
            "--at",
            "2020-06-01",
        ]);
        common::exec_sql(&ledger.url, "DELETE FROM fx_rates WHERE currency = 'ARS'");
        let run = ledger.run(&["total", "--json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stderr.starts_with(
                "warning: left out of the total in USD: ARS 155.00 in 1 entry of 2020-06-01 (ARS): \
                 no exchange rate for ARS on 2020-06-01: ECB reference rates do not quote ARS"
            ),
            "{}",
            run.stderr
        );
        let total: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(total["total"], "13.5");
        assert_eq!(total["unconverted"][0]["amount"], "155");
        assert_eq!(total["unconverted"][0]["entries"], 1);
        // list --currency shows it in its own currency, saying why.
        let run = ledger.run(&["list", "--currency", "USD", "--json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stderr
                .starts_with("warning: 1 entry shown in its own currency"),
            "{}",
            run.stderr
        );
        let listed: Value = serde_json::from_str(&run.stdout).unwrap();
        let entry = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id.trim())
            .unwrap();
        assert_eq!(entry["cost"]["currency"], "ARS");
        assert_eq!(entry["cost"]["amount"], "155");
        assert!(entry["unconverted"]
            .as_str()
            .unwrap()
            .starts_with("no exchange rate for ARS on 2020-06-01"));
        let table = ledger.ok(&["list", "--currency", "USD"]);
        assert!(
            table.contains("not converted: no exchange rate for ARS"),
            "{table}"
        );
    }
}

#[test]
fn overflows_are_errors_never_saturated_figures() {
    for ledger in TestLedger::each() {
        // Past the most one entry may hold: refused when written.
        let run = ledger.run(&["log", "--model", "m", "--cost", "9000000000000"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        // An estimate from a huge num_images: refused, not logged at i64::MAX.
        let run = ledger.run(&[
            "log",
            "--model",
            "fal-ai/flux/dev",
            "--param",
            "num_images=1000000000000",
        ]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("estimate: 25000000000 USD is larger than the 1000000000 allowed"),
            "{}",
            run.stderr
        );
        let run = ledger.run(&[
            "pricing",
            "estimate",
            "fal-ai/flux/dev",
            "--param",
            "num_images=18446744073709551615",
        ]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("the estimate is larger than gencost can hold"),
            "{}",
            run.stderr
        );
        assert!(ledger.entries(&[]).is_empty());

        // Two of the largest entries sum exactly.
        for _ in 0..2 {
            ledger.ok(&[
                "log",
                "--model",
                "m",
                "--cost",
                "1000000000",
                "--at",
                "2024-03-01",
                "--yes",
            ]);
        }
        assert_eq!(ledger.json(&["total", "--json"])["total"], "2000000000");
        // In rupiah that is past what gencost holds: an error for the
        // total, and each entry shown unconverted, never 9223372036854.775807.
        let run = ledger.run(&["total", "--currency", "IDR"]);
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(
            run.stderr
                .contains("the total is larger than gencost can hold in IDR"),
            "{}",
            run.stderr
        );
        let listed = ledger.json(&["list", "--currency", "IDR", "--json"]);
        assert_eq!(listed[0]["cost"]["amount"], "1000000000");
        assert_eq!(listed[0]["cost"]["currency"], "USD");
        assert!(
            listed[0]["unconverted"]
                .as_str()
                .unwrap()
                .starts_with("1000000000 USD in IDR is larger than gencost can hold"),
            "{}",
            listed[0]
        );
        assert!(!ledger
            .ok(&["list", "--currency", "IDR"])
            .contains("9,223,372"));
    }
}
