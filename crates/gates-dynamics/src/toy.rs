//! The random attractor of PAPER.md figure 6: noisy gradient descent on the two-dimensional toy
//! loss L(x) = ½‖x‖² − 2·cos(4x₁)·cos(4x₂) of [`gates_models::toy`], run on a cloud of
//! particles that all see the same noise, and the RDS exponents λ₁, λ₂ measured on that cloud.
//!
//! # Where the noise enters
//!
//! The paper gives the learning rate η = 0.15, the noise level σ = 0.1 and the number of
//! particles, but not where the noise enters the map. We take the natural reading: one step is
//! a plain gradient step followed by an additive Gaussian kick,
//!
//! ```text
//! x_{t+1} = x_t − η·∇L(x_t) + σ·ξ_t,      ξ_t ~ N(0, I₂),
//! ```
//!
//! so the one-step Jacobian is I − η·∇²L(x_t), exactly the form I − η·H_B of SGD in PAPER.md
//! §1, and the noise only translates the image. The draw ξ_t is made once per step and shared by
//! every particle: the particles are different initial conditions driven by one noise path ω.
//! After t steps the cloud is the image of the initial square under the same t random maps, so it
//! approximates the pullback random attractor 𝒜(θ_t ω), the fractal set that figure 6 pictures.
//! Drawing an independent kick per particle would instead sample the stationary *distribution*,
//! a smooth blur with no fractal structure.
//!
//! # Why the exponents are sups over the cloud
//!
//! PAPER.md §2 defines the RDS sharpness of order k as λ_k = E_ω[sup_{w ∈ 𝒜(ω)} ln σ_k(Dϕ)]:
//! the worst case over the attractor, inside the expectation over the noise. The cloud at step t
//! stands in for 𝒜(θ_t ω), so at each of the last [`AttractorSettings::exponent_steps`] steps we
//! take the sup over particles of ln σ_k(I − η·∇²L(x)), and the average over those steps stands
//! in for E_ω (one long noise path visits the noise's stationary law). The Jacobian is
//! symmetric, so σ₁ ≥ σ₂ are the values |1 − η·α| of its Hessian eigenvalues α, sorted. As a
//! second, less conservative variant we also report the mean over particles in place of the
//! sup: a sup over 600,000 particles finds the largest value the loss allows anywhere the cloud
//! reaches, whereas the mean weighs the attractor by where the particles actually are.
//!
//! # Eigenvalues in closed form
//!
//! The Hessian has equal diagonal entries a = 1 + 32·cos(4x₁)cos(4x₂) and off-diagonal
//! b = −32·sin(4x₁)sin(4x₂), so its eigenvectors are (1, ±1)/√2 at every x and its eigenvalues
//! a ∓ b are
//!
//! ```text
//! α = 1 + 32·cos(4(x₁ − x₂))   and   α = 1 + 32·cos(4(x₁ + x₂)).
//! ```
//!
//! Both range over [−31, 33]. With η = 0.15 (2/η ≈ 13.3) no local minimum is linearly stable:
//! there both eigenvalues are close to 33 and |1 − η·α| ≈ 3.95, so the iterates never settle.
//! The largest singular value anywhere is 1 + 31η ≈ 5.65 (ln ≈ 1.732), where both eigenvalues
//! are −31, at the maxima of the cosine term.
//!
//! # Measured at the paper's settings
//!
//! With the defaults (seed 0), λ₁ = λ₂ = 1.7317 in the sup variant, the ceiling ln(1 + 31η) to
//! four digits, and λ₁ = 1.392, λ₂ = 0.527 in the mean variant (1.40/0.53 and 1.41/0.56 for
//! seeds 1 and 2). Both exponents are positive, so SD = 2 = d in both variants: the map expands
//! area on average over the cloud, which stays bounded all the same because the map folds (it is
//! not injective). The box-counting dimension of the final cloud (`gates_bound::boxcount`,
//! default range) is 1.861 (r² = 0.9999) for seed 0 and 1.766 and 1.747 for seeds 1 and 2,
//! below SD as PAPER.md §2 requires, though with SD = d the bound says little here. These are
//! averages over about four octaves of a curved log-log plot whose local slope rises towards
//! finer scales (to 1.9–1.96 with 9,600,000 particles; see the gates-bound README), so they are
//! best read as lower bounds on the attractor's dimension.
//!
//! The run takes 2.6 to 2.9 s of CPU time in release, so about 1.5 s on two idle cores; on two
//! threads of our shared two-core machine, with a load average of 6 to 8 from other builds, it
//! took 4.2 to 5.5 s of wall time. `GATES_SLOW_TESTS=1 cargo test --release -p gates-dynamics
//! --lib toy::tests::paper_settings -- --nocapture` prints these numbers.
//!
//! # Determinism and speed
//!
//! Initial positions and the noise path come from two streams of one seeded ChaCha8 generator,
//! so the noise does not depend on the number of particles. Particles are advanced in parallel
//! (rayon) in fixed chunks; sups are combined with `max`, which does not depend on order, and the
//! sums behind the means are formed per chunk and then added in chunk order, so results are
//! identical for any number of threads.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Particles per parallel task. Fixed, so that sums over particles are grouped the same way
/// whatever the number of threads.
const CHUNK: usize = 8192;

