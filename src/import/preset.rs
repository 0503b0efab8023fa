//! Which column means what: the generic preset finds its columns by name
//! (case-insensitive, with synonyms); the openai and anthropic presets know
//! their providers' cost exports column by column. This module reads the
//! header only; `row` reads the rows by the layout found here.

use std::fmt;
use std::str::FromStr;

use crate::money::Currency;

use super::{Field, HeaderError};

/// The shape of an import file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Any spreadsheet with a date, a description and an amount column.
    Generic,
    /// OpenAI's cost export (platform usage dashboard, Cost view).
    OpenAi,
    /// Anthropic's cost export (Claude Console, Cost page).
    Anthropic,
}

impl Preset {
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Generic => "generic",
            Preset::OpenAi => "openai",
            Preset::Anthropic => "anthropic",
        }
    }

    /// The source an imported row has when the file names none.
    pub fn default_source(self) -> Option<&'static str> {
        match self {
            Preset::Generic => None,
            Preset::OpenAi => Some("OpenAI"),
            Preset::Anthropic => Some("Anthropic"),
        }
    }

    /// Whether the provider buckets costs by UTC day, so that a later export
    /// repeats a day's row with a larger amount (see `ImportRow::bucket_key`).
    pub fn buckets_by_day(self) -> bool {
        matches!(self, Preset::OpenAi | Preset::Anthropic)
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown preset '{0}': expected generic, openai or anthropic")]
pub struct UnknownPreset(pub String);

impl FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "generic" => Ok(Preset::Generic),
            "openai" => Ok(Preset::OpenAi),
            "anthropic" => Ok(Preset::Anthropic),
            _ => Err(UnknownPreset(s.to_string())),
        }
    }
}

/// Header names the generic preset takes for each field, normalised (lower
/// case, `_` `-` `.` and runs of spaces as one space). English first, then
/// Swedish and German. A header that is exactly the field's own name wins
/// over a synonym; two synonyms for one field are refused.
pub const GENERIC_NAMES: &[(Field, &[&str])] = &[
    (
        Field::Date,
        &[
            "date",
            "day",
            "time",
            "timestamp",
            "datetime",
            "date time",
            "billed at",
            "billing date",
            "charged at",
            "charge date",
            "created",
            "created at",
            "occurred at",
            "transaction date",
            "invoice date",
            "paid at",
            "payment date",
            "usage date",
            "datum",
            "bokföringsdatum",
            "transaktionsdatum",
            "fakturadatum",
        ],
    ),
    (
        Field::Description,
        &[
            "description",
            "desc",
            "item",
            "memo",
            "details",
            "detail",
            "note",
            "notes",
            "line item",
            "product",
            "title",
            "beskrivning",
            "text",
            "specifikation",
            "meddelande",
            "beschreibung",
        ],
    ),
    (
        Field::Amount,
        &[
            "amount",
            "cost",
            "price",
            "total",
            "sum",
            "value",
            "charge",
            "total cost",
            "amount paid",
            "belopp",
            "kostnad",
            "summa",
            "pris",
            "totalt",
            "betrag",
        ],
    ),
    (
        Field::Source,
        &[
            "category",
            "tool",
            "service",
            "vendor",
            "provider",
            "source",
            "merchant",
            "platform",
            "supplier",
            "kategori",
            "verktyg",
            "tjänst",
            "leverantör",
            "kategorie",
            "anbieter",
        ],
    ),
    (
        Field::Currency,
        &[
            "currency",
            "currency code",
            "ccy",
            "cur",
            "valuta",
            "währung",
        ],
    ),
    (
        Field::Client,
        &[
            "client",
            "customer",
            "client name",
            "customer name",
            "kund",
            "klient",
            "kunde",
        ],
    ),
    (
        Field::Project,
        &["project", "job", "project name", "projekt"],
    ),
    (
        Field::Deliverable,
        &["deliverable", "shot", "task", "asset", "leverans"],
    ),
    (Field::Model, &["model"]),
];

/// A header name as it is matched: trimmed, lower case, `_` `-` `.` and
/// runs of white space as one space.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .split(|c: char| c.is_whitespace() || matches!(c, '_' | '-' | '.'))
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// A header that names its column's currency: `Amount (SEK)`, `Cost [EUR]`,
/// `cost_usd`. Returns the name without it.
fn with_unit(name: &str) -> Option<(&str, Currency)> {
    let (rest, code) = if let Some(inner) = name.strip_suffix(')') {
        inner.rsplit_once('(')?
    } else if let Some(inner) = name.strip_suffix(']') {
        inner.rsplit_once('[')?
    } else {
        name.rsplit_once(' ')?
    };
    let currency = Currency::from_str(code.trim()).ok()?;
    Some((rest.trim_end(), currency))
}

