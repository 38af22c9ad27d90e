//! Progress bars for training, drawn on stderr only when it is a terminal.

use gates_artifacts::Evaluation;
use gates_dynamics::{Observer, Plan};
use indicatif::{ProgressBar, ProgressStyle};

/// Shows steps, the smoothed minibatch loss and the last test accuracy.
pub struct TrainProgress {
    bar: ProgressBar,
    smoothed: Option<f64>,
    test_accuracy: Option<f64>,
}

impl TrainProgress {
    /// A bar that appears when training starts.
    pub fn new() -> Self {
        Self { bar: ProgressBar::hidden(), smoothed: None, test_accuracy: None }
    }

    fn message(&self) -> String {
        let loss = self.smoothed.map_or("-".into(), |l| format!("{l:.4}"));
        let acc = self.test_accuracy.map_or("-".into(), |a| format!("{:.2}%", 100.0 * a));
        format!("loss {loss}  test acc {acc}")
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for TrainProgress {
    fn started(&mut self, plan: &Plan, from_step: u64) {
        self.bar = ProgressBar::new(plan.total_steps);
        self.bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} steps ({eta}) {msg}",
            )
            .expect("a valid template"),
        );
        self.bar.set_position(from_step);
    }

    fn stepped(&mut self, step: u64, loss: f64) {
        // An exponential moving average over about 50 steps keeps the number readable.
        self.smoothed = Some(match self.smoothed {
            Some(s) => 0.98 * s + 0.02 * loss,
            None => loss,
        });
        self.bar.set_position(step);
        if step % 16 == 0 {
            self.bar.set_message(self.message());
        }
    }

    fn evaluated(&mut self, evaluation: &Evaluation) {
        self.test_accuracy = Some(evaluation.test.accuracy);
        self.bar.set_message(self.message());
    }
}
