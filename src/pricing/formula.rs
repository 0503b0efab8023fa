//! Price formulas: how fal bills each kind of output, computed exactly from a
//! generation's parameters, with a one-line explanation of the arithmetic.

use super::params::Params;
use super::PricingError;
use crate::money::{div_round_half_even, format_exact, parse_amount, Currency};
use serde::Deserialize;
use std::collections::BTreeMap;

/// fal's megapixel: 1024 × 1024 pixels; billed megapixels are rounded up per image.
pub const PIXELS_PER_MEGAPIXEL: i128 = 1_048_576;

/// A unit price, exact to the micro-unit; written as a quoted decimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Price(pub i64);

impl serde::Serialize for Price {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::money::decimal_string(self.0))
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match parse_amount(&text) {
            Ok(micros) if micros >= 0 => Ok(Price(micros)),
            Ok(_) => Err(serde::de::Error::custom(format!(
                "price '{text}' is negative"
            ))),
            Err(e) => Err(serde::de::Error::custom(e)),
        }
    }
}

#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Formula {
    /// `num_images` × price.
    PerImage { price: Price },
    /// `num_images` × the price of the chosen option (e.g. `rendering_speed`).
    PerImageByOption {
        param: String,
        prices: BTreeMap<String, Price>,
    },
    /// Megapixels per image rounded up × price; `scale_param` multiplies both
    /// sides of the image first (upscalers).
    PerMegapixel {
        price: Price,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale_param: Option<String>,
    },
    /// Per image: `first` for the first megapixel, `additional` for each further one.
    TieredMegapixel { first: Price, additional: Price },
    /// `duration` × price, or × `with_audio` when `generate_audio` is on.
    PerSecond {
        price: Price,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        with_audio: Option<Price>,
    },
    /// `duration` × the price of the `resolution`; without audio either its
    /// own price table or the audio price × `without_audio_factor`.
    PerSecondByResolution {
        prices: BTreeMap<String, Price>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        without_audio: Option<BTreeMap<String, Price>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        without_audio_factor: Option<Price>,
    },
    /// `base` covers `base_seconds`; each further second costs `per_extra_second`.
    BasePlusPerSecond {
        base: Price,
        base_seconds: Price,
        per_extra_second: Price,
    },
    /// `characters` (or the length of `text`) × price / 1,000.
    #[serde(rename = "per_1k_characters")]
    Per1kCharacters { price: Price },
    /// `input_tokens` × input / 1M + `output_tokens` × output / 1M.
    PerMillionTokens { input: Price, output: Price },
    /// `compute_seconds` × price.
    PerComputeSecond { price: Price },
    /// Tokens of each kind × its price per million (OpenAI's image
    /// models bill `text_input`, `image_input`, `image_output` ... tokens).
    /// An estimate is `n` × the per-image price of the `quality` and
    /// `size` where `per_image` gives one ("medium 1024x1024"), else `n` ×
    /// the image output tokens of that quality and size (`output_tokens`)
    /// at the image output price; plus the prompt's tokens, counted
    /// approximately (4 characters a token), at the text input price.
    PerTokenKind {
        per_million: BTreeMap<String, Price>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        per_image: BTreeMap<String, Price>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        output_tokens: BTreeMap<String, u64>,
    },
    /// `credits` × price: a plan's credits (ElevenLabs' `character-cost`,
    /// priced in the user's pricing file at what their plan pays).
    PerCredit { price: Price },
    /// A flat price per call.
    PerRequest { price: Price },
    /// A flat price per video.
    PerVideo { price: Price },
    /// The price of the chosen option (e.g. `duration`) per video.
    PerVideoByOption {
        param: String,
        prices: BTreeMap<String, Price>,
    },
}

/// An estimate's amount and its arithmetic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub micros: i64,
    pub explanation: String,
}

const MICROS: i128 = 1_000_000;

