//! The pricing catalog: what each model costs, compiled into the binary from
//! `pricing/catalog.toml`, with a user file that overrides or adds models.
//! An estimate takes a model and a generation's parameters and returns the
//! amount with a one-line explanation. A model without a published price has
//! no formula and stays unpriced: never a guess, never zero.

pub mod formula;
pub mod inputs;
pub mod params;
pub mod unit_price;

use crate::money::Currency;
use crate::timestamp::{day_label, parse_day};
pub use formula::{Formula, Price, Quote};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

const CATALOG: &str = include_str!("../../pricing/catalog.toml");
const CATALOG_NAME: &str = "pricing/catalog.toml";

/// A price not verified for this many days is shown as stale.
pub const STALE_AFTER_DAYS: i64 = 90;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("{file}: line {line}: {message}")]
    File {
        file: String,
        line: usize,
        message: String,
    },
    #[error("cannot read pricing file {file}: {message}")]
    Unreadable { file: String, message: String },
    #[error("the estimate needs the parameter '{param}'; give it with --param {param}=...")]
    MissingParam { param: String },
    #[error("parameter '{param}' is '{value}': expected {expected}")]
    BadParam {
        param: String,
        value: String,
        expected: String,
    },
    #[error(
        "the estimate is larger than gencost can hold (at most {}); check the parameters",
        crate::money::decimal_string(i64::MAX)
    )]
    TooLarge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LicenseStatus {
    Commercial,
    NonCommercial,
    Unknown,
}

impl LicenseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseStatus::Commercial => "commercial",
            LicenseStatus::NonCommercial => "non-commercial",
            LicenseStatus::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct License {
    pub status: LicenseStatus,
    pub name: String,
}

impl License {
    /// `commercial (Apache-2.0)`: what an entry records.
    pub fn label(&self) -> String {
        format!("{} ({})", self.status.as_str(), self.name)
    }
}

/// How far a price can be trusted: read on fal.ai itself, or only seen in
/// a third party's listing. Not to be confused with an entry's cost tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PriceSource {
    /// Read on fal's model page or from fal's pricing API.
    Published,
    /// Read in a third party's listing; fal's own figure was not found.
    Reported,
    /// The user's own figure, from their pricing file.
    User,
}

impl PriceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceSource::Published => "published",
            PriceSource::Reported => "reported",
            PriceSource::User => "user",
        }
    }
}

/// Which file a model's entry came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Catalog,
    UserFile,
}

/// One model's price as the catalog states it.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelPrice {
    pub endpoint: String,
    pub name: String,
    pub currency: Currency,
    /// The date the price was read at its source (the price version).
    pub verified: i64,
    pub source: String,
    /// How the price at `source` can be trusted; `None` when unpriced.
    pub price_source: Option<PriceSource>,
    pub license: License,
    pub defaults: Map<String, Value>,
    /// `None`: no published price is known; the model is unpriced.
    pub formula: Option<Formula>,
    pub note: Option<String>,
    pub origin: Origin,
    /// The first UTC day the price is in force (`from` in a pricing file):
    /// `pricing reprice` leaves estimates of runs before it as they are.
    pub from: Option<i64>,
}

/// An estimate from the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimate {
    pub micros: i64,
    pub currency: Currency,
    pub explanation: String,
    /// The price version: the date the price was verified.
    pub verified: String,
    pub stale: bool,
    pub price_source: PriceSource,
}

impl ModelPrice {
    pub fn verified_label(&self) -> String {
        day_label(self.verified)
    }

    /// True when the price was verified more than 90 days before `today`.
    pub fn is_stale(&self, today: i64) -> bool {
        today - self.verified > STALE_AFTER_DAYS
    }

