//! Budgets: an amount in one currency for the costs of a scope (client,
//! project, deliverable, model) over UTC calendar periods. What counts as
//! spent, held or unpriced, the period a day falls in, the figures a
//! budget's sums add up to, the thresholds a change crosses and what a
//! hard budget refuses. No I/O here.
//!
//! A budget's sums are kept per state, currency and UTC day (like the cost
//! rollups), so its figures in its own currency convert each day at that
//! day's rate, as totals do.

use super::entry::{Status, Tier};
use super::tags::fold;
use crate::money::{decimal_string, div_round_half_even, Currency};
use crate::timestamp::{date_day, day_date, day_label, month_start, parse_day};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// The thresholds a budget alerts at unless told otherwise, in percent.
pub const DEFAULT_ALERTS: [u32; 3] = [50, 80, 100];

/// How often a budget starts counting again: UTC calendar periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resets {
    Month,
    Quarter,
    Year,
    Never,
}

impl Resets {
    pub fn as_str(self) -> &'static str {
        match self {
            Resets::Month => "month",
            Resets::Quarter => "quarter",
            Resets::Year => "year",
            Resets::Never => "never",
        }
    }
}

impl fmt::Display for Resets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Resets {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "month" => Ok(Resets::Month),
            "quarter" => Ok(Resets::Quarter),
            "year" => Ok(Resets::Year),
            "never" => Ok(Resets::Never),
            other => Err(format!(
                "unknown reset period '{other}': expected month, quarter, year or never"
            )),
        }
    }
}

/// A budget as its `budget_set` event records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub name: String,
    pub amount_micros: i64,
    pub currency: Currency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliverable: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub resets: Resets,
    /// The first day the budget counts (`YYYY-MM-DD`).
    pub from: String,
    /// A hard budget refuses holds that would take it over its amount.
    pub hard: bool,
    /// Thresholds in percent of the amount, ascending.
    pub alerts: Vec<u32>,
    /// A hard budget lets runs of unpriced models through.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unpriced: bool,
}

impl Budget {
    /// The name as budgets are matched and kept unique: folded.
    pub fn key(&self) -> String {
        fold(&self.name)
    }

    /// The first day counted (day 0 for an unreadable date: the events are
    /// checked when they are written).
    pub fn from_day(&self) -> i64 {
        parse_day(&self.from).unwrap_or(0)
    }

    /// The period `day` falls in, if the budget counts it.
    pub fn period_of(&self, day: i64) -> Option<Period> {
        let from = self.from_day();
        if day < from {
            return None;
        }
        let (start, end, label) = match self.resets {
            Resets::Never => (from, i64::MAX, format!("from {}", day_label(from))),
            Resets::Month => {
                let start = month_start(day);
                let end = crate::timestamp::next_month(day);
                (start, end, day_label(start)[..7].to_string())
            }
            Resets::Quarter => {
                let date = day_date(day)?;
                let first_month = (u8::from(date.month()) - 1) / 3 * 3 + 1;
                let month = time::Month::try_from(first_month).ok()?;
                let start = date_day(time::Date::from_calendar_date(date.year(), month, 1).ok()?);
                let end = crate::timestamp::next_month(crate::timestamp::next_month(
                    crate::timestamp::next_month(start),
                ));
                let label = format!("{}-Q{}", date.year(), (first_month - 1) / 3 + 1);
                (start, end, label)
            }
            Resets::Year => {
                let date = day_date(day)?;
                let start = date_day(
                    time::Date::from_calendar_date(date.year(), time::Month::January, 1).ok()?,
                );
                let end = date_day(
                    time::Date::from_calendar_date(date.year() + 1, time::Month::January, 1)
                        .ok()?,
                );
                (start, end, date.year().to_string())
            }
        };
        Some(Period {
            start: start.max(from),
            end,
            label,
        })
    }

    /// The thresholds `figures` reach that are not in `recorded` yet.
    pub fn crossed(&self, figures: &Figures, recorded: &[u32]) -> Vec<u32> {
        let used = i128::from(figures.spent()) + i128::from(figures.held);
        self.alerts
            .iter()
            .copied()
            .filter(|t| !recorded.contains(t))
            .filter(|t| used * 100 >= i128::from(*t) * i128::from(self.amount_micros))
            .collect()
    }

