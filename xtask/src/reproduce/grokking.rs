//! Figures 4 and 7: grokking on addition mod 97. A small MLP memorises the 40 % training split
//! long before it generalises to the other 60 %; the figures follow every measure over evenly
//! spaced checkpoints through that transition, and correlate them with each other and with the
//! gap.
//!
//! Per run: train with kept checkpoints → per checkpoint: SLQ spectrum (with Hutchinson trace and
//! top eigenvalue) → SD-SLQ, SD-KDE, λ₁, sharpness, trace; forward window simulated from the
//! checkpoint → E_α and PH-dim (Euclidean).

use std::collections::BTreeMap;

use anyhow::Result;
use gates_artifacts::Evaluation;
use gates_bound::correlation::kendall_tau_b;
use gates_bound::report::BoundSettings;
use gates_bound::topology::PhDimParams;
use gates_bound::window::WindowMetric;
use gates_dynamics::TrainConfig;
use gates_spectral::hessian::{BatchChoice, CheckpointChoice, MethodRequest, SpectrumRequest};
use serde::Serialize;

use super::stages::{self, Output};
use super::table::{Cell, Table};
use super::{parallel, Ctx, Findings, Scale};
use crate::plot;

/// One training run of the study.
#[derive(Clone, Debug, Serialize)]
pub struct GrokRun {
    /// Learning rate η.
    pub lr: f64,
    /// Weight decay (L2, added to the gradient as in PyTorch's SGD).
    pub weight_decay: f64,
    /// Seed of initialisation and minibatch noise.
    pub seed: u64,
}

/// Everything figure 4 or 7 runs.
#[derive(Clone, Debug, Serialize)]
pub struct GrokkingSettings {
    /// `fig4` or `fig7`.
    pub figure: String,
    /// What the figure shows.
    pub title: String,
    /// The scale.
    pub scale: Scale,
    /// How this scale departs from the paper.
    pub reductions: String,
    /// The modulus p of a + b mod p.
    pub modulus: u64,
    /// Fraction of the p² pairs used for training.
    pub train_fraction: f64,
    /// MLP widths (one-hot a and b in, p classes out), with biases.
    pub widths: Vec<usize>,
    /// Hidden nonlinearity.
    pub activation: String,
    /// SGD momentum (0 for figure 7).
    pub momentum: f64,
    /// Minibatch size.
    pub batch_size: usize,
    /// Epochs of training.
    pub epochs: u64,
    /// Evenly spaced checkpoints measured.
    pub checkpoints: u64,
    /// The runs.
    pub runs: Vec<GrokRun>,
    /// SLQ runs R per checkpoint.
    pub slq_runs: usize,
    /// Lanczos steps m per SLQ run.
    pub slq_steps: usize,
    /// Hutchinson probes of the trace.
    pub trace_probes: usize,
    /// Iterates simulated on from each checkpoint for E_α and PH-dim.
    pub window: u64,
    /// Smallest subset of the PH-dim fit.
    pub min_points: usize,
    /// Estimator parameters and bound inputs.
    pub bound: BoundSettings,
}

impl GrokkingSettings {
    /// Measured checkpoints over all runs.
    pub fn units(&self) -> usize {
        self.runs.len() * self.checkpoints as usize
    }

