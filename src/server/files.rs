//! The API's file and ledger-wide endpoints: CSV export, HTML report, CSV
//! import, imports and pools as batches, reset and verify. Each calls the
//! same service function as its command.

use super::api::{currency, filter, AmountBody};
use super::error::{ApiError, ErrorBody};
use super::extract::{JsonBody, NoQuery, QueryArgs};
use super::AppState;
use crate::import::{Preset, ReadOptions};
use crate::ledger::Tags;
use crate::service::batches::{self, BatchVoidReport};
use crate::service::filter::FilterText;
use crate::service::import::{ImportReport, ImportRequest};
use crate::service::pool::{self, PoolAddedReport, PoolRequest, Projects, Split};
use crate::service::report::ReportOptions;
use crate::service::transfer::{self, ResetReport};
use crate::service::verify::VerifyReport;
use crate::store::Filter;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The largest CSV file `POST /import` takes.
pub const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

fn attachment(content_type: &'static str, name: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// The name a download is saved as: `gencost-<scope>-<day>.<ext>`, the
/// scope being the client and project filtered on as an ASCII slug
/// (`Café Noir` → `cafe-noir`), the day today's (UTC); `gencost-<day>.<ext>`
/// when neither is filtered on.
pub fn download_name(filter: &Filter, ext: &str) -> String {
    let scope: Vec<String> = [&filter.client, &filter.project]
        .into_iter()
        .flatten()
        .map(|name| slug(name))
        .filter(|slug| !slug.is_empty())
        .collect();
    let day = crate::timestamp::day_label(crate::timestamp::today());
    match scope.is_empty() {
        true => format!("gencost-{day}.{ext}"),
        false => format!("gencost-{}-{day}.{ext}", scope.join("-")),
    }
}

/// A name as lower-case ASCII letters and digits joined by single `-`:
/// folded as names are compared, accents dropped, anything else a break.
fn slug(name: &str) -> String {
    use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};
    let folded = crate::ledger::tags::fold(name);
    let mut slug = String::new();
    for c in folded.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    // At most 60 characters, so a long name cannot make a long file name.
    slug.truncate(60);
    slug.trim_end_matches('-').to_string()
}

/// What `GET /export.csv` takes besides the filter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Every amount in this currency too, at its own day's rate
    currency: Option<String>,
    /// Void entries too, marked
    include_void: Option<bool>,
}

/// What both exports take: the filter, `include_void` and `currency`
/// (`ExportQuery`), nothing else.
fn export_request(
    mut query: QueryArgs,
) -> Result<(Filter, Option<crate::money::Currency>), ApiError> {
    let mut filter = filter(&mut query)?;
    let asked = ExportQuery {
        currency: query.take("currency")?,
        include_void: Some(query.flag("include_void")?),
    };
    query.finish()?;
    filter.include_void = asked.include_void.unwrap_or(false);
    let currency = asked
        .currency
        .map(|c| currency("currency", &c))
        .transpose()?;
    Ok((filter, currency))
}

#[utoipa::path(get, path = "/api/v1/export.csv", params(FilterText, ExportQuery),
    responses((status = 200, content_type = "text/csv", description = "the file `gencost export csv` writes"),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 503, body = ErrorBody, description = "two reports or exports are being made (`overloaded`, with Retry-After)")))]
pub async fn export_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryArgs,
) -> Result<Response, ApiError> {
    super::heavy::check_site(&state.access, &headers)?;
    let (filter, currency) = export_request(query)?;
    let name = download_name(&filter, "csv");
    let store = state.store.clone();
    state
        .heavy
        .run(async move {
            // Written to a temporary file first, then streamed from it:
            // memory stays constant however large the ledger, and an error
            // is still a clean 4xx/5xx rather than half a file.
            let file = tempfile::tempfile().map_err(|e| {
                ApiError::from(crate::Error::Io(format!(
                    "cannot make a temporary file: {e}"
                )))
            })?;
            let writer = std::io::BufWriter::new(
                file.try_clone()
                    .map_err(|e| ApiError::from(crate::Error::Io(e.to_string())))?,
            );
            crate::service::export::export_csv(&*store, &filter, currency, writer, |_| {}).await?;
            let mut file = tokio::fs::File::from_std(file);
            use tokio::io::AsyncSeekExt;
            file.seek(std::io::SeekFrom::Start(0))
                .await
                .map_err(|e| ApiError::from(crate::Error::Io(e.to_string())))?;
            let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
            Ok(attachment("text/csv; charset=utf-8", &name, body))
        })
        .await
}

