//! The figure as a whole: its layout (title band, grid of panels, wrapped caption), drawing it
//! on the SVG and bitmap backends, encoding the PNG, and writing files atomically.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{anyhow, Result};
use plotters::prelude::{BitMapBackend, DrawingBackend, IntoDrawingArea, SVGBackend};

use super::canvas::{Canvas, Font, HAlign, Target, VAlign};
use super::frame::{PANEL_H, PANEL_W};
use super::geom::{Point, Rect};
use super::{axes, bars, colors, density, font, heatmap, Figure, Plan};

/// PNG pixels per design pixel: the PNG is drawn at twice the SVG's size, for sharp text.
pub const PNG_SCALE: f64 = 2.0;
/// The figure's title.
const FIGURE_TITLE_SIZE: f64 = 24.0;
/// Caption lines.
const CAPTION_SIZE: f64 = 16.0;
/// From one caption line to the next.
const CAPTION_LINE: f64 = CAPTION_SIZE * 1.3;
/// Space around the title and the caption.
const MARGIN: f64 = 14.0;

/// Where everything goes, in design pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// The figure's width.
    pub width: f64,
    /// The figure's height.
    pub height: f64,
    /// Panels per row.
    pub columns: usize,
    /// The height of the band holding the title, above the panels.
    pub title_band: f64,
    /// The caption, wrapped to the figure's width.
    pub caption: Vec<String>,
    /// The top of the caption's first line.
    pub caption_top: f64,
}

impl Layout {
    /// The layout of `figure` (whose columns and panels are checked).
    pub fn new(figure: &Figure) -> Layout {
        let panels = figure.panels.len().max(1);
        let columns = figure.columns.clamp(1, panels);
        let rows = panels.div_ceil(columns);
        let width = columns as f64 * PANEL_W;

        let title_band = if figure.title.is_empty() {
            MARGIN / 2.0
        } else {
            MARGIN + FIGURE_TITLE_SIZE + MARGIN / 2.0
        };
        let text_width = width - 2.0 * MARGIN;
        let caption: Vec<String> =
            figure.caption.iter().flat_map(|line| wrap(line, CAPTION_SIZE, text_width)).collect();
        let panels_end = title_band + rows as f64 * PANEL_H;
        let (caption_top, height) = if caption.is_empty() {
            (panels_end, panels_end + MARGIN / 2.0)
        } else {
            let top = panels_end + MARGIN;
            (top, top + caption.len() as f64 * CAPTION_LINE + MARGIN)
        };
        // Whole pixels, so that the background covers the SVG to its last row.
        Layout { width, height: height.ceil(), columns, title_band, caption, caption_top }
    }

    /// The top-left corner of panel `i`.
    pub fn panel_origin(&self, i: usize) -> Point {
        let (row, column) = (i / self.columns, i % self.columns);
        (column as f64 * PANEL_W, self.title_band + row as f64 * PANEL_H)
    }

    /// The size in pixels at `scale` pixels per design pixel.
    pub fn pixels(&self, scale: f64) -> (u32, u32) {
        ((self.width * scale).ceil() as u32, (self.height * scale).ceil() as u32)
    }
}

