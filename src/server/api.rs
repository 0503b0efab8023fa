//! The JSON API under `/api/v1`: each handler reads its input, calls one
//! service function and returns its typed result. No rule lives here.

use super::error::{ApiError, ErrorBody};
use super::extract::{JsonBody, NoQuery, QueryArgs};
use super::AppState;
use crate::error::Error;
use crate::ledger::totals::{Dimension, Totals};
use crate::ledger::{Entry, Status, TagField, Tags};
use crate::money::{parse_amount, Currency, Money};
use crate::service::active_tags::{self, TagChange};
use crate::service::entries::{self, ListRequest, MAX_PAGE};
use crate::service::filter::{parse_kind, parse_param, FilterText};
use crate::service::pricing::{EstimateReport, ModelJson};
use crate::service::record::{self, LogRequest};
use crate::service::show::{self, Found, ShownJson};
use crate::service::warning::Warning;
use crate::store::{Filter, Store, TagCount};
use crate::timestamp::{today, Timestamp};
use crate::wire::{EntryJson, EntryPage};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// An amount as the wire carries it: an exact decimal string and its currency.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmountBody {
    /// Exact decimal, e.g. "0.025".
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
}

impl AmountBody {
    pub fn money(&self, field: &str) -> Result<Money, ApiError> {
        let currency = currency(&format!("{field}.currency"), &self.currency)?;
        // Named by the amount's own field: to a person `cost` is the
        // amount, its currency a detail of it.
        let micros = parse_amount(&self.amount)
            .map_err(|e| ApiError::invalid(field, format!("{field}: {e}")))?;
        Ok(Money::new(micros, currency))
    }
}

pub fn currency(field: &str, code: &str) -> Result<Currency, ApiError> {
    code.parse()
        .map_err(|e| ApiError::invalid(field, format!("{field}: {e}")))
}

/// `POST /entries`: a generation or an external cost, as `gencost log` takes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogBody {
    /// generation (default) or external.
    pub kind: Option<String>,
    pub model: Option<String>,
    /// The estimate; without it a generation is priced from the catalog.
    pub cost: Option<AmountBody>,
    /// A cost already confirmed by the provider (tier billed).
    pub actual: Option<AmountBody>,
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Map<String, serde_json::Value>>,
    /// Without a tag, the active tag is used (as `gencost use` sets it).
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
    pub description: Option<String>,
    pub duration_ms: Option<i64>,
    /// Makes the call idempotent per source: a retry returns the entry.
    pub request_id: Option<String>,
    /// Who was paid; default fal.ai.
    pub source: Option<String>,
    /// succeeded (default), failed, cancelled, or pending (a run under way,
    /// counted at its estimate).
    pub status: Option<String>,
    /// RFC 3339, or a date (a UTC day); default now.
    pub occurred_at: Option<String>,
    /// Confirms a large `cost` or `actual`: 10,000 USD or more at the
    /// entry's day's rate, or more than 100 × the catalog's estimate.
    /// Without it such an amount is refused with code `confirm_large`.
    pub confirm_large: Option<bool>,
}

/// The entry's JSON, as `gencost list --json` prints it.
async fn entry_json(state: &AppState, id: Uuid) -> Result<EntryJson, ApiError> {
    let entry = state
        .store
        .entry(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no entry with id {id}")))?;
    wire(entry)
}

fn wire(entry: Entry) -> Result<EntryJson, ApiError> {
    EntryJson::new(entry, None).map_err(|e| {
        ApiError::from(Error::Io(format!(
            "an entry's parameters are not JSON: {e}"
        )))
    })
}

/// The answer of `POST /entries`: the entry as `GET /entries/{id}` serves
/// it, and the warnings, if any.
#[derive(Serialize, ToSchema)]
pub struct LoggedJson {
    #[serde(flatten)]
    pub entry: EntryJson,
    /// Parameters the price did not read that look misspelt, e.g.
    /// `num_imgs` for `num_images`; left out when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Budget thresholds this write crossed; left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<crate::service::budget::AlertJson>,
}

#[utoipa::path(post, path = "/api/v1/entries", request_body = LogBody,
    responses((status = 201, body = LoggedJson, description = "logged"),
              (status = 200, body = LoggedJson, description = "already logged with this source and request id"),
              (status = 400, body = ErrorBody, description = "bad input; code confirm_large for a large amount sent without confirm_large"),
              (status = 409, body = ErrorBody, description = "code budget_exceeded: a pending run would take a hard budget over (nothing was written)")))]
