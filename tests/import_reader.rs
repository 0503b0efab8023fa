//! The import reader on files in their real shapes: OpenAI's and Anthropic's
//! cost exports, a Swedish Excel file, Excel's UTF-16 "Unicode text", quoted
//! separators and newlines, and files with bad rows, each reported with its
//! line and a reason naming the column.

use std::io::Read;
use std::path::Path;

use gencost::import::{
    read, Field, HeaderError, ImportRow, Preset, ReadOptions, RowResult, UNIT_SEPARATOR,
};
use gencost::money::Currency;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn all(bytes: &[u8], options: &ReadOptions) -> Vec<RowResult> {
    read(bytes, options).expect("header").collect()
}

fn rows(bytes: &[u8], options: &ReadOptions) -> Vec<ImportRow> {
    all(bytes, options)
        .into_iter()
        .map(|r| match r {
            RowResult::Row(row) => row,
            other => panic!("expected a row, got {other:?}"),
        })
        .collect()
}

fn currency(code: &str) -> Currency {
    code.parse().unwrap()
}

fn joined(cells: &[&str]) -> String {
    cells.join(&UNIT_SEPARATOR.to_string())
}

fn header_error(bytes: &[u8], options: &ReadOptions) -> HeaderError {
    match read(bytes, options) {
        Err(e) => e,
        Ok(rows) => panic!("header accepted as {}", rows.preset()),
    }
}

#[test]
fn openai_cost_export() {
    let bytes = fixture("openai_costs.csv");
    let reader = read(&bytes[..], &ReadOptions::default()).unwrap();
    assert_eq!(reader.preset(), Preset::OpenAi);
    assert_eq!(reader.separator(), b',');
    assert!(reader.has_column(Field::Currency));
    assert!(reader.has_column(Field::Project));
    assert!(reader.has_column(Field::Model));
    assert!(!reader.has_column(Field::Source));
    assert!(!reader.has_column(Field::Client));
    let results: Vec<RowResult> = reader.collect();
    assert_eq!(results.len(), 6);
    assert_eq!(
        results[0],
        RowResult::Skipped {
            line: 2,
            why: "empty day: no amount"
        }
    );
    assert_eq!(
        results[5],
        RowResult::Skipped {
            line: 7,
            why: "empty day: no amount"
        }
    );
    let rows: Vec<&ImportRow> = results[1..5]
        .iter()
        .map(|r| match r {
            RowResult::Row(row) => row,
            other => panic!("{other:?}"),
        })
        .collect();

    let first = rows[0];
    assert_eq!(first.line, 3);
    assert_eq!(first.occurred_at.to_string(), "2026-09-28T00:00:00Z");
    // 0.00383598 is 3835.98 micro-units: rounded to 3836.
    assert_eq!(first.amount_micros, 3_836);
    assert_eq!(first.currency, Some(Currency::USD));
    assert_eq!(first.description.as_deref(), Some("gpt-5-nano, input"));
    assert_eq!(first.model.as_deref(), Some("gpt-5-nano"));
    assert_eq!(first.project.as_deref(), Some("Kvarnen Ads"));
    assert_eq!(
        (&first.source, &first.client, &first.deliverable),
        (&None, &None, &None)
    );
    assert_eq!(
        first.content,
        joined(&[
            "amount=0.00383598",
            "column:api_key_id=key_4f2a",
            "column:end_time=1790640000",
            "column:end_time_iso=2026-09-29T00:00:00+00:00",
            "column:organization_id=org-7HqLm2",
            "column:organization_name=Studio Kvarn",
            "column:project_id=proj_kvarn",
            "column:quantity=1918",
            "column:quantity_unit=tokens",
            "column:start_time_iso=2026-09-28T00:00:00+00:00",
            "currency=USD",
            "date=2026-09-28T00:00:00Z",
            "model=gpt-5-nano, input",
            "project=Kvarnen Ads",
        ])
    );
    assert_eq!(
        first.bucket_key.as_deref(),
        Some(
            joined(&[
                "day=2026-09-28",
                "line_item=gpt-5-nano, input",
                "project=proj_kvarn",
                "organization=org-7HqLm2",
                "api_key_id=key_4f2a",
                "user=",
                "api_source=",
            ])
            .as_str()
        )
    );

    // 1.2345665 is a tie at the micro-unit: to the even 1.234566.
    assert_eq!((rows[1].line, rows[1].amount_micros), (4, 1_234_566));
    assert_eq!(rows[1].model.as_deref(), Some("gpt-image-1"));
    assert_ne!(rows[0].bucket_key, rows[1].bucket_key);
    // Just past half a micro-unit: up to 1.
    assert_eq!((rows[2].line, rows[2].amount_micros), (5, 1));
    assert_eq!(rows[2].occurred_at.to_string(), "2026-09-29T00:00:00Z");
    // The default project is no project of the studio's.
    assert_eq!(rows[2].project, None);
    // A credit, and a line item that names no model.
    assert_eq!((rows[3].line, rows[3].amount_micros), (6, -2_500_000));
    assert_eq!(
        rows[3].description.as_deref(),
        Some("web search tool calls")
    );
    assert_eq!(rows[3].model, None);
}

