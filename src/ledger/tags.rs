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

    /// 0, 1 or 2: for tables kept per field.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The view column holding this tag.
    pub fn column(self) -> &'static str {
        match self {
            TagField::Client => "client",
            TagField::Project => "project",
            TagField::Deliverable => "deliverable",
        }
    }

    /// The tag held in the view column `column`, if it holds one.
    pub fn parse(column: &str) -> Option<TagField> {
        TagField::ALL.into_iter().find(|f| f.column() == column)
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

/// The key two spellings of one name share, the one rule every filter,
/// prefix suggestion, rollup and spelling merge matches names by, on every
/// backend: Unicode NFC, then Unicode default full case folding
/// (CaseFolding.txt, status C and F; not the Turkic mappings). So
/// `Örebro Film`, `ÖREBRO FILM` and its decomposed spelling are one name,
/// `Straße` is `STRASSE`, `ΣΟΦΙΑΣ` is `σοφιας`, and Turkish `ı` stays apart
/// from `i`.
pub fn fold(name: &str) -> String {
    if name.is_ascii() {
        return name.to_ascii_lowercase();
    }
    use unicode_normalization::UnicodeNormalization;
    let composed: String = name.nfc().collect();
    caseless::default_case_fold_str(&composed)
}

/// Appends `name` in lower case, the old ASCII-and-`to_lowercase` rule, to
/// `out`. Import fingerprints are built with it: a file imported before the
/// folding rule changed must keep its fingerprints, or importing it again
/// would add its rows twice. Not a way to match names (that is `fold`).
pub fn lowercase_into(out: &mut String, name: &str) {
    if name.is_ascii() {
        out.extend(name.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.push_str(&name.to_lowercase());
    }
}

/// Name of the same function in SQLite, for SQL that fills in folded names.
pub const FOLD_SQL_FUNCTION: &str = "gencost_fold";

/// A tag as the ledger keeps it: Unicode NFC (a decomposed "Ström" is the
/// same client as a composed one), trimmed and whitespace-collapsed; `None`
/// when nothing is left.
pub fn normalize(text: &str) -> Option<String> {
    if is_normal_ascii(text) {
        return (!text.is_empty()).then(|| text.to_string());
    }
    use unicode_normalization::UnicodeNormalization;
    let composed: String = text.nfc().collect();
    let collapsed = composed.split_whitespace().collect::<Vec<_>>().join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}

/// `normalize`, keeping `text`'s own buffer when it is already in the form
/// (most names are).
pub fn normalized(text: String) -> Option<String> {
    if is_normal_ascii(&text) {
        return (!text.is_empty()).then_some(text);
    }
    normalize(&text)
}

/// ASCII (hence composed already), with single spaces between words and
/// none around them: the form `normalize` gives, reached without copying.
fn is_normal_ascii(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first() != Some(&b' ')
        && bytes.last() != Some(&b' ')
        && bytes
            .iter()
            .all(|&b| b.is_ascii() && (b == b' ' || !char::from(b).is_whitespace()))
        && !bytes.windows(2).any(|pair| pair == b"  ")
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

    #[test]
    fn the_fast_paths_give_what_the_general_ones_do() {
        for text in [
            "",
            " ",
            "Acme",
            "Acme Corp",
            " Acme",
            "Acme ",
            "Acme  Corp",
            "Acme\tCorp",
            "Acme\u{b}Corp",
            "Acme\u{a0}Corp",
            "Stro\u{308}m",
            "ΣΊΣΥΦΟΣ",
            "ACME Ltd.",
        ] {
            let general: Option<String> = {
                use unicode_normalization::UnicodeNormalization;
                let composed: String = text.nfc().collect();
                let collapsed = composed.split_whitespace().collect::<Vec<_>>().join(" ");
                (!collapsed.is_empty()).then_some(collapsed)
            };
            assert_eq!(normalize(text), general, "{text:?}");
            assert_eq!(normalized(text.to_string()), general, "{text:?}");
            let mut lowered = String::from("x");
            lowercase_into(&mut lowered, text);
            assert_eq!(lowered, format!("x{}", text.to_lowercase()), "{text:?}");
        }
    }

    #[test]
    fn names_fold_one_way() {
        let same = |a: &str, b: &str| {
            assert_eq!(fold(a), fold(b), "{a:?} and {b:?} should be one name");
        };
        same("Örebro Film", "örebro film");
        same("Örebro Film", "ÖREBRO FILM");
        same("Örebro Film", "O\u{308}rebro Film");
        same("Straße", "STRASSE");
        same("Straße", "strasse");
        same("ΣΟΦΙΑΣ", "σοφιας");
        same("ΣΟΦΙΑΣ", "σοφιασ");
        same("Ålesund", "ålesund");
        same("Acme", "ACME");
        // Default folding, not the Turkic one: dotless ı is not i.
        assert_ne!(fold("ı"), fold("i"));
        assert_ne!(fold("Straße"), fold("Strase"));
        assert_eq!(fold("50%_off"), "50%_off");
    }
}
