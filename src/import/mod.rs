//! The CSV reader for imports of external costs: bytes in, rows out. It
//! decodes the file as it streams (UTF-8 with or without a byte order mark,
//! UTF-16 with one), sniffs the separator, recognises the preset from the
//! header and reads each row to exact amounts, UTC times and checked text.
//! It writes nothing: fingerprints, batches and the ledger are the caller's.
//! The rules are documented in docs/csv.md, "CSV import".

mod amount;
mod date;
mod decode;
mod preset;
mod row;

use std::io::Read;

use crate::money::Currency;
use crate::timestamp::Timestamp;

pub use decode::Encoding;
pub use preset::{Preset, UnknownPreset, GENERIC_NAMES};
pub use row::UNIT_SEPARATOR;

/// What a column can mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Date,
    Amount,
    Description,
    /// The tool or service that charged (generic: category, tool, vendor ...).
    Source,
    Currency,
    Client,
    Project,
    Deliverable,
    Model,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Date => "date",
            Field::Amount => "amount",
            Field::Description => "description",
            Field::Source => "source",
            Field::Currency => "currency",
            Field::Client => "client",
            Field::Project => "project",
            Field::Deliverable => "deliverable",
            Field::Model => "model",
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// `None`: recognise the preset from the header.
    pub preset: Option<Preset>,
    /// strftime style (`%d/%m/%Y`), for dates in no ISO shape; without it a
    /// date like `03/11/2026` is refused.
    pub date_format: Option<String>,
    /// `--currency`: settles a symbol such as `kr` that names a family of
    /// currencies. It never overrides a currency the file gives.
    pub currency: Option<Currency>,
}

/// What is wrong with a file as a whole, found before any row is read.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    #[error("the file is empty: no header row")]
    Empty,
    #[error("not a CSV text file: {0}")]
    NotText(String),
    #[error("line {line}: the header is not valid {encoding} text; save the file as CSV UTF-8")]
    Undecodable { line: u64, encoding: &'static str },
    #[error("{}", missing_message(*.preset, .missing, .header, .hint.as_deref()))]
    MissingColumns {
        preset: Preset,
        missing: Vec<&'static str>,
        header: Vec<String>,
        hint: Option<String>,
    },
    #[error(
        "columns {} could each be the {field}; rename all but one",
        quoted_list(.columns)
    )]
    AmbiguousColumns { field: Field, columns: Vec<String> },
    #[error("date format '{format}': {reason}")]
    DateFormat { format: String, reason: String },
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn missing_message(
    preset: Preset,
    missing: &[&str],
    header: &[String],
    hint: Option<&str>,
) -> String {
    let columns = if missing.len() == 1 {
        "column"
    } else {
        "columns"
    };
    let article = if preset == Preset::Generic { "a" } else { "an" };
    let mut message = format!(
        "not {article} {preset} import file: no {columns} for {}; the header has {}",
        missing.join(", "),
        quoted_list(header)
    );
    if preset == Preset::Generic {
        message.push_str(" (accepted names: ");
        let lists: Vec<String> = GENERIC_NAMES
            .iter()
            .filter(|(f, _)| missing.contains(&f.as_str()))
            .map(|(f, names)| format!("{f}: {}", names.join(", ")))
            .collect();
        message.push_str(&lists.join("; "));
        message.push(')');
    }
    if let Some(hint) = hint {
        message.push_str("; ");
        message.push_str(hint);
    }
    message
}

/// One record of the file, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowResult {
    Row(ImportRow),
    /// A provider's empty day (an OpenAI row with an empty amount): skipped,
    /// not an error.
    Skipped {
        line: u64,
        why: &'static str,
    },
    /// A row that cannot be imported; the reason names each column at fault.
    Bad {
        line: u64,
        reason: String,
    },
}

impl RowResult {
    pub fn line(&self) -> u64 {
        match self {
            RowResult::Row(row) => row.line,
            RowResult::Skipped { line, .. } | RowResult::Bad { line, .. } => *line,
        }
    }
}

/// A row of an import file, ready for the ledger. Amounts are in the row's
/// currency; nothing is converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based physical line where the record starts (the header is line 1).
    pub line: u64,
    /// UTC; a date without a time is 00:00 UTC of that day.
    pub occurred_at: Timestamp,
    pub description: Option<String>,
    /// Exact micro-units (1e-6); negative for refunds and credits.
    pub amount_micros: i64,
    /// `None` when the file gives no currency for this row (the caller fills
    /// it from `--currency`).
    pub currency: Option<Currency>,
    /// generic: the category/tool/service/vendor column; `None` when absent
    /// or empty.
    pub source: Option<String>,
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
    /// anthropic: `model`; openai: the model named in `line_item`.
    pub model: Option<String>,
    /// The normalised content of every cell of the row as `name=value` (the
    /// field a column is read as, else its header in lower case; empty
    /// columns not read left out), in name order, joined by
    /// `UNIT_SEPARATOR` (which no cell may hold): cells trimmed,
    /// the amount as its exact decimal (with the currency the cell names),
    /// the date as RFC 3339 UTC, a currency code in upper case, line ends in
    /// a description as `\n`. The same row re-exported with another
    /// separator, byte order mark, quoting or number style gives the same
    /// text. The caller hashes it for the row's fingerprint.
    pub content: String,
    /// For day-bucketing presets (openai, anthropic): the row's identity
    /// without its amount, `day=YYYY-MM-DD` then each identifying column as
    /// `name=value`, joined by `UNIT_SEPARATOR`. `None` for generic.
    pub bucket_key: Option<String>,
}

