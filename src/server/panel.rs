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
use crate::money::{format_display, format_entry, format_exact, Currency, Money};
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

/// The page as Premiere's CEP panel frames it (`/?host=premiere`): the shell
/// is a local file (integrations/premiere/cep/index.html), so `file:` pages
/// may frame it too. Nothing else changes.
const HOSTED_PANEL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self' file:";

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
        .route("/panel/entry", get(entry))
        .route("/panel/batches", get(batches))
        .route("/panel/new-projects", get(new_projects))
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

fn html_with(policy: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_SECURITY_POLICY, policy),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(body),
    )
        .into_response()
}

fn render(template: &impl Template) -> Result<Response, ApiError> {
    render_with(PANEL_CSP, template)
}

fn render_with(policy: &'static str, template: &impl Template) -> Result<Response, ApiError> {
    template
        .render()
        .map(|body| html_with(policy, body))
        .map_err(|e| ApiError::from(crate::Error::Io(format!("cannot render the panel: {e}"))))
}

#[derive(Template)]
#[template(path = "panel.html")]
struct PanelPage {
    currencies: &'static [&'static str],
    client: String,
    project: String,
    deliverable: String,
    /// (endpoint, display name) of every catalog model.
    models: Vec<(String, String)>,
    /// The server has a token: the panel offers to log out.
    guarded: bool,
    /// Docked in Premiere Pro (`?host=premiere`).
    hosted: bool,
}

#[derive(Template)]
#[template(path = "panel_login.html")]
struct LoginPage {
    refused: bool,
    /// Docked in Premiere Pro: the login keeps `?host=premiere`.
    hosted: bool,
}

/// Whether a request is for the page docked in Premiere Pro
/// (`?host=premiere`).
fn is_hosted(query: &Option<String>) -> bool {
    query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|pair| pair == "host=premiere"))
}

fn policy(hosted: bool) -> &'static str {
    if hosted {
        HOSTED_PANEL_CSP
    } else {
        PANEL_CSP
    }
}

/// Where the panel is after logging in or out: the same page, docked or not.
fn panel_home(hosted: bool) -> Redirect {
    Redirect::to(if hosted { "/?host=premiere" } else { "/" })
}

/// `/`: the panel; with a token and no session, the form that asks for it.
/// `?host=premiere` is the page docked in Premiere Pro.
async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    let hosted = is_hosted(&query);
    let policy = policy(hosted);
    if state.access.authorize(&headers, None).is_err() {
        return render_with(
            policy,
            &LoginPage {
                refused: false,
                hosted,
            },
        );
    }
    let tags = active_tags::active()?;
    render_with(
        policy,
        &PanelPage {
            currencies: CURRENCIES,
            client: tags.client.unwrap_or_default(),
            project: tags.project.unwrap_or_default(),
            deliverable: tags.deliverable.unwrap_or_default(),
            models: state
                .catalog
                .models()
                .map(|m| (m.endpoint.clone(), m.name.clone()))
                .collect(),
            guarded: state.access.has_token(),
            hosted,
        },
    )
}

#[derive(serde::Deserialize)]
struct TokenForm {
    token: String,
}

