//! What a report is asked for: the options as a surface receives them
//! (flags, a query string), checked into a `ReportRequest` before the
//! ledger is read.

use crate::error::{Error, Result};
use crate::money::Currency;
use crate::report::markup::Markup;
use crate::service::limits::MAX_NAME_CHARS;
use crate::store::Filter;
use crate::timestamp::Timestamp;

/// What to report on, and how.
#[derive(Clone, Debug)]
pub struct ReportRequest {
    /// Which entries (void entries are never in a report).
    pub filter: Filter,
    /// Every total in this currency, each amount at its own day's rate.
    pub currency: Currency,
    /// The report's title; a default names the client or project.
    pub title: Option<String>,
    /// A markup shown on the invoice as its own column and line.
    pub markup: Option<Markup>,
    /// When the report says it was made (and `verify` ran).
    pub generated_at: Timestamp,
    /// The studio's time zone, for times shown; periods stay UTC days.
    pub tz: jiff::tz::TimeZone,
}

/// A report's options as a surface receives them (flags, a query string),
/// checked and turned into a `ReportRequest` before the ledger is read.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    pub filter: Filter,
    /// ISO 4217 code.
    pub currency: String,
    pub title: Option<String>,
    /// Percent, e.g. 15 or 12.5.
    pub markup: Option<String>,
    /// RFC 3339; default now.
    pub generated_at: Option<String>,
    /// IANA zone name; default this machine's.
    pub tz: Option<String>,
}

impl ReportOptions {
    pub fn into_request(self) -> Result<ReportRequest> {
        let currency: Currency = self
            .currency
            .parse()
            .map_err(|e| Error::input(format!("--currency: {e}")))?;
        let markup = self
            .markup
            .as_deref()
            .map(|m| Markup::parse(m).map_err(|e| Error::input(format!("--markup: {e}"))))
            .transpose()?;
        let generated_at = match self.generated_at.as_deref() {
            Some(text) => Timestamp::parse_rfc3339(text)
                .map_err(|e| Error::input(format!("--generated-at: {e}")))?,
            None => Timestamp::now(),
        };
        let tz = match self.tz.as_deref() {
            Some(name) => jiff::tz::TimeZone::get(name.trim()).map_err(|_| {
                Error::input(format!(
                    "--tz: unknown time zone '{name}': expected an IANA name such as Europe/Stockholm, America/New_York or UTC"
                ))
            })?,
            None => jiff::tz::TimeZone::system(),
        };
        let title = self.title.map(|t| t.trim().to_string());
        if let Some(title) = &title {
            if title.chars().count() > MAX_NAME_CHARS {
                return Err(Error::input(format!(
                    "--title: {} characters; a title holds at most {MAX_NAME_CHARS}",
                    title.chars().count()
                )));
            }
            if title.chars().any(char::is_control) {
                return Err(Error::input(
                    "--title: holds a control character (a newline, tab or escape); give one line of text",
                ));
            }
        }
        Ok(ReportRequest {
            filter: self.filter,
            currency,
            title,
            markup,
            generated_at,
            tz,
        })
    }
}
