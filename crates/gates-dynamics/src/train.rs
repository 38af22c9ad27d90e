//! The training loop: SGD-type updates on minibatches drawn by [`MinibatchNoise`], recording the
//! trajectory, checkpoints and the iterate window as it goes, resumable from any checkpoint.
//!
//! Iterate t is the parameter vector after t steps, t = 0..=T. For each iterate, in this order:
//! evaluation (every `eval_every` steps, at checkpoints and at T), the window record (for the
//! last K iterates), the kept checkpoint (at the planned steps), the rolling resume checkpoint.
//! Every checkpoint is followed by an in-progress trajectory, so a run interrupted anywhere can
//! resume from its latest checkpoint and then produce exactly the files of an uninterrupted run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use dfdx::prelude::*;
use gates_artifacts::{
    producer, read_blob, write_blob, Checkpoint, CheckpointEntry, DType, Evaluation, RecordWriter,
    RunStatus, Trajectory, WindowEntry, WindowKind, WindowPreamble, WindowRecord,
};
use gates_models::data::{Dataset, Split};
use gates_models::{loss, Backend, LossKind, Mlp, Scalar};
use rand::SeedableRng;

use crate::config::{Plan, TrainConfig};
use crate::error::{Error, Result};
use crate::noise::MinibatchNoise;
use crate::optim::Optimizer;

/// File names inside a run's output folder.
pub mod files {
    /// The trajectory.
    pub const TRAJECTORY: &str = "trajectory.gates";
    /// The rolling resume checkpoint.
    pub const RESUME: &str = "resume.gates";
    /// The backward iterate window.
    pub const WINDOW: &str = "window.gates";
    /// The forward iterate window (simulated onward from the final checkpoint).
    pub const FORWARD_WINDOW: &str = "window-fwd.gates";
    /// The effective config, for people.
    pub const CONFIG: &str = "config.toml";

    /// The kept checkpoint at `step`.
    pub fn checkpoint(step: u64) -> String {
        format!("checkpoint-{step:08}.gates")
    }
}

/// How to run: where to write, whether to overwrite or resume.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Output folder.
    pub out_dir: PathBuf,
    /// Replace a previous run in `out_dir`.
    pub overwrite: bool,
    /// Continue from this checkpoint of a previous run in `out_dir`.
    pub resume_from: Option<PathBuf>,
    /// Stop after this many steps as if interrupted, leaving a resume checkpoint.
    pub stop_after: Option<u64>,
}

/// Hooks for progress display; every method has an empty default.
pub trait Observer {
    /// Training starts (or resumes) at `from_step` of `plan.total_steps`.
    fn started(&mut self, _plan: &Plan, _from_step: u64) {}
    /// Step `step` (1-based count of steps done) had minibatch loss `loss`.
    fn stepped(&mut self, _step: u64, _loss: f64) {}
    /// An evaluation finished.
    fn evaluated(&mut self, _evaluation: &Evaluation) {}
}

/// An observer that shows nothing.
pub struct Silent;

impl Observer for Silent {}

/// What a finished (or stopped) run left behind.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Path of the trajectory file.
    pub trajectory_path: PathBuf,
    /// Its contents.
    pub trajectory: Trajectory,
}

/// Trains as `config` says on device `dev`, in the precision the config names.
pub fn train<D>(
    dev: &D,
    config: &TrainConfig,
    options: &TrainOptions,
    observer: &mut dyn Observer,
) -> Result<Outcome>
where
    D: Backend<f32> + Backend<f64>,
{
    config.validate()?;
    let split = config.data.load()?;
    match config.dtype {
        DType::F32 => Run::<f32, D>::new(dev, config, options, &split)?.run(observer),
        DType::F64 => Run::<f64, D>::new(dev, config, options, &split)?.run(observer),
    }
}

/// Training-set indices of the fixed evaluation subset of the window: n′ of the n samples drawn
/// without replacement from a generator seeded with the training seed, sorted.
pub fn window_eval_indices(n_train: usize, wanted: usize, seed: u64) -> Vec<usize> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x005E_ED0F_E7A1);
    let mut idx = rand::seq::index::sample(&mut rng, n_train, wanted.min(n_train)).into_vec();
    idx.sort_unstable();
    idx
}

fn io_err<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> Error + 'p {
    move |source| Error::Io { action, path: path.to_path_buf(), source }
}

