//! Reading the generation parameters a formula needs (fal's input names):
//! `num_images`, `image_size` (a preset or `{width,height}`) or `width` and
//! `height`, `duration` (`5`, `"5"`, `"8s"`), `resolution`, `generate_audio`,
//! `characters` or `text`, token counts.

use super::PricingError;
use crate::money::parse_amount;
use serde_json::{Map, Value};

/// fal's `image_size` presets.
pub const IMAGE_SIZE_PRESETS: &[(&str, u64, u64)] = &[
    ("square_hd", 1024, 1024),
    ("square", 512, 512),
    ("portrait_4_3", 768, 1024),
    ("portrait_16_9", 576, 1024),
    ("landscape_4_3", 1024, 768),
    ("landscape_16_9", 1024, 576),
];

/// The parameters of one generation, with the model's documented defaults
/// underneath the ones given.
pub struct Params<'a> {
    given: &'a Map<String, Value>,
    defaults: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    pub fn new(given: &'a Map<String, Value>, defaults: &'a Map<String, Value>) -> Self {
        Params { given, defaults }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.given
            .get(name)
            .filter(|v| !v.is_null())
            .or_else(|| self.defaults.get(name))
    }

    fn require(&self, name: &str) -> Result<&'a Value, PricingError> {
        self.get(name).ok_or_else(|| PricingError::MissingParam {
            param: name.to_string(),
        })
    }

    fn bad(name: &str, value: &Value, expected: &str) -> PricingError {
        PricingError::BadParam {
            param: name.to_string(),
            value: value_text(value),
            expected: expected.to_string(),
        }
    }

    /// A whole number ≥ 1 (default 1 when neither given nor defaulted).
    pub fn count(&self, name: &str) -> Result<u64, PricingError> {
        let Some(value) = self.get(name) else {
            return Ok(1);
        };
        let n = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        n.filter(|n| *n >= 1)
            .ok_or_else(|| Self::bad(name, value, "a whole number of at least 1"))
    }

    /// A non-negative decimal quantity in micro-units (`5` → 5_000_000);
    /// a trailing `s` is allowed for seconds.
    pub fn quantity_micros(&self, name: &str) -> Result<i64, PricingError> {
        let value = self.require(name)?;
        let text = match value {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.trim().trim_end_matches('s').to_string(),
            _ => String::new(),
        };
        parse_amount(&text)
            .ok()
            .filter(|v| *v >= 0)
            .ok_or_else(|| Self::bad(name, value, "a non-negative number"))
    }

    /// A text option, e.g. `resolution=1080p`.
    pub fn option(&self, name: &str) -> Result<String, PricingError> {
        let value = self.require(name)?;
        match value {
            Value::String(s) => Ok(s.trim().to_string()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(Self::bad(name, value, "a text value")),
        }
    }

    /// A boolean (`true`/`false`); `default` when absent.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, PricingError> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
            Some(other) => Err(Self::bad(name, other, "true or false")),
        }
    }

    /// Output size in pixels: `width`+`height`, else `image_size` as a fal
    /// preset, `{"width":..,"height":..}` or `WxH`.
    pub fn image_pixels(&self) -> Result<(u64, u64), PricingError> {
        if let (Some(w), Some(h)) = (self.given.get("width"), self.given.get("height")) {
            return Ok((dimension("width", w)?, dimension("height", h)?));
        }
        let value = self.require("image_size")?;
        let expected = "a preset (square_hd, square, portrait_4_3, portrait_16_9, landscape_4_3, landscape_16_9), {\"width\":W,\"height\":H} or WxH";
        match value {
            Value::String(s) => {
                let s = s.trim();
                if let Some((_, w, h)) = IMAGE_SIZE_PRESETS.iter().find(|(name, _, _)| *name == s) {
                    return Ok((*w, *h));
                }
                if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(s) {
                    return object_size(&o).ok_or_else(|| Self::bad("image_size", value, expected));
                }
                let (w, h) = s
                    .split_once(['x', 'X', '×'])
                    .ok_or_else(|| Self::bad("image_size", value, expected))?;
                match (w.trim().parse::<u64>(), h.trim().parse::<u64>()) {
                    (Ok(w), Ok(h)) if w > 0 && h > 0 => Ok((w, h)),
                    _ => Err(Self::bad("image_size", value, expected)),
                }
            }
            Value::Object(o) => {
                object_size(o).ok_or_else(|| Self::bad("image_size", value, expected))
            }
            _ => Err(Self::bad("image_size", value, expected)),
        }
    }

    /// A text value, if given (or defaulted) as text.
    pub fn text(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(Value::as_str)
    }

    /// Characters of text: `characters`, else the length of `text`.
    pub fn characters(&self) -> Result<u64, PricingError> {
        if let Some(value) = self.get("characters") {
            return match value {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| Self::bad("characters", value, "a whole number"));
        }
        match self.get("text") {
            Some(Value::String(s)) => Ok(s.chars().count() as u64),
            Some(other) => Err(Self::bad("text", other, "text")),
            None => Err(PricingError::MissingParam {
                param: "characters (or text)".into(),
            }),
        }
    }

    /// A whole number ≥ 0, required.
    pub fn whole(&self, name: &str) -> Result<u64, PricingError> {
        let value = self.require(name)?;
        match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| Self::bad(name, value, "a whole number"))
    }
}

fn dimension(name: &str, value: &Value) -> Result<u64, PricingError> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|v| *v > 0)
    .ok_or_else(|| Params::bad(name, value, "a whole number of pixels"))
}

fn object_size(o: &Map<String, Value>) -> Option<(u64, u64)> {
    let w = o.get("width")?.as_u64()?;
    let h = o.get("height")?.as_u64()?;
    (w > 0 && h > 0).then_some((w, h))
}

pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
