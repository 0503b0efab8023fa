//! `/invoices`: list, create, show (JSON, or the document as `.html` or
//! the lines as `.csv`), void and credit, as `gencost invoice` does.

use super::error::{ApiError, ErrorBody};
use super::extract::JsonBody;
use super::AppState;
use crate::money::format_exact;
use crate::report::invoice_doc::{render_credit, render_invoice, write_csv};
use crate::service::invoice::{self as service, CreateOptions, Credited, Document};
use crate::timestamp::{day_label, Timestamp};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[utoipa::path(get, path = "/api/v1/invoices",
    responses((status = 200, body = Object, description = "every invoice and credit note, in number order")))]
pub async fn list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let all = service::list(&*state.store).await?;
    Ok(Json(serde_json::json!({
        "invoices": all.iter().map(service::record_json).collect::<Vec<_>>()
    })))
}

/// `POST /invoices`, as `gencost invoice create`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub client: String,
    #[serde(default)]
    pub projects: Vec<String>,
    /// YYYY-MM; or since and until
    pub month: Option<String>,
    pub since: Option<String>,
    /// A date includes that whole UTC day
    pub until: Option<String>,
    /// Percent, e.g. "15"
    pub markup: Option<String>,
    /// Default USD
    pub currency: Option<String>,
    /// Default INV
    pub series: Option<String>,
    /// Days until due, default 30
    pub due: Option<i64>,
    #[serde(default)]
    pub require_confirmed: bool,
    #[serde(default)]
    pub allow_unpriced: bool,
    /// Draft only: nothing is issued or locked
    #[serde(default)]
    pub dry_run: bool,
}

#[utoipa::path(post, path = "/api/v1/invoices", request_body = CreateBody,
    responses((status = 200, body = Object, description = "the invoice issued (or drafted, with dry_run)"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "nothing to invoice"),
              (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Response, ApiError> {
    let options = CreateOptions {
        client: body.client,
        projects: body.projects,
        month: body.month,
        since: body.since,
        until: body.until,
        markup: body.markup,
        currency: body.currency.unwrap_or_else(|| "USD".into()),
        series: body.series,
        due_days: body.due,
        require_confirmed: body.require_confirmed,
        allow_unpriced: body.allow_unpriced,
    };
    let dry_run = body.dry_run;
    let store = state.store.clone();
    let changes = state.changes.clone();
    state
        .heavy
        .run(async move {
            let created = service::create(&*store, &options, dry_run, Timestamp::now()).await?;
            if created.issued {
                changes.written();
            }
            Ok(Json(created.json()).into_response())
        })
        .await
}

#[utoipa::path(get, path = "/api/v1/invoices/{number}",
    params(("number" = String, Path, description = "e.g. INV-2026-0001; with .html the document, with .csv its lines")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let (number, format) = match number.rsplit_once('.') {
        Some((n, "html")) => (n.to_string(), "html"),
        Some((n, "csv")) => (n.to_string(), "csv"),
        _ => (number, "json"),
    };
    let (record, document) = service::show(&*state.store, &number).await?;
    let file = |content_type: &'static str, bytes: Vec<u8>, ext: &str| {
        (
            [
                (header::CONTENT_TYPE, content_type.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{}.{ext}\"", record.number),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            Body::from(bytes),
        )
            .into_response()
    };
    match format {
        "html" => {
            let checkpoint = service::document_checkpoint(&state.store).await?;
            let html = match &document {
                Document::Invoice(i) => render_invoice(&record, i, checkpoint.as_ref()),
                Document::Credit(c) => render_credit(&record, c, checkpoint.as_ref()),
            };
            Ok(file("text/html; charset=utf-8", html.into_bytes(), "html"))
        }
        "csv" => {
            let Document::Invoice(invoice) = &document else {
                return Err(ApiError::from(crate::Error::NotFound(format!(
                    "{}: a credit note has no lines as CSV",
                    record.number
                ))));
            };
            let mut bytes = Vec::new();
            write_csv(invoice, &mut bytes)
                .map_err(|e| ApiError::from(crate::Error::Io(e.to_string())))?;
            Ok(file("text/csv; charset=utf-8", bytes, "csv"))
        }
        _ => {
            let mut json = service::record_json(&record);
            if let Document::Invoice(i) = &document {
                json["entries"] =
                    serde_json::json!(i.each_line().map(|(_, l)| l.entry()).collect::<Vec<_>>());
                json["issued_on"] = serde_json::json!(day_label(i.issued_on));
                json["due_on"] = serde_json::json!(day_label(i.due_on));
                json["estimated"] = serde_json::json!(format_exact(i.estimated, i.currency));
            }
            Ok(Json(json).into_response())
        }
    }
}

#[utoipa::path(post, path = "/api/v1/invoices/{number}/void", request_body = super::files::ReasonBody,
    params(("number" = String, Path, description = "the invoice's number")),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn void(
    State(state): State<AppState>,
    Path(number): Path<String>,
    JsonBody(body): JsonBody<super::files::ReasonBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    service::void(&*state.store, &number, &body.reason, Timestamp::now()).await?;
    state.changes.written();
    Ok(Json(
        serde_json::json!({ "number": number.trim().to_uppercase(), "void": true }),
    ))
}

/// `POST /invoices/{number}/credit`: entries or an amount, and why.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditBody {
    #[serde(default)]
    pub entries: Vec<String>,
    /// In the invoice's currency
    pub amount: Option<String>,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/invoices/{number}/credit", request_body = CreditBody,
    params(("number" = String, Path, description = "the invoice's number")),
    responses((status = 200, body = Object, description = "the credit note"), (status = 400, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn credit(
    State(state): State<AppState>,
    Path(number): Path<String>,
    JsonBody(body): JsonBody<CreditBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let credited = match (body.entries.is_empty(), body.amount) {
        (false, None) => Credited::Entries(
            body.entries
                .iter()
                .map(|id| {
                    Uuid::parse_str(id.trim()).map_err(|_| {
                        ApiError::invalid("entries", format!("entries: '{id}' is not an entry id"))
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        (true, Some(amount)) => Credited::Amount(amount),
        _ => {
            return Err(ApiError::invalid(
                "entries",
                "give either entries (credits those lines) or amount (credits a sum)",
            ))
        }
    };
    let credit = service::credit(
        &*state.store,
        &number,
        credited,
        &body.reason,
        Timestamp::now(),
    )
    .await?;
    state.changes.written();
    Ok(Json(serde_json::json!({
        "number": credit.number,
        "invoice": credit.invoice,
        "total": format_exact(credit.total, credit.currency),
        "entries_released": credit.entries,
    })))
}

/// `POST /pricing/reprice`, as `gencost pricing reprice`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepriceBody {
    pub model: Option<String>,
    /// A date or RFC 3339 time: only runs from then on
    pub since: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
}

#[utoipa::path(post, path = "/api/v1/pricing/reprice", request_body = RepriceBody,
    responses((status = 200, body = Object, description = "per model: entries changed, sums before and after"),
              (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reprice(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<RepriceBody>,
) -> Result<Response, ApiError> {
    let options = crate::service::reprice::RepriceOptions {
        model: body.model,
        since: body.since,
        dry_run: body.dry_run,
    };
    let (store, catalog, changes) = (
        state.store.clone(),
        state.catalog.clone(),
        state.changes.clone(),
    );
    state
        .heavy
        .run(async move {
            let report =
                crate::service::reprice::reprice(&*store, &catalog, &options, Timestamp::now())
                    .await?;
            if !report.dry_run && report.entries > 0 {
                changes.written();
            }
            Ok(Json(report).into_response())
        })
        .await
}
