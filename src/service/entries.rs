//! Listing entries: newest first, in pages joined by a keyset cursor, each
//! entry optionally shown in another currency at its own day's rates.

use super::convert::{entries_in, Converted};
use crate::error::{Error, Result};
use crate::fx::Stale;
use crate::ledger::tags::fold;
use crate::ledger::Entry;
use crate::money::Currency;
use crate::store::{Cursor, Filter, Page, Store};
use crate::wire::{EntryJson, EntryPage};

/// The most entries one page holds; longer listings are read page by page.
pub const MAX_PAGE: i64 = 1_000;

#[derive(Clone, Debug, Default)]
pub struct ListRequest {
    pub filter: Filter,
    /// At most this many entries (0 to `MAX_PAGE`).
    pub limit: i64,
    /// The `next_cursor` of the page before.
    pub after: Option<String>,
    /// Show amounts in this currency.
    pub currency: Option<Currency>,
    /// Only entries whose description or model holds this text, compared
    /// folded (see `matches_search`).
    pub search: Option<String>,
}

/// One page of entries, each with the rates it was converted at (none when
/// shown in its own currency).
#[derive(Clone, Debug)]
pub struct Listed {
    pub entries: Vec<Converted>,
    /// Where the next page starts, when more entries exist.
    pub next_cursor: Option<String>,
    /// The stale conversion with the oldest rate on this page, if any.
    pub stale: Option<Stale>,
}

impl Listed {
    /// The page as the API serves it.
    pub fn into_wire(self, converted: bool) -> Result<EntryPage> {
        let entries = self
            .entries
            .into_iter()
            .map(|c| {
                let mut json = EntryJson::new(c.entry, converted.then_some(c.rates))?;
                if converted {
                    json.stale_rates = Some(c.stale_rates);
                    json.unconverted = c.unconverted;
                }
                Ok::<_, serde_json::Error>(json)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Io(format!("an entry's parameters are not JSON: {e}")))?;
        Ok(EntryPage {
            entries,
            next_cursor: self.next_cursor,
        })
    }
}

/// One page of entries and the cursor of the next, if more entries exist.
pub async fn list<S: Store>(store: &S, request: &ListRequest) -> Result<Listed> {
    if !(0..=MAX_PAGE).contains(&request.limit) {
        return Err(Error::input(format!(
            "limit: {} is not between 0 and {MAX_PAGE}",
            request.limit
        )));
    }
    let after = match request.after.as_deref() {
        None => None,
        Some(text) => Some(Cursor::decode(text).ok_or_else(|| {
            Error::input(format!(
                "cursor: '{text}' is not a cursor from an earlier page"
            ))
        })?),
    };
    // One more than asked shows whether another page exists.
    let mut entries = match request.search.as_deref() {
        None => {
            let page = Page {
                limit: request.limit + 1,
                after,
            };
            store.list(&request.filter, page).await?
        }
        Some(text) => {
            let needle = search_key(text)?;
            search(store, &request.filter, after, request.limit + 1, &needle).await?
        }
    };
    let more = entries.len() as i64 > request.limit;
    entries.truncate(request.limit as usize);
    let next_cursor = match entries.last() {
        Some(last) if more => Some(Cursor::after(last).encode()),
        _ => None,
    };
    let (entries, stale) = match request.currency {
        Some(currency) => entries_in(store, entries, currency).await?,
        None => (
            entries.into_iter().map(Converted::unchanged).collect(),
            None,
        ),
    };
    Ok(Listed {
        entries,
        next_cursor,
        stale,
    })
}

/// A request id to list by, as entries are logged with it: trimmed, not
/// empty.
pub fn request_id(text: &str) -> Result<String> {
    let id = text.trim();
    if id.is_empty() {
        return Err(Error::input("request id: give the provider's request id"));
    }
    Ok(id.to_string())
}

/// Entries a search reads from the store at a time.
const SEARCH_PAGE: i64 = 1_000;

/// The first `wanted` entries after `after` that the filter selects and
/// whose description or model holds `needle` (folded). Folding is done
/// here rather than in SQL, where SQLite and PostgreSQL would fold apart:
/// the filter's entries are read page by page until enough match, so a page
/// of matches is full however many entries lie between them.
async fn search<S: Store>(
    store: &S,
    filter: &Filter,
    mut after: Option<Cursor>,
    wanted: i64,
    needle: &str,
) -> Result<Vec<Entry>> {
    let mut found = Vec::new();
    loop {
        let page = Page {
            limit: SEARCH_PAGE,
            after,
        };
        let entries = store.list(filter, page).await?;
        let last_page = (entries.len() as i64) < SEARCH_PAGE;
        after = entries.last().map(Cursor::after);
        for entry in entries {
            if matches_search(&entry, needle) {
                found.push(entry);
                if found.len() as i64 == wanted {
                    return Ok(found);
                }
            }
        }
        if last_page {
            return Ok(found);
        }
    }
}

/// The text a search looks for, as `folded` compares it.
pub fn search_key(text: &str) -> Result<String> {
    let key = fold(text.trim());
    if key.is_empty() {
        return Err(Error::input("search: give the text to look for"));
    }
    Ok(key)
}

/// Whether the entry's description or model holds `needle` (a `search_key`)
/// as a substring, both sides folded by `tags::fold` (NFC, then case folding), the
/// rule names are matched by. Characters that are wildcards in SQL (`%`,
/// `_`) are plain text here.
pub fn matches_search(entry: &Entry, needle: &str) -> bool {
    [entry.description.as_deref(), entry.model.as_deref()]
        .into_iter()
        .flatten()
        .any(|text| fold(text).contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::replay::entry_from_record;
    use crate::ledger::{EntryRecord, Kind, Status, Tags, Tier};

    fn entry(description: Option<&str>, model: Option<&str>) -> Entry {
        let record = EntryRecord {
            id: uuid::Uuid::nil(),
            kind: Kind::Generation,
            occurred_at: 0,
            source: "fal.ai".into(),
            model: model.map(str::to_string),
            description: description.map(str::to_string),
            tags: Tags::default(),
            request_id: None,
            status: Status::Succeeded,
            duration_ms: None,
            params: crate::ledger::event::Params::empty(),
            estimate_micros: None,
            estimate_currency: Currency::USD,
            estimate_tier: Tier::Unpriced,
            actual_micros: None,
            actual_currency: None,
            price_version: None,
            license: None,
            batch: None,
            billing: None,
        };
        entry_from_record(&record, 1, crate::timestamp::Timestamp(0))
    }

    #[test]
    fn search_matches_description_and_model_folded() {
        let key = |t: &str| search_key(t).unwrap();
        let film = entry(Some("Örebro Film teaser"), Some("fal-ai/flux/dev"));
        assert!(matches_search(&film, &key("örebro")));
        assert!(matches_search(&film, &key("ÖREBRO FILM")));
        assert!(matches_search(&film, &key("O\u{308}REBRO")));
        assert!(matches_search(&film, &key("FLUX/DEV")));
        assert!(!matches_search(&film, &key("veo")));
        let sale = entry(Some("50%_off banner"), None);
        assert!(matches_search(&sale, &key("50%_off")));
        assert!(!matches_search(
            &entry(Some("500 off"), None),
            &key("50%_off")
        ));
        assert!(!matches_search(
            &entry(Some("50x off"), None),
            &key("50%_off")
        ));
        assert!(!matches_search(&entry(None, None), &key("x")));
        assert!(search_key("  ").is_err());
    }
}