/// ChaCha8 stream of the initial positions.
const INITIAL_STREAM: u64 = 0;

/// ChaCha8 stream of the noise path ω.
const NOISE_STREAM: u64 = 1;

/// What to simulate: the particle cloud, the map and how the exponents are averaged.
///
/// The defaults are the paper's figure 6 (600,000 particles, 250 steps, η = 0.15, σ = 0.1)
/// with our choices for what the paper leaves open: particles start uniformly in [−3, 3]², and
/// the exponents are averaged over the last 50 steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttractorSettings {
    /// Number of particles, all driven by the same noise path.
    pub particles: usize,
    /// Number of noisy gradient steps.
    pub steps: usize,
    /// Learning rate η, in (0, 2).
    pub eta: f64,
    /// Standard deviation σ of the Gaussian kick added after each gradient step (0 for plain
    /// gradient descent).
    pub sigma: f64,
    /// Seed of the ChaCha8 generator behind the initial positions and the noise path.
    pub seed: u64,
    /// Lower and upper bound of the square [lo, hi]² the particles start in, uniformly.
    pub initial_box: [f64; 2],
    /// Number of final steps whose per-step sups (and means) are averaged into λ₁ and λ₂.
    pub exponent_steps: usize,
}

impl Default for AttractorSettings {
    fn default() -> Self {
        Self {
            particles: 600_000,
            steps: 250,
            eta: 0.15,
            sigma: 0.1,
            seed: 0,
            initial_box: [-3.0, 3.0],
            exponent_steps: 50,
        }
    }
}

impl AttractorSettings {
    /// Checks that the settings describe a simulation that can run.
    ///
    /// η must lie in (0, 2): the ½‖x‖² part of the loss contributes the linear factor (1 − η)
    /// to the map and the rest of the gradient is bounded, so |1 − η| < 1 keeps the cloud
    /// bounded, whereas for η ≥ 2 it can escape to infinity.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the first offending field.
    pub fn validate(&self) -> Result<()> {
        let invalid = |key: &str, expected: &str, found: String| Error::Config {
            key: format!("toy.{key}"),
            expected: expected.to_owned(),
            found,
        };
        if self.particles == 0 {
            return Err(invalid("particles", "at least 1", "0".to_owned()));
        }
        if self.steps == 0 {
            return Err(invalid("steps", "at least 1", "0".to_owned()));
        }
        if !(self.eta > 0.0 && self.eta < 2.0) {
            return Err(invalid("eta", "a number in (0, 2)", self.eta.to_string()));
        }
        if !(self.sigma >= 0.0 && self.sigma.is_finite()) {
            return Err(invalid("sigma", "a finite number ≥ 0", self.sigma.to_string()));
        }
        let [lo, hi] = self.initial_box;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(invalid(
                "initial_box",
                "finite bounds [lo, hi] with lo < hi",
                format!("[{lo}, {hi}]"),
            ));
        }
        if self.exponent_steps == 0 || self.exponent_steps > self.steps {
            return Err(invalid(
                "exponent_steps",
                "between 1 and steps",
                format!("{} with {} steps", self.exponent_steps, self.steps),
            ));
        }
        Ok(())
    }
}

