//! Pool costs: one shared cost (a monthly subscription) split across
//! projects evenly, by each project's spend in the period, or by weights.
//! Each share is an entry of kind `pool` dated the first day of the period.

use super::batches::PoolSummary;
use super::warning::Warning;
use super::{limits, rates, totals};
use crate::error::{Error, Result};
use crate::ledger::event::{Params, PoolAdded, PoolShare};
use crate::ledger::pool::split;
use crate::ledger::tags::{fold, normalize};
use crate::ledger::totals::Grouping;
use crate::ledger::{Command, EntryRecord, Kind, Status, TagField, Tags, Tier};
use crate::money::{decimal_string, parse_amount, Money};
use crate::store::{Filter, Store};
use crate::timestamp::{DayRange, Timestamp};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// How a pool is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Even,
    Spend,
    Weights,
}

impl FromStr for Split {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "even" => Ok(Split::Even),
            "spend" => Ok(Split::Spend),
            "weights" => Ok(Split::Weights),
            other => Err(format!(
                "unknown split '{other}': expected even, spend or weights"
            )),
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Split::Even => "even",
            Split::Spend => "spend",
            Split::Weights => "weights",
        })
    }
}

/// Which projects share the cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Projects {
    Listed(Vec<String>),
    /// Every project with generation or external costs in the period.
    All,
}

#[derive(Clone, Debug)]
pub struct PoolRequest {
    pub amount: Money,
    pub description: String,
    /// `YYYY-MM`.
    pub period: String,
    pub projects: Projects,
    pub split: Split,
    /// (project, weight as written), for `Split::Weights`.
    pub weights: Vec<(String, String)>,
    pub source: Option<String>,
}

/// A pool as added: its id and the same summary `pool list` shows.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PoolAddedReport {
    pub id: Uuid,
    #[serde(flatten)]
    pub pool: PoolSummary,
    /// Projects the ledger did not have before this pool created them;
    /// left out when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

pub const DEFAULT_SOURCE: &str = "pool";