struct Run<'a, E: Scalar, D: Backend<E>> {
    config: &'a TrainConfig,
    options: &'a TrainOptions,
    split: &'a Split,
    plan: Plan,
    model: Mlp<E, D>,
    names: Vec<String>,
    optimizer: Optimizer<E, D>,
    noise: MinibatchNoise,
    eval_indices: Vec<usize>,
    trajectory: Trajectory,
    window: Option<RecordWriter>,
    start: u64,
}

impl<'a, E: Scalar, D: Backend<E>> Run<'a, E, D> {
    fn new(
        dev: &D,
        config: &'a TrainConfig,
        options: &'a TrainOptions,
        split: &'a Split,
    ) -> Result<Self> {
        let train = &split.train;
        let plan = config.plan(train.len(), train.input_dim, train.classes)?;
        let model = Mlp::<E, D>::init(&config.model, dev)?;
        let names: Vec<String> = config.model.param_specs().into_iter().map(|s| s.name).collect();
        let optimizer = Optimizer::new(&config.optimizer, model.params());
        let noise =
            MinibatchNoise::new(train.len(), config.training.batch_size, config.training.seed);
        let eval_indices = if plan.window_start.is_some() {
            window_eval_indices(
                train.len(),
                config.record.window_eval_samples,
                config.training.seed,
            )
        } else {
            vec![]
        };
        let trajectory = Trajectory {
            model: config.model.summary(),
            dataset: split.summary(),
            dtype: E::DTYPE,
            steps_per_epoch: plan.steps_per_epoch,
            planned_steps: plan.total_steps,
            status: RunStatus::InProgress { step: 0 },
            step_loss: Vec::with_capacity(plan.total_steps as usize),
            evaluations: vec![],
            checkpoints: vec![],
            window: None,
            wall_time_s: 0.0,
        };
        let mut run = Self {
            config,
            options,
            split,
            plan,
            model,
            names,
            optimizer,
            noise,
            eval_indices,
            trajectory,
            window: None,
            start: 0,
        };
        match &options.resume_from {
            Some(ckpt) => run.restore(ckpt)?,
            None => run.prepare_fresh_output()?,
        }
        Ok(run)
    }

    fn out(&self, name: &str) -> PathBuf {
        self.options.out_dir.join(name)
    }

    /// Creates the output folder, refusing to overwrite an earlier run unless asked.
    fn prepare_fresh_output(&self) -> Result<()> {
        let dir = &self.options.out_dir;
        std::fs::create_dir_all(dir).map_err(io_err("creating", dir))?;
        let ours = |name: &str| {
            name == files::TRAJECTORY
                || name == files::RESUME
                || name == files::CONFIG
                || name.starts_with("checkpoint-")
                || name.starts_with(files::WINDOW)
        };
        for entry in std::fs::read_dir(dir).map_err(io_err("listing", dir))? {
            let path = entry.map_err(io_err("listing", dir))?.path();
            let name =
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if !ours(&name) {
                continue;
            }
            if !self.options.overwrite {
                return Err(Error::OutputExists { path });
            }
            std::fs::remove_file(&path).map_err(io_err("removing", &path))?;
        }
        let config_path = self.out(files::CONFIG);
        gates_artifacts::write_atomic(&config_path, self.config.to_toml().as_bytes())?;
        Ok(())
    }

