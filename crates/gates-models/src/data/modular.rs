//! Modular addition, the grokking task of PAPER.md figures 4 and 7.
//!
//! All p² pairs (a, b) with a, b ∈ {0, …, p−1}; the input is one-hot(a) concatenated with
//! one-hot(b) (2p features), the label is (a + b) mod p (p classes). The pairs are shuffled with
//! `seed` and the first round(train_fraction · p²) form the training set.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::{Dataset, Split};
use crate::error::{Error, Result};

/// Settings of the modular-addition set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModularSpec {
    /// The modulus p (the paper uses 97).
    pub modulus: usize,
    /// Fraction of the p² pairs used for training (the paper uses 0.4).
    pub train_fraction: f64,
    /// Seed of the shuffle that picks the training pairs.
    #[serde(default)]
    pub seed: u64,
}

impl ModularSpec {
    /// Generates the split.
    pub fn generate(&self) -> Result<Split> {
        let p = self.modulus;
        if p < 2 {
            return Err(Error::config("data.modulus", "at least 2", p));
        }
        if !(self.train_fraction > 0.0 && self.train_fraction < 1.0) {
            return Err(Error::config(
                "data.train_fraction",
                "a number in (0, 1)",
                self.train_fraction,
            ));
        }

        let mut pairs: Vec<(usize, usize)> =
            (0..p).flat_map(|a| (0..p).map(move |b| (a, b))).collect();
        pairs.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(self.seed));
        let n_train = ((self.train_fraction * (p * p) as f64).round() as usize).clamp(1, p * p - 1);

        let build = |pairs: &[(usize, usize)]| {
            let mut inputs = vec![0.0f32; pairs.len() * 2 * p];
            let mut labels = Vec::with_capacity(pairs.len());
            for (i, &(a, b)) in pairs.iter().enumerate() {
                inputs[i * 2 * p + a] = 1.0;
                inputs[i * 2 * p + p + b] = 1.0;
                labels.push(((a + b) % p) as u32);
            }
            Dataset { inputs, labels, input_dim: 2 * p, classes: p }
        };
        Ok(Split {
            name: format!("modular-add-{p}"),
            train: build(&pairs[..n_train]),
            test: build(&pairs[n_train..]),
        })
    }
}