    /// Whether `figures` are over the amount.
    pub fn is_over(&self, figures: &Figures) -> bool {
        i128::from(figures.spent()) + i128::from(figures.held) > i128::from(self.amount_micros)
    }
}

/// The days a budget counts together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: i64,
    /// Exclusive; `i64::MAX` for a budget that never resets.
    pub end: i64,
    /// `2026-12`, `2026-Q4`, `2026`, or `from 2026-12-07`.
    pub label: String,
}

impl Period {
    /// The last day, inclusive, as `YYYY-MM-DD` (`None` when open).
    pub fn last_day(&self) -> Option<String> {
        (self.end != i64::MAX).then(|| day_label(self.end - 1))
    }
}

/// What an entry's cost is to a budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Spend {
    /// A pending run at its estimate.
    Held,
    /// Spent, confirmed by the provider.
    Billed,
    /// Spent, at an estimate of a finished run (or a historical figure).
    Estimated,
    Historical,
    /// Spent at an unknown amount.
    Unpriced,
}

impl Spend {
    pub const ALL: [Spend; 5] = [
        Spend::Held,
        Spend::Billed,
        Spend::Estimated,
        Spend::Historical,
        Spend::Unpriced,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Spend::Held => "held",
            Spend::Billed => "billed",
            Spend::Estimated => "estimated",
            Spend::Historical => "historical",
            Spend::Unpriced => "unpriced",
        }
    }

    pub fn parse(text: &str) -> Option<Spend> {
        Spend::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// A counted entry's state: held while its run is pending without a
    /// confirmed cost, else spent at its cost's tier.
    pub fn of(status: &str, has_actual: bool, tier: &str) -> Spend {
        if status == Status::Pending.as_str() && !has_actual {
            return Spend::Held;
        }
        match tier.parse::<Tier>() {
            Ok(Tier::Billed) => Spend::Billed,
            Ok(Tier::Historical) => Spend::Historical,
            Ok(Tier::Unpriced) => Spend::Unpriced,
            _ => Spend::Estimated,
        }
    }
}

/// A budget compiled for matching entries: its folded keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetScope {
    /// The budget's folded name.
    pub key: String,
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
    pub model: Option<String>,
    pub from_day: i64,
    /// The rollup keys of its sums, one per `Spend` in `Spend::ALL` order.
    pub sum_keys: [String; 5],
}

/// Separates a budget's name from the state in its sums' keys (a control
/// character: names cannot hold one).
pub const SUM_KEY_SEPARATOR: char = '\u{1f}';

/// The rollup keys of a budget's sums, by its folded name.
pub fn sum_keys_of(key: &str) -> [String; 5] {
    Spend::ALL.map(|s| format!("{key}{SUM_KEY_SEPARATOR}{}", s.as_str()))
}

impl BudgetScope {
    pub fn of(budget: &Budget) -> BudgetScope {
        let key = budget.key();
        let folded = |tag: &Option<String>| tag.as_deref().map(fold);
        BudgetScope {
            sum_keys: sum_keys_of(&key),
            key,
            client: folded(&budget.client),
            project: folded(&budget.project),
            deliverable: folded(&budget.deliverable),
            model: folded(&budget.model),
            from_day: budget.from_day(),
        }
    }

    /// Whether a counted entry with these folded tags, model and day is in
    /// the budget. `model` is folded only when a budget names one.
    pub fn matches(
        &self,
        client: Option<&str>,
        project: Option<&str>,
        deliverable: Option<&str>,
        model: Option<&str>,
        day: i64,
    ) -> bool {
        let tag = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        day >= self.from_day
            && tag(&self.client, client)
            && tag(&self.project, project)
            && tag(&self.deliverable, deliverable)
            && self
                .model
                .as_deref()
                .is_none_or(|w| model.is_some_and(|m| fold(m) == w))
    }

    /// Whether the budget counts an entry with these tags (as logged, not
    /// yet folded) of this model on this day.
    pub fn counts(&self, tags: &super::Tags, model: Option<&str>, day: i64) -> bool {
        let folded = |tag: &Option<String>| tag.as_deref().map(fold);
        self.matches(
            folded(&tags.client).as_deref(),
            folded(&tags.project).as_deref(),
            folded(&tags.deliverable).as_deref(),
            model,
            day,
        )
    }