    /// Parameters of the MLP (with biases).
    pub fn param_count(&self) -> usize {
        self.widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    /// Training samples.
    pub fn n_train(&self) -> usize {
        let pairs = (self.modulus * self.modulus) as f64;
        (self.train_fraction * pairs).round() as usize
    }
}

fn runs(list: &[(f64, f64, u64)]) -> Vec<GrokRun> {
    list.iter().map(|&(lr, weight_decay, seed)| GrokRun { lr, weight_decay, seed }).collect()
}

/// Figure 4: 2-layer MLP, 32 GELU units, SGD with momentum and weight decay.
pub fn fig4(scale: Scale) -> GrokkingSettings {
    let base = GrokkingSettings {
        figure: "fig4".into(),
        title: "Figure 4: grokking on a + b mod 97 (2-layer GELU MLP, SGD + momentum + weight decay): every measure through the transition".into(),
        scale,
        reductions: String::new(),
        modulus: 97,
        train_fraction: 0.4,
        widths: vec![194, 32, 97],
        activation: "gelu".into(),
        momentum: 0.9,
        batch_size: 512,
        epochs: 20_000,
        checkpoints: 100,
        runs: runs(&[(0.3, 2e-4, 0), (0.3, 2e-4, 1), (0.3, 5e-4, 0), (0.3, 5e-4, 1)]),
        slq_runs: 50,
        slq_steps: 100,
        trace_probes: 50,
        window: 1_000,
        min_points: 200,
        bound: BoundSettings::default(),
    };
    match scale {
        Scale::Paper => GrokkingSettings {
            reductions: "none in model, data, epochs and checkpoints; η, weight decays, seeds, batch size and SLQ settings are ours (the paper gives none)".into(),
            ..base
        },
        Scale::Default => GrokkingSettings {
            reductions: "3,000 epochs instead of 20,000 (the transition happens between about 1,000 and 3,000 epochs at these settings); 3 runs; SLQ 10 runs × 30 steps, 10 trace probes, 100 forward iterates per checkpoint".into(),
            epochs: 3_000,
            runs: runs(&[(0.3, 2e-4, 0), (0.3, 2e-4, 1), (0.3, 5e-4, 0)]),
            slq_runs: 10,
            slq_steps: 30,
            trace_probes: 10,
            window: 100,
            min_points: 25,
            ..base
        },
        Scale::Smoke => GrokkingSettings {
            reductions: "30 epochs and 6 checkpoints (no grokking happens: this checks the pipeline), 2 runs, SLQ 3 runs × 10 steps, 4 trace probes, 20 forward iterates".into(),
            epochs: 30,
            checkpoints: 6,
            runs: runs(&[(0.3, 2e-4, 0), (0.3, 5e-4, 0)]),
            slq_runs: 3,
            slq_steps: 10,
            trace_probes: 4,
            window: 20,
            min_points: 5,
            ..base
        },
    }
}

/// Figure 7: 3-layer MLP, 32 ReLU units per hidden layer, SGD with weight decay, no momentum.
pub fn fig7(scale: Scale) -> GrokkingSettings {
    let fig4 = fig4(scale);
    let runs_of = |list: &[(f64, f64, u64)]| runs(list);
    GrokkingSettings {
        figure: "fig7".into(),
        title: "Figure 7: grokking on a + b mod 97 (3-layer ReLU MLP, SGD + weight decay, no momentum): every measure through the transition".into(),
        widths: vec![194, 32, 32, 97],
        activation: "relu".into(),
        momentum: 0.0,
        runs: match scale {
            Scale::Paper => runs_of(&[(0.7, 5e-4, 0), (0.7, 5e-4, 1), (0.5, 1e-3, 0), (0.5, 1e-3, 1)]),
            Scale::Default => runs_of(&[(0.7, 5e-4, 0), (0.7, 5e-4, 1), (0.5, 1e-3, 0)]),
            Scale::Smoke => runs_of(&[(0.7, 5e-4, 0), (0.5, 1e-3, 0)]),
        },
        reductions: match scale {
            Scale::Paper => "none in model, data, epochs and checkpoints; η, weight decays, seeds, batch size and SLQ settings are ours (the paper gives none)".into(),
            Scale::Default => "3,000 epochs instead of 20,000 (at these settings the network memorises by about epoch 1,300 and generalises between about 1,300 and 2,200); 3 runs; SLQ 10 runs × 30 steps, 10 trace probes, 100 forward iterates per checkpoint".into(),
            Scale::Smoke => fig4.reductions.clone(),
        },
        ..fig4
    }
}

fn train_config(s: &GrokkingSettings, run: &GrokRun) -> Result<TrainConfig> {
    let steps_per_epoch = (s.n_train() / s.batch_size) as u64;
    let text = format!(
        r#"dtype = "f32"
loss = "cross-entropy"
[data]
kind = "modular"
modulus = {p}
train_fraction = {fraction}
seed = 0
[model]
widths = {widths:?}
activation = "{activation}"
bias = true
init_seed = {seed}
[optimizer]
kind = "sgd"
lr = {lr}
momentum = {momentum}
weight_decay = {wd}
[training]
batch_size = {batch}
epochs = {epochs}
seed = {seed}
eval_every = {eval_every}
[record]
checkpoint_count = {checkpoints}
window_eval_samples = {eval}
"#,
        p = s.modulus,
        fraction = s.train_fraction,
        widths = s.widths,
        activation = s.activation,
        seed = run.seed,
        lr = run.lr,
        momentum = s.momentum,
        wd = run.weight_decay,
        batch = s.batch_size,
        epochs = s.epochs,
        eval_every = (steps_per_epoch * s.epochs / s.checkpoints).max(1),
        checkpoints = s.checkpoints,
        eval = 200.min(s.n_train()),
    );
    Ok(TrainConfig::from_toml(&text)?)
}

fn run_name(run: &GrokRun) -> String {
    format!("lr{}-wd{}-seed{}", run.lr, run.weight_decay, run.seed)
}

/// The measures of one checkpoint, in [`MEASURES`] order.
const MEASURES: [&str; 7] = ["SD-SLQ", "SD-KDE", "λ₁", "sharpness", "trace", "E_α", "PH-dim"];

#[derive(Clone, Debug)]
struct Point {
    run: usize,
    step: u64,
    epoch: f64,
    evaluation: Option<Evaluation>,
    measures: [f64; 7],
}

fn measure_checkpoint(
    ctx: &Ctx,
    s: &GrokkingSettings,
    run: usize,
    trained: &Output,
    step: u64,
    steps_per_epoch: u64,
    evaluation: Option<Evaluation>,
) -> Result<Point> {
    let t = &ctx.timings;
    let dir = ctx.dir.join("runs").join(run_name(&s.runs[run])).join(format!("step-{step:08}"));
    let request = SpectrumRequest {
        trajectory: trained.path.clone(),
        checkpoint: CheckpointChoice::Step(step),
        method: MethodRequest::Slq { runs: s.slq_runs, steps: s.slq_steps },
        batch: BatchChoice::Run,
        seed: s.runs[run].seed,
        trace_probes: s.trace_probes,
        sharpness: true,
    };
    let spectrum = stages::spectrum(t, &dir.join("spectrum-slq"), trained, &request)?;
    let report = stages::bound(t, &dir.join("bound-slq"), &spectrum, &s.bound)?;
    let sd = |name: &str| {
        report.sharpness_dimension.iter().find(|e| e.estimator == name).map_or(f64::NAN, |e| e.sd)
    };
    let lambda1 = report.sharpness_dimension.iter().find_map(|e| e.lambda1).unwrap_or(f64::NAN);

    let window = stages::forward_window(t, &dir.join("window-fwd"), trained, Some(step), s.window)?;
    let params = PhDimParams { min_points: s.min_points, ..PhDimParams::default() };
    let measured = stages::complexity(
        t,
        &dir.join("complexity-euclidean"),
        &window,
        WindowMetric::Euclidean,
        &params,
    )?;
    ctx.tick(&format!("{} step {step}", run_name(&s.runs[run])));
    Ok(Point {
        run,
        step,
        epoch: step as f64 / steps_per_epoch as f64,
        evaluation,
        measures: [
            sd("slq"),
            sd("kde"),
            lambda1,
            report.classical_sharpness.unwrap_or(f64::NAN),
            report.trace.map_or(f64::NAN, |t| t.value),
            measured.e_alpha.value,
            measured.ph_dim_value(),
        ],
    })
}

/// Runs figure 4 or 7.
pub fn run(ctx: &Ctx, s: &GrokkingSettings) -> Result<Findings> {
    // Training, one run per job.
    let trained = parallel::map(ctx.jobs, &s.runs, |run| {
        let config = train_config(s, run)?;
        let dir = ctx.dir.join("runs").join(run_name(run)).join("train");
        let (_, out) = stages::train(&ctx.timings, &dir, &config)?;
        Ok(out)
    })?;

    // Every checkpoint of every run, measured in parallel.
    let mut jobs = Vec::new();
    for (i, out) in trained.iter().enumerate() {
        let traj = stages::trajectory(out)?;
        for c in &traj.checkpoints {
            let evaluation = traj.evaluations.iter().find(|e| e.step == c.step).copied();
            jobs.push((i, c.step, traj.steps_per_epoch, evaluation));
        }
    }
    let points = parallel::map(ctx.jobs, &jobs, |&(i, step, per_epoch, evaluation)| {
        measure_checkpoint(ctx, s, i, &trained[i], step, per_epoch, evaluation)
    })?;

    // The numbers behind the figure.
    let mut columns = vec![
        "run",
        "lr",
        "weight_decay",
        "seed",
        "step",
        "epoch",
        "train_acc",
        "test_acc",
        "acc_gap",
        "loss_gap",
    ];
    columns.extend(MEASURES);
    let mut table = Table::new(&columns);
    for p in &points {
        let r = &s.runs[p.run];
        let e = p.evaluation;
        let mut row: Vec<Cell> = vec![
            run_name(r).into(),
            r.lr.into(),
            r.weight_decay.into(),
            (r.seed as f64).into(),
            (p.step as f64).into(),
            p.epoch.into(),
            e.map(|e| e.train.accuracy).into(),
            e.map(|e| e.test.accuracy).into(),
            e.map(|e| e.accuracy_gap()).into(),
            e.map(|e| e.loss_gap()).into(),
        ];
        row.extend(p.measures.iter().map(|&v| Cell::from(v)));
        table.push(row);
    }
    table.write(&ctx.dir.join("checkpoints"))?;

    let (labels, matrix) = correlation_matrix(&points);
    let mut corr = Table {
        columns: std::iter::once("τ".to_string()).chain(labels.iter().cloned()).collect(),
        rows: vec![],
    };
    for (label, row) in labels.iter().zip(&matrix) {
        corr.push(
            std::iter::once(Cell::from(label.clone()))
                .chain(row.iter().map(|&v| Cell::from(v)))
                .collect(),
        );
    }
    corr.write(&ctx.dir.join("correlation-matrix"))?;

    plot::render(&figure(s, &points, &labels, &matrix), &ctx.dir.join(&s.figure))?;
    let figure = s.figure.clone();
    Ok(Findings {
        lines: findings(s, &points, &labels, &matrix),
        files: vec![
            format!("{figure}.png"),
            format!("{figure}.svg"),
            "checkpoints.csv".into(),
            "checkpoints.md".into(),
            "correlation-matrix.csv".into(),
            "correlation-matrix.md".into(),
            "settings.toml".into(),
        ],
    })
}

/// Kendall τ-b between every pair of measures and targets over all checkpoints of all runs.
fn correlation_matrix(points: &[Point]) -> (Vec<String>, Vec<Vec<Option<f64>>>) {
    let mut columns: BTreeMap<usize, (String, Vec<f64>)> = BTreeMap::new();
    for (i, name) in MEASURES.iter().enumerate() {
        columns.insert(i, (name.to_string(), points.iter().map(|p| p.measures[i]).collect()));
    }
    let target = |f: fn(&Evaluation) -> f64| -> Vec<f64> {
        points.iter().map(|p| p.evaluation.as_ref().map_or(f64::NAN, f)).collect()
    };
    columns.insert(7, ("test acc".into(), target(|e| e.test.accuracy)));
    columns.insert(8, ("acc gap".into(), target(|e| e.accuracy_gap())));
    columns.insert(9, ("loss gap".into(), target(|e| e.loss_gap())));
    let labels: Vec<String> = columns.values().map(|(n, _)| n.clone()).collect();
    let matrix = columns
        .values()
        .map(|(_, x)| {
            columns
                .values()
                .map(|(_, y)| {
                    let (a, b): (Vec<f64>, Vec<f64>) = x
                        .iter()
                        .zip(y)
                        .filter(|(a, b)| a.is_finite() && b.is_finite())
                        .map(|(a, b)| (*a, *b))
                        .unzip();
                    if a.len() < 3 {
                        None
                    } else {
                        kendall_tau_b(&a, &b).ok().flatten()
                    }
                })
                .collect()
        })
        .collect();
    (labels, matrix)
}

fn findings(
    s: &GrokkingSettings,
    points: &[Point],
    labels: &[String],
    matrix: &[Vec<Option<f64>>],
) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, run) in s.runs.iter().enumerate() {
        let of: Vec<&Point> = points.iter().filter(|p| p.run == i).collect();
        let Some(last) = of.last() else { continue };
        let test = |p: &Point| p.evaluation.map_or(f64::NAN, |e| e.test.accuracy);
        let train = |p: &Point| p.evaluation.map_or(f64::NAN, |e| e.train.accuracy);
        let memorised = of.iter().find(|p| train(p) >= 0.99).map(|p| p.epoch);
        let generalised = of.iter().find(|p| test(p) >= 0.5).map(|p| p.epoch);
        // The steepest rise of test accuracy between two checkpoints, and SD around it.
        let jump = of
            .windows(2)
            .max_by(|a, b| (test(a[1]) - test(a[0])).total_cmp(&(test(b[1]) - test(b[0]))));
        let mut line = format!(
            "{}: final train/test accuracy {:.1}% / {:.1}%; train ≥ 99% from epoch {}; test ≥ 50% from epoch {}",
            run_name(run),
            100.0 * train(last),
            100.0 * test(last),
            memorised.map_or("never".into(), |e| format!("{e:.0}")),
            generalised.map_or("never".into(), |e| format!("{e:.0}")),
        );
        if let Some(w) = jump {
            line.push_str(&format!(
                "; steepest test-accuracy rise between epochs {:.0} and {:.0} ({:+.1} points), SD-SLQ {:.1} → {:.1}",
                w[0].epoch,
                w[1].epoch,
                100.0 * (test(w[1]) - test(w[0])),
                w[0].measures[0],
                w[1].measures[0]
            ));
        }
        lines.push(line);
    }
    for (target, name) in [("test acc", "test accuracy"), ("acc gap", "accuracy gap")] {
        let Some(g) = labels.iter().position(|l| l == target) else { continue };
        let taus: Vec<String> = MEASURES
            .iter()
            .enumerate()
            .map(|(i, m)| {
                format!("{m} {}", matrix[i][g].map_or("n/a".into(), |t| format!("{t:.2}")))
            })
            .collect();
        lines.push(format!("Kendall τ with the {name} over all checkpoints: {}", taus.join(", ")));
    }
    lines
}

