//! Budgets as the CLI and the API see them: set (made or changed, any
//! option left out keeps its value), listed, shown with their figures for
//! the current period, removed. The budget and its changes are events; the
//! figures come from the budget's sums, kept with every write.

use super::limits;
use crate::error::{Error, Result};
use crate::ledger::budget::{Budget, BudgetAlert, Figures, Period, Resets, DEFAULT_ALERTS};
use crate::ledger::tags::fold;
use crate::ledger::{BudgetWrite, Command, Event, EventBody, TagField};
use crate::money::{decimal_string, parse_amount, Currency};
use crate::store::Store;
use crate::timestamp::{day_label, parse_day, today, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

/// What a caller asks of a budget; `None` keeps the value a budget has
/// (or takes the default for a new one); an empty scope text clears it.
#[derive(Clone, Debug, Default)]
pub struct BudgetInput {
    pub name: String,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
    pub model: Option<String>,
    pub resets: Option<String>,
    pub from: Option<String>,
    pub hard: Option<bool>,
    /// Thresholds in percent, comma-separated (`50,80,100`); empty for none.
    pub alerts: Option<String>,
    pub allow_unpriced: Option<bool>,
}

/// A budget with its figures for the current period.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BudgetJson {
    pub name: String,
    pub amount: String,
    pub currency: String,
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
    pub model: Option<String>,
    /// month, quarter, year or never (UTC calendar periods).
    pub resets: String,
    /// The first day counted.
    pub from: String,
    pub hard: bool,
    pub allow_unpriced: bool,
    /// Alert thresholds in percent.
    pub alerts: Vec<u32>,
    pub period: PeriodJson,
    /// Confirmed costs plus estimates of finished runs.
    pub spent: String,
    pub spent_billed: String,
    pub spent_estimated: String,
    /// Pending runs at their estimates.
    pub held: String,
    /// amount − spent − held (negative when over).
    pub remaining: String,
    /// (spent + held) in percent of the amount, rounded down.
    pub percent: i64,
    /// Entries counted with no price (never as zero), and of them pending.
    pub unpriced: i64,
    pub unpriced_held: i64,
    /// Entries whose amount no exchange rate converts into the currency.
    pub unconverted: i64,
    pub entries: i64,
    /// Thresholds crossed in this period.
    pub crossed: Vec<u32>,
    /// ok, warning (from the first threshold) or over (at 100 %).
    pub state: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PeriodJson {
    /// `2026-12`, `2026-Q4`, `2026` or `from 2026-12-07`.
    pub label: String,
    pub start: String,
    /// The last day, inclusive; null for a budget that never resets.
    pub end: Option<String>,
}

/// A threshold crossed by a write, as answers carry it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AlertJson {
    pub budget: String,
    pub threshold: u32,
    pub period: String,
    pub spent: String,
    pub held: String,
    pub remaining: String,
    pub currency: String,
    pub entry_id: Option<String>,
    pub message: String,
}

impl AlertJson {
    pub fn of(alert: &BudgetAlert) -> AlertJson {
        AlertJson {
            budget: alert.budget.clone(),
            threshold: alert.threshold,
            period: alert.period.clone(),
            spent: decimal_string(alert.spent_micros),
            held: decimal_string(alert.held_micros),
            remaining: decimal_string(alert.remaining_micros),
            currency: alert.currency.code().to_string(),
            entry_id: alert.entry_id.map(|id| id.to_string()),
            message: alert.message(),
        }
    }
}

/// The thresholds crossed that these events record.
pub fn alerts_in(events: &[Event]) -> Vec<BudgetAlert> {
    events
        .iter()
        .filter(|e| e.kind == "budget_threshold_crossed")
        .filter_map(|e| match e.body() {
            Ok(EventBody::BudgetThresholdCrossed(alert)) => Some(alert),
            _ => None,
        })
        .collect()
}

/// A budget made or changed.
pub struct BudgetSet {
    pub budget: BudgetJson,
    pub created: bool,
    /// Thresholds its figures already cross.
    pub alerts: Vec<BudgetAlert>,
}

/// Makes or changes a budget.
pub async fn set<S: Store>(
    store: &S,
    input: BudgetInput,
    expect: BudgetWrite,
) -> Result<BudgetSet> {
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(Error::field("name", "a budget needs a name"));
    }
    limits::name("name", &name)?;
    let existing = store
        .budgets()
        .await?
        .into_iter()
        .find(|b| b.key() == fold(&name));
    match (&existing, expect) {
        (Some(b), BudgetWrite::Create) => {
            let exists = crate::ledger::LedgerError::BudgetExists(b.name.clone());
            return Err(Error::Store(exists.into()));
        }
        (None, BudgetWrite::Change) => {
            return Err(Error::NotFound(format!("no budget named {name}")))
        }
        _ => {}
    }
    // A change keeps the name's first spelling (the path may fold it).
    let name = existing.as_ref().map_or(name, |b| b.name.clone());
    let budget = merged(store, name, existing, input).await?;
    let executed = store
        .execute(
            Command::SetBudget {
                budget: budget.clone(),
                expect,
            },
            Timestamp::now(),
        )
        .await?;
    let created = matches!(
        executed.outcome,
        crate::ledger::Outcome::BudgetSet { created: true }
    );
    let alerts = alerts_in(&executed.events);
    Ok(BudgetSet {
        budget: view(store, &budget).await?,
        created,
        alerts,
    })
}