    pub fn sum_key(&self, spend: Spend) -> &str {
        let at = Spend::ALL.iter().position(|s| *s == spend).unwrap_or(0);
        &self.sum_keys[at]
    }
}

/// The budget name and state a sums key holds.
pub fn split_sum_key(key: &str) -> Option<(&str, Spend)> {
    let (name, state) = key.rsplit_once(SUM_KEY_SEPARATOR)?;
    Some((name, Spend::parse(state)?))
}

/// One row of a budget's sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpendRow {
    pub spend: Spend,
    pub currency: Currency,
    pub day: i64,
    pub micros: i64,
    pub entries: i64,
    pub unpriced: i64,
}

/// A budget's figures in its currency over one period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Spent and confirmed.
    pub billed: i64,
    /// Spent at estimates of finished runs (historical ones included).
    pub estimated: i64,
    /// Pending runs at their estimates.
    pub held: i64,
    /// Entries counted at no amount (unpriced), of which pending.
    pub unpriced: i64,
    pub unpriced_held: i64,
    /// Entries whose amount no rate converts into the budget's currency.
    pub unconverted: i64,
    pub entries: i64,
}

impl Figures {
    pub fn spent(&self) -> i64 {
        self.billed.saturating_add(self.estimated)
    }

    pub fn remaining(&self, amount: i64) -> i64 {
        amount
            .saturating_sub(self.spent())
            .saturating_sub(self.held)
    }

    /// Spent and held in percent of `amount`, rounded down.
    pub fn percent(&self, amount: i64) -> i64 {
        if amount <= 0 {
            return 0;
        }
        let used = i128::from(self.spent()) + i128::from(self.held);
        i64::try_from(used * 100 / i128::from(amount)).unwrap_or(i64::MAX)
    }
}

/// Figures being added up, before the one rounding: the sums of some of a
/// period's days (a cache of the days no write changes keeps one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FigureSums {
    /// Billed, estimated and held, in pico-units of the budget's currency.
    picos: [i128; 3],
    counts: Figures,
}

impl FigureSums {
    pub fn add_rows<E>(
        &mut self,
        rows: &[SpendRow],
        to: Currency,
        mut convert: impl FnMut(i64, Currency, i64) -> Result<i128, E>,
    ) {
        for row in rows {
            self.counts.entries += row.entries;
            self.counts.unpriced += row.unpriced;
            if row.spend == Spend::Held {
                self.counts.unpriced_held += row.unpriced;
            }
            let slot = match row.spend {
                Spend::Billed => 0,
                Spend::Estimated | Spend::Historical | Spend::Unpriced => 1,
                Spend::Held => 2,
            };
            if row.micros == 0 {
                continue;
            }
            let converted = if row.currency == to {
                Ok(i128::from(row.micros) * 1_000_000)
            } else {
                convert(row.micros, row.currency, row.day)
            };
            match converted {
                Ok(p) => self.picos[slot] += p,
                Err(_) => self.counts.unconverted += row.entries - row.unpriced,
            }
        }
    }

    /// Both sums together.
    pub fn plus(mut self, other: &FigureSums) -> FigureSums {
        for (mine, theirs) in self.picos.iter_mut().zip(other.picos) {
            *mine += theirs;
        }
        self.counts.entries += other.counts.entries;
        self.counts.unpriced += other.counts.unpriced;
        self.counts.unpriced_held += other.counts.unpriced_held;
        self.counts.unconverted += other.counts.unconverted;
        self
    }

    /// The figures, each rounded once, half to even, to micro-units.
    pub fn figures(&self) -> Figures {
        let round = |p: i128| {
            i64::try_from(div_round_half_even(p, 1_000_000)).unwrap_or(if p < 0 {
                i64::MIN
            } else {
                i64::MAX
            })
        };
        Figures {
            billed: round(self.picos[0]),
            estimated: round(self.picos[1]),
            held: round(self.picos[2]),
            ..self.counts
        }
    }
}

/// A threshold crossed, as its event records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetAlert {
    pub budget: String,
    pub threshold: u32,
    /// The period's label and first day.
    pub period: String,
    pub period_start: String,
    pub spent_micros: i64,
    pub held_micros: i64,
    pub remaining_micros: i64,
    pub currency: Currency,
    /// The entry whose write crossed it, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<Uuid>,
}