/// Splits the cost and logs one share per project with a share above zero,
/// all in one command: the pool is added whole or not at all.
pub async fn add<S: Store>(store: &S, request: PoolRequest) -> Result<PoolAddedReport> {
    let amount = request.amount;
    if amount.micros <= 0 {
        return Err(Error::input(
            "--amount: a pool cost must be above zero (a refund is logged as an external cost)",
        ));
    }
    limits::amount("--amount", amount)?;
    let description = request.description.trim().to_string();
    if description.is_empty() {
        return Err(Error::input("--description: cannot be empty"));
    }
    limits::description(&description)?;
    let source = request
        .source
        .as_deref()
        .map(str::trim)
        .unwrap_or(DEFAULT_SOURCE)
        .to_string();
    if source.is_empty() {
        return Err(Error::input("--source: cannot be empty"));
    }
    limits::name("source", &source)?;
    let (start, end) = period_bounds(&request.period)?;
    limits::occurred_at("--period", start, Timestamp::now())?;
    rates::check_convertible(store, amount.currency, start.day()).await?;
    let period_filter = |project: Option<&str>| Filter {
        project: project.map(str::to_string),
        since: Some(start),
        until: Some(end),
        ..Default::default()
    };

    let projects = match &request.projects {
        Projects::Listed(names) => listed_projects(store, names).await?,
        Projects::All => {
            let found = projects_with_costs(store, &period_filter(None)).await?;
            if found.is_empty() {
                return Err(Error::input(format!(
                    "--all-projects: no project has costs in {}; list the projects with --project",
                    request.period
                )));
            }
            found
        }
    };
    if request.split != Split::Weights && !request.weights.is_empty() {
        return Err(Error::input("--weight is only for --split weights"));
    }
    let weights: Vec<(u128, String)> = match request.split {
        Split::Even => projects.iter().map(|_| (1, "1".to_string())).collect(),
        Split::Weights => given_weights(&projects, &request.weights)?,
        Split::Spend => {
            let mut weights = Vec::with_capacity(projects.len());
            for project in &projects {
                let spend = project_spend(store, &period_filter(Some(project)), amount).await?;
                // A project whose refunds exceed its costs has no spend.
                let spend = spend.max(0);
                weights.push((spend as u128, decimal_string(spend)));
            }
            if weights.iter().all(|(w, _)| *w == 0) {
                return Err(Error::input(format!(
                    "--split spend: none of the projects has spend in {}; split evenly or by weights",
                    request.period
                )));
            }
            weights
        }
    };
    let amounts: Vec<u128> = weights.iter().map(|(w, _)| *w).collect();
    let shares = split(amount.micros, &amounts)
        .ok_or_else(|| Error::input("the weights are too large to split exactly"))?;

    let id = Uuid::now_v7();
    let mut pool_shares = Vec::with_capacity(projects.len());
    let mut records = Vec::with_capacity(projects.len());
    for ((project, (_, weight)), micros) in projects.iter().zip(weights).zip(shares) {
        let client = sole_client(store, &period_filter(Some(project))).await?;
        if micros != 0 {
            records.push(share_record(
                id,
                start,
                &source,
                &description,
                Tags {
                    client: client.clone(),
                    project: Some(project.clone()),
                    deliverable: None,
                },
                Money::new(micros, amount.currency),
            )?);
        }
        pool_shares.push(PoolShare {
            project: project.clone(),
            client,
            weight,
            micros,
        });
    }
    let pool = PoolAdded {
        batch: id,
        micros: amount.micros,
        currency: amount.currency,
        description,
        period: request.period.trim().to_string(),
        split: request.split.to_string(),
        source,
        shares: pool_shares,
    };
    let summary = PoolSummary::from(pool.clone());
    // Names the ledger has not seen are created by the pool; said, since a
    // misspelt project would take a share of its own.
    let mut new = Vec::new();
    if let Projects::Listed(_) = request.projects {
        for project in &projects {
            if store
                .tag_spelling(TagField::Project, project)
                .await?
                .is_none()
            {
                new.push(project.clone());
            }
        }
    }
    let warnings =
        super::tags::new_name_warnings(store, TagField::Project, "projects", &new).await?;
    store
        .execute(
            Command::AddPool {
                pool,
                shares: records,
            },
            Timestamp::now(),
        )
        .await?;
    Ok(PoolAddedReport {
        id,
        pool: summary,
        warnings,
    })
}

/// The first instant of a `YYYY-MM` month and of the month after (UTC).
pub fn period_bounds(period: &str) -> Result<(Timestamp, Timestamp)> {
    let month = DayRange::month(period).map_err(|e| Error::input(format!("--period: {e}")))?;
    Ok((month.start, month.end))
}

/// The listed projects, each once, in the ledger's spelling where the
/// ledger already has the name in another case.
async fn listed_projects<S: Store>(store: &S, names: &[String]) -> Result<Vec<String>> {
    if names.is_empty() {
        return Err(Error::input(
            "name the projects with --project (repeat it), or give --all-projects",
        ));
    }
    let mut projects: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for name in names {
        let Some(given) = normalize(name) else {
            return Err(Error::input("--project: cannot be empty"));
        };
        limits::name("project", &given)?;
        let spelled = store
            .tag_spelling(TagField::Project, &given)
            .await?
            .unwrap_or(given);
        if !seen.insert(fold(&spelled)) {
            return Err(Error::input(format!(
                "--project '{spelled}' is listed twice"
            )));
        }
        projects.push(spelled);
    }
    Ok(projects)
}

/// Projects with live generation or external costs matching `filter`.
async fn projects_with_costs<S: Store>(store: &S, filter: &Filter) -> Result<Vec<String>> {
    let mut found = BTreeSet::new();
    for kind in [Kind::Generation, Kind::External] {
        let filter = Filter {
            kind: Some(kind),
            ..filter.clone()
        };
        let rows = store.sums(&filter, Grouping::Column("project")).await?;
        found.extend(
            rows.into_iter()
                .filter(|r| r.count > 0)
                .filter_map(|r| r.key),
        );
    }
    Ok(found.into_iter().collect())
}