#[utoipa::path(get, path = "/api/v1/export.xlsx", params(FilterText, ExportQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                description = "the workbook `gencost export xlsx` writes"),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 503, body = ErrorBody, description = "two reports or exports are being made (`overloaded`, with Retry-After)")))]
pub async fn export_xlsx(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryArgs,
) -> Result<Response, ApiError> {
    super::heavy::check_site(&state.access, &headers)?;
    let (filter, currency) = export_request(query)?;
    let name = download_name(&filter, "xlsx");
    let store = state.store.clone();
    state
        .heavy
        .run(async move {
            // The workbook is a zip archive: made whole in memory (its
            // rows were spooled to a temporary file), then sent.
            let mut book = Vec::new();
            crate::service::export::export_xlsx(&*store, &filter, currency, &mut book, |_| {})
                .await?;
            Ok(attachment(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &name,
                Body::from(book),
            ))
        })
        .await
}

/// What `GET /report.html` takes besides the filter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Every figure in this currency (default USD)
    currency: Option<String>,
    /// The heading
    title: Option<String>,
    /// A markup on the invoice, in percent
    markup: Option<String>,
    /// The time the report states it was made (RFC 3339; default now)
    generated_at: Option<String>,
    /// The IANA time zone times are shown in
    tz: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/report.html", params(FilterText, ReportQuery),
    responses((status = 200, content_type = "text/html", description = "the file `gencost report html` writes"),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 503, body = ErrorBody, description = "two reports or exports are being made (`overloaded`, with Retry-After)")))]
pub async fn report_html(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut query: QueryArgs,
) -> Result<Response, ApiError> {
    super::heavy::check_site(&state.access, &headers)?;
    let filter = filter(&mut query)?;
    let asked = ReportQuery {
        currency: query.take("currency")?,
        title: query.take("title")?,
        markup: query.take("markup")?,
        generated_at: query.take("generated_at")?,
        tz: query.take("tz")?,
    };
    query.finish()?;
    let name = download_name(&filter, "html");
    let options = ReportOptions {
        filter,
        currency: asked.currency.unwrap_or_else(|| "USD".into()),
        title: asked.title,
        markup: asked.markup,
        generated_at: asked.generated_at,
        tz: asked.tz,
    };
    let request = options.into_request()?;
    let (store, catalog) = (state.store.clone(), state.catalog.clone());
    state
        .heavy
        .run(async move {
            let report = crate::service::report::report(store, &catalog, &request).await?;
            let html = crate::report::html::render_html(&report);
            Ok(attachment(
                "text/html; charset=utf-8",
                &name,
                Body::from(html),
            ))
        })
        .await
}

/// The fields of `POST /import` besides the file (multipart form fields).
#[derive(Default)]
struct ImportFields {
    file: Option<(String, Vec<u8>)>,
    values: BTreeMap<String, String>,
}

async fn read_multipart(mut multipart: Multipart) -> Result<ImportFields, ApiError> {
    let mut fields = ImportFields::default();
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(IMPORT_LIMIT)
        } else {
            ApiError::invalid(
                "body",
                format!("body: not a readable multipart form: {}", e.body_text()),
            )
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field
                .file_name()
                .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "upload.csv".into());
            let bytes = field.bytes().await.map_err(failed)?;
            if fields.file.is_some() {
                return Err(ApiError::invalid(
                    "file",
                    "file: given twice; import one file at a time",
                ));
            }
            fields.file = Some((file_name, bytes.to_vec()));
        } else {
            let text = field.text().await.map_err(failed)?;
            if fields.values.insert(name.clone(), text).is_some() {
                return Err(ApiError::invalid(&name, format!("{name}: given twice")));
            }
        }
    }
    Ok(fields)
}