impl BudgetAlert {
    /// The JSON body a webhook delivers (`budget.threshold_crossed`).
    pub fn webhook_body(&self, message_id: &str) -> serde_json::Value {
        serde_json::json!({
            "type": "budget.threshold_crossed",
            "id": message_id,
            "budget": self.budget,
            "threshold": self.threshold,
            "spent": decimal_string(self.spent_micros),
            "held": decimal_string(self.held_micros),
            "remaining": decimal_string(self.remaining_micros),
            "currency": self.currency.code(),
            "period": self.period,
            "entry_id": self.entry_id,
        })
    }

    /// A warning line for people.
    pub fn message(&self) -> String {
        format!(
            "budget {} has reached {} % for {}: {} {} spent, {} held, {} remaining",
            self.budget,
            self.threshold,
            self.period,
            decimal_string(self.spent_micros),
            self.currency,
            decimal_string(self.held_micros),
            decimal_string(self.remaining_micros),
        )
    }
}

/// Why a hold was refused: the budget, its figures and the run's estimate,
/// in the budget's currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetRefusal {
    pub budget: String,
    pub amount_micros: i64,
    pub currency: Currency,
    pub spent_micros: i64,
    pub held_micros: i64,
    /// The run's estimate; `None` when it is unpriced (or has no rate).
    pub estimate_micros: Option<i64>,
    pub period: String,
    /// Why the estimate could not be converted into the budget's currency.
    pub no_rate: Option<String>,
}

impl fmt::Display for BudgetRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let money = |m: i64| format!("{} {}", decimal_string(m), self.currency);
        match self.estimate_micros {
            Some(estimate) => write!(
                f,
                "budget {} would go over: {} for {}, {} spent, {} held, and this run's estimate of {} \
                 would take it to {}; raise the budget (gencost budget set \"{}\" --amount ...) or wait for held runs to settle",
                self.budget,
                money(self.amount_micros),
                self.period,
                money(self.spent_micros),
                money(self.held_micros),
                money(estimate),
                money(
                    self.spent_micros
                        .saturating_add(self.held_micros)
                        .saturating_add(estimate)
                ),
                self.budget,
            ),
            None if self.no_rate.is_some() => write!(
                f,
                "budget {} is hard and this run's estimate cannot be converted into {}, so it \
                 cannot be held ({}); import the rates it needs",
                self.budget,
                self.currency,
                self.no_rate.as_deref().unwrap_or_default(),
            ),
            None => write!(
                f,
                "budget {} is hard and this run's model has no price, so its cost cannot be held \
                 ({} for {}, {} spent, {} held); price the model, or set the budget with --allow-unpriced",
                self.budget,
                money(self.amount_micros),
                self.period,
                money(self.spent_micros),
                money(self.held_micros),
            ),
        }
    }
}

/// The budgets and crossed thresholds the budget events leave, as the
/// tables hold them: (folded name → definition as JSON, event) and
/// (folded name, period start, threshold) → event. `verify` compares them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BudgetBook {
    pub budgets: std::collections::BTreeMap<String, (String, i64)>,
    pub alerts: std::collections::BTreeMap<(String, i64, i64), i64>,
}

