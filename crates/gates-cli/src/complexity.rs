//! `gates complexity`: PH-dim or E_α of a run's iterate window (PAPER.md §5), written as a
//! `gates.complexity` artifact.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use gates_artifacts::{read_blob, write_blob, Producer, Trajectory};
use gates_bound::topology::PhDimParams;
use gates_bound::window::{window_complexity, Measure, WindowMetric};
use gates_dynamics::{forward_window_path, simulate_forward};
use serde::Serialize;

use crate::device;

#[derive(Clone, Copy, Debug, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
enum MeasureArg {
    /// Persistent-homology dimension from the growth of E_α with the number of points.
    PhDim,
    /// α-weighted lifetime sum of the whole cloud's minimum spanning tree.
    EAlpha,
}

#[derive(Clone, Copy, Debug, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
enum MetricArg {
    /// Euclidean distance of the parameters.
    Euclidean,
    /// ρ(w, w′) = mean |ℓ(w, z_i) − ℓ(w′, z_i)| over the evaluation subset.
    Rho,
}

#[derive(Clone, Copy, Debug, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
enum WindowArg {
    /// The last iterates of training.
    Bwd,
    /// Iterates simulated onward from the trained weights (made on first use).
    Fwd,
}

/// Arguments of `gates complexity`.
#[derive(Debug, Args)]
pub struct ComplexityArgs {
    /// The run's trajectory file.
    #[arg(long)]
    trajectory: PathBuf,
    /// Which measure.
    #[arg(long, value_enum)]
    measure: MeasureArg,
    /// Which metric.
    #[arg(long, value_enum, default_value = "euclidean")]
    metric: MetricArg,
    /// Which point cloud.
    #[arg(long, value_enum, default_value = "bwd")]
    window: WindowArg,
    /// Iterates of the forward window (default: as many as the backward window).
    #[arg(long)]
    iterates: Option<u64>,
    /// Exponent α of the lifetime sums.
    #[arg(long, default_value_t = 1.0)]
    alpha: f64,
    /// Smallest subset of the PH-dim fit (capped at a quarter of the cloud for small clouds).
    #[arg(long, default_value_t = 200)]
    min_points: usize,
    /// Output file (default: complexity-MEASURE-METRIC-WINDOW.gates next to the trajectory).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

#[derive(Serialize)]
struct Settings {
    trajectory: String,
    window: String,
    measure: MeasureArg,
    metric: MetricArg,
    cloud: WindowArg,
    alpha: f64,
    min_points: usize,
    steps: usize,
    seed: u64,
}

fn run_dir(trajectory: &Path) -> &Path {
    trajectory.parent().unwrap_or(Path::new("."))
}

/// Runs `gates complexity`.
pub fn run(args: ComplexityArgs) -> Result<()> {
    let traj = read_blob::<Trajectory>(&args.trajectory)
        .with_context(|| format!("cannot read the trajectory {}", args.trajectory.display()))?
        .body;
    let bwd = traj.window.as_ref();
    let window = match args.window {
        WindowArg::Bwd => match bwd {
            Some(w) => run_dir(&args.trajectory).join(&w.file),
            None => bail!("{} recorded no iterate window: train with record.window = K (for example --set record.window=500)", args.trajectory.display()),
        },
        WindowArg::Fwd => {
            let path = forward_window_path(&args.trajectory);
            if !path.exists() {
                let Some(k) = args.iterates.or(bwd.map(|w| w.count)) else {
                    bail!("how many forward iterates? pass --iterates K (the run recorded no backward window to copy the size from)");
                };
                simulate_forward(&device::device()?, &args.trajectory, k, &path)
                    .with_context(|| format!("cannot simulate the forward window into {}", path.display()))?;
            }
            path
        }
    };

    let measure = match args.measure {
        MeasureArg::PhDim => Measure::PhDim,
        MeasureArg::EAlpha => Measure::EAlpha,
    };
    let metric = match args.metric {
        MetricArg::Euclidean => WindowMetric::Euclidean,
        MetricArg::Rho => WindowMetric::Rho,
    };
    let points = gates_artifacts::RecordReader::<gates_artifacts::WindowPreamble>::open(&window)?
        .len() as usize;
    let defaults = PhDimParams::default();
    let params = PhDimParams {
        alpha: args.alpha,
        min_points: if points <= args.min_points { (points / 4).max(2) } else { args.min_points },
        ..defaults
    };

    let out = args.out.clone().unwrap_or_else(|| {
        let name = format!(
            "complexity-{}-{}-{}.gates",
            measure.name(),
            metric.name(),
            window_name(args.window)
        );
        run_dir(&args.trajectory).join(name)
    });
    if out.exists() && !args.force {
        bail!("{} already exists: pass --force to overwrite it", out.display());
    }
    let report = window_complexity(&window, measure, metric, &params)
        .with_context(|| format!("cannot compute {} of {}", measure.name(), window.display()))?;
    let settings = Settings {
        trajectory: args.trajectory.display().to_string(),
        window: window.display().to_string(),
        measure: args.measure,
        metric: args.metric,
        cloud: args.window,
        alpha: params.alpha,
        min_points: params.min_points,
        steps: params.steps,
        seed: params.seed,
    };
    write_blob(&out, &Producer::new("gates-bound", gates_bound::VERSION), &settings, &report)?;

    let fit = match (report.slope, report.r_squared) {
        (Some(s), Some(r2)) => format!(" (slope {s:.4}, R² {r2:.4}, sizes {:?})", report.sizes),
        _ => String::new(),
    };
    crate::say(&format!(
        "{} ({} metric, {} window of {} iterates, α = {}): {:.6}{fit}\nwrote {}",
        measure.name(),
        metric.name(),
        window_name(args.window),
        report.points,
        report.alpha,
        report.value,
        out.display()
    ));
    Ok(())
}

fn window_name(w: WindowArg) -> &'static str {
    match w {
        WindowArg::Bwd => "bwd",
        WindowArg::Fwd => "fwd",
    }
}
