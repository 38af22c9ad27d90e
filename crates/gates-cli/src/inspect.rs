//! `gates inspect`: the header, settings and contents of any artifact, as text or JSON.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use gates_artifacts::{
    read_any, AnyArtifact, Header, RunStatus, SpectrumMethod, Trajectory, ENVELOPE_VERSION,
};
use serde_json::{json, Value};

/// Arguments of `gates inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Any gates artifact: trajectory, checkpoint, window, spectrum, bound or complexity file.
    file: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `gates inspect`.
pub fn run(args: InspectArgs) -> Result<()> {
    let (header, artifact) =
        read_any(&args.file).with_context(|| format!("cannot inspect {}", args.file.display()))?;
    let settings: Value = serde_json::from_str(&header.settings_json).with_context(|| {
        format!("{}: the settings in the header are not JSON", args.file.display())
    })?;
    let summary = summarize(&artifact);
    if args.json {
        let out = json!({
            "file": args.file.display().to_string(),
            "header": header_json(&header),
            "settings": settings,
            "contents": summary,
        });
        crate::say(&serde_json::to_string_pretty(&out)?);
    } else {
        crate::say(&render_text(&args.file, &header, &settings, &artifact));
    }
    Ok(())
}

fn header_json(h: &Header) -> Value {
    json!({
        "format": h.format,
        "format_version": h.format_version,
        "envelope_version": ENVELOPE_VERSION,
        "producer": format!("{} {}", h.producer.name, h.producer.version),
        "created_unix_s": h.created_unix_s,
        "created": utc(h.created_unix_s),
    })
}

/// `YYYY-MM-DD HH:MM:SS UTC` from Unix seconds (civil-from-days, proleptic Gregorian).
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn status_json(s: &RunStatus) -> Value {
    match *s {
        RunStatus::InProgress { step } => json!({"state": "in-progress", "step": step}),
        RunStatus::Completed { steps } => json!({"state": "completed", "steps": steps}),
        RunStatus::Diverged { step, loss } => {
            json!({"state": "diverged", "step": step, "loss": loss.to_string()})
        }
    }
}

fn trajectory_json(t: &Trajectory) -> Value {
    let evaluations: Vec<Value> = t
        .evaluations
        .iter()
        .map(|e| {
            json!({
                "step": e.step, "epoch": e.epoch,
                "train_loss": e.train.loss, "train_accuracy": e.train.accuracy,
                "test_loss": e.test.loss, "test_accuracy": e.test.accuracy,
                "loss_gap": e.loss_gap(), "accuracy_gap": e.accuracy_gap(),
            })
        })
        .collect();
    let finite: Vec<f64> = t.step_loss.iter().copied().filter(|x| x.is_finite()).collect();
    json!({
        "model": t.model.description,
        "param_count": t.model.param_count,
        "dataset": t.dataset,
        "dtype": t.dtype.name(),
        "status": status_json(&t.status),
        "planned_steps": t.planned_steps,
        "steps_per_epoch": t.steps_per_epoch,
        "steps_recorded": t.step_loss.len(),
        "step_loss": {
            "first": t.step_loss.first(),
            "last": t.step_loss.last().map(|x| x.to_string()),
            "min": finite.iter().copied().reduce(f64::min),
            "max": finite.iter().copied().reduce(f64::max),
        },
        "final": evaluations.last(),
        "evaluations": evaluations,
        "checkpoints": t.checkpoints,
        "window": t.window,
        "wall_time_s": t.wall_time_s,
    })
}

fn summarize(artifact: &AnyArtifact) -> Value {
    match artifact {
        AnyArtifact::Trajectory(t) => trajectory_json(t),
        AnyArtifact::Checkpoint(c) => json!({
            "step": c.step,
            "param_count": c.param_count(),
            "params": c.params.iter().map(|p| json!({"name": p.name, "shape": p.shape, "dtype": p.data.dtype().name()})).collect::<Vec<_>>(),
            "optimizer": {"kind": c.optimizer.kind, "updates": c.optimizer.updates, "buffers": c.optimizer.buffers.len()},
        }),
        AnyArtifact::Window { preamble, records } => json!({
            "kind": format!("{:?}", preamble.kind).to_lowercase(),
            "param_count": preamble.param_count,
            "eval_samples": preamble.eval_indices.len(),
            "capacity": preamble.capacity,
            "records": records,
        }),
        AnyArtifact::Spectrum(s) => {
            let (method, detail) = match &s.method {
                SpectrumMethod::Dense { minibatches } => {
                    let asymmetry = minibatches.iter().map(|m| m.asymmetry).fold(0.0, f64::max);
                    ("dense", json!({"minibatches": minibatches.len(), "max_asymmetry": asymmetry}))
                }
                SpectrumMethod::Lanczos { top, bottom, steps, converged, .. } => (
                    "lanczos",
                    json!({"top": top, "bottom": bottom, "steps": steps, "converged": converged}),
                ),
                SpectrumMethod::Slq { steps, runs } => {
                    let invariant = runs.iter().filter(|r| r.invariant).count();
                    (
                        "slq",
                        json!({"steps": steps, "runs": runs.len(), "invariant_runs": invariant}),
                    )
                }
            };
            json!({
                "source": s.source, "eta": s.eta, "batch_size": s.batch_size, "param_count": s.param_count,
                "method": method, "detail": detail, "trace": s.trace, "top_eigenvalue": s.top_eigenvalue,
            })
        }
        AnyArtifact::Bound(b) => serde_json::to_value(b).unwrap_or(Value::Null),
        AnyArtifact::Complexity(c) => serde_json::to_value(c).unwrap_or(Value::Null),
    }
}

