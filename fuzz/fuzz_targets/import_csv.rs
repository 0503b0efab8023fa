//! Any bytes as an import file: the reader either refuses the file or
//! reads every row to a row, a skip or a reason, and never panics.
#![no_main]
use gencost::import::{read, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rows) = read(data, &ReadOptions::default()) {
        for row in rows {
            let _ = row;
        }
    }
});
