//! `cargo xtask`: repository automation that needs nothing but cargo.
//!
//! - `cargo xtask ci`: the checks CI runs, cheapest first (tidy, fmt, clippy, the CUDA
//!   type-check, tests).
//! - `cargo xtask tidy`: repository rules that no compiler checks (every Rust file opens with a
//!   `//!` comment; the README's test command is the one CI runs). They also run as tests of
//!   this crate.
//! - `cargo xtask reproduce figN [--scale smoke|default|paper]`: a figure of the paper end to
//!   end, from training to the plot ([`reproduce`]).

mod plot;
mod reproduce;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The test command of the README's first screen, which CI runs.
pub const TEST_COMMAND: &str = "cargo test --workspace --locked";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

#[allow(clippy::print_stderr, reason = "xtask echoes the commands it runs")]
fn run(args: &[&str]) -> Result<()> {
    let (program, rest) = args.split_first().expect("a command");
    eprintln!("$ {}", args.join(" "));
    let status = Command::new(program)
        .args(rest)
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    if !status.success() {
        bail!("`{}` failed with {status}", args.join(" "));
    }
    Ok(())
}

fn ci() -> Result<()> {
    tidy::check(&root())?;
    run(&["cargo", "fmt", "--all", "--check"])?;
    run(&["cargo", "clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])?;
    run(&[
        "cargo",
        "clippy",
        "-p",
        "gates-cli",
        "--features",
        "cuda,ci-check",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    let test: Vec<&str> = TEST_COMMAND.split(' ').collect();
    run(&test)
}

#[allow(clippy::print_stderr, reason = "xtask talks to the developer on stderr")]
fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("tidy") => tidy::check(&root()),
        Some("reproduce") => reproduce::main(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <ci|tidy|reproduce>\n  ci         the checks CI runs\n  tidy       repository rules\n  reproduce  a figure of the paper end to end (cargo xtask reproduce --help)");
            bail!("unknown or missing command")
        }
    }
}