impl Formula {
    /// The parameters this formula reads: a run's price-relevant settings.
    pub fn settings(&self) -> Vec<String> {
        let image = |scale: Option<&String>| {
            let mut names: Vec<String> = ["num_images", "image_size", "width", "height"]
                .map(String::from)
                .to_vec();
            names.extend(scale.cloned());
            names
        };
        match self {
            Formula::PerImage { .. } => vec!["num_images".into()],
            Formula::PerImageByOption { param, .. } => vec!["num_images".into(), param.clone()],
            Formula::PerMegapixel { scale_param, .. } => image(scale_param.as_ref()),
            Formula::TieredMegapixel { .. } => image(None),
            Formula::PerSecond { .. } => vec!["duration".into(), "generate_audio".into()],
            Formula::PerSecondByResolution { .. } => {
                vec![
                    "duration".into(),
                    "resolution".into(),
                    "generate_audio".into(),
                ]
            }
            Formula::BasePlusPerSecond { .. } => vec!["duration".into()],
            Formula::Per1kCharacters { .. } => vec!["characters".into()],
            Formula::PerMillionTokens { .. } => vec!["input_tokens".into(), "output_tokens".into()],
            Formula::PerComputeSecond { .. } => vec!["compute_seconds".into()],
            Formula::PerTokenKind { .. } => {
                vec!["n".into(), "quality".into(), "size".into(), "prompt".into()]
            }
            Formula::PerCredit { .. } => vec!["credits".into()],
            Formula::PerRequest { .. } | Formula::PerVideo { .. } => Vec::new(),
            Formula::PerVideoByOption { param, .. } => vec![param.clone()],
        }
    }

