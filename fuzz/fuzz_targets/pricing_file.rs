//! Any text as a user pricing file: a catalog or a refusal, and every
//! model it accepts estimates with its defaults without a panic.
#![no_main]
use gencost::pricing::{Catalog, Origin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(catalog) = Catalog::parse(text, "fuzz.toml", Origin::UserFile) {
        let none = serde_json::Map::new();
        for model in catalog.models() {
            let _ = model.estimate(&none, 20_000);
        }
    }
});
