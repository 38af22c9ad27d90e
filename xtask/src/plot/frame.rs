//! What surrounds a plot in a panel: the panel's size, the title, numeric axes with ticks,
//! tick labels and axis labels, and the grid. Panels compute their plot rectangle from the
//! room these need, then draw their data into it.

use anyhow::Result;
use plotters::prelude::DrawingBackend;

use super::canvas::{Canvas, Font, HAlign, VAlign};
use super::colors;
use super::font;
use super::geom::{Point, Rect};
use super::ticks::{Axis, Ticks};

/// A panel's width in design pixels.
pub const PANEL_W: f64 = 560.0;
/// A panel's height in design pixels.
pub const PANEL_H: f64 = 420.0;
/// Space between a panel's edge and its content.
pub const PAD: f64 = 10.0;
/// Space between neighbouring pieces of text.
pub const GAP: f64 = 6.0;
/// The length of a major tick mark.
pub const TICK_LEN: f64 = 5.0;

/// Panel titles.
pub const TITLE_SIZE: f64 = 19.0;
/// Axis labels.
pub const LABEL_SIZE: f64 = 17.0;
/// Tick labels.
pub const TICK_SIZE: f64 = 15.0;
/// Legend entries.
pub const LEGEND_SIZE: f64 = 15.0;

/// From the end of a tick mark to its label.
const TICK_GAP: f64 = 3.0;

/// A plot rectangle with the axes that map data into it.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// The plot, in panel coordinates.
    pub plot: Rect,
    /// The horizontal axis.
    pub x: Axis,
    /// The vertical axis.
    pub y: Axis,
}

impl Frame {
    /// Where the data point `(x, y)` lands; `None` when an axis cannot show it. Points outside
    /// the axes' ranges land outside the plot.
    pub fn px(&self, (x, y): Point) -> Option<Point> {
        Some((self.x_px(x)?, self.y_px(y)?))
    }

    /// The horizontal position of `x`.
    pub fn x_px(&self, x: f64) -> Option<f64> {
        Some(self.plot.x0 + far(self.x.frac(x)?) * self.plot.w())
    }

    /// The vertical position of `y`.
    pub fn y_px(&self, y: f64) -> Option<f64> {
        Some(self.plot.y1 - far(self.y.frac(y)?) * self.plot.h())
    }
}

/// A position along an axis, kept finite: values a trillion plot-widths away are all drawn as
/// if there, which keeps clipping arithmetic free of infinities.
fn far(frac: f64) -> f64 {
    frac.clamp(-1e12, 1e12)
}

/// The text and ticks around a plot with two numeric axes.
pub struct Decor<'a> {
    /// The panel title.
    pub title: &'a str,
    /// The x axis label.
    pub x_label: &'a str,
    /// The y axis label.
    pub y_label: &'a str,
    /// The x axis ticks.
    pub x_ticks: Ticks,
    /// The y axis ticks.
    pub y_ticks: Ticks,
}

impl Decor<'_> {
    /// The ticks and labels of two axes, about six labelled ticks each.
    pub fn new<'a>(
        title: &'a str,
        x_label: &'a str,
        y_label: &'a str,
        x: &Axis,
        y: &Axis,
    ) -> Decor<'a> {
        Decor { title, x_label, y_label, x_ticks: x.ticks(6), y_ticks: y.ticks(6) }
    }

    /// The plot rectangle that leaves room for the decor, for `right` to the right of the plot
    /// (a colour bar, the panel's padding included; at least the padding) and for `below` under
    /// the x axis label (a legend).
    pub fn plot_rect(&self, right: f64, below: f64) -> Rect {
        let left = y_axis_width(&self.y_ticks, self.y_label);
        let bottom = x_axis_height(self.x_label) + PAD + below;
        let last_label =
            self.x_ticks.major.last().map_or(0.0, |t| font::width(&t.label, TICK_SIZE));
        let right = right.max(PAD).max(last_label / 2.0 + 2.0);
        Rect { x0: left, y0: plot_top(self.title), x1: PANEL_W - right, y1: PANEL_H - bottom }
    }

    /// Draws the grid lines of the major ticks.
    pub fn draw_grid<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<'_, DB>,
        frame: &Frame,
    ) -> Result<()> {
        let p = frame.plot;
        for x in self.x_ticks.major.iter().filter_map(|t| inside(frame.x_px(t.value), p.x0, p.x1)) {
            canvas.line((x, p.y0), (x, p.y1), colors::GRID, 1.0)?;
        }
        draw_y_grid(canvas, p, |v| frame.y_px(v), &self.y_ticks)
    }

    /// Draws the title, the plot's border, both axes' ticks and labels.
    pub fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>, frame: &Frame) -> Result<()> {
        draw_title(canvas, self.title)?;
        canvas.stroke_rect(frame.plot, colors::INK, 1.0)?;
        draw_x_ticks(canvas, frame, &self.x_ticks)?;
        draw_y_ticks(canvas, frame.plot, |v| frame.y_px(v), &self.y_ticks)?;
        draw_x_label(canvas, frame.plot, self.x_label)?;
        draw_y_label(canvas, frame.plot, self.y_label)
    }
}

