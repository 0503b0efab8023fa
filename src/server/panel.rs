//! The billing panel: one server-rendered page (askama) and the fragments
//! its little script swaps in — the running total with project chips, the
//! history, the by-client view, an estimate line. Amounts are formatted
//! here, by the same display rules as the command line, so no rule is
//! written twice in script.

use super::api::query_currency;
use super::error::ApiError;
use super::extract::QueryArgs;
use super::guard::SESSION_COOKIE;
use super::AppState;
use crate::ledger::totals::{Dimension, Totals};
use crate::ledger::{Kind, Tier};
use crate::money::{format_display, format_entry, format_exact, Currency};
use crate::service::active_tags;
use crate::service::entries::{self, ListRequest};
use crate::service::filter::parse_param;
use crate::store::Filter;
use askama::Template;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

/// USD, EUR and SEK first, then every other currency ECB publishes a
/// reference rate for.
const CURRENCIES: &[&str] = &[
    "USD", "EUR", "SEK", "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "GBP", "HKD",
    "HUF", "IDR", "ILS", "INR", "ISK", "JPY", "KRW", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN",
    "RON", "SGD", "THB", "TRY", "ZAR",
];

/// The panel's own script and styles, compiled into the binary.
const SCRIPT: &str = include_str!("../../assets/panel.js");
const STYLES: &str = include_str!("../../assets/panel.css");

