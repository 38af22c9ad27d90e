//! The noise of SGD as a random dynamical system: the sequence ω of minibatch indices.
//!
//! Epoch e visits the training set in the order of a permutation drawn from a ChaCha8 generator
//! seeded with (seed, e); step t takes minibatch t mod (n div b) of epoch t div (n div b). The
//! last n mod b samples of each permutation are dropped, so every step uses exactly b samples,
//! as the one-step map ϕ(1, ω, w) of PAPER.md §1 assumes. The minibatch of any step is a pure
//! function of (seed, t): a resumed run sees the same noise as an uninterrupted one.

use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Minibatch schedule over a training set of `n` samples.
#[derive(Clone, Debug)]
pub struct MinibatchNoise {
    n: usize,
    batch: usize,
    seed: u64,
    cached_epoch: Option<(u64, Vec<usize>)>,
}

impl MinibatchNoise {
    /// Schedule for `n` samples in minibatches of `batch` (1 ≤ batch ≤ n).
    pub fn new(n: usize, batch: usize, seed: u64) -> Self {
        assert!(batch >= 1 && batch <= n, "batch size must be in 1..=n");
        Self { n, batch, seed, cached_epoch: None }
    }

    /// Minibatches per epoch, n div b.
    pub fn steps_per_epoch(&self) -> u64 {
        (self.n / self.batch) as u64
    }

    /// The sample order of epoch `epoch`.
    pub fn epoch_order(&self, epoch: u64) -> Vec<usize> {
        // Mix the epoch into the seed with a large odd constant so nearby (seed, epoch) pairs do
        // not share streams.
        let key = self.seed ^ epoch.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut order: Vec<usize> = (0..self.n).collect();
        order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(key));
        order
    }

    /// The training-set indices of step `step`'s minibatch.
    pub fn batch(&mut self, step: u64) -> &[usize] {
        let spe = self.steps_per_epoch();
        let (epoch, pos) = (step / spe, (step % spe) as usize);
        if self.cached_epoch.as_ref().map(|(e, _)| *e) != Some(epoch) {
            self.cached_epoch = Some((epoch, self.epoch_order(epoch)));
        }
        let order = &self.cached_epoch.as_ref().expect("just filled").1;
        &order[pos * self.batch..(pos + 1) * self.batch]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_epoch_visits_distinct_samples_and_epochs_differ() {
        let mut noise = MinibatchNoise::new(10, 3, 7);
        assert_eq!(noise.steps_per_epoch(), 3);
        let mut seen: Vec<usize> = (0..3).flat_map(|t| noise.batch(t).to_vec()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 9, "one epoch never repeats a sample");
        let first = noise.batch(0).to_vec();
        assert_ne!(noise.batch(3).to_vec(), first, "the next epoch reshuffles");
        assert_eq!(noise.batch(0).to_vec(), first, "a step's batch depends only on the step");
        assert_eq!(MinibatchNoise::new(10, 3, 7).batch(4), noise.batch(4));
    }
}