/// The budget as it will stand: the input over what it was (or the
/// defaults), checked.
async fn merged<S: Store>(
    store: &S,
    name: String,
    existing: Option<Budget>,
    input: BudgetInput,
) -> Result<Budget> {
    let amount_micros = match (&input.amount, &existing) {
        (Some(text), _) => {
            let micros =
                parse_amount(text).map_err(|e| Error::field("amount", format!("'{text}': {e}")))?;
            if micros <= 0 {
                return Err(Error::field(
                    "amount",
                    format!("'{text}' is not above zero"),
                ));
            }
            micros
        }
        (None, Some(b)) => b.amount_micros,
        (None, None) => return Err(Error::field("amount", "a new budget needs an amount")),
    };
    let currency: Currency = match (&input.currency, &existing) {
        (Some(text), _) => text
            .trim()
            .to_ascii_uppercase()
            .parse()
            .map_err(|e| Error::field("currency", format!("{e}")))?,
        (None, Some(b)) => b.currency,
        (None, None) => return Err(Error::field("currency", "a new budget needs a currency")),
    };
    limits::amount("amount", crate::money::Money::new(amount_micros, currency))?;
    super::rates::check_convertible(store, currency, today()).await?;
    let scope = |field: &'static str, given: &Option<String>, had: Option<&String>| match given {
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => {
            let text = crate::ledger::tags::normalize(text).unwrap_or_default();
            limits::name(field, &text)?;
            Ok::<_, Error>(Some(text))
        }
        None => Ok(had.cloned()),
    };
    let had = existing.as_ref();
    let client = scope("client", &input.client, had.and_then(|b| b.client.as_ref()))?;
    let project = scope(
        "project",
        &input.project,
        had.and_then(|b| b.project.as_ref()),
    )?;
    let deliverable = scope(
        "deliverable",
        &input.deliverable,
        had.and_then(|b| b.deliverable.as_ref()),
    )?;
    let model = scope("model", &input.model, had.and_then(|b| b.model.as_ref()))?;
    // A tag given now takes the spelling the ledger knows it by, as logged
    // entries do; one kept from before stays as it was.
    let spelled = |field, tag: Option<String>, given: bool| async move {
        match tag {
            Some(name) if given => Ok::<_, Error>(Some(
                store.tag_spelling(field, &name).await?.unwrap_or(name),
            )),
            other => Ok(other),
        }
    };
    let client = spelled(TagField::Client, client, input.client.is_some()).await?;
    let project = spelled(TagField::Project, project, input.project.is_some()).await?;
    let deliverable = spelled(
        TagField::Deliverable,
        deliverable,
        input.deliverable.is_some(),
    )
    .await?;
    let resets: Resets = match (&input.resets, had) {
        (Some(text), _) => text
            .trim()
            .parse()
            .map_err(|e: String| Error::field("resets", e))?,
        (None, Some(b)) => b.resets,
        (None, None) => Resets::Month,
    };
    let alerts = match (&input.alerts, had) {
        (Some(text), _) => parse_alerts(text)?,
        (None, Some(b)) => b.alerts.clone(),
        (None, None) => DEFAULT_ALERTS.to_vec(),
    };
    let mut budget = Budget {
        name,
        amount_micros,
        currency,
        client,
        project,
        deliverable,
        model,
        resets,
        from: String::new(),
        hard: input.hard.or(had.map(|b| b.hard)).unwrap_or(false),
        alerts,
        allow_unpriced: input
            .allow_unpriced
            .or(had.map(|b| b.allow_unpriced))
            .unwrap_or(false),
    };
    budget.from = match (&input.from, had) {
        (Some(text), _) => {
            let day = parse_day(text).ok_or_else(|| {
                Error::field("from", format!("'{text}' is not a date (YYYY-MM-DD)"))
            })?;
            day_label(day)
        }
        // A change that moves the period keeps the day counting started.
        (None, Some(b)) if b.resets == resets => b.from.clone(),
        (None, _) => day_label(default_from(&budget, today())),
    };
    Ok(budget)
}

/// Where a new budget starts counting: the start of the current period;
/// today for one that never resets.
fn default_from(budget: &Budget, today: i64) -> i64 {
    if budget.resets == Resets::Never {
        return today;
    }
    let probe = Budget {
        from: "1970-01-01".into(),
        ..budget.clone()
    };
    probe.period_of(today).map_or(today, |p| p.start)
}