/// Splits `text` into lines no wider than `width` at `size`, between words where it can (a
/// word wider than a line is cut). An empty text stays one empty line.
pub fn wrap(text: &str, size: f64, width: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let joined = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if font::width(&joined, size) <= width {
            line = joined;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word;
        while font::width(rest, size) > width {
            let cut = longest_fitting_prefix(rest, size, width);
            lines.push(rest[..cut].to_string());
            rest = &rest[cut..];
        }
        line = rest.to_string();
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The byte length of the longest prefix of `word` (at least one character) that fits.
fn longest_fitting_prefix(word: &str, size: f64, width: f64) -> usize {
    let ends = word.char_indices().map(|(i, c)| i + c.len_utf8());
    let fitting = ends.clone().take_while(|&end| font::width(&word[..end], size) <= width).last();
    fitting.or_else(|| ends.clone().next()).unwrap_or(word.len())
}

/// The figure as SVG text, one design pixel per SVG pixel.
pub fn to_svg(figure: &Figure, plans: &[Plan<'_>], layout: &Layout) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, layout.pixels(1.0)).into_drawing_area();
        draw(&Canvas::new(&root, Target::Svg, 1.0), figure, plans, layout)?;
        root.present().map_err(|e| anyhow!("cannot finish the SVG: {e}"))?;
    }
    Ok(svg)
}

/// The figure as an encoded PNG, [`PNG_SCALE`] pixels per design pixel.
pub fn to_png(figure: &Figure, plans: &[Plan<'_>], layout: &Layout) -> Result<Vec<u8>> {
    let (w, h) = layout.pixels(PNG_SCALE);
    let mut rgb = vec![255_u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(&Canvas::new(&root, Target::Bitmap, PNG_SCALE), figure, plans, layout)?;
        root.present().map_err(|e| anyhow!("cannot finish the bitmap: {e}"))?;
    }
    encode_png(&rgb, w, h)
}

/// Draws the whole figure.
fn draw<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    figure: &Figure,
    plans: &[Plan<'_>],
    layout: &Layout,
) -> Result<()> {
    canvas.fill_rect(Rect::at(0.0, 0.0, layout.width, layout.height), colors::PAPER)?;
    let size = font::fit(&figure.title, FIGURE_TITLE_SIZE, layout.width - 2.0 * MARGIN, 12.0);
    let title = Font::new(size).align(HAlign::Center, VAlign::Top);
    canvas.text(&figure.title, (layout.width / 2.0, MARGIN), &title)?;

    for (i, plan) in plans.iter().enumerate() {
        let panel = canvas.translated(layout.panel_origin(i));
        match plan {
            Plan::Axes(p, plan) => axes::draw(&panel, p, plan)?,
            Plan::Bars(p, plan) => bars::draw(&panel, p, plan)?,
            Plan::Heatmap(p) => heatmap::draw(&panel, p)?,
            Plan::Density(p, plan) => density::draw(&panel, p, plan)?,
        }
    }
    draw_caption(canvas, layout)
}

/// Draws the caption under a thin rule.
fn draw_caption<DB: DrawingBackend>(canvas: &Canvas<'_, DB>, layout: &Layout) -> Result<()> {
    if layout.caption.is_empty() {
        return Ok(());
    }
    let rule = layout.caption_top - MARGIN / 2.0;
    canvas.line((MARGIN, rule), (layout.width - MARGIN, rule), colors::FRAME, 1.0)?;
    let font = Font::new(CAPTION_SIZE).color(colors::MUTED).align(HAlign::Left, VAlign::Top);
    for (i, line) in layout.caption.iter().enumerate() {
        canvas.text(line, (MARGIN, layout.caption_top + i as f64 * CAPTION_LINE), &font)?;
    }
    Ok(())
}

/// Encodes 8-bit RGB pixels as a PNG.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| anyhow!("cannot encode the PNG: {e}"))?;
    writer.write_image_data(rgb).map_err(|e| anyhow!("cannot encode the PNG: {e}"))?;
    writer.finish().map_err(|e| anyhow!("cannot encode the PNG: {e}"))?;
    Ok(png)
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced and then
/// renamed over `path`, so that `path` is either the old file or the whole new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    static WRITES: AtomicUsize = AtomicUsize::new(0);
    let name =
        path.file_name().ok_or_else(|| anyhow!("{} does not name a file", path.display()))?;
    let mut temporary = OsString::from(".");
    temporary.push(name);
    let unique = WRITES.fetch_add(1, Ordering::Relaxed);
    temporary.push(format!(".{}-{unique}.partial", std::process::id()));
    let temporary = path.with_file_name(temporary);

    let written = write_synced(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path));
    if let Err(e) = written {
        // The partial file is useless now; failing to remove it changes nothing for the caller.
        let _ = std::fs::remove_file(&temporary);
        return Err(anyhow!("cannot write {}: {e}", path.display()));
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
