//! Imports of external costs from CSV files: every row checked, then all
//! rows written in one transaction, or none. Each row carries a fingerprint
//! (its normalised content and its occurrence number among identical rows
//! of the file) as its request id, so a second import of the same file, or
//! of an overlapping later export, adds only the rows not yet imported; a
//! provider's day bucket whose amount grew is recorded as a correction.

use super::warning::Warning;
use super::{limits, rates};
use crate::error::{Error, Result};
use crate::import::{self, CsvRows, Field, HeaderError, ImportRow, Preset, ReadOptions, RowResult};
use crate::ledger::event::{decimal, ImportRecorded, ImportedCost};
use crate::ledger::tags::{fold, lowercase_into, normalize, normalized};
use crate::ledger::{Command, ImportedRow, Outcome, RowOutcome, TagField, Tags};
use crate::money::{Currency, Money};
use crate::store::{LedgerWriter, Store};
use crate::timestamp::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use uuid::Uuid;

/// Rows checked and written per command.
const CHUNK: usize = 5_000;
/// Bad rows listed in the error; the rest are counted.
pub const MAX_LISTED_ERRORS: usize = 20;
/// Rows shown by a dry run.
const PREVIEW_ROWS: usize = 10;

/// What a checked row will count, and show, if the ledger adds it.
struct Pending {
    amount: Money,
    /// Built only until the first rows a dry run shows are known.
    preview: Option<PreviewRow>,
}

/// An import, as every surface asks for it.
#[derive(Clone, Debug, Default)]
pub struct ImportRequest {
    /// The name errors and the batch record show (no directories).
    pub file: String,
    pub read: ReadOptions,
    /// Fill cells the file leaves empty or has no column for; a value in
    /// the file wins.
    pub source: Option<String>,
    pub currency: Option<Currency>,
    pub tags: Tags,
    /// Check and count everything, write nothing.
    pub dry_run: bool,
}

/// How many rows took each flag because the file gave no value.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Filled {
    pub source: i64,
    pub currency: i64,
    pub client: i64,
    pub project: i64,
    pub deliverable: i64,
}

/// A row an import adds, as a dry run shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PreviewRow {
    pub line: u64,
    pub occurred_at: Timestamp,
    pub source: String,
    pub description: Option<String>,
    pub amount: Money,
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
}

/// What an import did (or, for a dry run, would do).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportReport {
    /// The batch's id; `None` for a dry run and for an import that added
    /// and corrected nothing (no batch is recorded then).
    pub batch: Option<Uuid>,
    pub dry_run: bool,
    pub file: String,
    pub preset: Preset,
    /// Data rows read, empty days included.
    pub rows: i64,
    pub added: i64,
    /// Rows an earlier import already holds.
    pub present: i64,
    /// Day buckets whose amount changed since an earlier import.
    pub corrected: i64,
    /// Empty days (a provider's rows without an amount).
    pub skipped: i64,
    /// Added rows with a negative amount (refunds, credits).
    pub refunds: i64,
    /// OpenAI rows reduced by the runs gencost's proxy already logged on
    /// the same day for the same model (only the rest is imported), and
    /// what was left out, per currency.
    pub proxied_rows: i64,
    pub proxied_totals: Vec<Money>,
    pub filled: Filled,
    /// The added rows' sum, per currency.
    pub added_totals: Vec<Money>,
    /// The first rows added.
    pub first_rows: Vec<PreviewRow>,
    /// Projects the ledger did not have, which the import creates (or, in a
    /// dry run, would create); left out when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// Imports `input` (the file `request.file`), calling `progress` with the
