//! Density images: a 2-D histogram drawn as coloured bins on numeric axes, counts (or their
//! logarithm) in a sequential colour map with a colour bar; empty bins stay white.

use anyhow::{bail, Result};
use plotters::prelude::DrawingBackend;

use super::canvas::{Canvas, Font};
use super::colorbar::ColorBar;
use super::colors;
use super::frame::{Decor, Frame, TICK_SIZE};
use super::geom::Rect;
use super::ticks::{decade_label, linear_labels, linear_ticks, Axis};
use super::Density;

/// Colour levels bins are quantised to; neighbours of one level are drawn as one rectangle.
const LEVELS: f64 = 255.0;

/// The axes and the largest count of a [`Density`] panel.
pub struct Plan {
    x: Axis,
    y: Axis,
    max: u32,
}

/// Checks the grid's shape and ranges.
pub fn plan(d: &Density) -> Result<Plan> {
    let (rows, cols) = (d.rows, d.cols);
    if rows == 0 || cols == 0 {
        bail!("has {rows} rows and {cols} columns of bins; it needs at least one of each");
    }
    if rows.checked_mul(cols) != Some(d.counts.len()) {
        bail!("has {} counts for {rows} rows × {cols} columns", d.counts.len());
    }
    let x = Axis::fixed("x_range", d.x_range, false)?;
    let y = Axis::fixed("y_range", d.y_range, false)?;
    Ok(Plan { x, y, max: d.counts.iter().copied().max().unwrap_or(0) })
}

/// Draws the panel.
pub fn draw<DB: DrawingBackend>(canvas: &Canvas<'_, DB>, d: &Density, plan: &Plan) -> Result<()> {
    let bar = color_bar(d.log_counts, plan.max);
    let decor = Decor::new(&d.title, &d.x_label, &d.y_label, &plan.x, &plan.y);
    let frame = Frame { plot: decor.plot_rect(bar.width(), 0.0), x: plan.x, y: plan.y };

    draw_bins(canvas, d, plan, frame.plot)?;
    if plan.max == 0 {
        let note = Font::new(TICK_SIZE).color(colors::MUTED);
        canvas.text("every bin is empty", (frame.plot.cx(), frame.plot.cy()), &note)?;
    }
    decor.draw(canvas, &frame)?;
    bar.draw(canvas, frame.plot)
}

/// Where a count falls on the colour map, in [0, 1]; `None` for an empty bin.
fn shade(count: u32, max: u32, log: bool) -> Option<f64> {
    match (count, log) {
        (0, _) => None,
        (_, true) if max <= 1 => Some(1.0),
        (c, true) => Some(f64::from(c).ln() / f64::from(max).ln()),
        (c, false) => Some(f64::from(c) / f64::from(max)),
    }
}

/// Draws the bins, merging runs of neighbours in a row that share a colour level.
fn draw_bins<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    d: &Density,
    plan: &Plan,
    plot: Rect,
) -> Result<()> {
    let xs: Vec<f64> =
        (0..=d.cols).map(|c| plot.x0 + plot.w() * c as f64 / d.cols as f64).collect();
    let ys: Vec<f64> =
        (0..=d.rows).map(|r| plot.y1 - plot.h() * r as f64 / d.rows as f64).collect();
    let level =
        |count: u32| shade(count, plan.max, d.log_counts).map(|t| (t * LEVELS).round() as u32);

    for (r, row) in d.counts.chunks(d.cols).enumerate() {
        let mut c = 0;
        while c < d.cols {
            let here = level(row[c]);
            let end = c + row[c..].iter().take_while(|&&n| level(n) == here).count();
            if let Some(l) = here {
                let run = Rect { x0: xs[c], y0: ys[r + 1], x1: xs[end], y1: ys[r] };
                canvas.fill_rect(run, colors::sequential(f64::from(l) / LEVELS))?;
            }
            c = end;
        }
    }
    Ok(())
}

/// The colour bar: decades of counts on a log scale, round counts on a linear one, and the
/// largest count at the top (unless it would crowd the last tick).
fn color_bar(log: bool, max: u32) -> ColorBar {
    let max_f = f64::from(max);
    let mut ticks: Vec<(f64, String)> = if log && max >= 10 {
        let decades = max_f.log10().floor() as i32;
        let plain = decades <= 4;
        (0..=decades).map(|k| (f64::from(k) / max_f.log10(), decade_label(k, plain))).collect()
    } else if log && max > 1 {
        vec![(0.0, "1".to_string()), (1.0, max.to_string())]
    } else if log {
        vec![(1.0, "1".to_string())]
    } else {
        // Counts are whole: keep whole ticks, labelled without decimals.
        let top = max_f.max(1.0);
        let values: Vec<f64> = linear_ticks(0.0, top, 5)
            .major
            .iter()
            .map(|t| t.value)
            .filter(|v| v.fract() == 0.0)
            .collect();
        let step = values.windows(2).map(|w| w[1] - w[0]).next().unwrap_or(1.0).max(1.0);
        let labels = linear_labels(&values, step);
        values.iter().zip(labels).map(|(v, label)| (v / top, label)).collect()
    };
    if max > 1 && ticks.last().is_some_and(|(t, _)| *t < 0.93) {
        let power = (max_f.log10().floor() - 1.0).max(0.0);
        let label = linear_labels(&[max_f], 10f64.powf(power)).remove(0);
        ticks.push((1.0, label));
    }
    let title = if log { "count (log scale)" } else { "count" };
    ColorBar { map: colors::sequential, ticks, title: title.to_string() }
}
