//! Filters shared by every listing and total: tags, kind, model and a time
//! range, turned into one SQL `WHERE` clause for both backends.

use super::value::Value;
use crate::ledger::tags::{fold, normalize};
use crate::ledger::{Kind, TagField};
use crate::timestamp::{Timestamp, MICROS_PER_DAY};

/// Which entries a listing or total covers. Tags match by their folded keys
/// (`ledger::tags::fold`), models case-insensitively; `since` is inclusive
/// and `until` exclusive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
    pub kind: Option<Kind>,
    pub model: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Only entries carrying this provider request id, from any source
    /// (matched exactly, as logged).
    pub request_id: Option<String>,
    /// Include void entries (listings only; totals never count them).
    pub include_void: bool,
}

/// One way a filter narrows the entries, besides time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Narrowed {
    Tag(TagField, String),
    Kind(Kind),
    Model(String),
    RequestId(String),
}

/// At most `limit` entries, after the cursor of the last page (newest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub after: Option<Cursor>,
}

/// Where a page of a listing ended: the position of its last entry in the
/// listing's order (time, then log order). Keyset paging: the next page
/// starts there however many entries were logged meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub occurred_at: i64,
    pub position: i64,
}

impl Cursor {
    /// The cursor after this entry.
    pub fn after(entry: &crate::ledger::Entry) -> Cursor {
        Cursor {
            occurred_at: entry.occurred_at.0,
            position: entry.position,
        }
    }

    /// Text for clients to hand back: `OCCURRED_AT-POSITION` in decimal.
    pub fn encode(&self) -> String {
        format!("{}-{}", self.occurred_at, self.position)
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let (at, position) = text.trim().rsplit_once('-')?;
        let cursor = Cursor {
            occurred_at: at.parse().ok()?,
            position: position.parse().ok()?,
        };
        (cursor.position > 0).then_some(cursor)
    }
}

impl Filter {
    pub fn tag(&self, field: TagField) -> Option<&str> {
        match field {
            TagField::Client => self.client.as_deref(),
            TagField::Project => self.project.as_deref(),
            TagField::Deliverable => self.deliverable.as_deref(),
        }
    }

    /// The UTC days `[since, until)` this filter covers when its range is
    /// made of whole days (or open): what the cost rollups can answer.
    /// `None` when a bound falls inside a day.
    pub(crate) fn day_range(&self) -> Option<(Option<i64>, Option<i64>)> {
        let day = |at: Option<Timestamp>| match at {
            None => Some(None),
            Some(at) => (at.0.rem_euclid(MICROS_PER_DAY) == 0).then_some(Some(at.day())),
        };
        Some((day(self.since)?, day(self.until)?))
    }

    /// What this filter narrows the entries by besides time: each tag (as
    /// matched, normalised), the kind and the model.
    pub(crate) fn narrowed_by(&self) -> Vec<Narrowed> {
        let mut by: Vec<Narrowed> = TagField::ALL
            .into_iter()
            .filter_map(|field| Some(Narrowed::Tag(field, self.tag(field).and_then(normalize)?)))
            .collect();
        by.extend(self.kind.map(Narrowed::Kind));
        by.extend(self.model.clone().map(Narrowed::Model));
        by.extend(self.request_id.clone().map(Narrowed::RequestId));
        by
    }

    /// A `WHERE ...` clause; its parameters are pushed onto `params`, numbered
    /// after any already there.
    pub(crate) fn where_clause(&self, params: &mut Vec<Value>, include_void: bool) -> String {
        let mut terms: Vec<String> = Vec::new();
        if !include_void {
            terms.push("is_void = 0".into());
        }
        let mut push = |sql: &str, value: Value, params: &mut Vec<Value>| {
            params.push(value);
            terms.push(sql.replace('?', &format!("${}", params.len())));
        };
        for field in TagField::ALL {
            if let Some(value) = self.tag(field).and_then(normalize) {
                push(
                    &format!("{}_key = ?", field.column()),
                    fold(&value).into(),
                    params,
                );
            }
        }
        if let Some(kind) = self.kind {
            push("kind = ?", kind.as_str().into(), params);
        }
        if let Some(model) = &self.model {
            push("lower(model) = lower(?)", model.trim().into(), params);
        }
        if let Some(request_id) = &self.request_id {
            // Found through the request id's key (`request_key.rs`), then
            // compared exactly.
            push(
                "request_key IS NOT NULL AND request_key = ?",
                Value::Int(super::request_key::request_key(request_id)),
                params,
            );
            push("request_id = ?", request_id.as_str().into(), params);
        }
        if let Some(since) = self.since {
            push("occurred_at >= ?", since.0.into(), params);
        }
        if let Some(until) = self.until {
            push("occurred_at < ?", until.0.into(), params);
        }
        if terms.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", terms.join(" AND "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_numbered_terms() {
        let filter = Filter {
            client: Some(" Acme  Corp ".into()),
            since: Some(Timestamp(5)),
            ..Default::default()
        };
        let mut params = vec![Value::Int(1)];
        let sql = filter.where_clause(&mut params, false);
        assert_eq!(
            sql,
            "WHERE is_void = 0 AND client_key = $2 AND occurred_at >= $3"
        );
        assert_eq!(params[1], Value::Text("acme corp".into()));
        assert_eq!(Filter::default().where_clause(&mut Vec::new(), true), "");
    }

    #[test]
    fn day_range_only_of_whole_days() {
        let day = |d: i64| Some(Timestamp(d * MICROS_PER_DAY));
        assert_eq!(Filter::default().day_range(), Some((None, None)));
        let range = Filter {
            since: day(3),
            until: day(5),
            project: Some("Spot".into()),
            ..Default::default()
        };
        assert_eq!(range.day_range(), Some((Some(3), Some(5))));
        let before_epoch = Filter {
            since: day(-2),
            ..Default::default()
        };
        assert_eq!(before_epoch.day_range(), Some((Some(-2), None)));
        let mid_day = Filter {
            until: Some(Timestamp(5 * MICROS_PER_DAY + 1)),
            ..Default::default()
        };
        assert_eq!(mid_day.day_range(), None);
    }

    #[test]
    fn narrowed_by_names_each_filter_but_blank_tags() {
        assert_eq!(Filter::default().narrowed_by(), vec![]);
        let blank_tag = Filter {
            client: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(blank_tag.narrowed_by(), vec![]);
        let several = Filter {
            project: Some(" Spot  30s ".into()),
            kind: Some(Kind::Pool),
            model: Some("m".into()),
            ..Default::default()
        };
        assert_eq!(
            several.narrowed_by(),
            vec![
                Narrowed::Tag(TagField::Project, "Spot 30s".into()),
                Narrowed::Kind(Kind::Pool),
                Narrowed::Model("m".into()),
            ]
        );
    }
}
