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

/// A name the ledger does not have yet, with the closest names it has.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NewName {
    pub name: String,
    /// Up to three existing names, closest first, as the ledger spells them.
    pub closest: Vec<String>,
}

/// Of `names`, those the ledger does not have yet (by the folding rule),
/// each with the closest names it has: what the panel asks about before a
/// pool creates a project.
pub async fn new_names<S: Store>(
    store: &S,
    field: TagField,
    names: &[String],
) -> Result<Vec<NewName>> {
    let mut new: Vec<String> = Vec::new();
    for name in names {
        let folded = fold(name);
        if new.iter().any(|n| fold(n) == folded) {
            continue;
        }
        if store.tag_spelling(field, name).await?.is_none() {
            new.push(name.clone());
        }
    }
    closest_names(store, field, &new).await
}

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
    let named = closest_names(store, field, new).await?;
    Ok(named
        .into_iter()
        .map(|n| {
            let offered: Vec<String> = n.closest.iter().map(|c| format!("'{c}'")).collect();
            let closest = if offered.is_empty() {
                String::new()
            } else {
                format!(" (closest: {})", offered.join(", "))
            };
            Warning {
                field: input.to_string(),
                message: format!("new {} '{}'{closest}", field.column(), n.name),
            }
        })
        .collect())
}

/// Each of `new` with the closest existing names, by edit distance on
/// folded names.
async fn closest_names<S: Store>(
    store: &S,
    field: TagField,
    new: &[String],
) -> Result<Vec<NewName>> {
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
    Ok(new
        .iter()
        .zip(&new_folded)
        .map(|(name, folded)| {
            let near = closest(
                folded,
                existing.iter().map(|(f, _)| f.as_str()),
                usize::MAX,
                CLOSEST_OFFERED,
            );
            NewName {
                name: name.clone(),
                closest: near
                    .iter()
                    .filter_map(|f| existing.iter().find(|(e, _)| e == f))
                    .map(|(_, spelled)| spelled.clone())
                    .collect(),
            }
        })
        .collect())
}