/// Weights for the listed projects: every project one, none unlisted, all
/// above zero.
fn given_weights(projects: &[String], given: &[(String, String)]) -> Result<Vec<(u128, String)>> {
    let mut weights: Vec<Option<(u128, String)>> = vec![None; projects.len()];
    for (project, weight) in given {
        let folded = fold(&normalize(project).unwrap_or_default());
        let Some(i) = projects.iter().position(|p| fold(p) == folded) else {
            return Err(Error::input(format!(
                "--weight '{project}={weight}': '{project}' is not one of the --project names"
            )));
        };
        let micros = parse_amount(weight.trim())
            .map_err(|e| Error::input(format!("--weight '{project}={weight}': {e}")))?;
        if micros <= 0 {
            return Err(Error::input(format!(
                "--weight '{project}={weight}': a weight must be above zero"
            )));
        }
        if weights[i].is_some() {
            return Err(Error::input(format!(
                "--weight: '{}' has two weights",
                projects[i]
            )));
        }
        weights[i] = Some((micros as u128, decimal_string(micros)));
    }
    projects
        .iter()
        .zip(weights)
        .map(|(project, weight)| {
            weight.ok_or_else(|| {
                Error::input(format!(
                    "--split weights: no --weight for project '{project}' (give --weight '{project}=N')"
                ))
            })
        })
        .collect()
}

/// A project's generation and external spend in the period, in the pool's
/// currency (earlier pool shares are not spend).
async fn project_spend<S: Store>(store: &S, filter: &Filter, pool: Money) -> Result<i64> {
    let mut spend = 0i64;
    for kind in [Kind::Generation, Kind::External] {
        let filter = Filter {
            kind: Some(kind),
            ..filter.clone()
        };
        let found = totals::totals(store, &filter, None, pool.currency).await?;
        if let Some(left_out) = found.unconverted.first() {
            return Err(Error::input(format!(
                "--split spend: the spend of project '{}' includes {} {} of {} that no rate converts into {}; import rates or split by weights",
                filter.project.as_deref().unwrap_or_default(),
                decimal_string(left_out.amount),
                left_out.currency,
                left_out.day,
                pool.currency
            )));
        }
        spend = spend
            .checked_add(found.total)
            .ok_or_else(|| Error::input("--split spend: the spend is too large to add up"))?;
    }
    Ok(spend)
}

/// The client of a project's entries in the period, when they all have the
/// same one.
async fn sole_client<S: Store>(store: &S, filter: &Filter) -> Result<Option<String>> {
    let rows = store.sums(filter, Grouping::Column("client")).await?;
    let clients: BTreeSet<Option<String>> = rows
        .into_iter()
        .filter(|r| r.count > 0)
        .map(|r| r.key)
        .collect();
    let mut clients = clients.into_iter();
    match (clients.next(), clients.next()) {
        (Some(Some(client)), None) => Ok(Some(client)),
        _ => Ok(None),
    }
}

fn share_record(
    pool: Uuid,
    at: Timestamp,
    source: &str,
    description: &str,
    tags: Tags,
    share: Money,
) -> Result<EntryRecord> {
    let params = Params::from_map(&serde_json::Map::new())
        .map_err(|e| Error::input(format!("parameters: {e}")))?;
    Ok(EntryRecord {
        id: Uuid::now_v7(),
        kind: Kind::Pool,
        occurred_at: at.0,
        source: source.to_string(),
        model: None,
        description: Some(description.to_string()),
        tags,
        request_id: None,
        status: Status::Succeeded,
        duration_ms: None,
        params,
        estimate_micros: Some(share.micros),
        estimate_currency: share.currency,
        estimate_tier: Tier::Billed,
        actual_micros: Some(share.micros),
        actual_currency: Some(share.currency),
        price_version: None,
        license: None,
        batch: Some(pool),
        billing: None,
    })
}
