//! Legends: a white box of entries (a swatch and a label each), put in the first corner of the
//! plot that covers no data, or under the plot when every corner would.

use anyhow::Result;
use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;

use super::canvas::{Canvas, Font, HAlign, VAlign};
use super::colors::{self, Marker};
use super::font;
use super::frame::{GAP, LEGEND_SIZE, PAD, PANEL_H, PANEL_W};
use super::geom::Rect;

/// The sample drawn before an entry's label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swatch {
    /// A short line.
    Line,
    /// A marker.
    Marker(Marker),
    /// A short line with a marker on it.
    LineMarker(Marker),
    /// A filled block, for bars.
    Bar,
}

/// One legend entry.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The label.
    pub label: String,
    /// The series' colour.
    pub color: RGBColor,
    /// The sample shape.
    pub swatch: Swatch,
}

/// Where a legend is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Placement {
    /// In a corner of the plot, entries stacked.
    Inside(Rect),
    /// Under the plot, entries flowing in rows.
    Below(Rect),
}

/// The width of a swatch.
const SWATCH_W: f64 = 28.0;
/// The height of a row of entries.
const ROW_H: f64 = LEGEND_SIZE * 1.3;
/// Padding inside the legend box.
const INNER: f64 = 6.0;
/// Space between entries on a row.
const ENTRY_GAP: f64 = 18.0;
/// Distance from a legend inside the plot to the plot's edges.
const INSET: f64 = 8.0;
/// The widest a legend inside the plot may be, as a fraction of the plot's width (and height).
const MAX_INSIDE: f64 = 0.6;

/// A legend's entries.
pub struct Legend {
    entries: Vec<Entry>,
}

impl Legend {
    /// A legend of the entries that have a label.
    pub fn new(entries: impl IntoIterator<Item = Entry>) -> Legend {
        Legend { entries: entries.into_iter().filter(|e| !e.label.is_empty()).collect() }
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first corner of `plot` (top right, top left, bottom right, bottom left) where the
    /// stacked legend touches none of `obstacles`; `None` when there is none, or the legend is
    /// too big for the plot.
    pub fn inside(&self, plot: Rect, obstacles: &[Rect]) -> Option<Rect> {
        let (w, h) = self.size(&self.rows(None));
        if w > MAX_INSIDE * plot.w() || h > MAX_INSIDE * plot.h() {
            return None;
        }
        let (left, right) = (plot.x0 + INSET, plot.x1 - INSET - w);
        let (top, bottom) = (plot.y0 + INSET, plot.y1 - INSET - h);
        [(right, top), (left, top), (right, bottom), (left, bottom)]
            .into_iter()
            .map(|(x, y)| Rect::at(x, y, w, h))
            .find(|r| !obstacles.iter().any(|o| o.intersects(&r.grown(3.0))))
    }

    /// The room a legend under the plot takes, its gap above included.
    pub fn below_height(&self) -> f64 {
        self.size(&self.rows(Some(Self::below_width()))).1 + GAP
    }

    /// The box of a legend under the plot, centred along the panel's bottom.
    pub fn below(&self) -> Rect {
        let (w, h) = self.size(&self.rows(Some(Self::below_width())));
        Rect::at((PANEL_W - w) / 2.0, PANEL_H - PAD - h, w, h)
    }

    fn below_width() -> f64 {
        PANEL_W - 2.0 * PAD - 2.0 * INNER
    }

    /// Draws the legend at `placement`.
    pub fn draw<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<'_, DB>,
        placement: Placement,
    ) -> Result<()> {
        let (area, rows) = match placement {
            Placement::Inside(r) => (r, self.rows(None)),
            Placement::Below(r) => (r, self.rows(Some(Self::below_width()))),
        };
        canvas.fill_rect(area, colors::PAPER)?;
        canvas.stroke_rect(area, colors::FRAME, 1.0)?;
        for (i, row) in rows.iter().enumerate() {
            let y = area.y0 + INNER + (i as f64 + 0.5) * ROW_H;
            let mut x = area.x0 + INNER;
            for entry in row {
                draw_entry(canvas, entry, (x, y))?;
                x += entry_width(entry) + ENTRY_GAP;
            }
        }
        Ok(())
    }

    /// The entries in rows: one per row, or as many as fit in `width` per row.
    fn rows(&self, width: Option<f64>) -> Vec<Vec<&Entry>> {
        let mut rows: Vec<Vec<&Entry>> = Vec::new();
        let mut used = 0.0;
        for entry in &self.entries {
            let w = entry_width(entry);
            match (rows.last_mut(), width) {
                (Some(row), Some(width)) if used + ENTRY_GAP + w <= width => {
                    row.push(entry);
                    used += ENTRY_GAP + w;
                }
                _ => {
                    rows.push(vec![entry]);
                    used = w;
                }
            }
        }
        rows
    }

    /// The size of the box holding `rows`.
    fn size(&self, rows: &[Vec<&Entry>]) -> (f64, f64) {
        let row_width = |row: &Vec<&Entry>| {
            row.iter().map(|e| entry_width(e)).sum::<f64>() + ENTRY_GAP * (row.len() - 1) as f64
        };
        let widest = rows.iter().map(row_width).fold(0.0, f64::max);
        (widest + 2.0 * INNER, rows.len() as f64 * ROW_H + 2.0 * INNER)
    }
}

fn entry_width(entry: &Entry) -> f64 {
    SWATCH_W + GAP + font::width(&entry.label, LEGEND_SIZE)
}

/// Draws one entry with its swatch starting at `x`, centred on the row's middle `y`.
fn draw_entry<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    entry: &Entry,
    (x, y): (f64, f64),
) -> Result<()> {
    let color = entry.color;
    let middle = (x + SWATCH_W / 2.0, y);
    match entry.swatch {
        Swatch::Line => canvas.line((x, y), (x + SWATCH_W, y), color, 2.5)?,
        Swatch::Marker(m) => canvas.marker(m, middle, 4.5, color)?,
        Swatch::LineMarker(m) => {
            canvas.line((x, y), (x + SWATCH_W, y), color, 2.0)?;
            canvas.marker(m, middle, 4.0, color)?;
        }
        Swatch::Bar => {
            canvas.fill_rect(Rect::at(x + 6.0, y - 6.0, SWATCH_W - 12.0, 12.0), color)?
        }
    }
    let font = Font::new(LEGEND_SIZE).align(HAlign::Left, VAlign::Middle);
    canvas.text(&entry.label, (x + SWATCH_W + GAP, y), &font)
}
