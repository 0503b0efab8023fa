//! One record to one `ImportRow` by the layout of its header: each cell read,
//! checked and normalised, and every problem of the row named together.

use csv::StringRecord;

use crate::money::Currency;
use crate::service::limits;

use super::amount::{self, Style};
use super::date;
use super::preset::{KeyPart, Layout, Provider};
use super::{Field, ImportRow, Preset, RowResult};

/// Joins a row's cells in its content and bucket key. Refused in every
/// cell, so it cannot appear in one.
pub const UNIT_SEPARATOR: char = '\u{1f}';

/// What the options say about every row.
#[derive(Clone, Debug)]
pub struct Settings {
    pub date_format: Option<String>,
    pub currency: Option<Currency>,
}

pub fn read(layout: &Layout, record: &StringRecord, line: u64, settings: &Settings) -> RowResult {
    let width = layout.header.len();
    if record.len() > width && record.iter().skip(width).any(|c| !c.trim().is_empty()) {
        return RowResult::Bad {
            line,
            reason: format!(
                "{} cells where the header has {width}: a separator or quote out of place?",
                record.len()
            ),
        };
    }
    let cell = |i: usize| record.get(i).unwrap_or("").trim();
    let mut problems: Vec<String> = Vec::new();

    let Some(amount_column) = layout.amount else {
        return RowResult::Skipped {
            line,
            why: "empty day: the export has no costs",
        };
    };
    // Labels are for messages: made only when a cell is at fault.
    let amount_label = || layout.label(Field::Amount, amount_column);
    let amount_cell = cell(amount_column);
    if amount_cell.is_empty() && layout.preset == Preset::OpenAi {
        return RowResult::Skipped {
            line,
            why: "empty day: no amount",
        };
    }
    let style = match layout.preset {
        Preset::Generic => Style::Written,
        Preset::OpenAi | Preset::Anthropic => Style::Plain,
    };
    let amount = if amount_cell.is_empty() {
        problems.push(format!("{}: empty", amount_label()));
        None
    } else {
        amount::parse(amount_cell, style)
            .map_err(|why| problems.push(format!("{} '{amount_cell}': {why}", amount_label())))
            .ok()
    };

    let date_label = || layout.label(Field::Date, layout.date);
    let date_cell = cell(layout.date);
    let occurred_at = if date_cell.is_empty() {
        problems.push(format!("{}: empty", date_label()));
        None
    } else {
        date::parse(date_cell, settings.date_format.as_deref())
            .map_err(|why| problems.push(format!("{} '{date_cell}': {why}", date_label())))
            .ok()
    };

    // The currency the file gives the row: its currency column, else the
    // amount column's header; the amount cell's own symbol must agree.
    let column_currency = layout.currency.and_then(|i| {
        let text = cell(i);
        if text.is_empty() {
            return None;
        }
        text.parse::<Currency>()
            .map_err(|_| {
                problems.push(format!(
                    "{} '{text}': unknown currency code; expected an ISO 4217 code such as USD, EUR or SEK",
                    layout.label(Field::Currency, i)
                ))
            })
            .ok()
    });
    if let (Some(c), Some(h)) = (column_currency, layout.amount_currency) {
        if c != h {
            problems.push(format!(
                "{} says {c}, but the amount column '{}' is in {h}",
                layout.label(Field::Currency, layout.currency.unwrap_or(0)),
                layout.header[amount_column]
            ));
        }
    }
    let file_currency = column_currency.or(layout.amount_currency);
    let currency = match &amount {
        Some(a) => amount::resolve(a.named, file_currency, settings.currency)
            .map_err(|why| problems.push(format!("{} '{amount_cell}': {why}", amount_label())))
            .unwrap_or(None),
        None => file_currency,
    };

    let mut text = Text {
        layout,
        problems: &mut problems,
    };
    let (description, model, project) = match &layout.provider {
        Provider::None => (
            layout
                .description
                .and_then(|i| text.description(cell(i), || layout.label(Field::Description, i))),
            text.name(Field::Model, layout.model, &cell),
            text.name(Field::Project, layout.project, &cell),
        ),
        Provider::OpenAi { line_item, .. } => {
            let item = line_item.map(cell).filter(|s| !s.is_empty());
            let description =
                item.and_then(|s| text.description(s, || "description (from line_item)".into()));
            // Line items read `<model>, <token type>`.
            let model = item
                .and_then(|s| s.split_once(", ").map(|(m, _)| m.trim()))
                .and_then(|m| text.checked_name("model (from line_item)", m));
            let project = text
                .name(Field::Project, layout.project, &cell)
                .filter(|p| !p.eq_ignore_ascii_case("default project"));
            (description, model, project)
        }
        Provider::Anthropic {
            token_type,
            cost_type,
            ..
        } => {
            let model = text.name(Field::Model, layout.model, &cell);
            let mut parts: Vec<&str> = Vec::new();
            parts.extend(model.as_deref());
            parts.extend(token_type.map(cell).filter(|s| !s.is_empty()));
            parts.extend(
                cost_type
                    .map(cell)
                    .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("token")),
            );
            let description = (!parts.is_empty()).then(|| parts.join(", ")).and_then(|d| {
                text.description(&d, || "description (from model and token_type)".into())
            });
            // The organisation's default workspace is no project of its own.
            let project = text
                .name(Field::Project, layout.project, &cell)
                .filter(|p| !p.eq_ignore_ascii_case("default"));
            (description, model, project)
        }
    };
    let source = text.name(Field::Source, layout.source, &cell);
    let client = text.name(Field::Client, layout.client, &cell);
    let deliverable = text.name(Field::Deliverable, layout.deliverable, &cell);

    for (i, c) in record.iter().enumerate().take(width) {
        if c.contains(UNIT_SEPARATOR) {
            problems.push(format!(
                "column '{}': control character U+001F; remove it",
                layout.header[i]
            ));
        }
    }

    let (Some(amount), Some(occurred_at), true) = (amount, occurred_at, problems.is_empty()) else {
        return RowResult::Bad {
            line,
            reason: problems.join("; "),
        };
    };

    // Cells by column name, so a file whose columns were moved has the
    // same content; an empty column gencost does not read is left out, so
    // one added empty column does not change it either.
    let mut content = String::with_capacity(record.as_slice().len() + 4 * width + 16);
    for (name, i, read_as_field) in &layout.content_order {
        let i = *i;
        if !read_as_field && cell(i).is_empty() {
            continue;
        }
        if !content.is_empty() {
            content.push(UNIT_SEPARATOR);
        }
        content.push_str(name);
        content.push('=');
        if i == amount_column {
            amount.write_content(&mut content);
        } else if i == layout.date {
            date::write_normal(&mut content, occurred_at);
        } else if let Some(c) = column_currency.filter(|_| Some(i) == layout.currency) {
            content.push_str(c.code());
        } else if Some(i) == layout.description && layout.preset == Preset::Generic {
            content.push_str(description.as_deref().unwrap_or(""));
        } else {
            content.push_str(cell(i));
        }
    }
    let bucket_key = match &layout.provider {
        Provider::None => None,
        Provider::OpenAi { key, .. } | Provider::Anthropic { key, .. } => {
            Some(bucket_key(&date::day(occurred_at), key, &cell))
        }
    };

    RowResult::Row(ImportRow {
        line,
        occurred_at,
        description,
        amount_micros: amount.micros,
        currency,
        source,
        client,
        project,
        deliverable,
        model,
        content,
        bucket_key,
    })
}

