//! The XLSX export: the CSV export's rows as a workbook a spreadsheet opens
//! with a double-click. Times are date cells (UTC, as the header says),
//! amounts number cells in their currency's format, text always a string
//! cell (never a formula, whatever it starts with), the header row frozen;
//! a second sheet holds the totals per client and project. No I/O but the
//! writer given (the entries sheet is spooled to a temporary file, so
//! memory stays flat however many rows).

use crate::fx::RateUsed;
use crate::ledger::tags::fold;
use crate::ledger::Entry;
use crate::money::{affixes, decimal_string, display_decimals, Currency};
use crate::timestamp::Timestamp;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

/// The entries sheet's columns: the CSV's, the time marked UTC (a
/// spreadsheet shows the date cell without its zone).
fn entries_header() -> Vec<&'static str> {
    super::csv::HEADER
        .iter()
        .map(|&name| match name {
            "occurred_at" => "occurred_at (UTC)",
            other => other,
        })
        .collect()
}

const TOTALS_HEADER: &[&str] = &[
    "client",
    "project",
    "currency",
    "entries",
    "without a price",
    "cost",
];

/// A workbook being written, one entry at a time.
pub struct XlsxExport {
    workbook: Workbook,
    row: u32,
    header: Format,
    time: Format,
    day: Format,
    amounts: HashMap<Currency, Format>,
    /// (client, project, currency) by folded name → shown names and sums.
    totals: BTreeMap<(String, String, Currency), Total>,
}

/// One line of the totals sheet.
#[derive(Default)]
struct Total {
    client: String,
    project: String,
    entries: i64,
    unpriced: i64,
    micros: i128,
}

fn failed(e: XlsxError) -> String {
    format!("cannot write the XLSX: {e}")
}

impl XlsxExport {
    pub fn new() -> Result<XlsxExport, String> {
        let mut workbook = Workbook::new();
        let header_format = Format::new().set_bold();
        let sheet = workbook
            .add_worksheet_with_constant_memory()
            .map_err(failed)?;
        sheet.set_name("Entries").map_err(failed)?;
        write_header(sheet, &entries_header(), &header_format)?;
        for (col, width) in [(0, 38), (1, 20), (5, 30), (21, 11)] {
            sheet.set_column_width(col, width).map_err(failed)?;
        }
        Ok(XlsxExport {
            workbook,
            row: 1,
            header: header_format,
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            day: Format::new().set_num_format("yyyy-mm-dd"),
            amounts: HashMap::new(),
            totals: BTreeMap::new(),
        })
    }

    /// Writes `entry`'s row, its amounts converted at `rates` when they
    /// were (the latest rate date is stated), and counts it in the totals
    /// when it is in totals.
    pub fn push(&mut self, entry: &Entry, rates: &[RateUsed]) -> Result<(), String> {
        let row = self.row;
        let cost = entry.cost();
        let counted = entry.void.is_none() && entry.is_charged();
        for currency in [
            Some(entry.estimate.currency),
            entry.actual.map(|a| a.amount.currency),
        ]
        .into_iter()
        .flatten()
        {
            self.amounts
                .entry(currency)
                .or_insert_with(|| amount_format(currency));
        }
        let sheet = self
            .workbook
            .worksheet_from_name("Entries")
            .map_err(failed)?;
        let mut cells = Cells { sheet, row };
        cells.text(0, &entry.id.to_string())?;
        cells.time(1, entry.occurred_at, &self.time)?;
        cells.text(2, entry.kind.as_str())?;
        cells.text(3, &entry.source)?;
        cells.opt_text(4, &entry.model)?;
        cells.opt_text(5, &entry.description)?;
        cells.opt_text(6, &entry.tags.client)?;
        cells.opt_text(7, &entry.tags.project)?;
        cells.opt_text(8, &entry.tags.deliverable)?;
        cells.text(9, entry.status.as_str())?;
        if let Some(ms) = entry.duration_ms {
            cells.integer(10, ms)?;
        }
        cells.opt_text(11, &entry.request_id)?;
        let estimate_format = &self.amounts[&entry.estimate.currency];
        if let Some(micros) = entry.estimate.micros {
            cells.amount(12, micros, estimate_format)?;
        }
        cells.text(13, entry.estimate.currency.code())?;
        cells.text(14, entry.estimate.tier.as_str())?;
        if let Some(actual) = entry.actual {
            let format = &self.amounts[&actual.amount.currency];
            cells.amount(15, actual.amount.micros, format)?;
            cells.text(16, actual.amount.currency.code())?;
        }
        if let Some(micros) = cost.micros {
            cells.amount(17, micros, &self.amounts[&cost.currency])?;
        }
        cells.text(18, cost.currency.code())?;
        cells.text(19, cost.tier.as_str())?;
        cells.boolean(20, counted)?;
        if let Some(date) = rates.iter().map(|r| r.date.as_str()).max() {
            cells.day(21, date, &self.day)?;
        }
        cells.opt_text(22, &entry.license)?;
        cells.opt_text(23, &entry.price_version)?;
        cells.boolean(24, entry.void.is_some())?;
        if let Some(void) = &entry.void {
            cells.text(25, &void.reason)?;
        }
        self.row += 1;
        if counted {
            let name = |t: &Option<String>| t.clone().unwrap_or_default();
            let (client, project) = (name(&entry.tags.client), name(&entry.tags.project));
            let total = self
                .totals
                .entry((fold(&client), fold(&project), cost.currency))
                .or_insert_with(|| Total {
                    client,
                    project,
                    ..Total::default()
                });
            total.entries += 1;
            match cost.micros {
                Some(m) => total.micros += i128::from(m),
                None => total.unpriced += 1,
            }
        }
        Ok(())
    }