pub async fn log(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<LogBody>,
) -> Result<(StatusCode, Json<LoggedJson>), ApiError> {
    let request = log_request(body)?;
    let prepared = record::prepare(&*state.store, &state.catalog, request).await?;
    // A hold is checked against the budgets in a transaction of its own.
    let logged = if prepared.is_hold() {
        record::commit(&*state.store, vec![prepared])
            .await?
            .pop()
            .ok_or_else(|| ApiError::from(crate::error::Error::Io("nothing was logged".into())))?
    } else {
        state.logs.log(prepared).await?
    };
    if !logged.existing {
        state.changes.written();
    }
    let status = if logged.existing {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let entry = entry_json(&state, logged.id).await?;
    Ok((
        status,
        Json(LoggedJson {
            entry,
            warnings: logged.warnings,
            alerts: logged
                .alerts
                .iter()
                .map(crate::service::budget::AlertJson::of)
                .collect(),
        }),
    ))
}

/// A `POST /entries` body as the service's request; the service checks it
/// and fills what is left out as the CLI's `log` does.
pub fn log_request(body: LogBody) -> Result<LogRequest, ApiError> {
    let kind = match body.kind.as_deref() {
        None => record::DEFAULT_KIND,
        Some(text) => parse_kind(text)?,
    };
    let status: Status = match body.status.as_deref() {
        None => record::DEFAULT_STATUS,
        Some(text) => text
            .parse()
            .map_err(|e: String| ApiError::invalid("status", format!("status: {e}")))?,
    };
    let occurred_at = body
        .occurred_at
        .as_deref()
        .map(|t| {
            Timestamp::parse_time_or_date(t)
                .map_err(|e| ApiError::invalid("occurred_at", format!("occurred_at: {e}")))
        })
        .transpose()?;
    let tags = active_tags::for_log(Tags {
        client: body.client,
        project: body.project,
        deliverable: body.deliverable,
    })?;
    Ok(LogRequest {
        kind,
        occurred_at,
        source: body.source.unwrap_or_else(|| record::DEFAULT_SOURCE.into()),
        model: body.model,
        description: body.description,
        tags,
        request_id: body.request_id,
        status,
        duration_ms: body.duration_ms,
        params: body.params.unwrap_or_default(),
        estimate: body.cost.as_ref().map(|c| c.money("cost")).transpose()?,
        actual: body
            .actual
            .as_ref()
            .map(|c| c.money("actual"))
            .transpose()?,
        check_large: !body.confirm_large.unwrap_or(false),
        hold: status == Status::Pending,
    })
}

/// `POST /entries/{id}/actual`: the confirmed cost; without a currency,
/// the estimate's.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActualBody {
    pub amount: String,
    pub currency: Option<String>,
    /// Confirms a large amount (as `confirm_large` of `POST /entries`).
    pub confirm_large: Option<bool>,
}

fn entry_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text.trim())
        .map_err(|_| ApiError::invalid("id", format!("id: '{text}' is not an entry id")))
}

#[utoipa::path(post, path = "/api/v1/entries/{id}/actual", request_body = ActualBody,
    params(("id" = String, Path, description = "entry id")),
    responses((status = 200, body = EntryJson),
              (status = 400, body = ErrorBody, description = "bad input; code confirm_large for a large amount sent without confirm_large"),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ActualBody>,
) -> Result<Json<EntryJson>, ApiError> {
    let id = entry_id(&id)?;
    let micros = parse_amount(&body.amount)
        .map_err(|e| ApiError::invalid("amount", format!("amount: {e}")))?;
    let currency = body
        .currency
        .as_deref()
        .map(|c| currency("currency", c))
        .transpose()?;
    // The path names an entry id only, never a provider's request id.
    if state.store.entry(id).await?.is_none() {
        return Err(ApiError::not_found(format!("no entry with id {id}")));
    }
    // Without a currency the actual is in the estimate's (the service decides).
    let check_large = !body.confirm_large.unwrap_or(false);
    record::confirm_target(
        &*state.store,
        &state.catalog,
        &id.to_string(),
        None,
        micros,
        currency,
        check_large,
    )
    .await?;
    state.changes.written();
    Ok(Json(entry_json(&state, id).await?))
}

