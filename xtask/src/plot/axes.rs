//! Axes panels: series drawn as lines, markers or both on linear or log axes, clipped to the
//! plot, with a legend where it hides no data.

use anyhow::{bail, Result};
use plotters::prelude::DrawingBackend;

use super::canvas::Canvas;
use super::colors::{self, Marker};
use super::frame::{Decor, Frame};
use super::geom::{self, clip_polyline, Point, Rect};
use super::legend::{Entry, Legend, Placement, Swatch};
use super::ticks::{shows, Axis};
use super::{Axes, Series, Style};

/// The width of series lines.
const LINE_W: f64 = 2.0;
/// Points closer than this to the previous point of a line are not drawn separately.
const LINE_STEP: f64 = 0.5;

/// The axes an [`Axes`] panel is drawn on.
pub struct Plan {
    x: Axis,
    y: Axis,
}

/// Checks the panel and resolves its axes.
pub fn plan(axes: &Axes) -> Result<Plan> {
    if axes.series.is_empty() {
        bail!("has no series");
    }
    let x_fixed = axes.x_range.map(|r| Axis::fixed("x_range", r, axes.x_log)).transpose()?;
    let y_fixed = axes.y_range.map(|r| Axis::fixed("y_range", r, axes.y_log)).transpose()?;

    let shown: Vec<Point> = axes
        .series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|&(x, y)| shows(x, axes.x_log) && shows(y, axes.y_log))
        .collect();
    if shown.is_empty() {
        bail!("no series has a point that can be shown ({})", showable(axes));
    }

    let x = match x_fixed {
        Some(x) => x,
        None => Axis::fit("x", shown.iter().map(|p| p.0), axes.x_log)?,
    };
    let y = match y_fixed {
        Some(y) => y,
        None => {
            let in_view: Vec<f64> = shown.iter().filter(|p| x.contains(p.0)).map(|p| p.1).collect();
            let ys = if in_view.is_empty() { shown.iter().map(|p| p.1).collect() } else { in_view };
            Axis::fit("y", ys, axes.y_log)?
        }
    };
    Ok(Plan { x, y })
}

/// Which points the panel's axes can show, in words.
fn showable(axes: &Axes) -> &'static str {
    match (axes.x_log, axes.y_log) {
        (false, false) => "points must be finite",
        (true, false) => "points must be finite, with x > 0 on the log x axis",
        (false, true) => "points must be finite, with y > 0 on the log y axis",
        (true, true) => "points must be finite and positive on the log axes",
    }
}

/// Draws the panel.
pub fn draw<DB: DrawingBackend>(canvas: &Canvas<'_, DB>, axes: &Axes, plan: &Plan) -> Result<()> {
    let decor = Decor::new(&axes.title, &axes.x_label, &axes.y_label, &plan.x, &plan.y);
    let legend = Legend::new(axes.series.iter().enumerate().map(|(i, s)| entry(i, s)));
    let mut frame = Frame { plot: decor.plot_rect(0.0, 0.0), x: plan.x, y: plan.y };
    let mut shapes = project(axes, &frame);

    let mut placement = None;
    if !legend.is_empty() {
        placement = match legend.inside(frame.plot, &obstacles(&shapes)) {
            Some(corner) => Some(Placement::Inside(corner)),
            None => {
                frame.plot = decor.plot_rect(0.0, legend.below_height());
                shapes = project(axes, &frame);
                Some(Placement::Below(legend.below()))
            }
        };
    }

    decor.draw_grid(canvas, &frame)?;
    for (i, shape) in shapes.iter().enumerate() {
        draw_shape(canvas, shape, i)?;
    }
    decor.draw(canvas, &frame)?;
    match placement {
        Some(p) => legend.draw(canvas, p),
        None => Ok(()),
    }
}

/// The legend entry of series `i`.
fn entry(i: usize, series: &Series) -> Entry {
    let swatch = match series.style {
        Style::Line => Swatch::Line,
        Style::Points => Swatch::Marker(colors::marker(i)),
        Style::LinePoints => Swatch::LineMarker(colors::marker(i)),
    };
    Entry { label: series.label.clone(), color: colors::series(i), swatch }
}

/// A series in panel coordinates, clipped to the plot.
struct Shape {
    /// Runs of line inside the plot.
    lines: Vec<Vec<Point>>,
    /// Markers inside the plot.
    marks: Vec<Point>,
    /// The markers' shape.
    marker: Marker,
    /// The markers' size (half their width).
    radius: f64,
}

fn project(axes: &Axes, frame: &Frame) -> Vec<Shape> {
    axes.series.iter().enumerate().map(|(i, s)| project_series(i, s, frame)).collect()
}

fn project_series(i: usize, series: &Series, frame: &Frame) -> Shape {
    let points: Vec<Option<Point>> = series.points.iter().map(|&p| frame.px(p)).collect();
    let plot = frame.plot;
    let visible = |p: &Point| plot.contains(*p, 0.01);

    let all = || points.iter().flatten().copied().collect();
    let line = || clip_polyline(points.iter().copied(), &plot, LINE_STEP);

    let (lines, marks, marker, radius) = match series.style {
        // A point with no neighbour to join gets a dot, so that it is not lost.
        Style::Line => (line(), isolated(&points), Marker::Circle, 3.5),
        Style::Points => (Vec::new(), all(), colors::marker(i), 4.0),
        Style::LinePoints => (line(), all(), colors::marker(i), 3.5),
    };
    Shape { lines, marks: marks.into_iter().filter(visible).collect(), marker, radius }
}

/// The points whose neighbours (before and after) cannot be shown.
fn isolated(points: &[Option<Point>]) -> Vec<Point> {
    let gap = |i: Option<usize>| i.and_then(|i| points.get(i).copied().flatten()).is_none();
    points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.filter(|_| gap(i.checked_sub(1)) && gap(Some(i + 1))))
        .collect()
}

/// What a legend must not cover: markers, and samples every few pixels along the lines.
fn obstacles(shapes: &[Shape]) -> Vec<Rect> {
    let mut out = Vec::new();
    for shape in shapes {
        out.extend(shape.marks.iter().map(|&p| Rect::around(p, shape.radius)));
        for run in &shape.lines {
            for pair in run.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let steps = (geom::distance(a, b) / 4.0).ceil().max(1.0) as usize;
                out.extend((0..=steps).map(|k| {
                    let t = k as f64 / steps as f64;
                    Rect::around((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)), LINE_W)
                }));
            }
        }
    }
    out
}

fn draw_shape<DB: DrawingBackend>(canvas: &Canvas<'_, DB>, shape: &Shape, i: usize) -> Result<()> {
    let color = colors::series(i);
    for run in &shape.lines {
        canvas.polyline(run, color, LINE_W)?;
    }
    for &p in &shape.marks {
        canvas.marker(shape.marker, p, shape.radius, color)?;
    }
    Ok(())
}