    /// Loads a checkpoint and the trajectory recorded up to it.
    fn restore(&mut self, ckpt: &Path) -> Result<()> {
        let resume_err = |reason: String| Error::Resume { path: ckpt.to_path_buf(), reason };
        let artifact = read_blob::<Checkpoint>(ckpt)?;
        let theirs: TrainConfig = artifact.header.settings(ckpt)?;
        for (section, same) in [
            ("dtype", theirs.dtype == self.config.dtype),
            ("loss", theirs.loss == self.config.loss),
            ("[data]", theirs.data == self.config.data),
            ("[model]", theirs.model == self.config.model),
            ("[optimizer]", theirs.optimizer == self.config.optimizer),
            ("[training]", theirs.training == self.config.training),
            ("[record]", theirs.record == self.config.record),
        ] {
            if !same {
                return Err(resume_err(format!("its {section} settings differ from this run's")));
            }
        }

        let step = artifact.body.step;
        if step >= self.plan.total_steps {
            return Err(resume_err(format!(
                "it is the final checkpoint (step {step}); the run is complete"
            )));
        }
        self.model =
            Mlp::from_named(&self.config.model, &self.model.device(), &artifact.body.params)?;
        self.optimizer.import(&artifact.body.optimizer, &self.names)?;

        let traj_path = self.out(files::TRAJECTORY);
        let mut traj = read_blob::<Trajectory>(&traj_path)?.body;
        if (traj.step_loss.len() as u64) < step {
            return Err(resume_err(format!(
                "{} records only {} steps",
                traj_path.display(),
                traj.step_loss.len()
            )));
        }
        traj.step_loss.truncate(step as usize);
        traj.evaluations.retain(|e| e.step <= step);
        traj.checkpoints.retain(|c| c.step <= step);
        traj.status = RunStatus::InProgress { step };

        if let Some(entry) = traj.window.as_mut().filter(|w| w.first_step <= step) {
            let keep = step - entry.first_step + 1;
            self.window =
                Some(RecordWriter::resume::<WindowPreamble>(&self.out(&entry.file), keep)?);
            entry.count = keep;
        } else {
            traj.window = None;
        }
        self.trajectory = traj;
        self.start = step;
        tracing::info!(step, checkpoint = %ckpt.display(), "resuming");
        Ok(())
    }

    fn evaluate(&self, step: u64) -> Evaluation {
        let kind = self.config.loss;
        Evaluation {
            step,
            epoch: step as f64 / self.plan.steps_per_epoch as f64,
            train: loss::evaluate(&self.model, &self.split.train, kind),
            test: loss::evaluate(&self.model, &self.split.test, kind),
        }
    }

    fn record_window(&mut self, step: u64) -> Result<()> {
        if self.window.is_none() {
            let preamble = WindowPreamble {
                kind: WindowKind::Backward,
                param_count: self.model.param_count() as u64,
                eval_indices: self.eval_indices.iter().map(|&i| i as u32).collect(),
                capacity: self.plan.total_steps + 1 - step,
            };
            let path = self.out(files::WINDOW);
            self.window = Some(RecordWriter::create(&path, &producer!(), self.config, &preamble)?);
            self.trajectory.window =
                Some(WindowEntry { file: files::WINDOW.into(), first_step: step, count: 0 });
        }
        let record = window_record(
            &self.model,
            &self.split.train,
            &self.eval_indices,
            self.config.loss,
            step,
        );
        self.window.as_mut().expect("created above").append(&record.encode())?;
        if let Some(entry) = self.trajectory.window.as_mut() {
            entry.count += 1;
        }
        Ok(())
    }

    fn checkpoint_body(&self, step: u64) -> Checkpoint {
        Checkpoint {
            step,
            params: self.model.to_named(),
            optimizer: self.optimizer.export(&self.names),
        }
    }

    /// Writes a checkpoint, then the trajectory so far, so the pair can always resume.
    fn write_checkpoint(&mut self, step: u64, name: &str, kept: bool, wall: f64) -> Result<()> {
        if let Some(w) = self.window.as_mut() {
            w.flush()?;
        }
        write_blob(&self.out(name), &producer!(), self.config, &self.checkpoint_body(step))?;
        if kept {
            self.trajectory.checkpoints.push(CheckpointEntry { step, file: name.into() });
        }
        self.trajectory.status = RunStatus::InProgress { step };
        self.write_trajectory(wall)
    }

    fn write_trajectory(&mut self, wall: f64) -> Result<()> {
        let mut snapshot = self.trajectory.clone();
        snapshot.wall_time_s += wall;
        write_blob(&self.out(files::TRAJECTORY), &producer!(), self.config, &snapshot)?;
        Ok(())
    }

    /// Everything recorded about iterate `t` (skipped for the iterate a resume starts from,
    /// which the checkpoint's run already recorded).
    fn record_iterate(&mut self, t: u64, wall: f64, observer: &mut dyn Observer) -> Result<()> {
        let plan = &self.plan;
        let kept = plan.checkpoint_steps.binary_search(&t).is_ok();
        if t % plan.eval_every == 0 || kept || t == plan.total_steps {
            let evaluation = self.evaluate(t);
            observer.evaluated(&evaluation);
            tracing::debug!(
                step = t,
                train_loss = evaluation.train.loss,
                test_acc = evaluation.test.accuracy,
                "evaluated"
            );
            self.trajectory.evaluations.push(evaluation);
        }
        if self.plan.window_start.is_some_and(|s| t >= s) {
            self.record_window(t)?;
        }
        if kept {
            self.write_checkpoint(t, &files::checkpoint(t), true, wall)?;
        }
        Ok(())
    }