/// bytes read so far. A file with any bad row is refused whole: the error
/// lists each bad row, up to `MAX_LISTED_ERRORS`, as `FILE:LINE: reason`.
pub async fn import<S, R>(
    store: &S,
    input: R,
    request: ImportRequest,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport>
where
    S: Store,
    R: Read + Send + 'static,
{
    let file = request.file.clone();
    let rows = import::read(input, &request.read).map_err(|e| match e {
        // The format asked for, not the file, is at fault.
        HeaderError::DateFormat { format, reason } => Error::Field {
            field: "date_format",
            message: format!("'{format}': {reason}"),
        },
        e => Error::input(format!("{file}: {e}")),
    })?;
    let preset = rows.preset();
    let defaults = Defaults::new(&request, &rows)?;
    // The file is read and its rows parsed on a thread of their own while
    // the rows before them are written.
    let (chunks, mut received) = tokio::sync::mpsc::channel::<(Vec<RowResult>, u64)>(2);
    let reader = std::thread::spawn(move || read_chunks(rows, chunks));

    let mut import = Import::new(request, preset, defaults);
    let mut writer = Some(store.writer().await?);
    let batch = Uuid::now_v7();
    // Each chunk is written on a task of its own while the next one is
    // checked here, so sealing the events and checking the rows run on
    // both cores, and the database works all the while.
    let mut writing: Option<Writing<S::Writer>> = None;
    while let Some((chunk, bytes)) = received.recv().await {
        let checked = import.check(store, chunk).await;
        if let Some(written) = writing.take() {
            writer = Some(import.finish_write(written, &mut progress).await?);
        }
        let checked = checked?;
        if import.errors.is_empty() && !checked.is_empty() {
            let writer = writer.take().ok_or_else(no_writer)?;
            writing = Some(Writing::start(writer, batch, checked, bytes));
        } else {
            progress(bytes);
        }
    }
    if let Some(written) = writing.take() {
        writer = Some(import.finish_write(written, &mut progress).await?);
    }
    let mut writer = writer.ok_or_else(no_writer)?;
    reader
        .join()
        .map_err(|_| Error::Io(format!("{file}: the reader stopped unexpectedly")))?;
    if !import.errors.is_empty() {
        drop(writer);
        return Err(import.refusal());
    }
    let new_projects = std::mem::take(&mut import.new_projects);
    let mut report = import.finish();
    if report.dry_run || report.added + report.corrected == 0 {
        writer.rollback().await?;
        // Only rows added create their projects; a dry run tells what its
        // import would create.
        if report.dry_run || report.added > 0 {
            report.warnings = new_project_warnings(store, &new_projects).await?;
        }
        return Ok(report);
    }
    writer
        .execute(
            Command::RecordImport(ImportRecorded {
                batch,
                file: report.file.clone(),
                preset: preset.as_str().to_string(),
                rows: report.rows,
                added: report.added,
                present: report.present,
                corrected: report.corrected,
                skipped: report.skipped,
            }),
            Timestamp::now(),
        )
        .await?;
    writer.commit().await?;
    report.batch = Some(batch);
    report.warnings = new_project_warnings(store, &new_projects).await?;
    Ok(report)
}

/// Warnings for the projects an import creates, the first `MAX_LISTED_ERRORS`.
async fn new_project_warnings<S: Store>(store: &S, new: &[String]) -> Result<Vec<Warning>> {
    let listed = &new[..new.len().min(MAX_LISTED_ERRORS)];
    super::tags::new_name_warnings(store, TagField::Project, "project", listed).await
}

/// A checked chunk being written on its own task, and the bytes of the
/// file read up to its end.
struct Writing<W> {
    task: AbortOnDrop<(W, Result<Vec<RowOutcome>>)>,
    pending: Vec<Pending>,
    bytes: u64,
}

impl<W: LedgerWriter + 'static> Writing<W> {
    fn start(mut writer: W, batch: Uuid, checked: Vec<(ImportedRow, Pending)>, bytes: u64) -> Self {
        let (rows, pending) = checked.into_iter().unzip();
        let task = AbortOnDrop(tokio::spawn(async move {
            let written = write(&mut writer, batch, rows).await;
            (writer, written)
        }));
        Writing {
            task,
            pending,
            bytes,
        }
    }
}

/// A task stopped when its handle is dropped: an import whose caller went
/// away (a closed request) does not go on writing into a transaction that
/// will only be rolled back, holding the ledger's write lock meanwhile.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn no_writer() -> Error {
    Error::Io("the import's transaction was lost".into())
}

/// Writes a checked chunk in the import's transaction; returns what the
/// ledger did with each row.
async fn write<W: LedgerWriter>(
    writer: &mut W,
    batch: Uuid,
    rows: Vec<ImportedRow>,
) -> Result<Vec<RowOutcome>> {
    let executed = writer
        .execute(Command::Import { batch, rows }, Timestamp::now())
        .await?;
    match executed.outcome {
        Outcome::Imported(outcomes) => Ok(outcomes),
        other => Err(Error::Io(format!("unexpected outcome {other:?}"))),
    }
}

/// Sends the rows in chunks, with the bytes read after each.
fn read_chunks<R: Read>(
    mut rows: CsvRows<R>,
    chunks: tokio::sync::mpsc::Sender<(Vec<RowResult>, u64)>,
) {
    loop {
        let chunk: Vec<RowResult> = rows.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            return;
        }
        if chunks.blocking_send((chunk, rows.bytes_read())).is_err() {
            return;
        }
    }
}