/// `v` if it lies within `[lo, hi]` (give or take rounding).
pub fn inside(v: Option<f64>, lo: f64, hi: f64) -> Option<f64> {
    v.filter(|&v| v >= lo - 0.01 && v <= hi + 0.01)
}

/// The top of the plot under a panel title, with room for the top tick label's upper half.
pub fn plot_top(title: &str) -> f64 {
    let title_block = if title.is_empty() { 0.0 } else { TITLE_SIZE + GAP };
    PAD + title_block + TICK_SIZE / 2.0
}

/// The room left of a plot for y tick labels and the y axis label.
pub fn y_axis_width(ticks: &Ticks, label: &str) -> f64 {
    let widest = ticks.major.iter().map(|t| font::width(&t.label, TICK_SIZE)).fold(0.0, f64::max);
    let label_block = if label.is_empty() { 0.0 } else { LABEL_SIZE + GAP };
    PAD + label_block + widest + TICK_GAP + TICK_LEN
}

/// The room under a plot for x tick labels and the x axis label (without the panel's padding).
pub fn x_axis_height(label: &str) -> f64 {
    let label_block = if label.is_empty() { 0.0 } else { GAP + LABEL_SIZE };
    TICK_LEN + TICK_GAP + TICK_SIZE + label_block
}

/// Draws horizontal grid lines across `plot` at the major ticks.
pub fn draw_y_grid<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    plot: Rect,
    to_px: impl Fn(f64) -> Option<f64>,
    ticks: &Ticks,
) -> Result<()> {
    for y in ticks.major.iter().filter_map(|t| inside(to_px(t.value), plot.y0, plot.y1)) {
        canvas.line((plot.x0, y), (plot.x1, y), colors::GRID, 1.0)?;
    }
    Ok(())
}

/// Draws a panel's title, centred along its top, shrunk to fit the panel's width.
pub fn draw_title<DB: DrawingBackend>(canvas: &Canvas<'_, DB>, title: &str) -> Result<()> {
    let size = font::fit(title, TITLE_SIZE, PANEL_W - 2.0 * PAD, 10.0);
    let font = Font::new(size).align(HAlign::Center, VAlign::Top);
    canvas.text(title, (PANEL_W / 2.0, PAD), &font)
}

/// Draws the x axis's tick marks and labels, leaving out labels that would overlap.
fn draw_x_ticks<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    frame: &Frame,
    ticks: &Ticks,
) -> Result<()> {
    let p = frame.plot;
    for x in ticks.minor.iter().filter_map(|&v| inside(frame.x_px(v), p.x0, p.x1)) {
        canvas.line((x, p.y1), (x, p.y1 + TICK_LEN * 0.6), colors::INK, 1.0)?;
    }
    let font = Font::new(TICK_SIZE).align(HAlign::Center, VAlign::Top);
    let mut free_from = f64::NEG_INFINITY;
    for tick in &ticks.major {
        let Some(x) = inside(frame.x_px(tick.value), p.x0, p.x1) else { continue };
        canvas.line((x, p.y1), (x, p.y1 + TICK_LEN), colors::INK, 1.0)?;
        let half = font::width(&tick.label, TICK_SIZE) / 2.0;
        if x - half >= free_from && x - half >= 0.0 && x + half <= PANEL_W {
            canvas.text(&tick.label, (x, p.y1 + TICK_LEN + TICK_GAP), &font)?;
            free_from = x + half + GAP;
        }
    }
    Ok(())
}