    /// Computes the price of one call with these parameters, rounding half
    /// to even to micro-units once, at the end.
    pub fn quote(&self, params: &Params, currency: Currency) -> Result<Quote, PricingError> {
        // The text of an amount; one past i64 never reaches a quote (the
        // total is checked below, and every amount shown is at most it).
        let money = |micros: i128| {
            i64::try_from(micros).map_or_else(|_| "?".to_string(), |m| format_exact(m, currency))
        };
        let (micros, explanation): (i128, String) = match self {
            Formula::PerImage { price } => {
                let n = params.count("num_images")?;
                let total = mul(n, price.0)?;
                (
                    total,
                    format!(
                        "{} × {} = {}",
                        images(n),
                        money(price.0.into()),
                        money(total)
                    ),
                )
            }
            Formula::PerImageByOption { param, prices } => {
                let n = params.count("num_images")?;
                let (option, price) = pick(params, param, prices)?;
                let total = mul(n, price.0)?;
                let text = format!(
                    "{} × {} ({param} {option}) = {}",
                    images(n),
                    money(price.0.into()),
                    money(total)
                );
                (total, text)
            }
            Formula::PerMegapixel { price, scale_param } => {
                let n = params.count("num_images")?;
                let image = Megapixels::of(params, scale_param.as_deref())?;
                let billed = mul(n, image.billed)?;
                let total = mul(billed, price.0)?;
                let text = format!(
                    "{} × {} × {} = {}",
                    images(n),
                    image.describe(n),
                    money(price.0.into()),
                    money(total)
                );
                (total, text)
            }
            Formula::TieredMegapixel { first, additional } => {
                let n = params.count("num_images")?;
                let image = Megapixels::of(params, None)?;
                let extra = image.billed - 1;
                let per_image = add(first.0.into(), mul(extra, additional.0)?)?;
                let total = mul(n, per_image)?;
                let all = if n == 1 {
                    String::new()
                } else {
                    format!(" each, {} in all", money(total))
                };
                let text = format!(
                    "{} × {}: {} first MP + {extra} × {} = {}{all}",
                    images(n),
                    image.describe(n),
                    money(first.0.into()),
                    money(additional.0.into()),
                    money(per_image),
                );
                (total, text)
            }
            Formula::PerSecond { price, with_audio } => {
                let seconds = params.quantity_micros("duration")?;
                let audio = with_audio.is_some() && params.flag("generate_audio", false)?;
                let (unit, note) = match with_audio {
                    Some(p) if audio => (*p, " with audio"),
                    Some(_) => (*price, " without audio"),
                    None => (*price, ""),
                };
                let total = div_round(i128::from(seconds) * i128::from(unit.0), MICROS);
                let text = format!(
                    "{} s × {} per second{note} = {}",
                    decimal(seconds),
                    money(unit.0.into()),
                    money(total)
                );
                (total, text)
            }
            Formula::PerSecondByResolution {
                prices,
                without_audio,
                without_audio_factor,
            } => {
                let seconds = params.quantity_micros("duration")?;
                let (resolution, with_audio_price) = pick(params, "resolution", prices)?;
                let audio = params.flag("generate_audio", true)?;
                let (unit, factor, note) = match (audio, without_audio, without_audio_factor) {
                    (true, _, _) => (with_audio_price, MICROS, String::new()),
                    (false, Some(table), _) => {
                        let (_, p) = pick(params, "resolution", table)?;
                        (p, MICROS, " without audio".to_string())
                    }
                    (false, None, Some(f)) => (
                        with_audio_price,
                        i128::from(f.0),
                        format!(" × {} without audio", decimal(f.0)),
                    ),
                    (false, None, None) => (with_audio_price, MICROS, String::new()),
                };
                let total = div_round(mul(mul(seconds, unit.0)?, factor)?, MICROS * MICROS);
                let text = format!(
                    "{} s × {} per second ({resolution}){note} = {}",
                    decimal(seconds),
                    money(unit.0.into()),
                    money(total)
                );
                (total, text)
            }
            Formula::BasePlusPerSecond {
                base,
                base_seconds,
                per_extra_second,
            } => {
                let seconds = params.quantity_micros("duration")?;
                let extra = (seconds - base_seconds.0).max(0);
                let total = i128::from(base.0)
                    + div_round(i128::from(extra) * i128::from(per_extra_second.0), MICROS);
                let text = format!(
                    "{} s: {} for the first {} s + {} s × {} = {}",
                    decimal(seconds),
                    money(base.0.into()),
                    decimal(base_seconds.0),
                    decimal(extra),
                    money(per_extra_second.0.into()),
                    money(total)
                );
                (total, text)
            }
            Formula::Per1kCharacters { price } => {
                let chars = params.characters()?;
                let total = div_round(i128::from(chars) * i128::from(price.0), 1_000);
                let text = format!(
                    "{chars} characters × {} per 1,000 = {}",
                    money(price.0.into()),
                    money(total)
                );
                (total, text)
            }
            Formula::PerMillionTokens { input, output } => {
                let tokens_in = params.whole("input_tokens")?;
                let tokens_out = params.whole("output_tokens")?;
                let total = div_round(
                    add(mul(tokens_in, input.0)?, mul(tokens_out, output.0)?)?,
                    1_000_000,
                );
                let text = format!(
                    "{tokens_in} input tokens × {} + {tokens_out} output tokens × {} per million = {}",
                    money(input.0.into()),
                    money(output.0.into()),
                    money(total)
                );
                (total, text)
            }
            Formula::PerComputeSecond { price } => {
                let seconds = params.quantity_micros("compute_seconds")?;
                let total = div_round(i128::from(seconds) * i128::from(price.0), MICROS);
                let text = format!(
                    "{} compute seconds × {} = {}",
                    decimal(seconds),
                    money(price.0.into()),
                    money(total)
                );
                (total, text)
            }
            Formula::PerTokenKind {
                per_million,
                per_image,
                output_tokens,
            } => {
                let n = params.count("n")?;
                let image = ImageChoice::of(params)?;
                let prompt_tokens = params
                    .text("prompt")
                    .map_or(0, |p| (p.chars().count() as u64).div_ceil(4));
                let prompt_price = per_million.get("text_input").map_or(0, |p| p.0);
                let prompt = div_round(mul(prompt_tokens, prompt_price)?, 1_000_000);
                let prompt_text = format!(
                    "≈{prompt_tokens} prompt tokens × {} per million",
                    money(prompt_price.into())
                );
                let (images_total, images_text) = match per_image.get(&image.key) {
                    Some(price) => {
                        let total = mul(n, price.0)?;
                        let text =
                            format!("{} × {} ({})", images(n), money(price.0.into()), image.key);
                        (total, text)
                    }
                    None => {
                        let tokens = output_tokens.get(&image.key).ok_or_else(|| {
                            PricingError::BadParam {
                                param: "quality and size".into(),
                                value: image.key.clone(),
                                expected: format!(
                                    "one of {}",
                                    per_image
                                        .keys()
                                        .chain(output_tokens.keys())
                                        .cloned()
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            }
                        })?;
                        let price = per_million.get("image_output").map_or(0, |p| p.0);
                        let total = div_round(mul(mul(n, *tokens)?, price)?, 1_000_000);
                        let text = format!(
                            "{} × {tokens} output tokens ({}) × {} per million",
                            images(n),
                            image.key,
                            money(price.into())
                        );
                        (total, text)
                    }
                };
                let total = add(images_total, prompt)?;
                let text = format!(
                    "{images_text} + {prompt_text}{} = {}",
                    image.note,
                    money(total)
                );
                (total, text)
            }
            Formula::PerCredit { price } => {
                let credits = params.quantity_micros("credits")?;
                let total = div_round(i128::from(credits) * i128::from(price.0), MICROS);
                let text = format!(
                    "{} credits × {} = {}",
                    decimal(credits),
                    money(price.0.into()),
                    money(total)
                );
                (total, text)
            }
            Formula::PerRequest { price } => {
                let total = i128::from(price.0);
                (
                    total,
                    format!("1 request × {} = {}", money(total), money(total)),
                )
            }
            Formula::PerVideo { price } => {
                let total = i128::from(price.0);
                (total, format!("1 video = {}", money(total)))
            }
            Formula::PerVideoByOption { param, prices } => {
                let (option, price) = pick(params, param, prices)?;
                let total = i128::from(price.0);
                (
                    total,
                    format!("1 video ({param} {option}) = {}", money(total)),
                )
            }
        };
        Ok(Quote {
            micros: i64::try_from(micros).map_err(|_| PricingError::TooLarge)?,
            explanation,
        })
    }
}

/// The quality and size of an image model's call, as the key of its price
/// tables (`medium 1024x1024`); `auto` (the default of both) is estimated
/// as medium quality and a square image, and says so.
struct ImageChoice {
    key: String,
    note: String,
}

impl ImageChoice {
    fn of(params: &Params) -> Result<ImageChoice, PricingError> {
        let given = |name: &str| -> Result<String, PricingError> {
            Ok(match params.text(name) {
                Some(_) => params.option(name)?.to_ascii_lowercase(),
                None => "auto".into(),
            })
        };
        let (quality, size) = (given("quality")?, given("size")?);
        let mut guessed = Vec::new();
        let quality = match quality.as_str() {
            "auto" => {
                guessed.push("quality auto as medium");
                "medium".to_string()
            }
            // dall-e-3's names for the same tiers.
            "standard" => "medium".to_string(),
            "hd" => "high".to_string(),
            other => other.to_string(),
        };
        let size = if size == "auto" {
            guessed.push("size auto as 1024x1024");
            "1024x1024".to_string()
        } else {
            size
        };
        let note = if guessed.is_empty() {
            String::new()
        } else {
            format!(" ({})", guessed.join(", "))
        };
        Ok(ImageChoice {
            key: format!("{quality} {size}"),
            note,
        })
    }
}

/// The cost of tokens by kind at prices per million, with its arithmetic;
/// `Err` names a kind the model has no price for.
pub fn token_cost(
    per_million: &BTreeMap<String, Price>,
    usage: &BTreeMap<String, i64>,
    currency: Currency,
) -> Result<Quote, String> {
    let mut total: i128 = 0;
    let mut parts = Vec::new();
    for (kind, tokens) in usage.iter().filter(|(_, t)| **t != 0) {
        let price = per_million
            .get(kind)
            .ok_or_else(|| format!("no price for {kind} tokens"))?;
        let tokens = i128::from(*tokens);
        if tokens < 0 {
            return Err(format!("{kind}: a negative token count"));
        }
        total = tokens
            .checked_mul(i128::from(price.0))
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| "the token cost is too large".to_string())?;
        parts.push(format!(
            "{tokens} {} × {}",
            kind.replace('_', " "),
            format_exact(price.0, currency)
        ));
    }
    let micros = div_round(total, 1_000_000);
    let micros = i64::try_from(micros).map_err(|_| "the token cost is too large".to_string())?;
    Ok(Quote {
        micros,
        explanation: format!(
            "{} per million tokens = {}",
            parts.join(" + "),
            format_exact(micros, currency)
        ),
    })
}

