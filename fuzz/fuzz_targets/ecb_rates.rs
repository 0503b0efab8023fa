//! Any bytes as an ECB rates file (XML, CSV or zip): parsed or refused,
//! never a panic; every parsed rate is positive.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gencost::fx::ecb::parse(data);
});