fn figure(
    s: &GrokkingSettings,
    points: &[Point],
    labels: &[String],
    matrix: &[Vec<Option<f64>>],
) -> plot::Figure {
    let series_of = |value: &dyn Fn(&Point) -> f64, suffix: &str| -> Vec<plot::Series> {
        s.runs
            .iter()
            .enumerate()
            .map(|(i, r)| plot::Series {
                label: format!("η {}, wd {}, seed {}{suffix}", r.lr, r.weight_decay, r.seed),
                points: points.iter().filter(|p| p.run == i).map(|p| (p.epoch, value(p))).collect(),
                style: plot::Style::LinePoints,
            })
            .collect()
    };
    let axes = |title: &str, y_label: &str, y_log: bool, series: Vec<plot::Series>| {
        plot::Panel::Axes(plot::Axes {
            title: title.into(),
            x_label: "epoch".into(),
            y_label: y_label.into(),
            x_log: false,
            y_log,
            x_range: None,
            y_range: None,
            series,
        })
    };
    let mut accuracy =
        series_of(&|p| p.evaluation.map_or(f64::NAN, |e| 100.0 * e.train.accuracy), ": train");
    for series in &mut accuracy {
        series.style = plot::Style::Line;
    }
    accuracy.extend(series_of(
        &|p| p.evaluation.map_or(f64::NAN, |e| 100.0 * e.test.accuracy),
        ": test",
    ));
    let measure = |i: usize| move |p: &Point| p.measures[i];
    let panels = vec![
        axes(
            "Train (lines) and test (lines with points) accuracy",
            "accuracy (%)",
            false,
            accuracy,
        ),
        axes("Sharpness dimension (SD-SLQ)", "SD", false, series_of(&measure(0), "")),
        axes("RDS sharpness λ₁ = E ln σ₁(I − ηH_B)", "λ₁", false, series_of(&measure(2), "")),
        axes(
            "Classical sharpness (top Hessian eigenvalue)",
            "λ_max(H_B)",
            true,
            series_of(&measure(3), ""),
        ),
        axes("Hessian trace (Hutchinson)", "tr H_B", false, series_of(&measure(4), "")),
        axes(
            "E_α of the forward iterates (α = 1, Euclidean)",
            "E_α",
            true,
            series_of(&measure(5), ""),
        ),
        plot::Panel::Heatmap(plot::Heatmap {
            title: "Kendall τ over all checkpoints".into(),
            row_labels: labels.to_vec(),
            col_labels: labels.to_vec(),
            values: matrix.to_vec(),
            range: (-1.0, 1.0),
            annotate: true,
        }),
    ];
    let lrs: Vec<String> = s.runs.iter().map(|r| r.lr.to_string()).collect();
    plot::Figure {
        title: s.title.clone(),
        caption: vec![
            format!(
                "Scale {}: a + b mod {} with one-hot inputs, {:.0}% of the {} pairs for training; MLP {} ({}, biases, d = {}); SGD η = {}, momentum {}, weight decay per run, batch {}, {} epochs, {} evenly spaced checkpoints.",
                s.scale.name(),
                s.modulus,
                100.0 * s.train_fraction,
                s.modulus * s.modulus,
                s.widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join("-"),
                s.activation,
                s.param_count(),
                lrs.join("/"),
                s.momentum,
                s.batch_size,
                s.epochs,
                s.checkpoints
            ),
            format!(
                "Per checkpoint: SLQ with {} runs × {} Lanczos steps on minibatch Hessians (SD-SLQ, λ₁), top eigenvalue by Lanczos, trace with {} Hutchinson probes, E_α of {} iterates simulated on from the checkpoint.",
                s.slq_runs, s.slq_steps, s.trace_probes, s.window
            ),
            format!("Reductions from the paper: {}", if s.reductions.is_empty() { "none" } else { &s.reductions }),
        ],
        columns: 2,
        panels,
    }
}