    /// The price of one of fal's billing units, where the formula is a
    /// single unit price (per image, megapixel, second, ...): what billed
    /// units are priced at when `pricing sync` has not stored fal's own.
    pub fn unit_price(&self) -> Option<(Price, &'static str)> {
        match self.formula.as_ref()? {
            Formula::PerImage { price } => Some((*price, "images")),
            Formula::PerMegapixel { price, .. } => Some((*price, "megapixels")),
            Formula::PerSecond {
                price,
                with_audio: None,
            } => Some((*price, "seconds")),
            Formula::PerComputeSecond { price } => Some((*price, "compute seconds")),
            Formula::PerCredit { price } => Some((*price, "credits")),
            Formula::PerRequest { price } => Some((*price, "requests")),
            Formula::PerVideo { price } => Some((*price, "videos")),
            _ => None,
        }
    }

    /// The estimate for one call with `given` parameters, or `Ok(None)` when
    /// the model has no formula (unpriced).
    pub fn estimate(
        &self,
        given: &Map<String, Value>,
        today: i64,
    ) -> Result<Option<Estimate>, PricingError> {
        let Some(formula) = &self.formula else {
            return Ok(None);
        };
        let quote = formula.quote(&params::Params::new(given, &self.defaults), self.currency)?;
        Ok(Some(Estimate {
            micros: quote.micros,
            currency: self.currency,
            explanation: quote.explanation,
            verified: self.verified_label(),
            stale: self.is_stale(today),
            // Every priced model has one; parsing makes sure of it.
            price_source: self.price_source.unwrap_or(PriceSource::Reported),
        }))
    }
}

/// All known model prices by endpoint id.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    models: BTreeMap<String, ModelPrice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    model: Vec<ModelEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelEntry {
    endpoint: String,
    name: String,
    currency: String,
    verified: String,
    source: String,
    #[serde(default)]
    price_source: Option<PriceSource>,
    license: License,
    #[serde(default)]
    defaults: toml::Table,
    #[serde(default)]
    formula: Option<Formula>,
    #[serde(default)]
    note: Option<String>,
    /// `YYYY-MM-DD`: the day the price is in force from.
    #[serde(default)]
    from: Option<String>,
}

impl Catalog {
    /// The catalog compiled into gencost. It ships in the source tree, and
    /// a test parses it, so an error here means a broken build.
    pub fn embedded() -> Result<Catalog, PricingError> {
        Catalog::parse(CATALOG, CATALOG_NAME, Origin::Catalog)
    }

    /// The embedded catalog with the user's file on top: a model in the
    /// file replaces the catalog's entry for the same endpoint, or adds one.
    pub fn with_user_file(path: &Path) -> Result<Catalog, PricingError> {
        let mut catalog = Catalog::embedded()?;
        let text = std::fs::read_to_string(path).map_err(|e| PricingError::Unreadable {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        let user = Catalog::parse(&text, &path.display().to_string(), Origin::UserFile)?;
        catalog.models.extend(user.models);
        Ok(catalog)
    }

    pub fn parse(text: &str, file: &str, origin: Origin) -> Result<Catalog, PricingError> {
        let at = |line: usize, message: String| PricingError::File {
            file: file.to_string(),
            line,
            message,
        };
        let parsed: CatalogFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            at(line, e.message().to_string())
        })?;
        let mut models = BTreeMap::new();
        for entry in parsed.model {
            let line = text
                .find(&format!("\"{}\"", entry.endpoint))
                .map_or(1, |pos| line_of(text, pos));
            let currency: Currency = entry
                .currency
                .parse()
                .map_err(|e| at(line, format!("model {}: {e}", entry.endpoint)))?;
            let verified = parse_day(&entry.verified).ok_or_else(|| {
                at(
                    line,
                    format!(
                        "model {}: verified date '{}' is not YYYY-MM-DD",
                        entry.endpoint, entry.verified
                    ),
                )
            })?;
            let defaults = match serde_json::to_value(&entry.defaults) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => {
                    return Err(at(
                        line,
                        format!("model {}: defaults must be a table", entry.endpoint),
                    ))
                }
            };
            let price_source = read_price_source(&entry, origin).map_err(|m| at(line, m))?;
            let from = match &entry.from {
                Some(text) => Some(parse_day(text).ok_or_else(|| {
                    at(
                        line,
                        format!(
                            "model {}: from '{text}' is not a date YYYY-MM-DD",
                            entry.endpoint
                        ),
                    )
                })?),
                None => None,
            };
            if models.contains_key(&entry.endpoint) {
                return Err(at(line, format!("model {} appears twice", entry.endpoint)));
            }
            models.insert(
                entry.endpoint.clone(),
                ModelPrice {
                    endpoint: entry.endpoint,
                    name: entry.name,
                    currency,
                    verified,
                    source: entry.source,
                    price_source,
                    license: entry.license,
                    defaults,
                    formula: entry.formula,
                    note: entry.note,
                    origin,
                    from,
                },
            );
        }
        Ok(Catalog { models })
    }

    pub fn get(&self, endpoint: &str) -> Option<&ModelPrice> {
        self.models.get(endpoint.trim())
    }

    pub fn models(&self) -> impl Iterator<Item = &ModelPrice> {
        self.models.values()
    }
}