/// The RDS exponents λ₁ ≥ λ₂ measured on the particle cloud, in two variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exponents {
    /// Index of the first measured step: the exponents of step t are taken at the positions
    /// x_t before that step, for t in `first_step..steps`.
    pub first_step: usize,
    /// λ_k = mean over the measured steps of sup over particles of ln σ_k, for k = 1, 2
    /// (PAPER.md §2).
    pub sup: [f64; 2],
    /// The less conservative variant: mean over the measured steps of the mean over particles
    /// of ln σ_k.
    pub mean: [f64; 2],
    /// Sup over particles of (ln σ₁, ln σ₂) at each measured step, in step order.
    pub per_step_sup: Vec<[f64; 2]>,
    /// Mean over particles of (ln σ₁, ln σ₂) at each measured step, in step order.
    pub per_step_mean: Vec<[f64; 2]>,
}

/// The particle cloud after the last step, with the noise that produced it and the exponents
/// measured along the way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attractor {
    /// The settings that produced this cloud.
    pub settings: AttractorSettings,
    /// Final positions x_T, one per particle, in the order of the starting points.
    pub positions: Vec<[f64; 2]>,
    /// The noise path ξ_0, …, ξ_{T−1} (standard normal; the kick of step t is σ·ξ_t).
    pub noise: Vec<[f64; 2]>,
    /// λ₁ and λ₂ over the last [`AttractorSettings::exponent_steps`] steps.
    pub exponents: Exponents,
}

impl Attractor {
    /// The final positions as one flat slice (x₁, x₂, x₁, x₂, …), the layout point-cloud code
    /// such as box counting takes.
    pub fn flat_positions(&self) -> &[f64] {
        self.positions.as_flattened()
    }
}

/// Eigenvalues of ∇²L(x), largest first: 1 + 32·cos(4(x₁ ∓ x₂)) (see the module docs).
pub fn hessian_eigenvalues(x: [f64; 2]) -> [f64; 2] {
    let across = 1.0 + 32.0 * (4.0 * (x[0] - x[1])).cos();
    let along = 1.0 + 32.0 * (4.0 * (x[0] + x[1])).cos();
    [across.max(along), across.min(along)]
}

/// ln σ₁ ≥ ln σ₂ of the one-step Jacobian I − η·∇²L(x): the logarithms of |1 − η·α| over the
/// Hessian eigenvalues α, largest first. An eigenvalue exactly at 1/η gives −∞.
pub fn log_singular_values(x: [f64; 2], eta: f64) -> [f64; 2] {
    let [a, b] = hessian_eigenvalues(x);
    sorted_logs(1.0 - eta * a, 1.0 - eta * b)
}

/// The particles' starting points: uniform in the square `initial_box`², from stream 0 of the
/// seeded ChaCha8 generator (x₁ then x₂ for each particle in turn).
pub fn initial_positions(settings: &AttractorSettings) -> Vec<[f64; 2]> {
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    rng.set_stream(INITIAL_STREAM);
    let [lo, hi] = settings.initial_box;
    (0..settings.particles).map(|_| [rng.gen_range(lo..hi), rng.gen_range(lo..hi)]).collect()
}

/// The noise path ξ_0, …, ξ_{T−1} of standard normal pairs, from stream 1 of the seeded ChaCha8
/// generator. It depends on the seed and the number of steps only, not on the particles.
pub fn noise_path(settings: &AttractorSettings) -> Vec<[f64; 2]> {
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    rng.set_stream(NOISE_STREAM);
    (0..settings.steps).map(|_| [rng.sample(StandardNormal), rng.sample(StandardNormal)]).collect()
}

/// Runs the noisy gradient descent of the module docs from [`initial_positions`] along
/// [`noise_path`], measuring the exponents on the last `exponent_steps` steps.
///
/// # Errors
///
/// [`Error::Config`] when [`AttractorSettings::validate`] rejects the settings.
pub fn simulate(settings: &AttractorSettings) -> Result<Attractor> {
    settings.validate()?;
    simulate_from(settings, initial_positions(settings))
}