/// Checked arithmetic: an estimate past `i128` is an error, never wrapped
/// or saturated.
fn mul(a: impl Into<i128>, b: impl Into<i128>) -> Result<i128, PricingError> {
    a.into().checked_mul(b.into()).ok_or(PricingError::TooLarge)
}

fn add(a: i128, b: i128) -> Result<i128, PricingError> {
    a.checked_add(b).ok_or(PricingError::TooLarge)
}

fn div_round(value: i128, divisor: i128) -> i128 {
    div_round_half_even(value, divisor)
}

fn images(n: u64) -> String {
    format!("{n} image{}", if n == 1 { "" } else { "s" })
}

/// A micro-unit quantity as a plain decimal (`5`, `2.5`).
fn decimal(micros: i64) -> String {
    crate::money::decimal_string(micros)
}

/// The price of the option `param` names; `10s` matches a `10` entry.
fn pick(
    params: &Params,
    param: &str,
    prices: &BTreeMap<String, Price>,
) -> Result<(String, Price), PricingError> {
    let chosen = params.option(param)?;
    let candidates = [chosen.clone(), chosen.trim_end_matches('s').to_string()];
    for candidate in &candidates {
        if let Some((key, price)) = prices
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(candidate))
        {
            return Ok((key.clone(), *price));
        }
    }
    Err(PricingError::BadParam {
        param: param.to_string(),
        value: chosen,
        expected: format!(
            "one of {}",
            prices.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    })
}