#[utoipa::path(post, path = "/api/v1/import",
    request_body(content_type = "multipart/form-data", description = "file (the CSV); preset, source, currency, client, project, deliverable, date_format, dry_run"),
    responses((status = 201, body = Object, description = "the import's summary (as `gencost import --json`)"),
              (status = 200, body = Object, description = "a dry run, or nothing new to add"),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    let multipart = multipart.map_err(|e| {
        ApiError::invalid(
            "body",
            format!("body: send a multipart/form-data form ({})", e.body_text()),
        )
    })?;
    let ImportFields { file, mut values } = read_multipart(multipart).await?;
    let (name, bytes) = file.ok_or_else(|| {
        ApiError::invalid("file", "file: send the CSV in a form field named file")
    })?;
    let mut take = |key: &str| values.remove(key).filter(|v| !v.trim().is_empty());
    let preset = match take("preset").as_deref().map(str::trim) {
        None | Some("auto") => None,
        Some(other) => Some(
            other
                .parse::<Preset>()
                .map_err(|e| ApiError::invalid("preset", format!("preset: {e}")))?,
        ),
    };
    let currency = take("currency")
        .map(|c| currency("currency", &c))
        .transpose()?;
    let dry_run = match take("dry_run").as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("on") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "dry_run",
                format!("dry_run: '{other}' is not true or false"),
            ))
        }
    };
    let request = ImportRequest {
        file: name,
        read: ReadOptions {
            preset,
            date_format: take("date_format"),
            currency,
        },
        source: take("source"),
        currency,
        tags: Tags {
            client: take("client"),
            project: take("project"),
            deliverable: take("deliverable"),
        },
        dry_run,
    };
    if let Some(name) = values.keys().next() {
        return Err(ApiError::invalid(
            name,
            format!("{name}: not a field of an import"),
        ));
    }
    let report =
        crate::service::import::import(&*state.store, std::io::Cursor::new(bytes), request, |_| {})
            .await?;
    let status = if report.batch.is_some() {
        state.changes.written();
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(report)))
}

#[utoipa::path(get, path = "/api/v1/imports",
    responses((status = 200, body = Vec<Object>, description = "imports, oldest first, as `gencost import list --json`")))]
pub async fn imports(
    State(state): State<AppState>,
    _: NoQuery,
) -> Result<Json<Vec<batches::Listed>>, ApiError> {
    Ok(Json(batches::listed(&*state.store, true).await?))
}

#[utoipa::path(get, path = "/api/v1/pools",
    responses((status = 200, body = Vec<Object>, description = "pools, oldest first, as `gencost pool list --json`")))]
pub async fn pools(
    State(state): State<AppState>,
    _: NoQuery,
) -> Result<Json<Vec<batches::Listed>>, ApiError> {
    Ok(Json(batches::listed(&*state.store, false).await?))
}

/// Why an import or a pool is taken out of totals.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

fn batch_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text.trim())
        .map_err(|_| ApiError::invalid("id", format!("id: '{text}' is not an import or pool id")))
}

async fn void_batch(
    state: &AppState,
    id: &str,
    reason: &str,
    import: bool,
) -> Result<Json<BatchVoidReport>, ApiError> {
    let id = batch_id(id)?;
    let report = batches::void(&*state.store, id, reason, import).await?;
    state.changes.written();
    Ok(Json(report))
}

#[utoipa::path(post, path = "/api/v1/imports/{id}/void", request_body = ReasonBody,
    params(("id" = String, Path, description = "the import's batch id")),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn void_import(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> Result<Json<BatchVoidReport>, ApiError> {
    void_batch(&state, &id, &body.reason, true).await
}

#[utoipa::path(post, path = "/api/v1/pools/{id}/void", request_body = ReasonBody,
    params(("id" = String, Path, description = "the pool's id")),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn void_pool(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> Result<Json<BatchVoidReport>, ApiError> {
    void_batch(&state, &id, &body.reason, false).await
}

/// `POST /pools`, as `gencost pool add`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolBody {
    pub amount: AmountBody,
    pub description: String,
    /// YYYY-MM
    pub period: String,
    /// The projects sharing the cost; or all_projects.
    #[serde(default)]
    pub projects: Vec<String>,
    #[serde(default)]
    pub all_projects: bool,
    /// even (default), spend or weights.
    pub split: Option<String>,
    /// For split weights: project → weight, e.g. {"Summer Spot": "2"}.
    #[serde(default)]
    pub weights: BTreeMap<String, String>,
    pub source: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/pools", request_body = PoolBody,
    responses((status = 201, body = Object, description = "the pool and its shares"),
              (status = 400, body = ErrorBody)))]