    /// The rows written so far, the header not counted.
    pub fn rows(&self) -> u64 {
        u64::from(self.row - 1)
    }

    /// Adds the totals sheet and writes the workbook to `out`.
    pub fn finish(self, out: impl Write + Send) -> Result<(), String> {
        let Self {
            mut workbook,
            header,
            mut amounts,
            totals,
            row,
            ..
        } = self;
        let sheet = workbook.worksheet_from_name("Entries").map_err(failed)?;
        sheet
            .autofilter(
                0,
                0,
                row.saturating_sub(1),
                super::csv::HEADER.len() as u16 - 1,
            )
            .map_err(failed)?;
        sheet.set_freeze_panes(1, 0).map_err(failed)?;
        let sheet = workbook.add_worksheet();
        sheet.set_name("Totals").map_err(failed)?;
        write_header(sheet, TOTALS_HEADER, &header)?;
        sheet.set_freeze_panes(1, 0).map_err(failed)?;
        sheet.set_column_width(0, 24).map_err(failed)?;
        sheet.set_column_width(1, 24).map_err(failed)?;
        for (i, ((_, _, currency), t)) in totals.iter().enumerate() {
            let mut cells = Cells {
                sheet: &mut *sheet,
                row: i as u32 + 1,
            };
            cells.text(0, &t.client)?;
            cells.text(1, &t.project)?;
            cells.text(2, currency.code())?;
            cells.integer(3, t.entries)?;
            cells.integer(4, t.unpriced)?;
            let micros = i64::try_from(t.micros).map_err(|_| {
                format!(
                    "the total of {} / {} leaves the range of an amount",
                    t.client, t.project
                )
            })?;
            let format = amounts
                .entry(*currency)
                .or_insert_with(|| amount_format(*currency));
            cells.amount(5, micros, format)?;
        }
        workbook.save_to_writer(out).map_err(failed)
    }
}

fn write_header(sheet: &mut Worksheet, names: &[&str], format: &Format) -> Result<(), String> {
    for (col, name) in names.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *name, format)
            .map_err(failed)?;
    }
    Ok(())
}

/// The number format of an amount in `currency`: its symbol, thousands
/// separators, and its usual decimals, more when the amount has them (up
/// to the micro-unit), as the report's exact figures show it; the cell
/// holds the amount whatever its format shows.
fn amount_format(currency: Currency) -> Format {
    let decimals = display_decimals(currency) as usize;
    // Yen and other currencies without decimals: whole units (a trailing
    // optional decimal would leave a bare "." on whole amounts).
    let number = if decimals == 0 {
        "#,##0".to_string()
    } else if decimals >= 6 {
        "#,##0.000000".to_string()
    } else {
        let fixed = "0".repeat(decimals);
        let optional = "#".repeat(6 - decimals);
        format!("#,##0.{fixed}{optional}")
    };
    let quote = |s: String| {
        if s.is_empty() {
            s
        } else {
            format!("\"{}\"", s.replace('"', ""))
        }
    };
    let (before, after) = affixes(currency);
    let positive = format!("{}{number}{}", quote(before), quote(after));
    Format::new().set_num_format(format!("{positive};-{positive}"))
}