/// What fills the cells a file leaves empty.
struct Defaults {
    source: Option<String>,
    currency: Option<Currency>,
    /// Whether the file has a currency column (its cells may still be empty).
    currency_column: bool,
    tags: Tags,
}

impl Defaults {
    fn new<R>(request: &ImportRequest, rows: &CsvRows<R>) -> Result<Defaults> {
        let source = match request.source.as_deref().map(str::trim) {
            Some("") => return Err(Error::input("--source: cannot be empty")),
            Some(source) => {
                limits::name("--source", source)?;
                Some(source.to_string())
            }
            None => rows.preset().default_source().map(str::to_string),
        };
        if source.is_none() && !rows.has_column(Field::Source) {
            return Err(Error::Field {
                field: "source",
                message: "the file has no column for the source (category, tool, service, vendor); name the tool its costs are from, e.g. Midjourney".into(),
            });
        }
        let mut tags = Tags::default();
        for field in TagField::ALL {
            if let Some(value) = request.tags.get(field) {
                let Some(value) = normalize(value) else {
                    return Err(Error::input(format!(
                        "--{}: cannot be empty",
                        field.column()
                    )));
                };
                limits::name(&format!("--{}", field.column()), &value)?;
                *tags.slot(field) = Some(value);
            }
        }
        Ok(Defaults {
            source,
            currency: request.currency,
            currency_column: rows.has_column(Field::Currency),
            tags,
        })
    }
}

/// The checks and counts of one import as its rows arrive.
struct Import {
    file: String,
    defaults: Defaults,
    report: ImportReport,
    errors: Vec<(u64, String)>,
    bad_rows: u64,
    /// Occurrences so far of each row identity.
    seen: Occurrences,
    /// The first day each currency can be converted.
    first_days: HashMap<Currency, Option<i64>>,
    /// Tag names in the ledger's spelling, by field and lower case.
    spellings: HashMap<(TagField, String), String>,
    /// The same, by field and the name as the file spells it: found
    /// without folding the name first.
    spelled_as_given: [HashMap<String, String>; 3],
    totals: BTreeMap<Currency, i64>,
    /// What the OpenAI runs the proxy logged come to, by UTC day, model and
    /// currency, less what rows of the file were already reduced by.
    proxied: HashMap<i64, HashMap<(String, Currency), i64>>,
    proxied_totals: BTreeMap<Currency, i64>,
    /// Projects named by the file or the request that the ledger does not
    /// have, in their first spelling.
    new_projects: Vec<String>,
    now: Timestamp,
}

impl Import {
    fn new(request: ImportRequest, preset: Preset, defaults: Defaults) -> Import {
        Import {
            report: ImportReport {
                batch: None,
                dry_run: request.dry_run,
                file: request.file.clone(),
                preset,
                rows: 0,
                added: 0,
                present: 0,
                corrected: 0,
                skipped: 0,
                refunds: 0,
                proxied_rows: 0,
                proxied_totals: Vec::new(),
                filled: Filled::default(),
                added_totals: Vec::new(),
                first_rows: Vec::new(),
                warnings: Vec::new(),
            },
            new_projects: Vec::new(),
            file: request.file,
            defaults,
            errors: Vec::new(),
            bad_rows: 0,
            seen: Occurrences::default(),
            first_days: HashMap::new(),
            spellings: HashMap::new(),
            spelled_as_given: Default::default(),
            totals: BTreeMap::new(),
            proxied: HashMap::new(),
            proxied_totals: BTreeMap::new(),
            now: Timestamp::now(),
        }
    }

