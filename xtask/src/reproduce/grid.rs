//! Figures 2 and 3: a grid of learning rates η × batch sizes b, one trained MLP per cell, every
//! measure of the cell's trained weights, and how each measure ranks the cells' generalization
//! gaps (Kendall τ and granulated Kendall).
//!
//! Per cell: train → (dense spectrum → exact SD and λ₁) → SLQ spectrum → SD-SLQ, SD-KDE,
//! classical sharpness; backward window (recorded in training) and forward window (simulated
//! from the trained weights) → PH-dim and E_α under the Euclidean metric and the ρ metric.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use gates_bound::report::BoundSettings;
use gates_bound::topology::PhDimParams;
use gates_bound::window::WindowMetric;
use gates_dynamics::TrainConfig;
use gates_models::data::DataSpec;
use gates_spectral::hessian::{BatchChoice, CheckpointChoice, MethodRequest, SpectrumRequest};
use serde::Serialize;

use super::stats::{self, Correlation};
use super::table::{Cell, Table};
use super::{parallel, stages, Ctx, Findings, Scale};
use crate::plot;

/// How many SLQ runs per cell.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlqRuns {
    /// This many.
    Fixed(usize),
    /// As many as there are minibatches in this many epochs (the paper's rule for figure 3).
    Epochs(f64),
}

/// Settings of the PH-dim and E_α measures.
#[derive(Clone, Debug, Serialize)]
pub struct ComplexitySettings {
    /// Iterates in each window (backward: the last ones of training; forward: simulated on).
    pub window: u64,
    /// Training samples whose losses make the ρ metric.
    pub eval_samples: usize,
    /// Exponent α of E_α and of the PH-dim fit.
    pub alpha: f64,
    /// Smallest subset of the PH-dim fit.
    pub min_points: usize,
    /// Subset sizes of the PH-dim fit.
    pub steps: usize,
}

impl ComplexitySettings {
    /// Windows of `window` iterates, ρ on `eval_samples` samples, PH-dim fitted from
    /// `min_points` points over 10 subset sizes, α = 1.
    fn new(window: u64, eval_samples: usize, min_points: usize) -> Self {
        Self { window, eval_samples, alpha: 1.0, min_points, steps: 10 }
    }
}

/// Everything figure 2 or 3 runs.
#[derive(Clone, Debug, Serialize)]
pub struct GridSettings {
    /// `fig2` or `fig3`.
    pub figure: String,
    /// What the figure shows.
    pub title: String,
    /// The scale.
    pub scale: Scale,
    /// How this scale departs from the paper.
    pub reductions: String,
    /// The data.
    pub data: DataSpec,
    /// Training samples (for SLQ runs by epochs and time estimates).
    pub n_train: usize,
    /// MLP widths (ReLU, no bias, PyTorch initialisation with seed `seed`).
    pub widths: Vec<usize>,
    /// Epochs of plain SGD with cross-entropy.
    pub epochs: u64,
    /// The grid's learning rates.
    pub learning_rates: Vec<f64>,
    /// The grid's batch sizes.
    pub batch_sizes: Vec<usize>,
    /// Seed of initialisation, minibatch noise, spectra and probes.
    pub seed: u64,
    /// Dense minibatch Hessians for exact SD and λ₁ (none: skip exact SD).
    pub exact_minibatches: Option<usize>,
    /// SLQ runs R per cell.
    pub slq_runs: SlqRuns,
    /// Lanczos steps m per SLQ run.
    pub slq_steps: usize,
    /// Also the classical sharpness (top eigenvalue of one minibatch Hessian, by Lanczos).
    pub sharpness: bool,
    /// PH-dim and E_α.
    pub complexity: ComplexitySettings,
    /// Estimator parameters (histogram bins, KDE bandwidth, ε) and bound inputs.
    pub bound: BoundSettings,
    /// The two measures drawn against the accuracy gap.
    pub scatter: [String; 2],
}

impl GridSettings {
    /// Grid cells.
    pub fn units(&self) -> usize {
        self.learning_rates.len() * self.batch_sizes.len()
    }

    /// SLQ runs for batch size `b`.
    pub fn runs_for(&self, b: usize) -> usize {
        match self.slq_runs {
            SlqRuns::Fixed(r) => r,
            SlqRuns::Epochs(e) => ((e * (self.n_train / b) as f64).round() as usize).max(1),
        }
    }

