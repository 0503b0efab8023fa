//! Fills a ledger with realistic generation entries for benchmarks and demos:
//! several clients, projects and deliverables, common fal.ai models, spread
//! over the past year; most billed, some only estimated, some unpriced, a few
//! confirmed later or voided. Goes through the store's batch path.
//!
//! cargo run --release --example seed -- --entries 1000000 --database sqlite:///tmp/ledger.db

use clap::Parser;
use gencost::ledger::event::Params;
use gencost::ledger::{Command, EntryRecord, Kind, Status, Tags, Tier};
use gencost::money::{Currency, Money};
use gencost::store::{DatabaseUrl, SqlStore, Store};
use gencost::timestamp::{Timestamp, MICROS_PER_DAY};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    /// How many entries to log
    #[arg(long)]
    entries: u64,
    /// Ledger URL (sqlite:///path or postgres://...)
    #[arg(long)]
    database: String,
    /// Random seed, for repeatable ledgers
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Entries per transaction
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Dates anywhere in the year, in random order, instead of following
    /// log order (as an import of an unsorted file leaves them)
    #[arg(long)]
    shuffled_dates: bool,
    /// Mark estimates as made from the catalog's price of this day
    /// (YYYY-MM-DD), so `pricing reprice` takes them as open
    #[arg(long, value_name = "DAY")]
    catalog_version: Option<String>,
}

/// SplitMix64: small, fast and repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const CLIENTS: &[(&str, &[&str])] = &[
    (
        "Northwind Studios",
        &["Spring Campaign", "Brand Refresh", "Product Launch"],
    ),
    (
        "Acme Beverages",
        &[
            "Summer Spot 30s",
            "Social Cutdowns",
            "Retail Displays",
            "Holiday Promo",
        ],
    ),
    (
        "Lumen Architects",
        &["Walkthrough Film", "Competition Entry"],
    ),
    (
        "Fjord Outdoor",
        &["Catalogue 2026", "Trail Series", "Winter Teaser"],
    ),
    ("Kite & Co", &["Music Video", "Lyric Visuals"]),
    (
        "Helio Energy",
        &["Explainer", "Annual Report Motion", "Trade Show Loop"],
    ),
    ("Marlow Publishing", &["Book Trailers", "Cover Concepts"]),
    ("Studio Internal", &["Showreel", "R&D", "Pitch Decks"]),
];

const DELIVERABLES: &[&str] = &[
    "Hero 16x9",
    "Vertical 9x16",
    "Square 1x1",
    "Storyboard",
    "Moodboard",
    "Animatic",
];

