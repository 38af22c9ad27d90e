//! Figure 6: the random attractor of noisy gradient descent on the 2-D toy loss
//! L(x) = ½‖x‖² − 2·cos(4x₁)·cos(4x₂), and our own check of the theory next to it: the
//! box-counting dimension of the particle cloud against the toy's sharpness dimension (PAPER.md
//! §2 proves upper box dimension ≤ D_s ≤ SD).
//!
//! Stage 1 (gates-dynamics) simulates the particles, all driven by one noise path, and measures
//! the exponents λ₁, λ₂; it writes the final cloud as raw little-endian f64 pairs
//! (`particles.f64`) and everything else as JSON (`attractor.json`). Stage 2 (gates-bound) reads
//! the cloud back and counts boxes.

use std::fs;
use std::path::Path;

use anyhow::{ensure, Context, Result};
use gates_bound::boxcount::{box_counting, BoxCountParams, BoxCounting};
use gates_bound::sd::sharpness_dimension;
use gates_dynamics::toy::{simulate, AttractorSettings, Exponents};
use serde::{Deserialize, Serialize};

use super::cache::{stage, write_json};
use super::table::{Cell, Table};
use super::{Ctx, Findings, Scale};
use crate::plot;

/// Everything figure 6 runs.
#[derive(Clone, Debug, Serialize)]
pub struct ToySettings {
    /// The scale.
    pub scale: Scale,
    /// How this scale departs from the paper.
    pub reductions: String,
    /// The particle simulation.
    pub attractor: AttractorSettings,
    /// The box count.
    pub box_count: BoxCountParams,
    /// Bins per side of the density picture.
    pub picture_bins: usize,
}

/// Figure 6's settings.
pub fn settings(scale: Scale) -> ToySettings {
    let paper = AttractorSettings::default();
    let (reductions, attractor) = match scale {
        Scale::Paper | Scale::Default => (
            "none: 600,000 particles, 250 steps, η = 0.15, σ = 0.1; the start box [−3, 3]² and averaging the exponents over the last 50 steps are ours".to_string(),
            paper,
        ),
        Scale::Smoke => (
            "20,000 particles and 100 steps (exponents over the last 20): checks the pipeline".to_string(),
            AttractorSettings { particles: 20_000, steps: 100, exponent_steps: 20, ..paper },
        ),
    };
    ToySettings {
        scale,
        reductions,
        attractor,
        box_count: BoxCountParams::default(),
        picture_bins: 400,
    }
}

/// What the simulation stage keeps besides the cloud.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Simulated {
    exponents: Exponents,
    particles: usize,
}

const CLOUD: &str = "particles.f64";

fn write_cloud(path: &Path, points: &[f64]) -> Result<()> {
    let bytes: Vec<u8> = points.iter().flat_map(|x| x.to_le_bytes()).collect();
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))
}

fn read_cloud(path: &Path, particles: usize) -> Result<Vec<f64>> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    ensure!(
        bytes.len() == particles * 16,
        "{}: expected {} bytes ({particles} particles × 2 f64), found {}",
        path.display(),
        particles * 16,
        bytes.len()
    );
    Ok(bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
}

/// Runs figure 6.
pub fn run(ctx: &Ctx, s: &ToySettings) -> Result<Findings> {
    let sim_dir = ctx.dir.join("runs").join("simulate");
    let (simulated, sim_key) =
        stage(&ctx.timings, &sim_dir, "toy-simulate", &s.attractor, |dir| {
            let attractor = simulate(&s.attractor)?;
            write_cloud(&dir.join(CLOUD), attractor.flat_positions())?;
            let simulated =
                Simulated { exponents: attractor.exponents, particles: attractor.positions.len() };
            write_json(&dir.join("attractor.json"), &simulated)?;
            Ok(simulated)
        })?;
    let cloud = read_cloud(&sim_dir.join(CLOUD), simulated.particles)?;
    let (boxes, _) = stage(
        &ctx.timings,
        &ctx.dir.join("runs").join("box-count"),
        "box-count",
        &(&sim_key, &s.box_count),
        |_| Ok(box_counting(&cloud, 2, &s.box_count)?),
    )?;
    ctx.tick("attractor");

    let e = &simulated.exponents;
    let sd_sup = sharpness_dimension(&e.sup)?;
    let sd_mean = sharpness_dimension(&e.mean)?;
    let mut table = Table::new(&["quantity", "value"]);
    for (name, value) in [
        ("λ₁ (sup over the cloud)", e.sup[0]),
        ("λ₂ (sup over the cloud)", e.sup[1]),
        ("SD (sup exponents as in PAPER.md §2)", sd_sup.sd),
        ("λ₁ (mean over the cloud)", e.mean[0]),
        ("λ₂ (mean over the cloud)", e.mean[1]),
        ("SD (mean exponents)", sd_mean.sd),
        ("box-counting dimension", boxes.dim),
        ("box-counting r²", boxes.r_squared),
        ("particles", simulated.particles as f64),
    ] {
        table.push(vec![Cell::from(name), Cell::from(value)]);
    }
    table.write(&ctx.dir.join("dimensions"))?;
    let mut scales = Table::new(&["epsilon", "boxes_per_side", "count", "fitted"]);
    for b in &boxes.scales {
        scales.push(vec![
            b.epsilon.into(),
            (b.boxes_per_side as f64).into(),
            (b.count as f64).into(),
            (if b.fitted { "yes" } else { "no" }).into(),
        ]);
    }
    scales.write(&ctx.dir.join("box-counts"))?;

    plot::render(
        &figure(s, &cloud, &simulated.exponents, &boxes, sd_sup.sd, sd_mean.sd)?,
        &ctx.dir.join("fig6"),
    )?;
    let holds = if boxes.dim <= sd_sup.sd { "holds" } else { "is violated" };
    Ok(Findings {
        lines: vec![
            format!(
                "λ₁ = {:.4}, λ₂ = {:.4} (sup over the cloud, mean over {} steps): SD = {:.3}",
                e.sup[0],
                e.sup[1],
                e.per_step_sup.len(),
                sd_sup.sd
            ),
            format!("with exponents averaged over the cloud instead: λ₁ = {:.4}, λ₂ = {:.4}, SD = {:.3}", e.mean[0], e.mean[1], sd_mean.sd),
            format!(
                "box-counting dimension of the {} particles: {:.3} (r² = {:.4}, {} fitted scales)",
                simulated.particles,
                boxes.dim,
                boxes.r_squared,
                boxes.scales.iter().filter(|b| b.fitted).count()
            ),
            format!("the theory's inequality box dimension ≤ SD {holds} ({:.3} vs {:.3})", boxes.dim, sd_sup.sd),
        ],
        files: vec![
            "fig6.png".into(),
            "fig6.svg".into(),
            "dimensions.csv".into(),
            "dimensions.md".into(),
            "box-counts.csv".into(),
            "box-counts.md".into(),
            "settings.toml".into(),
        ],
    })
}

