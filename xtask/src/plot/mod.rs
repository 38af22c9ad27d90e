//! Figures for `cargo xtask reproduce`: panels of curves, bars, heat maps and density images,
//! rendered to an SVG and a PNG with the same layout.
//!
//! A [`Figure`] is a title, a grid of [`Panel`]s and caption lines (the settings of the
//! experiment). [`render`] checks every panel first, so bad input is an error that names the
//! panel and writes nothing, then draws the figure twice: into an SVG (text stays text) and
//! into a PNG at twice the SVG's pixel size. Text in the PNG is drawn with DejaVu Sans, compiled
//! into the binary (see `font.rs`), so no system font is needed.
//!
//! Layout is computed once in *design pixels* (a panel is 560 × 420 of them) and scaled by the
//! canvas at drawing time. Plotters is used only for its backends and primitives (lines,
//! rectangles, text); axes, ticks, legends and colour bars are laid out here, so that log axes,
//! clipping and legend placement behave the same in both files.

mod axes;
mod bars;
mod canvas;
mod colorbar;
mod colors;
mod density;
mod figure;
mod font;
mod frame;
mod geom;
mod heatmap;
mod legend;
mod ticks;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};

/// How the points of a [`Series`] are drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// A line through the points, in order; a point that cannot be shown breaks it.
    #[default]
    Line,
    /// A marker at each point, with a shape of its own per series.
    Points,
    /// Both a line and markers.
    LinePoints,
}

/// One labelled set of (x, y) points of an [`Axes`] panel.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// The legend's text for the series; an empty label leaves it out of the legend.
    pub label: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Line, markers or both.
    pub style: Style,
}

/// A panel with x/y axes. Log axes must handle the data range; non-finite points are skipped.
///
/// Ranges left `None` are fitted to the points that can be shown (finite, and positive on a log
/// axis) with a small margin; a fixed range clips what falls outside it. When `x_range` is
/// fixed, the fitted y range covers only the points inside it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Axes {
    /// The panel's title, above the plot.
    pub title: String,
    /// The x axis label.
    pub x_label: String,
    /// The y axis label (drawn vertically).
    pub y_label: String,
    /// Whether the x axis is logarithmic (base 10).
    pub x_log: bool,
    /// Whether the y axis is logarithmic (base 10).
    pub y_log: bool,
    /// A fixed x range, `(low, high)`.
    pub x_range: Option<(f64, f64)>,
    /// A fixed y range, `(low, high)`.
    pub y_range: Option<(f64, f64)>,
    /// The series, drawn in order, with colours and markers from a colour-blind-friendly cycle.
    pub series: Vec<Series>,
}

/// Grouped bar chart: one group of bars per category, one bar colour per entry of `groups`
/// (legend label, value per category; None = no bar, mark it "n/a").
///
/// Non-finite values are treated as `None`. Bars start at zero (or at the edge of the range
/// nearest to zero when the range excludes it); a range spanning zero gets a zero line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bars {
    /// The panel's title, above the plot.
    pub title: String,
    /// The y axis label (drawn vertically).
    pub y_label: String,
    /// The categories along the x axis, one group of bars each.
    pub categories: Vec<String>,
    /// Legend label and one value per category, for each bar colour.
    pub groups: Vec<(String, Vec<Option<f64>>)>,
    /// A fixed y range; `None` fits the values and zero.
    pub y_range: Option<(f64, f64)>,
}

/// Matrix of values in a diverging colour map over `range`, with row/column labels, a colour
/// bar, and each cell annotated with its value (2 decimals) when `annotate`; None cells grey
/// with "n/a".
///
/// Row 0 is drawn at the top. Non-finite values are treated as `None`; values outside `range`
/// take the colour of its nearest end. Annotations are left out when the cells are too small
/// to hold them legibly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Heatmap {
    /// The panel's title, above the matrix.
    pub title: String,
    /// One label per row, on the left.
    pub row_labels: Vec<String>,
    /// One label per column, below.
    pub col_labels: Vec<String>,
    /// `values[row][column]`.
    pub values: Vec<Vec<Option<f64>>>,
    /// The values at the two ends of the colour map; its middle (white) is their mean.
    pub range: (f64, f64),
    /// Whether to write each cell's value in it.
    pub annotate: bool,
}

