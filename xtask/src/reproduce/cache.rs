//! Stages cached by a hash of their settings.
//!
//! A stage owns one folder. When it finishes, `stage.json` records the settings' key, the
//! settings themselves, how long the stage took and its result (small: paths and a few numbers;
//! the real results are the artifacts in the folder). A rerun with the same key returns the
//! recorded result without running anything. A folder whose `started.json` holds another key
//! (the settings changed) is wiped before the stage runs again; a folder with the same key but
//! no `stage.json` was interrupted, and the stage may pick up what it left (training resumes
//! from its rolling checkpoint). Keys include every artifact format's version, so a build that
//! reads a newer format recomputes the stages that wrote the older one.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// File that marks a finished stage.
const DONE: &str = "stage.json";
/// File that marks a started stage.
const STARTED: &str = "started.json";

/// The 64-bit FNV-1a hash of `settings` as JSON, in hex: the cache key of a stage.
pub fn key_of(settings: &impl Serialize) -> Result<String> {
    let json = serde_json::to_string(settings).context("cannot serialise stage settings")?;
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in json.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    Ok(format!("{hash:016x}"))
}

#[derive(Serialize, Deserialize)]
struct Record<S, T> {
    key: String,
    stage: String,
    seconds: f64,
    settings: S,
    result: T,
}

#[derive(Serialize, Deserialize)]
struct Started {
    key: String,
}

/// How long one stage took, or that it came from the cache.
#[derive(Clone, Debug, Serialize)]
pub struct StageTime {
    /// Kind of stage, for example `train` or `spectrum-slq`.
    pub stage: String,
    /// The stage's folder.
    pub dir: PathBuf,
    /// Seconds of the run that produced the result (also when it was cached).
    pub seconds: f64,
    /// Whether this reproduction reused it.
    pub cached: bool,
}

/// The stage times of one reproduction, collected from every worker thread.
#[derive(Default)]
pub struct Timings {
    times: Mutex<Vec<StageTime>>,
}

impl Timings {
    fn push(&self, time: StageTime) {
        self.times.lock().expect("timings lock").push(time);
    }

    /// Every stage so far.
    pub fn all(&self) -> Vec<StageTime> {
        self.times.lock().expect("timings lock").clone()
    }
}

/// Runs the stage `stage` in `dir` unless it already finished with the same `settings`; returns
/// its result and key. `work` gets the (existing) folder and the stage's key.
pub fn stage<S, T>(
    timings: &Timings,
    dir: &Path,
    stage: &str,
    settings: &S,
    work: impl FnOnce(&Path) -> Result<T>,
) -> Result<(T, String)>
where
    S: Serialize,
    T: Serialize + DeserializeOwned,
{
    // The artifact formats are part of the key: a stage whose files this build can no longer
    // read (a format's version changed) is redone rather than served.
    let key = key_of(&(stage, gates_artifacts::KNOWN_FORMATS, settings))?;
    let done = dir.join(DONE);
    if done.exists() {
        let text =
            fs::read_to_string(&done).with_context(|| format!("cannot read {}", done.display()))?;
        match serde_json::from_str::<Record<serde_json::Value, T>>(&text) {
            Ok(record) if record.key == key => {
                tracing::debug!(dir = %dir.display(), stage, "cached");
                timings.push(StageTime {
                    stage: stage.into(),
                    dir: dir.to_path_buf(),
                    seconds: record.seconds,
                    cached: true,
                });
                return Ok((record.result, key));
            }
            Ok(_) => tracing::info!(dir = %dir.display(), stage, "settings changed: redoing"),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), stage, "unreadable stage record ({e}): redoing")
            }
        }
    }
    let started = dir.join(STARTED);
    let resumable = fs::read_to_string(&started)
        .ok()
        .and_then(|t| serde_json::from_str::<Started>(&t).ok())
        .is_some_and(|s| s.key == key && !done.exists());
    if !resumable && dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_json(&started, &Started { key: key.clone() })?;

    let clock = Instant::now();
    let result = work(dir).with_context(|| format!("stage {stage} in {}", dir.display()))?;
    let seconds = clock.elapsed().as_secs_f64();
    let record = Record { key: key.clone(), stage: stage.into(), seconds, settings, result };
    write_json(&done, &record)?;
    timings.push(StageTime { stage: stage.into(), dir: dir.to_path_buf(), seconds, cached: false });
    Ok((record.result, key))
}

/// Writes `value` as pretty JSON to `path` through a temporary file and a rename.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    write_text(path, &serde_json::to_string_pretty(value)?)
}

/// Writes `text` to `path` through a temporary file in the same folder and a rename.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_finished_stage_is_reused_and_changed_settings_redo_it() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("s");
        let timings = Timings::default();
        let runs = Cell::new(0);
        let work = |d: &Path| {
            runs.set(runs.get() + 1);
            fs::write(d.join("out.txt"), "x")?;
            Ok(runs.get())
        };
        let (first, key) = stage(&timings, &dir, "demo", &1, work).unwrap();
        let (again, same) = stage(&timings, &dir, "demo", &1, work).unwrap();
        assert_eq!((first, again, runs.get()), (1, 1, 1));
        assert_eq!(key, same);
        let (changed, other) = stage(&timings, &dir, "demo", &2, work).unwrap();
        assert_eq!((changed, runs.get()), (2, 2));
        assert_ne!(key, other);
        let cached: Vec<bool> = timings.all().iter().map(|t| t.cached).collect();
        assert_eq!(cached, [false, true, false]);
    }

    #[test]
    fn an_interrupted_stage_keeps_its_files_and_a_stale_one_is_wiped() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("s");
        let timings = Timings::default();
        let failed: Result<((), String)> = stage(&timings, &dir, "demo", &1, |d| {
            fs::write(d.join("partial.txt"), "half")?;
            anyhow::bail!("interrupted")
        });
        assert!(failed.unwrap_err().to_string().contains("stage demo"));
        let (kept, _) =
            stage(&timings, &dir, "demo", &1, |d| Ok(d.join("partial.txt").exists())).unwrap();
        assert!(kept, "same settings resume in place");

        let _ = stage(&timings, &dir, "demo", &3, |d| -> Result<()> {
            fs::write(d.join("partial.txt"), "half")?;
            anyhow::bail!("interrupted")
        });
        let (kept, _) =
            stage(&timings, &dir, "demo", &4, |d| Ok(d.join("partial.txt").exists())).unwrap();
        assert!(!kept, "other settings start clean");
    }
}