    /// Parameters of the MLP.
    pub fn param_count(&self) -> usize {
        self.widths.windows(2).map(|w| w[0] * w[1]).sum()
    }
}

const EMBEDDED_TRAIN: usize = 8_000;
const MNIST_TRAIN: usize = 60_000;

/// Full MNIST from `--data-dir`, checked now so that a long run does not start without it.
fn paper_data(data_dir: Option<&Path>) -> Result<DataSpec> {
    let dir = data_dir.context(
        "--scale paper trains on full MNIST: pass --data-dir DIR, a folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (optionally .gz)",
    )?;
    let spec = DataSpec::Mnist { dir: dir.to_path_buf(), pool: 1 };
    spec.load().with_context(|| format!("--scale paper needs full MNIST in {}", dir.display()))?;
    Ok(spec)
}

/// Figure 2's settings: the 3-layer MLP 784-16-16-10.
pub fn fig2(scale: Scale, data_dir: Option<&Path>) -> Result<GridSettings> {
    let base = GridSettings {
        figure: "fig2".into(),
        title: "Figure 2: 3-layer MLP on MNIST, η × b grid; which measure ranks the generalization gap?".into(),
        scale,
        reductions: String::new(),
        data: DataSpec::mnist_embedded(),
        n_train: EMBEDDED_TRAIN,
        widths: vec![784, 16, 16, 10],
        epochs: 250,
        learning_rates: vec![0.025, 0.05, 0.1, 0.2, 0.4],
        batch_sizes: vec![16, 32, 64, 128, 256],
        seed: 0,
        exact_minibatches: Some(10),
        slq_runs: SlqRuns::Fixed(500),
        slq_steps: 100,
        sharpness: true,
        complexity: ComplexitySettings::new(5_000, 1_000, 200),
        bound: BoundSettings::default(),
        scatter: ["SD exact".into(), "λ₁".into()],
    };
    Ok(match scale {
        Scale::Paper => GridSettings {
            reductions: "none: the paper's model and data; η and b values, K = 10 dense minibatches and seeds are ours (the paper gives none)".into(),
            data: paper_data(data_dir)?,
            n_train: MNIST_TRAIN,
            ..base
        },
        Scale::Default => GridSettings {
            reductions: "embedded MNIST subset (8,000 training digits) pooled to 14×14, so the MLP is 196-16-16-10 (3,552 parameters) and each exact Hessian takes seconds; 20 epochs instead of 250; 4 dense minibatches; SLQ 20 runs × 50 steps; windows of 500 iterates".into(),
            data: DataSpec::MnistEmbedded { pool: 2 },
            widths: vec![196, 16, 16, 10],
            epochs: 20,
            exact_minibatches: Some(4),
            slq_runs: SlqRuns::Fixed(20),
            slq_steps: 50,
            complexity: ComplexitySettings::new(500, 500, 100),
            ..base
        },
        Scale::Smoke => GridSettings {
            reductions: "embedded MNIST pooled to 7×7 (MLP 49-16-16-10, 1,200 parameters), 3 × 3 grid, 2 epochs, 2 dense minibatches, SLQ 4 runs × 20 steps, windows of 40 iterates: checks the pipeline, not the science".into(),
            data: DataSpec::MnistEmbedded { pool: 4 },
            widths: vec![49, 16, 16, 10],
            epochs: 2,
            learning_rates: vec![0.05, 0.1, 0.2],
            batch_sizes: vec![32, 64, 128],
            exact_minibatches: Some(2),
            slq_runs: SlqRuns::Fixed(4),
            slq_steps: 20,
            complexity: ComplexitySettings::new(40, 100, 10),
            ..base
        },
    })
}