/// What each column means, found from the header.
#[derive(Debug, Clone)]
pub struct Layout {
    pub preset: Preset,
    /// The header's cells as written (trimmed), for messages.
    pub header: Vec<String>,
    pub date: usize,
    /// `None` only for OpenAI's export of a period without costs, which has
    /// time columns and nothing else.
    pub amount: Option<usize>,
    /// The currency the amount column's header names (`Amount (SEK)`,
    /// `cost_usd`).
    pub amount_currency: Option<Currency>,
    pub currency: Option<usize>,
    pub description: Option<usize>,
    pub source: Option<usize>,
    pub client: Option<usize>,
    pub project: Option<usize>,
    pub deliverable: Option<usize>,
    pub model: Option<usize>,
    pub provider: Provider,
    /// The columns a row's content is made of, by name (the field a column
    /// is read as, else its header in lower case) in name order, so moving
    /// columns around does not change it. `true` when the column is read as
    /// a field.
    pub content_order: Vec<(String, usize, bool)>,
}

/// The columns a provider preset reads beyond the common ones.
#[derive(Debug, Clone)]
pub enum Provider {
    None,
    OpenAi {
        line_item: Option<usize>,
        /// The bucket's identity after its day, in order.
        key: Vec<KeyPart>,
    },
    Anthropic {
        token_type: Option<usize>,
        cost_type: Option<usize>,
        key: Vec<KeyPart>,
    },
}

/// One part of a bucket key: a column, or another when it is empty (an id,
/// else the name that may change).
#[derive(Debug, Clone)]
pub struct KeyPart {
    pub label: String,
    pub column: usize,
    pub fallback: Option<usize>,
}

impl Layout {
    /// The field column `i` is read as, if any.
    fn field_of(&self, i: usize) -> Option<Field> {
        let columns = [
            (Some(self.date), Field::Date),
            (self.amount, Field::Amount),
            (self.currency, Field::Currency),
            (self.description, Field::Description),
            (self.source, Field::Source),
            (self.client, Field::Client),
            (self.project, Field::Project),
            (self.deliverable, Field::Deliverable),
            (self.model, Field::Model),
        ];
        columns
            .iter()
            .find(|(column, _)| *column == Some(i))
            .map(|(_, field)| *field)
    }

    fn with_content_order(mut self) -> Layout {
        let mut order: Vec<(String, usize, bool)> = (0..self.header.len())
            .map(|i| match self.field_of(i) {
                Some(field) => (field.as_str().to_string(), i, true),
                None => (
                    format!("column:{}", self.header[i].to_lowercase()),
                    i,
                    false,
                ),
            })
            .collect();
        order.sort();
        self.content_order = order;
        self
    }

    pub fn has(&self, field: Field) -> bool {
        match field {
            Field::Date => true,
            Field::Amount => self.amount.is_some(),
            Field::Currency => self.currency.is_some() || self.amount_currency.is_some(),
            Field::Description => match &self.provider {
                Provider::None => self.description.is_some(),
                Provider::OpenAi { line_item, .. } => line_item.is_some(),
                Provider::Anthropic { token_type, .. } => {
                    self.model.is_some() || token_type.is_some()
                }
            },
            Field::Source => self.source.is_some(),
            Field::Client => self.client.is_some(),
            Field::Project => self.project.is_some(),
            Field::Deliverable => self.deliverable.is_some(),
            Field::Model => self.model.is_some(),
        }
    }

    /// How a field's column is named in messages: `client`, or
    /// `client (column 'Kund')` when the header calls it something else.
    pub fn label(&self, field: Field, column: usize) -> String {
        let header = &self.header[column];
        if normalise(header) == field.as_str() {
            field.as_str().to_string()
        } else {
            format!("{} (column '{header}')", field.as_str())
        }
    }
}