/// One output image's size in fal megapixels (1 MP = 1024 × 1024 =
/// 1,048,576 pixels) and the whole megapixels it is billed as, rounded up.
struct Megapixels {
    /// `1024×1024 px`, or `1024×768 px × upscale_factor 2 = 2048×1536 px`.
    size: String,
    /// The size in fal megapixels, two decimals (more when two would hide
    /// that it is above a whole number).
    shown: String,
    billed: i128,
}

impl Megapixels {
    fn of(params: &Params, scale_param: Option<&str>) -> Result<Megapixels, PricingError> {
        let (w, h) = params.image_pixels()?;
        let scale = match scale_param {
            Some(name) => params.quantity_micros(name)?,
            None => 1_000_000,
        };
        if scale == 0 {
            return Err(PricingError::BadParam {
                param: scale_param.unwrap_or_default().to_string(),
                value: "0".into(),
                expected: "a factor above 0".into(),
            });
        }
        // Pixels × 10^12, exact for fractional scale factors.
        let pixels_e12 = mul(mul(mul(w, h)?, scale)?, scale)?;
        let unit = PIXELS_PER_MEGAPIXEL * MICROS * MICROS;
        let billed = add(pixels_e12, unit - 1)? / unit;
        let size = match scale_param {
            Some(name) => {
                let side = |px: u64| {
                    i64::try_from(i128::from(px) * i128::from(scale))
                        .map_or_else(|_| "?".to_string(), crate::money::decimal_string)
                };
                format!(
                    "{w}×{h} px × {name} {} = {}×{} px",
                    decimal(scale),
                    side(w),
                    side(h)
                )
            }
            None => format!("{w}×{h} px"),
        };
        Ok(Megapixels {
            size,
            shown: fal_megapixels(pixels_e12, unit),
            billed: billed.max(1),
        })
    }

    /// `1024×1024 px = 1.00 MP each (fal MP = 1024² px), rounded up to 1 MP`.
    fn describe(&self, images: u64) -> String {
        format!(
            "{} = {} MP{} (fal MP = 1024² px), rounded up to {} MP",
            self.size,
            self.shown,
            if images == 1 { "" } else { " each" },
            self.billed
        )
    }
}

