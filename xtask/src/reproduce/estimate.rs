//! How long a reproduction will take, said before it starts.
//!
//! A cost model in floating-point operations per stage, with rates measured on the 2-core CI
//! machine this project is tested on (see README: training 784-16-16-10 at b = 32 runs about
//! 3.5 GFLOP/s through dfdx, exact HVPs of the 5-layer MLP about 75 GFLOP/s through faer, the
//! dense eigensolver 105 s at d = 12,960). It is meant to tell minutes from days, not to the
//! second: expect a factor of two either way.

use super::fig6::ToySettings;
use super::grid::GridSettings;
use super::grokking::GrokkingSettings;

/// Sustained rate of training steps (small dfdx matrix products).
const TRAIN_FLOPS: f64 = 3.5e9;
/// Sustained rate of exact Hessian-vector products.
const HVP_FLOPS: f64 = 3.0e10;
/// Seconds per d³ of the dense symmetric eigensolver.
const EIGEN_SECONDS_PER_CUBE: f64 = 105.0 / (12_960.0 * 12_960.0 * 12_960.0);
/// Sustained rate of vector work (reorthogonalisation, distances).
const VECTOR_FLOPS: f64 = 5.0e9;
/// Fixed cost per training step and per HVP (launching, allocation).
const OVERHEAD: f64 = 2e-5;

fn step_seconds(b: usize, d: usize) -> f64 {
    6.0 * (b * d) as f64 / TRAIN_FLOPS + OVERHEAD
}

fn hvp_seconds(b: usize, d: usize) -> f64 {
    12.0 * (b * d) as f64 / HVP_FLOPS + OVERHEAD
}

fn slq_seconds(runs: usize, steps: usize, b: usize, d: usize) -> f64 {
    let reorth = 4.0 * (steps * steps * d) as f64 / VECTOR_FLOPS;
    runs as f64 * (steps as f64 * hvp_seconds(b, d) + reorth)
}

fn window_seconds(iterates: u64, eval: usize, d: usize) -> f64 {
    let losses = 2.0 * (eval * d) as f64 / TRAIN_FLOPS;
    let distances = (iterates * iterates) as f64 * d as f64 / VECTOR_FLOPS;
    iterates as f64 * losses + 2.0 * distances
}

/// Seconds of figure 2 or 3 on one job.
pub fn grid(s: &GridSettings) -> f64 {
    let d = s.param_count();
    let mut total = 0.0;
    for &b in &s.batch_sizes {
        let steps = s.epochs as f64 * (s.n_train / b) as f64;
        let mut cell = steps * step_seconds(b, d);
        if let Some(k) = s.exact_minibatches {
            let n = d as f64;
            cell += k as f64 * (n * hvp_seconds(b, d) + n * n * n * EIGEN_SECONDS_PER_CUBE);
        }
        cell += slq_seconds(s.runs_for(b), s.slq_steps, b, d);
        if s.sharpness {
            cell += slq_seconds(1, 100, b, d);
        }
        let w = s.complexity.window;
        cell +=
            w as f64 * step_seconds(b, d) + 2.0 * window_seconds(w, s.complexity.eval_samples, d);
        total += cell * s.learning_rates.len() as f64;
    }
    total
}

/// Seconds of figure 4 or 7 on one job.
pub fn grokking(s: &GrokkingSettings) -> f64 {
    let d = s.param_count();
    let b = s.batch_size;
    let steps = s.epochs as f64 * (s.n_train() / b) as f64;
    let train = steps * step_seconds(b, d);
    let per_checkpoint = slq_seconds(s.slq_runs, s.slq_steps, b, d)
        + slq_seconds(1, 100, b, d)
        + s.trace_probes as f64 * hvp_seconds(b, d)
        + s.window as f64 * step_seconds(b, d)
        + window_seconds(s.window, 200, d);
    s.runs.len() as f64 * (train + s.checkpoints as f64 * per_checkpoint)
}

/// Seconds of figure 6.
pub fn toy(s: &ToySettings) -> f64 {
    // About 40 ns per particle step for the update and the 2×2 Hessian on one core.
    (s.attractor.particles * s.attractor.steps) as f64 * 4e-8 + 1.0
}

/// A duration for people: seconds, minutes, hours or days.
pub fn human(seconds: f64) -> String {
    match seconds {
        s if s < 90.0 => format!("{s:.0} s"),
        s if s < 5_400.0 => format!("{:.0} min", s / 60.0),
        s if s < 172_800.0 => format!("{:.1} h", s / 3_600.0),
        s => format!("{:.1} days", s / 86_400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reproduce::{grid, Scale};

    #[test]
    fn paper_scale_is_days_and_smoke_is_seconds() {
        let smoke = grid::fig3(Scale::Smoke, None).unwrap();
        assert!(grid(&smoke) < 120.0, "{}", grid(&smoke));
        // The paper's figure 3 needs full MNIST, which tests do not have; its cost model only
        // needs the settings, so take the default ones and restore the paper's numbers.
        let mut paper = grid::fig3(Scale::Default, None).unwrap();
        paper.n_train = 60_000;
        paper.epochs = 100;
        paper.slq_runs = grid::SlqRuns::Epochs(2.0);
        paper.slq_steps = 100;
        paper.complexity.window = 5_000;
        assert!(grid(&paper) > 86_400.0, "{}", human(grid(&paper)));
        assert_eq!(human(30.0), "30 s");
        assert_eq!(human(600.0), "10 min");
        assert_eq!(human(7_200.0), "2.0 h");
    }
}