/// Like [`simulate`], but from the given starting points instead of [`initial_positions`]
/// (`settings.particles` and `settings.initial_box` are then not used).
///
/// # Errors
///
/// [`Error::Config`] when [`AttractorSettings::validate`] rejects the settings or `start` is
/// empty.
pub fn simulate_from(settings: &AttractorSettings, start: Vec<[f64; 2]>) -> Result<Attractor> {
    settings.validate()?;
    if start.is_empty() {
        return Err(Error::Config {
            key: "toy starting points".to_owned(),
            expected: "at least one point".to_owned(),
            found: "none".to_owned(),
        });
    }
    let mut positions = start;
    let noise = noise_path(settings);
    let first_step = settings.steps - settings.exponent_steps;
    let count = positions.len() as f64;

    let mut per_step_sup = Vec::with_capacity(settings.exponent_steps);
    let mut per_step_mean = Vec::with_capacity(settings.exponent_steps);
    for (t, xi) in noise.iter().enumerate() {
        let kick = [settings.sigma * xi[0], settings.sigma * xi[1]];
        let measure = t >= first_step;
        let chunks: Vec<ChunkStats> = positions
            .par_chunks_mut(CHUNK)
            .map(|chunk| advance(chunk, settings.eta, kick, measure))
            .collect();
        if measure {
            let total = chunks.iter().fold(ChunkStats::EMPTY, |acc, c| acc.merge(c));
            per_step_sup.push(total.sup);
            per_step_mean.push([total.sum[0] / count, total.sum[1] / count]);
        }
    }
    tracing::debug!(particles = positions.len(), steps = settings.steps, "toy attractor simulated");

    let exponents = Exponents {
        first_step,
        sup: mean_over_steps(&per_step_sup),
        mean: mean_over_steps(&per_step_mean),
        per_step_sup,
        per_step_mean,
    };
    Ok(Attractor { settings: settings.clone(), positions, noise, exponents })
}

/// Sup and sum over a chunk of particles of (ln σ₁, ln σ₂).
#[derive(Debug, Clone, Copy)]
struct ChunkStats {
    sup: [f64; 2],
    sum: [f64; 2],
}

impl ChunkStats {
    const EMPTY: Self = Self { sup: [f64::NEG_INFINITY; 2], sum: [0.0; 2] };

    fn merge(self, other: &Self) -> Self {
        Self {
            sup: [self.sup[0].max(other.sup[0]), self.sup[1].max(other.sup[1])],
            sum: [self.sum[0] + other.sum[0], self.sum[1] + other.sum[1]],
        }
    }
}

/// Advances every particle of `chunk` by one step with the shared `kick` = σ·ξ_t; when
/// `measure` is set, also returns the sup and sum of the log singular values of the step's
/// Jacobian at the positions before the step. The trigonometric values are shared by the
/// gradient and the Hessian.
fn advance(chunk: &mut [[f64; 2]], eta: f64, kick: [f64; 2], measure: bool) -> ChunkStats {
    let mut stats = ChunkStats::EMPTY;
    for x in chunk {
        let ([s1, s2], [c1, c2]) = sin_cos([4.0 * x[0], 4.0 * x[1]]);
        if measure {
            // Eigenvalues 1 + 32·(c1c2 ± s1s2) = 1 + 32·cos(4(x₁ ∓ x₂)).
            let (even, odd) = (c1 * c2, s1 * s2);
            let logs = sorted_logs(
                1.0 - eta * (1.0 + 32.0 * (even + odd)),
                1.0 - eta * (1.0 + 32.0 * (even - odd)),
            );
            for k in 0..2 {
                stats.sup[k] = stats.sup[k].max(logs[k]);
                stats.sum[k] += logs[k];
            }
        }
        let gradient = [x[0] + 8.0 * s1 * c2, x[1] + 8.0 * c1 * s2];
        x[0] = x[0] - eta * gradient[0] + kick[0];
        x[1] = x[1] - eta * gradient[1] + kick[1];
    }
    stats
}

/// Arguments beyond this magnitude go to the standard library's `sin` and `cos`; below it the
/// three-part reduction of [`sin_cos`] is exact to far below an ulp (|k| < 2^16, so every
/// k·`PI_2_HI` and k·`PI_2_MID` is exact).
const FAST_TRIG_LIMIT: f64 = 1.0e5;

