//! An issued invoice laid out as its document shows it: lines grouped by
//! project and deliverable, adjustments to earlier invoices apart, every
//! amount in the currency's display decimals and still adding up (see
//! `rounding`). A pure function of the invoice event, so the HTML, the CSV
//! and the totals recorded at issue always agree.

use super::markup::Markup;
use super::rounding::{round_invoice, RoundedGroup};
use crate::ledger::invoice::InvoiceIssued;
use crate::ledger::Tier;
use crate::service::report::{Invoice, InvoiceGroup};
use std::collections::BTreeMap;

/// The group adjustments are shown under.
pub const ADJUSTMENTS: &str = "Adjustments to earlier invoices";

/// One line's figures in display decimals: the line of the invoice's
/// `lines` (then `adjustments`) at the same index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineAmounts {
    pub cost: i64,
    pub markup: i64,
}

impl LineAmounts {
    pub fn total(&self) -> i64 {
        self.cost + self.markup
    }
}

/// A deliverable (or, for adjustments, an earlier invoice) and its sums.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub name: Option<String>,
    pub count: i64,
    pub estimated: i64,
    pub unpriced: i64,
    pub cost: i64,
    pub markup: i64,
}

/// A project (or the adjustments) with its deliverables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: Option<String>,
    pub adjustments: bool,
    pub total: Row,
    pub rows: Vec<Row>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub sections: Vec<Section>,
    /// Per line, then per adjustment, in the event's order.
    pub lines: Vec<LineAmounts>,
    pub subtotal: i64,
    pub markup_total: i64,
    pub total: i64,
    /// The part of `total` resting on estimates.
    pub estimated: i64,
}

/// Where a line goes: (adjustment?, project or invoice, deliverable).
type Key<'a> = (bool, Option<&'a str>, Option<&'a str>);

/// Sections (adjustments last, then untagged last, then by name), each
/// with its rows (untagged last, then by name) and their lines' indices.
type Tree<'a> =
    BTreeMap<(bool, bool, Option<&'a str>), BTreeMap<(bool, Option<&'a str>), Vec<usize>>>;

pub fn layout(invoice: &InvoiceIssued) -> Layout {
    let mut keys: Vec<Key> = invoice
        .each_line()
        .map(|(g, _)| (false, g.project.as_deref(), g.deliverable.as_deref()))
        .collect();
    keys.extend(
        invoice
            .adjustments
            .iter()
            .map(|a| (true, Some(ADJUSTMENTS), Some(a.invoice.as_str()))),
    );
    let costs: Vec<i64> = invoice
        .each_line()
        .map(|(_, l)| l.converted().unwrap_or(0))
        .chain(invoice.adjustments.iter().map(|a| a.converted))
        .collect();
    let markups: Vec<i64> = match invoice.markup.map(Markup::from_micro_percent) {
        Some(m) => m
            .share(&costs)
            .into_iter()
            .map(|s| i64::try_from(s).unwrap_or(i64::MAX))
            .collect(),
        None => vec![0; costs.len()],
    };
    // Sections in name order (untagged last), adjustments at the end.
    let mut tree: Tree = BTreeMap::new();
    for (i, (adjustment, project, deliverable)) in keys.iter().enumerate() {
        tree.entry((*adjustment, project.is_none(), *project))
            .or_default()
            .entry((deliverable.is_none(), *deliverable))
            .or_default()
            .push(i);
    }
    let leaf = |i: usize| InvoiceGroup {
        name: None,
        cost: costs[i],
        markup: markups[i],
        count: 1,
        unpriced: 0,
        children: Vec::new(),
    };
    let group = |children: Vec<InvoiceGroup>| InvoiceGroup {
        name: None,
        cost: children.iter().map(|c| c.cost).sum(),
        markup: children.iter().map(|c| c.markup).sum(),
        count: children.iter().map(|c| c.count).sum(),
        unpriced: 0,
        children,
    };
    let projects: Vec<InvoiceGroup> = tree
        .values()
        .map(|rows| {
            group(
                rows.values()
                    .map(|lines| group(lines.iter().map(|&i| leaf(i)).collect()))
                    .collect(),
            )
        })
        .collect();
    let client = group(projects);
    let subtotal = client.cost;
    let markup_total = client.markup;
    let exact = Invoice {
        subtotal,
        markup: invoice.markup.map(Markup::from_micro_percent),
        markup_total,
        total: subtotal + markup_total,
        count: client.count,
        unpriced: 0,
        clients: vec![client],
    };
    let rounded = round_invoice(&exact, invoice.currency);
    let mut lines = vec![LineAmounts::default(); costs.len()];
    let mut sections = Vec::new();
    // Per line (adjustments after): (estimated, unpriced).
    let flags: Vec<(bool, bool)> = invoice
        .each_line()
        .map(|(g, l)| (g.tier != Tier::Billed, l.micros().is_none()))
        .collect();
    let estimated_line = |i: usize| flags.get(i).is_some_and(|f| f.0);
    let unpriced_line = |i: usize| flags.get(i).is_some_and(|f| f.1);
    let mut estimated = 0;
    if let Some(rounded_client) = rounded.clients.first() {
        for (((adjustment, _, project), rows), rounded_project) in
            tree.iter().zip(&rounded_client.children)
        {
            let mut section_rows = Vec::new();
            for (((_, deliverable), indices), rounded_row) in
                rows.iter().zip(&rounded_project.children)
            {
                let mut row = Row {
                    name: deliverable.map(str::to_string),
                    count: indices.len() as i64,
                    estimated: 0,
                    unpriced: 0,
                    cost: rounded_row.cost,
                    markup: rounded_row.markup,
                };
                for (&i, rounded_line) in indices.iter().zip(&rounded_row.children) {
                    lines[i] = amounts(rounded_line);
                    if estimated_line(i) {
                        row.estimated += 1;
                        estimated += lines[i].total();
                    }
                    if unpriced_line(i) {
                        row.unpriced += 1;
                    }
                }
                section_rows.push(row);
            }
            let total = Row {
                name: project.map(str::to_string),
                count: section_rows.iter().map(|r| r.count).sum(),
                estimated: section_rows.iter().map(|r| r.estimated).sum(),
                unpriced: section_rows.iter().map(|r| r.unpriced).sum(),
                cost: rounded_project.cost,
                markup: rounded_project.markup,
            };
            sections.push(Section {
                name: project.map(str::to_string),
                adjustments: *adjustment,
                total,
                rows: section_rows,
            });
        }
    }
    Layout {
        sections,
        lines,
        subtotal: rounded.subtotal,
        markup_total: rounded.markup_total,
        total: rounded.total,
        estimated,
    }
}

fn amounts(group: &RoundedGroup) -> LineAmounts {
    LineAmounts {
        cost: group.cost,
        markup: group.markup,
    }
}