/// Nothing but this server: no external script, style, font or request.
const PANEL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/session", post(open_session))
        .route("/session/logout", post(close_session))
        .route(
            "/assets/panel.js",
            get(|| asset("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/assets/panel.css",
            get(|| asset("text/css; charset=utf-8", STYLES)),
        )
        .route("/panel/summary", get(summary))
        .route("/panel/history", get(history))
        .route("/panel/clients", get(clients))
        .route("/panel/estimate", get(estimate))
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn html(body: String) -> Response {
    (
        [
            (header::CONTENT_SECURITY_POLICY, PANEL_CSP),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(body),
    )
        .into_response()
}

fn render(template: &impl Template) -> Result<Response, ApiError> {
    template
        .render()
        .map(html)
        .map_err(|e| ApiError::from(crate::Error::Io(format!("cannot render the panel: {e}"))))
}

#[derive(Template)]
#[template(path = "panel.html")]
struct PanelPage {
    currencies: &'static [&'static str],
    client: String,
    project: String,
    deliverable: String,
    models: Vec<String>,
    /// The server has a token: the panel offers to log out.
    guarded: bool,
}

#[derive(Template)]
#[template(path = "panel_login.html")]
struct LoginPage {
    refused: bool,
}

/// `/`: the panel; with a token and no session, the form that asks for it.
async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if state.access.authorize(&headers).is_err() {
        return render(&LoginPage { refused: false });
    }
    let tags = active_tags::active()?;
    render(&PanelPage {
        currencies: CURRENCIES,
        client: tags.client.unwrap_or_default(),
        project: tags.project.unwrap_or_default(),
        deliverable: tags.deliverable.unwrap_or_default(),
        models: state.catalog.models().map(|m| m.endpoint.clone()).collect(),
        guarded: state.access.has_token(),
    })
}

#[derive(serde::Deserialize)]
struct TokenForm {
    token: String,
}

/// Trades the token for a session cookie (HttpOnly, SameSite=Strict), so
/// the panel's event stream and downloads need no header.
async fn open_session(
    State(state): State<AppState>,
    form: Result<Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| {
        ApiError::invalid(
            "token",
            format!("token: send the form's token field ({})", e.body_text()),
        )
    })?;
    if !state.access.is_token(form.token.trim()) {
        let mut response = render(&LoginPage { refused: true })?;
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(response);
    }
    let id = state.access.open_session();
    // Sessions end after 12 hours (the cookie and the server's record of
    // it), or at logout.
    let cookie = format!(
        "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        super::guard::SESSION_SECONDS
    );
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

/// Ends the panel session and clears its cookie.
async fn close_session(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    state.access.close_session(&headers);
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

/// An amount as the panel shows it, with the exact figure for the tooltip.
struct Shown {
    text: String,
    exact: String,
}

impl Shown {
    fn total(micros: i64, currency: Currency) -> Shown {
        Shown {
            text: format_display(micros, currency),
            exact: format_exact(micros, currency),
        }
    }

    /// A group's total; "No price" when every entry in it is unpriced, so
    /// an unknown cost never reads as free.
    fn group(group: &crate::ledger::totals::Group, currency: Currency) -> Shown {
        if group.count > 0 && group.unpriced_count == group.count {
            return Shown {
                text: "No price".into(),
                exact: format!("{} unpriced", group.count),
            };
        }
        Shown::total(group.total, currency)
    }

    fn entry(micros: i64, currency: Currency) -> Shown {
        Shown {
            text: format_entry(micros, currency),
            exact: format_exact(micros, currency),
        }
    }
}

/// One project chip.
struct Chip {
    name: String,
    total: Shown,
    selected: bool,
}

#[derive(Template)]
#[template(path = "panel_summary.html")]
struct Summary {
    total: Shown,
    count: i64,
    external: Option<Shown>,
    pool: Option<Shown>,
    unpriced: i64,
    left_out: i64,
    project: Option<String>,
    chips: Vec<Chip>,
}

/// The project filter of a panel request, from `project`.
fn panel_filter(query: &mut QueryArgs) -> Result<Filter, ApiError> {
    Ok(Filter {
        project: query.take("project")?.filter(|p| !p.is_empty()),
        ..Filter::default()
    })
}

fn kind_total(totals: &Totals, kind: Kind) -> Option<i64> {
    totals
        .groups
        .iter()
        .find(|g| g.key.as_deref() == Some(kind.as_str()))
        .map(|g| g.total)
        .filter(|t| *t != 0)
}

/// The running total (in the chosen currency, external and pool costs
/// named) and the project chips.
async fn summary(
    State(state): State<AppState>,
    mut query: QueryArgs,
) -> Result<Response, ApiError> {
    let filter = panel_filter(&mut query)?;
    let currency = query_currency(&mut query)?.unwrap_or(Currency::USD);
    query.finish()?;
    let store = &*state.store;
    // Two reads of the cost rollups, side by side.
    let all = Filter::default();
    let (by_kind, by_project) = tokio::try_join!(
        crate::service::totals::totals(store, &filter, Some(Dimension::Kind), currency),
        crate::service::totals::totals(store, &all, Some(Dimension::Project), currency),
    )?;
    // Most spent first, so the projects that matter are in reach.
    let mut projects: Vec<_> = by_project.groups.iter().collect();
    projects.sort_by_key(|g| std::cmp::Reverse(g.total));
    let chips: Vec<Chip> = projects
        .into_iter()
        .filter_map(|g| {
            let name = g.key.clone()?;
            Some(Chip {
                selected: filter.project.as_deref().is_some_and(|p| {
                    crate::ledger::tags::fold(p) == crate::ledger::tags::fold(&name)
                }),
                total: Shown::group(g, currency),
                name,
            })
        })
        .collect();
    render(&Summary {
        total: Shown::total(by_kind.total, currency),
        count: by_kind.count,
        external: kind_total(&by_kind, Kind::External).map(|m| Shown::total(m, currency)),
        pool: kind_total(&by_kind, Kind::Pool).map(|m| Shown::total(m, currency)),
        unpriced: by_kind.unpriced_count,
        left_out: by_kind.unconverted.iter().map(|u| u.entries).sum(),
        project: filter.project,
        chips,
    })
}

/// One entry of the history.
struct Row {
    id: String,
    cursor: String,
    title: String,
    at: String,
    cost: Option<Shown>,
    tier: &'static str,
    actual: Option<Shown>,
    tags: String,
    deliverable: Option<String>,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "panel_history.html")]
struct History {
    rows: Vec<Row>,
    next_cursor: Option<String>,
}

/// A page of the history, newest first, in the chosen currency.
async fn history(
    State(state): State<AppState>,
    mut query: QueryArgs,
) -> Result<Response, ApiError> {
    let filter = panel_filter(&mut query)?;
    let request = ListRequest {
        filter,
        limit: query.number("limit", 4, 1..=entries::MAX_PAGE)?,
        after: query.take("cursor")?.filter(|c| !c.is_empty()),
        currency: query_currency(&mut query)?,
        search: None,
    };
    query.finish()?;
    let page = entries::list(&*state.store, &request).await?;
    let rows = page
        .entries
        .into_iter()
        .map(|c| {
            let e = c.entry;
            let cost = e.cost();
            let tier = match cost.tier {
                Tier::Billed => "billed",
                Tier::Estimated => "estimated",
                Tier::Historical => "historical",
                Tier::Unpriced => "unpriced",
            };
            let tags: Vec<&str> = [e.tags.client.as_deref(), e.tags.project.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            let mut note = Vec::new();
            if e.kind != Kind::Generation {
                note.push(e.kind.as_str().to_string());
            }
            if e.status != crate::ledger::Status::Succeeded {
                note.push(e.status.as_str().to_string());
            }
            if c.unconverted.is_some() {
                note.push("not converted".to_string());
            }
            Row {
                id: e.id.to_string(),
                cursor: crate::store::Cursor::after(&e).encode(),
                title: e.model.clone().unwrap_or_else(|| e.source.clone()),
                at: e.occurred_at.to_string(),
                cost: cost.micros.map(|m| Shown::entry(m, cost.currency)),
                tier,
                actual: e
                    .actual
                    .as_ref()
                    .map(|a| Shown::entry(a.amount.micros, a.amount.currency)),
                tags: tags.join(" · "),
                deliverable: e.tags.deliverable.clone(),
                note: (!note.is_empty()).then(|| note.join(", ")),
            }
        })
        .collect();
    render(&History {
        rows,
        next_cursor: page.next_cursor,
    })
}

struct ClientGroup {
    name: String,
    total: Shown,
    projects: Vec<(String, Shown)>,
}

#[derive(Template)]
#[template(path = "panel_clients.html")]
struct Clients {
    groups: Vec<ClientGroup>,
}

/// Totals per client and, under each, per project: what to invoice. Two
/// reads side by side: clients from the cost rollups, (client, project)
/// pairs from one pass over the live entries.
async fn clients(
    State(state): State<AppState>,
    mut query: QueryArgs,
) -> Result<Response, ApiError> {
    let currency = query_currency(&mut query)?.unwrap_or(Currency::USD);
    query.finish()?;
    let store = &*state.store;
    let all = Filter::default();
    let (by_client, (by_pair, pairs)) = tokio::try_join!(
        crate::service::totals::totals(store, &all, Some(Dimension::Client), currency),
        crate::service::totals::by_client_and_project(store, &all, currency),
    )?;
    let groups = by_client
        .groups
        .iter()
        .map(|group| ClientGroup {
            name: group.key.clone().unwrap_or_else(|| "(no client)".into()),
            total: Shown::group(group, currency),
            projects: pairs
                .iter()
                .zip(&by_pair.groups)
                .filter(|((client, _), _)| *client == group.key)
                .map(|((_, project), pair)| {
                    (
                        project.clone().unwrap_or_else(|| "(no project)".into()),
                        Shown::group(pair, currency),
                    )
                })
                .collect(),
        })
        .collect();
    render(&Clients { groups })
}

#[derive(Template)]
#[template(
    source = r#"{% match amount %}{% when Some with (a) %}<span title="{{ a.exact }}">{{ a.text }}</span> <span class="tier">{{ tier }}</span>{% when None %}<span class="tier">No price</span>{% endmatch %}{% if let Some(t) = typical %} <span class="typical" title="median of the last runs with these settings">({{ t }})</span>{% endif %} <span class="why">{{ explanation }}</span>"#,
    ext = "html"
)]
struct EstimateLine {
    amount: Option<Shown>,
    tier: String,
    /// `≈ 38 s` once the ledger knows 3 runs with these settings.
    typical: Option<String>,
    explanation: String,
}

/// What one generation of a model would cost: `model`, `currency` and
/// `params` as `key=value` words.
async fn estimate(
    State(state): State<AppState>,
    mut query: QueryArgs,
) -> Result<Response, ApiError> {
    let model = query
        .take("model")?
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("model", "model: choose a model"))?;
    let currency = query_currency(&mut query)?;
    let mut params = serde_json::Map::new();
    for word in query.take("params")?.unwrap_or_default().split_whitespace() {
        let (key, value) = parse_param(word)?;
        if params.contains_key(&key) {
            return Err(ApiError::invalid(
                "params",
                format!("params: {key} is given more than once"),
            ));
        }
        params.insert(key, value);
    }
    query.finish()?;
    crate::service::limits::name("model", &model)?;
    let report = crate::service::pricing::estimate(
        &*state.store,
        &state.catalog,
        model.trim(),
        &params,
        currency,
    )
    .await?;
    render(&EstimateLine {
        amount: report.shown.map(|m| Shown::entry(m.micros, m.currency)),
        tier: report.tier,
        typical: report
            .typical_duration_ms
            .map(crate::service::learned::duration_label),
        explanation: report.explanation,
    })
}
