//! `gates spectrum`: Hessian spectra of minibatch losses at a checkpoint of a run, dense,
//! Lanczos or SLQ, written as a `gates.spectrum` artifact.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use gates_artifacts::{write_blob, Producer, SpectrumMethod};
use gates_spectral::hessian::{
    compute_spectrum, BatchChoice, CheckpointChoice, MethodRequest, Progress, SpectrumRequest,
};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MethodArg {
    /// All eigenvalues of K dense minibatch Hessians (exact SD; d up to about 15,000).
    Dense,
    /// Extreme eigenvalues of one minibatch Hessian by Lanczos.
    Lanczos,
    /// Stochastic Lanczos quadrature: R runs of m steps (SD-SLQ, SD-KDE, SD-PS).
    Slq,
}

/// Arguments of `gates spectrum`.
#[derive(Debug, Args)]
pub struct SpectrumArgs {
    /// The run's trajectory file.
    #[arg(long)]
    trajectory: PathBuf,
    /// Which checkpoint: `final` or a step.
    #[arg(long, default_value = "final")]
    checkpoint: String,
    /// Which method.
    #[arg(long, value_enum)]
    method: MethodArg,
    /// Output file.
    #[arg(long, short)]
    out: PathBuf,
    /// Dense: number K of minibatch Hessians [default: 4, or 1 with --batch-size full].
    #[arg(long)]
    minibatches: Option<usize>,
    /// SLQ: number R of runs, each with its own minibatch and probe.
    #[arg(long, default_value_t = 100)]
    runs: usize,
    /// SLQ: Lanczos steps m per run.
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// Lanczos: largest eigenvalues wanted.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Lanczos: smallest eigenvalues wanted.
    #[arg(long, default_value_t = 5)]
    bottom: usize,
    /// Lanczos: most steps.
    #[arg(long, default_value_t = 300)]
    max_steps: usize,
    /// Lanczos: relative residual tolerance ‖Hy − θy‖ ≤ tol · max|θ|.
    #[arg(long, default_value_t = 1e-8)]
    tolerance: f64,
    /// Minibatch size of each Hessian: `run` (the run's b), a number, or `full`.
    #[arg(long, default_value = "run")]
    batch_size: String,
    /// Master seed of minibatches and probes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Hutchinson probes for the Hessian trace (0: no trace).
    #[arg(long, default_value_t = 0)]
    trace_probes: usize,
    /// Skip the classical sharpness (top eigenvalue by Lanczos).
    #[arg(long)]
    no_sharpness: bool,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

/// Runs `gates spectrum`.
pub fn run(args: SpectrumArgs) -> Result<()> {
    if args.out.exists() && !args.force {
        bail!("{} already exists: pass --force to overwrite it", args.out.display());
    }
    let checkpoint = match args.checkpoint.as_str() {
        "final" => CheckpointChoice::Final,
        s => CheckpointChoice::Step(
            s.parse()
                .with_context(|| format!("invalid --checkpoint {s:?}: expected final or a step"))?,
        ),
    };
    let batch = match args.batch_size.as_str() {
        "run" => BatchChoice::Run,
        "full" => BatchChoice::Full,
        s => BatchChoice::Size(s.parse().with_context(|| {
            format!("invalid --batch-size {s:?}: expected run, full or a number")
        })?),
    };
    let (method, hessians) = match args.method {
        MethodArg::Dense => {
            let default = if batch == BatchChoice::Full { 1 } else { 4 };
            let minibatches = args.minibatches.unwrap_or(default);
            (MethodRequest::Dense { minibatches }, minibatches)
        }
        MethodArg::Lanczos => (
            MethodRequest::Lanczos {
                top: args.top,
                bottom: args.bottom,
                max_steps: args.max_steps,
                tolerance: args.tolerance,
            },
            1,
        ),
        MethodArg::Slq => (MethodRequest::Slq { runs: args.runs, steps: args.steps }, args.runs),
    };
    let request = SpectrumRequest {
        trajectory: args.trajectory.clone(),
        checkpoint,
        method,
        batch,
        seed: args.seed,
        trace_probes: args.trace_probes,
        sharpness: !args.no_sharpness,
    };

    let bar = ProgressBar::new(hessians as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} Hessians: {msg} ({eta})",
        )
        .expect("a valid template"),
    );
    // A dense solve at d ≈ 13,000 runs for minutes between events: keep the clock moving.
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    let spectrum = compute_spectrum(&request, &|event| match event {
        Progress::HessianDone => bar.inc(1),
        other => bar.set_message(describe(other)),
    });
    bar.finish_and_clear();
    let spectrum = spectrum
        .with_context(|| format!("cannot compute the spectrum of {}", args.trajectory.display()))?;
    write_blob(
        &args.out,
        &Producer::new("gates-spectral", gates_spectral::VERSION),
        &request.settings(),
        &spectrum,
    )?;

    let what = match &spectrum.method {
        SpectrumMethod::Dense { minibatches } => {
            let top = minibatches
                .iter()
                .filter_map(|m| m.eigenvalues.last().copied())
                .fold(f64::NEG_INFINITY, f64::max);
            let bottom = minibatches
                .iter()
                .filter_map(|m| m.eigenvalues.first().copied())
                .fold(f64::INFINITY, f64::min);
            let asymmetry = minibatches.iter().map(|m| m.asymmetry).fold(0.0, f64::max);
            format!(
                "{} dense spectra; eigenvalues in [{bottom:.6}, {top:.6}]; assembled Hessians \
                 symmetric to {asymmetry:.1e} (relative)",
                minibatches.len()
            )
        }
        SpectrumMethod::Lanczos { top, bottom, steps, converged, .. } => {
            let show = |v: &[gates_artifacts::RitzValue]| {
                v.iter()
                    .map(|r| format!("{:.6} (residual {:.1e})", r.value, r.residual))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let state = if *converged { "converged" } else { "NOT converged (see residuals)" };
            format!("top: {}\nbottom: {}\n{steps} Lanczos steps, {state}", show(top), show(bottom))
        }
        SpectrumMethod::Slq { steps, runs } => {
            let invariant = runs.iter().filter(|r| r.invariant).count();
            let early = if invariant > 0 {
                format!(" ({invariant} stopped early at an invariant subspace)")
            } else {
                String::new()
            };
            format!("{} SLQ runs of {steps} steps{early}", runs.len())
        }
    };
    let mut lines = vec![
        format!(
            "d = {}, η = {}, b = {}, checkpoint step {}",
            spectrum.param_count,
            spectrum.eta,
            spectrum.batch_size,
            spectrum.source.checkpoint_step
        ),
        what,
    ];
    if let Some(top) = spectrum.top_eigenvalue {
        lines.push(format!(
            "classical sharpness (top eigenvalue): {:.6}, residual {:.1e}  (2/η = {:.6})",
            top.value,
            top.residual,
            2.0 / spectrum.eta
        ));
    }
    if let Some(t) = spectrum.trace {
        lines.push(format!("trace: {:.6} ± {:.6}", t.value, t.std_error));
    }
    lines.push(format!("wrote {}", args.out.display()));
    crate::say(&lines.join("\n"));
    Ok(())
}

/// What a progress event means, for the bar's message.
fn describe(event: Progress) -> String {
    match event {
        Progress::Assembling { index, of } => {
            format!("assembling Hessian {} of {of} from products", index + 1)
        }
        Progress::Eigenvalues { index, of } => {
            format!("all eigenvalues of Hessian {} of {of}", index + 1)
        }
        Progress::Lanczos => "Lanczos iterations".into(),
        Progress::Slq { runs } => format!("{runs} SLQ runs"),
        Progress::Trace => "Hutchinson trace".into(),
        Progress::Sharpness => "top eigenvalue (classical sharpness)".into(),
        Progress::HessianDone => "Hessian done".into(),
    }
}