/// `day=2026-09-28␟line_item=gpt-5-nano, input_tokens␟project=proj_a…`: the
/// day, then each identifying column (its id, else its name).
fn bucket_key<'a>(day: &str, parts: &[KeyPart], cell: &impl Fn(usize) -> &'a str) -> String {
    let mut key = format!("day={day}");
    for part in parts {
        let value = match cell(part.column) {
            "" => part.fallback.map(cell).unwrap_or(""),
            v => v,
        };
        key.push(UNIT_SEPARATOR);
        key.push_str(&part.label);
        key.push('=');
        key.push_str(value);
    }
    key
}

/// Text cells checked by the ledger's own limits, problems noted.
struct Text<'a, 'p> {
    layout: &'a Layout,
    problems: &'p mut Vec<String>,
}

impl Text<'_, '_> {
    fn name<'c>(
        &mut self,
        field: Field,
        column: Option<usize>,
        cell: &impl Fn(usize) -> &'c str,
    ) -> Option<String> {
        let i = column?;
        let value = cell(i);
        if value.is_empty() {
            return None;
        }
        // The common case, checked without building the label for a message.
        if value.len() <= limits::MAX_NAME_CHARS && !value.chars().any(char::is_control) {
            return Some(value.to_string());
        }
        let label = self.layout.label(field, i);
        self.checked_name(&label, value)
    }

    fn checked_name(&mut self, label: &str, value: &str) -> Option<String> {
        if value.is_empty() {
            return None;
        }
        match limits::name(label, value) {
            Ok(()) => Some(value.to_string()),
            Err(e) => {
                self.problems.push(e.to_string());
                None
            }
        }
    }

    /// Free text: newlines from quoted cells are kept (as `\n`, whatever the
    /// file's line ends), as `log --description` keeps them.
    fn description(&mut self, value: &str, label: impl FnOnce() -> String) -> Option<String> {
        if value.is_empty() {
            return None;
        }
        let value = if value.contains('\r') {
            value.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            value.to_string()
        };
        match limits::description(&value) {
            Ok(()) => Some(value),
            Err(e) => {
                let why = e.to_string();
                let why = why.strip_prefix("description").unwrap_or(&why);
                self.problems.push(format!("{}{why}", label()));
                None
            }
        }
    }
}