/// Draws tick marks and labels along the left edge of `plot`, at the positions `to_px` gives,
/// leaving out labels that would overlap.
pub fn draw_y_ticks<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    plot: Rect,
    to_px: impl Fn(f64) -> Option<f64>,
    ticks: &Ticks,
) -> Result<()> {
    for y in ticks.minor.iter().filter_map(|&v| inside(to_px(v), plot.y0, plot.y1)) {
        canvas.line((plot.x0 - TICK_LEN * 0.6, y), (plot.x0, y), colors::INK, 1.0)?;
    }
    let font = Font::new(TICK_SIZE).align(HAlign::Right, VAlign::Middle);
    let mut last = f64::INFINITY;
    for tick in &ticks.major {
        let Some(y) = inside(to_px(tick.value), plot.y0, plot.y1) else { continue };
        canvas.line((plot.x0 - TICK_LEN, y), (plot.x0, y), colors::INK, 1.0)?;
        if (last - y).abs() >= TICK_SIZE * 1.05 {
            canvas.text(&tick.label, (plot.x0 - TICK_LEN - TICK_GAP, y), &font)?;
            last = y;
        }
    }
    Ok(())
}

/// Draws the x axis label centred under the tick labels.
pub fn draw_x_label<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    plot: Rect,
    label: &str,
) -> Result<()> {
    let size = font::fit(label, LABEL_SIZE, PANEL_W - 2.0 * PAD, 10.0);
    let font = Font::new(size).align(HAlign::Center, VAlign::Top);
    let y = plot.y1 + TICK_LEN + TICK_GAP + TICK_SIZE + GAP;
    canvas.text(label, (plot.cx(), y), &font)
}

/// Draws the y axis label, reading upwards, along the panel's left edge.
pub fn draw_y_label<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    plot: Rect,
    label: &str,
) -> Result<()> {
    let size = font::fit(label, LABEL_SIZE, PANEL_H - 2.0 * PAD, 10.0);
    let font = Font::new(size).align(HAlign::Center, VAlign::Top).vertical();
    // Centred on the plot, but kept inside the panel when longer than the plot is high.
    let half = font::width(label, size) / 2.0;
    let y = plot.cy().max(PAD + half).min(PANEL_H - PAD - half);
    canvas.text(label, (PAD, y), &font)
}

/// How labels of categories (bar groups, heat map columns) are set under a plot: across when
/// each fits its slot, otherwise reading upwards, shrunk if needed so that none runs deeper
/// than a third of the panel.
pub struct CategoryLabels {
    /// Whether the labels read upwards.
    pub vertical: bool,
    /// Their font size.
    pub size: f64,
    /// The room they take below the plot, tick marks included.
    pub depth: f64,
}

impl CategoryLabels {
    /// The setting for `labels` in slots `slot` wide.
    pub fn new(labels: &[String], slot: f64) -> CategoryLabels {
        let widest = labels.iter().map(|l| font::width(l, TICK_SIZE)).fold(0.0, f64::max);
        if widest <= slot - 4.0 {
            return CategoryLabels {
                vertical: false,
                size: TICK_SIZE,
                depth: TICK_LEN + TICK_GAP + TICK_SIZE,
            };
        }
        let deepest = PANEL_H / 3.0;
        let size =
            if widest > deepest { (TICK_SIZE * deepest / widest).max(9.0) } else { TICK_SIZE };
        let depth = TICK_LEN + TICK_GAP + widest * size / TICK_SIZE;
        CategoryLabels { vertical: true, size, depth }
    }

    /// Draws `labels` under `plot`, one at each of `centers`, with a tick mark each.
    pub fn draw<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<'_, DB>,
        plot: Rect,
        labels: &[String],
        centers: impl Iterator<Item = f64>,
    ) -> Result<()> {
        let font = if self.vertical {
            Font::new(self.size).align(HAlign::Right, VAlign::Middle).vertical()
        } else {
            Font::new(self.size).align(HAlign::Center, VAlign::Top)
        };
        for (label, x) in labels.iter().zip(centers) {
            canvas.line((x, plot.y1), (x, plot.y1 + TICK_LEN), colors::INK, 1.0)?;
            canvas.text(label, (x, plot.y1 + TICK_LEN + TICK_GAP), &font)?;
        }
        Ok(())
    }
}