/// A 2-D histogram image (e.g. 600,000 particles binned on a grid), row-major counts with row 0
/// at the BOTTOM (y_range.0), shown with a sequential colour map, log-scaled counts when
/// `log_counts`.
///
/// Empty bins stay white, so the colour map's darkest end marks a single count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Density {
    /// The panel's title, above the image.
    pub title: String,
    /// The x axis label.
    pub x_label: String,
    /// The y axis label (drawn vertically).
    pub y_label: String,
    /// `rows × cols` counts, row-major, row 0 at `y_range.0`.
    pub counts: Vec<u32>,
    /// The number of bins along y.
    pub rows: usize,
    /// The number of bins along x.
    pub cols: usize,
    /// The x interval the columns cover.
    pub x_range: (f64, f64),
    /// The y interval the rows cover.
    pub y_range: (f64, f64),
    /// Whether colours follow log(count) rather than count.
    pub log_counts: bool,
}

/// One panel of a [`Figure`].
#[derive(Clone, Debug, PartialEq)]
pub enum Panel {
    /// Curves or points on x/y axes.
    Axes(Axes),
    /// A grouped bar chart.
    Bars(Bars),
    /// A matrix in a diverging colour map.
    Heatmap(Heatmap),
    /// A 2-D histogram image.
    Density(Density),
}

impl Panel {
    /// The panel's title.
    pub fn title(&self) -> &str {
        match self {
            Panel::Axes(p) => &p.title,
            Panel::Bars(p) => &p.title,
            Panel::Heatmap(p) => &p.title,
            Panel::Density(p) => &p.title,
        }
    }

    /// The panel's kind, as error messages name it.
    fn kind(&self) -> &'static str {
        match self {
            Panel::Axes(_) => "axes",
            Panel::Bars(_) => "bars",
            Panel::Heatmap(_) => "heatmap",
            Panel::Density(_) => "density",
        }
    }
}

/// A figure: a title on top, panels on a grid of `columns` columns, and caption lines under the
/// panels (the settings of the experiment; wrap long lines to the figure width).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figure {
    /// The figure's title, across the top.
    pub title: String,
    /// Caption lines under the panels, each wrapped to the figure's width.
    pub caption: Vec<String>,
    /// Panels per row (at least 1; more than there are panels is treated as their number).
    pub columns: usize,
    /// The panels, filling the grid row by row.
    pub panels: Vec<Panel>,
}

/// Writes `<stem>.svg` and `<stem>.png` (creating the parent folder) and returns both paths.
/// Writes each to a temporary name in the same folder and renames, so a crash never leaves a
/// half file.
///
/// The extensions are appended to `stem`, so `fig.v2` gives `fig.v2.svg`. Every panel is
/// checked before anything is drawn: an error names the panel (its number and title) and what
/// is wrong with it, and no file is written.
pub fn render(figure: &Figure, stem: &Path) -> Result<(PathBuf, PathBuf)> {
    font::register()?;
    let plans = plan(figure)?;
    let layout = figure::Layout::new(figure);

    let svg_path = with_extension(stem, "svg");
    let png_path = with_extension(stem, "png");
    if let Some(parent) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow!("cannot create folder {}: {e}", parent.display()))?;
    }

    let svg = figure::to_svg(figure, &plans, &layout)?;
    figure::write_atomically(&svg_path, svg.as_bytes())?;
    let png = figure::to_png(figure, &plans, &layout)?;
    figure::write_atomically(&png_path, &png)?;
    Ok((svg_path, png_path))
}

/// A checked panel with what checking resolved (axis ranges, the largest count), ready to draw.
enum Plan<'a> {
    Axes(&'a Axes, axes::Plan),
    Bars(&'a Bars, bars::Plan),
    Heatmap(&'a Heatmap),
    Density(&'a Density, density::Plan),
}

/// Checks the figure and every panel, naming the panel in any error.
fn plan(figure: &Figure) -> Result<Vec<Plan<'_>>> {
    if figure.panels.is_empty() {
        return Err(anyhow!("figure {:?} has no panels", figure.title));
    }
    if figure.columns == 0 {
        return Err(anyhow!("figure {:?}: columns must be at least 1", figure.title));
    }
    figure
        .panels
        .iter()
        .enumerate()
        .map(|(i, panel)| {
            plan_panel(panel).map_err(|e| {
                anyhow!("panel {} ({}, {:?}): {e:#}", i + 1, panel.kind(), panel.title())
            })
        })
        .collect()
}

fn plan_panel(panel: &Panel) -> Result<Plan<'_>> {
    Ok(match panel {
        Panel::Axes(p) => Plan::Axes(p, axes::plan(p)?),
        Panel::Bars(p) => Plan::Bars(p, bars::plan(p)?),
        Panel::Heatmap(p) => {
            heatmap::check(p)?;
            Plan::Heatmap(p)
        }
        Panel::Density(p) => Plan::Density(p, density::plan(p)?),
    })
}

/// `stem` with `.ext` appended (not replacing an extension `stem` may already have).
fn with_extension(stem: &Path, ext: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}
