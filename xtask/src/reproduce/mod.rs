//! `cargo xtask reproduce`: the paper's figures end to end (PAPER.md §6).
//!
//! Each figure is a pipeline of cached stages that join the crates only through their artifacts
//! (train → spectrum → bound, train → window → complexity), followed by statistics, tables, a
//! plot and a report. Every setting of a figure lives in its module's `settings` function, one
//! block per scale; the settings are printed before anything runs and saved next to the results.
//!
//! ```text
//! <out>/<figure>/settings.toml     what ran
//!                report.md         settings, time per stage, findings as numbers
//!                <figure>.svg/png  the plot
//!                *.csv, *.md       the numbers behind it
//!                runs/…            one folder per stage (artifacts + stage.json)
//! ```

mod cache;
mod estimate;
mod fig6;
mod grid;
mod grokking;
mod parallel;
mod stages;
mod stats;
mod table;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use cache::{write_text, StageTime, Timings};

/// How much of the paper's compute to spend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scale {
    /// Tiny models and grids: every pipeline end to end in about a minute (CI runs it).
    Smoke,
    /// The embedded MNIST subset with documented reductions: minutes on a laptop.
    Default,
    /// The paper's settings: full MNIST from --data-dir, days of CPU time.
    Paper,
}

impl Scale {
    fn name(self) -> &'static str {
        match self {
            Scale::Smoke => "smoke",
            Scale::Default => "default",
            Scale::Paper => "paper",
        }
    }
}

/// Which figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// Exact SD, SD-SLQ, λ₁, PH-dim and E_α vs the gaps, 3-layer MLP on MNIST.
    Fig2,
    /// SD-SLQ and SD-KDE vs PH-dim and E_α, 5-layer MLP on MNIST.
    Fig3,
    /// Grokking on addition mod 97, 2-layer GELU MLP, SGD with momentum and weight decay.
    Fig4,
    /// The 2-D toy random attractor and its box-counting dimension vs SD.
    Fig6,
    /// Grokking on addition mod 97, 3-layer ReLU MLP, SGD with weight decay.
    Fig7,
    /// Every figure above.
    All,
}

/// Arguments of `cargo xtask reproduce`.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask reproduce",
    bin_name = "cargo xtask reproduce",
    about = "Reproduce a figure of the paper end to end"
)]
pub struct Args {
    /// Which figure.
    #[arg(value_enum)]
    pub figure: Which,
    /// How much compute to spend.
    #[arg(long, value_enum, default_value = "default")]
    pub scale: Scale,
    /// Folder of the full MNIST IDX files (needed by --scale paper for figures 2 and 3).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Output folder; each figure writes into a subfolder.
    #[arg(long, default_value = "runs/reproduce")]
    pub out: PathBuf,
    /// Grid cells run at the same time.
    #[arg(long, default_value_t = default_jobs())]
    pub jobs: usize,
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What a figure's pipeline hands back for its report.
pub struct Findings {
    /// Short sentences with numbers.
    pub lines: Vec<String>,
    /// Files written (plots, tables), relative to the figure's folder.
    pub files: Vec<String>,
}

/// Where and how a figure runs.
pub struct Ctx {
    /// The figure's folder.
    pub dir: PathBuf,
    /// Cells at a time.
    pub jobs: usize,
    /// Stage times.
    pub timings: Timings,
    /// Progress over the figure's cells.
    pub progress: ProgressBar,
}

impl Ctx {
    /// Counts a finished unit of work on the progress bar.
    pub fn tick(&self, message: &str) {
        self.progress.set_message(message.to_string());
        self.progress.inc(1);
    }
}

/// Runs `cargo xtask reproduce` with command-line `args` (after the subcommand).
pub fn main(args: &[String]) -> Result<()> {
    let args =
        Args::try_parse_from(std::iter::once("reproduce".to_string()).chain(args.iter().cloned()))
            // Usage errors exit with clap's message and code 2; --help prints and exits with 0.
            .unwrap_or_else(|e| e.exit());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    run(&args).map(|_| ())
}

/// Runs the figures `args` names; returns the folders they were written to.
pub fn run(args: &Args) -> Result<Vec<PathBuf>> {
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let figures = match args.figure {
        Which::All => vec![Which::Fig2, Which::Fig3, Which::Fig4, Which::Fig6, Which::Fig7],
        one => vec![one],
    };
    let mut dirs = Vec::new();
    for figure in figures {
        dirs.push(run_one(args, figure)?);
    }
    Ok(dirs)
}

fn name(figure: Which) -> &'static str {
    match figure {
        Which::Fig2 => "fig2",
        Which::Fig3 => "fig3",
        Which::Fig4 => "fig4",
        Which::Fig6 => "fig6",
        Which::Fig7 => "fig7",
        Which::All => "all",
    }
}