#[test]
fn openai_export_of_a_period_without_costs_is_all_empty_days() {
    let text = "start_time,end_time,start_time_iso,end_time_iso\n\
                1735689600,1735776000,2025-01-01T00:00:00+00:00,2025-01-02T00:00:00+00:00\n";
    let results = all(text.as_bytes(), &ReadOptions::default());
    assert_eq!(
        results,
        [RowResult::Skipped {
            line: 2,
            why: "empty day: the export has no costs"
        }]
    );
}

#[test]
fn anthropic_cost_export_with_non_ascii_cells() {
    let bytes = fixture("anthropic_costs.csv");
    let reader = read(&bytes[..], &ReadOptions::default()).unwrap();
    assert_eq!(reader.preset(), Preset::Anthropic);
    assert!(reader.has_column(Field::Currency));
    assert!(reader.has_column(Field::Model));
    let rows: Vec<ImportRow> = reader
        .map(|r| match r {
            RowResult::Row(row) => row,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(rows.len(), 5);
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3, 4, 5, 6]);
    let micros: Vec<i64> = rows.iter().map(|r| r.amount_micros).collect();
    assert_eq!(micros, [12_340_000, 50_000, 0, 3_500_000, 10_000]);
    assert!(rows.iter().all(|r| r.currency == Some(Currency::USD)));

    let first = &rows[0];
    assert_eq!(first.occurred_at.to_string(), "2026-08-04T00:00:00Z");
    assert_eq!(first.model.as_deref(), Some("Claude Sonnet 4.5"));
    assert_eq!(first.project.as_deref(), Some("Ström & Söner"));
    assert_eq!(
        first.description.as_deref(),
        Some("Claude Sonnet 4.5, input_no_cache")
    );
    assert_eq!(
        first.bucket_key.as_deref(),
        Some(
            joined(&[
                "day=2026-08-04",
                "model=Claude Sonnet 4.5",
                "workspace=Ström & Söner",
                "api_key=apikey_01Hx9",
                "usage_type=message",
                "context_window=≤ 200k",
                "token_type=input_no_cache",
                "cost_type=token",
                "inference_geo=global",
                "speed=",
            ])
            .as_str()
        )
    );
    assert!(first.content.contains("≤ 200k"));
    assert_eq!(rows[2].project.as_deref(), Some("東京スタジオ"));
    assert_eq!(rows[3].occurred_at.to_string(), "2026-08-05T00:00:00Z");
    assert_eq!(rows[3].project, None, "the Default workspace");
    assert_eq!(rows[4].model, None);
    assert_eq!(rows[4].description.as_deref(), Some("web_search"));
    // The same day, model and key but another token type: another bucket.
    assert_ne!(rows[0].bucket_key, rows[1].bucket_key);
}

