//! Tests of whole figures: both files are written, the PNG has the layout's size and really
//! holds drawings and text, the SVG holds every label, and bad panels are named in errors.
//!
//! Set `XTASK_PLOT_SAMPLE=/some/stem` to also write the sample figure to `/some/stem.svg` and
//! `/some/stem.png`, to look at.

use std::path::{Path, PathBuf};

use super::figure::{wrap, Layout, PNG_SCALE};
use super::*;

/// A figure with one panel of each kind, in the paper's vocabulary.
fn sample() -> Figure {
    Figure {
        title: "Sample: sharpness, Kendall τ and particles".to_string(),
        caption: vec![
            "Settings: MLP 784-512-512-10 (ReLU), SGD without momentum, batch 128, \
             η ∈ {0.01, 0.02, 0.05}, 5 epochs, seed 0."
                .to_string(),
            "λ₁ from 20 Lanczos steps every 50 steps; bound with δ = 0.05, ζ = 0.1, L ≤ 1. \
             This line is long on purpose, so that it wraps to the figure's width: α, ψ, τ, η \
             and λ₁ must all render."
                .to_string(),
        ],
        columns: 2,
        panels: vec![
            Panel::Axes(sharpness()),
            Panel::Bars(kendall()),
            Panel::Heatmap(granulated()),
            Panel::Density(particles()),
        ],
    }
}

fn sharpness() -> Axes {
    let curve = |eta: f64| -> Vec<(f64, f64)> {
        (0..=40)
            .map(|k| {
                let step = f64::from(k) * 50.0;
                let rise = 1.0 - (-step / 300.0).exp();
                (step, 2.0 / eta * rise * (1.0 + 0.03 * (step / 40.0).sin()) + 1.0)
            })
            .collect()
    };
    let series = |label: &str, eta: f64, style: Style| Series {
        label: label.to_string(),
        points: curve(eta),
        style,
    };
    let mut with_gap = series("η = 0.05", 0.05, Style::LinePoints);
    with_gap.points[20].1 = f64::NAN;
    Axes {
        title: "Sharpness λ₁ along training".to_string(),
        x_label: "step".to_string(),
        y_label: "λ₁ (top Hessian eigenvalue)".to_string(),
        y_log: true,
        series: vec![
            series("η = 0.01", 0.01, Style::Line),
            series("η = 0.02", 0.02, Style::Line),
            with_gap,
            Series {
                label: "2/η".to_string(),
                points: vec![(2000.0, 200.0), (2000.0, 100.0), (2000.0, 40.0)],
                style: Style::Points,
            },
        ],
        ..Axes::default()
    }
}

fn kendall() -> Bars {
    let names = ["SD exact", "SD-SLQ", "SD-KDE", "PH-dim", "E_α"];
    Bars {
        title: "Kendall τ with the generalization gap".to_string(),
        y_label: "Kendall τ".to_string(),
        categories: names.iter().map(|s| s.to_string()).collect(),
        groups: vec![
            (
                "MNIST MLP".to_string(),
                vec![Some(0.62), Some(0.55), Some(0.48), Some(0.31), Some(0.12)],
            ),
            (
                "modular addition".to_string(),
                vec![Some(0.71), None, Some(0.40), Some(-0.05), Some(0.2)],
            ),
            (
                "Gaussian mixture".to_string(),
                vec![Some(0.44), Some(0.41), Some(-0.18), None, Some(0.09)],
            ),
        ],
        y_range: None,
    }
}

fn granulated() -> Heatmap {
    Heatmap {
        title: "Granulated Kendall ψ".to_string(),
        row_labels: ["η", "batch size", "width", "depth"].map(String::from).to_vec(),
        col_labels: ["SD", "SD-SLQ", "PH-dim", "α-weighted"].map(String::from).to_vec(),
        values: vec![
            vec![Some(0.8765), Some(0.71), Some(0.33), Some(-0.12)],
            vec![Some(0.52), Some(0.49), None, Some(0.05)],
            vec![Some(-0.41), Some(-0.38), Some(0.11), Some(0.27)],
            vec![Some(0.05), Some(0.0), Some(-0.92), Some(0.66)],
        ],
        range: (-1.0, 1.0),
        annotate: true,
    }
}

