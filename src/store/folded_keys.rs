//! Schema 11's second step: the folded keys of the tags already in a
//! ledger, computed here because the folding rule (`ledger::tags::fold`) is
//! Rust's on both backends, then the spellings and the tag rollups rebuilt by
//! those keys. Names that fold equal only under the new rule (`Straße` and
//! `STRASSE`) become one name from here on, under the spelling logged first;
//! `db migrate` lists them before it upgrades.

use super::error::StoreError;
use super::session::Session;
use super::value::{Column, RowsInsert, Value};
use crate::ledger::tags::fold;
use crate::ledger::TagField;
use std::collections::{BTreeMap, HashSet};

/// Names of one tag that become one: the spelling kept and the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameMerge {
    pub field: TagField,
    pub kept: String,
    pub merged: Vec<String>,
}

/// Every name of each tag in the ledger, in the order first logged (by
/// `order`, the column that numbers entries in log order at the ledger's
/// schema), with its new key.
async fn spellings(
    session: &mut Session,
    field: TagField,
    order: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let column = field.column();
    let rows = session
        .query(
            &format!(
                "SELECT {column} AS name FROM entries WHERE {column} IS NOT NULL \
                 GROUP BY {column} ORDER BY MIN({order}), {column}"
            ),
            &[],
        )
        .await?;
    rows.into_iter()
        .map(|mut row| {
            let name = row.text("name")?;
            Ok((fold(&name), name))
        })
        .collect()
}

/// Each new key's names, the one kept first: the spelling the ledger
/// already shows for it (`tag_spellings`), else the first logged. So a
/// name that merges with nothing keeps the spelling it had.
fn by_key<'a>(
    names: &'a [(String, String)],
    shown: &HashSet<String>,
) -> BTreeMap<&'a str, Vec<&'a str>> {
    let mut by_key: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, name) in names {
        by_key.entry(key).or_default().push(name);
    }
    for names in by_key.values_mut() {
        if let Some(at) = names.iter().position(|n| shown.contains(*n)) {
            let kept = names.remove(at);
            names.insert(0, kept);
        }
    }
    by_key
}

/// The names that fold equal, per tag.
fn merges_of(
    field: TagField,
    names: &[(String, String)],
    shown: &HashSet<String>,
) -> Vec<NameMerge> {
    by_key(names, shown)
        .into_values()
        .filter(|names| names.len() > 1)
        .map(|names| NameMerge {
            field,
            kept: names[0].to_string(),
            merged: names[1..].iter().map(|n| n.to_string()).collect(),
        })
        .collect()
}

/// The spellings the ledger shows for `field` now (none before schema 5,
/// which made `tag_spellings`).
async fn shown_spellings(
    session: &mut Session,
    field: TagField,
    version: i64,
) -> Result<HashSet<String>, StoreError> {
    if version < 5 {
        return Ok(HashSet::new());
    }
    let rows = session
        .query(
            "SELECT name FROM tag_spellings WHERE field = $1",
            &[field.column().into()],
        )
        .await?;
    rows.into_iter().map(|mut row| row.text("name")).collect()
}

/// What the folding rule would merge in this ledger, at schema `version`
/// (for `db migrate`).
pub async fn merges(session: &mut Session, version: i64) -> Result<Vec<NameMerge>, StoreError> {
    // Entries were numbered by `logged_seq` from schema 3 to 9 and by
    // `position` since; before that, by time is as close as it gets.
    let order = match version {
        10.. => "position",
        3..=9 => "logged_seq",
        _ => "occurred_at",
    };
    let mut all = Vec::new();
    for field in TagField::ALL {
        let names = spellings(session, field, order).await?;
        let shown = shown_spellings(session, field, version).await?;
        all.extend(merges_of(field, &names, &shown));
    }
    Ok(all)
}

