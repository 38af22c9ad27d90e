//! A drawing surface in design pixels over a plotters drawing area: it scales coordinates to
//! the backend's pixels, places text by its own metrics the same way on both backends, and
//! turns drawing errors into `anyhow` errors.

use std::fmt::Display;

use ab_glyph::{point, Font as _, PxScale, ScaleFont};
use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::element::{Circle, PathElement, Polygon, Rectangle};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontTransform, IntoFont, RGBColor, TextStyle};

use super::colors::Marker;
use super::font;
use super::geom::{Point, Rect};

/// Which backend a canvas draws on; they place and size text differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Plotters' SVG backend: text is written as `<text>` with a CSS font size.
    Svg,
    /// Plotters' bitmap backend: text is rasterised with the embedded font.
    Bitmap,
}

/// Horizontal alignment of text on its anchor point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HAlign {
    /// The text starts at the anchor.
    Left,
    /// The text is centred on the anchor.
    Center,
    /// The text ends at the anchor.
    Right,
}

/// Vertical alignment of text on its anchor point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VAlign {
    /// The ascent line passes through the anchor (the text hangs below it).
    Top,
    /// Capitals and digits are centred on the anchor.
    Middle,
    /// The descent line passes through the anchor (the text stands on it).
    Bottom,
}

/// How a piece of text is drawn.
#[derive(Clone, Copy, Debug)]
pub struct Font {
    /// Line height in design pixels (see `font.rs`).
    pub size: f64,
    /// The colour.
    pub color: RGBColor,
    /// Horizontal alignment (along the text, also when vertical).
    pub h: HAlign,
    /// Vertical alignment (across the text).
    pub v: VAlign,
    /// Whether the text reads bottom to top, rotated a quarter turn anticlockwise.
    pub vertical: bool,
}

impl Font {
    /// Dark text of the given size, centred on its anchor.
    pub fn new(size: f64) -> Font {
        Font {
            size,
            color: super::colors::INK,
            h: HAlign::Center,
            v: VAlign::Middle,
            vertical: false,
        }
    }

    /// The same font in another colour.
    pub fn color(self, color: RGBColor) -> Font {
        Font { color, ..self }
    }

    /// The same font with another alignment.
    pub fn align(self, h: HAlign, v: VAlign) -> Font {
        Font { h, v, ..self }
    }

    /// The same font, reading bottom to top.
    pub fn vertical(self) -> Font {
        Font { vertical: true, ..self }
    }
}

/// A plotters drawing area seen in design pixels, with an origin (the current panel's corner).
pub struct Canvas<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    target: Target,
    scale: f64,
    origin: Point,
}

impl<'a, DB: DrawingBackend> Canvas<'a, DB> {
    /// A canvas over `area`, `scale` backend pixels per design pixel.
    pub fn new(area: &'a DrawingArea<DB, Shift>, target: Target, scale: f64) -> Self {
        Canvas { area, target, scale, origin: (0.0, 0.0) }
    }

    /// The same surface with its origin moved to `(x, y)` of this one.
    pub fn translated(&self, (x, y): Point) -> Self {
        Canvas {
            area: self.area,
            target: self.target,
            scale: self.scale,
            origin: (self.origin.0 + x, self.origin.1 + y),
        }
    }

    /// Backend pixels of a design point. Far-off points are clamped, which callers avoid by
    /// clipping first; it only keeps the integer conversion meaningful.
    fn px(&self, (x, y): Point) -> (i32, i32) {
        let limit = 1e8;
        let to = |v: f64, o: f64| ((v + o) * self.scale).round().clamp(-limit, limit) as i32;
        (to(x, self.origin.0), to(y, self.origin.1))
    }

    /// A stroke width in backend pixels, at least one.
    fn stroke(&self, width: f64) -> u32 {
        (width * self.scale).round().max(1.0) as u32
    }

    /// Fills a rectangle.
    pub fn fill_rect(&self, r: Rect, color: RGBColor) -> Result<()> {
        let corners = [self.px((r.x0, r.y0)), self.px((r.x1, r.y1))];
        drawn(self.area.draw(&Rectangle::new(corners, color.filled())))
    }

    /// Outlines a rectangle.
    pub fn stroke_rect(&self, r: Rect, color: RGBColor, width: f64) -> Result<()> {
        let corners = [self.px((r.x0, r.y0)), self.px((r.x1, r.y1))];
        drawn(self.area.draw(&Rectangle::new(corners, color.stroke_width(self.stroke(width)))))
    }

    /// Draws a line through `points`.
    pub fn polyline(&self, points: &[Point], color: RGBColor, width: f64) -> Result<()> {
        let pixels: Vec<(i32, i32)> = points.iter().map(|&p| self.px(p)).collect();
        drawn(self.area.draw(&PathElement::new(pixels, color.stroke_width(self.stroke(width)))))
    }

    /// Draws a straight line.
    pub fn line(&self, a: Point, b: Point, color: RGBColor, width: f64) -> Result<()> {
        self.polyline(&[a, b], color, width)
    }

    /// Fills a polygon.
    pub fn polygon(&self, points: &[Point], color: RGBColor) -> Result<()> {
        let pixels: Vec<(i32, i32)> = points.iter().map(|&p| self.px(p)).collect();
        drawn(self.area.draw(&Polygon::new(pixels, color.filled())))
    }

