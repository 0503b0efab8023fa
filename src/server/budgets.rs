//! `/budgets`: list and make (`POST`, 409 when the name exists), and one
//! budget by name: show, change (`PUT`, 404 when missing), remove, as
//! `gencost budget` does. `/budgets?client=&project=` is the panel's: the
//! budgets counting that client and project, most used first.

use super::error::{ApiError, ErrorBody};
use super::extract::JsonBody;
use super::AppState;
use crate::ledger::BudgetWrite;
use crate::service::budget::{self as service, AlertJson, BudgetInput, BudgetJson};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A budget as `POST` makes it or `PUT` changes it; a field left out keeps
/// its value (or takes its default); an empty scope text clears it.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct BudgetBody {
    /// Required by POST; PUT takes the name from the path.
    pub name: Option<String>,
    /// Exact decimal, e.g. "2000"
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
    pub model: Option<String>,
    /// month (default), quarter, year or never
    pub resets: Option<String>,
    /// YYYY-MM-DD; default: the start of the current period
    pub from: Option<String>,
    pub hard: Option<bool>,
    /// Thresholds in percent; default [50, 80, 100]
    pub alerts: Option<Vec<u32>>,
    pub allow_unpriced: Option<bool>,
}

impl BudgetBody {
    fn input(self, name: String) -> BudgetInput {
        BudgetInput {
            name,
            amount: self.amount,
            currency: self.currency,
            client: self.client,
            project: self.project,
            deliverable: self.deliverable,
            model: self.model,
            resets: self.resets,
            from: self.from,
            hard: self.hard,
            alerts: self.alerts.map(|list| {
                list.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            }),
            allow_unpriced: self.allow_unpriced,
        }
    }
}

/// A budget made or changed, and the thresholds its figures crossed by
/// this change (recorded as alerts).
#[derive(Serialize, ToSchema)]
pub struct BudgetSetJson {
    #[serde(flatten)]
    pub budget: BudgetJson,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub triggered: Vec<AlertJson>,
}

#[derive(Serialize, ToSchema)]
pub struct BudgetList {
    pub budgets: Vec<BudgetJson>,
}

#[utoipa::path(get, path = "/api/v1/budgets", params(CoveringQuery),
    responses((status = 200, body = BudgetList, description = "every budget with its figures for the current period, by name; with client or project, those counting them (a budget with no scope counts everything), most used first")))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<CoveringQuery>,
) -> Result<Json<BudgetList>, ApiError> {
    let blank = |t: Option<String>| t.filter(|t| !t.trim().is_empty());
    let (client, project) = (blank(query.client), blank(query.project));
    let budgets = if client.is_none() && project.is_none() {
        service::list(&*state.store).await?
    } else {
        service::covering(&*state.store, client.as_deref(), project.as_deref()).await?
    };
    Ok(Json(BudgetList { budgets }))
}

#[utoipa::path(post, path = "/api/v1/budgets", request_body = BudgetBody,
    responses((status = 201, body = BudgetSetJson, description = "made"),
              (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "a budget by that name exists")))]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<BudgetBody>,
) -> Result<(StatusCode, Json<BudgetSetJson>), ApiError> {
    let name = body
        .name
        .clone()
        .ok_or_else(|| ApiError::invalid("name", "name: a budget needs a name"))?;
    let set = service::set(&*state.store, body.input(name), BudgetWrite::Create).await?;
    state.changes.written();
    Ok((StatusCode::CREATED, Json(answer(set))))
}

#[utoipa::path(get, path = "/api/v1/budgets/{name}",
    params(("name" = String, Path, description = "matched by the folding rule")),
    responses((status = 200, body = BudgetJson), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<BudgetJson>, ApiError> {
    Ok(Json(service::show(&*state.store, &name).await?))
}

#[utoipa::path(put, path = "/api/v1/budgets/{name}", request_body = BudgetBody,
    params(("name" = String, Path, description = "matched by the folding rule")),
    responses((status = 200, body = BudgetSetJson, description = "changed"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn change(
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<BudgetBody>,
) -> Result<Json<BudgetSetJson>, ApiError> {
    if body
        .name
        .as_deref()
        .is_some_and(|n| n.trim() != name.trim())
    {
        return Err(ApiError::invalid(
            "name",
            "name: a budget is renamed by removing it and making it again",
        ));
    }
    let set = service::set(&*state.store, body.input(name), BudgetWrite::Change).await?;
    state.changes.written();
    Ok(Json(answer(set)))
}

#[utoipa::path(delete, path = "/api/v1/budgets/{name}",
    params(("name" = String, Path, description = "matched by the folding rule")),
    responses((status = 200, body = Object, description = "removed (its events stay in the chain)"),
              (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let removed = service::remove(&*state.store, &name).await?;
    state.changes.written();
    Ok(Json(serde_json::json!({ "removed": removed })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CoveringQuery {
    /// Only budgets counting this client (the panel's active client).
    pub client: Option<String>,
    /// Only budgets counting this project.
    pub project: Option<String>,
}

fn answer(set: service::BudgetSet) -> BudgetSetJson {
    BudgetSetJson {
        budget: set.budget,
        triggered: set.alerts.iter().map(AlertJson::of).collect(),
    }
}
