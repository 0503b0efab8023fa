//! Tag autocomplete: values already used, by prefix (case-insensitive),
//! most used first.

use crate::error::{Error, Result};
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