fn render_text(
    file: &std::path::Path,
    h: &Header,
    settings: &Value,
    artifact: &AnyArtifact,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "file       {}", file.display());
    let _ =
        writeln!(s, "format     {} v{} (envelope v{ENVELOPE_VERSION})", h.format, h.format_version);
    let _ = writeln!(s, "producer   {} {}", h.producer.name, h.producer.version);
    let _ = writeln!(s, "created    {}", utc(h.created_unix_s));
    let _ = writeln!(s, "\nsettings");
    for line in settings_text(settings).lines() {
        let _ = writeln!(s, "  {line}");
    }
    let _ = writeln!(s, "\ncontents");
    match artifact {
        AnyArtifact::Trajectory(t) => render_trajectory(&mut s, t),
        other => {
            let pretty = serde_json::to_string_pretty(&summarize(other)).unwrap_or_default();
            for line in pretty.lines() {
                let _ = writeln!(s, "  {line}");
            }
        }
    }
    s.trim_end().to_string()
}

/// Settings as TOML (the language of config files) when they form a table, else as JSON.
fn settings_text(settings: &Value) -> String {
    fn strip_nulls(v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), strip_nulls(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(strip_nulls).collect()),
            other => other.clone(),
        }
    }
    let stripped = strip_nulls(settings);
    match toml::to_string(&stripped) {
        Ok(text) if stripped.is_object() => text,
        _ => serde_json::to_string_pretty(settings).unwrap_or_default(),
    }
}

fn render_trajectory(s: &mut String, t: &Trajectory) {
    let _ = writeln!(
        s,
        "  model        {} ({} parameters, {})",
        t.model.description,
        t.model.param_count,
        t.dtype.name()
    );
    let d = &t.dataset;
    let _ = writeln!(
        s,
        "  data         {}: {} train, {} test, {} features, {} classes",
        d.name, d.n_train, d.n_test, d.input_dim, d.classes
    );
    let epochs = |steps: u64| steps as f64 / t.steps_per_epoch.max(1) as f64;
    let status = match t.status {
        RunStatus::Completed { steps } => {
            format!("completed {steps} steps ({:.2} epochs)", epochs(steps))
        }
        RunStatus::InProgress { step } => {
            format!("in progress: {step} of {} steps", t.planned_steps)
        }
        RunStatus::Diverged { step, loss } => format!("diverged at step {step} (loss {loss})"),
    };
    let _ = writeln!(s, "  status       {status}, {:.1} s of training", t.wall_time_s);
    let _ = writeln!(s, "  steps/epoch  {}", t.steps_per_epoch);
    let _ = writeln!(s, "\n  evaluations");
    let _ = writeln!(
        s,
        "  {:>9} {:>8} {:>10} {:>9} {:>10} {:>9} {:>9} {:>8}",
        "step", "epoch", "train loss", "train acc", "test loss", "test acc", "loss gap", "acc gap"
    );
    for e in &t.evaluations {
        let _ = writeln!(
            s,
            "  {:>9} {:>8.2} {:>10.4} {:>8.2}% {:>10.4} {:>8.2}% {:>9.4} {:>7.2}%",
            e.step,
            e.epoch,
            e.train.loss,
            100.0 * e.train.accuracy,
            e.test.loss,
            100.0 * e.test.accuracy,
            e.loss_gap(),
            100.0 * e.accuracy_gap()
        );
    }
    let _ = writeln!(
        s,
        "\n  checkpoints  {}",
        if t.checkpoints.is_empty() { "none".to_string() } else { String::new() }
    );
    for c in &t.checkpoints {
        let _ = writeln!(s, "    step {:>9}  {}", c.step, c.file);
    }
    match &t.window {
        Some(w) => {
            let _ = writeln!(
                s,
                "  window       {} iterates from step {} in {}",
                w.count, w.first_step, w.file
            );
        }
        None => {
            let _ = writeln!(s, "  window       none");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates_are_right() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(super::utc(1_796_300_000), "2026-12-03 12:13:20 UTC");
    }
}
