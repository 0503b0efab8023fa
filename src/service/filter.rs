//! The one filter every surface takes (tags, kind, model and a time range),
//! as text from a command line or a query string, parsed once here into a
//! store `Filter`. Errors name the field by its bare name (`since: ...`);
//! the command line spells it as its flag (`--since: ...`).

use crate::error::{Error, Result};
use crate::ledger::Kind;
use crate::store::Filter;
use crate::timestamp::{DayRange, Timestamp};

/// A filter as typed: every field optional text. The API documents its
/// query parameters from this type (the fields' comments are theirs).
#[derive(Clone, Debug, Default, PartialEq, Eq, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterText {
    /// Only this client (names match by the folding rule)
    pub client: Option<String>,
    /// Only this project
    pub project: Option<String>,
    /// Only this deliverable
    pub deliverable: Option<String>,
    /// generation, external or pool
    pub kind: Option<String>,
    /// Only this model / endpoint id (case-insensitive)
    pub model: Option<String>,
    /// From this time on: RFC 3339, or a date (00:00 UTC), inclusive
    pub since: Option<String>,
    /// RFC 3339 (exclusive), or a date (that whole UTC day included)
    pub until: Option<String>,
    /// A UTC month such as 2026-03 (instead of since/until)
    pub month: Option<String>,
    /// A UTC day such as 2026-03-31 (instead of since/until)
    pub on: Option<String>,
}

impl FilterText {
    pub fn to_filter(&self) -> Result<Filter> {
        let (since, until) = self.time_range()?;
        Ok(Filter {
            client: self.client.clone(),
            project: self.project.clone(),
            deliverable: self.deliverable.clone(),
            kind: self.kind.as_deref().map(parse_kind).transpose()?,
            model: self.model.clone(),
            since,
            until,
            request_id: None,
            include_void: false,
        })
    }

    /// The range `since`/`until`, `month` or `on` name (one way at a time),
    /// as `[since, until)`. `until` a date includes that whole UTC day.
    fn time_range(&self) -> Result<(Option<Timestamp>, Option<Timestamp>)> {
        let calendar = match (self.month.as_deref(), self.on.as_deref()) {
            (Some(_), Some(_)) => return Err(Error::input("month: cannot be given with on")),
            (Some(month), None) => {
                Some(DayRange::month(month).map_err(|e| Error::input(format!("month: {e}")))?)
            }
            (None, Some(day)) => Some(DayRange::day(day).map_err(|_| {
                Error::input(format!("on: '{day}' is not a date such as 2026-03-31"))
            })?),
            (None, None) => None,
        };
        if let Some(range) = calendar {
            if self.since.is_some() || self.until.is_some() {
                let field = if self.month.is_some() { "month" } else { "on" };
                return Err(Error::input(format!(
                    "{field}: cannot be combined with since or until"
                )));
            }
            return Ok((Some(range.start), Some(range.end)));
        }
        let since = self
            .since
            .as_deref()
            .map(|t| {
                Timestamp::parse_time_or_date(t).map_err(|e| Error::input(format!("since: {e}")))
            })
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .map(|t| Timestamp::parse_until(t).map_err(|e| Error::input(format!("until: {e}"))))
            .transpose()?;
        Ok((since, until))
    }
}

/// `generation`, `external` or `pool`.
pub fn parse_kind(text: &str) -> Result<Kind> {
    text.parse()
        .map_err(|e: String| Error::input(format!("kind: {e}")))
}

/// `key=value`; the value is read as JSON when it is a number, boolean or
/// null, otherwise kept as text.
pub fn parse_param(text: &str) -> Result<(String, serde_json::Value)> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| Error::input(format!("param: '{text}' is not key=value")))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(Error::input(format!("param: '{text}' has an empty key")));
    }
    let parsed = match serde_json::from_str::<serde_json::Value>(value.trim()) {
        Ok(
            v @ (serde_json::Value::Number(_)
            | serde_json::Value::Bool(_)
            | serde_json::Value::Null),
        ) => v,
        _ => serde_json::Value::String(value.to_string()),
    };
    Ok((key.to_string(), parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut FilterText)) -> FilterText {
        let mut t = FilterText::default();
        f(&mut t);
        t
    }

    #[test]
    fn until_a_date_includes_it_and_month_and_on_are_calendar_ranges() {
        let day = |d: &str| Some(Timestamp::parse_time_or_date(d).unwrap());
        let march = text(|t| t.month = Some("2026-03".into()))
            .to_filter()
            .unwrap();
        assert_eq!(
            (march.since, march.until),
            (day("2026-03-01"), day("2026-04-01"))
        );
        let on = text(|t| t.on = Some("2026-03-31".into()))
            .to_filter()
            .unwrap();
        assert_eq!((on.since, on.until), (day("2026-03-31"), day("2026-04-01")));
        let until = text(|t| t.until = Some("2026-03-31".into()))
            .to_filter()
            .unwrap();
        assert_eq!(until.until, day("2026-04-01"));
        let instant = text(|t| t.until = Some("2026-03-31T00:00:00Z".into()))
            .to_filter()
            .unwrap();
        assert_eq!(instant.until, day("2026-03-31"));
    }

    #[test]
    fn errors_name_the_field() {
        let both = text(|t| {
            t.month = Some("2026-03".into());
            t.since = Some("2026-01-01".into());
        });
        assert!(both
            .to_filter()
            .unwrap_err()
            .to_string()
            .starts_with("month: "));
        let bad = text(|t| t.on = Some("31/03/2026".into()));
        assert!(bad.to_filter().unwrap_err().to_string().starts_with("on: "));
        let kind = text(|t| t.kind = Some("gen".into()));
        assert!(kind
            .to_filter()
            .unwrap_err()
            .to_string()
            .starts_with("kind: "));
    }
}