impl BudgetBook {
    pub fn apply(&mut self, seq: i64, body: &super::EventBody) {
        use super::EventBody;
        match body {
            EventBody::BudgetSet(set) => {
                let definition = serde_json::to_string(&set.budget).unwrap_or_default();
                self.budgets.insert(set.budget.key(), (definition, seq));
            }
            EventBody::BudgetRemoved(removed) => {
                let key = fold(&removed.name);
                self.budgets.remove(&key);
                self.alerts.retain(|(k, _, _), _| *k != key);
            }
            EventBody::BudgetThresholdCrossed(alert) => {
                let start = parse_day(&alert.period_start).unwrap_or(i64::MIN);
                let key = (fold(&alert.budget), start, i64::from(alert.threshold));
                self.alerts.insert(key, seq);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(resets: Resets, from: &str) -> Budget {
        Budget {
            name: "Örebro Film Q4".into(),
            amount_micros: 5_000_000,
            currency: "USD".parse().unwrap(),
            client: Some("Örebro Film".into()),
            project: None,
            deliverable: None,
            model: Some("fal-ai/Flux".into()),
            resets,
            from: from.into(),
            hard: true,
            alerts: DEFAULT_ALERTS.to_vec(),
            allow_unpriced: false,
        }
    }

    #[test]
    fn periods_are_utc_calendar_periods_from_the_first_day() {
        let day = parse_day("2026-11-15").unwrap();
        let month = budget(Resets::Month, "2026-11-10").period_of(day).unwrap();
        assert_eq!(month.start, parse_day("2026-11-10").unwrap());
        assert_eq!(month.end, parse_day("2026-12-01").unwrap());
        assert_eq!(month.label, "2026-11");
        let quarter = budget(Resets::Quarter, "2026-01-01")
            .period_of(day)
            .unwrap();
        assert_eq!(
            (quarter.start, quarter.end, quarter.label.as_str()),
            (
                parse_day("2026-10-01").unwrap(),
                parse_day("2027-01-01").unwrap(),
                "2026-Q4"
            )
        );
        let year = budget(Resets::Year, "2020-01-01").period_of(day).unwrap();
        assert_eq!(year.last_day().as_deref(), Some("2026-12-31"));
        let never = budget(Resets::Never, "2026-11-01").period_of(day).unwrap();
        assert_eq!(never.end, i64::MAX);
        assert!(budget(Resets::Month, "2026-11-16").period_of(day).is_none());
    }

    #[test]
    fn matches_by_the_folding_rule() {
        let scope = BudgetScope::of(&budget(Resets::Month, "2026-01-01"));
        let day = parse_day("2026-03-01").unwrap();
        let client = fold("ÖREBRO FILM");
        assert!(scope.matches(Some(&client), None, None, Some("FAL-AI/flux"), day));
        assert!(!scope.matches(Some(&client), None, None, Some("fal-ai/other"), day));
        assert!(!scope.matches(Some("acme"), None, None, Some("fal-ai/flux"), day));
        assert!(!scope.matches(Some(&client), None, None, Some("fal-ai/flux"), day - 100));
        let (name, spend) = split_sum_key(scope.sum_key(Spend::Held)).unwrap();
        assert_eq!((name, spend), ("örebro film q4", Spend::Held));
    }

    #[test]
    fn figures_keep_spent_held_and_unpriced_apart_and_convert_by_day() {
        let usd: Currency = "USD".parse().unwrap();
        let eur: Currency = "EUR".parse().unwrap();
        let row = |spend, currency, micros, entries, unpriced| SpendRow {
            spend,
            currency,
            day: 1,
            micros,
            entries,
            unpriced,
        };
        let rows = [
            row(Spend::Billed, usd, 1_000_000, 1, 0),
            row(Spend::Estimated, eur, 1_000_000, 2, 1),
            row(Spend::Held, usd, 750_000, 1, 0),
            row(Spend::Held, usd, 0, 1, 1),
        ];
        let of_rows = |convert: &dyn Fn(i64) -> Result<i128, ()>| {
            let mut sums = FigureSums::default();
            sums.add_rows(&rows, usd, |micros, _, _| convert(micros));
            sums.figures()
        };
        let figures = of_rows(&|micros| Ok(i128::from(micros) * 1_100_000));
        assert_eq!(figures.billed, 1_000_000);
        assert_eq!(figures.estimated, 1_100_000);
        assert_eq!(figures.held, 750_000);
        assert_eq!((figures.unpriced, figures.unpriced_held), (2, 1));
        assert_eq!(figures.remaining(5_000_000), 2_150_000);
        assert_eq!(figures.percent(5_000_000), 57);
        let failing = of_rows(&|_| Err(()));
        assert_eq!((failing.estimated, failing.unconverted), (0, 1));
    }

    #[test]
    fn thresholds_are_crossed_once_and_over_means_above_the_amount() {
        let b = budget(Resets::Month, "2026-01-01");
        let at = |held| Figures {
            held,
            ..Figures::default()
        };
        assert_eq!(b.crossed(&at(2_500_000), &[]), vec![50]);
        assert_eq!(b.crossed(&at(5_000_000), &[50]), vec![80, 100]);
        assert!(!b.is_over(&at(5_000_000)));
        assert!(b.is_over(&at(5_000_001)));
    }
}