/// (endpoint, typical cost in micro-USD, params)
const MODELS: &[(&str, i64, &str)] = &[
    (
        "fal-ai/flux/dev",
        25_000,
        r#"{"image_size":"landscape_16_9","num_images":1}"#,
    ),
    (
        "fal-ai/flux/schnell",
        3_000,
        r#"{"image_size":"square_hd","num_images":4}"#,
    ),
    (
        "fal-ai/flux-pro/v1.1",
        40_000,
        r#"{"image_size":"landscape_16_9"}"#,
    ),
    (
        "fal-ai/flux-pro/v1.1-ultra",
        60_000,
        r#"{"aspect_ratio":"21:9"}"#,
    ),
    (
        "fal-ai/flux-2-pro",
        45_000,
        r#"{"image_size":"landscape_16_9"}"#,
    ),
    (
        "fal-ai/kling-video/v2/master/text-to-video",
        1_400_000,
        r#"{"duration":"5","aspect_ratio":"16:9"}"#,
    ),
    (
        "fal-ai/kling-video/v2.1/standard/image-to-video",
        250_000,
        r#"{"duration":"5"}"#,
    ),
    (
        "fal-ai/veo3",
        3_200_000,
        r#"{"duration":"8s","generate_audio":true}"#,
    ),
    (
        "fal-ai/minimax/hailuo-02/standard/text-to-video",
        270_000,
        r#"{"duration":"6"}"#,
    ),
    (
        "fal-ai/bytedance/seedance/v1/pro/image-to-video",
        270_000,
        r#"{"resolution":"720p","duration":"5"}"#,
    ),
    (
        "fal-ai/recraft/v3/text-to-image",
        40_000,
        r#"{"style":"realistic_image"}"#,
    ),
    (
        "fal-ai/elevenlabs/tts/eleven-v3",
        100_000,
        r#"{"text_length":1000}"#,
    ),
    ("fal-ai/clarity-upscaler", 30_000, r#"{"upscale_factor":2}"#),
];

/// Entry `n` of `total`: a year of work logged as it happened, oldest first
/// (or, `shuffled`, on any day of the year whatever its place in the log).
fn record(
    rng: &mut Rng,
    now: i64,
    n: u64,
    total: u64,
    shuffled: bool,
    version: Option<&str>,
) -> EntryRecord {
    let (client, projects) = rng.pick(CLIENTS);
    let project = rng.pick(projects);
    let (model, typical, params) = rng.pick(MODELS);
    let year = 365 * MICROS_PER_DAY;
    let step = year / total.max(1) as i64;
    let occurred_at = if shuffled {
        now - year + rng.below(year as u64) as i64
    } else {
        now - year + n as i64 * step + rng.below(step.max(1) as u64) as i64
    };
    // Costs vary around the typical price, to the micro-unit.
    let cost = typical / 2 + (rng.below(*typical as u64) as i64);
    let roll = rng.below(100);
    let (estimate, tier, actual) = match roll {
        0..=4 => (None, Tier::Unpriced, None),
        5..=34 => (Some(cost), Tier::Estimated, None),
        _ => (
            Some(cost),
            Tier::Estimated,
            Some(cost + rng.below(2_000) as i64 - 1_000).map(|c| c.max(0)),
        ),
    };
    let status = match rng.below(50) {
        0 => Status::Failed,
        1 => Status::Cancelled,
        _ => Status::Succeeded,
    };
    // The seed's own fixed parameter texts, known to be JSON objects.
    let params: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(params).expect("seed parameters are a JSON object");
    let params = Params::from_map(&params).expect("seed parameters serialise");
    EntryRecord {
        id: Uuid::now_v7(),
        kind: Kind::Generation,
        occurred_at,
        source: "fal.ai".into(),
        model: Some(model.to_string()),
        description: Some(format!("{project}: take {}", n % 40 + 1)),
        tags: Tags {
            client: Some(client.to_string()),
            project: Some(project.to_string()),
            deliverable: (rng.below(4) != 0).then(|| rng.pick(DELIVERABLES).to_string()),
        },
        request_id: Some(format!("{:016x}{:016x}", rng.next(), n)),
        status,
        duration_ms: Some(1_000 + rng.below(120_000) as i64),
        params,
        estimate_micros: estimate,
        estimate_currency: Currency::USD,
        estimate_tier: tier,
        actual_micros: actual,
        actual_currency: actual.map(|_| Currency::USD),
        price_version: estimate.and(version).map(str::to_string),
        license: None,
        batch: None,
        billing: None,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let url = DatabaseUrl::parse(&args.database)?;
    let store = SqlStore::open(&url).await?;
    let now = Timestamp::now().0;
    let bar = ProgressBar::new(args.entries);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} entries  {eta}",
    )?);
    let started = Instant::now();
    // Batches are made on their own thread while the store writes the last.
    let (batches, received) = std::sync::mpsc::sync_channel::<Vec<EntryRecord>>(1);
    let (entries, size) = (args.entries, args.batch as u64);
    let mut rng = Rng(args.seed);
    let shuffled = args.shuffled_dates;
    let version = args.catalog_version.clone();
    let maker = std::thread::spawn(move || {
        let mut made = 0u64;
        while made < entries {
            let count = (entries - made).min(size);
            let batch = (0..count)
                .map(|i| {
                    let version = version.as_deref();
                    record(&mut rng, now, made + i, entries, shuffled, version)
                })
                .collect();
            if batches.send(batch).is_err() {
                return;
            }
            made += count;
        }
    });
    let mut logged = 0u64;
    let mut later: Vec<Uuid> = Vec::new();
    for batch in received {
        let size = batch.len() as u64;
        // A few of each large batch are confirmed or voided afterwards, as in real use.
        if batch.len() >= 1_000 {
            later.extend(
                batch
                    .iter()
                    .filter(|r| r.actual_micros.is_none())
                    .take(2)
                    .map(|r| r.id),
            );
        }
        store.execute(Command::Log(batch), Timestamp(now)).await?;
        logged += size;
        bar.set_position(logged);
    }
    maker.join().map_err(|_| "the batch maker failed")?;
    bar.finish_and_clear();
    let log_secs = started.elapsed().as_secs_f64();
    for (i, id) in later.iter().enumerate() {
        let command = if i % 4 == 3 {
            Command::Void {
                entry_id: *id,
                reason: "duplicate of a retake".into(),
            }
        } else {
            Command::Confirm {
                entry_id: *id,
                amount: Money::new(10_000 + i as i64, Currency::USD),
            }
        };
        store.execute(command, Timestamp::now()).await?;
    }
    println!(
        "seeded {} entries in {:.2}s ({:.2}s logging, {} later changes) into {}",
        args.entries,
        started.elapsed().as_secs_f64(),
        log_secs,
        later.len(),
        url
    );
    Ok(())
}
