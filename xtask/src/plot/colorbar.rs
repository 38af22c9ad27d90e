//! Colour bars: a colour map drawn as a vertical strip right of a plot, labelled with the
//! values along it.

use anyhow::Result;
use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;

use super::canvas::{Canvas, Font, HAlign, VAlign};
use super::colors;
use super::font;
use super::frame::{GAP, PAD, TICK_LEN, TICK_SIZE};
use super::geom::Rect;

/// The width of the strip.
const BAR_W: f64 = 16.0;
/// Bands the strip is drawn with; enough for a smooth gradient.
const BANDS: usize = 96;
/// From a tick to its label.
const LABEL_GAP: f64 = 3.0;

/// A colour bar: a colour map over [0, 1], and labels at positions along it.
pub struct ColorBar {
    /// The colour map.
    pub map: fn(f64) -> RGBColor,
    /// `(position in [0, 1], label)`, from the bottom.
    pub ticks: Vec<(f64, String)>,
    /// Text above the strip (what the colours measure); may be empty.
    pub title: String,
}

impl ColorBar {
    /// The room the bar takes right of a plot, the panel's padding included.
    pub fn width(&self) -> f64 {
        let widest = self.ticks.iter().map(|(_, l)| font::width(l, TICK_SIZE)).fold(0.0, f64::max);
        let labelled = BAR_W + TICK_LEN + LABEL_GAP + widest;
        2.0 * GAP + labelled.max(font::width(&self.title, TICK_SIZE)) + PAD
    }

    /// Draws the bar beside `plot`, as tall as the plot (less room for the title).
    pub fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>, plot: Rect) -> Result<()> {
        // A title needs its own line, clear of the top tick label centred on the bar's top.
        let top = if self.title.is_empty() { plot.y0 } else { plot.y0 + 1.5 * TICK_SIZE + GAP };
        let bar =
            Rect { x0: plot.x1 + 2.0 * GAP, y0: top, x1: plot.x1 + 2.0 * GAP + BAR_W, y1: plot.y1 };

        for i in 0..BANDS {
            let (t0, t1) = (i as f64 / BANDS as f64, (i + 1) as f64 / BANDS as f64);
            let band = Rect { y0: bar.y1 - t1 * bar.h(), y1: bar.y1 - t0 * bar.h(), ..bar };
            canvas.fill_rect(band, (self.map)((t0 + t1) / 2.0))?;
        }
        canvas.stroke_rect(bar, colors::INK, 1.0)?;

        let font = Font::new(TICK_SIZE).align(HAlign::Left, VAlign::Middle);
        let mut last = f64::INFINITY;
        for (t, label) in self.ticks.iter().filter(|(t, _)| (-1e-9..=1.0 + 1e-9).contains(t)) {
            let y = bar.y1 - t * bar.h();
            canvas.line((bar.x1, y), (bar.x1 + TICK_LEN, y), colors::INK, 1.0)?;
            if (last - y).abs() >= TICK_SIZE * 1.05 {
                canvas.text(label, (bar.x1 + TICK_LEN + LABEL_GAP, y), &font)?;
                last = y;
            }
        }

        let title_font = Font::new(TICK_SIZE).align(HAlign::Left, VAlign::Bottom);
        canvas.text(&self.title, (bar.x0, top - TICK_SIZE / 2.0 - 2.0), &title_font)
    }
}