/// Fills the keys, then rebuilds the spellings and the tag rollups from
/// them, inside the migration's transaction.
pub async fn fill(session: &mut Session) -> Result<(), StoreError> {
    // Each distinct name with its key, then one pass over the entries that
    // looks every tag up there: a ledger has thousands of names at most,
    // however many entries carry them.
    session
        .execute(
            "CREATE TEMPORARY TABLE folded_names (field TEXT NOT NULL, name TEXT NOT NULL, \
             folded TEXT NOT NULL, PRIMARY KEY (field, name))",
            &[],
        )
        .await?;
    let mut shown = Vec::new();
    for field in TagField::ALL {
        shown.push(shown_spellings(session, field, 10).await?);
    }
    session.execute("DELETE FROM tag_spellings", &[]).await?;
    for field in TagField::ALL {
        let names = spellings(session, field, "position").await?;
        let mut values = Vec::with_capacity(names.len() * 3);
        let kept: BTreeMap<&str, &str> = by_key(&names, &shown[field.index()])
            .into_iter()
            .map(|(key, names)| (key, names[0]))
            .collect();
        for (key, name) in &names {
            values.extend([
                field.column().into(),
                Value::Text(name.clone()),
                Value::Text(key.clone()),
            ]);
        }
        let spelled: Vec<Value> = kept
            .into_iter()
            .flat_map(|(key, name)| [field.column().into(), key.into(), name.into()])
            .collect();
        let inserts = [
            RowsInsert {
                table: "folded_names",
                columns: "field, name, folded",
                types: &[Column::Text, Column::Text, Column::Text],
                values,
                on_conflict: "",
            },
            RowsInsert {
                table: "tag_spellings",
                columns: "field, folded, name",
                types: &[Column::Text, Column::Text, Column::Text],
                values: spelled,
                on_conflict: "",
            },
        ];
        let groups = inserts
            .into_iter()
            .filter(|i| !i.values.is_empty())
            .map(|i| vec![i]);
        session
            .insert_groups(&mut groups.collect::<Vec<_>>().into_iter())
            .await?;
    }
    let lookup = |field: TagField| {
        let column = field.column();
        format!(
            "{column}_key = (SELECT folded FROM folded_names AS f \
             WHERE f.field = '{column}' AND f.name = entries.{column})"
        )
    };
    session
        .execute(
            &format!(
                "UPDATE entries SET {}, {}, {}",
                lookup(TagField::Client),
                lookup(TagField::Project),
                lookup(TagField::Deliverable)
            ),
            &[],
        )
        .await?;
    session.execute("DROP TABLE folded_names", &[]).await?;
    for field in TagField::ALL {
        let column = field.column();
        session
            .execute(
                "DELETE FROM cost_rollups WHERE dimension = $1",
                &[column.into()],
            )
            .await?;
        session
            .execute(
                &format!(
                    "INSERT INTO cost_rollups (dimension, keyed, group_key, cost_currency, day, micros, entries, unpriced) \
                     SELECT $1, CASE WHEN {column}_key IS NULL THEN 0 ELSE 1 END, COALESCE({column}_key, ''), \
                     cost_currency, day, COALESCE(SUM(cost_micros), 0), COUNT(*), COUNT(*) - COUNT(cost_micros) \
                     FROM entries WHERE is_void = 0 AND charged = 1 \
                     GROUP BY CASE WHEN {column}_key IS NULL THEN 0 ELSE 1 END, COALESCE({column}_key, ''), cost_currency, day"
                ),
                &[column.into()],
            )
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_folding_equal_merge_under_the_first_logged() {
        let names: Vec<(String, String)> = ["Straße", "Acme", "STRASSE", "strasse", "Örebro"]
            .into_iter()
            .map(|n| (fold(n), n.to_string()))
            .collect();
        assert_eq!(
            merges_of(TagField::Client, &names, &HashSet::new()),
            vec![NameMerge {
                field: TagField::Client,
                kept: "Straße".into(),
                merged: vec!["STRASSE".into(), "strasse".into()],
            }]
        );
        // The spelling the ledger already shows is kept.
        let shown: HashSet<String> = ["strasse".to_string()].into();
        assert_eq!(
            merges_of(TagField::Client, &names, &shown)[0].kept,
            "strasse"
        );
    }
}
