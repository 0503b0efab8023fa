//! Writes the compact form of ECB's rate history that gencost embeds
//! (`assets/ecb-history.bin`) from ECB's own `eurofxref-hist.zip` (or the
//! CSV inside it). To bring the embedded rates up to date, replace
//! `assets/eurofxref-hist.zip` with a newer copy of
//! https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip and run:
//!
//!   cargo run --release --example ecb_embed [-- IN OUT]
//!
//! IN defaults to assets/eurofxref-hist.zip, OUT to assets/ecb-history.bin.
//! A unit test in src/fx/embedded.rs checks that the two agree.

use gencost::fx::{ecb, embedded};
use gencost::timestamp::day_label;

fn main() {
    let mut args = std::env::args().skip(1);
    let input = args
        .next()
        .unwrap_or_else(|| "assets/eurofxref-hist.zip".into());
    let output = args
        .next()
        .unwrap_or_else(|| "assets/ecb-history.bin".into());
    if let Err(e) = run(&input, &output) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(input: &str, output: &str) -> Result<(), String> {
    let bytes = std::fs::read(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    let parsed = ecb::parse(&bytes).map_err(|e| format!("{input}: {e}"))?;
    let compact = embedded::encode(&parsed.rates)?;
    std::fs::write(output, &compact).map_err(|e| format!("cannot write {output}: {e}"))?;
    let days = parsed.days();
    let (first, last) = (days.first().copied(), days.last().copied());
    println!(
        "{output}: {} rates over {} days ({} to {}), {} bytes; skipped retired currencies: {}",
        parsed.rates.len(),
        days.len(),
        first.map(day_label).unwrap_or_default(),
        last.map(day_label).unwrap_or_default(),
        compact.len(),
        parsed.skipped.into_iter().collect::<Vec<_>>().join(", ")
    );
    Ok(())
}
