//! Tables of numbers written as CSV (for programs) and Markdown (for people).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::cache::write_text;

/// One cell of a table.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A number (NaN stands for "not available").
    Number(f64),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.into())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<f64> for Cell {
    fn from(x: f64) -> Self {
        Cell::Number(x)
    }
}

impl From<Option<f64>> for Cell {
    fn from(x: Option<f64>) -> Self {
        Cell::Number(x.unwrap_or(f64::NAN))
    }
}

/// A table with named columns.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: &[&str]) -> Self {
        Self { columns: columns.iter().map(|c| c.to_string()).collect(), rows: vec![] }
    }

    /// Appends a row.
    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    /// The table as CSV: full precision, empty fields for unavailable numbers.
    pub fn csv(&self) -> String {
        let mut s = String::new();
        let line = |cells: Vec<String>| cells.join(",") + "\n";
        s.push_str(&line(self.columns.iter().map(|c| quote(c)).collect()));
        for row in &self.rows {
            s.push_str(&line(
                row.iter()
                    .map(|c| match c {
                        Cell::Text(t) => quote(t),
                        Cell::Number(x) if x.is_finite() => format!("{x}"),
                        Cell::Number(_) => String::new(),
                    })
                    .collect(),
            ));
        }
        s
    }

    /// The table as Markdown, numbers with four significant digits.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "| {} |", self.columns.join(" | "));
        let _ = writeln!(s, "|{}", "---|".repeat(self.columns.len()));
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Cell::Text(t) => t.replace('|', "\\|"),
                    Cell::Number(x) => short(*x),
                })
                .collect();
            let _ = writeln!(s, "| {} |", cells.join(" | "));
        }
        s
    }

    /// Writes `<stem>.csv` and `<stem>.md`.
    pub fn write(&self, stem: &Path) -> Result<(PathBuf, PathBuf)> {
        let csv = stem.with_extension("csv");
        let md = stem.with_extension("md");
        write_text(&csv, &self.csv())?;
        write_text(&md, &self.markdown())?;
        Ok((csv, md))
    }
}

fn quote(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A number for people: integers as integers, large values with one decimal (an SD of
/// 278,566.8 must not round to 2.786e5), others with four significant digits, "n/a" when not
/// finite.
pub fn short(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let magnitude = x.abs();
    if x.fract() == 0.0 && magnitude < 1e12 {
        format!("{x:.0}")
    } else if (1e5..1e12).contains(&magnitude) {
        format!("{x:.1}")
    } else if (magnitude != 0.0 && magnitude < 1e-3) || magnitude >= 1e12 {
        format!("{x:.3e}")
    } else {
        let decimals = (3 - magnitude.log10().floor() as i32).max(0);
        format!("{x:.*}", decimals as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_markdown_rounds() {
        let mut t = Table::new(&["measure", "τ"]);
        t.push(vec!["SD, exact".into(), 0.123456.into()]);
        t.push(vec!["λ₁".into(), Cell::Number(f64::NAN)]);
        assert_eq!(t.csv(), "measure,τ\n\"SD, exact\",0.123456\nλ₁,\n");
        assert_eq!(
            t.markdown(),
            "| measure | τ |\n|---|---|\n| SD, exact | 0.1235 |\n| λ₁ | n/a |\n"
        );
        assert_eq!(short(12938.95), "12939");
        assert_eq!(short(2.5e-5), "2.500e-5");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(256.0), "256");
        assert_eq!(short(278_566.84), "278566.8");
    }
}