#[test]
fn a_later_export_of_an_open_day_keeps_its_bucket_key() {
    let bytes = fixture("anthropic_costs.csv");
    let text = String::from_utf8(bytes).unwrap();
    // The day grew and the key was archived since: same bucket, new amount.
    let later = text.replace(
        ",12.34,12.34,token,global,,apikey_01Hx9,active",
        ",20.00,20.00,token,global,,apikey_01Hx9,archived",
    );
    let before = rows(text.as_bytes(), &ReadOptions::default());
    let after = rows(later.as_bytes(), &ReadOptions::default());
    assert_eq!(before[0].bucket_key, after[0].bucket_key);
    assert_ne!(before[0].content, after[0].content);
    assert_eq!(after[0].amount_micros, 20_000_000);
}

#[test]
fn swedish_excel_with_bom_semicolons_decimal_commas_and_krona() {
    let bytes = fixture("swedish_excel.csv");
    let options = ReadOptions {
        currency: Some(Currency::SEK),
        ..ReadOptions::default()
    };
    let reader = read(&bytes[..], &options).unwrap();
    assert_eq!(reader.preset(), Preset::Generic);
    assert_eq!(reader.separator(), b';');
    assert!(reader.has_column(Field::Source));
    assert!(reader.has_column(Field::Client));
    assert!(!reader.has_column(Field::Currency));
    assert!(!reader.has_column(Field::Deliverable));
    let rows: Vec<ImportRow> = reader
        .map(|r| match r {
            RowResult::Row(row) => row,
            other => panic!("{other:?}"),
        })
        .collect();
    // The two `;;;;;` rows at the end are no rows.
    assert_eq!(rows.len(), 4);
    let got: Vec<(u64, String, i64)> = rows
        .iter()
        .map(|r| (r.line, r.occurred_at.to_string(), r.amount_micros))
        .collect();
    assert_eq!(
        got,
        [
            (2, "2026-11-03T00:00:00Z".into(), 1_234_500_000),
            (3, "2026-11-04T00:00:00Z".into(), -150_000_000),
            (4, "2026-11-05T14:30:00Z".into(), 12_500_000),
            (5, "2026-11-06T00:00:00Z".into(), 500_000),
        ]
    );
    // `kr` is settled by --currency, so the file itself gives no currency.
    assert!(rows.iter().all(|r| r.currency.is_none()));
    let first = &rows[0];
    assert_eq!(
        first.description.as_deref(),
        Some("Midjourney Pro, november")
    );
    assert_eq!(first.source.as_deref(), Some("Midjourney"));
    assert_eq!(first.client.as_deref(), Some("Ström & Co"));
    assert_eq!(first.project.as_deref(), Some("Vinterkampanj"));
    assert_eq!(first.bucket_key, None);
    assert_eq!(
        first.content,
        joined(&[
            "amount=1234.5 kr",
            "client=Ström & Co",
            "date=2026-11-03T00:00:00Z",
            "description=Midjourney Pro, november",
            "project=Vinterkampanj",
            "source=Midjourney",
        ])
    );
    assert_eq!((&rows[2].client, &rows[2].project), (&None, &None));
    assert_eq!(rows[3].description.as_deref(), Some("Kaffe; \"tack\""));
    assert_eq!(rows[3].client.as_deref(), Some("Åkesson AB"));
    assert_eq!(rows[3].source, None);

    // Without --currency, `kr` could be any of four currencies.
    let results = all(&bytes, &ReadOptions::default());
    assert_eq!(
        results[0],
        RowResult::Bad {
            line: 2,
            reason: "amount (column 'Belopp') '1\u{a0}234,50 kr': kr could be SEK, NOK, DKK \
                     or ISK; choose the currency the file is in"
                .into()
        }
    );
    assert!(matches!(results[2], RowResult::Row(_)));
    // --currency EUR cannot settle it either.
    let eur = ReadOptions {
        currency: Some(Currency::EUR),
        ..ReadOptions::default()
    };
    assert!(matches!(
        all(&bytes, &eur)[1],
        RowResult::Bad { line: 3, .. }
    ));
}

