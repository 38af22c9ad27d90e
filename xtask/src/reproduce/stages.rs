//! The stages of a pipeline, each a cached call of one crate that reads and writes artifacts:
//! train (gates-dynamics) → spectrum (gates-spectral) → bound (gates-bound), and train →
//! iterate window → complexity (gates-bound). A stage's settings include the keys of the stages
//! it reads from, so a change upstream redoes everything downstream.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use gates_artifacts::{
    read_blob, write_blob, BoundReport, ComplexityReport, Producer, RunStatus, Spectrum, Trajectory,
};
use gates_bound::report::{bound_report, BoundSettings};
use gates_bound::topology::PhDimParams;
use gates_bound::window::{window_complexities, Measure, WindowMetric};
use gates_bound::BoundError;
use gates_dynamics::{files, simulate_forward_from, Silent, TrainConfig, TrainOptions};
use gates_models::DefaultDevice;
use gates_spectral::hessian::{compute_spectrum, SpectrumRequest};
use serde::{Deserialize, Serialize};

use super::cache::{stage, Timings};

/// A finished stage's output file and the stage's cache key.
#[derive(Clone, Debug)]
pub struct Output {
    /// The artifact the stage wrote.
    pub path: PathBuf,
    /// The stage's key, part of the settings of the stages that read `path`.
    pub key: String,
}

/// What a training stage leaves: its trajectory and whether it diverged.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Trained {
    /// File name of the trajectory in the stage folder.
    pub trajectory: String,
    /// Steps taken.
    pub steps: u64,
    /// Whether the loss became non-finite.
    pub diverged: bool,
}

/// Trains `config` in `dir`, resuming from the rolling checkpoint of an interrupted attempt.
pub fn train(timings: &Timings, dir: &Path, config: &TrainConfig) -> Result<(Trained, Output)> {
    let (done, key) = stage(timings, dir, "train", config, |dir| {
        let resume = dir.join(files::RESUME);
        let options = TrainOptions {
            out_dir: dir.to_path_buf(),
            overwrite: true,
            resume_from: resume.exists().then_some(resume),
            stop_after: None,
        };
        let outcome =
            gates_dynamics::train(&DefaultDevice::default(), config, &options, &mut Silent)?;
        let (steps, diverged) = match outcome.trajectory.status {
            RunStatus::Completed { steps } => (steps, false),
            RunStatus::Diverged { step, .. } => (step, true),
            RunStatus::InProgress { step } => (step, false),
        };
        Ok(Trained { trajectory: files::TRAJECTORY.into(), steps, diverged })
    })?;
    let path = dir.join(&done.trajectory);
    Ok((done, Output { path, key }))
}

/// Reads a trajectory written by [`train`].
pub fn trajectory(trained: &Output) -> Result<Trajectory> {
    Ok(read_blob::<Trajectory>(&trained.path)
        .with_context(|| format!("cannot read {}", trained.path.display()))?
        .body)
}

/// A spectrum stage's key: the request with the solver settings it runs under, so that a
/// change of a solver default recomputes cached spectra.
#[derive(Serialize)]
struct SpectrumStageSettings<'a> {
    upstream: &'a str,
    request: gates_spectral::hessian::SpectrumSettings,
}

/// Computes the spectrum `request` asks for (its `trajectory` must be `trained.path`) into
/// `dir/spectrum.gates`.
pub fn spectrum(
    timings: &Timings,
    dir: &Path,
    trained: &Output,
    request: &SpectrumRequest,
) -> Result<Output> {
    let settings = SpectrumStageSettings { upstream: &trained.key, request: request.settings() };
    let (file, key) = stage(timings, dir, "spectrum", &settings, |dir| {
        let spectrum = compute_spectrum(request, &|_| {})?;
        let path = dir.join("spectrum.gates");
        write_blob(
            &path,
            &Producer::new("gates-spectral", gates_spectral::VERSION),
            &settings.request,
            &spectrum,
        )?;
        Ok("spectrum.gates".to_string())
    })?;
    Ok(Output { path: dir.join(file), key })
}

#[derive(Serialize)]
struct BoundStageSettings<'a> {
    upstream: &'a str,
    bound: &'a BoundSettings,
}

