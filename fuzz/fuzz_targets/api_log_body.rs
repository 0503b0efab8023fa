//! Any bytes as the JSON body of `POST /api/v1/entries`: read and checked
//! into a log request, or refused with an error, never a panic.
#![no_main]
use gencost::server::api::{log_request, LogBody};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<LogBody>(data) {
        let _ = log_request(body);
    }
});
