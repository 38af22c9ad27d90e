//! Repository rules that no compiler checks, run by `cargo xtask tidy` and as tests.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every Rust file opens with a `//!` comment saying what it is for.
pub fn files_open_with_doc_comments(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    rust_files(&root.join("xtask"), &mut files);
    files
        .into_iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap_or_default().trim_start().starts_with("//!"))
        .map(|f| format!("{}: does not open with a //! comment", f.display()))
        .collect()
}

/// The README shows the test command CI runs, and `.ci/run` runs it.
pub fn readme_and_ci_share_the_test_command(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
    let first_screen: String = readme.lines().take(40).collect::<Vec<_>>().join("\n");
    if !first_screen.contains(crate::TEST_COMMAND) {
        problems
            .push(format!("README.md: the first screen does not show `{}`", crate::TEST_COMMAND));
    }
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap_or_default();
    if !ci.lines().any(|l| l.trim() == crate::TEST_COMMAND) {
        problems
            .push(format!(".ci/run: does not run `{}` on a line of its own", crate::TEST_COMMAND));
    }
    problems
}

/// `gates-bound` reads artifacts only: it must never link dfdx.
pub fn bound_does_not_depend_on_dfdx(root: &Path) -> Vec<String> {
    let manifest =
        std::fs::read_to_string(root.join("crates/gates-bound/Cargo.toml")).unwrap_or_default();
    let forbidden = ["dfdx", "gates-models", "gates-autodiff", "gates-dynamics", "gates-spectral"];
    forbidden
        .iter()
        .filter(|dep| manifest.lines().any(|l| l.trim_start().starts_with(*dep)))
        .map(|dep| format!("crates/gates-bound/Cargo.toml: depends on {dep}"))
        .collect()
}

/// Runs every rule.
pub fn check(root: &Path) -> Result<()> {
    let mut problems = files_open_with_doc_comments(root);
    problems.extend(readme_and_ci_share_the_test_command(root));
    problems.extend(bound_does_not_depend_on_dfdx(root));
    if problems.is_empty() {
        return Ok(());
    }
    bail!("tidy found {} problem(s):\n{}", problems.len(), problems.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        crate::root()
    }

    #[test]
    fn every_rust_file_opens_with_a_doc_comment() {
        assert_eq!(files_open_with_doc_comments(&root()), Vec::<String>::new());
    }

    #[test]
    fn readme_shows_the_test_command_ci_runs() {
        assert_eq!(readme_and_ci_share_the_test_command(&root()), Vec::<String>::new());
    }

    #[test]
    fn gates_bound_never_links_dfdx() {
        assert_eq!(bound_does_not_depend_on_dfdx(&root()), Vec::<String>::new());
    }
}
