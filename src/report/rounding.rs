//! The invoice as a client reads it: every amount in the currency's display
//! decimals (cents for USD and EUR, one decimal for SEK), and still adding up.
//!
//! The subtotal and the total after markup are each rounded once, half to
//! even. The lines' costs are rounded so that they sum to the rounded
//! subtotal, and their markups so that they sum to the rounded total less
//! the rounded subtotal, each by largest remainder; a line's total is its
//! cost plus its markup, so the total column sums to the rounded total. A
//! client's or project's figure is the sum of its rounded lines. Rounding
//! the two columns apart keeps every markup at zero or more, which rounding
//! the totals and taking the costs from them would not.

use crate::money::{display_unit, round_to_display, Currency};
use crate::service::report::{Invoice, InvoiceGroup};

/// A client, project or deliverable line in display decimals, in the same
/// order as the `InvoiceGroup` it rounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundedGroup {
    pub cost: i64,
    pub markup: i64,
    pub children: Vec<RoundedGroup>,
}

impl RoundedGroup {
    pub fn total(&self) -> i64 {
        self.cost.saturating_add(self.markup)
    }
}

/// The invoice in display decimals, in micro-units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundedInvoice {
    pub clients: Vec<RoundedGroup>,
    pub subtotal: i64,
    pub markup_total: i64,
    pub total: i64,
}

/// Rounds `invoice` to `currency`'s display decimals, every group the sum of
/// its rounded lines.
pub fn round_invoice(invoice: &Invoice, currency: Currency) -> RoundedInvoice {
    let unit = display_unit(currency);
    let subtotal = round_to_display(invoice.subtotal, currency);
    let total = round_to_display(invoice.total, currency);
    let markup_total = total - subtotal;
    let mut lines = Vec::new();
    for client in &invoice.clients {
        collect_lines(client, &mut lines);
    }
    let costs: Vec<i64> = lines.iter().map(|l| l.cost).collect();
    let markups: Vec<i64> = lines.iter().map(|l| l.markup).collect();
    let costs = largest_remainder(&costs, subtotal, unit);
    let markups = largest_remainder(&markups, markup_total, unit);
    let mut next = costs.into_iter().zip(markups);
    let clients = invoice
        .clients
        .iter()
        .map(|c| rebuild(c, &mut next))
        .collect();
    RoundedInvoice {
        clients,
        subtotal,
        markup_total,
        total,
    }
}

/// The invoice's lines (groups without children), depth first.
fn collect_lines<'a>(group: &'a InvoiceGroup, out: &mut Vec<&'a InvoiceGroup>) {
    if group.children.is_empty() {
        out.push(group);
    }
    for child in &group.children {
        collect_lines(child, out);
    }
}

/// `group` with its lines taken from `next` in the order `collect_lines`
/// visits them, each group the sum of its children.
fn rebuild(group: &InvoiceGroup, next: &mut impl Iterator<Item = (i64, i64)>) -> RoundedGroup {
    if group.children.is_empty() {
        let (cost, markup) = next.next().unwrap_or((0, 0));
        return RoundedGroup {
            cost,
            markup,
            children: Vec::new(),
        };
    }
    let children: Vec<RoundedGroup> = group.children.iter().map(|c| rebuild(c, next)).collect();
    RoundedGroup {
        cost: children.iter().fold(0i64, |a, c| a.saturating_add(c.cost)),
        markup: children
            .iter()
            .fold(0i64, |a, c| a.saturating_add(c.markup)),
        children,
    }
}

