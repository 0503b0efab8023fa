//! Aligned plain-text tables for human output (no colour is ever written).

use unicode_width::UnicodeWidthStr;

/// Text safe to print on a terminal: control characters (escape sequences,
/// bells, carriage returns, even a newline or tab inside a cell) are shown
/// escaped, never sent raw.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Renders rows under a header, columns padded to their widest cell as a
/// terminal shows it (CJK and emoji take two columns). Columns named in
/// `right` are right-aligned (amounts, counts).
pub fn render(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| printable(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.width());
            }
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.width());
            if i > 0 {
                line.push_str("  ");
            }
            if right.contains(&i) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn aligns_columns() {
        let out = super::render(
            &["A", "AMOUNT"],
            &[vec!["long".into(), "$1.00".into()]],
            &[1],
        );
        assert_eq!(out, "A     AMOUNT\nlong   $1.00\n");
    }

    #[test]
    fn wide_characters_keep_columns_aligned_and_controls_are_escaped() {
        let out = super::render(
            &["CLIENT", "COST"],
            &[
                vec!["東京スタジオ".into(), "$1.00".into()],
                vec!["Acme\u{1b}[31m".into(), "$2.00".into()],
            ],
            &[1],
        );
        assert_eq!(
            out,
            "CLIENT           COST\n東京スタジオ    $1.00\nAcme\\u{1b}[31m  $2.00\n"
        );
    }
}