/// Trades the token for a session cookie (HttpOnly, SameSite=Strict), so
/// the panel's event stream and downloads need no header.
async fn open_session(
    State(state): State<AppState>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    form: Result<Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let hosted = is_hosted(&query);
    let Form(form) = form.map_err(|e| {
        ApiError::invalid(
            "token",
            format!("token: send the form's token field ({})", e.body_text()),
        )
    })?;
    if !state.access.is_token(form.token.trim()) {
        let mut response = render_with(
            policy(hosted),
            &LoginPage {
                refused: true,
                hosted,
            },
        )?;
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
    Ok(([(header::SET_COOKIE, cookie)], panel_home(hosted)).into_response())
}

/// Ends the panel session and clears its cookie.
async fn close_session(
    State(state): State<AppState>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: axum::http::HeaderMap,
) -> Response {
    state.access.close_session(&headers);
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    (
        [(header::SET_COOKIE, cookie)],
        panel_home(is_hosted(&query)),
    )
        .into_response()
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
    /// The most used budget counting the active client and project, and
    /// how many more count them.
    budget: Option<BudgetLine>,
    more_budgets: usize,
}

/// A budget under the running total.
struct BudgetLine {
    name: String,
    amount: Shown,
    spent: Shown,
    held: Shown,
    remaining: Shown,
    percent: i64,
    /// ok, warning or over.
    state: String,
    period: String,
    unpriced: i64,
    /// The thresholds crossed this period, as `50 %, 80 %`.
    crossed: String,
}

impl BudgetLine {
    fn of(b: &crate::service::budget::BudgetJson) -> Option<BudgetLine> {
        let currency: Currency = b.currency.parse().ok()?;
        let shown = |text: &str| {
            crate::money::parse_amount(text)
                .ok()
                .map(|m| Shown::total(m, currency))
        };
        Some(BudgetLine {
            name: b.name.clone(),
            amount: shown(&b.amount)?,
            spent: shown(&b.spent)?,
            held: shown(&b.held)?,
            remaining: shown(&b.remaining)?,
            percent: b.percent,
            state: b.state.clone(),
            period: b.period.label.clone(),
            unpriced: b.unpriced,
            crossed: b
                .crossed
                .iter()
                .map(|t| format!("{t} %"))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
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
    // By name, so a chip stays where it was as totals change.
    let mut projects: Vec<_> = by_project.groups.iter().collect();
    projects.sort_by_cached_key(|g| g.key.as_deref().map(crate::ledger::tags::fold));
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
    // The budgets counting what is being worked on: the active client, and
    // the project shown (else the active one).
    let active = crate::service::active_tags::active().unwrap_or_default();
    let project = filter.project.clone().or(active.project);
    let budgets =
        crate::service::budget::covering(store, active.client.as_deref(), project.as_deref())
            .await?;
    render(&Summary {
        budget: budgets.first().and_then(BudgetLine::of),
        more_budgets: budgets.len().saturating_sub(1),
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

/// The provider and the model, for hover: `OpenAI · openai/gpt-image-2`;
/// the source alone when there is no model.
fn provider_and_model(e: &crate::ledger::Entry) -> String {
    match &e.model {
        Some(model) => format!("{} · {model}", e.source),
        None => e.source.clone(),
    }
}

/// One entry of the history.
struct Row {
    id: String,
    cursor: String,
    /// The catalog's display name of the model, else the endpoint or source.
    title: String,
    /// The full endpoint or source, for hover.
    full_name: String,
    at: String,
    /// The estimate (or, for imports and pools, the amount) as logged.
    estimate: Option<Shown>,
    tier: &'static str,
    actual: Option<Shown>,
    /// How far the actual is from the estimate, when more than 1 %.
    difference: Option<String>,
    /// `charged`, `not charged` (a failure fal did not bill) or `live`.
    charge: &'static str,
    voided: bool,
    tags: String,
    deliverable: Option<String>,
    note: Option<String>,
    /// failed or cancelled, shown with whether it was charged.
    status: &'static str,
    /// The invoice the entry is billed on (and locked by).
    invoice: Option<String>,
}

#[derive(Template)]
#[template(path = "panel_history.html")]
struct History {
    rows: Vec<Row>,
    next_cursor: Option<String>,
}

fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Billed => "billed",
        Tier::Estimated => "estimated",
        Tier::Historical => "historical",
        Tier::Unpriced => "unpriced",
    }
}

/// The actual's distance from the estimate in per cent, one decimal, when
/// it is more than 1 % (and both are in one currency, as after conversion).
fn difference(estimate: &crate::ledger::entry::Estimate, actual: &Money) -> Option<String> {
    let estimate_micros = estimate.micros.filter(|m| *m != 0)?;
    if estimate.currency != actual.currency {
        return None;
    }
    // Tenths of a per cent, rounded half away from zero, in integers.
    let delta = i128::from(actual.micros) - i128::from(estimate_micros);
    let base = i128::from(estimate_micros).abs();
    let tenths = (delta * 2000 + delta.signum() * base) / (2 * base);
    if tenths.abs() <= 10 {
        return None;
    }
    let sign = if tenths > 0 { "+" } else { "−" };
    let tenths = tenths.abs();
    Some(format!("{sign}{}.{} %", tenths / 10, tenths % 10))
}

/// A page of the history, newest first, in the chosen currency; voided
/// entries are listed (marked) so a void can be undone where it was made.
async fn history(
    State(state): State<AppState>,
    mut query: QueryArgs,
) -> Result<Response, ApiError> {
    let mut filter = panel_filter(&mut query)?;
    filter.include_void = true;
    let request = ListRequest {
        filter,
        limit: query.number("limit", 4, 1..=entries::MAX_PAGE)?,
        after: query.take("cursor")?.filter(|c| !c.is_empty()),
        currency: query_currency(&mut query)?,
        search: None,
    };
    query.finish()?;
    let page = entries::list(&*state.store, &request).await?;
    let ids: Vec<uuid::Uuid> = page.entries.iter().map(|c| c.entry.id).collect();
    let locks = crate::store::Store::invoice_locks_of(&*state.store, &ids).await?;
    let rows = page
        .entries
        .into_iter()
        .map(|c| {
            let e = c.entry;
            let full_name = provider_and_model(&e);
            let title = e
                .model
                .as_deref()
                .and_then(|m| state.catalog.get(m))
                .map_or_else(|| full_name.clone(), |m| m.name.clone());
            let tags: Vec<&str> = [e.tags.client.as_deref(), e.tags.project.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            let mut note = Vec::new();
            if e.kind != Kind::Generation {
                note.push(e.kind.as_str().to_string());
            }
            if e.status == crate::ledger::Status::Pending {
                note.push("pending".to_string());
            }
            if c.unconverted.is_some() {
                note.push("not converted".to_string());
            }
            let failed = matches!(
                e.status,
                crate::ledger::Status::Failed | crate::ledger::Status::Cancelled
            );
            let charge = match (failed, e.is_charged()) {
                (false, _) => "live",
                (true, true) => "charged",
                (true, false) => "not charged",
            };
            Row {
                id: e.id.to_string(),
                cursor: crate::store::Cursor::after(&e).encode(),
                title,
                at: e.occurred_at.to_string(),
                estimate: e
                    .estimate
                    .micros
                    .map(|m| Shown::entry(m, e.estimate.currency)),
                tier: tier_name(e.estimate.tier),
                actual: e
                    .actual
                    .as_ref()
                    .map(|a| Shown::entry(a.amount.micros, a.amount.currency)),
                difference: e
                    .actual
                    .as_ref()
                    .and_then(|a| difference(&e.estimate, &a.amount)),
                charge,
                voided: e.void.is_some(),
                tags: tags.join(" · "),
                deliverable: e.tags.deliverable.clone(),
                note: (!note.is_empty()).then(|| note.join(", ")),
                full_name,
                status: e.status.as_str(),
                invoice: locks.get(&e.id).map(|l| l.invoice.clone()),
            }
        })
        .collect();
    render(&History {
        rows,
        next_cursor: page.next_cursor,
    })
}

#[derive(Template)]
#[template(path = "panel_entry.html")]
struct EntryDetails {
    id: String,
    title: String,
    full_name: String,
    description: Option<String>,
    /// The parameters as logged, each value as JSON text (strings bare).
    params: Vec<(String, String)>,
    duration: Option<String>,
    status: &'static str,
    basis: String,
    /// The estimate and the confirmed actual, exactly, in the entry's currency.
    estimate: String,
    actual: Option<String>,
    voided: bool,
    void_reason: Option<String>,
    /// (when, what) of each event that made the entry, in chain order.
    events: Vec<(String, String)>,
    currencies: Vec<String>,
    /// The currency the actual is asked in: the estimate's.
    currency: String,
    /// The invoice the entry is billed on: no change is offered.
    invoice: Option<String>,
}

/// One entry opened in the history: what was stored for it and never shown
/// in the row (description, parameters, duration, billing basis, events),
/// and what can be done to it.
async fn entry(State(state): State<AppState>, mut query: QueryArgs) -> Result<Response, ApiError> {
    let id = query
        .take("id")?
        .ok_or_else(|| ApiError::invalid("id", "id: name the entry"))?;
    // The details are in the entry's own currency, as its billing basis
    // is; the row above shows it converted.
    let _shown_in = query_currency(&mut query)?;
    query.finish()?;
    let shown = match crate::service::show::show(&*state.store, &id, None, None).await? {
        crate::service::show::Found::Entry(shown) => shown,
        crate::service::show::Found::Several { .. } => {
            return Err(ApiError::invalid(
                "id",
                format!("id: '{id}' names several entries"),
            ))
        }
    };
    let e = &shown.entry.entry;
    let invoice = crate::store::Store::invoice_locks_of(&*state.store, &[e.id])
        .await?
        .remove(&e.id)
        .map(|l| l.invoice);
    let exact = |micros: Option<i64>, currency: Currency| {
        micros.map_or_else(|| "no price".to_string(), |m| format_exact(m, currency))
    };
    let estimate = format!(
        "{} ({})",
        exact(e.estimate.micros, e.estimate.currency),
        tier_name(e.estimate.tier)
    );
    let actual = e
        .actual
        .as_ref()
        .map(|a| format_exact(a.amount.micros, a.amount.currency));
    let full_name = provider_and_model(e);
    let title = e
        .model
        .as_deref()
        .and_then(|m| state.catalog.get(m))
        .map_or_else(|| full_name.clone(), |m| m.name.clone());
    let params = match serde_json::from_str::<serde_json::Value>(&e.params) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect(),
        _ => Vec::new(),
    };
    let events = shown
        .events
        .iter()
        .map(|event| {
            let what = event.body().map_or_else(
                |err| format!("unreadable event: {err}"),
                |body| crate::service::show::summary(&body, e),
            );
            (event.recorded_at.to_string(), what)
        })
        .collect();
    // The actual is asked in the estimate's currency first.
    let currency = e.estimate.currency.code().to_string();
    let mut currencies: Vec<String> = CURRENCIES.iter().map(|c| c.to_string()).collect();
    if !currencies.contains(&currency) {
        currencies.insert(0, currency.clone());
    }
    render(&EntryDetails {
        id: e.id.to_string(),
        title,
        full_name,
        description: e.description.clone(),
        params,
        duration: e.duration_ms.map(duration_text),
        status: e.status.as_str(),
        basis: shown.basis.clone(),
        estimate,
        actual,
        voided: e.void.is_some(),
        void_reason: e.void.as_ref().map(|v| v.reason.clone()),
        events,
        currencies,
        currency,
        invoice,
    })
}

/// A run's duration: `38.2 s`, or `2 min 5.0 s`.
fn duration_text(ms: i64) -> String {
    let tenths = (ms + 50) / 100;
    let (minutes, tenths) = (tenths / 600, tenths % 600);
    let seconds = format!("{}.{} s", tenths / 10, tenths % 10);
    if minutes > 0 {
        format!("{minutes} min {seconds}")
    } else {
        seconds
    }
}

/// An import or a pool in the panel's list of them.
struct BatchRow {
    id: String,
    /// `import` or `pool`.
    kind: &'static str,
    /// The file imported, or what the pool pays for.
    name: String,
    at: String,
    entries: i64,
    totals: Vec<Shown>,
    detail: Option<String>,
    voided: Option<String>,
}

#[derive(Template)]
#[template(path = "panel_batches.html")]
struct Batches {
    batches: Vec<BatchRow>,
}

/// Imports and pools, newest first, each voidable whole.
async fn batches(
    State(state): State<AppState>,
    mut query: QueryArgs,
) -> Result<Response, ApiError> {
    // A batch is shown in the currencies it was recorded in, as billed.
    let _shown_in = query_currency(&mut query)?;
    query.finish()?;
    use crate::service::batches::{listed, BatchDetails};
    let mut all = listed(&*state.store, true).await?;
    all.extend(listed(&*state.store, false).await?);
    all.sort_by_key(|b| std::cmp::Reverse(b.batch.recorded_at));
    let batches = all
        .into_iter()
        .map(|b| {
            let (kind, name, detail) = match &b.batch.details {
                BatchDetails::Import(i) => (
                    "import",
                    i.file.clone(),
                    Some(format!("{} rows read, {} added", i.rows, i.added)),
                ),
                BatchDetails::Pool(p) => (
                    "pool",
                    p.description.clone(),
                    Some(format!(
                        "{} split {} over {}",
                        p.period,
                        p.split,
                        p.shares
                            .iter()
                            .map(|s| s.project.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ),
            };
            BatchRow {
                id: b.batch.id.to_string(),
                kind,
                name,
                at: b.batch.recorded_at.to_string(),
                entries: b.live_entries,
                totals: b
                    .live_totals
                    .iter()
                    .map(|m| Shown::total(m.micros, m.currency))
                    .collect(),
                detail,
                voided: b.batch.void_reason.clone(),
            }
        })
        .collect();
    render(&Batches { batches })
}

struct ClientGroup {
    name: String,
    /// The client's name as logged, for its invoice dialog (none for
    /// costs without a client).
    client: Option<String>,
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
            client: group.key.clone(),
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
    source = r#"{% match amount %}{% when Some with (a) %}<span title="{{ a.exact }}">{{ a.text }}</span> <span class="tier">{{ tier }}</span>{% when None %}<span class="tier">No price</span>{% endmatch %}{% if let Some(t) = typical %} <span class="typical" title="median of the last runs with these settings">({{ t }})</span>{% endif %} <span class="why">{{ explanation }}</span>{% for w in warnings %}<span class="warning">{{ w.message }}</span>{% endfor %}"#,
    ext = "html"
)]
struct EstimateLine {
    amount: Option<Shown>,
    tier: String,
    /// `≈ 38 s` once the ledger knows 3 runs with these settings.
    typical: Option<String>,
    explanation: String,
    /// Parameters that look misspelt, each with what was probably meant.
    warnings: Vec<crate::service::warning::Warning>,
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
        warnings: report.warnings,
    })
}

/// Of the project names a pool is about to use (`names`, one per line),
/// those the ledger does not have yet, each with the closest it has, as
/// JSON `[{"name", "closest": [..]}]`: the panel asks before creating one.
async fn new_projects(
    State(state): State<AppState>,
    mut query: QueryArgs,
) -> Result<axum::Json<Vec<crate::service::tags::NewName>>, ApiError> {
    let names: Vec<String> = query
        .take("names")?
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    query.finish()?;
    for name in &names {
        crate::service::limits::name("project", name)?;
    }
    let new =
        crate::service::tags::new_names(&*state.store, crate::ledger::TagField::Project, &names)
            .await?;
    Ok(axum::Json(new))
}