#[test]
fn excel_unicode_text_is_utf16le_tab_separated() {
    let bytes = fixture("excel_unicode_text.txt");
    assert_eq!(&bytes[..2], b"\xFF\xFE");
    let reader = read(&bytes[..], &ReadOptions::default()).unwrap();
    assert_eq!(reader.separator(), b'\t');
    assert_eq!(reader.preset(), Preset::Generic);
    assert!(reader.has_column(Field::Deliverable));
    let mut reader = reader;
    let mut rows = Vec::new();
    for result in reader.by_ref() {
        match result {
            RowResult::Row(row) => rows.push(row),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(reader.bytes_read(), bytes.len() as u64);
    assert_eq!(rows.len(), 3);

    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[0].occurred_at.to_string(), "2026-11-03T00:00:00Z");
    assert_eq!(rows[0].description.as_deref(), Some("Upscale, 4×"));
    assert_eq!(
        (rows[0].amount_micros, rows[0].currency),
        (12_500_000, Some(Currency::USD))
    );
    assert_eq!(rows[0].source.as_deref(), Some("Topaz"));
    assert_eq!(rows[0].client.as_deref(), Some("Nordljus"));
    assert_eq!(rows[0].project.as_deref(), Some("Aurora"));
    assert_eq!(rows[0].deliverable.as_deref(), Some("sh010"));

    // A quoted tab stays in a description.
    assert_eq!(
        rows[1].description.as_deref(),
        Some("Voice \"take 2\"\tline")
    );
    assert_eq!(
        (rows[1].amount_micros, rows[1].currency),
        (9_000_000, Some(currency("EUR")))
    );

    assert_eq!(rows[2].line, 4);
    assert_eq!(rows[2].occurred_at.to_string(), "2026-11-05T08:15:00Z");
    assert_eq!(rows[2].description.as_deref(), Some("GPU hours 🎬"));
    assert_eq!(
        (rows[2].amount_micros, rows[2].currency),
        (1_234_500_000, Some(Currency::SEK))
    );
    assert_eq!((&rows[2].client, &rows[2].deliverable), (&None, &None));
}

#[test]
fn quoted_separators_newlines_and_blank_trailing_lines() {
    let bytes = fixture("quoted.csv");
    let rows = rows(&bytes, &ReadOptions::default());
    let got: Vec<(u64, i64)> = rows.iter().map(|r| (r.line, r.amount_micros)).collect();
    // The second record spans lines 3 to 5.
    assert_eq!(
        got,
        [
            (2, 40_000_000),
            (3, 5_000_000),
            (6, -1_250_000),
            (7, 1_234_500_000)
        ]
    );
    assert_eq!(
        rows[0].description.as_deref(),
        Some("Storyboard, frames 1-12")
    );
    // A quoted CRLF and LF both become `\n`.
    assert_eq!(
        rows[1].description.as_deref(),
        Some("Two lines:\nfirst, then\nsecond")
    );
    assert_eq!(rows[2].description.as_deref(), Some("He said \"again\""));
    assert_eq!(rows[2].client.as_deref(), Some("Acme, Inc."));
    assert_eq!(rows[3].source.as_deref(), Some("Krea"));
    assert!(rows.iter().all(|r| r.currency.is_none()));
}

#[test]
fn each_bad_row_is_named_with_its_line_and_column() {
    let bytes = fixture("bad_rows.csv");
    let results = all(&bytes, &ReadOptions::default());
    let got: Vec<(u64, Option<String>)> = results
        .iter()
        .map(|r| match r {
            RowResult::Row(row) => (row.line, None),
            RowResult::Bad { line, reason } => (*line, Some(reason.clone())),
            RowResult::Skipped { line, .. } => panic!("line {line} skipped"),
        })
        .collect();
    let bad = |line: u64, reason: &str| (line, Some(reason.to_string()));
    assert_eq!(
        got,
        [
            (2, None),
            bad(
                3,
                "amount '1,234': ambiguous, could be 1.234 or 1234; write 1234 (or 1,234.00) \
                 for the whole number, 1,2340 for the decimal"
            ),
            bad(4, "amount: empty"),
            bad(
                5,
                "date '03/11/2026': day and month order unknown; choose the date format \
                 '%d/%m/%Y' (or '%m/%d/%Y')"
            ),
            bad(6, "date '2026-11-31': no such day as 2026-11-31"),
            bad(
                7,
                "currency 'XYZ': unknown currency code; expected an ISO 4217 code such as \
                 USD, EUR or SEK"
            ),
            bad(8, "amount '€5': is in EUR, but the row's currency is USD"),
            bad(
                9,
                "amount '12,50 kr': kr could be SEK, NOK, DKK or ISK; choose the currency the file is in"
            ),
            bad(
                10,
                "client: control character U+0007 at character 5; remove it"
            ),
            bad(
                11,
                "6 cells where the header has 5: a separator or quote out of place?"
            ),
            bad(
                12,
                "amount '2000000000': larger than the 1000000000 allowed for one entry"
            ),
            bad(
                13,
                "column 'description' is not valid UTF-8 text; save the file as CSV UTF-8"
            ),
            (14, None),
            bad(
                16,
                "amount 'x7': 'x' is not part of a number; write digits with one decimal \
                 mark, e.g. 1234.50 or 1 234,50"
            ),
        ]
    );
    let RowResult::Row(multi) = &results[12] else {
        panic!()
    };
    assert_eq!(multi.description.as_deref(), Some("multi\nline"));
}

#[test]
fn every_problem_of_a_row_is_named_at_once() {
    let text = "Datum;Beskrivning;Belopp;Kund\n03/11/2026;x;1.234;Acme\u{1b}[31m\n";
    assert_eq!(
        all(text.as_bytes(), &ReadOptions::default()),
        [RowResult::Bad {
            line: 2,
            reason: "amount (column 'Belopp') '1.234': ambiguous, could be 1.234 or 1234; \
                     write 1234 (or 1.234,00) for the whole number, 1.2340 for the decimal; \
                     date (column 'Datum') '03/11/2026': day and month order unknown; choose \
                     the date format '%d/%m/%Y' (or '%m/%d/%Y'); client (column 'Kund'): \
                     control character U+001B at character 5; remove it"
                .into()
        }]
    );
}

#[test]
fn day_first_dates_with_an_explicit_format() {
    let text = "date,description,amount\n03/11/2026,a,1\n2026-11-04,b,2\n31/12/2026,c,3\n";
    let options = ReadOptions {
        date_format: Some("%d/%m/%Y".into()),
        ..ReadOptions::default()
    };
    let times: Vec<String> = rows(text.as_bytes(), &options)
        .iter()
        .map(|r| r.occurred_at.to_string())
        .collect();
    assert_eq!(
        times,
        [
            "2026-11-03T00:00:00Z",
            "2026-11-04T00:00:00Z",
            "2026-12-31T00:00:00Z"
        ]
    );
    let bad = ReadOptions {
        date_format: Some("%H:%M".into()),
        ..ReadOptions::default()
    };
    let e = header_error(text.as_bytes(), &bad);
    assert!(matches!(e, HeaderError::DateFormat { .. }), "{e}");
    assert!(e.to_string().starts_with("date format '%H:%M': "), "{e}");
}

#[test]
fn the_same_rows_re_exported_give_the_same_content() {
    let plain = "date,description,amount,currency,client\n\
                 2026-11-03,\"Upscale, 4x\",1234.5,SEK,Acme\n\
                 2026-11-04,Voice,-3.2,eur,Acme\n";
    let excel = "\u{feff}Date;Description;Amount;Currency;Client\r\n\
                 2026-11-03 00:00;Upscale, 4x;1 234,50;SEK;\"Acme\"\r\n\
                 2026-11-04;\"Voice\";  -3,20 ;EUR; Acme \r\n;;;;\r\n";
    let tabs = "date\tdescription\tamount\tcurrency\tclient\r\n\
                2026-11-03\tUpscale, 4x\t1234.50\tsek\tAcme\r\n\
                2026-11-04\tVoice\t-3.2\tEUR\tAcme\r\n";
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in tabs.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let contents = |bytes: &[u8]| -> Vec<String> {
        rows(bytes, &ReadOptions::default())
            .into_iter()
            .map(|r| r.content)
            .collect()
    };
    let expected = contents(plain.as_bytes());
    assert_eq!(
        expected[0],
        joined(&[
            "amount=1234.5",
            "client=Acme",
            "currency=SEK",
            "date=2026-11-03T00:00:00Z",
            "description=Upscale, 4x",
        ])
    );
    assert_eq!(contents(excel.as_bytes()), expected);
    assert_eq!(contents(&utf16), expected);
}

#[test]
fn excel_sep_line_and_line_numbers_after_it() {
    let text = "sep=;\nDatum;Text;Belopp\n2026-11-03;a;1,5\n2026-11-03;b;x\n";
    let results = all(text.as_bytes(), &ReadOptions::default());
    assert!(
        matches!(&results[0], RowResult::Row(r) if r.line == 3 && r.amount_micros == 1_500_000)
    );
    assert!(matches!(&results[1], RowResult::Bad { line: 4, .. }));
}

#[test]
fn files_that_cannot_be_imported_say_why() {
    let default = ReadOptions::default();
    assert!(matches!(header_error(b"", &default), HeaderError::Empty));
    assert!(matches!(
        header_error(b"\r\n\r\n", &default),
        HeaderError::Empty
    ));
    assert!(matches!(
        header_error(b";;;\n;;;\n", &default),
        HeaderError::Empty
    ));
    assert!(matches!(
        header_error(b"\xEF\xBB\xBF", &default),
        HeaderError::Empty
    ));
    let e = header_error(b"PK\x03\x04\x14\x00\x06\x00", &default);
    assert!(e.to_string().contains("Excel workbook (.xlsx)"), "{e}");
    let e = header_error(b"Datum;Beskrivning;Belopp \xF6re\n", &default);
    assert_eq!(
        e.to_string(),
        "line 1: the header is not valid UTF-8 text; save the file as CSV UTF-8"
    );

    let e = header_error(b"when,what,how much\n2026-11-03,x,1\n", &default);
    let message = e.to_string();
    assert!(
        message.starts_with(
            "not a generic import file: no columns for date, description, amount; the header \
             has 'when', 'what', 'how much' (accepted names: date: date, day, time"
        ),
        "{message}"
    );

    let openai = ReadOptions {
        preset: Some(Preset::OpenAi),
        ..ReadOptions::default()
    };
    let e = header_error(b"date,description,amount\n", &openai);
    assert_eq!(
        e.to_string(),
        "not an openai import file: no columns for start_time, amount_value; the header has \
         'date', 'description', 'amount'"
    );
    let generic = ReadOptions {
        preset: Some(Preset::Generic),
        ..ReadOptions::default()
    };
    let e = header_error(&fixture("anthropic_costs.csv"), &generic);
    assert!(matches!(e, HeaderError::MissingColumns { .. }), "{e}");

    let e = header_error(b"date,description,price,total\n", &default);
    assert_eq!(
        e.to_string(),
        "columns 'price', 'total' could each be the amount; rename all but one"
    );
}

#[test]
fn explicit_presets_read_their_files() {
    for (file, preset) in [
        ("openai_costs.csv", Preset::OpenAi),
        ("anthropic_costs.csv", Preset::Anthropic),
        ("quoted.csv", Preset::Generic),
    ] {
        let options = ReadOptions {
            preset: Some(preset),
            ..ReadOptions::default()
        };
        let bytes = fixture(file);
        assert_eq!(read(&bytes[..], &options).unwrap().preset(), preset);
    }
}

/// An endless-looking file made as it is read: the reader must not hold it.
struct Generated {
    rows: u64,
    next: u64,
    pending: Vec<u8>,
    at: usize,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            self.pending.clear();
            self.at = 0;
            if self.next == 0 {
                self.pending
                    .extend_from_slice(b"date,description,amount,category,client,project\n");
            }
            while self.pending.len() < 4096 && self.next < self.rows {
                let n = self.next;
                self.pending.extend_from_slice(
                    format!(
                        "2026-11-{:02},Frame batch {n},{}.{:02},Midjourney,Client {},Project {}\n",
                        n % 28 + 1,
                        n % 500,
                        n % 100,
                        n % 7,
                        n % 13
                    )
                    .as_bytes(),
                );
                self.next += 1;
            }
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn a_large_file_streams() {
    let total_rows = 100_000;
    let input = Generated {
        rows: total_rows,
        next: 0,
        pending: Vec::new(),
        at: 0,
    };
    let mut reader = read(input, &ReadOptions::default()).unwrap();
    let first = reader.next().unwrap();
    assert_eq!(first.line(), 2);
    // After one row, no more than a buffer or two of the file has been read.
    assert!(reader.bytes_read() < 256 * 1024, "{}", reader.bytes_read());
    let mut count = 1;
    let mut last_line = 0;
    for result in reader.by_ref() {
        match result {
            RowResult::Row(row) => last_line = row.line,
            other => panic!("{other:?}"),
        }
        count += 1;
    }
    assert_eq!(count, total_rows);
    assert_eq!(last_line, total_rows + 1);
    assert!(reader.bytes_read() > 5_000_000);
}

#[test]
fn line_numbers_hold_after_blank_lines_and_with_crlf() {
    let lf = "\n\ndate,description,amount\n2026-11-03,a,1\n\n\n2026-11-04,\"b\nc\",2\n,,\n2026-11-05,d,x\n";
    let crlf = lf.replace('\n', "\r\n");
    for text in [lf.to_string(), crlf] {
        let lines: Vec<u64> = all(text.as_bytes(), &ReadOptions::default())
            .iter()
            .map(RowResult::line)
            .collect();
        assert_eq!(lines, [4, 7, 10], "{text:?}");
    }
    let bad = String::from_utf8_lossy(&fixture("bad_rows.csv")).replace('\n', "\r\n");
    let lines: Vec<u64> = all(bad.as_bytes(), &ReadOptions::default())
        .iter()
        .map(RowResult::line)
        .collect();
    assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16]);
    // A last record without a line end, spanning lines.
    let text = "date,description,amount\r\n2026-11-03,a,1\r\n2026-11-04,\"b\r\nc\",2";
    let lines: Vec<u64> = all(text.as_bytes(), &ReadOptions::default())
        .iter()
        .map(RowResult::line)
        .collect();
    assert_eq!(lines, [2, 3]);
    // A header and nothing else: no rows.
    assert!(all(b"date,description,amount", &ReadOptions::default()).is_empty());
}

