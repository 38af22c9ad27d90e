//! A Gaussian-mixture classification set, small and fast, for tests and smoke runs.
//!
//! Class c has mean μ_c ~ N(0, s²·I) (s = `separation`); a sample of class c is μ_c + N(0, I).
//! Labels cycle through the classes so both splits are balanced. Means are drawn first, then the
//! training samples, then the test samples, all from one generator seeded with `seed`.

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::{Dataset, Split};
use crate::error::{Error, Result};

fn default_separation() -> f64 {
    2.0
}

/// Settings of the Gaussian mixture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaussianSpec {
    /// Number of classes.
    pub classes: usize,
    /// Features per sample.
    pub dim: usize,
    /// Training samples.
    pub n_train: usize,
    /// Test samples.
    pub n_test: usize,
    /// Standard deviation of the class means (larger is easier).
    #[serde(default = "default_separation")]
    pub separation: f64,
    /// Seed of the generator.
    #[serde(default)]
    pub seed: u64,
}

impl GaussianSpec {
    /// Generates the split.
    pub fn generate(&self) -> Result<Split> {
        if self.classes < 2 {
            return Err(Error::config("data.classes", "at least 2", self.classes));
        }
        for (key, v) in
            [("data.dim", self.dim), ("data.n_train", self.n_train), ("data.n_test", self.n_test)]
        {
            if v == 0 {
                return Err(Error::config(key, "at least 1", v));
            }
        }
        if !(self.separation.is_finite() && self.separation > 0.0) {
            return Err(Error::config("data.separation", "a positive number", self.separation));
        }

        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed);
        let mut normal = move || -> f64 { StandardNormal.sample(&mut rng) };
        let means: Vec<f64> =
            (0..self.classes * self.dim).map(|_| self.separation * normal()).collect();
        let mut sample = |n: usize| {
            let mut inputs = Vec::with_capacity(n * self.dim);
            let mut labels = Vec::with_capacity(n);
            for i in 0..n {
                let c = i % self.classes;
                inputs.extend((0..self.dim).map(|j| (means[c * self.dim + j] + normal()) as f32));
                labels.push(c as u32);
            }
            Dataset { inputs, labels, input_dim: self.dim, classes: self.classes }
        };
        let train = sample(self.n_train);
        let test = sample(self.n_test);
        Ok(Split { name: format!("gaussian-{}x{}", self.classes, self.dim), train, test })
    }
}