    /// Fills a disc.
    pub fn disc(&self, center: Point, radius: f64, color: RGBColor) -> Result<()> {
        let r = (radius * self.scale).round().max(1.0) as u32;
        drawn(self.area.draw(&Circle::new(self.px(center), r, color.filled())))
    }

    /// Draws a marker of "radius" `r` (half its width) centred on `c`.
    pub fn marker(&self, kind: Marker, c: Point, r: f64, color: RGBColor) -> Result<()> {
        let (x, y) = c;
        match kind {
            Marker::Circle => self.disc(c, r, color),
            Marker::Square => {
                let h = r * 0.85;
                self.fill_rect(Rect { x0: x - h, y0: y - h, x1: x + h, y1: y + h }, color)
            }
            Marker::TriangleUp => {
                self.polygon(&[(x, y - 1.2 * r), (x + r, y + 0.7 * r), (x - r, y + 0.7 * r)], color)
            }
            Marker::TriangleDown => {
                self.polygon(&[(x, y + 1.2 * r), (x + r, y - 0.7 * r), (x - r, y - 0.7 * r)], color)
            }
            Marker::Diamond => {
                self.polygon(&[(x, y - 1.25 * r), (x + r, y), (x, y + 1.25 * r), (x - r, y)], color)
            }
            Marker::Cross => {
                let h = r * 0.9;
                self.line((x - h, y - h), (x + h, y + h), color, 2.0)?;
                self.line((x - h, y + h), (x + h, y - h), color, 2.0)
            }
            Marker::Plus => {
                self.line((x - r, y), (x + r, y), color, 2.0)?;
                self.line((x, y - r), (x, y + r), color, 2.0)
            }
        }
    }

    /// Draws `text` at `at`, aligned by `font`.
    pub fn text(&self, text: &str, at: Point, font: &Font) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        // From the anchor to the baseline, across the text.
        let to_baseline = match font.v {
            VAlign::Top => font::ASCENT * font.size,
            VAlign::Middle => font::CAP_HEIGHT * font.size / 2.0,
            VAlign::Bottom => -font::DESCENT * font.size,
        };
        match self.target {
            Target::Svg => self.svg_text(text, at, to_baseline, font),
            Target::Bitmap => self.raster_text(text, at, to_baseline, font),
        }
    }

    /// Text through plotters' SVG backend, which writes a `<text>` element hanging 0.76 em
    /// below its anchor and sized in ems; the anchor is moved so that the baseline lands
    /// `to_baseline` below `at`.
    fn svg_text(&self, text: &str, at: Point, to_baseline: f64, font: &Font) -> Result<()> {
        // Plotters writes a CSS font size of size / 1.24; we want one em of the font.
        let backend_size = font.size * font::EM * 1.24;
        let shift = to_baseline - 0.76 * font::EM * font.size;
        let anchor = if font.vertical { (at.0 + shift, at.1) } else { (at.0, at.1 + shift) };
        let h = match font.h {
            HAlign::Left => HPos::Left,
            HAlign::Center => HPos::Center,
            HAlign::Right => HPos::Right,
        };
        let style: TextStyle<'_> = (font::FAMILY, backend_size * self.scale)
            .into_font()
            .color(&font.color)
            .pos(Pos::new(h, VPos::Top));
        let style = if font.vertical { style.transform(FontTransform::Rotate270) } else { style };
        drawn(self.area.draw_text(text, &style, self.px(anchor)))
    }

    /// Text rasterised here with ab_glyph, pixel by pixel with its coverage as opacity.
    ///
    /// Plotters' own bitmap text (0.3.7) places each glyph's bounding box at the pen position,
    /// dropping the glyph's left side bearing, so that spacing goes uneven ("MNISTMLP"); here
    /// each glyph is outlined at its pen position and drawn where the outline says.
    fn raster_text(&self, text: &str, at: Point, to_baseline: f64, font: &Font) -> Result<()> {
        let face = font::face()?;
        let size = font.size * self.scale;
        let (glyphs, advance) = font::layout(face, text, size);
        let start = match font.h {
            HAlign::Left => 0.0,
            HAlign::Center => -f64::from(advance) / 2.0,
            HAlign::Right => -f64::from(advance),
        };
        let (ox, oy) = self.px(at);
        let baseline = to_baseline * self.scale;
        let scaled = face.as_scaled(PxScale::from(size as f32));

        for (id, pen) in glyphs {
            let position = point((start + f64::from(pen)) as f32, baseline as f32);
            let Some(outline) =
                scaled.outline_glyph(id.with_scale_and_position(scaled.scale(), position))
            else {
                continue; // a space
            };
            let corner = outline.px_bounds().min;
            let mut result = Ok(());
            outline.draw(|gx, gy, coverage| {
                // Along and across the text, in pixels from the anchor.
                let (along, across) = (corner.x as i32 + gx as i32, corner.y as i32 + gy as i32);
                let (dx, dy) = if font.vertical { (across, -along) } else { (along, across) };
                if result.is_ok() && coverage > 0.0 {
                    let color = font.color.mix(f64::from(coverage.min(1.0)));
                    result = drawn(self.area.draw_pixel((ox + dx, oy + dy), &color));
                }
            });
            result?;
        }
        Ok(())
    }
}

/// A plotters result as an `anyhow` one.
fn drawn<E: Display>(result: Result<(), E>) -> Result<()> {
    result.map_err(|e| anyhow!("cannot draw: {e}"))
}