/// `POST /entries/{id}/void`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidBody {
    /// Why it no longer counts.
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/entries/{id}/void", request_body = VoidBody,
    params(("id" = String, Path, description = "entry id")),
    responses((status = 200, body = EntryJson), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn void(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<VoidBody>,
) -> Result<Json<EntryJson>, ApiError> {
    let id = entry_id(&id)?;
    record::void(&*state.store, id, &body.reason).await?;
    state.changes.written();
    Ok(Json(entry_json(&state, id).await?))
}

/// `POST /entries/{id}/restore`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreBody {
    /// Why it counts again.
    pub reason: String,
}

/// Undoes a void, as `gencost void --undo`: the entry counts in totals
/// again; the void and its undoing both stay in the chain. 409 when the
/// entry is not void, is a pool's share (a pool is voided as a whole), or
/// belongs to a void import.
#[utoipa::path(post, path = "/api/v1/entries/{id}/restore", request_body = RestoreBody,
    params(("id" = String, Path, description = "entry id")),
    responses((status = 200, body = EntryJson), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn restore(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RestoreBody>,
) -> Result<Json<EntryJson>, ApiError> {
    let id = entry_id(&id)?;
    record::restore(&*state.store, id, &body.reason).await?;
    state.changes.written();
    Ok(Json(entry_json(&state, id).await?))
}

/// A field that may be absent (keep), null or empty (clear), or a value.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d).map(|v| Some(v.unwrap_or_default()))
}

/// Tags to change: a field left out stays; null or "" clears it.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TagsBody {
    #[serde(default, deserialize_with = "present")]
    pub client: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub project: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub deliverable: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/entries/{id}/tags", request_body = TagsBody,
    params(("id" = String, Path, description = "entry id")),
    responses((status = 200, body = EntryJson), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retag(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<TagsBody>,
) -> Result<Json<EntryJson>, ApiError> {
    let id = entry_id(&id)?;
    let change = record::Retag {
        client: body.client,
        project: body.project,
        deliverable: body.deliverable,
    };
    let (entry, _) = record::retag(&*state.store, id, change).await?;
    state.changes.written();
    Ok(Json(wire(entry)?))
}

/// The filter from the query: client, project, deliverable, kind, model,
/// since, until, month, on.
pub fn filter(query: &mut QueryArgs) -> Result<Filter, ApiError> {
    Ok(filter_text(query)?.to_filter()?)
}

/// The filter's parameters, as the OpenAPI document names them.
pub fn filter_text(query: &mut QueryArgs) -> Result<FilterText, ApiError> {
    Ok(FilterText {
        client: query.take("client")?,
        project: query.take("project")?,
        deliverable: query.take("deliverable")?,
        kind: query.take("kind")?,
        model: query.take("model")?,
        since: query.take("since")?,
        until: query.take("until")?,
        month: query.take("month")?,
        on: query.take("on")?,
    })
}

pub fn query_currency(query: &mut QueryArgs) -> Result<Option<Currency>, ApiError> {
    query
        .take("currency")?
        .map(|c| currency("currency", &c))
        .transpose()
}

/// What `GET /entries` takes besides the filter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 0 to 1000; default 50
    limit: Option<i64>,
    /// `next_cursor` of the page before
    cursor: Option<String>,
    /// Show amounts in this currency, at each entry's day's rate
    currency: Option<String>,
    /// Void entries too
    include_void: Option<bool>,
    /// Only entries logged with this provider request id (any source)
    request_id: Option<String>,
    /// Only entries whose description or model holds this text (compared
    /// with case and accents folded as names are; `%` and `_` are plain text)
    search: Option<String>,
}