/// Reads and checks the header (encoding, separator, preset, columns) and
/// returns the rows, read as they are iterated.
pub fn read<R: Read>(input: R, options: &ReadOptions) -> Result<CsvRows<R>, HeaderError> {
    if let Some(format) = &options.date_format {
        date::check_format(format).map_err(|reason| HeaderError::DateFormat {
            format: format.clone(),
            reason,
        })?;
    }
    let (mut source, encoding) = decode::open(input)?;
    let header_line = source.read_header_line(encoding)?;
    // Records end at `\n` only: csv's record positions lag a line after a
    // CRLF, and the `\r` left on a record's last cell is trimmed with it.
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(header_line.separator)
        .terminator(csv::Terminator::Any(b'\n'))
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(64 * 1024)
        .from_reader(source);
    let mut record = csv::ByteRecord::new();
    let header = loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Err(HeaderError::Empty),
            Err(e) => {
                return Err(match e.into_kind() {
                    csv::ErrorKind::Io(io) => HeaderError::Io(io),
                    other => HeaderError::NotText(format!("{other:?}")),
                })
            }
        }
        let line = first_line(&reader, &record) + header_line.lines_removed;
        match csv::StringRecord::from_byte_record(record) {
            Ok(header) if is_blank(&header) => record = header.into_byte_record(),
            Ok(header) => break header,
            Err(_) => {
                return Err(HeaderError::Undecodable {
                    line,
                    encoding: encoding.name(),
                })
            }
        }
    };
    let cells: Vec<&str> = header.iter().collect();
    let layout = preset::layout(&cells, options.preset)?;
    Ok(CsvRows {
        reader,
        record: header.into_byte_record(),
        layout,
        settings: row::Settings {
            date_format: options.date_format.clone(),
            currency: options.currency,
        },
        separator: header_line.separator,
        encoding,
        lines_removed: header_line.lines_removed,
        done: false,
    })
}

/// The line a record starts on. csv's own record positions are taken
/// before the blank lines it skips and lag a line after a CRLF, so the line
/// is counted back from where the record ended: the reader's line after it,
/// less its final `\n` (every record has one, see `decode::Decoded`), less
/// the line ends inside its quoted cells.
fn first_line<R: Read>(reader: &csv::Reader<R>, record: &csv::ByteRecord) -> u64 {
    let inside = record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
    reader.position().line().saturating_sub(1 + inside).max(1)
}

/// A record with nothing in it (`;;;` rows a spreadsheet leaves at the end).
fn is_blank(record: &csv::StringRecord) -> bool {
    record.iter().all(|c| c.trim().is_empty())
}

/// The rows of an import file, read one at a time as they are iterated;
/// memory stays that of one record whatever the file's size.
pub struct CsvRows<R> {
    reader: csv::Reader<decode::Decoded<R>>,
    record: csv::ByteRecord,
    layout: preset::Layout,
    settings: row::Settings,
    separator: u8,
    encoding: Encoding,
    lines_removed: u64,
    done: bool,
}

impl<R> CsvRows<R> {
    pub fn preset(&self) -> Preset {
        self.layout.preset
    }

    pub fn separator(&self) -> u8 {
        self.separator
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Whether the file has a column for `field`, so the caller can tell
    /// "the file has no column for X" from "this row left X empty".
    pub fn has_column(&self, field: Field) -> bool {
        self.layout.has(field)
    }

    /// The header's cells as written (trimmed).
    pub fn header(&self) -> &[String] {
        &self.layout.header
    }
}

impl<R: Read> CsvRows<R> {
    /// Input bytes read so far (not decoded bytes), for a progress bar
    /// against the file's size. Runs ahead of the rows returned by at most
    /// a buffer.
    pub fn bytes_read(&self) -> u64 {
        self.reader.get_ref().bytes_read()
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = RowResult;

    fn next(&mut self) -> Option<RowResult> {
        while !self.done {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    // The input failed: nothing after it can be trusted.
                    self.done = true;
                    let line = e.position().map_or(0, |p| p.line()) + self.lines_removed;
                    return Some(RowResult::Bad {
                        line,
                        reason: format!("reading the file failed here: {e}"),
                    });
                }
            }
            if self.reader.get_ref().exhausted() {
                // The record ran to the end of the file inside a quote: it
                // has no line end of its own to count back from.
                self.done = true;
                let inside = self
                    .record
                    .as_slice()
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                let line = self
                    .reader
                    .position()
                    .line()
                    .saturating_sub(inside as u64)
                    .max(1)
                    + self.lines_removed;
                return Some(RowResult::Bad {
                    line,
                    reason: "a quote (\") in this row is not closed, so the rest of the file was read as one cell; close the quote or remove it".into(),
                });
            }
            let line = first_line(&self.reader, &self.record) + self.lines_removed;
            // Validated in place: the record's buffers are reused row after row.
            let record = std::mem::take(&mut self.record);
            match csv::StringRecord::from_byte_record(record) {
                Ok(text) => {
                    let result = (!is_blank(&text))
                        .then(|| row::read(&self.layout, &text, line, &self.settings));
                    self.record = text.into_byte_record();
                    if let Some(result) = result {
                        return Some(result);
                    }
                }
                Err(e) => {
                    let field = e.utf8_error().field();
                    self.record = e.into_byte_record();
                    let column = self
                        .layout
                        .header
                        .get(field)
                        .map_or_else(|| format!("{}", field + 1), |h| format!("'{h}'"));
                    return Some(RowResult::Bad {
                        line,
                        reason: format!(
                            "column {column} is not valid {} text; save the file as CSV UTF-8",
                            self.encoding.name()
                        ),
                    });
                }
            }
        }
        None
    }
}
