//! `gates export`: a checkpoint's parameters as a safetensors file with named tensors in
//! PyTorch's `nn.Linear` layout, loadable by `safetensors.torch.load_file` and by JAX.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use gates_artifacts::{
    read_blob, read_header, write_atomic, Checkpoint, Format, TensorData, Trajectory,
};
use safetensors::tensor::{Dtype, TensorView};

/// Arguments of `gates export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A checkpoint file, or a trajectory (then --checkpoint picks one of its checkpoints).
    file: PathBuf,
    /// Which checkpoint of a trajectory: `final` or a step.
    #[arg(long, default_value = "final")]
    checkpoint: String,
    /// The safetensors file to write.
    #[arg(long, short)]
    out: PathBuf,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

/// The checkpoint file a user means: the file itself, or one of a trajectory's checkpoints.
pub fn resolve_checkpoint(file: &Path, which: &str) -> Result<PathBuf> {
    let header = read_header(file).with_context(|| format!("cannot read {}", file.display()))?;
    if header.format == Checkpoint::NAME {
        return Ok(file.to_path_buf());
    }
    if header.format != Trajectory::NAME {
        bail!(
            "{}: expected a checkpoint or a trajectory, found a {} file",
            file.display(),
            header.format
        );
    }
    let traj = read_blob::<Trajectory>(file)?.body;
    let entry = match which {
        "final" => traj.checkpoints.last(),
        step => {
            let step: u64 = step.parse().with_context(|| {
                format!("invalid --checkpoint {step:?}: expected final or a step")
            })?;
            traj.checkpoint_at(step)
        }
    };
    let Some(entry) = entry else {
        let steps: Vec<String> = traj.checkpoints.iter().map(|c| c.step.to_string()).collect();
        bail!("{} has no checkpoint {which}; it has steps [{}]", file.display(), steps.join(", "));
    };
    Ok(file.parent().unwrap_or(Path::new(".")).join(&entry.file))
}

fn le_bytes(data: &TensorData) -> (Dtype, Vec<u8>) {
    match data {
        TensorData::F32(v) => (Dtype::F32, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        TensorData::F64(v) => (Dtype::F64, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
    }
}

/// Runs `gates export`.
pub fn run(args: ExportArgs) -> Result<()> {
    if args.out.exists() && !args.force {
        bail!("{} already exists: pass --force to overwrite it", args.out.display());
    }
    let path = resolve_checkpoint(&args.file, &args.checkpoint)?;
    let artifact = read_blob::<Checkpoint>(&path)
        .with_context(|| format!("cannot export {}", path.display()))?;
    let ckpt = artifact.body;

    let buffers: Vec<(String, Vec<usize>, Dtype, Vec<u8>)> = ckpt
        .params
        .iter()
        .map(|p| {
            let (dtype, bytes) = le_bytes(&p.data);
            (p.name.clone(), p.shape.clone(), dtype, bytes)
        })
        .collect();
    let mut views = Vec::new();
    for (name, shape, dtype, bytes) in &buffers {
        let view = TensorView::new(*dtype, shape.clone(), bytes)
            .with_context(|| format!("tensor {name} does not match its shape {shape:?}"))?;
        views.push((name.clone(), view));
    }
    let metadata: HashMap<String, String> = [
        ("format".to_string(), "gates.checkpoint".to_string()),
        ("step".to_string(), ckpt.step.to_string()),
        ("settings".to_string(), artifact.header.settings_json.clone()),
        (
            "layout".to_string(),
            "nn.Linear: weight [out, in]; y = x @ weight.T (+ bias)".to_string(),
        ),
    ]
    .into_iter()
    .collect();
    let bytes = safetensors::tensor::serialize(views, &Some(metadata))
        .context("cannot encode safetensors")?;
    write_atomic(&args.out, &bytes)?;
    crate::say(&format!(
        "wrote {} tensors of step {} to {}",
        ckpt.params.len(),
        ckpt.step,
        args.out.display()
    ));
    Ok(())
}
