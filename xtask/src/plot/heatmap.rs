//! Heat maps: a matrix of values in a diverging colour map, with row and column labels, a
//! colour bar, each cell's value written in it, and grey "n/a" cells for missing values.

use anyhow::{bail, Result};
use plotters::prelude::DrawingBackend;

use super::canvas::{Canvas, Font, HAlign, VAlign};
use super::colorbar::ColorBar;
use super::colors;
use super::font;
use super::frame::{self, CategoryLabels, GAP, PAD, PANEL_H, PANEL_W, TICK_SIZE};
use super::geom::Rect;
use super::ticks::linear_ticks;
use super::Heatmap;

/// The largest size of the values written in cells.
const ANNOTATION_SIZE: f64 = 14.0;
/// Below this size, values are not written (the cells are too small to hold them legibly).
const SMALLEST_ANNOTATION: f64 = 8.5;
/// Cells at least this big get a white gap between them.
const SEPARATED: f64 = 8.0;

/// Checks the matrix's shape and the colour range.
pub fn check(h: &Heatmap) -> Result<()> {
    let (rows, cols) = (h.row_labels.len(), h.col_labels.len());
    if rows == 0 || cols == 0 {
        bail!("has {rows} row labels and {cols} column labels; it needs at least one of each");
    }
    if h.values.len() != rows {
        bail!("has {} rows of values for {rows} row labels", h.values.len());
    }
    for (row, label) in h.values.iter().zip(&h.row_labels) {
        if row.len() != cols {
            bail!("row {label:?} has {} values for {cols} column labels", row.len());
        }
    }
    let (lo, hi) = h.range;
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        bail!("range ({lo}, {hi}) is not a finite interval with low < high");
    }
    Ok(())
}

/// Draws the panel (checked by [`check`]).
pub fn draw<DB: DrawingBackend>(canvas: &Canvas<'_, DB>, h: &Heatmap) -> Result<()> {
    let (lo, hi) = h.range;
    let ticks = linear_ticks(lo, hi, 5).major;
    let bar = ColorBar {
        map: colors::diverging,
        ticks: ticks.into_iter().map(|t| ((t.value - lo) / (hi - lo), t.label)).collect(),
        title: String::new(),
    };

    let widest_row = h.row_labels.iter().map(|l| font::width(l, TICK_SIZE)).fold(0.0, f64::max);
    let (x0, x1) = (PAD + widest_row + GAP, PANEL_W - bar.width());
    let (rows, cols) = (h.row_labels.len(), h.col_labels.len());
    let labels = CategoryLabels::new(&h.col_labels, (x1 - x0) / cols as f64);
    let plot = Rect { x0, y0: frame::plot_top(&h.title), x1, y1: PANEL_H - PAD - labels.depth };
    let (cell_w, cell_h) = (plot.w() / cols as f64, plot.h() / rows as f64);
    let cell = |r: usize, c: usize| {
        Rect::at(plot.x0 + c as f64 * cell_w, plot.y0 + r as f64 * cell_h, cell_w, cell_h)
    };

    frame::draw_title(canvas, &h.title)?;
    let inset = if cell_w.min(cell_h) >= SEPARATED { 0.75 } else { 0.0 };
    let texts = cell_texts(h);
    let size = annotation_size(&texts, cell_w, cell_h);
    for (r, row) in h.values.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            let area = cell(r, c);
            let fill = value
                .filter(|v| v.is_finite())
                .map_or(colors::MISSING, |v| colors::diverging((v - lo) / (hi - lo)));
            canvas.fill_rect(area.grown(-inset), fill)?;
            if let (Some(size), Some(text)) = (size, &texts[r][c]) {
                let ink = if colors::is_dark(fill) { colors::PAPER } else { colors::INK };
                canvas.text(text, (area.cx(), area.cy()), &Font::new(size).color(ink))?;
            }
        }
    }

    draw_row_labels(canvas, h, plot, cell_h)?;
    let centers = (0..cols).map(|c| cell(0, c).cx());
    labels.draw(canvas, plot, &h.col_labels, centers)?;
    bar.draw(canvas, plot)
}

/// The text of each cell: its value with two decimals when annotating, "n/a" when missing.
fn cell_texts(h: &Heatmap) -> Vec<Vec<Option<String>>> {
    let text = |v: &Option<f64>| match v.filter(|v| v.is_finite()) {
        Some(v) if h.annotate => Some(format!("{v:.2}")),
        Some(_) => None,
        None => Some("n/a".to_string()),
    };
    h.values.iter().map(|row| row.iter().map(text).collect()).collect()
}

/// The size at which every cell text fits its cell, or `None` when that is too small to read.
fn annotation_size(texts: &[Vec<Option<String>>], cell_w: f64, cell_h: f64) -> Option<f64> {
    let widest = texts
        .iter()
        .flatten()
        .flatten()
        .map(|t| font::width(t, ANNOTATION_SIZE))
        .fold(0.0, f64::max);
    let by_width =
        if widest > 0.0 { ANNOTATION_SIZE * (cell_w - 4.0) / widest } else { ANNOTATION_SIZE };
    let size = ANNOTATION_SIZE.min(0.7 * cell_h).min(by_width);
    (size >= SMALLEST_ANNOTATION).then_some(size)
}

/// Draws the row labels, right-aligned left of the matrix, shrunk to the rows' height.
fn draw_row_labels<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    h: &Heatmap,
    plot: Rect,
    cell_h: f64,
) -> Result<()> {
    let font = Font::new(TICK_SIZE.min(0.9 * cell_h).max(7.0)).align(HAlign::Right, VAlign::Middle);
    for (r, label) in h.row_labels.iter().enumerate() {
        let y = plot.y0 + (r as f64 + 0.5) * cell_h;
        canvas.text(label, (plot.x0 - GAP, y), &font)?;
    }
    Ok(())
}
