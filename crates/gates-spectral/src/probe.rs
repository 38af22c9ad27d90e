//! Random probe vectors and the seeds they come from, so that every stochastic result can be
//! recomputed from the seeds stored next to it.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The seed of probe `index` under a master `seed`.
///
/// Two rounds of SplitMix64 mix the pair into one 64-bit seed, so that neighbouring indices and
/// neighbouring master seeds give unrelated ChaCha8 streams.
pub fn probe_seed(seed: u64, index: u64) -> u64 {
    splitmix64(splitmix64(seed) ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03))
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fills `out` with a Rademacher vector (independent ±1 entries) drawn from ChaCha8 seeded with
/// `seed`: entry j is −1 when bit j mod 64 of the (j / 64)-th `u64` of the stream is set.
pub fn fill_rademacher(seed: u64, out: &mut [f64]) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for chunk in out.chunks_mut(64) {
        let bits = rng.next_u64();
        for (j, x) in chunk.iter_mut().enumerate() {
            *x = if (bits >> j) & 1 == 1 { -1.0 } else { 1.0 };
        }
    }
}

/// A Rademacher vector of length `dim` (see [`fill_rademacher`]).
pub fn rademacher(seed: u64, dim: usize) -> Vec<f64> {
    let mut v = vec![0.0; dim];
    fill_rademacher(seed, &mut v);
    v
}

/// Fills `out` with independent standard normal entries from `rng`.
pub(crate) fn fill_gaussian(rng: &mut ChaCha8Rng, out: &mut [f64]) {
    for x in out.iter_mut() {
        *x = StandardNormal.sample(rng);
    }
}
