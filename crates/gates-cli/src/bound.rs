//! `gates bound`: the sharpness dimension of a spectrum and the generalization bound of
//! PAPER.md §3, every term on its own, written as a `gates.bound` artifact.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use gates_artifacts::{read_blob, write_blob, BoundReport, Producer, Spectrum, TermSource};
use gates_bound::report::{bound_report, BoundSettings, EstimatorChoice};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EstimatorArg {
    /// Exact SD for dense spectra, SD-SLQ for SLQ spectra.
    Auto,
    /// Exact SD from dense spectra.
    Exact,
    /// SD-SLQ (histogram).
    Slq,
    /// SD-KDE (Gaussian kernel density).
    Kde,
    /// SD-PS (pseudo-spectrum).
    Ps,
}

/// Arguments of `gates bound`.
#[derive(Debug, Args)]
pub struct BoundArgs {
    /// A spectrum file (`gates spectrum`), dense or SLQ.
    #[arg(long)]
    spectrum: PathBuf,
    /// Which SD estimate enters the bound.
    #[arg(long, value_enum, default_value = "auto")]
    estimator: EstimatorArg,
    /// Lipschitz constant L of the loss in the weights (the 2Lδ terms are omitted without it).
    #[arg(long)]
    lipschitz: Option<f64>,
    /// Bound B on the loss (1 gives the bound in units of B; exact for the 0–1 loss).
    #[arg(long, default_value_t = 1.0)]
    loss_bound: f64,
    /// Scale δ in (0, 1) (default 1/n).
    #[arg(long)]
    delta: Option<f64>,
    /// Confidence ζ in (0, 1).
    #[arg(long, default_value_t = 0.05)]
    zeta: f64,
    /// Mutual information I_∞ between attractor and data, if you have an estimate.
    #[arg(long)]
    mutual_information: Option<f64>,
    /// The theorem's constant C, if known.
    #[arg(long)]
    constant_c: Option<f64>,
    /// Stability coefficient β_n of the second form, if known.
    #[arg(long)]
    stability: Option<f64>,
    /// Output file (default: the spectrum's name with `.bound.gates`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `gates bound`.
pub fn run(args: BoundArgs) -> Result<()> {
    let spectrum = read_blob::<Spectrum>(&args.spectrum)
        .with_context(|| format!("cannot read the spectrum {}", args.spectrum.display()))?;
    let settings = BoundSettings {
        estimator: match args.estimator {
            EstimatorArg::Auto => EstimatorChoice::Auto,
            EstimatorArg::Exact => EstimatorChoice::Exact,
            EstimatorArg::Slq => EstimatorChoice::Slq,
            EstimatorArg::Kde => EstimatorChoice::Kde,
            EstimatorArg::Ps => EstimatorChoice::Ps,
        },
        delta: args.delta,
        zeta: args.zeta,
        lipschitz: args.lipschitz,
        loss_bound: args.loss_bound,
        mutual_information: args.mutual_information,
        constant_c: args.constant_c,
        stability: args.stability,
        ..BoundSettings::default()
    };
    let out = args.out.clone().unwrap_or_else(|| {
        let stem =
            args.spectrum.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        args.spectrum.with_file_name(format!("{stem}.bound.gates"))
    });
    if out.exists() && !args.force {
        bail!("{} already exists: pass --force to overwrite it", out.display());
    }

    let source = args.spectrum.display().to_string();
    let report = bound_report(&spectrum.body, &source, &settings)
        .with_context(|| format!("cannot evaluate the bound of {}", args.spectrum.display()))?;
    write_blob(&out, &Producer::new("gates-bound", gates_bound::VERSION), &settings, &report)?;

    if args.json {
        crate::say(&serde_json::to_string_pretty(&report)?);
    } else {
        crate::say(&render(&report));
    }
    crate::say(&format!("wrote {}", out.display()));
    Ok(())
}

/// The report as a readable table.
pub fn render(r: &BoundReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "sharpness dimension (d = {}, η = {})", r.param_count, r.eta);
    for e in &r.sharpness_dimension {
        let j = e.j_star.map_or(String::new(), |j| format!("  j* {j}"));
        let l = e.lambda1.map_or(String::new(), |l| format!("  λ₁ {l:.6}"));
        let chosen = if e.estimator == r.estimator { "  ← used in the bound" } else { "" };
        let _ = writeln!(s, "  {:<6} SD {:>12.4}{j}{l}{chosen}", e.estimator, e.sd);
    }
    if let Some(top) = r.classical_sharpness {
        let _ = writeln!(s, "  classical sharpness (top Hessian eigenvalue) {top:.6}");
    }
    if let Some(t) = r.trace {
        let _ = writeln!(
            s,
            "  Hessian trace {:.6} ± {:.6} ({} probes)",
            t.value, t.std_error, t.samples
        );
    }
    let i = &r.inputs;
    let _ = writeln!(
        s,
        "\ninputs: n = {}, δ = {:.4e}, ζ = {}, B = {}, L = {}",
        i.n,
        i.delta,
        i.zeta,
        i.loss_bound,
        i.lipschitz.map_or("not given".into(), |l| l.to_string())
    );
    for form in &r.forms {
        let _ = writeln!(s, "\nbound, {} form", form.name);
        for t in &form.terms {
            let value = match (t.value, t.source) {
                (Some(v), TermSource::Supplied) => format!("{v:.6} (supplied)"),
                (Some(v), _) => format!("{v:.6}"),
                (None, _) => "omitted".into(),
            };
            let _ = writeln!(s, "  {:<12} {:<42} {value}", t.name, t.formula);
        }
        let note = if form.partial {
            "  (omitted terms excluded: a lower bound on the bound)"
        } else {
            ""
        };
        let _ = writeln!(s, "  {:<12} {:<42} {:.6}{note}", "total", "", form.total);
    }
    s.trim_end().to_string()
}