fn figure(
    s: &ToySettings,
    cloud: &[f64],
    e: &Exponents,
    boxes: &BoxCounting,
    sd_sup: f64,
    sd_mean: f64,
) -> Result<plot::Figure> {
    // The picture: a 2-D histogram over the cloud's bounding square.
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &x in cloud {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    let pad = 0.02 * (hi - lo).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let n = s.picture_bins;
    let mut counts = vec![0u32; n * n];
    let bin = |x: f64| (((x - lo) / (hi - lo) * n as f64) as usize).min(n - 1);
    for p in cloud.chunks_exact(2) {
        counts[bin(p[1]) * n + bin(p[0])] += 1;
    }
    let fitted: Vec<(f64, f64)> = boxes
        .scales
        .iter()
        .filter(|b| b.fitted)
        .map(|b| (1.0 / b.epsilon, b.count as f64))
        .collect();
    let unfitted: Vec<(f64, f64)> = boxes
        .scales
        .iter()
        .filter(|b| !b.fitted)
        .map(|b| (1.0 / b.epsilon, b.count as f64))
        .collect();
    let line: Vec<(f64, f64)> = fitted
        .iter()
        .map(|&(inv, _)| (inv, (boxes.intercept + boxes.dim * inv.ln()).exp()))
        .collect();
    let first = e.first_step;
    let per_step = |k: usize, of: &[[f64; 2]]| -> Vec<(f64, f64)> {
        of.iter().enumerate().map(|(i, v)| ((first + i) as f64, v[k])).collect()
    };
    let a = &s.attractor;
    Ok(plot::Figure {
        title: "Figure 6: random attractor of noisy gradient descent on a 2-D toy loss, and its dimension".into(),
        caption: vec![
            format!(
                "Scale {}: L(x) = ½‖x‖² − 2 cos(4x₁) cos(4x₂); x ← x − η∇L(x) + σξ_t with η = {}, σ = {}, one Gaussian ξ_t per step shared by all {} particles (started uniform in [{}, {}]²), {} steps, seed {}.",
                s.scale.name(), a.eta, a.sigma, a.particles, a.initial_box[0], a.initial_box[1], a.steps, a.seed
            ),
            format!(
                "Exponents λ_k = mean over the last {} steps of the sup over particles of ln σ_k(I − η∇²L): λ₁ = {:.4}, λ₂ = {:.4}, SD = {:.3} (with means over particles: SD = {:.3}).",
                a.exponent_steps, e.sup[0], e.sup[1], sd_sup, sd_mean
            ),
            format!(
                "Box-counting dimension of the final cloud: {:.3} (r² = {:.4}); the theory bounds it by SD. Reductions from the paper: {}",
                boxes.dim, boxes.r_squared, s.reductions
            ),
        ],
        columns: 3,
        panels: vec![
            plot::Panel::Density(plot::Density {
                title: format!("The cloud after {} steps ({} particles)", a.steps, a.particles),
                x_label: "x₁".into(),
                y_label: "x₂".into(),
                counts,
                rows: n,
                cols: n,
                x_range: (lo, hi),
                y_range: (lo, hi),
                log_counts: true,
            }),
            plot::Panel::Axes(plot::Axes {
                title: format!("Box counting: slope {:.3}", boxes.dim),
                x_label: "1/ε (boxes per side)".into(),
                y_label: "occupied boxes N(ε)".into(),
                x_log: true,
                y_log: true,
                x_range: None,
                y_range: None,
                series: vec![
                    plot::Series { label: "fitted scales".into(), points: fitted, style: plot::Style::Points },
                    plot::Series { label: "left out of the fit".into(), points: unfitted, style: plot::Style::Points },
                    plot::Series { label: format!("fit, dimension {:.3}", boxes.dim), points: line, style: plot::Style::Line },
                ],
            }),
            plot::Panel::Axes(plot::Axes {
                title: "Per-step exponents (sup over the cloud)".into(),
                x_label: "step t".into(),
                y_label: "sup ln σ_k(I − η∇²L)".into(),
                x_log: false,
                y_log: false,
                x_range: None,
                y_range: None,
                series: vec![
                    plot::Series { label: "k = 1".into(), points: per_step(0, &e.per_step_sup), style: plot::Style::Line },
                    plot::Series { label: "k = 2".into(), points: per_step(1, &e.per_step_sup), style: plot::Style::Line },
                ],
            }),
        ],
    })
}
