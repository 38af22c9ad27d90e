//! The `gates` command: train networks and record their trajectories, inspect any artifact,
//! export checkpoints for PyTorch and JAX.
//!
//! The binary owns the user interface: argument parsing, the tracing subscriber behind
//! `--verbose`, progress bars, and the exit code (0 success, 1 failure, 2 bad usage). Every
//! error is printed with its whole chain of causes.

mod bound;
mod complexity;
mod device;
mod export;
mod inspect;
mod overrides;
mod progress;
mod spectrum;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Measure the geometry of neural-network training at the edge of stability.
#[derive(Debug, Parser)]
#[command(name = "gates", version, about, max_term_width = 100)]
struct Cli {
    /// Log what the libraries do (-v: info, -vv: debug, -vvv: trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a model and record its trajectory, checkpoints and iterate window.
    Train(train::TrainArgs),
    /// Show the header, settings and contents of any gates artifact.
    Inspect(inspect::InspectArgs),
    /// Export a checkpoint's parameters as safetensors with named tensors.
    Export(export::ExportArgs),
    /// Hessian spectra of minibatch losses at a checkpoint: dense, Lanczos or SLQ.
    Spectrum(spectrum::SpectrumArgs),
    /// Sharpness dimension and the generalization bound, term by term, from a spectrum.
    Bound(bound::BoundArgs),
    /// PH-dim or E_α of a run's iterate window (Euclidean or loss-based ρ metric).
    Complexity(complexity::ComplexityArgs),
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Prints a command's result on stdout. A reader that went away (`gates inspect … | head`) ends
/// the program quietly, as for any Unix filter.
pub fn say(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        panic!("cannot write to stdout: {e}");
    }
}

#[allow(clippy::print_stderr, reason = "the binary reports errors on stderr")]
fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Train(args) => train::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Export(args) => export::run(args),
        Command::Spectrum(args) => spectrum::run(args),
        Command::Bound(args) => bound::run(args),
        Command::Complexity(args) => complexity::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