#[test]
fn text_cells_are_held_to_the_ledgers_limits() {
    let long_name = "p".repeat(201);
    let long_text = "d".repeat(10_001);
    let text = format!(
        "date,description,amount,client,project\n\
         2026-11-03,ok,1,\"Acme\nAB\",x\n\
         2026-11-03,ok,1,Acme,{long_name}\n\
         2026-11-03,{long_text},1,Acme,x\n\
         2026-11-03,\"tab\there\",1,Acme,{}\n",
        "p".repeat(200)
    );
    let results = all(text.as_bytes(), &ReadOptions::default());
    let reasons: Vec<String> = results
        .iter()
        .map(|r| match r {
            RowResult::Bad { reason, .. } => reason.clone(),
            RowResult::Row(row) => format!("row: {:?}", row.description),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "client: control character U+000A at character 5; remove it",
            "project: 201 characters, more than the 200 allowed",
            "description: 10001 characters, more than the 10000 allowed",
            "row: Some(\"tab\\there\")",
        ]
    );
    let lines: Vec<u64> = results.iter().map(RowResult::line).collect();
    assert_eq!(lines, [2, 4, 5, 6]);
}

#[test]
fn the_currency_comes_from_the_column_the_header_or_the_cell() {
    let text = "Date;Item;Amount (SEK);Currency\n\
                2026-11-03;a;12,50;\n\
                2026-11-03;b;12,50 kr;\n\
                2026-11-03;c;5;SEK\n\
                2026-11-03;d;5;EUR\n\
                2026-11-03;e;$5;\n";
    let results = all(text.as_bytes(), &ReadOptions::default());
    let got: Vec<Result<Option<Currency>, String>> = results
        .into_iter()
        .map(|r| match r {
            RowResult::Row(row) => Ok(row.currency),
            RowResult::Bad { reason, .. } => Err(reason),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            Ok(Some(Currency::SEK)),
            // The header says which krona.
            Ok(Some(Currency::SEK)),
            Ok(Some(Currency::SEK)),
            Err("currency says EUR, but the amount column 'Amount (SEK)' is in SEK".into()),
            Err(
                "amount (column 'Amount (SEK)') '$5': is in USD, but the row's currency is SEK"
                    .into()
            ),
        ]
    );
    // A code or symbol in the cell is the row's currency when nothing else
    // says; --currency fills only what the file leaves open.
    let text = "date,description,amount\n2026-11-03,a,EUR 9\n2026-11-03,b,9\n";
    let options = ReadOptions {
        currency: Some(Currency::USD),
        ..ReadOptions::default()
    };
    let currencies: Vec<Option<Currency>> = rows(text.as_bytes(), &options)
        .iter()
        .map(|r| r.currency)
        .collect();
    assert_eq!(currencies, [Some(Currency::EUR), None]);
}