impl ListQuery {
    fn take(query: &mut QueryArgs) -> Result<ListQuery, ApiError> {
        Ok(ListQuery {
            limit: query.optional_number("limit", 0..=MAX_PAGE)?,
            cursor: query.take("cursor")?,
            currency: query.take("currency")?,
            include_void: Some(query.flag("include_void")?),
            request_id: query.take("request_id")?,
            search: query.take("search")?,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/entries", params(FilterText, ListQuery),
    responses((status = 200, body = EntryPage), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    mut query: QueryArgs,
) -> Result<Response, ApiError> {
    let mut filter = filter(&mut query)?;
    let list = ListQuery::take(&mut query)?;
    query.finish()?;
    filter.include_void = list.include_void.unwrap_or(false);
    filter.request_id = list
        .request_id
        .as_deref()
        .map(entries::request_id)
        .transpose()?;
    let request = ListRequest {
        filter,
        limit: list.limit.unwrap_or(50),
        after: list.cursor,
        currency: list
            .currency
            .map(|c| currency("currency", &c))
            .transpose()?,
        search: list.search,
    };
    let searching = request.search.is_some();
    let store = state.store.clone();
    let answer = async move {
        let page = entries::list(&*store, &request).await?;
        Ok(Json(page.into_wire(request.currency.is_some())?).into_response())
    };
    if !searching {
        return answer.await;
    }
    // A search reads every entry the filter keeps, as a report does: it is
    // a heavy page (its own runtime, two at once, not from other sites).
    super::heavy::check_site(&state.access, &headers)?;
    state.heavy.run(answer).await
}

#[utoipa::path(get, path = "/api/v1/entries/{id}",
    params(("id" = String, Path, description = "entry id")),
    responses((status = 200, body = EntryJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_entry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _: NoQuery,
) -> Result<Json<EntryJson>, ApiError> {
    Ok(Json(entry_json(&state, entry_id(&id)?).await?))
}

/// One entry as `gencost show --json` prints it: found by its id or a
/// provider request id (`source` names the source when several logged it),
/// with how its cost was arrived at and its events in chain order.
#[utoipa::path(get, path = "/api/v1/entries/{id}/history",
    params(("id" = String, Path, description = "entry id, or a provider request id"),
           ("source" = Option<String>, Query, description = "the source that logged the request id"),
           ("currency" = Option<String>, Query, description = "show amounts in this currency")),
    responses((status = 200, body = ShownJson), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
    mut query: QueryArgs,
) -> Result<Json<ShownJson>, ApiError> {
    let source = query.take("source")?;
    let currency = query_currency(&mut query)?;
    query.finish()?;
    match show::show(&*state.store, &id, source.as_deref(), currency).await? {
        Found::Entry(shown) => Ok(Json(shown.to_json()?)),
        Found::Several { entries, .. } => {
            let sources: Vec<&str> = entries.iter().map(|e| e.source.as_str()).collect();
            Err(ApiError::invalid(
                "source",
                format!(
                    "source: request id '{}' is logged by {} sources ({}); name one with source",
                    id.trim(),
                    entries.len(),
                    sources.join(", ")
                ),
            ))
        }
    }
}

/// What `GET /totals` takes besides the filter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TotalsQuery {
    /// client, project, deliverable, model, kind, day, week or month
    by: Option<String>,
    /// default USD
    currency: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/totals", params(FilterText, TotalsQuery),
    responses((status = 200, body = Object, description = "the object `gencost total --json` prints"),
              (status = 400, body = ErrorBody)))]
pub async fn totals(
    State(state): State<AppState>,
    mut query: QueryArgs,
) -> Result<Json<Totals>, ApiError> {
    let filter = filter(&mut query)?;
    let asked = TotalsQuery {
        by: query.take("by")?,
        currency: query.take("currency")?,
    };
    query.finish()?;
    let by = asked
        .by
        .map(|b| {
            b.parse::<Dimension>()
                .map_err(|e| ApiError::invalid("by", format!("by: {e}")))
        })
        .transpose()?;
    let currency = match asked.currency {
        Some(c) => currency("currency", &c)?,
        None => Currency::USD,
    };
    let totals = crate::service::totals::totals(&*state.store, &filter, by, currency).await?;
    Ok(Json(totals))
}

#[utoipa::path(get, path = "/api/v1/accuracy", params(FilterText, CurrencyQuery),
    responses((status = 200, body = crate::service::accuracy::AccuracyReport, description = "what `gencost accuracy --json` prints"),
              (status = 400, body = ErrorBody)))]
pub async fn accuracy(
    State(state): State<AppState>,
    mut query: QueryArgs,
) -> Result<Json<crate::service::accuracy::AccuracyReport>, ApiError> {
    let filter = filter(&mut query)?;
    let currency = CurrencyQuery::take(&mut query)?.or_usd()?;
    query.finish()?;
    let report = crate::service::accuracy::accuracy(&*state.store, &filter, currency).await?;
    Ok(Json(report))
}

/// A currency to show amounts in (default USD), besides the filter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CurrencyQuery {
    /// default USD
    pub currency: Option<String>,
}