/// High part of π/2: `FRAC_PI_2` with its 17 lowest mantissa bits cleared, so that k·`PI_2_HI`
/// is exact for |k| < 2^17.
const PI_2_HI: f64 = f64::from_bits(std::f64::consts::FRAC_PI_2.to_bits() & !0x1_ffff);

/// Middle part of π/2: the bits of `FRAC_PI_2` that `PI_2_HI` drops (exact subtraction).
const PI_2_MID: f64 = std::f64::consts::FRAC_PI_2 - PI_2_HI;

/// Low part of π/2: π/2 − `FRAC_PI_2`, to double precision (the rest is below 1.5e-33).
const PI_2_LO: f64 = 6.123_233_995_736_766e-17;

/// sin r / r = Σ (−1)^i r^(2i) / (2i + 1)!, i = 0..=7, as coefficients of z = r².
const SIN_TAYLOR: [f64; 8] = [
    1.0,
    -1.0 / 6.0,
    1.0 / 120.0,
    -1.0 / 5_040.0,
    1.0 / 362_880.0,
    -1.0 / 39_916_800.0,
    1.0 / 6_227_020_800.0,
    -1.0 / 1_307_674_368_000.0,
];

/// cos r = Σ (−1)^i r^(2i) / (2i)!, i = 0..=8, as coefficients of z = r².
const COS_TAYLOR: [f64; 9] = [
    1.0,
    -1.0 / 2.0,
    1.0 / 24.0,
    -1.0 / 720.0,
    1.0 / 40_320.0,
    -1.0 / 3_628_800.0,
    1.0 / 479_001_600.0,
    -1.0 / 87_178_291_200.0,
    1.0 / 20_922_789_888_000.0,
];

/// sin x and cos x of both coordinates of x, accurate to about an ulp and several times faster
/// than four calls into the standard library. The particle loop spends most of its time here;
/// the two coordinates go through the same operations side by side, which lets the compiler
/// use two-lane vector instructions.
///
/// x is reduced to r = x − k·π/2 with |r| ≤ π/4 (Cody–Waite: π/2 split in three parts, each
/// product with k exact or nearly so), sin r and cos r are evaluated from their Taylor series
/// up to r¹⁵ and r¹⁶ (truncation errors below 5e-17 and 3e-18 at |r| = π/4), and the quadrant
/// k mod 4 permutes and negates them.
#[inline]
fn sin_cos(x: [f64; 2]) -> ([f64; 2], [f64; 2]) {
    if x[0].abs() > FAST_TRIG_LIMIT || x[1].abs() > FAST_TRIG_LIMIT {
        let [(s0, c0), (s1, c1)] = x.map(f64::sin_cos);
        return ([s0, s1], [c0, c1]);
    }
    // Adding and subtracting 1.5·2^52 rounds to the nearest integer without a libm call.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let k = x.map(|x| (x * std::f64::consts::FRAC_2_PI + ROUND) - ROUND);
    let r = [0, 1].map(|i| ((x[i] - k[i] * PI_2_HI) - k[i] * PI_2_MID) - k[i] * PI_2_LO);
    let z = r.map(|r| r * r);

    // Taylor coefficients ±1/n! in z = r², evaluated by Estrin's scheme: pairs of terms are
    // independent, which halves the chain of dependent multiplications of Horner's rule.
    let z2 = z.map(|z| z * z);
    let z4 = z2.map(|z2| z2 * z2);
    let [s0, s1, s2, s3, s4, s5, s6, s7] = SIN_TAYLOR;
    let [c0, c1, c2, c3, c4, c5, c6, c7, c8] = COS_TAYLOR;
    let mut sin = [0.0; 2];
    let mut cos = [0.0; 2];
    for i in 0..2 {
        let (z, z2, z4) = (z[i], z2[i], z4[i]);
        let sin_low = (s0 + s1 * z) + z2 * (s2 + s3 * z);
        let sin_high = (s4 + s5 * z) + z2 * (s6 + s7 * z);
        let sin_r = r[i] * (sin_low + z4 * sin_high);
        let cos_low = (c0 + c1 * z) + z2 * (c2 + c3 * z);
        let cos_high = (c4 + c5 * z) + z2 * (c6 + c7 * z);
        let cos_r = cos_low + z4 * (cos_high + z4 * c8);

        // Quadrant q = k mod 4: sin x = (sin r, cos r, −sin r, −cos r)[q], cos x = (cos r,
        // −sin r, −cos r, sin r)[q].
        let q = (k[i] as i64) & 3;
        let (a, b) = if q & 1 == 0 { (sin_r, cos_r) } else { (cos_r, sin_r) };
        sin[i] = if q & 2 == 0 { a } else { -a };
        cos[i] = if (q + 1) & 2 == 0 { b } else { -b };
    }
    (sin, cos)
}