/// `50,80,100`: whole percentages from 1 to 1000, sorted, each once.
pub fn parse_alerts(text: &str) -> Result<Vec<u32>> {
    let mut alerts = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let value: u32 = part
            .trim_end_matches('%')
            .parse()
            .ok()
            .filter(|v| (1..=1000).contains(v))
            .ok_or_else(|| {
                Error::field(
                    "alerts",
                    format!("'{part}' is not a whole percentage from 1 to 1000"),
                )
            })?;
        alerts.push(value);
    }
    alerts.sort_unstable();
    alerts.dedup();
    Ok(alerts)
}

/// Every budget with its figures, by name.
pub async fn list<S: Store>(store: &S) -> Result<Vec<BudgetJson>> {
    let mut out = Vec::new();
    for budget in store.budgets().await? {
        out.push(view(store, &budget).await?);
    }
    Ok(out)
}

/// One budget, by name (matched by the folding rule).
pub async fn show<S: Store>(store: &S, name: &str) -> Result<BudgetJson> {
    let budget = find(store, name).await?;
    view(store, &budget).await
}

pub async fn find<S: Store>(store: &S, name: &str) -> Result<Budget> {
    let key = fold(name.trim());
    store
        .budgets()
        .await?
        .into_iter()
        .find(|b| b.key() == key)
        .ok_or_else(|| Error::NotFound(format!("no budget named {}", name.trim())))
}

/// Removes a budget; its events stay in the chain.
pub async fn remove<S: Store>(store: &S, name: &str) -> Result<String> {
    let budget = find(store, name).await?;
    store
        .execute(
            Command::RemoveBudget {
                name: budget.name.clone(),
            },
            Timestamp::now(),
        )
        .await?;
    Ok(budget.name)
}

/// The period a budget shows now: today's, or its first when it starts later.
pub fn current_period(budget: &Budget) -> Option<Period> {
    budget.period_of(today().max(budget.from_day()))
}

/// A budget with its figures for its current period.
pub async fn view<S: Store>(store: &S, budget: &Budget) -> Result<BudgetJson> {
    let period = current_period(budget).ok_or_else(|| {
        Error::Io(format!(
            "budget {}: no period for its dates; set --from again",
            budget.name
        ))
    })?;
    let (figures, crossed) = store.budget_figures(budget, &period).await?;
    Ok(json(budget, &period, &figures, crossed))
}

fn json(budget: &Budget, period: &Period, figures: &Figures, crossed: Vec<u32>) -> BudgetJson {
    let percent = figures.percent(budget.amount_micros);
    let first = budget.alerts.first().copied().map_or(i64::MAX, i64::from);
    let used = i128::from(figures.spent()) + i128::from(figures.held);
    let state = if used >= i128::from(budget.amount_micros) {
        "over"
    } else if percent >= first {
        "warning"
    } else {
        "ok"
    };
    BudgetJson {
        name: budget.name.clone(),
        amount: decimal_string(budget.amount_micros),
        currency: budget.currency.code().to_string(),
        client: budget.client.clone(),
        project: budget.project.clone(),
        deliverable: budget.deliverable.clone(),
        model: budget.model.clone(),
        resets: budget.resets.to_string(),
        from: budget.from.clone(),
        hard: budget.hard,
        allow_unpriced: budget.allow_unpriced,
        alerts: budget.alerts.clone(),
        period: PeriodJson {
            label: period.label.clone(),
            start: day_label(period.start),
            end: period.last_day(),
        },
        spent: decimal_string(figures.spent()),
        spent_billed: decimal_string(figures.billed),
        spent_estimated: decimal_string(figures.estimated),
        held: decimal_string(figures.held),
        remaining: decimal_string(figures.remaining(budget.amount_micros)),
        percent,
        unpriced: figures.unpriced,
        unpriced_held: figures.unpriced_held,
        unconverted: figures.unconverted,
        entries: figures.entries,
        crossed,
        state: state.to_string(),
    }
}

/// The budgets that count entries with these tags (the panel's active
/// client and project), most used first.
pub async fn covering<S: Store>(
    store: &S,
    client: Option<&str>,
    project: Option<&str>,
) -> Result<Vec<BudgetJson>> {
    let (client, project) = (client.map(fold), project.map(fold));
    let mut out = Vec::new();
    for budget in store.budgets().await? {
        let scope = crate::ledger::budget::BudgetScope::of(&budget);
        let fits = |want: &Option<String>, have: &Option<String>| {
            want.is_none() || (have.is_some() && want == have)
        };
        if fits(&scope.client, &client) && fits(&scope.project, &project) {
            out.push(view(store, &budget).await?);
        }
    }
    // Most used first; between equals, the one made for this work (a
    // client's or project's) before a budget of everything.
    let narrowness = |b: &BudgetJson| {
        [&b.client, &b.project, &b.deliverable, &b.model]
            .iter()
            .filter(|v| v.is_some())
            .count()
    };
    out.sort_by(|a, b| {
        b.percent
            .cmp(&a.percent)
            .then(narrowness(b).cmp(&narrowness(a)))
            .then(a.name.cmp(&b.name))
    });
    Ok(out)
}