pub async fn add_pool(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<PoolBody>,
) -> Result<(StatusCode, Json<PoolAddedReport>), ApiError> {
    let split: Split = body
        .split
        .as_deref()
        .unwrap_or("even")
        .parse()
        .map_err(|e: String| ApiError::invalid("split", format!("split: {e}")))?;
    let projects = match (body.all_projects, body.projects.is_empty()) {
        (true, true) => Projects::All,
        (false, false) => Projects::Listed(body.projects),
        (true, false) => {
            return Err(ApiError::invalid(
                "projects",
                "projects: give the projects or all_projects, not both",
            ))
        }
        (false, true) => {
            return Err(ApiError::invalid(
                "projects",
                "projects: name the projects that share the cost, or set all_projects",
            ))
        }
    };
    let request = PoolRequest {
        amount: body.amount.money("amount")?,
        description: body.description,
        period: body.period,
        projects,
        split,
        weights: body.weights.into_iter().collect(),
        source: body.source,
    };
    let added = pool::add(&*state.store, request).await?;
    state.changes.written();
    Ok((StatusCode::CREATED, Json(added)))
}

/// `POST /reset`: `{"confirm":"DELETE"}`, exactly.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    pub confirm: String,
    /// Reset a ledger that holds invoices too.
    #[serde(default)]
    pub including_invoices: bool,
}

#[utoipa::path(post, path = "/api/v1/reset", request_body = ResetBody,
    responses((status = 200, body = Object, description = "where the backup was written"),
              (status = 400, body = ErrorBody)))]
pub async fn reset(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<ResetBody>,
) -> Result<Json<ResetReport>, ApiError> {
    // The backup's copy between two stores makes a future the compiler
    // cannot prove Send, so it runs to completion on a blocking thread.
    let store = state.store.clone();
    let runtime = tokio::runtime::Handle::current();
    let reset = tokio::task::spawn_blocking(move || {
        runtime.block_on(transfer::reset_with_backup(
            &store,
            &body.confirm,
            None,
            body.including_invoices,
        ))
    });
    let report = reset
        .await
        .map_err(|e| ApiError::from(crate::Error::Io(format!("the reset stopped: {e}"))))?
        .map_err(|e| match e {
            crate::Error::Input(message) => ApiError::invalid("confirm", message),
            other => other.into(),
        })?;
    state.changes.written();
    Ok(Json(report))
}

/// A heavy page too: it reads the whole ledger.
#[utoipa::path(get, path = "/api/v1/verify",
    responses((status = 200, body = Object, description = "{events, entries, head, problem}: problem is null when the ledger is sound"),
              (status = 403, body = ErrorBody),
              (status = 503, body = ErrorBody, description = "two reports, exports or verifies are running (`overloaded`, with Retry-After)")))]
pub async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    _: NoQuery,
) -> Result<Response, ApiError> {
    super::heavy::check_site(&state.access, &headers)?;
    let store = state.store.clone();
    state
        .heavy
        .run(async move {
            let report: VerifyReport = crate::service::verify::verify(store).await?;
            Ok(Json(report).into_response())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_are_named_after_their_scope_and_day() {
        let day = crate::timestamp::day_label(crate::timestamp::today());
        let name = |client: Option<&str>, project: Option<&str>| {
            let filter = Filter {
                client: client.map(String::from),
                project: project.map(String::from),
                ..Filter::default()
            };
            download_name(&filter, "csv")
        };
        assert_eq!(name(None, None), format!("gencost-{day}.csv"));
        assert_eq!(name(Some("Acme"), None), format!("gencost-acme-{day}.csv"));
        assert_eq!(
            name(None, Some("Café  Noir / Été")),
            format!("gencost-cafe-noir-ete-{day}.csv")
        );
        assert_eq!(
            name(Some("ACME"), Some("Summer Spot")),
            format!("gencost-acme-summer-spot-{day}.csv")
        );
        // Nothing ASCII to keep: the scope is left out, never a bare dash.
        assert_eq!(name(Some("東京"), None), format!("gencost-{day}.csv"));
        assert_eq!(name(Some("\"; x"), None), format!("gencost-x-{day}.csv"));
    }
}
