//! Request extractors whose every refusal is an `ApiError`: JSON bodies
//! (size-limited, unknown fields refused, the faulty field named) and query
//! strings (each parameter once, unknown ones refused).

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// The largest JSON body the API reads.
pub const JSON_LIMIT: usize = 1024 * 1024;

/// A JSON body of type `T`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::invalid(
                "content-type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(JSON_LIMIT)
            } else {
                ApiError::invalid("body", format!("cannot read the body: {r}"))
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// `T` from JSON text; an error names the field at fault and what it needed.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // Text that is not JSON at all is the body's fault, not that of the
        // field it broke off in.
        if inner.is_syntax() || inner.is_eof() {
            return not_json(&inner);
        }
        // An unknown field names itself in the message, not in the path.
        let field = match path.as_str() {
            "." => unknown_field(&inner.to_string()).unwrap_or_else(|| "body".into()),
            _ => path,
        };
        ApiError::invalid(&field, format!("{field}: {}", without_position(&inner)))
    })?;
    deserializer.end().map_err(|e| not_json(&e))?;
    Ok(value)
}

fn not_json(e: &serde_json::Error) -> ApiError {
    ApiError::invalid("body", format!("the body is not valid JSON: {}", e))
}

/// serde's message without its " at line 1 column 12": the field is named.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_string()
}

fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// The query string as name/value pairs, taken one by one by a handler;
/// `finish` refuses any left over, so a misspelt filter is an error rather
/// than a silently wider total.
pub struct QueryArgs {
    pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for QueryArgs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| ApiError::invalid("query", format!("query: {e}")))?;
        Ok(QueryArgs { pairs })
    }
}

/// For requests that take no query parameters: any one given is refused,
/// so a misspelt filter is never silently ignored.
pub struct NoQuery;

impl<S: Send + Sync> FromRequestParts<S> for NoQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        QueryArgs::from_request_parts(parts, state)
            .await?
            .finish()?;
        Ok(NoQuery)
    }
}

impl QueryArgs {
    /// The value of `name`, refusing it given twice.
    pub fn take(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        let mut found: Vec<String> = Vec::new();
        self.pairs.retain(|(k, v)| {
            let hit = k == name;
            if hit {
                found.push(v.clone());
            }
            !hit
        });
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop()),
            _ => Err(ApiError::invalid(
                name,
                format!("{name}: given {} times; give it once", found.len()),
            )),
        }
    }

    /// A yes/no parameter: `true`/`false` (or `1`/`0`); absent is false.
    pub fn flag(&mut self, name: &str) -> Result<bool, ApiError> {
        match self.take(name)?.as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") | Some("") => Ok(true),
            Some(other) => Err(ApiError::invalid(
                name,
                format!("{name}: '{other}' is not true or false"),
            )),
        }
    }

    /// A whole number within `range`, if given.
    pub fn optional_number(
        &mut self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, ApiError> {
        if !self.pairs.iter().any(|(k, _)| k == name) {
            return Ok(None);
        }
        self.number(name, 0, range).map(Some)
    }

    /// A whole number within `range`, or `default`.
    pub fn number(
        &mut self,
        name: &str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ApiError> {
        let Some(text) = self.take(name)? else {
            return Ok(default);
        };
        match text.trim().parse::<i64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(
                name,
                format!(
                    "{name}: '{text}' is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// Every `PREFIX.KEY=VALUE` pair, as (KEY, VALUE).
    pub fn take_prefixed(&mut self, prefix: &str) -> Result<Vec<(String, String)>, ApiError> {
        let mut taken: Vec<(String, String)> = Vec::new();
        self.pairs.retain(|(k, v)| match k.strip_prefix(prefix) {
            Some(key) => {
                taken.push((key.to_string(), v.clone()));
                false
            }
            None => true,
        });
        // A key given twice is refused, as the command line refuses it:
        // which of the two would price the run is not for us to guess.
        for (i, (key, _)) in taken.iter().enumerate() {
            if taken[..i].iter().any(|(earlier, _)| earlier == key) {
                let name = format!("{prefix}{key}");
                return Err(ApiError::invalid(
                    &name,
                    format!("{name}: given more than once"),
                ));
            }
        }
        Ok(taken)
    }

    /// Refuses any parameter no one took.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.pairs.first() {
            None => Ok(()),
            Some((name, _)) => Err(ApiError::invalid(
                name,
                format!("{name}: not a parameter of this request"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        cost: Amount,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Amount {
        amount: String,
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"cost":{"amount":0.5}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("cost.amount"));
        let e = parse_json::<Body>(br#"{"cost":{"amount":"1"},"projct":"x"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("projct"));
        let e = parse_json::<Body>(br#"{"cost":{"amount":"1"}} trailing"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("body"));
        assert!(
            e.message.starts_with("the body is not valid JSON: "),
            "{}",
            e.message
        );
        // Broken JSON is named as such, not blamed on the field it broke in.
        for broken in [
            &br#"{"cost":{"amount":"1"#[..],
            br#"{"cost":{"amount":"1"x}}"#,
            b"{cost:1}",
        ] {
            let e = parse_json::<Body>(broken).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("body"), "{}", e.message);
            assert!(
                e.message.starts_with("the body is not valid JSON: "),
                "{}",
                e.message
            );
        }
        let e = parse_json::<Body>(br#"{"cost":{"amount":0.5}}"#).unwrap_err();
        assert!(!e.message.contains(" at line "), "{}", e.message);
        assert!(parse_json::<Body>(br#"{"cost":{"amount":"1"}}"#).is_ok());
    }

    #[test]
    fn query_parameters_are_taken_once_and_leftovers_refused() {
        let mut q = QueryArgs {
            pairs: vec![
                ("limit".into(), "14".into()),
                ("param.num_images".into(), "2".into()),
                ("projct".into(), "x".into()),
            ],
        };
        assert_eq!(q.number("limit", 50, 0..=1000).unwrap(), 14);
        assert_eq!(q.take_prefixed("param.").unwrap().len(), 1);
        assert_eq!(q.finish().unwrap_err().field.as_deref(), Some("projct"));
        let mut twice = QueryArgs {
            pairs: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
        };
        assert!(twice.take("a").is_err());
        let mut twice = QueryArgs {
            pairs: vec![
                ("param.num_images".into(), "1".into()),
                ("param.num_images".into(), "4".into()),
            ],
        };
        let err = twice.take_prefixed("param.").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("param.num_images"));
    }
}