/// Each of `exact` rounded to a multiple of `unit` so that they sum to
/// `target`: each rounded down, then the units left over handed one each to
/// the largest remainders (ties to the earlier). `target` must lie between
/// the sum rounded down and that plus one unit per line, as the sum rounded
/// to `unit` does; beyond that range it is clamped to it.
pub fn largest_remainder(exact: &[i64], target: i64, unit: i64) -> Vec<i64> {
    let unit = i128::from(unit.max(1));
    let mut floors: Vec<i128> = exact
        .iter()
        .map(|&m| i128::from(m).div_euclid(unit))
        .collect();
    let floor_sum: i128 = floors.iter().sum();
    let extra = (i128::from(target).div_euclid(unit) - floor_sum).clamp(0, floors.len() as i128);
    let mut order: Vec<usize> = (0..exact.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = i128::from(exact[a]).rem_euclid(unit);
        let rb = i128::from(exact[b]).rem_euclid(unit);
        rb.cmp(&ra).then(a.cmp(&b))
    });
    for &i in order.iter().take(extra as usize) {
        floors[i] += 1;
    }
    floors
        .into_iter()
        .map(|f| i64::try_from(f * unit).unwrap_or(i64::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::markup::Markup;
    use proptest::prelude::*;

    fn line(name: &str, cost: i64, markup: i64) -> InvoiceGroup {
        InvoiceGroup {
            name: Some(name.into()),
            cost,
            markup,
            count: 1,
            unpriced: 0,
            children: Vec::new(),
        }
    }

    #[test]
    fn thirds_add_up_to_the_rounded_whole() {
        // $0.333333 three times: $1.00 (0.999999 rounded once), not $0.99.
        let r = largest_remainder(&[333_333; 3], 1_000_000, 10_000);
        assert_eq!(r, vec![340_000, 330_000, 330_000]);
        assert_eq!(largest_remainder(&[], 0, 10_000), Vec::<i64>::new());
        // SEK: one decimal.
        assert_eq!(
            largest_remainder(&[150_000, 150_000], 300_000, 100_000),
            vec![200_000, 100_000]
        );
    }

    #[test]
    fn the_issue_s_lines_round_to_cents_and_add_up() {
        let inv = Invoice {
            clients: vec![InvoiceGroup {
                name: Some("Acme".into()),
                cost: 137_357_379 + 12_113_281,
                markup: 0,
                count: 2,
                unpriced: 0,
                children: vec![line("Spot", 137_357_379, 0), line("Pool", 12_113_281, 0)],
            }],
            subtotal: 149_470_660,
            markup: None,
            markup_total: 0,
            total: 149_470_660,
            count: 2,
            unpriced: 0,
        };
        let r = round_invoice(&inv, Currency::USD);
        assert_eq!(r.subtotal, 149_470_000);
        assert_eq!(r.total, 149_470_000);
        let lines: Vec<i64> = r.clients[0].children.iter().map(|l| l.cost).collect();
        assert_eq!(lines, vec![137_360_000, 12_110_000]);
        assert_eq!(r.clients[0].cost, r.subtotal);
    }

    proptest! {
        #[test]
        fn every_column_adds_up_and_stays_within_a_unit(
            costs in proptest::collection::vec(0i64..5_000_000_000, 1..30),
            pct in 0i64..=100_000_000,
            sek in any::<bool>(),
        ) {
            let currency = if sek { Currency::SEK } else { Currency::USD };
            let unit = display_unit(currency);
            let markup = Markup::parse(&crate::money::decimal_string(pct)).unwrap();
            let shares = markup.share(&costs);
            let lines: Vec<InvoiceGroup> = costs.iter().zip(&shares)
                .map(|(&c, &s)| line("x", c, s as i64)).collect();
            let subtotal: i64 = costs.iter().sum();
            let markup_total: i64 = shares.iter().sum::<i128>() as i64;
            let (a, b) = lines.split_at(lines.len() / 2);
            let group = |children: &[InvoiceGroup]| InvoiceGroup {
                name: None,
                cost: children.iter().map(|c| c.cost).sum(),
                markup: children.iter().map(|c| c.markup).sum(),
                count: 0,
                unpriced: 0,
                children: children.to_vec(),
            };
            let inv = Invoice {
                clients: vec![group(a), group(b)].into_iter().filter(|g| !g.children.is_empty()).collect(),
                subtotal,
                markup: Some(markup),
                markup_total,
                total: subtotal + markup_total,
                count: 0,
                unpriced: 0,
            };
            let r = round_invoice(&inv, currency);
            prop_assert_eq!(r.subtotal, round_to_display(subtotal, currency));
            prop_assert_eq!(r.total, round_to_display(subtotal + markup_total, currency));
            let mut sum = (0, 0);
            for (g, rg) in inv.clients.iter().zip(&r.clients) {
                prop_assert_eq!(rg.cost, rg.children.iter().map(|c| c.cost).sum::<i64>());
                prop_assert_eq!(rg.markup, rg.children.iter().map(|c| c.markup).sum::<i64>());
                for (l, rl) in g.children.iter().zip(&rg.children) {
                    prop_assert_eq!(rl.cost % unit, 0);
                    prop_assert!((rl.cost - l.cost).abs() < unit);
                    prop_assert!(rl.markup >= 0);
                    prop_assert!((rl.markup - l.markup).abs() < unit);
                }
                sum = (sum.0 + rg.cost, sum.1 + rg.total());
            }
            prop_assert_eq!(sum, (r.subtotal, r.total));
        }
    }
}