/// Figure 3's settings: the 5-layer MLP 784-200-200-200-200-10.
pub fn fig3(scale: Scale, data_dir: Option<&Path>) -> Result<GridSettings> {
    let base = GridSettings {
        figure: "fig3".into(),
        title: "Figure 3: 5-layer MLP on MNIST, η × b grid; SD estimators against PH-dim and E_α"
            .into(),
        scale,
        reductions: String::new(),
        data: DataSpec::mnist_embedded(),
        n_train: EMBEDDED_TRAIN,
        widths: vec![784, 200, 200, 200, 200, 10],
        epochs: 100,
        learning_rates: vec![0.0125, 0.025, 0.05, 0.1, 0.2],
        batch_sizes: vec![16, 32, 64, 128, 256],
        seed: 0,
        exact_minibatches: None,
        slq_runs: SlqRuns::Epochs(2.0),
        slq_steps: 100,
        sharpness: true,
        complexity: ComplexitySettings::new(5_000, 1_000, 200),
        bound: BoundSettings::default(),
        scatter: ["SD-SLQ".into(), "PH eu/B".into()],
    };
    Ok(match scale {
        Scale::Paper => GridSettings {
            reductions: "none: the paper's model, data and SLQ settings; η and b values and seeds are ours (the paper gives none)".into(),
            data: paper_data(data_dir)?,
            n_train: MNIST_TRAIN,
            ..base
        },
        Scale::Default => GridSettings {
            reductions: "embedded MNIST subset (8,000 training digits), the full 278,800-parameter MLP; 5 epochs instead of 100; SLQ 10 runs × 40 steps instead of two epochs of minibatches × 100 steps; windows of 150 iterates with 200 ρ samples".into(),
            epochs: 5,
            slq_runs: SlqRuns::Fixed(10),
            slq_steps: 40,
            complexity: ComplexitySettings::new(150, 200, 40),
            ..base
        },
        Scale::Smoke => GridSettings {
            reductions: "embedded MNIST pooled to 7×7 and a 49-32-32-32-32-10 MLP (4,960 parameters), 3 × 3 grid, 2 epochs, SLQ 4 runs × 20 steps, windows of 40 iterates: checks the pipeline, not the science".into(),
            data: DataSpec::MnistEmbedded { pool: 4 },
            widths: vec![49, 32, 32, 32, 32, 10],
            epochs: 2,
            learning_rates: vec![0.05, 0.1, 0.2],
            batch_sizes: vec![32, 64, 128],
            slq_runs: SlqRuns::Fixed(4),
            slq_steps: 20,
            complexity: ComplexitySettings::new(40, 100, 10),
            ..base
        },
    })
}

/// One trained model and its measures.
#[derive(Clone, Debug)]
struct CellResult {
    lr: f64,
    batch: usize,
    steps: u64,
    diverged: bool,
    train_accuracy: f64,
    test_accuracy: f64,
    accuracy_gap: f64,
    loss_gap: f64,
    /// (short name, value) in a fixed order; NaN when not available.
    measures: Vec<(String, f64)>,
}

fn train_config(s: &GridSettings, lr: f64, batch: usize) -> Result<TrainConfig> {
    let data = toml::to_string(&s.data)?;
    let text = format!(
        r#"dtype = "f32"
loss = "cross-entropy"
[data]
{data}
[model]
widths = {widths:?}
activation = "relu"
bias = false
init_seed = {seed}
[optimizer]
kind = "sgd"
lr = {lr}
[training]
batch_size = {batch}
epochs = {epochs}
seed = {seed}
[record]
checkpoint_count = 1
window = {window}
window_eval_samples = {eval}
"#,
        widths = s.widths,
        seed = s.seed,
        epochs = s.epochs,
        window = s.complexity.window,
        eval = s.complexity.eval_samples,
    );
    Ok(TrainConfig::from_toml(&text)?)
}

fn cell_name(lr: f64, batch: usize) -> String {
    format!("lr{lr}-b{batch}")
}