/// ln|a| and ln|b|, largest first.
fn sorted_logs(a: f64, b: f64) -> [f64; 2] {
    let (a, b) = (a.abs(), b.abs());
    [a.max(b).ln(), a.min(b).ln()]
}

/// Component-wise mean of a non-empty list of pairs.
fn mean_over_steps(values: &[[f64; 2]]) -> [f64; 2] {
    let n = values.len() as f64;
    let sum = values.iter().fold([0.0; 2], |acc, v| [acc[0] + v[0], acc[1] + v[1]]);
    [sum[0] / n, sum[1] / n]
}

#[cfg(test)]
mod tests {
    use super::*;
    use gates_models::toy;

    /// A small run: a few particles, short, with the paper's η and σ.
    fn small(particles: usize, steps: usize, exponent_steps: usize) -> AttractorSettings {
        AttractorSettings { particles, steps, exponent_steps, seed: 7, ..Default::default() }
    }

    /// Eigenvalues of a symmetric 2×2 matrix by the general formula, largest first.
    fn symmetric_eigenvalues(m: [[f64; 2]; 2]) -> [f64; 2] {
        let mid = 0.5 * (m[0][0] + m[1][1]);
        let radius = (0.25 * (m[0][0] - m[1][1]).powi(2) + m[0][1] * m[1][0]).sqrt();
        [mid + radius, mid - radius]
    }

