//! Cost over time: the report's period in day, week or month buckets
//! (chosen by its span), empty buckets included.

use super::Sum;
use crate::ledger::totals::{Dimension, Group, Totals};
use crate::timestamp::{day_label, month_label, month_start, next_month, week_label, week_start};
use std::collections::HashMap;

/// Cost over time in buckets chosen by the period's span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeSeries {
    pub bucket: Bucket,
    /// Every bucket of the period, empty ones included, oldest first.
    pub points: Vec<Point>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    Day,
    /// ISO weeks, from Monday.
    Week,
    Month,
}

impl Bucket {
    /// Days up to a month are shown by day, up to 26 weeks by week, longer
    /// periods by month.
    pub fn for_span(days: i64) -> Bucket {
        match days {
            ..=31 => Bucket::Day,
            32..=182 => Bucket::Week,
            _ => Bucket::Month,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }

    pub(super) fn dimension(self) -> Dimension {
        match self {
            Bucket::Day => Dimension::Day,
            Bucket::Week => Dimension::Week,
            Bucket::Month => Dimension::Month,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    /// `2026-03-02`, `2026-W10` or `2026-03`.
    pub label: String,
    /// The bucket's first UTC day.
    pub first_day: i64,
    pub sum: Sum,
}

/// Every bucket from `first` to `last`, with the summed totals where any.
pub(super) fn time_series(bucket: Bucket, first: i64, last: i64, totals: &Totals) -> TimeSeries {
    let found: HashMap<&str, &Group> = totals
        .groups
        .iter()
        .filter_map(|g| g.key.as_deref().map(|k| (k, g)))
        .collect();
    let mut points = Vec::new();
    let mut day = match bucket {
        Bucket::Day => first,
        Bucket::Week => week_start(first),
        Bucket::Month => month_start(first),
    };
    while day <= last {
        let label = match bucket {
            Bucket::Day => day_label(day),
            Bucket::Week => week_label(day),
            Bucket::Month => month_label(day),
        };
        let sum = found
            .get(label.as_str())
            .map_or(Sum::default(), |g| Sum::of(g));
        points.push(Point {
            label,
            first_day: day,
            sum,
        });
        day = match bucket {
            Bucket::Day => day + 1,
            Bucket::Week => day + 7,
            Bucket::Month => next_month(day),
        };
    }
    TimeSeries { bucket, points }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_the_span() {
        assert_eq!(Bucket::for_span(1), Bucket::Day);
        assert_eq!(Bucket::for_span(31), Bucket::Day);
        assert_eq!(Bucket::for_span(32), Bucket::Week);
        assert_eq!(Bucket::for_span(182), Bucket::Week);
        assert_eq!(Bucket::for_span(183), Bucket::Month);
    }
}
