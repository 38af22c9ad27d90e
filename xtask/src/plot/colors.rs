//! Colours and markers: the series palette (Okabe and Ito's colour-blind-safe set), marker
//! shapes, and the diverging and sequential colour maps.

use plotters::style::RGBColor;

/// Text, axes and tick marks.
pub const INK: RGBColor = RGBColor(25, 25, 25);

/// Secondary text: captions and "n/a" marks.
pub const MUTED: RGBColor = RGBColor(80, 80, 80);

/// Grid lines.
pub const GRID: RGBColor = RGBColor(228, 228, 228);

/// Legend borders and separators.
pub const FRAME: RGBColor = RGBColor(170, 170, 170);

/// Cells without a value.
pub const MISSING: RGBColor = RGBColor(200, 200, 200);

/// The background.
pub const PAPER: RGBColor = RGBColor(255, 255, 255);

/// Series colours in order: Okabe and Ito's palette, with the yellow (weak on white) last.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermilion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// The colour of series (or bar group) `i`, cycling through the palette.
pub fn series(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A marker shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// A filled disc.
    Circle,
    /// A filled square.
    Square,
    /// A filled triangle pointing up.
    TriangleUp,
    /// A filled diamond.
    Diamond,
    /// A filled triangle pointing down.
    TriangleDown,
    /// An × of two strokes.
    Cross,
    /// A + of two strokes.
    Plus,
}

/// The marker of series `i`. The cycle length (7) is prime to the palette's (8), so that
/// colour and shape repeat together only after 56 series.
pub fn marker(i: usize) -> Marker {
    const MARKERS: [Marker; 7] = [
        Marker::Circle,
        Marker::Square,
        Marker::TriangleUp,
        Marker::Diamond,
        Marker::TriangleDown,
        Marker::Cross,
        Marker::Plus,
    ];
    MARKERS[i % MARKERS.len()]
}

/// Blue (−) to white to red (+), for signed values such as correlations.
const DIVERGING: [RGBColor; 5] = [
    RGBColor(33, 102, 172),
    RGBColor(103, 169, 207),
    RGBColor(247, 247, 247),
    RGBColor(239, 138, 98),
    RGBColor(178, 24, 43),
];

/// Dark purple through teal to yellow, monotone in lightness, for counts.
const SEQUENTIAL: [RGBColor; 5] = [
    RGBColor(68, 1, 84),
    RGBColor(59, 82, 139),
    RGBColor(33, 145, 140),
    RGBColor(94, 201, 98),
    RGBColor(253, 231, 37),
];

/// The diverging map at `t` in [0, 1] (clamped); 0.5 is white.
pub fn diverging(t: f64) -> RGBColor {
    interpolate(&DIVERGING, t)
}

/// The sequential map at `t` in [0, 1] (clamped); 0 is darkest.
pub fn sequential(t: f64) -> RGBColor {
    interpolate(&SEQUENTIAL, t)
}

/// Piecewise-linear interpolation between evenly spaced anchor colours.
fn interpolate(anchors: &[RGBColor], t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.5 } else { t.clamp(0.0, 1.0) };
    let pos = t * (anchors.len() - 1) as f64;
    let i = (pos.floor() as usize).min(anchors.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (anchors[i], anchors[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + f * (f64::from(y) - f64::from(x))).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether text on `background` should be white rather than black (relative luminance, with
/// the sRGB channels weighted as in Rec. 709).
pub fn is_dark(background: RGBColor) -> bool {
    let RGBColor(r, g, b) = background;
    let luminance = 0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b);
    luminance < 128.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_hit_their_anchors_and_clamp() {
        assert_eq!(diverging(0.5), DIVERGING[2]);
        assert_eq!(diverging(-3.0), DIVERGING[0]);
        assert_eq!(sequential(1.0), SEQUENTIAL[4]);
        assert_eq!(sequential(f64::INFINITY), SEQUENTIAL[4]);
        assert!(is_dark(sequential(0.0)) && !is_dark(sequential(1.0)));
    }

    #[test]
    fn series_get_distinct_looks() {
        for i in 0..20 {
            assert!(series(i) != series(i + 1) || marker(i) != marker(i + 1));
        }
    }
}