/// 600,000 particles on a ring, binned on a 120 × 160 grid, made without randomness.
fn particles() -> Density {
    let (rows, cols) = (120, 160);
    let (x_range, y_range) = ((-2.0, 2.0), (-1.5, 1.5));
    let mut weights = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for c in 0..cols {
            let x = -2.0 + 4.0 * (c as f64 + 0.5) / cols as f64;
            let y = -1.5 + 3.0 * (r as f64 + 0.5) / rows as f64;
            let ring = ((x * x / 1.6 + y * y).sqrt() - 1.0) / 0.12;
            weights.push((-ring * ring).exp() * (1.2 + (3.0 * x).cos()));
        }
    }
    let total: f64 = weights.iter().sum();
    let counts = weights.iter().map(|w| (600_000.0 * w / total).floor() as u32).collect();
    Density {
        title: "Particles after 10⁴ steps".to_string(),
        x_label: "w₁".to_string(),
        y_label: "w₂".to_string(),
        counts,
        rows,
        cols,
        x_range,
        y_range,
        log_counts: true,
    }
}

/// A decoded RGB image.
struct Image {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Image {
    fn read(path: &Path) -> Image {
        let bytes = std::fs::read(path).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut rgb = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut rgb).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        rgb.truncate(info.buffer_size());
        Image { width: info.width as usize, height: info.height as usize, rgb }
    }

    /// How many pixels in rows `y0..y1` and columns `x0..x1` satisfy `test`.
    fn count(
        &self,
        (x0, x1): (usize, usize),
        (y0, y1): (usize, usize),
        test: impl Fn(&[u8]) -> bool,
    ) -> usize {
        (y0..y1.min(self.height))
            .flat_map(|y| (x0..x1.min(self.width)).map(move |x| (x, y)))
            .filter(|&(x, y)| test(&self.rgb[3 * (y * self.width + x)..][..3]))
            .count()
    }
}

fn not_white(p: &[u8]) -> bool {
    p.iter().any(|&c| c < 250)
}

fn dark(p: &[u8]) -> bool {
    p.iter().all(|&c| c < 128)
}

/// The width and height in a PNG's IHDR chunk, which follows the 8-byte signature.
fn ihdr(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    (be(16), be(20))
}

#[test]
fn every_panel_kind_renders_to_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let figure = sample();
    if let Ok(stem) = std::env::var("XTASK_PLOT_SAMPLE") {
        render(&figure, Path::new(&stem)).unwrap();
    }
    let (svg, png) = render(&figure, &dir.path().join("figures/sample")).unwrap();
    assert_eq!(svg, dir.path().join("figures/sample.svg"));
    assert_eq!(png, dir.path().join("figures/sample.png"));
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir.path().join("figures")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files, [png.clone(), svg.clone()], "no temporary file is left");

    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let layout = Layout::new(&figure);
    let (w, h) = ihdr(&bytes);
    assert_eq!((w, h), layout.pixels(PNG_SCALE));
    assert!(w >= 2 * 560 && h >= 2 * 420, "{w} × {h}");

    let image = Image::read(&png);
    assert_eq!((image.width, image.height), (w as usize, h as usize));
    for i in 0..figure.panels.len() {
        let (x, y) = layout.panel_origin(i);
        let (x0, y0) = ((x * PNG_SCALE) as usize, (y * PNG_SCALE) as usize);
        let (pw, ph) = ((560.0 * PNG_SCALE) as usize, (420.0 * PNG_SCALE) as usize);
        let inked = image.count((x0, x0 + pw), (y0, y0 + ph), not_white);
        assert!(inked > pw * ph / 20, "panel {} is nearly blank: {inked} pixels", i + 1);
    }
    let caption_top = (layout.caption_top * PNG_SCALE) as usize;
    let caption_ink = image.count((0, image.width), (caption_top, image.height), dark);
    assert!(caption_ink > 2000, "the caption shows {caption_ink} dark pixels");

    let svg = std::fs::read_to_string(&svg).unwrap();
    let expected = [
        "Sample: sharpness, Kendall τ and particles",
        "Sharpness λ₁ along training",
        "λ₁ (top Hessian eigenvalue)",
        "\nstep\n</text>",
        "η = 0.02",
        "2/η",
        "Kendall τ with the generalization gap",
        "modular addition",
        "n/a",
        "SD-KDE",
        "E_α",
        "α-weighted",
        "batch size",
        "w₁",
        "w₂",
        "count (log scale)",
        "batch 128",
        "ζ = 0.1, L ≤ 1",
        "\n100\n</text>",
    ];
    for text in expected {
        assert!(svg.contains(text), "the SVG lacks {text:?}");
    }
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "the SVG has a broken number");
}

