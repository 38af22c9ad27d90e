//! The typeface of every figure: DejaVu Sans, shipped in `xtask/assets` (with its licence) and
//! compiled into the binary, so that PNGs get their text on machines without any font.
//!
//! Text sizes in this module are *line heights* in design pixels: a size-`s` text spans `s`
//! from its ascent line to its descent line. That is what ab_glyph (and plotters' bitmap
//! backend) call the size; the canvas converts it for the SVG backend, which writes CSS font
//! sizes (ems).
//!
//! The font is registered with plotters, so that anything plotters measures or draws uses it,
//! and parsed here for our own measuring and rasterising (see `canvas.rs` for why).

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont};
use anyhow::{anyhow, ensure, Result};
use plotters::style::{register_font, FontStyle};

/// The font file, embedded at compile time.
const DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The name the font is registered under. Plotters writes a family name verbatim as the SVG
/// `font-family`, so this one doubles as a CSS fallback list: viewers with DejaVu Sans show the
/// PNG's glyphs, others their own sans-serif.
pub const FAMILY: &str = "DejaVu Sans, sans-serif";

/// DejaVu Sans's ascent (1901 font units) and descent (483) add up to the line height.
const LINE_UNITS: f64 = 1901.0 + 483.0;

/// From the ascent line to the baseline, as a fraction of the line height.
pub const ASCENT: f64 = 1901.0 / LINE_UNITS;

/// From the baseline to the descent line, as a fraction of the line height.
pub const DESCENT: f64 = 483.0 / LINE_UNITS;

/// The height of capitals and digits above the baseline, as a fraction of the line height.
pub const CAP_HEIGHT: f64 = 1493.0 / LINE_UNITS;

/// One em (2048 font units), as a fraction of the line height.
pub const EM: f64 = 2048.0 / LINE_UNITS;

/// Registers the embedded font with plotters under [`FAMILY`], once per process, so that
/// anything plotters itself measures or draws with that family uses it (the canvas rasterises
/// bitmap text on its own, and names the family in SVGs).
pub fn register() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    ensure!(ok, "the embedded DejaVu Sans font cannot be read");
    Ok(())
}

/// The parsed font.
pub fn face() -> Result<&'static FontRef<'static>> {
    static FACE: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    let face = FACE.get_or_init(|| FontRef::try_from_slice(DEJAVU_SANS).ok());
    face.as_ref().ok_or_else(|| anyhow!("the embedded DejaVu Sans font cannot be read"))
}

/// The glyphs of `text` at line height `size` (in whatever pixels `size` is in), each with
/// its pen position along the baseline (advances and kerning applied), and the total advance.
pub fn layout(face: &FontRef<'static>, text: &str, size: f64) -> (Vec<(GlyphId, f32)>, f32) {
    let scaled = face.as_scaled(PxScale::from(size as f32));
    let mut pen = 0.0;
    let mut previous: Option<GlyphId> = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(before) = previous {
            pen += scaled.kern(before, id);
        }
        glyphs.push((id, pen));
        pen += scaled.h_advance(id);
        previous = Some(id);
    }
    (glyphs, pen)
}

/// The advance width of `text` at line height `size`, in the same units as `size`. Before the
/// font can be read it falls back to an estimate, so it never fails.
pub fn width(text: &str, size: f64) -> f64 {
    match face() {
        Ok(face) => f64::from(layout(face, text, size).1),
        Err(_) => text.chars().count() as f64 * size * 0.55,
    }
}

/// The largest size up to `size` at which `text` fits in `max_width`, but not under `min`.
pub fn fit(text: &str, size: f64, max_width: f64, min: f64) -> f64 {
    let w = width(text, size);
    if w <= max_width || w <= 0.0 {
        size
    } else {
        (size * max_width / w).max(min)
    }
}
