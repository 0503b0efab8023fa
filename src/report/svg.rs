//! A small SVG writer for the report's charts: integer coordinates computed
//! from exact micro-unit amounts (`i128` arithmetic, never `f64`), so the same
//! figures always give the same bytes. Every piece of text is escaped; the
//! output is inline SVG for an HTML page (no namespace URL, no external
//! reference, colours from the page's stylesheet by class).

use crate::money::{format_display, Currency};
use std::fmt::Write;

/// Text escaped for SVG/HTML content and attribute values, with the same
/// character references as the page's templates use.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&#38;"),
            '<' => out.push_str("&#60;"),
            '>' => out.push_str("&#62;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document being written.
pub struct Svg {
    out: String,
}

impl Svg {
    /// `width` × `height` user units, scaled to the page's width by CSS;
    /// `label` names the chart for screen readers.
    pub fn new(width: i64, height: i64, class: &str, label: &str) -> Svg {
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg class=\"{class}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
            escape(label)
        );
        Svg { out }
    }

    pub fn rect(&mut self, x: i64, y: i64, w: i64, h: i64, class: &str, title: Option<&str>) {
        let _ = write!(
            self.out,
            "<rect class=\"{class}\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\""
        );
        self.close("rect", title);
    }

    pub fn line(&mut self, x1: i64, y1: i64, x2: i64, y2: i64, class: &str) {
        let _ = write!(
            self.out,
            "<line class=\"{class}\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\"/>"
        );
    }

    pub fn circle(&mut self, cx: i64, cy: i64, r: i64, class: &str, title: Option<&str>) {
        let _ = write!(
            self.out,
            "<circle class=\"{class}\" cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\""
        );
        self.close("circle", title);
    }

    pub fn polyline(&mut self, points: &[(i64, i64)], class: &str) {
        let _ = write!(self.out, "<polyline class=\"{class}\" points=\"");
        for (i, (x, y)) in points.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            let _ = write!(self.out, "{sep}{x},{y}");
        }
        self.out.push_str("\"/>");
    }

    /// Text at (`x`, `y`), anchored `start`, `middle` or `end`; the full
    /// text as a tooltip when it was shortened.
    pub fn text(
        &mut self,
        x: i64,
        y: i64,
        anchor: &str,
        class: &str,
        text: &str,
        full: Option<&str>,
    ) {
        let _ = write!(
            self.out,
            "<text class=\"{class}\" x=\"{x}\" y=\"{y}\" text-anchor=\"{anchor}\">"
        );
        if let Some(full) = full {
            let _ = write!(self.out, "<title>{}</title>", escape(full));
        }
        self.out.push_str(&escape(text));
        self.out.push_str("</text>");
    }

    /// Lines of text, right-aligned at `x`, the first with its baseline at
    /// `y`, each `step` below the last; the full text as a tooltip when it
    /// was shortened.
    pub fn text_lines(&mut self, x: i64, y: i64, step: i64, lines: &[String], full: Option<&str>) {
        let _ = write!(
            self.out,
            "<text class=\"label\" x=\"{x}\" y=\"{y}\" text-anchor=\"end\">"
        );
        if let Some(full) = full {
            let _ = write!(self.out, "<title>{}</title>", escape(full));
        }
        for (i, line) in lines.iter().enumerate() {
            let dy = if i == 0 { 0 } else { step };
            let _ = write!(
                self.out,
                "<tspan x=\"{x}\" dy=\"{dy}\">{}</tspan>",
                escape(line)
            );
        }
        self.out.push_str("</text>");
    }

    fn close(&mut self, element: &str, title: Option<&str>) {
        match title {
            Some(title) => {
                let _ = write!(self.out, "><title>{}</title></{element}>", escape(title));
            }
            None => self.out.push_str("/>"),
        }
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// A step of 1, 2 or 5 times a power of ten (micro-units) so that `max`
/// is covered by at most `ticks` steps; `max` ≤ 0 gives one unit.
pub fn nice_step(max: i128, ticks: i128) -> i128 {
    if max <= 0 {
        return 1_000_000;
    }
    let raw = (max + ticks - 1) / ticks;
    let mut magnitude: i128 = 1;
    while magnitude * 10 <= raw {
        magnitude *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10 * magnitude)
}

/// The axis top: `max` rounded up to a whole number of steps.
fn axis_top(max: i128, step: i128) -> i128 {
    if max <= 0 {
        return step;
    }
    (max + step - 1) / step * step
}

/// `length` × `value` / `top`, in whole units, for `0 ≤ value ≤ top`.
fn scale(value: i128, top: i128, length: i64) -> i64 {
    if top <= 0 || value <= 0 {
        return 0;
    }
    let scaled = value.min(top) * i128::from(length) / top;
    i64::try_from(scaled).unwrap_or(length)
}

/// Text shortened to `max` characters, with an ellipsis.
fn shorten(text: &str, max: usize) -> (String, bool) {
    if text.chars().count() <= max {
        return (text.to_string(), false);
    }
    let short: String = text.chars().take(max.saturating_sub(1)).collect();
    (format!("{short}…"), true)
}

/// Text wrapped into lines of at most `width` characters, broken after a
/// space, `/`, `-`, `_` or `.` where one is near, at most `max_lines` of
/// them (the last shortened with an ellipsis only beyond that); `true` when
/// something was cut.
fn wrap(text: &str, width: usize, max_lines: usize) -> (Vec<String>, bool) {
    let chars: Vec<char> = text.chars().collect();
    let mut lines = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        if lines.len() + 1 == max_lines || chars.len() - start <= width {
            let rest: String = chars[start..].iter().collect();
            let (last, cut) = shorten(&rest, width);
            lines.push(last);
            return (lines, cut);
        }
        let end = start + width;
        let brk = (start + width / 2..end)
            .rev()
            .find(|&i| matches!(chars[i], ' ' | '/' | '-' | '_' | '.'))
            .map_or(end, |i| i + 1);
        lines.push(
            chars[start..brk]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_string(),
        );
        start = brk;
        while chars.get(start) == Some(&' ') {
            start += 1;
        }
    }
    (lines, false)
}

