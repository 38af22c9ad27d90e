//! The fixed inputs the autodiff benches share: one minibatch of 128 embedded MNIST digits and
//! seeded Gaussian directions, so that every bench times products of the same problem.

use gates_models::data::Dataset;
use gates_models::Scalar;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// Samples per minibatch, as in the JAX reference.
pub const BATCH: usize = 128;

/// The first `BATCH` indices of a seeded permutation of `data`.
pub fn minibatch(data: &Dataset) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..data.len()).collect();
    idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    idx.truncate(BATCH);
    idx
}

/// `k` standard normal directions of length `d`, from a fixed seed.
pub fn directions<E: Scalar>(d: usize, k: usize) -> Vec<Vec<E>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    (0..k).map(|_| (0..d).map(|_| E::of(StandardNormal.sample(&mut rng))).collect()).collect()
}