    #[test]
    fn fast_sine_and_cosine_match_the_standard_library() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let near_quadrants = (-40..40).flat_map(|k| {
            let x = f64::from(k) * std::f64::consts::FRAC_PI_2;
            [x, x * (1.0 + f64::EPSILON), x * (1.0 - f64::EPSILON), x + 1e-9, x - 3e-7]
        });
        let random = (0..100_000).map(|i| {
            let scale = [1.0, 30.0, 1e3, 1e5, 2e6][i % 5];
            scale * rng.gen_range(-1.0..1.0)
        });
        for x in near_quadrants.chain(random) {
            let ([s, _], [c, _]) = sin_cos([x, 0.5]);
            let tolerance = 2.5e-16;
            assert!((s - x.sin()).abs() <= tolerance, "sin {x}: {s} vs {}", x.sin());
            assert!((c - x.cos()).abs() <= tolerance, "cos {x}: {c} vs {}", x.cos());
        }
    }

    #[test]
    fn closed_form_eigenvalues_match_the_hessian() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let x = [rng.gen_range(-4.0..4.0), rng.gen_range(-4.0..4.0)];
            let h = toy::hessian(x);
            let closed = hessian_eigenvalues(x);
            let general = symmetric_eigenvalues(h);
            for k in 0..2 {
                assert!((closed[k] - general[k]).abs() < 1e-9, "{x:?}: {closed:?} vs {general:?}");
            }
            // The eigenvectors are (1, ±1)/√2 at every x: H·v = α·v for one of the two α.
            for v in [[1.0, 1.0], [1.0, -1.0]] {
                let hv = [h[0][0] * v[0] + h[0][1] * v[1], h[1][0] * v[0] + h[1][1] * v[1]];
                let rayleigh = (hv[0] * v[0] + hv[1] * v[1]) / 2.0;
                assert!((hv[0] - rayleigh * v[0]).abs() < 1e-9);
                assert!((hv[1] - rayleigh * v[1]).abs() < 1e-9);
                assert!(closed.iter().any(|a| (a - rayleigh).abs() < 1e-9));
            }
        }
    }

    #[test]
    fn one_step_is_a_gradient_step_plus_the_shared_kick() {
        let settings = small(5, 1, 1);
        let start = initial_positions(&settings);
        let xi = noise_path(&settings)[0];
        let end = simulate(&settings).unwrap().positions;
        for (x, y) in start.iter().zip(&end) {
            let g = toy::gradient(*x);
            for i in 0..2 {
                let expected = x[i] - settings.eta * g[i] + settings.sigma * xi[i];
                assert!((y[i] - expected).abs() < 1e-12, "{y:?} vs {x:?} stepped");
            }
        }
    }

    #[test]
    fn particles_from_one_point_stay_together() {
        let start = vec![[0.4, -1.3], [2.0, 0.1], [0.4, -1.3]];
        let end = simulate_from(&small(3, 100, 10), start).unwrap().positions;
        assert_eq!(end[0], end[2]);
        assert_ne!(end[0], end[1]);
    }

    #[test]
    fn noise_path_does_not_depend_on_the_particles() {
        let a = simulate(&small(3, 20, 5)).unwrap();
        let b = simulate(&small(30, 20, 5)).unwrap();
        assert_eq!(a.noise, b.noise);
        assert_eq!(a.noise.len(), 20);
    }

    #[test]
    fn noiseless_descent_with_a_small_step_reaches_a_stationary_point() {
        let settings = AttractorSettings { eta: 0.02, sigma: 0.0, ..small(16, 3000, 1) };
        let end = simulate(&settings).unwrap().positions;
        for x in end {
            let g = toy::gradient(x);
            assert!(g[0].hypot(g[1]) < 1e-8, "gradient {g:?} at {x:?}");
        }
    }

    /// Over a few steps only: the map is chaotic (λ₁ ≈ 1.7), so rounding differences between
    /// the fast sine and the standard library's grow by a factor of about 5 per step.
    #[test]
    fn exponents_match_a_direct_computation() {
        let settings = small(9, 7, 4);
        let attractor = simulate(&settings).unwrap();

        let mut positions = initial_positions(&settings);
        let noise = noise_path(&settings);
        let mut sups = Vec::new();
        let mut means = Vec::new();
        for (t, xi) in noise.iter().enumerate() {
            if t >= settings.steps - settings.exponent_steps {
                let logs: Vec<[f64; 2]> = positions
                    .iter()
                    .map(|&x| {
                        let alpha = symmetric_eigenvalues(toy::hessian(x));
                        let mut s = alpha.map(|a| (1.0 - settings.eta * a).abs().ln());
                        s.sort_by(|a, b| b.total_cmp(a));
                        s
                    })
                    .collect();
                let sup = [0, 1].map(|k| logs.iter().map(|l| l[k]).fold(f64::MIN, f64::max));
                let mean = [0, 1].map(|k| logs.iter().map(|l| l[k]).sum::<f64>() / 9.0);
                sups.push(sup);
                means.push(mean);
            }
            for x in &mut positions {
                let g = toy::gradient(*x);
                *x = [0, 1].map(|i| x[i] - settings.eta * g[i] + settings.sigma * xi[i]);
            }
        }

        let e = &attractor.exponents;
        assert_eq!(e.first_step, 3);
        assert_eq!(e.per_step_sup.len(), 4);
        for (got, want) in
            e.per_step_sup.iter().zip(&sups).chain(e.per_step_mean.iter().zip(&means))
        {
            for k in 0..2 {
                assert!((got[k] - want[k]).abs() < 1e-9, "{got:?} vs {want:?}");
            }
        }
        for k in 0..2 {
            let sup = sups.iter().map(|s| s[k]).sum::<f64>() / 4.0;
            let mean = means.iter().map(|s| s[k]).sum::<f64>() / 4.0;
            assert!((e.sup[k] - sup).abs() < 1e-9);
            assert!((e.mean[k] - mean).abs() < 1e-9);
        }
        assert!(e.sup[0] >= e.sup[1] && e.mean[0] >= e.mean[1]);
        // α ∈ [−31, 33], so no singular value exceeds max(1 + 31η, 33η − 1).
        let ceiling = (1.0 + 31.0 * settings.eta).max(33.0 * settings.eta - 1.0).ln();
        assert!(e.per_step_sup.iter().all(|s| s[0] <= ceiling + 1e-12));
        assert!(e.sup[0] >= e.mean[0] && e.sup[1] >= e.mean[1]);
        for (x, y) in positions.iter().zip(&attractor.positions) {
            assert!((x[0] - y[0]).abs() < 1e-9 && (x[1] - y[1]).abs() < 1e-9);
        }
    }

    #[test]
    fn results_do_not_depend_on_the_number_of_threads() {
        let settings = small(3 * CHUNK + 17, 6, 3);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| simulate(&settings).unwrap())
        };
        let one = run(1);
        assert_eq!(one, run(3));
        assert_eq!(one, run(4));
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let bad = [
            AttractorSettings { particles: 0, ..Default::default() },
            AttractorSettings { steps: 0, ..Default::default() },
            AttractorSettings { eta: 2.0, ..Default::default() },
            AttractorSettings { eta: f64::NAN, ..Default::default() },
            AttractorSettings { sigma: -0.1, ..Default::default() },
            AttractorSettings { initial_box: [1.0, 1.0], ..Default::default() },
            AttractorSettings { exponent_steps: 251, ..Default::default() },
            AttractorSettings { exponent_steps: 0, ..Default::default() },
        ];
        for settings in bad {
            assert!(matches!(simulate(&settings), Err(Error::Config { .. })), "{settings:?}");
        }
    }

    #[test]
    fn settings_round_trip_through_toml_with_defaults_filled_in() {
        let settings: AttractorSettings = toml::from_str("particles = 1000\nsigma = 0.2").unwrap();
        assert_eq!(settings.particles, 1000);
        assert_eq!(settings.sigma, 0.2);
        assert_eq!(settings.eta, 0.15);
        let text = toml::to_string(&settings).unwrap();
        assert_eq!(toml::from_str::<AttractorSettings>(&text).unwrap(), settings);
    }

    /// The paper's figure 6 run, timed, with its exponents, the SD they give and the
    /// box-counting dimension of the final cloud, for the default noise path and two others
    /// (`GATES_SLOW_TESTS=1`, best with `--release`). PAPER.md §2: box dimension ≤ D_s ≤ SD.
    #[test]
    #[allow(clippy::print_stdout, reason = "the measurement prints the numbers quoted in the docs")]
    fn paper_settings() {
        use gates_bound::boxcount::{box_counting, BoxCountParams};
        use gates_bound::sd::sharpness_dimension;

        if std::env::var("GATES_SLOW_TESTS").map_or(true, |v| v != "1") {
            return;
        }
        for seed in 0..3 {
            let settings = AttractorSettings { seed, ..Default::default() };
            let clock = std::time::Instant::now();
            let attractor = simulate(&settings).unwrap();
            let simulated = clock.elapsed();
            let clock = std::time::Instant::now();
            let boxes =
                box_counting(attractor.flat_positions(), 2, &BoxCountParams::default()).unwrap();
            let counted = clock.elapsed();

            let e = &attractor.exponents;
            let sd_sup = sharpness_dimension(&e.sup).unwrap().sd;
            let sd_mean = sharpness_dimension(&e.mean).unwrap().sd;
            println!(
                "seed {seed}: simulated in {simulated:.2?} on {} threads, boxes counted in \
                 {counted:.2?}",
                rayon::current_num_threads()
            );
            println!(
                "  sup:  λ1 = {:.4}, λ2 = {:.4}, SD = {sd_sup:.3}\n  mean: λ1 = {:.4}, \
                 λ2 = {:.4}, SD = {sd_mean:.3}",
                e.sup[0], e.sup[1], e.mean[0], e.mean[1]
            );
            println!(
                "  box-counting dimension {:.4}, r² = {:.5}, intercept {:.3}",
                boxes.dim, boxes.r_squared, boxes.intercept
            );
            for s in &boxes.scales {
                println!("    ε = 1/{:<4} N = {:>6} {}", s.boxes_per_side, s.count, s.fitted);
            }
            assert!(boxes.dim <= sd_sup.min(sd_mean) + 0.05);
        }
    }
}
