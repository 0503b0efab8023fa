//! The OpenAPI document of `/api/v1`, derived from the handlers' own
//! annotations and the wire types, so it cannot drift from them.

use super::{api, budgets, error, files, invoices};
use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gencost",
        description = "The paper trail for AI generation costs: the JSON API of `gencost serve`. Amounts are exact decimal strings; times are RFC 3339 UTC."
    ),
    paths(
        api::log,
        api::list,
        api::get_entry,
        api::confirm,
        api::void,
        api::restore,
        api::history,
        api::retag,
        api::totals,
        api::accuracy,
        api::tags,
        api::estimate,
        api::models,
        api::active_tags,
        api::set_active_tags,
        files::export_csv,
        files::export_xlsx,
        files::report_html,
        files::import,
        files::imports,
        files::void_import,
        files::pools,
        files::add_pool,
        files::void_pool,
        budgets::list,
        budgets::create,
        budgets::show,
        budgets::change,
        budgets::remove,
        invoices::list,
        invoices::create,
        invoices::show,
        invoices::void,
        invoices::credit,
        invoices::reprice,
        files::reset,
        files::verify,
    ),
    components(schemas(
        error::ErrorBody,
        error::ErrorDetail,
        crate::wire::TieredAmount,
        crate::wire::ActualJson,
        crate::service::show::EventJson
    ))
)]
struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
