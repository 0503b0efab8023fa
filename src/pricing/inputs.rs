//! The inputs a model picker shows for a model's price-relevant parameters:
//! a select for sizes, resolutions and options, a number for counts and
//! seconds, a flag for switches such as audio — each with the catalog's
//! default. Width and height are left out: `image_size` covers them.

use super::formula::Formula;
use super::params::IMAGE_SIZE_PRESETS;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// How a parameter is entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// One of `options`.
    Select,
    /// A number, within `min`/`max` when given, in steps of `step`.
    Number,
    /// true or false.
    Flag,
}

/// One price-relevant parameter of a model, as a picker shows it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ParameterInput {
    /// The parameter's name, as fal's input and `param.NAME` take it.
    pub name: String,
    pub input: InputKind,
    /// The values a select offers, in a stable order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    /// The catalog's default (a string for a select, a number for a number,
    /// a boolean for a flag); left out when the catalog has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Value>)]
    pub default: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<u64>,
}

impl ParameterInput {
    fn select(name: &str, options: Vec<String>, defaults: &Map<String, Value>) -> Self {
        let default = defaults.get(name).map(|v| match v {
            Value::String(s) => Value::String(s.clone()),
            other => Value::String(other.to_string()),
        });
        ParameterInput {
            name: name.to_string(),
            input: InputKind::Select,
            options: Some(options),
            default,
            min: None,
            max: None,
            step: None,
        }
    }

    /// A number: `whole` for counts (steps of 1 from `min`).
    fn number(name: &str, min: u64, whole: bool, defaults: &Map<String, Value>) -> Self {
        ParameterInput {
            name: name.to_string(),
            input: InputKind::Number,
            options: None,
            default: defaults.get(name).and_then(number),
            min: Some(min),
            max: None,
            step: whole.then_some(1),
        }
    }

    /// A flag; `formula_default` is what the price assumes when it is not
    /// given and the catalog states no default.
    fn flag(name: &str, formula_default: bool, defaults: &Map<String, Value>) -> Self {
        let default = match defaults.get(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => formula_default,
        };
        ParameterInput {
            name: name.to_string(),
            input: InputKind::Flag,
            options: None,
            default: Some(Value::Bool(default)),
            min: None,
            max: None,
            step: None,
        }
    }
}

/// A default as a JSON number: `5`, `"5"` and `"8s"` (seconds) are numbers.
fn number(value: &Value) -> Option<Value> {
    match value {
        Value::Number(n) => Some(Value::Number(n.clone())),
        Value::String(s) => {
            serde_json::from_str::<serde_json::Number>(s.trim().trim_end_matches('s'))
                .ok()
                .map(Value::Number)
        }
        _ => None,
    }
}

/// A price table's options, by their number first (`480p`, `720p`,
/// `1080p`, `4k` — a `k` is thousands; `5`, `10`), then by name.
fn keys(prices: &BTreeMap<String, super::Price>) -> Vec<String> {
    let mut keys: Vec<String> = prices.keys().cloned().collect();
    keys.sort_by_key(|k| {
        let digits: String = k.chars().take_while(char::is_ascii_digit).collect();
        let thousands = k[digits.len()..].starts_with(['k', 'K']);
        let number = digits.parse::<u64>().map_or(u64::MAX, |n| {
            if thousands {
                n.saturating_mul(1000)
            } else {
                n
            }
        });
        (number, k.clone())
    });
    keys
}

/// The inputs for `formula`'s parameters, with `defaults` (the catalog's).
pub fn inputs(formula: &Formula, defaults: &Map<String, Value>) -> Vec<ParameterInput> {
    let image_size = || {
        let presets = IMAGE_SIZE_PRESETS
            .iter()
            .map(|(n, _, _)| n.to_string())
            .collect();
        ParameterInput::select("image_size", presets, defaults)
    };
    let images = || ParameterInput::number("num_images", 1, true, defaults);
    let seconds = || ParameterInput::number("duration", 0, false, defaults);
    match formula {
        Formula::PerImage { .. } => vec![images()],
        Formula::PerImageByOption { param, prices } => vec![
            ParameterInput::select(param, keys(prices), defaults),
            images(),
        ],
        Formula::PerMegapixel { scale_param, .. } => {
            let mut inputs = vec![image_size(), images()];
            if let Some(scale) = scale_param {
                inputs.push(ParameterInput::number(scale, 1, false, defaults));
            }
            inputs
        }
        Formula::TieredMegapixel { .. } => vec![image_size(), images()],
        Formula::PerSecond { with_audio, .. } => {
            let mut inputs = vec![seconds()];
            if with_audio.is_some() {
                inputs.push(ParameterInput::flag("generate_audio", false, defaults));
            }
            inputs
        }
        Formula::PerSecondByResolution { prices, .. } => vec![
            ParameterInput::select("resolution", keys(prices), defaults),
            seconds(),
            ParameterInput::flag("generate_audio", true, defaults),
        ],
        Formula::BasePlusPerSecond { .. } => vec![seconds()],
        Formula::Per1kCharacters { .. } => {
            vec![ParameterInput::number("characters", 0, true, defaults)]
        }
        Formula::PerMillionTokens { .. } => vec![
            ParameterInput::number("input_tokens", 0, true, defaults),
            ParameterInput::number("output_tokens", 0, true, defaults),
        ],
        Formula::PerComputeSecond { .. } => {
            vec![ParameterInput::number(
                "compute_seconds",
                0,
                false,
                defaults,
            )]
        }
        Formula::PerTokenKind {
            per_image,
            output_tokens,
            ..
        } => {
            // The tables' keys are "quality size".
            let (mut qualities, mut sizes) = (vec!["auto".to_string()], vec!["auto".to_string()]);
            for key in per_image.keys().chain(output_tokens.keys()) {
                if let Some((quality, size)) = key.split_once(' ') {
                    if !qualities.iter().any(|q| q == quality) {
                        qualities.push(quality.to_string());
                    }
                    if !sizes.iter().any(|s| s == size) {
                        sizes.push(size.to_string());
                    }
                }
            }
            vec![
                ParameterInput::select("quality", qualities, defaults),
                ParameterInput::select("size", sizes, defaults),
                ParameterInput::number("n", 1, true, defaults),
            ]
        }
        Formula::PerCredit { .. } => {
            vec![ParameterInput::number("credits", 0, false, defaults)]
        }
        Formula::PerRequest { .. } | Formula::PerVideo { .. } => Vec::new(),
        Formula::PerVideoByOption { param, prices } => {
            vec![ParameterInput::select(param, keys(prices), defaults)]
        }
    }
}