impl CurrencyQuery {
    pub fn take(query: &mut QueryArgs) -> Result<CurrencyQuery, ApiError> {
        Ok(CurrencyQuery {
            currency: query.take("currency")?,
        })
    }

    /// The currency, USD when none was given.
    pub fn or_usd(&self) -> Result<Currency, ApiError> {
        match &self.currency {
            Some(c) => currency("currency", c),
            None => Ok(Currency::USD),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/tags/{kind}",
    params(("kind" = String, Path, description = "client, project or deliverable"),
           ("prefix" = Option<String>, Query, description = "names starting with this text, by Unicode case folding"),
           ("limit" = Option<i64>, Query, description = "0 to 1000; default 20")),
    responses((status = 200, body = Vec<Object>, description = "[{value, count}], most used first"),
              (status = 400, body = ErrorBody)))]
pub async fn tags(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    mut query: QueryArgs,
) -> Result<Json<Vec<TagCount>>, ApiError> {
    let field: TagField = kind
        .parse()
        .map_err(|e: String| ApiError::invalid("kind", format!("kind: {e}")))?;
    let prefix = query.take("prefix")?.unwrap_or_default();
    let limit = query.number("limit", 20, 0..=crate::service::tags::MAX_SUGGESTIONS)?;
    query.finish()?;
    let values = crate::service::tags::suggest(&*state.store, field, &prefix, limit).await?;
    Ok(Json(values))
}

#[utoipa::path(get, path = "/api/v1/estimate",
    params(("model" = String, Query, description = "endpoint id"),
           ("currency" = Option<String>, Query),
           ("param.KEY" = Option<String>, Query, description = "a generation parameter, e.g. param.num_images=2")),
    responses((status = 200, body = EstimateReport), (status = 400, body = ErrorBody)))]
pub async fn estimate(
    State(state): State<AppState>,
    mut query: QueryArgs,
) -> Result<Json<EstimateReport>, ApiError> {
    let model = query
        .take("model")?
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("model", "model: give the model's endpoint id"))?;
    let currency = query_currency(&mut query)?;
    let mut params = serde_json::Map::new();
    for (key, value) in query.take_prefixed("param.")? {
        let (key, value) = parse_param(&format!("{key}={value}"))?;
        params.insert(key, value);
    }
    query.finish()?;
    crate::service::limits::name("model", &model)?;
    let report =
        crate::service::pricing::estimate(&*state.store, &state.catalog, &model, &params, currency)
            .await?;
    Ok(Json(report))
}

#[utoipa::path(get, path = "/api/v1/pricing/models",
    responses((status = 200, body = Vec<ModelJson>)))]
pub async fn models(State(state): State<AppState>, _: NoQuery) -> Json<Vec<ModelJson>> {
    let today = today();
    Json(
        state
            .catalog
            .models()
            .map(|m| ModelJson::new(m, today))
            .collect(),
    )
}

/// The active tags: what a log without tags is tagged with.
#[derive(Serialize, ToSchema)]
pub struct ActiveTags {
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
}

impl From<Tags> for ActiveTags {
    fn from(t: Tags) -> ActiveTags {
        ActiveTags {
            client: t.client,
            project: t.project,
            deliverable: t.deliverable,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/active-tags", responses((status = 200, body = ActiveTags)))]
pub async fn active_tags(_: NoQuery) -> Result<Json<ActiveTags>, ApiError> {
    Ok(Json(active_tags::active()?.into()))
}

/// `PUT /active-tags`, as `gencost use`: a field given sets it (null or ""
/// clears it); a new client clears project and deliverable, a new project
/// the deliverable.
#[utoipa::path(put, path = "/api/v1/active-tags", request_body = TagsBody,
    responses((status = 200, body = ActiveTags), (status = 400, body = ErrorBody)))]
pub async fn set_active_tags(
    JsonBody(body): JsonBody<TagsBody>,
) -> Result<Json<ActiveTags>, ApiError> {
    let tags = active_tags::change(TagChange {
        client: body.client,
        project: body.project,
        deliverable: body.deliverable,
    })?;
    Ok(Json(tags.into()))
}
