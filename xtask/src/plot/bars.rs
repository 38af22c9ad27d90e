//! Grouped bar charts: a group of bars per category, a colour per group entry, "n/a" where a
//! value is missing, and a zero line when the range spans zero.

use anyhow::{bail, Result};
use plotters::prelude::DrawingBackend;

use super::canvas::{Canvas, Font, HAlign, VAlign};
use super::colors;
use super::font;
use super::frame::{self, CategoryLabels, Frame, PAD, PANEL_H, PANEL_W};
use super::geom::Rect;
use super::legend::{Entry, Legend, Placement, Swatch};
use super::ticks::{Axis, Ticks};
use super::Bars;

/// The share of a category's slot its bars fill.
const GROUP_SHARE: f64 = 0.8;
/// The size of "n/a" marks.
const NA_SIZE: f64 = 13.0;
/// Headroom above (and below) the bars when the range is fitted, as a share of the span.
const HEADROOM: f64 = 0.08;

/// The y axis of a [`Bars`] panel.
pub struct Plan {
    y: Axis,
}

/// Checks the panel and resolves its y axis.
pub fn plan(bars: &Bars) -> Result<Plan> {
    if bars.categories.is_empty() {
        bail!("has no categories");
    }
    if bars.groups.is_empty() {
        bail!("has no groups of bars");
    }
    for (label, values) in &bars.groups {
        if values.len() != bars.categories.len() {
            let (n, m) = (values.len(), bars.categories.len());
            bail!("group {label:?} has {n} values for {m} categories");
        }
    }
    let values: Vec<f64> = bars
        .groups
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .flatten()
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        bail!("no bar has a value (all are None or not finite)");
    }
    let y = match bars.y_range {
        Some(range) => Axis::fixed("y_range", range, false)?,
        None => fit(&values)?,
    };
    Ok(Plan { y })
}

/// A range covering zero and every value, with headroom on the sides bars grow towards.
fn fit(values: &[f64]) -> Result<Axis> {
    let lo = values.iter().fold(0.0_f64, |m, &v| m.min(v));
    let hi = values.iter().fold(0.0_f64, |m, &v| m.max(v));
    let span = hi - lo;
    if !span.is_finite() {
        bail!("the values span more than a floating-point number can hold");
    }
    if span == 0.0 {
        return Ok(Axis { lo: 0.0, hi: 1.0, log: false });
    }
    let pad = |v: f64| if v == 0.0 { 0.0 } else { HEADROOM * span };
    Ok(Axis { lo: lo - pad(lo), hi: hi + pad(hi), log: false })
}

/// Draws the panel.
pub fn draw<DB: DrawingBackend>(canvas: &Canvas<'_, DB>, bars: &Bars, plan: &Plan) -> Result<()> {
    let y_ticks = plan.y.ticks(6);
    let legend = Legend::new(bars.groups.iter().enumerate().map(|(i, (label, _))| Entry {
        label: label.clone(),
        color: colors::series(i),
        swatch: Swatch::Bar,
    }));

    let (mut frame, mut labels) = layout(bars, plan, &y_ticks, 0.0);
    let mut placement = None;
    if !legend.is_empty() {
        placement = match legend.inside(frame.plot, &shapes(bars, &frame).obstacles()) {
            Some(corner) => Some(Placement::Inside(corner)),
            None => {
                (frame, labels) = layout(bars, plan, &y_ticks, legend.below_height());
                Some(Placement::Below(legend.below()))
            }
        };
    }

    let plot = frame.plot;
    frame::draw_title(canvas, &bars.title)?;
    frame::draw_y_grid(canvas, plot, |v| frame.y_px(v), &y_ticks)?;
    shapes(bars, &frame).draw(canvas)?;
    if plan.y.lo < 0.0 && plan.y.hi > 0.0 {
        if let Some(zero) = frame.y_px(0.0) {
            canvas.line((plot.x0, zero), (plot.x1, zero), colors::INK, 1.2)?;
        }
    }
    canvas.stroke_rect(plot, colors::INK, 1.0)?;
    frame::draw_y_ticks(canvas, plot, |v| frame.y_px(v), &y_ticks)?;
    frame::draw_y_label(canvas, plot, &bars.y_label)?;
    let centers = (0..bars.categories.len()).filter_map(|c| frame.x_px(c as f64 + 0.5));
    labels.draw(canvas, plot, &bars.categories, centers)?;
    match placement {
        Some(p) => legend.draw(canvas, p),
        None => Ok(()),
    }
}