/// `value` / `unit` as a decimal with two places, rounded half to even;
/// with up to six when two would show a whole number the value is above,
/// so that `1.00 MP` is never billed as 2. A value above a whole number by
/// less than half a millionth shows rounded up at six places.
fn fal_megapixels(value: i128, unit: i128) -> String {
    let whole = value % unit == 0;
    let text = |scaled: i128, places: u32| {
        let factor = 10i128.pow(places);
        format!(
            "{}.{:0width$}",
            scaled / factor,
            scaled % factor,
            width = places as usize
        )
    };
    // `unit` is a multiple of 10^6, so dividing by unit / 10^places is exact.
    for places in 2..=6u32 {
        let scaled = div_round(value, unit / 10i128.pow(places));
        if whole || scaled % 10i128.pow(places) != 0 {
            return text(scaled, places);
        }
    }
    let millionth = unit / 1_000_000;
    text((value + millionth - 1) / millionth, 6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const UNIT: i128 = PIXELS_PER_MEGAPIXEL * MICROS * MICROS;

    fn shown(pixels: i128) -> String {
        fal_megapixels(pixels * MICROS * MICROS, UNIT)
    }

    #[test]
    fn megapixels_show_two_decimals_of_fal_megapixels() {
        assert_eq!(shown(1024 * 1024), "1.00");
        assert_eq!(shown(1024 * 576), "0.56");
        assert_eq!(shown(1536 * 1024), "1.50");
        assert_eq!(shown(2048 * 2048), "4.00");
        assert_eq!(shown(1920 * 1080), "1.98");
        // Above a whole number by less than two decimals show: more decimals.
        assert_eq!(shown(1025 * 1024), "1.001");
        assert_eq!(shown(2049 * 2048), "4.002");
        assert_eq!(shown(1024 * 1024 + 1), "1.000001");
        assert_eq!(shown(1), "0.000001");
    }

    proptest! {
        /// The size shown is never above the megapixels billed, and never
        /// a whole number below them: "rounded up" always goes up.
        #[test]
        fn rounded_up_never_goes_down(w in 1i128..20_000, h in 1i128..20_000) {
            let text = shown(w * h);
            let micros = i128::from(crate::money::parse_amount(&text).unwrap());
            let billed = ((w * h + PIXELS_PER_MEGAPIXEL - 1) / PIXELS_PER_MEGAPIXEL).max(1);
            prop_assert!(micros <= billed * MICROS, "{w}×{h}: {text} MP billed as {billed}");
            prop_assert!(micros > (billed - 1) * MICROS, "{w}×{h}: {text} MP billed as {billed}");
        }
    }
}

#[cfg(test)]
mod overflow_tests {
    use super::*;
    use serde_json::{json, Map, Value};

    fn quote(f: &Formula, given: Value) -> Result<Quote, PricingError> {
        let given: Map<String, Value> = given.as_object().cloned().unwrap();
        let defaults = Map::new();
        f.quote(&Params::new(&given, &defaults), Currency::USD)
    }

    /// A huge parameter gives an error, never i64::MAX.
    #[test]
    fn huge_estimates_are_errors_not_saturated() {
        let per_image = Formula::PerImage {
            price: Price(25_000),
        };
        let ok = quote(&per_image, json!({"num_images": 1_000_000})).unwrap();
        assert_eq!(ok.micros, 25_000_000_000);
        // u64::MAX images × $0.025 fits i128 but not i64.
        let err = quote(&per_image, json!({"num_images": u64::MAX})).unwrap_err();
        assert!(matches!(err, PricingError::TooLarge), "{err}");
        assert!(err
            .to_string()
            .starts_with("the estimate is larger than gencost can hold"));
        // Width × height × images × price past i128.
        let per_mp = Formula::PerMegapixel {
            price: Price(i64::MAX),
            scale_param: None,
        };
        let given = json!({"width": u64::MAX, "height": u64::MAX, "num_images": u64::MAX});
        assert!(matches!(quote(&per_mp, given), Err(PricingError::TooLarge)));
        let tokens = Formula::PerMillionTokens {
            input: Price(i64::MAX),
            output: Price(i64::MAX),
        };
        let given = json!({"input_tokens": u64::MAX, "output_tokens": u64::MAX});
        assert!(matches!(quote(&tokens, given), Err(PricingError::TooLarge)));
    }
}
