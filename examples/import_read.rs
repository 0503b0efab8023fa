//! Times the import reader on one file: every row read, checked and
//! normalised, nothing written. `--generate FILE ROWS` first writes a
//! generic file of ROWS rows (about 100 bytes each) to time it on.
//!
//! ```sh
//! cargo run --release --example import_read -- --generate /tmp/import-1m.csv 1000000
//! cargo run --release --example import_read -- /tmp/import-1m.csv 5
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Instant;

use gencost::import::{read, ReadOptions, RowResult};

fn generate(path: &str, rows: u64) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(
        out,
        "date,description,amount,category,client,project,deliverable"
    )?;
    for n in 0..rows {
        writeln!(
            out,
            "2026-{:02}-{:02} {:02}:{:02},\"Upscale batch {n}, 4x, shot sh{:04}\",{}.{:02},{},Client {},Project {},sh{:04}",
            n % 12 + 1,
            n % 28 + 1,
            n % 24,
            n % 60,
            n % 9000,
            n % 900,
            n % 100,
            ["Midjourney", "Runway", "ElevenLabs", "Krea"][(n % 4) as usize],
            n % 40,
            n % 300,
            n % 9000,
        )?;
    }
    out.flush()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--generate") {
        let path = args.get(1).ok_or("--generate FILE ROWS")?;
        let rows: u64 = args.get(2).ok_or("--generate FILE ROWS")?.parse()?;
        generate(path, rows)?;
        println!(
            "wrote {rows} rows, {} bytes, to {path}",
            std::fs::metadata(path)?.len()
        );
        return Ok(());
    }
    let path = args.first().ok_or("FILE [RUNS]")?;
    let runs: usize = args.get(1).map_or(Ok(5), |r| r.parse())?;
    let size = std::fs::metadata(path)?.len();
    let mut times = Vec::new();
    for run in 1..=runs {
        let start = Instant::now();
        let (mut rows, mut other) = (0u64, 0u64);
        let mut total: i128 = 0;
        for result in read(File::open(path)?, &ReadOptions::default())? {
            match result {
                RowResult::Row(row) => {
                    rows += 1;
                    total += i128::from(row.amount_micros) + row.content.len() as i128;
                }
                _ => other += 1,
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "run {run}: {rows} rows ({other} not rows) in {seconds:.2} s, {:.0} MB/s (checksum {total})",
            size as f64 / 1e6 / seconds
        );
        times.push(seconds);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "median of {runs} runs: {:.2} s for {:.1} MB",
        times[times.len() / 2],
        size as f64 / 1e6
    );
    Ok(())
}