/// One row's cells.
struct Cells<'a> {
    sheet: &'a mut Worksheet,
    row: u32,
}

impl Cells<'_> {
    /// A string cell: never read as a formula, whatever it starts with.
    fn text(&mut self, col: u16, text: &str) -> Result<(), String> {
        if text.is_empty() {
            return Ok(());
        }
        self.sheet
            .write_string(self.row, col, text)
            .map(drop)
            .map_err(failed)
    }

    fn opt_text(&mut self, col: u16, text: &Option<String>) -> Result<(), String> {
        match text {
            Some(t) => self.text(col, t),
            None => Ok(()),
        }
    }

    fn integer(&mut self, col: u16, n: i64) -> Result<(), String> {
        // Counts and durations: exact as a number up to 2^53.
        self.sheet
            .write_number(self.row, col, n as f64)
            .map(drop)
            .map_err(failed)
    }

    fn boolean(&mut self, col: u16, b: bool) -> Result<(), String> {
        self.sheet
            .write_boolean(self.row, col, b)
            .map(drop)
            .map_err(failed)
    }

    /// A number cell: the spreadsheet holds numbers as binary floating
    /// point, so the cell is the double nearest the exact decimal, parsed
    /// from it; every amount under a billion units (15 significant digits)
    /// reads back exactly as the spreadsheet shows it. The CSV export keeps
    /// the exact text.
    fn amount(&mut self, col: u16, micros: i64, format: &Format) -> Result<(), String> {
        let number: f64 = decimal_string(micros)
            .parse()
            .map_err(|e| format!("cannot write the amount {micros}: {e}"))?;
        self.sheet
            .write_number_with_format(self.row, col, number, format)
            .map(drop)
            .map_err(failed)
    }

    /// A date-time cell to the millisecond (a spreadsheet's precision), in
    /// UTC; a time a spreadsheet cannot hold (before 1900) is written as
    /// text.
    fn time(&mut self, col: u16, at: Timestamp, format: &Format) -> Result<(), String> {
        match excel_time(at) {
            Some(t) => self
                .sheet
                .write_datetime_with_format(self.row, col, &t, format)
                .map(drop)
                .map_err(failed),
            None => self.text(col, &at.to_string()),
        }
    }

    /// A date cell from `YYYY-MM-DD`.
    fn day(&mut self, col: u16, date: &str, format: &Format) -> Result<(), String> {
        match ExcelDateTime::parse_from_str(date) {
            Ok(d) => self
                .sheet
                .write_datetime_with_format(self.row, col, &d, format)
                .map(drop)
                .map_err(failed),
            Err(_) => self.text(col, date),
        }
    }
}

fn excel_time(at: Timestamp) -> Option<ExcelDateTime> {
    let t = jiff::Timestamp::from_microsecond(at.0).ok()?;
    let d = jiff::tz::TimeZone::UTC.to_datetime(t);
    let millis = u16::try_from(d.subsec_nanosecond() / 1_000_000).ok()?;
    ExcelDateTime::from_ymd(
        u16::try_from(d.year()).ok()?,
        d.month() as u8,
        d.day() as u8,
    )
    .ok()?
    .and_hms_milli(d.hour() as u16, d.minute() as u8, d.second() as u8, millis)
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_formats_show_the_currency_and_its_decimals() {
        let f = |c: &str| amount_format(c.parse().unwrap());
        assert_eq!(
            f("USD"),
            Format::new().set_num_format("\"$\"#,##0.00####;-\"$\"#,##0.00####")
        );
        assert_eq!(
            f("SEK"),
            Format::new().set_num_format("#,##0.0#####\" kr\";-#,##0.0#####\" kr\"")
        );
        assert_eq!(
            f("JPY"),
            Format::new().set_num_format("\"¥\"#,##0;-\"¥\"#,##0")
        );
    }

    #[test]
    fn times_keep_the_millisecond_and_refuse_what_a_spreadsheet_cannot_hold() {
        let at = Timestamp::parse_rfc3339("2025-09-02T09:15:30.123456Z").unwrap();
        let t = excel_time(at).unwrap();
        assert_eq!(
            t.to_excel(),
            ExcelDateTime::from_ymd(2025, 9, 2)
                .unwrap()
                .and_hms_milli(9, 15, 30, 123)
                .unwrap()
                .to_excel()
        );
        let old = Timestamp::parse_rfc3339("1800-01-01T00:00:00Z").unwrap();
        assert!(excel_time(old).is_none());
    }
}
