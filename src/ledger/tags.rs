//! Client, project and deliverable tags: free text, trimmed and
//! whitespace-collapsed, so the same name is always spelled the same way.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The three tag dimensions an entry can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TagField {
    Client,
    Project,
    Deliverable,
}

impl TagField {
    pub const ALL: [TagField; 3] = [TagField::Client, TagField::Project, TagField::Deliverable];

    /// The view column holding this tag.
    pub fn column(self) -> &'static str {
        match self {
            TagField::Client => "client",
            TagField::Project => "project",
            TagField::Deliverable => "deliverable",
        }
    }
}

impl fmt::Display for TagField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.column())
    }
}

impl FromStr for TagField {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "client" => Ok(TagField::Client),
            "project" => Ok(TagField::Project),
            "deliverable" => Ok(TagField::Deliverable),
            other => Err(format!(
                "unknown tag '{other}': expected client, project or deliverable"
            )),
        }
    }
}

/// The tags of one entry; `None` means untagged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tags {
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
}

impl Tags {
    pub fn get(&self, field: TagField) -> Option<&str> {
        match field {
            TagField::Client => self.client.as_deref(),
            TagField::Project => self.project.as_deref(),
            TagField::Deliverable => self.deliverable.as_deref(),
        }
    }

    pub fn slot(&mut self, field: TagField) -> &mut Option<String> {
        match field {
            TagField::Client => &mut self.client,
            TagField::Project => &mut self.project,
            TagField::Deliverable => &mut self.deliverable,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.client.is_none() && self.project.is_none() && self.deliverable.is_none()
    }
}

/// Trims and collapses runs of white space to one space; empty means no tag.
/// A tag as the ledger keeps it: Unicode NFC (a decomposed "Ström" is the
/// same client as a composed one), trimmed and whitespace-collapsed; `None`
/// when nothing is left.
/// The form two names that differ only by case share (`Acme` and `ACME`).
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// Name of the same function in SQLite, for SQL that fills in folded names.
pub const FOLD_SQL_FUNCTION: &str = "gencost_fold";

pub fn normalize(text: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let composed: String = text.nfc().collect();
    let collapsed = composed.split_whitespace().collect::<Vec<_>>().join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_whitespace() {
        assert_eq!(normalize("  Acme \t Corp \n"), Some("Acme Corp".into()));
        assert_eq!(normalize("   "), None);
        assert_eq!(normalize("Stro\u{308}m"), Some("Str\u{f6}m".into()));
        assert_eq!(normalize("Spot 30s"), Some("Spot 30s".into()));
    }
}