    /// Checks a chunk of rows; returns them as the ledger logs them. Once
    /// a row is bad nothing will be written, and the rest are only checked.
    async fn check<S: Store>(
        &mut self,
        store: &S,
        chunk: Vec<RowResult>,
    ) -> Result<Vec<(ImportedRow, Pending)>> {
        let mut rows = Vec::with_capacity(chunk.len());
        for result in chunk {
            self.report.rows += 1;
            match result {
                RowResult::Skipped { .. } => self.report.skipped += 1,
                RowResult::Bad { line, reason } => self.bad(line, reason),
                RowResult::Row(row) => {
                    let line = row.line;
                    match self.record(store, row).await {
                        Ok(row) => rows.push(row),
                        Err(Error::Input(reason)) => self.bad(line, reason),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(rows)
    }

    fn bad(&mut self, line: u64, reason: String) {
        self.bad_rows += 1;
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push((line, reason));
        }
    }

    /// Waits for a chunk's write, counts what the ledger did with its rows
    /// and hands back the transaction.
    async fn finish_write<W>(
        &mut self,
        mut writing: Writing<W>,
        progress: &mut impl FnMut(u64),
    ) -> Result<W> {
        let (writer, written) = (&mut writing.task.0)
            .await
            .map_err(|e| Error::Io(format!("writing the rows stopped: {e}")))?;
        self.count_all(written?, writing.pending);
        progress(writing.bytes);
        Ok(writer)
    }

    /// Counts what the ledger did with a chunk's rows.
    fn count_all(&mut self, outcomes: Vec<RowOutcome>, pending: Vec<Pending>) {
        for (outcome, pending) in outcomes.into_iter().zip(pending) {
            self.count(outcome, pending);
        }
    }

    /// Counts what the ledger did with a row.
    fn count(&mut self, outcome: RowOutcome, pending: Pending) {
        match outcome {
            RowOutcome::Present => self.report.present += 1,
            RowOutcome::Corrected => self.report.corrected += 1,
            RowOutcome::Added => {
                self.report.added += 1;
                let amount = pending.amount;
                *self.totals.entry(amount.currency).or_default() += amount.micros;
                if amount.micros < 0 {
                    self.report.refunds += 1;
                }
                if let Some(preview) = pending.preview {
                    if self.report.first_rows.len() < PREVIEW_ROWS {
                        self.report.first_rows.push(preview);
                    }
                }
            }
        }
    }

    /// The entry a row is logged as, with its fingerprint.
    async fn record<S: Store>(
        &mut self,
        store: &S,
        row: ImportRow,
    ) -> Result<(ImportedRow, Pending)> {
        let preset = self.report.preset;
        let ImportRow {
            line,
            occurred_at,
            description,
            amount_micros,
            currency,
            source,
            client,
            project,
            deliverable,
            model,
            content,
            bucket_key,
        } = row;
        let filled = &mut self.report.filled;
        let source = fill(source, &self.defaults.source, &mut filled.source).ok_or_else(|| {
            Error::input("source: empty, and no source was chosen for rows without one")
        })?;
        let currency =
            match (currency, self.defaults.currency) {
                (Some(currency), _) => currency,
                (None, Some(currency)) => {
                    filled.currency += 1;
                    currency
                }
                // The whole file is in a currency no one named: one refusal
                // for the file, not one per row.
                (None, None) if !self.defaults.currency_column => return Err(Error::Field {
                    field: "currency",
                    message:
                        "the file has no currency column; choose the currency its amounts are in"
                            .into(),
                }),
                (None, None) => {
                    return Err(Error::input(
                        "currency: empty, and no currency was chosen for rows without one",
                    ))
                }
            };
        // Names from the file are spelled as `log` spells them (composed,
        // single spaces), so "Acme  Corp" is the same client as "Acme Corp".
        let named = |value: Option<String>| value.and_then(normalized);
        let mut tags = Tags {
            client: fill(
                named(client),
                &self.defaults.tags.client,
                &mut filled.client,
            ),
            project: fill(
                named(project),
                &self.defaults.tags.project,
                &mut filled.project,
            ),
            deliverable: fill(
                named(deliverable),
                &self.defaults.tags.deliverable,
                &mut filled.deliverable,
            ),
        };
        limits::name("source", &source)?;
        if let Some(model) = &model {
            limits::name("model", model)?;
        }
        if let Some(description) = &description {
            limits::description(description)?;
        }
        let (amount_micros, description) = match (preset, model.as_deref()) {
            (Preset::OpenAi, Some(model)) if amount_micros > 0 => {
                self.less_proxied(
                    store,
                    occurred_at,
                    model,
                    currency,
                    amount_micros,
                    description,
                )
                .await?
            }
            _ => (amount_micros, description),
        };
        let amount = Money::new(amount_micros, currency);
        limits::amount("amount", amount)?;
        limits::occurred_at("date", occurred_at, self.now)?;
        let first_day = match self.first_days.get(&currency) {
            Some(first) => *first,
            None => {
                let first = rates::first_convertible_day(store, currency).await?;
                self.first_days.insert(currency, first);
                first
            }
        };
        rates::convertible_from(currency, occurred_at.day(), first_day)?;
        for field in TagField::ALL {
            let slot = tags.slot(field);
            if let Some(value) = slot.take() {
                limits::name(field.column(), &value)?;
                *slot = Some(self.spelling(store, field, value).await?);
            }
        }

        let corrects = bucket_key.is_some();
        // The values flags filled are part of the identity too: the same row
        // in the files of two tools (--source) or two clients' accounts
        // (--client) is two costs, not one.
        let mut identity = bucket_key.unwrap_or(content);
        for value in [
            Some(source.as_str()),
            Some(currency.code()),
            tags.client.as_deref(),
            tags.project.as_deref(),
            tags.deliverable.as_deref(),
        ] {
            identity.push(crate::import::UNIT_SEPARATOR);
            lowercase_into(&mut identity, value.unwrap_or(""));
        }
        let fingerprint = self.fingerprint(preset, &identity);
        // Rows checked while a chunk is written may be shown too, so this
        // builds a few more previews than it shows, never fewer.
        let preview = (self.report.first_rows.len() < PREVIEW_ROWS).then(|| PreviewRow {
            line,
            occurred_at,
            source: source.clone(),
            description: description.clone(),
            amount,
            client: tags.client.clone(),
            project: tags.project.clone(),
            deliverable: tags.deliverable.clone(),
        });
        let pending = Pending { amount, preview };
        let Tags {
            client,
            project,
            deliverable,
        } = tags;
        Ok((
            ImportedRow {
                cost: ImportedCost {
                    id: Uuid::now_v7(),
                    occurred_at: occurred_at.0,
                    source,
                    model,
                    description,
                    client,
                    project,
                    deliverable,
                    fingerprint,
                    micros: amount_micros,
                    currency,
                },
                corrects,
            },
            pending,
        ))
    }

    /// An OpenAI row's amount less what the proxy already logged for the
    /// same UTC day and model (never below zero), and its description
    /// saying so: the proxied runs are not counted twice.
    async fn less_proxied<S: Store>(
        &mut self,
        store: &S,
        occurred_at: Timestamp,
        model: &str,
        currency: Currency,
        amount: i64,
        description: Option<String>,
    ) -> Result<(i64, Option<String>)> {
        let day = occurred_at.day();
        if let std::collections::hash_map::Entry::Vacant(slot) = self.proxied.entry(day) {
            slot.insert(proxied_on(store, day).await?);
        }
        let key = (model.trim().to_ascii_lowercase(), currency);
        let Some(left) = self.proxied.get_mut(&day).and_then(|m| m.get_mut(&key)) else {
            return Ok((amount, description));
        };
        let taken = amount.min(*left);
        if taken <= 0 {
            return Ok((amount, description));
        }
        *left -= taken;
        self.report.proxied_rows += 1;
        *self.proxied_totals.entry(currency).or_default() += taken;
        let note = format!(
            "{} of {} already logged by the proxy; the rest imported",
            crate::money::format_exact(taken, currency),
            crate::money::format_exact(amount, currency)
        );
        let description = Some(match description {
            Some(text) => format!("{text} ({note})"),
            None => note,
        });
        Ok((amount - taken, description))
    }

    /// `import:` and 32 hex digits of SHA-256 over the preset, the row's
    /// identity and its occurrence number among rows of the same identity.
    fn fingerprint(&mut self, preset: Preset, identity: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"gencost-import-v1\n");
        hasher.update(preset.as_str().as_bytes());
        hasher.update(b"\n");
        hasher.update(identity.as_bytes());
        let identity_hash = hasher.clone().finalize();
        let key = u64::from_le_bytes(identity_hash[..8].try_into().unwrap_or_default());
        let occurrence = self.seen.next(key);
        hasher.update(b"\n");
        hasher.update(decimal(i64::from(occurrence), &mut [0u8; 20]));
        // Built in place rather than formatted: this runs for every row.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut fingerprint = String::with_capacity(39);
        fingerprint.push_str("import:");
        for byte in &hasher.finalize()[..16] {
            fingerprint.push(char::from(HEX[usize::from(byte >> 4)]));
            fingerprint.push(char::from(HEX[usize::from(byte & 15)]));
        }
        fingerprint
    }

    /// The ledger's spelling of a tag name that differs only by case; the
    /// first spelling in the file for a name the ledger does not have.
    async fn spelling<S: Store>(
        &mut self,
        store: &S,
        field: TagField,
        given: String,
    ) -> Result<String> {
        let as_given = &mut self.spelled_as_given[field.index()];
        if let Some(spelled) = as_given.get(given.as_str()) {
            return Ok(if *spelled == given {
                given
            } else {
                spelled.clone()
            });
        }
        let key = (field, fold(&given));
        let spelled = match self.spellings.get(&key) {
            Some(spelled) => spelled.clone(),
            None => {
                let spelled = match store.tag_spelling(field, &given).await? {
                    Some(spelled) => spelled,
                    None => {
                        if field == TagField::Project {
                            self.new_projects.push(given.clone());
                        }
                        given.clone()
                    }
                };
                self.spellings.insert(key, spelled.clone());
                spelled
            }
        };
        self.spelled_as_given[field.index()].insert(given, spelled.clone());
        Ok(spelled)
    }

    fn refusal(&self) -> Error {
        let mut message = format!(
            "{}: {} bad {}; nothing was imported",
            self.file,
            self.bad_rows,
            if self.bad_rows == 1 { "row" } else { "rows" }
        );
        for (line, reason) in &self.errors {
            message.push_str(&format!("\n{}:{line}: {reason}", self.file));
        }
        let unlisted = self.bad_rows - self.errors.len() as u64;
        if unlisted > 0 {
            message.push_str(&format!("\n... and {unlisted} more"));
        }
        Error::Input(message)
    }

    fn finish(mut self) -> ImportReport {
        self.report.added_totals = self
            .totals
            .into_iter()
            .map(|(currency, micros)| Money::new(micros, currency))
            .collect();
        self.report.proxied_totals = self
            .proxied_totals
            .into_iter()
            .map(|(currency, micros)| Money::new(micros, currency))
            .collect();
        self.report
    }
}

/// What the OpenAI runs the proxy logged on UTC day `day` come to, by
/// model (as OpenAI's export names it, lower case) and currency: live,
/// charged runs, at their confirmed cost, else their estimate.
async fn proxied_on<S: Store>(store: &S, day: i64) -> Result<HashMap<(String, Currency), i64>> {
    const DAY: i64 = 86_400_000_000;
    let filter = crate::store::Filter {
        kind: Some(crate::ledger::Kind::Generation),
        since: Some(Timestamp(day * DAY)),
        until: Some(Timestamp((day + 1) * DAY)),
        ..crate::store::Filter::default()
    };
    let source = crate::ledger::tags::fold(super::providers::openai::SOURCE);
    let mut page = crate::store::Page {
        limit: 1000,
        after: None,
    };
    let mut sums: HashMap<(String, Currency), i64> = HashMap::new();
    loop {
        let entries = store.list(&filter, page).await?;
        let Some(last) = entries.last() else { break };
        page.after = Some(crate::store::Cursor::after(last));
        let full = entries.len() as i64 == page.limit;
        for entry in entries {
            let proxied = entry.batch.is_none()
                && entry.void.is_none()
                && entry.is_charged()
                && crate::ledger::tags::fold(&entry.source) == source;
            let cost = entry.cost();
            let (Some(model), Some(micros), true) = (&entry.model, cost.micros, proxied) else {
                continue;
            };
            let model = model.strip_prefix("openai/").unwrap_or(model);
            *sums
                .entry((model.to_ascii_lowercase(), cost.currency))
                .or_default() += micros;
        }
        if !full {
            break;
        }
    }
    Ok(sums)
}

/// How often each row identity has occurred so far in the file, by the
/// first 8 bytes of its hash: a collision only numbers a row one higher, the
/// same way on every import of the file, so fingerprints stay stable. Most
/// identities occur once, so those are only a set, of 9 bytes a slot: a map
/// of counts for a million rows took 36 MB, and twice that while it grew.
#[derive(Default)]
struct Occurrences {
    once: HashSet<u64, BuildHasherDefault<HashBits>>,
    more: HashMap<u64, u32>,
}

impl Occurrences {
    /// Counts one more occurrence of `key`; returns its number (1 for the first).
    fn next(&mut self, key: u64) -> u32 {
        if self.once.insert(key) {
            return 1;
        }
        let count = self.more.entry(key).or_insert(1);
        *count += 1;
        *count
    }
}

/// Keys that are already bits of a SHA-256 hash need no hashing again.
#[derive(Default)]
struct HashBits(u64);

impl Hasher for HashBits {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// The file's value, else the flag's (counted).
fn fill(value: Option<String>, flag: &Option<String>, count: &mut i64) -> Option<String> {
    match value {
        Some(value) => Some(value),
        None => {
            let filled = flag.clone();
            if filled.is_some() {
                *count += 1;
            }
            filled
        }
    }
}
