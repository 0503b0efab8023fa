//! Listing entries: newest first, in pages joined by a keyset cursor, each
//! entry optionally shown in another currency at its own day's rates.

use super::convert::{entries_in, Converted};
use crate::error::{Error, Result};
use crate::fx::Stale;
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
    let page = Page {
        limit: request.limit + 1,
        after,
    };
    let mut entries = store.list(&request.filter, page).await?;
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