/// The plot (x runs over 0..categories, category c centred on c + ½) and how its category
/// labels are set, leaving `below` under them for a legend.
fn layout(bars: &Bars, plan: &Plan, y_ticks: &Ticks, below: f64) -> (Frame, CategoryLabels) {
    let left = frame::y_axis_width(y_ticks, &bars.y_label);
    let right = PANEL_W - PAD;
    let n = bars.categories.len() as f64;
    let labels = CategoryLabels::new(&bars.categories, (right - left) / n);
    let plot = Rect {
        x0: left,
        y0: frame::plot_top(&bars.title),
        x1: right,
        y1: PANEL_H - PAD - labels.depth - below,
    };
    (Frame { plot, x: Axis { lo: 0.0, hi: n, log: false }, y: plan.y }, labels)
}

/// The bars and "n/a" marks of a panel, in panel coordinates.
struct Shapes {
    bars: Vec<(Rect, usize)>,
    missing: Vec<Missing>,
}

/// A "n/a" mark where a bar would be.
struct Missing {
    /// The mark's anchor, on the baseline at the bar's middle.
    at: (f64, f64),
    /// Whether it reads upwards (the bar is narrower than the text).
    vertical: bool,
    /// Whether it sits under the baseline (the baseline is the plot's top).
    under: bool,
}

impl Missing {
    /// The box the mark covers.
    fn area(&self) -> Rect {
        let (w, h) = (font::width("n/a", NA_SIZE), NA_SIZE);
        let (w, h) = if self.vertical { (h, w) } else { (w, h) };
        let y0 = if self.under { self.at.1 } else { self.at.1 - h - 3.0 };
        Rect::at(self.at.0 - w / 2.0, y0, w, h + 3.0)
    }
}

fn shapes(bars: &Bars, frame: &Frame) -> Shapes {
    let plot = frame.plot;
    let slot = plot.w() / bars.categories.len() as f64;
    let bar_w = GROUP_SHARE * slot / bars.groups.len() as f64;
    let gap = (0.08 * bar_w).min(1.0);
    let (lo, hi) = (frame.y.lo, frame.y.hi);
    let base = frame.y_px(0.0_f64.clamp(lo, hi)).unwrap_or(plot.y1);
    let under = base <= plot.y0 + 1.0;

    let mut shapes = Shapes { bars: Vec::new(), missing: Vec::new() };
    for (g, (_, values)) in bars.groups.iter().enumerate() {
        for (c, value) in values.iter().enumerate() {
            let x0 = plot.x0 + (c as f64 + (1.0 - GROUP_SHARE) / 2.0) * slot + g as f64 * bar_w;
            match value.filter(|v| v.is_finite()).and_then(|v| frame.y_px(v.clamp(lo, hi))) {
                Some(top) => {
                    // A zero-height bar still shows as a hairline on the baseline.
                    let (y0, y1) = (top.min(base), top.max(base).max(top.min(base) + 1.0));
                    shapes.bars.push((Rect { x0: x0 + gap, y0, x1: x0 + bar_w - gap, y1 }, g));
                }
                None => {
                    let vertical = font::width("n/a", NA_SIZE) > bar_w;
                    shapes.missing.push(Missing { at: (x0 + bar_w / 2.0, base), vertical, under });
                }
            }
        }
    }
    shapes
}

impl Shapes {
    /// What a legend must not cover.
    fn obstacles(&self) -> Vec<Rect> {
        self.bars.iter().map(|(r, _)| *r).chain(self.missing.iter().map(Missing::area)).collect()
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> Result<()> {
        for &(rect, g) in &self.bars {
            canvas.fill_rect(rect, colors::series(g))?;
        }
        for mark in &self.missing {
            let (x, y) = mark.at;
            let font = Font::new(NA_SIZE).color(colors::MUTED);
            let (font, at) = match (mark.vertical, mark.under) {
                (false, false) => (font.align(HAlign::Center, VAlign::Bottom), (x, y - 3.0)),
                (false, true) => (font.align(HAlign::Center, VAlign::Top), (x, y + 3.0)),
                (true, false) => {
                    (font.align(HAlign::Left, VAlign::Middle).vertical(), (x, y - 3.0))
                }
                (true, true) => {
                    (font.align(HAlign::Right, VAlign::Middle).vertical(), (x, y + 3.0))
                }
            };
            canvas.text("n/a", at, &font)?;
        }
        Ok(())
    }
}