/// One bar: a label, its amount (micro-units) and the text beside it;
/// `external` bars (costs from outside gencost) are drawn apart by class.
pub struct Bar {
    pub label: String,
    pub micros: i64,
    pub value: String,
    pub external: bool,
}

const WIDTH: i64 = 720;
const LABEL_W: i64 = 230;
const VALUE_W: i64 = 130;
const ROW_H: i64 = 24;
const BAR_H: i64 = 16;
/// A bar label's characters per line, and the extra height of each line
/// after the first: long model ids wrap rather than being cut.
const LABEL_CHARS: usize = 32;
const LABEL_LINES: usize = 3;
const LINE_H: i64 = 14;

/// A horizontal bar chart with an axis in `currency`.
pub fn bar_chart(label: &str, bars: &[Bar], currency: Currency) -> String {
    let top_pad = 8;
    let axis_h = 26;
    let labels: Vec<(Vec<String>, bool)> = bars
        .iter()
        .map(|b| wrap(&b.label, LABEL_CHARS, LABEL_LINES))
        .collect();
    let row_h = |lines: usize| ROW_H + LINE_H * (lines.max(1) as i64 - 1);
    let rows_h: i64 = if labels.is_empty() {
        ROW_H
    } else {
        labels.iter().map(|(l, _)| row_h(l.len())).sum()
    };
    let height = top_pad + rows_h + axis_h;
    let mut svg = Svg::new(WIDTH, height, "chart bars", label);
    let plot_x = LABEL_W;
    let plot_w = WIDTH - LABEL_W - VALUE_W;
    let max = bars.iter().map(|b| i128::from(b.micros)).max().unwrap_or(0);
    let step = nice_step(max, 4);
    let top = axis_top(max, step);
    let axis_y = top_pad + rows_h;
    // Grid and axis labels.
    let mut tick: i128 = 0;
    while tick <= top {
        let x = plot_x + scale(tick, top, plot_w);
        svg.line(
            x,
            top_pad,
            x,
            axis_y,
            if tick == 0 { "axis" } else { "grid" },
        );
        let text = format_display(i64::try_from(tick).unwrap_or(i64::MAX), currency);
        svg.text(x, axis_y + 16, "middle", "tick", &text, None);
        tick += step;
    }
    let mut y = top_pad;
    for (bar, (lines, cut)) in bars.iter().zip(&labels) {
        let h = row_h(lines.len());
        // The label's lines centred on the bar.
        let first = y + h / 2 + 4 - LINE_H * (lines.len() as i64 - 1) / 2;
        svg.text_lines(
            plot_x - 8,
            first,
            LINE_H,
            lines,
            cut.then_some(bar.label.as_str()),
        );
        let w = scale(i128::from(bar.micros), top, plot_w);
        // A bar too small to see is drawn one unit wide.
        let w = if bar.micros > 0 { w.max(1) } else { w };
        let title = format!("{}: {}", bar.label, bar.value);
        svg.rect(
            plot_x,
            y + (h - BAR_H) / 2,
            w,
            BAR_H,
            if bar.external { "bar ext" } else { "bar" },
            Some(&title),
        );
        svg.text(
            plot_x + w + 6,
            y + h / 2 + 4,
            "start",
            "value",
            &bar.value,
            None,
        );
        y += h;
    }
    svg.finish()
}

/// One point of a line chart.
pub struct Point {
    pub label: String,
    pub micros: i64,
    pub value: String,
}