/// Evaluates the sharpness dimension and the bound of a spectrum into `dir/bound.gates`.
pub fn bound(
    timings: &Timings,
    dir: &Path,
    spectrum: &Output,
    settings: &BoundSettings,
) -> Result<BoundReport> {
    let stage_settings = BoundStageSettings { upstream: &spectrum.key, bound: settings };
    let (report, _) = stage(timings, dir, "bound", &stage_settings, |dir| {
        let body = read_blob::<Spectrum>(&spectrum.path)
            .with_context(|| format!("cannot read {}", spectrum.path.display()))?
            .body;
        let report = bound_report(&body, &spectrum.path.display().to_string(), settings)?;
        write_blob(
            &dir.join("bound.gates"),
            &Producer::new("gates-bound", gates_bound::VERSION),
            settings,
            &report,
        )?;
        Ok(report)
    })?;
    Ok(report)
}

#[derive(Serialize)]
struct ForwardSettings {
    upstream: String,
    from_step: Option<u64>,
    iterates: u64,
}

/// Simulates `iterates` iterates onward from the checkpoint at `from_step` (the final one when
/// `None`) of a trained run into `dir/window-fwd.gates`.
pub fn forward_window(
    timings: &Timings,
    dir: &Path,
    trained: &Output,
    from_step: Option<u64>,
    iterates: u64,
) -> Result<Output> {
    let settings = ForwardSettings { upstream: trained.key.clone(), from_step, iterates };
    let (file, key) = stage(timings, dir, "forward-window", &settings, |dir| {
        let out = dir.join(files::FORWARD_WINDOW);
        simulate_forward_from(&DefaultDevice::default(), &trained.path, from_step, iterates, &out)?;
        Ok(files::FORWARD_WINDOW.to_string())
    })?;
    Ok(Output { path: dir.join(file), key })
}

/// The backward window of a trained run (recorded during training), from its trajectory.
pub fn backward_window(trained: &Output, traj: &Trajectory) -> Result<Output> {
    let entry = traj.window.as_ref().with_context(|| {
        format!("{} recorded no iterate window (record.window = 0)", trained.path.display())
    })?;
    let dir = trained.path.parent().unwrap_or(Path::new("."));
    Ok(Output { path: dir.join(&entry.file), key: trained.key.clone() })
}

#[derive(Serialize)]
struct ComplexitySettings<'a> {
    upstream: &'a str,
    window: String,
    metric: &'static str,
    params: &'a PhDimParams,
}

/// What a complexity stage measured: E_α always; PH-dim unless its fit was degenerate (a
/// slope of ln E_α against ln n at or above 1, which small or nearly stationary clouds give),
/// in which case the reason is kept instead.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Complexity {
    /// PH-dim, when its fit was usable.
    pub ph_dim: Option<ComplexityReport>,
    /// Why PH-dim is missing.
    pub ph_dim_failure: Option<String>,
    /// E_α of the whole cloud.
    pub e_alpha: ComplexityReport,
}

impl Complexity {
    /// PH-dim's value, NaN when it is missing.
    pub fn ph_dim_value(&self) -> f64 {
        self.ph_dim.as_ref().map_or(f64::NAN, |r| r.value)
    }
}

/// PH-dim and E_α of a window under `metric`, from one distance matrix, written to
/// `dir/ph-dim.gates` and `dir/e-alpha.gates`.
pub fn complexity(
    timings: &Timings,
    dir: &Path,
    window: &Output,
    metric: WindowMetric,
    params: &PhDimParams,
) -> Result<Complexity> {
    let file =
        window.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let settings =
        ComplexitySettings { upstream: &window.key, window: file, metric: metric.name(), params };
    let (done, _) = stage(timings, dir, "complexity", &settings, |dir| {
        let both =
            window_complexities(&window.path, &[Measure::EAlpha, Measure::PhDim], metric, params);
        let (e_alpha, ph_dim, ph_dim_failure) = match both {
            Ok(mut reports) => {
                let ph = reports.pop().context("PH-dim report")?;
                (reports.pop().context("E_α report")?, Some(ph), None)
            }
            Err(BoundError::Degenerate { what, reason }) => {
                tracing::warn!(window = %window.path.display(), metric = metric.name(), "{what} is degenerate: {reason}");
                let mut reports =
                    window_complexities(&window.path, &[Measure::EAlpha], metric, params)?;
                (reports.remove(0), None, Some(format!("{what} is degenerate: {reason}")))
            }
            Err(e) => return Err(e.into()),
        };
        let producer = Producer::new("gates-bound", gates_bound::VERSION);
        for report in std::iter::once(&e_alpha).chain(ph_dim.as_ref()) {
            let path = dir.join(format!("{}.gates", report.measure));
            write_blob(&path, &producer, &settings, report)?;
        }
        Ok(Complexity { ph_dim, ph_dim_failure, e_alpha })
    })?;
    Ok(done)
}