/// Runs every stage of one grid cell.
fn run_cell(ctx: &Ctx, s: &GridSettings, lr: f64, batch: usize) -> Result<CellResult> {
    let dir = ctx.dir.join("runs").join(cell_name(lr, batch));
    let t = &ctx.timings;
    let config = train_config(s, lr, batch)?;
    let (done, trained) = stages::train(t, &dir.join("train"), &config)?;
    let traj = stages::trajectory(&trained)?;
    let last = traj.evaluations.last().context("the run recorded no evaluation")?;
    let mut cell = CellResult {
        lr,
        batch,
        steps: done.steps,
        diverged: done.diverged,
        train_accuracy: last.train.accuracy,
        test_accuracy: last.test.accuracy,
        accuracy_gap: last.accuracy_gap(),
        loss_gap: last.loss_gap(),
        measures: vec![],
    };
    let names = measure_names(s);
    if done.diverged {
        cell.measures = names.into_iter().map(|n| (n, f64::NAN)).collect();
        ctx.tick(&format!("{} diverged", cell_name(lr, batch)));
        return Ok(cell);
    }
    let request = |method| SpectrumRequest {
        trajectory: trained.path.clone(),
        checkpoint: CheckpointChoice::Final,
        method,
        batch: BatchChoice::Run,
        seed: s.seed,
        trace_probes: 0,
        sharpness: false,
    };
    let mut values: BTreeMap<String, f64> = BTreeMap::new();
    if let Some(k) = s.exact_minibatches {
        let spectrum = stages::spectrum(
            t,
            &dir.join("spectrum-dense"),
            &trained,
            &request(MethodRequest::Dense { minibatches: k }),
        )?;
        let report = stages::bound(t, &dir.join("bound-dense"), &spectrum, &s.bound)?;
        let exact = report.sharpness_dimension.iter().find(|e| e.estimator == "exact");
        values.insert("SD exact".into(), exact.map_or(f64::NAN, |e| e.sd));
        values.insert("λ₁".into(), exact.and_then(|e| e.lambda1).unwrap_or(f64::NAN));
    }
    let slq = SpectrumRequest {
        sharpness: s.sharpness,
        ..request(MethodRequest::Slq { runs: s.runs_for(batch), steps: s.slq_steps })
    };
    let spectrum = stages::spectrum(t, &dir.join("spectrum-slq"), &trained, &slq)?;
    let report = stages::bound(t, &dir.join("bound-slq"), &spectrum, &s.bound)?;
    let estimate = |name: &str| {
        report.sharpness_dimension.iter().find(|e| e.estimator == name).map_or(f64::NAN, |e| e.sd)
    };
    values.insert("SD-SLQ".into(), estimate("slq"));
    values.insert("SD-KDE".into(), estimate("kde"));
    if s.exact_minibatches.is_none() {
        let lambda1 = report.sharpness_dimension.iter().find_map(|e| e.lambda1);
        values.insert("λ₁".into(), lambda1.unwrap_or(f64::NAN));
    }
    if s.sharpness {
        values.insert("sharpness".into(), report.classical_sharpness.unwrap_or(f64::NAN));
    }

    let c = &s.complexity;
    let params = PhDimParams {
        alpha: c.alpha,
        min_points: c.min_points,
        steps: c.steps,
        ..PhDimParams::default()
    };
    let bwd = stages::backward_window(&trained, &traj)?;
    let fwd = stages::forward_window(t, &dir.join("window-fwd"), &trained, None, c.window)?;
    for (window, tag) in [(&bwd, "B"), (&fwd, "F")] {
        for (metric, m) in [(WindowMetric::Euclidean, "eu"), (WindowMetric::Rho, "ρ")] {
            let stage_dir =
                dir.join(format!("complexity-{}-{}", metric.name(), tag.to_lowercase()));
            let measured = stages::complexity(t, &stage_dir, window, metric, &params)?;
            values.insert(format!("PH {m}/{tag}"), measured.ph_dim_value());
            values.insert(format!("Eα {m}/{tag}"), measured.e_alpha.value);
        }
    }
    cell.measures = names
        .into_iter()
        .map(|n| {
            let v = values.get(&n).copied().unwrap_or(f64::NAN);
            (n, v)
        })
        .collect();
    ctx.tick(&cell_name(lr, batch));
    Ok(cell)
}

/// The measures of a cell, in table and plot order.
fn measure_names(s: &GridSettings) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if s.exact_minibatches.is_some() {
        names.push("SD exact".into());
    }
    names.extend(["SD-SLQ".into(), "SD-KDE".into(), "λ₁".into()]);
    if s.sharpness {
        names.push("sharpness".into());
    }
    for measure in ["PH", "Eα"] {
        for metric in ["eu", "ρ"] {
            for window in ["B", "F"] {
                names.push(format!("{measure} {metric}/{window}"));
            }
        }
    }
    names
}

const ACC_GAP: &str = "accuracy gap";
const LOSS_GAP: &str = "loss gap";