/// The layout of a header, for the preset given or (`None`) the one the
/// header is recognised as.
pub fn layout(header: &[&str], preset: Option<Preset>) -> Result<Layout, HeaderError> {
    let written: Vec<String> = header
        .iter()
        .map(|h| {
            h.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
                .to_string()
        })
        .collect();
    let names: Vec<String> = written.iter().map(|h| h.to_lowercase()).collect();
    let has = |name: &str| names.iter().any(|n| n == name);
    let preset = preset.unwrap_or(
        if has("amount_value") && has("start_time") || is_empty_openai(&names) {
            Preset::OpenAi
        } else if has("usage_date_utc") && has("cost_usd") {
            Preset::Anthropic
        } else {
            Preset::Generic
        },
    );
    let layout = match preset {
        Preset::Generic => generic(written, &names),
        Preset::OpenAi => openai(written, &names),
        Preset::Anthropic => anthropic(written, &names),
    }?;
    Ok(layout.with_content_order())
}

/// The header of OpenAI's cost export for a period without costs: the time
/// columns and nothing else.
fn is_empty_openai(names: &[String]) -> bool {
    names == ["start_time", "end_time", "start_time_iso", "end_time_iso"]
}

fn blank_layout(preset: Preset, header: Vec<String>, date: usize) -> Layout {
    Layout {
        preset,
        header,
        date,
        amount: None,
        amount_currency: None,
        currency: None,
        description: None,
        source: None,
        client: None,
        project: None,
        deliverable: None,
        model: None,
        provider: Provider::None,
        content_order: Vec::new(),
    }
}

fn generic(written: Vec<String>, names: &[String]) -> Result<Layout, HeaderError> {
    let normalised: Vec<String> = names.iter().map(|n| normalise(n)).collect();
    let mut found: Vec<(Field, Option<usize>)> = Vec::new();
    let mut amount_currency = None;
    for (field, synonyms) in GENERIC_NAMES {
        let mut matches: Vec<usize> = Vec::new();
        for (i, name) in normalised.iter().enumerate() {
            let mut name = name.as_str();
            if *field == Field::Amount {
                if let Some((bare, _)) = with_unit(name).filter(|(bare, _)| synonyms.contains(bare))
                {
                    name = bare;
                }
            }
            if synonyms.contains(&name) {
                matches.push(i);
            }
        }
        let exact: Vec<usize> = matches
            .iter()
            .copied()
            .filter(|&i| strip_unit(&normalised[i], *field) == field.as_str())
            .collect();
        let column = match (exact.as_slice(), matches.as_slice()) {
            ([one], _) => Some(*one),
            (_, []) => None,
            (_, [one]) => Some(*one),
            (_, many) => {
                return Err(HeaderError::AmbiguousColumns {
                    field: *field,
                    columns: many.iter().map(|&i| written[i].clone()).collect(),
                })
            }
        };
        if *field == Field::Amount {
            amount_currency = column.and_then(|i| with_unit(&normalised[i]).map(|(_, c)| c));
        }
        found.push((*field, column));
    }
    let column = |f: Field| found.iter().find(|(g, _)| *g == f).and_then(|(_, c)| *c);
    let missing: Vec<&'static str> = [Field::Date, Field::Description, Field::Amount]
        .into_iter()
        .filter(|&f| column(f).is_none())
        .map(Field::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(HeaderError::MissingColumns {
            preset: Preset::Generic,
            missing,
            header: written,
            hint: provider_hint(names),
        });
    }
    let mut layout = blank_layout(Preset::Generic, written, column(Field::Date).unwrap_or(0));
    layout.amount = column(Field::Amount);
    layout.amount_currency = amount_currency;
    layout.currency = column(Field::Currency);
    layout.description = column(Field::Description);
    layout.source = column(Field::Source);
    layout.client = column(Field::Client);
    layout.project = column(Field::Project);
    layout.deliverable = column(Field::Deliverable);
    layout.model = column(Field::Model);
    Ok(layout)
}

fn strip_unit(name: &str, field: Field) -> &str {
    match with_unit(name) {
        Some((bare, _)) if field == Field::Amount => bare,
        _ => name,
    }
}

/// For a file that is neither generic nor a known cost export: the
/// provider export it looks like, and which one to use instead.
fn provider_hint(names: &[String]) -> Option<String> {
    let has = |name: &str| names.iter().any(|n| n == name);
    if has("usage_date_utc") || has("model_version") {
        Some(
            "this looks like Anthropic's usage export, which has tokens but no costs; \
             export the Cost report from the Claude Console instead"
                .into(),
        )
    } else if has("start_time") && (has("num_model_requests") || has("input_tokens")) {
        Some(
            "this looks like OpenAI's usage (activity) export, which has no costs; \
             export the Cost view of the usage dashboard instead"
                .into(),
        )
    } else {
        None
    }
}

