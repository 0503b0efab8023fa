//! Warnings: something done as asked that the person may not have meant (a
//! misspelt parameter, a project not in the ledger yet), said beside the
//! answer rather than refused. Also the edit distance that finds what was
//! probably meant.

use serde::Serialize;
use utoipa::ToSchema;

/// One warning: the input it is about and what to check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Warning {
    /// The input it is about, e.g. `num_imgs` or `project`.
    pub field: String,
    pub message: String,
}

/// The names among `known` within `max_edits` (Levenshtein, by characters)
/// of `given`, closest first (ties in `known`'s order), at most `limit`.
pub fn closest<'a>(
    given: &str,
    known: impl IntoIterator<Item = &'a str>,
    max_edits: usize,
    limit: usize,
) -> Vec<&'a str> {
    let mut near: Vec<(usize, usize, &str)> = known
        .into_iter()
        .enumerate()
        .map(|(i, name)| (strsim::levenshtein(given, name), i, name))
        .filter(|(edits, _, _)| *edits <= max_edits)
        .collect();
    near.sort();
    near.into_iter()
        .take(limit)
        .map(|(_, _, name)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names_within_the_edits_closest_first() {
        let known = ["num_images", "image_size", "width", "height"];
        assert_eq!(closest("num_imgs", known, 2, 3), ["num_images"]);
        assert_eq!(closest("prompt", known, 2, 3), Vec::<&str>::new());
        assert_eq!(closest("widht", known, 2, 3), ["width"]);
        assert_eq!(closest("ab", ["abc", "ab", "x"], 2, 3), ["ab", "abc", "x"]);
        assert_eq!(closest("ab", ["abc", "ab", "x"], 2, 1), ["ab"]);
    }
}
