//! Tag autocomplete: values already used, by prefix (case-insensitive),
//! most used first; and the warning that a name is new to the ledger.

use super::warning::{closest, Warning};
use crate::error::{Error, Result};
use crate::ledger::tags::fold;
use crate::ledger::TagField;
use crate::store::{Store, TagCount};

/// The most suggestions one call returns.
pub const MAX_SUGGESTIONS: i64 = 1_000;

pub async fn suggest<S: Store>(
    store: &S,
    field: TagField,
    prefix: &str,
    limit: i64,
) -> Result<Vec<TagCount>> {
    if !(0..=MAX_SUGGESTIONS).contains(&limit) {
        return Err(Error::input(format!(
            "limit: {limit} is not between 0 and {MAX_SUGGESTIONS}"
        )));
    }
    Ok(store.tag_values(field, prefix, limit).await?)
}

/// How many existing names a new name's warning offers.
const CLOSEST_OFFERED: usize = 3;

/// A warning for each of `new` (names the ledger does not have yet, which
/// the write creates): a misspelt name would start a project of its own.
/// Each offers the closest names the ledger has, by edit distance on folded
/// names. `input` names the field the names came from.
pub async fn new_name_warnings<S: Store>(
    store: &S,
    field: TagField,
    input: &str,
    new: &[String],
) -> Result<Vec<Warning>> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let new_folded: Vec<String> = new.iter().map(|n| fold(n)).collect();
    // Most used first: of two names as close, the more used is offered first.
    let existing: Vec<(String, String)> = store
        .tag_values(field, "", MAX_SUGGESTIONS)
        .await?
        .into_iter()
        .map(|t| (fold(&t.value), t.value))
        .filter(|(folded, _)| !new_folded.contains(folded))
        .collect();
    let warnings = new
        .iter()
        .zip(&new_folded)
        .map(|(name, folded)| {
            let near = closest(
                folded,
                existing.iter().map(|(f, _)| f.as_str()),
                usize::MAX,
                CLOSEST_OFFERED,
            );
            let offered: Vec<String> = near
                .iter()
                .filter_map(|f| existing.iter().find(|(e, _)| e == f))
                .map(|(_, spelled)| format!("'{spelled}'"))
                .collect();
            let closest = if offered.is_empty() {
                String::new()
            } else {
                format!(" (closest: {})", offered.join(", "))
            };
            Warning {
                field: input.to_string(),
                message: format!("new {} '{name}'{closest}", field.column()),
            }
        })
        .collect();
    Ok(warnings)
}