/// Exact (lower-case) column names to their indices.
struct Named<'a> {
    names: &'a [String],
    used: Vec<bool>,
}

impl<'a> Named<'a> {
    fn new(names: &'a [String]) -> Self {
        Named {
            names,
            used: vec![false; names.len()],
        }
    }

    fn take(&mut self, name: &str) -> Option<usize> {
        let i = self.names.iter().position(|n| n == name)?;
        self.used[i] = true;
        Some(i)
    }

    /// Columns no name was taken for, in header order.
    fn rest(&self) -> Vec<usize> {
        (0..self.names.len()).filter(|&i| !self.used[i]).collect()
    }
}

fn missing(
    preset: Preset,
    wanted: &[(&'static str, Option<usize>)],
    written: Vec<String>,
) -> Result<(), HeaderError> {
    let missing: Vec<&'static str> = wanted
        .iter()
        .filter(|(_, c)| c.is_none())
        .map(|(n, _)| *n)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(HeaderError::MissingColumns {
        preset,
        missing,
        header: written,
        hint: None,
    })
}

fn key_part(label: &str, column: Option<usize>, fallback: Option<usize>) -> Option<KeyPart> {
    let (column, fallback) = match (column, fallback) {
        (Some(c), f) => (c, f),
        (None, Some(f)) => (f, None),
        (None, None) => return None,
    };
    Some(KeyPart {
        label: label.to_string(),
        column,
        fallback,
    })
}

/// OpenAI's cost export: `start_time,end_time,start_time_iso,end_time_iso,
/// amount_value,amount_currency,quantity,quantity_unit,line_item,user_id,
/// api_key_id,project_id,organization_id,project_name,organization_name,
/// user_email,api_source` (the columns vary with the grouping chosen).
fn openai(written: Vec<String>, names: &[String]) -> Result<Layout, HeaderError> {
    let mut n = Named::new(names);
    let start = n.take("start_time");
    let amount = n.take("amount_value");
    if is_empty_openai(names) {
        let mut layout = blank_layout(Preset::OpenAi, written, start.unwrap_or(0));
        layout.provider = Provider::OpenAi {
            line_item: None,
            key: Vec::new(),
        };
        return Ok(layout);
    }
    missing(
        Preset::OpenAi,
        &[("start_time", start), ("amount_value", amount)],
        written.clone(),
    )?;
    let currency = n.take("amount_currency");
    let line_item = n.take("line_item");
    let project_id = n.take("project_id");
    let project_name = n.take("project_name");
    let organization_id = n.take("organization_id");
    let organization_name = n.take("organization_name");
    let api_key_id = n.take("api_key_id");
    let user_id = n.take("user_id");
    let user_email = n.take("user_email");
    let api_source = n.take("api_source");
    // Measures and times that change as a day's bucket fills, or follow
    // from its start: not part of its identity.
    for measure in [
        "end_time",
        "start_time_iso",
        "end_time_iso",
        "quantity",
        "quantity_unit",
    ] {
        n.take(measure);
    }
    let mut key: Vec<KeyPart> = [
        key_part("line_item", line_item, None),
        key_part("project", project_id, project_name),
        key_part("organization", organization_id, organization_name),
        key_part("api_key_id", api_key_id, None),
        key_part("user", user_id, user_email),
        key_part("api_source", api_source, None),
    ]
    .into_iter()
    .flatten()
    .collect();
    key.extend(n.rest().into_iter().map(|i| KeyPart {
        label: names[i].clone(),
        column: i,
        fallback: None,
    }));
    let mut layout = blank_layout(Preset::OpenAi, written, start.unwrap_or(0));
    layout.amount = amount;
    layout.currency = currency;
    layout.project = project_name;
    layout.model = line_item;
    layout.provider = Provider::OpenAi { line_item, key };
    Ok(layout)
}

/// Anthropic's cost export: `usage_date_utc,model,workspace,api_key,
/// usage_type,context_window,token_type,cost_usd,list_price_usd,cost_type,
/// inference_geo,speed,api_key_id,api_key_status` (older exports have fewer).
fn anthropic(written: Vec<String>, names: &[String]) -> Result<Layout, HeaderError> {
    let mut n = Named::new(names);
    let date = n.take("usage_date_utc");
    let cost = n.take("cost_usd");
    missing(
        Preset::Anthropic,
        &[("usage_date_utc", date), ("cost_usd", cost)],
        written.clone(),
    )?;
    let model = n.take("model");
    let workspace = n.take("workspace");
    let api_key = n.take("api_key");
    let api_key_id = n.take("api_key_id");
    let token_type = n.take("token_type");
    let cost_type = n.take("cost_type");
    let usage_type = n.take("usage_type");
    let context_window = n.take("context_window");
    let inference_geo = n.take("inference_geo");
    let speed = n.take("speed");
    // Another price, and a key's state, which changes with no new cost.
    for measure in ["list_price_usd", "api_key_status"] {
        n.take(measure);
    }
    let mut key: Vec<KeyPart> = [
        key_part("model", model, None),
        key_part("workspace", workspace, None),
        key_part("api_key", api_key_id, api_key),
        key_part("usage_type", usage_type, None),
        key_part("context_window", context_window, None),
        key_part("token_type", token_type, None),
        key_part("cost_type", cost_type, None),
        key_part("inference_geo", inference_geo, None),
        key_part("speed", speed, None),
    ]
    .into_iter()
    .flatten()
    .collect();
    key.extend(
        n.rest()
            .into_iter()
            .filter(|&i| !names[i].ends_with("_usd"))
            .map(|i| KeyPart {
                label: names[i].clone(),
                column: i,
                fallback: None,
            }),
    );
    let mut layout = blank_layout(Preset::Anthropic, written, date.unwrap_or(0));
    layout.amount = cost;
    layout.amount_currency = Some(Currency::USD);
    layout.model = model;
    layout.project = workspace;
    layout.provider = Provider::Anthropic {
        token_type,
        cost_type,
        key,
    };
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic_layout(header: &str) -> Result<Layout, HeaderError> {
        let cells: Vec<&str> = header.split(';').collect();
        layout(&cells, None)
    }

    #[test]
    fn names_are_matched_loosely() {
        assert_eq!(normalise("  Billed_At "), "billed at");
        assert_eq!(normalise("Line-Item"), "line item");
        assert_eq!(normalise("\u{feff}DATUM"), "datum");
        assert_eq!(normalise("Total   Cost"), "total cost");
        assert_eq!(normalise("Leverantör"), "leverantör");
    }

    #[test]
    fn generic_columns_by_name_and_synonym() {
        let l =
            generic_layout("Datum;Beskrivning;Belopp;Kategori;Kund;Projekt;Shot;Valuta").unwrap();
        assert_eq!(l.preset, Preset::Generic);
        assert_eq!(
            (
                l.date,
                l.description,
                l.amount,
                l.source,
                l.client,
                l.project,
                l.deliverable
            ),
            (0, Some(1), Some(2), Some(3), Some(4), Some(5), Some(6))
        );
        assert_eq!(l.currency, Some(7));
        assert_eq!(l.label(Field::Client, 4), "client (column 'Kund')");
        let l = generic_layout("Billed At;Memo;Price;Tool").unwrap();
        assert_eq!((l.date, l.amount, l.source), (0, Some(2), Some(3)));
        assert_eq!(l.label(Field::Source, 3), "source (column 'Tool')");
        assert!(!l.has(Field::Client) && !l.has(Field::Currency));
    }

    #[test]
    fn the_fields_own_name_wins_over_a_synonym() {
        let l = generic_layout("date;time;description;price;amount").unwrap();
        assert_eq!((l.date, l.amount), (0, Some(4)));
        match generic_layout("date;description;price;total") {
            Err(HeaderError::AmbiguousColumns { field, columns }) => {
                assert_eq!(field, Field::Amount);
                assert_eq!(columns, ["price", "total"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_amount_header_may_name_its_currency() {
        for (header, code) in [
            ("Date;Item;Amount (SEK)", "SEK"),
            ("Date;Item;Cost [eur]", "EUR"),
            ("Date;Item;cost_usd", "USD"),
            ("Date;Item;Total USD", "USD"),
        ] {
            let l = generic_layout(header).unwrap();
            assert_eq!(l.amount, Some(2), "{header}");
            assert_eq!(
                l.amount_currency.map(|c| c.to_string()).as_deref(),
                Some(code)
            );
            assert!(l.has(Field::Currency));
        }
        assert_eq!(
            generic_layout("Date;Item;Amount").unwrap().amount_currency,
            None
        );
    }

    #[test]
    fn missing_columns_are_named() {
        match generic_layout("when;what;how much") {
            Err(HeaderError::MissingColumns {
                preset,
                missing,
                header,
                hint,
            }) => {
                assert_eq!(preset, Preset::Generic);
                assert_eq!(missing, ["date", "description", "amount"]);
                assert_eq!(header, ["when", "what", "how much"]);
                assert_eq!(hint, None);
            }
            other => panic!("{other:?}"),
        }
        let cells = ["usage_date_utc", "model_version", "usage_output_tokens"];
        match layout(&cells, None) {
            Err(HeaderError::MissingColumns { hint: Some(h), .. }) => {
                assert!(h.contains("Anthropic's usage export"), "{h}");
            }
            other => panic!("{other:?}"),
        }
        let cells = ["date", "description", "amount"];
        match layout(&cells, Some(Preset::OpenAi)) {
            Err(HeaderError::MissingColumns {
                preset, missing, ..
            }) => {
                assert_eq!(preset, Preset::OpenAi);
                assert_eq!(missing, ["start_time", "amount_value"]);
            }
            other => panic!("{other:?}"),
        }
        match layout(&cells, Some(Preset::Anthropic)) {
            Err(HeaderError::MissingColumns { missing, .. }) => {
                assert_eq!(missing, ["usage_date_utc", "cost_usd"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn provider_exports_are_recognised() {
        let openai = "start_time,end_time,start_time_iso,end_time_iso,amount_value,\
                      amount_currency,quantity,quantity_unit,line_item,user_id,api_key_id,\
                      project_id,organization_id,project_name,organization_name,user_email,\
                      api_source";
        let cells: Vec<&str> = openai.split(',').collect();
        let l = layout(&cells, None).unwrap();
        assert_eq!(l.preset, Preset::OpenAi);
        assert_eq!((l.date, l.amount, l.currency), (0, Some(4), Some(5)));
        let Provider::OpenAi { key, .. } = &l.provider else {
            panic!("{:?}", l.provider)
        };
        let labels: Vec<&str> = key.iter().map(|k| k.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "line_item",
                "project",
                "organization",
                "api_key_id",
                "user",
                "api_source"
            ]
        );
        let empty = ["start_time", "end_time", "start_time_iso", "end_time_iso"];
        let l = layout(&empty, None).unwrap();
        assert_eq!((l.preset, l.amount), (Preset::OpenAi, None));

        let anthropic = "usage_date_utc,model,workspace,api_key,usage_type,context_window,\
                         token_type,cost_usd,list_price_usd,cost_type,inference_geo,speed,\
                         api_key_id,api_key_status";
        let cells: Vec<&str> = anthropic.split(',').collect();
        let l = layout(&cells, None).unwrap();
        assert_eq!(l.preset, Preset::Anthropic);
        assert_eq!(
            (l.date, l.amount, l.model, l.project),
            (0, Some(7), Some(1), Some(2))
        );
        assert_eq!(l.amount_currency, Some(Currency::USD));
        let Provider::Anthropic { key, .. } = &l.provider else {
            panic!("{:?}", l.provider)
        };
        let labels: Vec<&str> = key.iter().map(|k| k.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "model",
                "workspace",
                "api_key",
                "usage_type",
                "context_window",
                "token_type",
                "cost_type",
                "inference_geo",
                "speed"
            ]
        );
        // The key's id is its identity; the name is only the fallback.
        assert_eq!((key[2].column, key[2].fallback), (12, Some(3)));
    }

    #[test]
    fn presets_parse_and_print() {
        for p in [Preset::Generic, Preset::OpenAi, Preset::Anthropic] {
            assert_eq!(p.as_str().parse::<Preset>(), Ok(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
        }
        assert_eq!("OpenAI".parse::<Preset>(), Ok(Preset::OpenAi));
        assert!("auto".parse::<Preset>().is_err());
        assert_eq!(Preset::OpenAi.default_source(), Some("OpenAI"));
        assert_eq!(Preset::Generic.default_source(), None);
        assert!(Preset::Anthropic.buckets_by_day() && !Preset::Generic.buckets_by_day());
    }
}