/// A figure's settings, made before anything runs.
enum Planned {
    Grid(grid::GridSettings),
    Grokking(grokking::GrokkingSettings),
    Toy(fig6::ToySettings),
}

fn plan(figure: Which, scale: Scale, data_dir: Option<&Path>) -> Result<Planned> {
    Ok(match figure {
        Which::Fig2 => Planned::Grid(grid::fig2(scale, data_dir)?),
        Which::Fig3 => Planned::Grid(grid::fig3(scale, data_dir)?),
        Which::Fig4 => Planned::Grokking(grokking::fig4(scale)),
        Which::Fig7 => Planned::Grokking(grokking::fig7(scale)),
        Which::Fig6 => Planned::Toy(fig6::settings(scale)),
        Which::All => unreachable!("expanded by run"),
    })
}

#[allow(clippy::print_stderr, reason = "xtask talks to the developer on stderr")]
fn run_one(args: &Args, figure: Which) -> Result<PathBuf> {
    let figure_name = name(figure);
    let dir = args.out.join(figure_name);
    let planned = plan(figure, args.scale, args.data_dir.as_deref())?;
    let (settings_toml, units, estimate) = match &planned {
        Planned::Grid(s) => (toml::to_string_pretty(s)?, s.units(), estimate::grid(s)),
        Planned::Grokking(s) => (toml::to_string_pretty(s)?, s.units(), estimate::grokking(s)),
        Planned::Toy(s) => (toml::to_string_pretty(s)?, 1, estimate::toy(s)),
    };
    eprintln!(
        "── {figure_name} at scale {} → {}\n{}\nexpected time with {} job(s): {}",
        args.scale.name(),
        dir.display(),
        settings_toml.trim_end(),
        args.jobs,
        estimate::human(estimate / args.jobs.min(units.max(1)) as f64),
    );
    if args.scale == Scale::Paper {
        eprintln!("(a rough estimate from the cost of each stage on a 2-core machine; stages cache, so an interrupted run resumes where it stopped)");
    }
    write_text(&dir.join("settings.toml"), &settings_toml)?;

    let progress = ProgressBar::new(units as u64).with_style(
        ProgressStyle::with_template("{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("valid template"),
    );
    progress.set_prefix(figure_name);
    let ctx = Ctx { dir: dir.clone(), jobs: args.jobs, timings: Timings::default(), progress };
    let clock = Instant::now();
    let findings = match &planned {
        Planned::Grid(s) => grid::run(&ctx, s)?,
        Planned::Grokking(s) => grokking::run(&ctx, s)?,
        Planned::Toy(s) => fig6::run(&ctx, s)?,
    };
    ctx.progress.finish_and_clear();
    let wall = clock.elapsed().as_secs_f64();
    let report = report(figure_name, args, &settings_toml, wall, &ctx.timings.all(), &findings);
    write_text(&dir.join("report.md"), &report)?;
    eprintln!(
        "{}\n{figure_name}: done in {} → {}",
        findings.lines.join("\n"),
        estimate::human(wall),
        dir.display()
    );
    Ok(dir)
}

/// The figure's report in Markdown.
fn report(
    figure: &str,
    args: &Args,
    settings_toml: &str,
    wall: f64,
    times: &[StageTime],
    findings: &Findings,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {figure}: reproduction at scale `{}`\n", args.scale.name());
    let _ = writeln!(
        s,
        "Command: `cargo xtask reproduce {figure} --scale {}{} --jobs {}`  \nWall time: {}\n",
        args.scale.name(),
        args.data_dir.as_ref().map_or(String::new(), |d| format!(" --data-dir {}", d.display())),
        args.jobs,
        estimate::human(wall)
    );
    let _ = writeln!(s, "## Findings\n");
    for line in &findings.lines {
        let _ = writeln!(s, "- {line}");
    }
    let _ = writeln!(s, "\n## Files\n");
    for file in &findings.files {
        let _ = writeln!(s, "- [{file}]({file})");
    }
    let _ = writeln!(s, "\n## Time per stage\n");
    let _ = writeln!(
        s,
        "| stage | runs | computed now | cached | seconds (sum) |\n|---|---|---|---|---|"
    );
    let mut kinds: Vec<&str> = times.iter().map(|t| t.stage.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        let of: Vec<&StageTime> = times.iter().filter(|t| t.stage == kind).collect();
        let cached = of.iter().filter(|t| t.cached).count();
        let seconds: f64 = of.iter().map(|t| t.seconds).sum();
        let _ = writeln!(
            s,
            "| {kind} | {} | {} | {cached} | {seconds:.1} |",
            of.len(),
            of.len() - cached
        );
    }
    let _ = writeln!(s, "\nCached stages show the time they took when they were computed.");
    let _ = writeln!(s, "\n## Settings\n\n```toml\n{}\n```", settings_toml.trim_end());
    s
}
