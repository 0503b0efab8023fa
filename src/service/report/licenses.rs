//! The licenses of the models used in the period: as recorded with the
//! entries, else as the catalog has them; non-commercial and unknown
//! licenses flagged.

use super::scan::Text;
use crate::pricing::{Catalog, LicenseStatus};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A model used in the period and its license.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseUse {
    pub model: String,
    pub status: LicenseStatus,
    pub name: Option<String>,
    /// Where the license is from: recorded with the entries when they were
    /// logged, or (for entries logged without one) the catalog as it stands.
    pub origin: LicenseOrigin,
    /// Generations of the model under this license.
    pub entries: i64,
}

impl LicenseUse {
    /// Non-commercial and unknown licenses are flagged.
    pub fn flagged(&self) -> bool {
        self.status != LicenseStatus::Commercial
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LicenseOrigin {
    Recorded,
    Catalog,
    /// Neither the entries nor the catalog know it.
    None,
}

/// `commercial (Apache-2.0)`, as an entry records it, read back.
fn parse_license(label: &str) -> (LicenseStatus, Option<String>) {
    let (status, name) = match label.split_once(" (") {
        Some((status, rest)) => (status, Some(rest.strip_suffix(')').unwrap_or(rest))),
        None => (label, None),
    };
    let status = match status.trim() {
        "commercial" => LicenseStatus::Commercial,
        "non-commercial" => LicenseStatus::NonCommercial,
        _ => LicenseStatus::Unknown,
    };
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    (status, name)
}

pub(super) fn licenses(
    catalog: &Catalog,
    used: &BTreeMap<(Arc<str>, Text), i64>,
) -> Vec<LicenseUse> {
    // (model, origin, status, name) -> (status, generations)
    type Key = (String, LicenseOrigin, &'static str, Option<String>);
    let mut merged: BTreeMap<Key, (LicenseStatus, i64)> = BTreeMap::new();
    for ((model, recorded), count) in used {
        let (status, name, origin) = match recorded {
            Some(label) => {
                let (status, name) = parse_license(label);
                (status, name, LicenseOrigin::Recorded)
            }
            None => match catalog.get(model) {
                Some(m) => (
                    m.license.status,
                    Some(m.license.name.clone()),
                    LicenseOrigin::Catalog,
                ),
                None => (LicenseStatus::Unknown, None, LicenseOrigin::None),
            },
        };
        let slot = merged
            .entry((model.to_string(), origin, status.as_str(), name))
            .or_insert((status, 0));
        slot.1 += count;
    }
    let mut out: Vec<LicenseUse> = merged
        .into_iter()
        .map(|((model, origin, _, name), (status, entries))| LicenseUse {
            model,
            status,
            name,
            origin,
            entries,
        })
        .collect();
    // Flagged first, then by model.
    out.sort_by(|a, b| {
        b.flagged()
            .cmp(&a.flagged())
            .then_with(|| a.model.cmp(&b.model))
            .then_with(|| a.origin.cmp(&b.origin))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licenses_read_back_as_recorded() {
        assert_eq!(
            parse_license("commercial (Apache-2.0)"),
            (LicenseStatus::Commercial, Some("Apache-2.0".into()))
        );
        assert_eq!(
            parse_license("non-commercial (FLUX.1 [dev] Non-Commercial License)"),
            (
                LicenseStatus::NonCommercial,
                Some("FLUX.1 [dev] Non-Commercial License".into())
            )
        );
        assert_eq!(parse_license("odd"), (LicenseStatus::Unknown, None));
    }
}