#[test]
fn heatmap_values_are_written_in_their_cells() {
    let dir = tempfile::tempdir().unwrap();
    let figure =
        Figure { columns: 1, panels: vec![Panel::Heatmap(granulated())], ..Figure::default() };
    let (svg, _) = render(&figure, &dir.path().join("heatmap")).unwrap();
    let svg = std::fs::read_to_string(svg).unwrap();
    for value in ["0.88", "-0.92", "0.00", "n/a"] {
        assert!(svg.contains(&format!("{value}\n</text>")), "no cell reads {value}");
    }

    let quiet = Heatmap { annotate: false, ..granulated() };
    let figure = Figure { columns: 1, panels: vec![Panel::Heatmap(quiet)], ..Figure::default() };
    let (svg, _) = render(&figure, &dir.path().join("quiet")).unwrap();
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(!svg.contains("0.88") && svg.contains("n/a"));
}

/// Renders a figure whose second panel is `bad`, expecting an error; checks that nothing was
/// written and returns the message.
fn error_of(bad: Panel) -> String {
    let dir = tempfile::tempdir().unwrap();
    let figure =
        Figure { columns: 2, panels: vec![Panel::Heatmap(granulated()), bad], ..Figure::default() };
    let message = format!("{:#}", render(&figure, &dir.path().join("bad")).unwrap_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{message}: files were written");
    message
}

#[test]
fn bad_panels_are_named_in_errors() {
    let empty = Axes {
        title: "Empty curves".to_string(),
        series: vec![
            Series::default(),
            Series { points: vec![(f64::NAN, 1.0)], ..Series::default() },
        ],
        ..Axes::default()
    };
    let message = error_of(Panel::Axes(empty));
    assert!(message.contains("panel 2") && message.contains("Empty curves"), "{message}");
    assert!(message.contains("no series has a point"), "{message}");

    let nan_range =
        Axes { title: "NaN range".to_string(), x_range: Some((f64::NAN, 1.0)), ..sharpness() };
    let message = error_of(Panel::Axes(nan_range));
    assert!(message.contains("NaN range") && message.contains("x_range"), "{message}");

    let negative_log =
        Axes { title: "Log of negatives".to_string(), y_range: Some((-1.0, 1.0)), ..sharpness() };
    assert!(error_of(Panel::Axes(negative_log)).contains("logarithmic"));

    let mismatched = Density { title: "Wrong grid".to_string(), rows: 7, ..particles() };
    let message = error_of(Panel::Density(mismatched));
    assert!(
        message.contains("Wrong grid") && message.contains("19200 counts for 7 rows × 160 columns"),
        "{message}"
    );

    let mut ragged = Heatmap { title: "Ragged".to_string(), ..granulated() };
    ragged.values[2].pop();
    let message = error_of(Panel::Heatmap(ragged));
    assert!(
        message.contains("Ragged") && message.contains("row \"width\" has 3 values"),
        "{message}"
    );

    let unbounded =
        Heatmap { title: "Unbounded".to_string(), range: (0.0, f64::INFINITY), ..granulated() };
    assert!(error_of(Panel::Heatmap(unbounded)).contains("range (0, inf)"));

    let mut short = Bars { title: "Short group".to_string(), ..kendall() };
    short.groups[1].1.pop();
    let message = error_of(Panel::Bars(short));
    assert!(
        message.contains("Short group") && message.contains("\"modular addition\" has 4 values"),
        "{message}"
    );

    let missing = Bars {
        title: "No values".to_string(),
        groups: vec![("a".to_string(), vec![None, Some(f64::NAN)])],
        categories: vec!["x".to_string(), "y".to_string()],
        ..Bars::default()
    };
    assert!(error_of(Panel::Bars(missing)).contains("No values"));

    let dir = tempfile::tempdir().unwrap();
    let no_columns = Figure { columns: 0, ..sample() };
    assert!(render(&no_columns, &dir.path().join("x"))
        .unwrap_err()
        .to_string()
        .contains("columns"));
}

#[test]
fn degenerate_but_valid_panels_still_draw() {
    let single = Axes {
        title: "One point".to_string(),
        series: vec![Series {
            label: "only".to_string(),
            points: vec![(3.0, 0.0)],
            style: Style::Line,
        }],
        ..Axes::default()
    };
    let flat = Axes {
        title: "Flat on log axes".to_string(),
        x_log: true,
        y_log: true,
        series: vec![Series {
            label: "constant".to_string(),
            points: vec![(1.0, 5.0), (10.0, 5.0), (100.0, 5.0)],
            style: Style::LinePoints,
        }],
        ..Axes::default()
    };
    let zeros = Bars {
        title: "All zero".to_string(),
        categories: vec!["a".to_string()],
        groups: vec![(String::new(), vec![Some(0.0)])],
        ..Bars::default()
    };
    let empty = Density {
        title: "Nothing binned".to_string(),
        counts: vec![0; 4],
        rows: 2,
        cols: 2,
        x_range: (0.0, 1.0),
        y_range: (0.0, 1.0),
        ..Density::default()
    };
    let figure = Figure {
        title: String::new(),
        caption: Vec::new(),
        columns: 3,
        panels: vec![
            Panel::Axes(single),
            Panel::Axes(flat),
            Panel::Bars(zeros),
            Panel::Density(empty),
        ],
    };
    if let Ok(stem) = std::env::var("XTASK_PLOT_SAMPLE") {
        render(&figure, Path::new(&format!("{stem}-degenerate"))).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let (svg, png) = render(&figure, &dir.path().join("degenerate")).unwrap();
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.contains("One point") && svg.contains("every bin is empty"));
    assert!(!svg.contains("NaN"));
    let image = Image::read(&png);
    assert!(image.count((0, image.width), (0, image.height), not_white) > 10_000);
}

#[test]
fn captions_wrap_to_the_width() {
    font::register().unwrap();
    let text = "one two three four five six seven eight nine ten eleven twelve";
    let lines = wrap(text, 16.0, 150.0);
    assert!(lines.len() > 2, "{lines:?}");
    assert!(lines.iter().all(|l| font::width(l, 16.0) <= 150.0), "{lines:?}");
    assert_eq!(lines.join(" "), text);

    let long_word = "x".repeat(200);
    let cut = wrap(&long_word, 16.0, 150.0);
    assert!(cut.len() > 2 && cut.concat() == long_word);
    assert_eq!(wrap("", 16.0, 150.0), [""]);
}

/// A figure that crowds every panel: many series, decades of range, long labels, many cells.
fn crowded() -> Figure {
    let series = (0..9)
        .map(|i| Series {
            label: format!("run {i}: η = {}", 0.01 * f64::from(i + 1)),
            points: (1..=60)
                .map(|k| {
                    let x = 10f64.powf(f64::from(k) / 10.0);
                    (x, 10f64.powf(-6.0 + f64::from(i) * 0.3) * x.powf(1.0 + 0.1 * f64::from(i)))
                })
                .collect(),
            style: if i % 3 == 0 { Style::Points } else { Style::Line },
        })
        .collect();
    let curves = Axes {
        title:
            "Nine runs on log–log axes, with a title long enough to need shrinking to fit the panel"
                .to_string(),
        x_label: "step".to_string(),
        y_label: "loss".to_string(),
        x_log: true,
        y_log: true,
        series,
        ..Axes::default()
    };
    let categories: Vec<String> = (0..12).map(|i| format!("configuration {i}")).collect();
    let bars = Bars {
        title: "Many long categories".to_string(),
        y_label: "value".to_string(),
        groups: (0..4)
            .map(|g| {
                (
                    format!("group {g}"),
                    (0..12).map(|c| Some(f64::from(c * (g + 1)) - 10.0)).collect(),
                )
            })
            .collect(),
        categories,
        y_range: Some((-20.0, 40.0)),
    };
    let labels =
        |n: usize, prefix: &str| (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>();
    let heatmap = Heatmap {
        title: "30 × 30 cells".to_string(),
        row_labels: labels(30, "r"),
        col_labels: labels(30, "c"),
        values: (0..30).map(|r| (0..30).map(|c| Some(((r * c) as f64).sin())).collect()).collect(),
        range: (-1.0, 1.0),
        annotate: true,
    };
    let linear = Density { title: "Linear counts".to_string(), log_counts: false, ..particles() };
    Figure {
        title: "Crowded".to_string(),
        caption: vec!["short caption".to_string()],
        columns: 3,
        panels: vec![
            Panel::Axes(curves),
            Panel::Bars(bars),
            Panel::Heatmap(heatmap),
            Panel::Density(linear),
        ],
    }
}

#[test]
fn crowded_panels_still_render() {
    let dir = tempfile::tempdir().unwrap();
    let figure = crowded();
    if let Ok(stem) = std::env::var("XTASK_PLOT_SAMPLE") {
        render(&figure, Path::new(&format!("{stem}-crowded"))).unwrap();
    }
    let (svg, png) = render(&figure, &dir.path().join("crowded")).unwrap();
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(
        svg.contains("10⁻⁶") && svg.contains("run 8: η = 0.09") && svg.contains("configuration 11")
    );
    assert!(!svg.contains("-0.99\n</text>"), "cells too small for their values are not annotated");
    let image = Image::read(&png);
    let (w, h) = Layout::new(&figure).pixels(PNG_SCALE);
    assert_eq!((image.width, image.height), (w as usize, h as usize));
}