    fn run(mut self, observer: &mut dyn Observer) -> Result<Outcome> {
        let clock = Instant::now();
        let total = self.plan.total_steps;
        observer.started(&self.plan, self.start);
        tracing::info!(
            steps = total,
            from = self.start,
            params = self.model.param_count(),
            model = %self.config.model.describe(),
            "training"
        );

        let mut t = self.start;
        let status = loop {
            let wall = clock.elapsed().as_secs_f64();
            if t > self.start || self.options.resume_from.is_none() {
                self.record_iterate(t, wall, observer)?;
            }
            if t == total {
                break RunStatus::Completed { steps: total };
            }
            if self.options.stop_after == Some(t) {
                self.write_checkpoint(t, files::RESUME, false, wall)?;
                tracing::info!(step = t, "stopped as asked; resume from {}", files::RESUME);
                return Ok(Outcome {
                    trajectory_path: self.out(files::TRAJECTORY),
                    trajectory: self.finish_snapshot(wall),
                });
            }
            if self.plan.resume_every > 0 && t > self.start && t % self.plan.resume_every == 0 {
                self.write_checkpoint(t, files::RESUME, false, wall)?;
            }

            let batch = self.noise.batch(t).to_vec();
            let value = step(
                &mut self.model,
                &mut self.optimizer,
                &self.split.train,
                &batch,
                self.config.loss,
            );
            self.trajectory.step_loss.push(value);
            if !value.is_finite() {
                tracing::warn!(step = t, loss = value, "loss is not finite; the run diverged");
                break RunStatus::Diverged { step: t, loss: value };
            }
            t += 1;
            observer.stepped(t, value);
        };

        if let Some(window) = self.window.take() {
            window.finish()?;
        }
        let wall = clock.elapsed().as_secs_f64();
        self.trajectory.status = status;
        self.write_trajectory(wall)?;
        let resume = self.out(files::RESUME);
        if resume.exists() {
            std::fs::remove_file(&resume).map_err(io_err("removing", &resume))?;
        }
        Ok(Outcome {
            trajectory_path: self.out(files::TRAJECTORY),
            trajectory: self.finish_snapshot(wall),
        })
    }

    fn finish_snapshot(&self, wall: f64) -> Trajectory {
        let mut t = self.trajectory.clone();
        t.wall_time_s += wall;
        t
    }
}

/// The window record of the model's current iterate: its parameters and its per-sample losses
/// on the evaluation subset.
pub fn window_record<E: Scalar, D: Backend<E>>(
    model: &Mlp<E, D>,
    train: &Dataset,
    eval_indices: &[usize],
    kind: LossKind,
    step: u64,
) -> WindowRecord {
    let losses = loss::per_sample_losses(model, train, eval_indices, kind);
    WindowRecord {
        step,
        params: model.flat().into_iter().map(|x| x.f64() as f32).collect(),
        losses: losses.into_iter().map(|x| x as f32).collect(),
    }
}

/// One optimizer step on the minibatch `batch` of `data`: forward with a tape, backward, update.
/// Returns the minibatch loss before the update; when it is not finite the parameters are left
/// as they were (the caller records the divergence).
pub fn step<E: Scalar, D: Backend<E>>(
    model: &mut Mlp<E, D>,
    optimizer: &mut Optimizer<E, D>,
    data: &Dataset,
    batch: &[usize],
    kind: LossKind,
) -> f64 {
    let dev = model.device();
    let x = data.inputs_tensor::<E, D>(&dev, batch);
    let y = data.onehot_tensor::<E, D>(&dev, batch);
    let logits = model.forward(x.traced(Gradients::leaky()));
    let loss = kind.batch_loss(logits, y);
    let value = loss.as_vec()[0].f64();
    if !value.is_finite() {
        return value;
    }
    let grads = loss.backward();
    let g: Vec<_> = model.params().iter().map(|p| grads.get(p)).collect();
    let mut params = model.params().to_vec();
    optimizer.step(&mut params, &g);
    model.set_params(params);
    value
}