/// A line chart over buckets, with a y axis in `currency`.
pub fn line_chart(label: &str, points: &[Point], currency: Currency) -> String {
    let height = 260;
    let (left, right, top_pad, bottom) = (96, 44, 12, 40);
    let plot_w = WIDTH - left - right;
    let plot_h = height - top_pad - bottom;
    let mut svg = Svg::new(WIDTH, height, "chart line", label);
    let max = points
        .iter()
        .map(|p| i128::from(p.micros))
        .max()
        .unwrap_or(0);
    let step = nice_step(max, 4);
    let top = axis_top(max, step);
    let base = top_pad + plot_h;
    let mut tick: i128 = 0;
    while tick <= top {
        let y = base - scale(tick, top, plot_h);
        svg.line(
            left,
            y,
            left + plot_w,
            y,
            if tick == 0 { "axis" } else { "grid" },
        );
        let text = format_display(i64::try_from(tick).unwrap_or(i64::MAX), currency);
        svg.text(left - 8, y + 4, "end", "tick", &text, None);
        tick += step;
    }
    let n = points.len() as i64;
    let x_of = |i: i64| {
        if n <= 1 {
            left + plot_w / 2
        } else {
            left + i * plot_w / (n - 1)
        }
    };
    let coords: Vec<(i64, i64)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                x_of(i as i64),
                base - scale(i128::from(p.micros), top, plot_h),
            )
        })
        .collect();
    if coords.len() > 1 {
        svg.polyline(&coords, "series");
    }
    // At most about eight labels along the time axis, evenly spaced.
    let every = ((n + 7) / 8).max(1);
    let labelled = |i: i64| i % every == 0;
    for (i, (p, (x, y))) in points.iter().zip(&coords).enumerate() {
        let title = format!("{}: {}", p.label, p.value);
        svg.circle(*x, *y, 3, "dot", Some(&title));
        if labelled(i as i64) {
            svg.line(*x, base, *x, base + 4, "axis");
            svg.text(*x, base + 18, "middle", "tick", &p.label, None);
        }
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(4_000_000, 4), 1_000_000);
        assert_eq!(nice_step(4_000_001, 4), 2_000_000);
        assert_eq!(nice_step(9_000_000, 4), 5_000_000);
        assert_eq!(nice_step(21_000_000, 4), 10_000_000);
        assert_eq!(nice_step(3, 4), 1);
        assert_eq!(nice_step(0, 4), 1_000_000);
        assert_eq!(axis_top(9_000_000, 5_000_000), 10_000_000);
    }

    #[test]
    fn bars_scale_exactly_and_text_is_escaped() {
        let bars = [
            Bar {
                label: "<script>alert(1)</script>".into(),
                micros: 2_000_000,
                value: "$2.00".into(),
                external: false,
            },
            Bar {
                label: "b".into(),
                micros: 1_000_000,
                value: "$1.00".into(),
                external: true,
            },
        ];
        let svg = bar_chart("by \"model\"", &bars, Currency::USD);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
        assert!(svg.contains("aria-label=\"by &#34;model&#34;\""));
        // max 2.00 -> step 0.50, top 2.00: full width 360 and half of it.
        assert!(svg.contains("width=\"360\" height=\"16\""), "{svg}");
        assert!(svg.contains("width=\"180\" height=\"16\""), "{svg}");
        assert_eq!(svg, bar_chart("by \"model\"", &bars, Currency::USD));
    }

    #[test]
    fn long_labels_wrap_rather_than_being_cut() {
        let (lines, cut) = wrap("fal-ai/kling-video/v2.1/standard/image-to-video", 32, 3);
        assert_eq!(
            lines,
            vec!["fal-ai/kling-video/v2.1/", "standard/image-to-video"]
        );
        assert!(!cut);
        let (lines, cut) = wrap("Acme Beverages summer campaign hero cut", 32, 3);
        assert_eq!(lines, vec!["Acme Beverages summer campaign", "hero cut"]);
        assert!(!cut);
        assert_eq!(wrap("short", 32, 3), (vec!["short".to_string()], false));
        let long = "x".repeat(100);
        let (lines, cut) = wrap(&long, 32, 3);
        assert_eq!(lines.len(), 3);
        assert!(cut && lines[2].ends_with('…'));
        let svg = bar_chart(
            "m",
            &[Bar {
                label: "fal-ai/kling-video/v2.1/standard/image-to-video".into(),
                micros: 1,
                value: "$0.000001".into(),
                external: true,
            }],
            Currency::USD,
        );
        assert!(svg.contains(">standard/image-to-video</tspan>"), "{svg}");
        assert!(svg.contains("class=\"bar ext\""), "{svg}");
        assert!(!svg.contains('…'));
    }

    #[test]
    fn long_labels_are_shortened_with_the_full_text_as_a_tooltip() {
        let (short, cut) = shorten("fal-ai/kling-video/v2.1/standard/image-to-video", 32);
        assert!(cut);
        assert_eq!(short.chars().count(), 32);
        assert!(short.ends_with('…'));
    }
}