/// A priced model's `price_source`: required in the catalog (`published` or
/// `reported`); in a user's file `user` when not given, since the file is the
/// user's own figures. An unpriced model has none.
fn read_price_source(entry: &ModelEntry, origin: Origin) -> Result<Option<PriceSource>, String> {
    let model = &entry.endpoint;
    match (&entry.formula, entry.price_source, origin) {
        (None, None, _) => Ok(None),
        (None, Some(_), _) => Err(format!(
            "model {model}: price_source is given but there is no formula; an unpriced model has no price to source"
        )),
        (Some(_), None, Origin::Catalog) => Err(format!(
            "model {model}: price_source is missing: published (read on fal.ai) or reported (read from a third party)"
        )),
        (Some(_), Some(PriceSource::User), Origin::Catalog) => Err(format!(
            "model {model}: price_source 'user' is for a user's pricing file; the catalog says published or reported"
        )),
        (Some(_), None, Origin::UserFile) => Ok(Some(PriceSource::User)),
        (Some(_), Some(source), _) => Ok(Some(source)),
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn today() -> i64 {
        parse_day("2026-11-27").unwrap()
    }

    fn estimate(endpoint: &str, given: Value) -> Result<Estimate, PricingError> {
        let catalog = Catalog::embedded().unwrap();
        let model = catalog
            .get(endpoint)
            .unwrap_or_else(|| panic!("{endpoint}"));
        Ok(model.estimate(&params(given), today())?.expect("priced"))
    }

    fn formula(toml_text: &str) -> Formula {
        #[derive(Deserialize)]
        struct Wrap {
            formula: Formula,
        }
        toml::from_str::<Wrap>(toml_text).unwrap().formula
    }

    fn quote(f: &Formula, given: Value) -> Result<Quote, PricingError> {
        let defaults = Map::new();
        f.quote(
            &params::Params::new(&params(given), &defaults),
            Currency::USD,
        )
    }

    #[test]
    fn embedded_catalog_covers_thirty_priced_models() {
        let catalog = Catalog::embedded().unwrap();
        let priced = catalog.models().filter(|m| m.formula.is_some()).count();
        assert!(priced >= 30, "{priced} priced models");
        assert!(catalog.models().all(|m| m.source.starts_with("https://")));
    }

    #[test]
    fn per_megapixel_rounds_up_per_image() {
        // square_hd is 1024×1024 px, exactly one fal megapixel.
        let e = estimate(
            "fal-ai/flux/dev",
            json!({"image_size": "square_hd", "num_images": 2}),
        )
        .unwrap();
        assert_eq!(e.micros, 50_000);
        assert_eq!(
            e.explanation,
            "2 images × 1024×1024 px = 1.00 MP each (fal MP = 1024² px), rounded up to 1 MP × $0.025 = $0.05"
        );
        // landscape_16_9 is 1024×576 px = 0.5625 fal MP, billed as 1 MP.
        let e = estimate("fal-ai/flux/dev", json!({"image_size": "landscape_16_9"})).unwrap();
        assert_eq!(e.micros, 25_000);
        assert_eq!(
            e.explanation,
            "1 image × 1024×576 px = 0.56 MP (fal MP = 1024² px), rounded up to 1 MP × $0.025 = $0.025"
        );
        // 1536×1024 px = 1.5 fal MP → 2 MP.
        let e = estimate("fal-ai/flux/dev", json!({"image_size": "1536x1024"})).unwrap();
        assert_eq!(e.micros, 50_000);
        assert_eq!(
            e.explanation,
            "1 image × 1536×1024 px = 1.50 MP (fal MP = 1024² px), rounded up to 2 MP × $0.025 = $0.05"
        );
        // Just above one megapixel: shown with the decimals that say so.
        let e = estimate("fal-ai/flux/dev", json!({"width": 1025, "height": 1024})).unwrap();
        assert_eq!(e.micros, 50_000);
        assert_eq!(
            e.explanation,
            "1 image × 1025×1024 px = 1.001 MP (fal MP = 1024² px), rounded up to 2 MP × $0.025 = $0.05"
        );
        // 1920×1080 = 2,073,600 px = 1.98 fal MP → 2 MP.
        let e = estimate(
            "fal-ai/flux-1/schnell",
            json!({"width": 1920, "height": 1080}),
        )
        .unwrap();
        assert_eq!(e.micros, 6_000);
        // 2048×2048 = exactly 4 fal MP; one pixel more is 5.
        let f = formula("formula = { type = \"per_megapixel\", price = \"0.025\" }");
        assert_eq!(
            quote(&f, json!({"image_size": {"width": 2048, "height": 2048}}))
                .unwrap()
                .micros,
            100_000
        );
        assert_eq!(
            quote(&f, json!({"image_size": "2049x2048"}))
                .unwrap()
                .micros,
            125_000
        );
        // The model's default size applies when none is given: landscape_4_3 = 1 MP.
        assert_eq!(
            estimate("fal-ai/flux/dev", json!({})).unwrap().micros,
            25_000
        );
    }

    #[test]
    fn upscaler_scales_the_image_first() {
        // 1024×768 × 2 = 2048×1536 px = 3 fal MP × $0.03.
        let e = estimate(
            "fal-ai/clarity-upscaler",
            json!({"width": 1024, "height": 768}),
        )
        .unwrap();
        assert_eq!(e.micros, 90_000);
        assert_eq!(
            e.explanation,
            "1 image × 1024×768 px × upscale_factor 2 = 2048×1536 px = 3.00 MP (fal MP = 1024² px), rounded up to 3 MP × $0.03 = $0.09"
        );
        let e = estimate(
            "fal-ai/clarity-upscaler",
            json!({"width": 1024, "height": 768, "upscale_factor": 4}),
        )
        .unwrap();
        // 4096×3072 = 12 fal MP.
        assert_eq!(e.micros, 360_000);
        // 1000×1000 × 1.5 = 1500×1500 px = 2.15 fal MP → 3 MP.
        let e = estimate(
            "fal-ai/clarity-upscaler",
            json!({"width": 1000, "height": 1000, "upscale_factor": 1.5}),
        )
        .unwrap();
        assert_eq!(e.micros, 90_000);
        assert_eq!(
            e.explanation,
            "1 image × 1000×1000 px × upscale_factor 1.5 = 1500×1500 px = 2.15 MP (fal MP = 1024² px), rounded up to 3 MP × $0.03 = $0.09"
        );
    }

    #[test]
    fn tiered_megapixels() {
        // 1920×1080 → 2 MP: $0.03 + $0.015.
        let e = estimate("fal-ai/flux-2-pro", json!({"width": 1920, "height": 1080})).unwrap();
        assert_eq!(e.micros, 45_000);
        assert_eq!(
            e.explanation,
            "1 image × 1920×1080 px = 1.98 MP (fal MP = 1024² px), rounded up to 2 MP: $0.03 first MP + 1 × $0.015 = $0.045"
        );
        let e = estimate(
            "fal-ai/flux-2-pro",
            json!({"image_size": "square_hd", "num_images": 3}),
        )
        .unwrap();
        assert_eq!(e.micros, 90_000);
        assert_eq!(
            e.explanation,
            "3 images × 1024×1024 px = 1.00 MP each (fal MP = 1024² px), rounded up to 1 MP: $0.03 first MP + 0 × $0.015 = $0.03 each, $0.09 in all"
        );
        let e = estimate("fal-ai/flux-2-pro", json!({"image_size": "1536x1024"})).unwrap();
        assert_eq!(e.micros, 45_000);
        assert_eq!(
            e.explanation,
            "1 image × 1536×1024 px = 1.50 MP (fal MP = 1024² px), rounded up to 2 MP: $0.03 first MP + 1 × $0.015 = $0.045"
        );
    }

    #[test]
    fn base_price_plus_extra_seconds() {
        let model = "fal-ai/kling-video/v2/master/text-to-video";
        assert_eq!(estimate(model, json!({})).unwrap().micros, 1_400_000);
        let e = estimate(model, json!({"duration": "10"})).unwrap();
        assert_eq!(e.micros, 2_800_000);
        assert_eq!(
            e.explanation,
            "10 s: $1.40 for the first 5 s + 5 s × $0.28 = $2.80"
        );
    }

    #[test]
    fn per_second_with_audio_price() {
        let e = estimate("fal-ai/veo3", json!({"duration": "8s"})).unwrap();
        assert_eq!(e.micros, 3_200_000);
        let e = estimate(
            "fal-ai/veo3",
            json!({"duration": 5, "generate_audio": false}),
        )
        .unwrap();
        assert_eq!(e.micros, 1_000_000);
        assert_eq!(
            e.explanation,
            "5 s × $0.20 per second without audio = $1.00"
        );
    }

    #[test]
    fn per_second_by_resolution_with_audio_multiplier() {
        let model = "fal-ai/bytedance/seedance/v1/pro/image-to-video";
        let e = estimate(model, json!({"resolution": "1080p", "duration": 5})).unwrap();
        assert_eq!(e.micros, 610_000);
        let e = estimate(
            model,
            json!({"resolution": "720p", "duration": 5, "generate_audio": false}),
        )
        .unwrap();
        // 5 × $0.054 × 0.5 = $0.135
        assert_eq!(e.micros, 135_000);
        let e = estimate(
            "fal-ai/veo3.1",
            json!({"resolution": "4k", "duration": "4s", "generate_audio": false}),
        )
        .unwrap();
        assert_eq!(e.micros, 1_600_000);
        let err = estimate(model, json!({"resolution": "8k"})).unwrap_err();
        assert!(
            err.to_string().contains("one of 1080p, 480p, 720p"),
            "{err}"
        );
    }

    #[test]
    fn per_thousand_characters() {
        let model = "fal-ai/elevenlabs/text-to-dialogue/eleven-v3";
        let e = estimate(model, json!({"characters": 1234})).unwrap();
        assert_eq!(e.micros, 123_400);
        let e = estimate(model, json!({"text": "Hello, world"})).unwrap();
        // 12 characters × $0.10 / 1000 = $0.0012
        assert_eq!(e.micros, 1_200);
        let err = estimate(model, json!({})).unwrap_err();
        assert_eq!(
            err,
            PricingError::MissingParam {
                param: "characters (or text)".into()
            }
        );
    }

    #[test]
    fn options_tokens_compute_requests_and_videos() {
        let e = estimate(
            "fal-ai/ideogram/custom-models/generate",
            json!({"rendering_speed": "QUALITY", "num_images": 2}),
        )
        .unwrap();
        assert_eq!(e.micros, 180_000);
        let e = estimate(
            "fal-ai/minimax/hailuo-2.3/standard/text-to-video",
            json!({"duration": "10"}),
        )
        .unwrap();
        assert_eq!(e.micros, 560_000);
        let tokens = formula(
            "formula = { type = \"per_million_tokens\", input = \"0.15\", output = \"0.60\" }",
        );
        // 12,000 × 0.15/1M + 3,500 × 0.60/1M = 0.0018 + 0.0021
        assert_eq!(
            quote(
                &tokens,
                json!({"input_tokens": 12000, "output_tokens": 3500})
            )
            .unwrap()
            .micros,
            3_900
        );
        assert!(matches!(
            quote(&tokens, json!({"input_tokens": 1})),
            Err(PricingError::MissingParam { .. })
        ));
        let compute = formula("formula = { type = \"per_compute_second\", price = \"0.00111\" }");
        // 12.5 s × $0.00111 = $0.013875
        assert_eq!(
            quote(&compute, json!({"compute_seconds": 12.5}))
                .unwrap()
                .micros,
            13_875
        );
        let video = formula("formula = { type = \"per_video\", price = \"0.50\" }");
        assert_eq!(quote(&video, json!({})).unwrap().micros, 500_000);
        assert_eq!(
            estimate("fal-ai/trellis", json!({})).unwrap().micros,
            20_000
        );
    }

    #[test]
    fn rounding_is_half_to_even_once() {
        // 3 characters × $0.0005 / 1000 = 0.0000015 → 2 micro-units (half to even).
        let f = formula("formula = { type = \"per_1k_characters\", price = \"0.0005\" }");
        assert_eq!(quote(&f, json!({"characters": 3})).unwrap().micros, 2);
        // 1 character → 0.0000005 → 0 (even).
        assert_eq!(quote(&f, json!({"characters": 1})).unwrap().micros, 0);
    }

    #[test]
    fn bad_parameters_are_named() {
        let err = estimate("fal-ai/flux/dev", json!({"image_size": "huge"})).unwrap_err();
        assert!(matches!(err, PricingError::BadParam { ref param, .. } if param == "image_size"));
        let err = estimate("fal-ai/veo3", json!({"duration": "long"})).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("parameter 'duration' is 'long'"),
            "{err}"
        );
        let err = estimate("fal-ai/flux/dev", json!({"num_images": 0})).unwrap_err();
        assert!(matches!(err, PricingError::BadParam { ref param, .. } if param == "num_images"));
    }

    #[test]
    fn unpriced_models_have_no_estimate() {
        let catalog = Catalog::embedded().unwrap();
        let model = catalog.get("fal-ai/ideogram/v3").unwrap();
        assert_eq!(model.estimate(&Map::new(), today()).unwrap(), None);
    }

    #[test]
    fn stale_after_ninety_days() {
        let catalog = Catalog::embedded().unwrap();
        let model = catalog.get("fal-ai/flux/dev").unwrap();
        assert!(!model.is_stale(model.verified + 90));
        assert!(model.is_stale(model.verified + 91));
    }

    #[test]
    fn every_catalog_price_has_a_source_of_its_own_kind() {
        let catalog = Catalog::embedded().unwrap();
        // Each provider's own pages.
        let own = |m: &ModelPrice| {
            let hosts: &[&str] = match m.endpoint.split('/').next().unwrap_or_default() {
                "openai" => &["https://developers.openai.com/"],
                "replicate" => &["https://replicate.com/"],
                "runway" => &["https://github.com/runwayml/", "https://help.runwayml.com/"],
                "elevenlabs" => &["https://elevenlabs.io/"],
                _ => &["https://fal.ai/"],
            };
            hosts.iter().any(|h| m.source.starts_with(h))
        };
        for m in catalog.models() {
            let fal = own(m);
            match (&m.formula, m.price_source) {
                (None, None) => {}
                (Some(_), Some(PriceSource::Published)) => assert!(fal, "{}", m.endpoint),
                (Some(_), Some(PriceSource::Reported)) => assert!(!fal, "{}", m.endpoint),
                other => panic!("{}: {other:?}", m.endpoint),
            }
        }
        let e = estimate("fal-ai/flux/schnell", json!({})).unwrap();
        assert_eq!(e.price_source, PriceSource::Reported);
        let e = estimate("fal-ai/flux-1/schnell", json!({})).unwrap();
        assert_eq!(e.price_source, PriceSource::Published);
    }

    #[test]
    fn price_source_is_required_in_the_catalog_and_optional_in_a_user_file() {
        let model = |extra: &str, formula: bool| {
            format!(
                "[[model]]\nendpoint = \"x/y\"\nname = \"X\"\ncurrency = \"USD\"\nverified = \"2026-01-01\"\nsource = \"https://x\"\n{extra}license = {{ status = \"unknown\", name = \"?\" }}\n{}",
                if formula {
                    "formula = { type = \"per_image\", price = \"0.04\" }\n"
                } else {
                    ""
                }
            )
        };
        let source_of = |text: &str, origin| {
            Catalog::parse(text, "p.toml", origin).map(|c| c.get("x/y").unwrap().price_source)
        };
        // The catalog must say which it is, and only published or reported.
        let err = source_of(&model("", true), Origin::Catalog).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("p.toml: line 2: model x/y: price_source is missing"),
            "{err}"
        );
        let err =
            source_of(&model("price_source = \"user\"\n", true), Origin::Catalog).unwrap_err();
        assert!(
            err.to_string().contains("is for a user's pricing file"),
            "{err}"
        );
        assert_eq!(
            source_of(
                &model("price_source = \"reported\"\n", true),
                Origin::Catalog
            ),
            Ok(Some(PriceSource::Reported))
        );
        // A user's file is their own figures unless it says otherwise.
        assert_eq!(
            source_of(&model("", true), Origin::UserFile),
            Ok(Some(PriceSource::User))
        );
        assert_eq!(
            source_of(
                &model("price_source = \"published\"\n", true),
                Origin::UserFile
            ),
            Ok(Some(PriceSource::Published))
        );
        // An unpriced model has none, and giving one is refused.
        assert_eq!(source_of(&model("", false), Origin::Catalog), Ok(None));
        let err = source_of(
            &model("price_source = \"published\"\n", false),
            Origin::UserFile,
        )
        .unwrap_err();
        assert!(err.to_string().contains("there is no formula"), "{err}");
        // Anything else is not a price source.
        let err = source_of(
            &model("price_source = \"verified\"\n", true),
            Origin::UserFile,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `verified`"),
            "{err}"
        );
    }

    #[test]
    fn malformed_files_name_the_line() {
        let float_price = "[[model]]\nendpoint = \"x/y\"\nname = \"X\"\ncurrency = \"USD\"\nverified = \"2026-01-01\"\nsource = \"https://x\"\nlicense = { status = \"unknown\", name = \"?\" }\nformula = { type = \"per_image\", price = 0.04 }\n";
        let err = Catalog::parse(float_price, "p.toml", Origin::UserFile).unwrap_err();
        assert!(matches!(err, PricingError::File { line: 8, .. }), "{err}");
        let bad_type = float_price
            .replace("price = 0.04", "price = \"0.04\"")
            .replace("per_image", "per_banana");
        let err = Catalog::parse(&bad_type, "p.toml", Origin::UserFile).unwrap_err();
        assert!(matches!(err, PricingError::File { line: 8, .. }), "{err}");
        let bad_currency = float_price
            .replace("price = 0.04", "price = \"0.04\"")
            .replace("\"USD\"", "\"XXX\"");
        let err = Catalog::parse(&bad_currency, "p.toml", Origin::UserFile).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("p.toml: line 2: model x/y: unknown currency code 'XXX'"),
            "{err}"
        );
    }
}