#[test]
fn a_quote_never_closed_is_named_on_its_own_line() {
    let bad = |results: &[RowResult]| -> Vec<(u64, String)> {
        results
            .iter()
            .filter_map(|r| match r {
                RowResult::Bad { line, reason } => Some((*line, reason.clone())),
                _ => None,
            })
            .collect()
    };
    // Line 3 opens a quote that nothing closes: the rest of the file would
    // be one cell. The row is named by its own line, and why.
    for file in [
        "date,description,amount,category\n2026-11-02,Plan,30.00,Midjourney\n2026-11-03,\"Runway credits,15.00,Runway\n2026-11-04,Voice,5.00,ElevenLabs\n",
        "date,description,amount,category\r\n2026-11-02,Plan,30.00,Midjourney\r\n2026-11-03,\"Runway credits,15.00,Runway\r\n2026-11-04,Voice,5.00,ElevenLabs",
        "date,description,amount,category\n2026-11-02,Plan,30.00,Midjourney\n2026-11-03,\"Runway credits,15.00,Runway\n",
    ] {
        let results = all(file.as_bytes(), &ReadOptions::default());
        let bad = bad(&results);
        assert_eq!(bad.len(), 1, "{file:?}: {results:?}");
        assert_eq!(bad[0].0, 3, "{file:?}: {bad:?}");
        assert!(bad[0].1.contains("quote"), "{}", bad[0].1);
        assert!(bad[0].1.contains("not closed"), "{}", bad[0].1);
        assert!(matches!(results[0], RowResult::Row(_)));
    }
    // A quoted cell closed at the very end of the file is no such thing.
    for closed in [
        "date,amount,category,description\n2026-11-02,30.00,Midjourney,\"Plan\nline two\"\n",
        "date,amount,category,description\n2026-11-02,30.00,Midjourney,\"Plan\nline two\"",
    ] {
        let results = all(closed.as_bytes(), &ReadOptions::default());
        assert!(bad(&results).is_empty(), "{results:?}");
        assert_eq!(results.len(), 1);
    }
}
