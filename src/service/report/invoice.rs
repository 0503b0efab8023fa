//! The invoice summary: totals by client, project and deliverable, each
//! deliverable line converted and rounded once, with the markup shared
//! across the lines.

use super::convert::Converter;
use super::scan::{Sums, Text};
use super::Sum;
use crate::error::{Error, Result};
use crate::ledger::totals::TotalsError;
use crate::report::markup::Markup;
use std::collections::BTreeMap;

/// Totals by client, project and deliverable, with the markup.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invoice {
    pub clients: Vec<InvoiceGroup>,
    /// The sum of the lines.
    pub subtotal: i64,
    pub markup: Option<Markup>,
    /// `markup` on `subtotal`, shared across the lines (0 without markup).
    pub markup_total: i64,
    /// `subtotal + markup_total`.
    pub total: i64,
    pub count: i64,
    pub unpriced: i64,
}

/// A client, a project of it, or a deliverable of that: the deliverables
/// are the invoice's lines, and every group adds up its children exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceGroup {
    pub name: Option<String>,
    pub cost: i64,
    pub markup: i64,
    pub count: i64,
    pub unpriced: i64,
    pub children: Vec<InvoiceGroup>,
}

/// The invoice: each deliverable line summed once (converted and rounded
/// once), groups adding up their lines, the markup shared across the lines.
pub(super) fn invoice(
    conv: &mut Converter<'_>,
    sums: &Sums<(Text, Text, Text)>,
    markup: Option<Markup>,
) -> Result<Invoice> {
    let text = |t: &Text| t.as_deref().map(str::to_string);
    let mut leaves: Vec<((Text, Text, Text), Sum)> = Vec::new();
    for (key, rows) in sums.by_key()? {
        leaves.push((key, conv.sum(&rows)?));
    }
    let costs: Vec<i64> = leaves.iter().map(|(_, s)| s.total).collect();
    let shares: Vec<i128> = match markup {
        Some(m) => m.share(&costs),
        None => vec![0; costs.len()],
    };
    let overflow = || {
        Error::Totals(TotalsError::Overflow {
            currency: conv.currency,
        })
    };
    let add = |a: i64, b: i64| a.checked_add(b).ok_or_else(overflow);
    // client -> project -> deliverable lines
    let mut tree: BTreeMap<Text, BTreeMap<Text, Vec<InvoiceGroup>>> = BTreeMap::new();
    for (((client, project, deliverable), sum), share) in leaves.iter().zip(&shares) {
        tree.entry(client.clone())
            .or_default()
            .entry(project.clone())
            .or_default()
            .push(InvoiceGroup {
                name: text(deliverable),
                cost: sum.total,
                markup: i64::try_from(*share).map_err(|_| overflow())?,
                count: sum.count,
                unpriced: sum.unpriced,
                children: Vec::new(),
            });
    }
    let group = |name: Option<String>, children: Vec<InvoiceGroup>| -> Result<InvoiceGroup> {
        let mut g = InvoiceGroup {
            name,
            cost: 0,
            markup: 0,
            count: 0,
            unpriced: 0,
            children,
        };
        for c in &g.children {
            g.cost = add(g.cost, c.cost)?;
            g.markup = add(g.markup, c.markup)?;
            g.count += c.count;
            g.unpriced += c.unpriced;
        }
        sort_groups(&mut g.children);
        Ok(g)
    };
    let mut clients = Vec::new();
    for (client, projects) in tree {
        let mut children = Vec::new();
        for (project, lines) in projects {
            children.push(group(text(&project), lines)?);
        }
        clients.push(group(text(&client), children)?);
    }
    let all = group(None, clients)?;
    let markup_total = all.markup;
    Ok(Invoice {
        subtotal: all.cost,
        markup,
        markup_total,
        total: add(all.cost, markup_total)?,
        count: all.count,
        unpriced: all.unpriced,
        clients: all.children,
    })
}

/// Largest first, the order a bill is read in; untagged last among equals.
fn sort_groups(groups: &mut [InvoiceGroup]) {
    groups.sort_by(|a, b| {
        b.cost
            .cmp(&a.cost)
            .then_with(|| a.name.is_none().cmp(&b.name.is_none()))
            .then_with(|| a.name.cmp(&b.name))
    });
}