/// Runs figure 2 or 3.
pub fn run(ctx: &Ctx, s: &GridSettings) -> Result<Findings> {
    let cells: Vec<(f64, usize)> = s
        .learning_rates
        .iter()
        .flat_map(|&lr| s.batch_sizes.iter().map(move |&b| (lr, b)))
        .collect();
    let results = parallel::map(ctx.jobs, &cells, |&(lr, b)| run_cell(ctx, s, lr, b))?;
    let names = measure_names(s);

    // Per-model table.
    let mut columns: Vec<&str> = vec![
        "lr",
        "batch_size",
        "steps",
        "diverged",
        "train_acc",
        "test_acc",
        "acc_gap",
        "loss_gap",
    ];
    columns.extend(names.iter().map(String::as_str));
    let mut models = Table::new(&columns);
    for c in &results {
        let mut row: Vec<Cell> = vec![
            c.lr.into(),
            (c.batch as f64).into(),
            (c.steps as f64).into(),
            (if c.diverged { "yes" } else { "no" }).into(),
            c.train_accuracy.into(),
            c.test_accuracy.into(),
            c.accuracy_gap.into(),
            c.loss_gap.into(),
        ];
        row.extend(c.measures.iter().map(|(_, v)| Cell::from(*v)));
        models.push(row);
    }
    models.write(&ctx.dir.join("models"))?;

    // Correlations of every measure with both gaps.
    let hyper: Vec<BTreeMap<String, f64>> = results
        .iter()
        .map(|c| BTreeMap::from([("lr".to_string(), c.lr), ("batch_size".into(), c.batch as f64)]))
        .collect();
    let acc: Vec<f64> = results.iter().map(|c| c.accuracy_gap).collect();
    let loss: Vec<f64> = results.iter().map(|c| c.loss_gap).collect();
    let mut correlations = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let values: Vec<f64> = results.iter().map(|c| c.measures[i].1).collect();
        correlations.push(stats::correlate(name, ACC_GAP, &hyper, &values, &acc)?);
        correlations.push(stats::correlate(name, LOSS_GAP, &hyper, &values, &loss)?);
    }
    stats::table(&correlations).write(&ctx.dir.join("correlations"))?;

    let stem = ctx.dir.join(&s.figure);
    plot::render(&figure(s, &names, &results, &correlations), &stem)?;

    let mut lines = findings(&correlations);
    let diverged = results.iter().filter(|c| c.diverged).count();
    lines.push(format!(
        "{} of {} models trained without diverging; test accuracy from {:.1}% to {:.1}%",
        results.len() - diverged,
        results.len(),
        100.0 * results.iter().map(|c| c.test_accuracy).fold(f64::INFINITY, f64::min),
        100.0 * results.iter().map(|c| c.test_accuracy).fold(f64::NEG_INFINITY, f64::max),
    ));
    let ph: Vec<f64> = results
        .iter()
        .filter(|c| !c.diverged)
        .flat_map(|c| c.measures.iter().filter(|(n, _)| n.starts_with("PH")).map(|(_, v)| *v))
        .collect();
    let undefined = ph.iter().filter(|v| !v.is_finite()).count();
    if undefined > 0 {
        lines.push(format!(
            "PH-dim undefined for {undefined} of {} windows (the slope of ln E_α against ln n reached 1: too few or too clustered iterates); those models are left out of its correlations",
            ph.len()
        ));
    }
    let d = s.param_count();
    let sds: Vec<f64> = results
        .iter()
        .flat_map(|c| c.measures.iter())
        .filter(|(n, _)| n.starts_with("SD"))
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .collect();
    if !sds.is_empty() {
        lines.push(format!(
            "SD estimates range over [{:.1}, {:.1}] of d = {d}",
            sds.iter().copied().fold(f64::INFINITY, f64::min),
            sds.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        ));
    }
    let figure = s.figure.clone();
    Ok(Findings {
        lines,
        files: vec![
            format!("{figure}.png"),
            format!("{figure}.svg"),
            "models.csv".into(),
            "models.md".into(),
            "correlations.csv".into(),
            "correlations.md".into(),
            "settings.toml".into(),
        ],
    })
}

fn findings(correlations: &[Correlation]) -> Vec<String> {
    let mut lines = Vec::new();
    for target in [ACC_GAP, LOSS_GAP] {
        if let Some((c, v)) = stats::best(correlations, target, |c| c.tau) {
            lines.push(format!("highest Kendall τ with the {target}: {} (τ = {v:.3})", c.measure));
        }
        if let Some((c, v)) = stats::best(correlations, target, |c| c.average) {
            lines.push(format!(
                "highest average granulated Kendall with the {target}: {} (Ψ = {v:.3})",
                c.measure
            ));
        }
        let ranked: Vec<String> = {
            let mut of: Vec<&Correlation> =
                correlations.iter().filter(|c| c.target == target).collect();
            of.sort_by(|a, b| {
                b.tau.unwrap_or(f64::NEG_INFINITY).total_cmp(&a.tau.unwrap_or(f64::NEG_INFINITY))
            });
            of.iter()
                .map(|c| {
                    format!("{} {}", c.measure, c.tau.map_or("n/a".into(), |t| format!("{t:.2}")))
                })
                .collect()
        };
        lines.push(format!("τ with the {target}, best first: {}", ranked.join(", ")));
    }
    lines
}

