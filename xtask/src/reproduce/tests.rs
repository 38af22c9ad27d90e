//! Every figure at `--scale smoke`, end to end, with its outputs checked: the plots exist and
//! are PNG/SVG, the tables parse, Kendall τ lies in [−1, 1], every SD in [0, d], the toy's box
//! dimension below 2; and a rerun takes everything from the cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{run, Args, Scale, Which};

fn smoke(figure: Which, out: &Path) -> PathBuf {
    let args =
        Args { figure, scale: Scale::Smoke, data_dir: None, out: out.to_path_buf(), jobs: 2 };
    run(&args).unwrap().remove(0)
}

/// A CSV written by `Table::csv` as maps from column name to field.
fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{}: {l}", path.display());
            header.iter().cloned().zip(fields.iter().map(|f| f.to_string())).collect()
        })
        .collect()
}

fn number(row: &BTreeMap<String, String>, column: &str) -> Option<f64> {
    let field = row.get(column).unwrap_or_else(|| panic!("no column {column} in {row:?}"));
    (!field.is_empty()).then(|| field.parse().unwrap_or_else(|_| panic!("{column} = {field}")))
}

fn check_plots(dir: &Path, figure: &str) {
    let png = std::fs::read(dir.join(format!("{figure}.png"))).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "{figure}.png");
    let svg = std::fs::read_to_string(dir.join(format!("{figure}.svg"))).unwrap();
    assert!(svg.contains("<svg") && svg.contains("Scale smoke"), "{figure}.svg");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("## Findings") && report.contains("## Time per stage"), "{report}");
    assert!(dir.join("settings.toml").exists());
}

fn check_correlations(path: &Path) {
    let rows = read_csv(path);
    assert!(!rows.is_empty());
    for row in &rows {
        for (column, field) in row {
            if column == "kendall_tau"
                || column.starts_with("psi_")
                || column == "average_granulated"
            {
                if let Some(t) = (!field.is_empty()).then(|| field.parse::<f64>().unwrap()) {
                    assert!((-1.0..=1.0).contains(&t), "{column} = {t} in {row:?}");
                }
            }
        }
    }
    // τ is defined for the measures of the smoke grid, not only n/a.
    assert!(rows.iter().any(|r| number(r, "kendall_tau").is_some()));
}

fn check_grid(figure: Which, name: &str, d: f64, sds: &[&str]) {
    let out = tempfile::tempdir().unwrap();
    let dir = smoke(figure, out.path());
    check_plots(&dir, name);
    check_correlations(&dir.join("correlations.csv"));
    let models = read_csv(&dir.join("models.csv"));
    assert_eq!(models.len(), 9);
    for row in &models {
        let gap = number(row, "acc_gap").unwrap();
        assert!((0.0..=1.0).contains(&gap), "{row:?}");
        for sd in sds {
            if let Some(v) = number(row, sd) {
                assert!((0.0..=d).contains(&v), "{sd} = {v} in {row:?}");
            }
        }
    }
    assert!(models.iter().any(|r| number(r, sds[0]).is_some()), "every model lacks {}", sds[0]);
}

#[test]
fn fig2_smoke() {
    check_grid(Which::Fig2, "fig2", 1_200.0, &["SD exact", "SD-SLQ", "SD-KDE"]);
}

#[test]
fn fig3_smoke() {
    check_grid(Which::Fig3, "fig3", 4_960.0, &["SD-SLQ", "SD-KDE"]);
}

fn check_grokking(figure: Which, name: &str, d: f64) {
    let out = tempfile::tempdir().unwrap();
    let dir = smoke(figure, out.path());
    check_plots(&dir, name);
    let rows = read_csv(&dir.join("checkpoints.csv"));
    assert_eq!(rows.len(), 2 * 6, "2 runs × 6 checkpoints");
    for row in &rows {
        let acc = number(row, "test_acc").unwrap();
        assert!((0.0..=1.0).contains(&acc));
        let sd = number(row, "SD-SLQ").unwrap();
        assert!((0.0..=d).contains(&sd), "SD {sd}");
        assert!(number(row, "trace").is_some() && number(row, "E_α").unwrap() > 0.0);
    }
    let matrix = read_csv(&dir.join("correlation-matrix.csv"));
    for row in &matrix {
        for (column, field) in row.iter().filter(|(c, _)| c.as_str() != "τ") {
            if !field.is_empty() {
                let t: f64 = field.parse().unwrap();
                assert!((-1.0..=1.0).contains(&t), "{column}: {t}");
            }
        }
    }
    // The diagonal is τ of a measure with itself.
    assert_eq!(number(&matrix[0], "SD-SLQ"), Some(1.0));
}

#[test]
fn fig4_smoke() {
    check_grokking(Which::Fig4, "fig4", (194 * 32 + 32 + 32 * 97 + 97) as f64);
}

#[test]
fn fig7_smoke() {
    check_grokking(Which::Fig7, "fig7", (194 * 32 + 32 + 32 * 32 + 32 + 32 * 97 + 97) as f64);
}

#[test]
fn fig6_smoke_and_rerun_from_cache() {
    let out = tempfile::tempdir().unwrap();
    let dir = smoke(Which::Fig6, out.path());
    check_plots(&dir, "fig6");
    let rows = read_csv(&dir.join("dimensions.csv"));
    let value = |name: &str| {
        rows.iter()
            .find(|r| r["quantity"].starts_with(name))
            .and_then(|r| number(r, "value"))
            .unwrap()
    };
    let boxes = value("box-counting dimension");
    assert!(boxes > 0.0 && boxes < 2.0, "box dimension {boxes}");
    let sd = value("SD (sup");
    assert!((0.0..=2.0).contains(&sd), "SD {sd}");

    // A second run computes nothing.
    let before = std::fs::read_to_string(dir.join("dimensions.csv")).unwrap();
    smoke(Which::Fig6, out.path());
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("| toy-simulate | 1 | 0 | 1 |"), "{report}");
    assert_eq!(std::fs::read_to_string(dir.join("dimensions.csv")).unwrap(), before);
}

#[test]
fn paper_scale_refuses_without_full_mnist() {
    let out = tempfile::tempdir().unwrap();
    let args = |data_dir: Option<PathBuf>| Args {
        figure: Which::Fig3,
        scale: Scale::Paper,
        data_dir,
        out: out.path().to_path_buf(),
        jobs: 1,
    };
    let err = format!("{:#}", run(&args(None)).unwrap_err());
    assert!(err.contains("--scale paper trains on full MNIST: pass --data-dir DIR"), "{err}");
    let missing = out.path().join("no-mnist-here");
    let err = format!("{:#}", run(&args(Some(missing.clone()))).unwrap_err());
    assert!(err.contains(&missing.display().to_string()) && err.contains("MNIST"), "{err}");
    assert!(!out.path().join("fig3").exists(), "nothing is written before the data is found");
}