fn figure(
    s: &GridSettings,
    names: &[String],
    results: &[CellResult],
    correlations: &[Correlation],
) -> plot::Figure {
    let of = |target: &str, key: &dyn Fn(&Correlation) -> Option<f64>| -> Vec<Option<f64>> {
        names
            .iter()
            .map(|n| {
                correlations.iter().find(|c| &c.measure == n && c.target == target).and_then(key)
            })
            .collect()
    };
    let bars = |title: &str, y_label: &str, key: &dyn Fn(&Correlation) -> Option<f64>| {
        plot::Panel::Bars(plot::Bars {
            title: title.into(),
            y_label: y_label.into(),
            categories: names.to_vec(),
            groups: vec![(ACC_GAP.into(), of(ACC_GAP, key)), (LOSS_GAP.into(), of(LOSS_GAP, key))],
            y_range: Some((-1.0, 1.0)),
        })
    };
    let scatter = |measure: &str| {
        let index = names.iter().position(|n| n == measure);
        let series = s
            .batch_sizes
            .iter()
            .map(|&b| plot::Series {
                label: format!("b = {b}"),
                points: results
                    .iter()
                    .filter(|c| c.batch == b)
                    .filter_map(|c| index.map(|i| (c.measures[i].1, 100.0 * c.accuracy_gap)))
                    .collect(),
                style: plot::Style::Points,
            })
            .collect();
        plot::Panel::Axes(plot::Axes {
            title: format!("{measure} vs accuracy gap (one point per model)"),
            x_label: measure.into(),
            y_label: "accuracy gap |train − test| (%)".into(),
            x_log: false,
            y_log: false,
            x_range: None,
            y_range: None,
            series,
        })
    };
    let windows = s.complexity.window;
    plot::Figure {
        title: s.title.clone(),
        caption: vec![
            format!(
                "Scale {}: MLP {} (ReLU, no bias, d = {}), plain SGD, cross-entropy, {} epochs on {}; η ∈ {:?}, b ∈ {:?}, seed {}.",
                s.scale.name(),
                s.widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join("-"),
                s.param_count(),
                s.epochs,
                data_name(&s.data),
                s.learning_rates,
                s.batch_sizes,
                s.seed
            ),
            format!(
                "{}SD-SLQ/SD-KDE: SLQ with {} runs × {} Lanczos steps; λ₁: RDS sharpness; sharpness: top Hessian eigenvalue.",
                s.exact_minibatches.map_or(String::new(), |k| format!("SD exact: {k} dense minibatch Hessians per model; ")),
                match s.slq_runs { SlqRuns::Fixed(r) => r.to_string(), SlqRuns::Epochs(e) => format!("{e} epochs of minibatches") },
                s.slq_steps
            ),
            format!(
                "PH = PH-dim, Eα = E_α (α = {}); eu = Euclidean metric, ρ = loss-based pseudometric on {} training samples; B = last {windows} training iterates, F = {windows} iterates simulated on from the trained weights.",
                s.complexity.alpha, s.complexity.eval_samples
            ),
            format!("Ψ: average granulated Kendall over η and b (Jiang et al.). Reductions from the paper: {}", if s.reductions.is_empty() { "none".into() } else { s.reductions.clone() }),
        ],
        columns: 2,
        panels: vec![
            bars("Kendall τ of each measure with the gap", "Kendall τ", &|c| c.tau),
            bars("Average granulated Kendall Ψ with the gap", "Ψ", &|c| c.average),
            scatter(&s.scatter[0]),
            scatter(&s.scatter[1]),
        ],
    }
}

fn data_name(data: &DataSpec) -> String {
    match data {
        DataSpec::MnistEmbedded { pool: 1 } => {
            "the embedded MNIST subset (8,000 train / 2,000 test)".into()
        }
        DataSpec::MnistEmbedded { pool } => {
            format!("the embedded MNIST subset pooled {pool}×{pool}")
        }
        DataSpec::Mnist { pool: 1, .. } => "MNIST (60,000 / 10,000)".into(),
        DataSpec::Mnist { pool, .. } => format!("MNIST pooled {pool}×{pool}"),
        other => format!("{other:?}"),
    }
}
