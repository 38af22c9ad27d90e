//! Topological baselines of PAPER.md §5: `E_α` and the PH-dimension of a point cloud.
//!
//! Zero-dimensional persistent homology of a finite metric space is carried by its minimum
//! spanning tree: the deaths of the zero-dimensional classes are exactly the MST edge lengths.
//! So the `α`-weighted lifetime sum is
//!
//! ```text
//! E_α(X) = Σ_{e ∈ MST(X)} |e|^α
//! ```
//!
//! and for points sampled from a set of (upper box) dimension `D`, `E_α` of `n` points grows as
//! `n^((D − α)/D)`. The PH-dimension estimate fits the slope `m` of `ln E_α` against `ln n`
//! over random subsets of growing size and returns `dim = α / (1 − m)`.
//!
//! The pipeline, sized for windows of 5,000 iterates of a 278,800-parameter network:
//!
//! 1. [`pairwise_distances`] streams the points from a [`PointSource`] in blocks of rows and
//!    fills a [`CondensedDistances`] matrix (`n(n−1)/2` doubles; 100 MB at `n = 5,000`). Only
//!    two blocks of rows are in memory at a time; the pairs of a block are computed in parallel.
//!    Two metrics: [`Metric::Euclidean`] on the weights, and [`Metric::MeanAbsolute`], the
//!    data-dependent pseudometric `ρ(w, w′) = (1/n′) Σ_i |ℓ(w, z_i) − ℓ(w′, z_i)|` when each
//!    row holds a point's losses on a fixed evaluation subset of `n′` samples.
//! 2. [`minimum_spanning_tree`] (Prim's algorithm on the dense matrix, `O(n²)` time) and
//!    [`e_alpha`].
//! 3. [`ph_dim`] draws the subsets, takes each subset's MST from the same matrix and fits the
//!    slope.

use rand::{rngs::StdRng, SeedableRng};
use rayon::prelude::*;

use crate::error::{BoundError, Result};

/// A point cloud that can be read in blocks of consecutive rows, so that a cloud larger than
/// memory can be streamed from disk.
pub trait PointSource {
    /// What reading can fail with.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Number of points (rows).
    fn len(&self) -> usize;

    /// True when there are no points.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of coordinates per point (columns).
    fn dim(&self) -> usize;

    /// Fills `out` with rows `start .. start + out.len() / dim()`, row-major.
    ///
    /// # Errors
    ///
    /// Whatever the source reports; [`pairwise_distances`] wraps it with the row range.
    fn read_rows(&mut self, start: usize, out: &mut [f32]) -> Result<(), Self::Error>;
}

/// An in-memory point cloud, row-major.
#[derive(Debug, Clone, Copy)]
pub struct SlicePoints<'a> {
    data: &'a [f32],
    dim: usize,
}

impl<'a> SlicePoints<'a> {
    /// Wraps `data` holding `data.len() / dim` points of `dim` coordinates.
    ///
    /// # Errors
    ///
    /// [`BoundError::OutOfRange`] for `dim = 0`, [`BoundError::LengthMismatch`] when `dim` does
    /// not divide the length.
    pub fn new(data: &'a [f32], dim: usize) -> Result<Self> {
        if dim == 0 {
            return Err(BoundError::OutOfRange {
                what: "point dimension",
                expected: "≥ 1",
                got: 0.0,
            });
        }
        if data.len() % dim != 0 {
            return Err(BoundError::LengthMismatch {
                what: "point data",
                expected: data.len() / dim * dim,
                got: data.len(),
            });
        }
        Ok(Self { data, dim })
    }
}

impl PointSource for SlicePoints<'_> {
    type Error = std::convert::Infallible;

    fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn read_rows(&mut self, start: usize, out: &mut [f32]) -> Result<(), Self::Error> {
        let from = start * self.dim;
        out.copy_from_slice(&self.data[from..from + out.len()]);
        Ok(())
    }
}

/// The distance between two points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// `‖x − y‖₂`.
    Euclidean,
    /// `(1/n′) Σ_i |x_i − y_i|`, the pseudometric `ρ` of Dupuis et al. when rows are per-sample
    /// loss vectors over `n′` evaluation samples.
    MeanAbsolute,
}

/// Settings of [`pairwise_distances`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DistanceParams {
    /// The metric. Default [`Metric::Euclidean`].
    pub metric: Metric,
    /// Memory for one block of rows, in bytes; two blocks are held at once. Default 256 MiB,
    /// i.e. about 240 rows of 278,800 `f32` coordinates.
    pub block_bytes: usize,
}

impl Default for DistanceParams {
    fn default() -> Self {
        Self { metric: Metric::Euclidean, block_bytes: 256 << 20 }
    }
}

/// A symmetric distance matrix with zero diagonal, stored as its strict upper triangle row by
/// row: the pair `i < j` sits at `i·n − i(i+1)/2 + (j − i − 1)` (the layout of SciPy's
/// condensed matrices).
#[derive(Debug, Clone, PartialEq)]
pub struct CondensedDistances {
    n: usize,
    data: Vec<f64>,
}

impl CondensedDistances {
    /// Wraps a condensed upper triangle of `n` points.
    ///
    /// # Errors
    ///
    /// [`BoundError::LengthMismatch`] unless `data.len() = n(n−1)/2`, [`BoundError::NotFinite`]
    /// for a NaN or infinite entry, [`BoundError::OutOfRange`] for a negative one.
    pub fn from_condensed(n: usize, data: Vec<f64>) -> Result<Self> {
        let expected = n * n.saturating_sub(1) / 2;
        if data.len() != expected {
            return Err(BoundError::LengthMismatch {
                what: "condensed distances",
                expected,
                got: data.len(),
            });
        }
        crate::error::check_finite("condensed distances", &data)?;
        if let Some(&v) = data.iter().find(|v| **v < 0.0) {
            return Err(BoundError::OutOfRange { what: "distance", expected: "≥ 0", got: v });
        }
        Ok(Self { n, data })
    }

    /// Builds the matrix of `n` points from a distance function called for every `i < j`.
    /// Unlike [`CondensedDistances::from_condensed`] it trusts the function to return finite,
    /// non-negative values.
    pub fn from_fn(n: usize, mut distance: impl FnMut(usize, usize) -> f64) -> Self {
        let mut data = Vec::with_capacity(n * n.saturating_sub(1) / 2);
        for i in 0..n {
            for j in i + 1..n {
                data.push(distance(i, j));
            }
        }
        Self { n, data }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True for a matrix of no points.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The distance between points `i` and `j` (0 when `i = j`).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        use std::cmp::Ordering;
        match i.cmp(&j) {
            Ordering::Less => self.data[self.row_start(i) + j - i - 1],
            Ordering::Greater => self.data[self.row_start(j) + i - j - 1],
            Ordering::Equal => 0.0,
        }
    }

    /// The condensed upper triangle.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Index of the pair `(i, i+1)`.
    fn row_start(&self, i: usize) -> usize {
        i * self.n - i * (i + 1) / 2
    }
}

/// All pairwise distances of a point cloud, streamed from `source` in blocks of rows.
///
/// Rows are grouped into blocks of `⌊block_bytes / (4·dim)⌋` rows (at least one). For each
/// block `I` (held in memory) the pairs inside `I` are computed, then every later block `J` is
/// read in turn and the pairs `I × J` are computed; so at most two blocks are resident and block
/// `J` is read once for every earlier block. Within a block pair the rows of `I` are processed in
/// parallel (rayon), each writing its own stretch of the condensed matrix.
///
/// # Errors
///
/// [`BoundError::Empty`] for no points, [`BoundError::OutOfRange`] for `dim = 0`,
/// [`BoundError::PointSource`] when reading fails, [`BoundError::NotFinite`] when a distance
/// is not finite (a NaN or infinite coordinate).
pub fn pairwise_distances<S: PointSource>(
    source: &mut S,
    params: &DistanceParams,
) -> Result<CondensedDistances> {
    let n = source.len();
    let dim = source.dim();
    if n == 0 {
        return Err(BoundError::Empty { what: "point cloud" });
    }
    if dim == 0 {
        return Err(BoundError::OutOfRange {
            what: "point dimension", expected: "≥ 1", got: 0.0
        });
    }
    let block_rows = (params.block_bytes / (dim * std::mem::size_of::<f32>())).clamp(1, n);
    let blocks: Vec<(usize, usize)> =
        (0..n).step_by(block_rows).map(|start| (start, (start + block_rows).min(n))).collect();
    tracing::debug!(n, dim, block_rows, blocks = blocks.len(), "pairwise distances");

    let mut data = vec![f64::NAN; n * (n - 1) / 2];
    let mut rows = split_rows(&mut data, n);
    let mut block_i = Vec::new();
    let mut block_j = Vec::new();
    let metric = params.metric;

    for (b, &(i0, i1)) in blocks.iter().enumerate() {
        read_block(source, i0, i1, dim, &mut block_i)?;

        // Pairs inside block I: row i against rows i+1..i1.
        rows[i0..i1].par_iter_mut().enumerate().for_each(|(k, row)| {
            let x = &block_i[k * dim..(k + 1) * dim];
            for (slot, later) in row.iter_mut().zip(k + 1..i1 - i0) {
                *slot = distance(metric, x, &block_i[later * dim..(later + 1) * dim]);
            }
        });

        // Pairs between block I and every later block J.
        for &(j0, j1) in &blocks[b + 1..] {
            read_block(source, j0, j1, dim, &mut block_j)?;
            rows[i0..i1].par_iter_mut().enumerate().for_each(|(k, row)| {
                let i = i0 + k;
                let x = &block_i[k * dim..(k + 1) * dim];
                let segment = &mut row[j0 - i - 1..j1 - i - 1];
                for (slot, y) in segment.iter_mut().zip(block_j.chunks_exact(dim)) {
                    *slot = distance(metric, x, y);
                }
            });
        }
        tracing::trace!(block = b, of = blocks.len(), "distance block done");
    }

    drop(rows);
    CondensedDistances::from_condensed(n, data)
}

/// Splits the condensed triangle into the stretch of each row `i` (pairs `(i, j > i)`).
fn split_rows(data: &mut [f64], n: usize) -> Vec<&mut [f64]> {
    let mut rows = Vec::with_capacity(n);
    let mut rest = data;
    for i in 0..n {
        let (row, tail) = rest.split_at_mut(n - i - 1);
        rows.push(row);
        rest = tail;
    }
    rows
}

fn read_block<S: PointSource>(
    source: &mut S,
    start: usize,
    end: usize,
    dim: usize,
    buffer: &mut Vec<f32>,
) -> Result<()> {
    buffer.clear();
    buffer.resize((end - start) * dim, f32::NAN);
    source.read_rows(start, buffer).map_err(|e| BoundError::PointSource {
        start,
        end,
        source: Box::new(e),
    })
}

/// Accumulator lanes of the distance kernels: wide enough for the compiler to vectorise.
const LANES: usize = 8;

/// Coordinates summed in `f32` lanes before the partial sum moves to `f64`, which bounds the
/// rounding error of long rows.
const FLUSH: usize = 1024;

fn distance(metric: Metric, x: &[f32], y: &[f32]) -> f64 {
    match metric {
        Metric::Euclidean => accumulate(x, y, |d| d * d).sqrt(),
        Metric::MeanAbsolute => accumulate(x, y, f32::abs) / x.len() as f64,
    }
}

/// `Σ_k f(x_k − y_k)`, summed in `f32` lanes over stretches of [`FLUSH`] coordinates and in
/// `f64` across stretches.
#[inline]
fn accumulate(x: &[f32], y: &[f32], f: impl Fn(f32) -> f32 + Copy) -> f64 {
    let mut total = 0.0_f64;
    for (xs, ys) in x.chunks(FLUSH).zip(y.chunks(FLUSH)) {
        let mut lanes = [0.0_f32; LANES];
        let mut xc = xs.chunks_exact(LANES);
        let mut yc = ys.chunks_exact(LANES);
        for (a, b) in (&mut xc).zip(&mut yc) {
            for l in 0..LANES {
                lanes[l] += f(a[l] - b[l]);
            }
        }
        let tail: f32 = xc.remainder().iter().zip(yc.remainder()).map(|(a, b)| f(a - b)).sum();
        total += lanes.iter().map(|&v| f64::from(v)).sum::<f64>() + f64::from(tail);
    }
    total
}

/// An edge of a spanning tree between points `a` and `b`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MstEdge {
    /// One end (an index into the point cloud).
    pub a: usize,
    /// The other end.
    pub b: usize,
    /// The edge length `d(a, b)`.
    pub length: f64,
}

/// The minimum spanning tree of all points, by Prim's algorithm in `O(n²)` time and `O(n)`
/// extra memory. Returns `n − 1` edges (none for fewer than two points).
pub fn minimum_spanning_tree(distances: &CondensedDistances) -> Vec<MstEdge> {
    prim(distances.len(), |i, j| distances.get(i, j))
        .into_iter()
        .map(|(a, b, length)| MstEdge { a, b, length })
        .collect()
}

/// The minimum spanning tree of the points `subset` (indices into `distances`), using the
/// distances among them. Edge ends are indices into the whole cloud.
///
/// # Errors
///
/// [`BoundError::OutOfRange`] for an index past the last point.
pub fn subset_minimum_spanning_tree(
    distances: &CondensedDistances,
    subset: &[usize],
) -> Result<Vec<MstEdge>> {
    if let Some(&bad) = subset.iter().find(|&&i| i >= distances.len()) {
        return Err(BoundError::OutOfRange {
            what: "subset index",
            expected: "below the number of points",
            got: bad as f64,
        });
    }
    Ok(prim(subset.len(), |i, j| distances.get(subset[i], subset[j]))
        .into_iter()
        .map(|(a, b, length)| MstEdge { a: subset[a], b: subset[b], length })
        .collect())
}

/// Prim's algorithm on the complete graph of `k` vertices: grow the tree from vertex 0, keep
/// for every outside vertex its distance to the tree, and move the nearest one in.
fn prim(k: usize, distance: impl Fn(usize, usize) -> f64) -> Vec<(usize, usize, f64)> {
    if k < 2 {
        return Vec::new();
    }
    // Outside vertices with their nearest tree vertex and distance to it.
    let mut outside: Vec<(usize, usize, f64)> = (1..k).map(|v| (v, 0, distance(0, v))).collect();
    let mut edges = Vec::with_capacity(k - 1);

    while !outside.is_empty() {
        let mut best = 0;
        for (slot, entry) in outside.iter().enumerate() {
            if entry.2 < outside[best].2 {
                best = slot;
            }
        }
        let (v, parent, length) = outside.swap_remove(best);
        edges.push((parent, v, length));

        for entry in &mut outside {
            let d = distance(v, entry.0);
            if d < entry.2 {
                entry.1 = v;
                entry.2 = d;
            }
        }
    }
    edges
}

/// `E_α = Σ_e |e|^α` over the edges of a spanning tree.
pub fn e_alpha(edges: &[MstEdge], alpha: f64) -> f64 {
    edges.iter().map(|e| e.length.powf(alpha)).sum()
}

/// Settings of [`ph_dim`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhDimParams {
    /// The exponent `α` of the lifetimes. Default `1` (the PH-dim of Birdal et al.).
    pub alpha: f64,
    /// Size of the smallest subset. Default `200` (capped at the cloud size): tiny subsets are
    /// dominated by the edges of the cloud and bend the log-log fit.
    pub min_points: usize,
    /// Number of subset sizes, evenly spaced from `min_points` to the whole cloud. Default `10`.
    pub steps: usize,
    /// Seed of the subset draws. Default `0`.
    pub seed: u64,
}

impl Default for PhDimParams {
    fn default() -> Self {
        Self { alpha: 1.0, min_points: 200, steps: 10, seed: 0 }
    }
}

/// A PH-dimension estimate with the fit behind it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhDimEstimate {
    /// `α / (1 − m)`.
    pub dim: f64,
    /// The least-squares slope `m` of `ln E_α` against `ln n`.
    pub slope: f64,
    /// The intercept of that fit.
    pub intercept: f64,
    /// Coefficient of determination `R²` of the fit.
    pub r_squared: f64,
    /// The subset sizes `n`.
    pub sizes: Vec<usize>,
    /// `E_α` of each subset's MST.
    pub e_alpha: Vec<f64>,
    /// The `α` used.
    pub alpha: f64,
}

/// The PH-dimension of a point cloud from its distance matrix.
///
/// For sizes `n_1 < … < n_K` evenly spaced between `min_points` and the cloud size, draw a
/// uniform random subset of each size (seeded, independent across sizes), compute `E_α` of its
/// MST, fit `ln E_α = m·ln n + c` by least squares and return `dim = α/(1 − m)`.
///
/// # Errors
///
/// [`BoundError::OutOfRange`] for `α ≤ 0`, fewer than 2 steps or a `min_points` below 2,
/// [`BoundError::Degenerate`] when fewer than two distinct sizes fit in the cloud, when some
/// `E_α` is zero (coincident points) or when the slope is 1 or more.
pub fn ph_dim(distances: &CondensedDistances, params: &PhDimParams) -> Result<PhDimEstimate> {
    if !(params.alpha.is_finite() && params.alpha > 0.0) {
        return Err(BoundError::OutOfRange {
            what: "α",
            expected: "finite and > 0",
            got: params.alpha,
        });
    }
    if params.steps < 2 {
        return Err(BoundError::OutOfRange {
            what: "ph-dim steps",
            expected: "≥ 2",
            got: params.steps as f64,
        });
    }
    if params.min_points < 2 {
        return Err(BoundError::OutOfRange {
            what: "ph-dim min_points",
            expected: "≥ 2",
            got: params.min_points as f64,
        });
    }

    let n = distances.len();
    let sizes = subset_sizes(params.min_points, n, params.steps);
    if sizes.len() < 2 {
        return Err(BoundError::Degenerate {
            what: "ph-dim",
            reason: format!("a cloud of {n} points allows fewer than two subset sizes"),
        });
    }

    let mut rng = StdRng::seed_from_u64(params.seed);
    let mut e_values = Vec::with_capacity(sizes.len());
    for &size in &sizes {
        let subset = rand::seq::index::sample(&mut rng, n, size).into_vec();
        let edges = subset_minimum_spanning_tree(distances, &subset)?;
        let e = e_alpha(&edges, params.alpha);
        if e <= 0.0 {
            return Err(BoundError::Degenerate {
                what: "ph-dim",
                reason: format!("E_α of a subset of {size} points is {e} (coincident points)"),
            });
        }
        e_values.push(e);
    }

    let x: Vec<f64> = sizes.iter().map(|&s| (s as f64).ln()).collect();
    let y: Vec<f64> = e_values.iter().map(|e| e.ln()).collect();
    let fit = least_squares(&x, &y);
    if fit.slope >= 1.0 {
        return Err(BoundError::Degenerate {
            what: "ph-dim",
            reason: format!("slope of ln E_α against ln n is {} (must be below 1)", fit.slope),
        });
    }
    let dim = params.alpha / (1.0 - fit.slope);
    tracing::debug!(dim, slope = fit.slope, r2 = fit.r_squared, "ph-dim");

    Ok(PhDimEstimate {
        dim,
        slope: fit.slope,
        intercept: fit.intercept,
        r_squared: fit.r_squared,
        sizes,
        e_alpha: e_values,
        alpha: params.alpha,
    })
}

/// [`pairwise_distances`] followed by [`ph_dim`].
///
/// # Errors
///
/// Those of the two functions.
pub fn ph_dim_of_points<S: PointSource>(
    source: &mut S,
    distance_params: &DistanceParams,
    params: &PhDimParams,
) -> Result<PhDimEstimate> {
    ph_dim(&pairwise_distances(source, distance_params)?, params)
}

/// `steps` sizes evenly spaced from `min(min_points, n)` to `n`, rounded, deduplicated.
fn subset_sizes(min_points: usize, n: usize, steps: usize) -> Vec<usize> {
    let lo = min_points.min(n) as f64;
    let hi = n as f64;
    let mut sizes: Vec<usize> = (0..steps)
        .map(|k| (lo + (hi - lo) * k as f64 / (steps - 1) as f64).round() as usize)
        .filter(|&s| s >= 2)
        .collect();
    sizes.dedup();
    sizes
}

struct Fit {
    slope: f64,
    intercept: f64,
    r_squared: f64,
}

/// Ordinary least squares `y ≈ slope·x + intercept` and its `R²` (1 when `y` is constant).
fn least_squares(x: &[f64], y: &[f64]) -> Fit {
    let count = x.len() as f64;
    let mean_x = x.iter().sum::<f64>() / count;
    let mean_y = y.iter().sum::<f64>() / count;
    let sxx: f64 = x.iter().map(|v| (v - mean_x).powi(2)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mean_x) * (b - mean_y)).sum();
    let syy: f64 = y.iter().map(|v| (v - mean_y).powi(2)).sum();

    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let r_squared = if syy > 0.0 { (sxy * sxy) / (sxx * syy) } else { 1.0 };
    Fit { slope, intercept, r_squared }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::Rng;

    /// Tolerance on total MST weight between two exact algorithms (summation order differs).
    const WEIGHT_TOL: f64 = 1e-9;

    fn random_cloud(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n * dim).map(|_| rng.gen::<f32>()).collect()
    }

    /// Straightforward distances in f64, the reference for the blocked builder.
    fn naive(points: &[f32], dim: usize, metric: Metric) -> CondensedDistances {
        let n = points.len() / dim;
        CondensedDistances::from_fn(n, |i, j| {
            let (x, y) = (&points[i * dim..(i + 1) * dim], &points[j * dim..(j + 1) * dim]);
            let diffs = x.iter().zip(y).map(|(a, b)| f64::from(*a) - f64::from(*b));
            match metric {
                Metric::Euclidean => diffs.map(|d| d * d).sum::<f64>().sqrt(),
                Metric::MeanAbsolute => diffs.map(f64::abs).sum::<f64>() / dim as f64,
            }
        })
    }

    /// Kruskal's algorithm over all edges with a union-find: an independent exact MST.
    fn kruskal_weight(distances: &CondensedDistances) -> f64 {
        let n = distances.len();
        let mut edges: Vec<(f64, usize, usize)> = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                edges.push((distances.get(i, j), i, j));
            }
        }
        edges.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(parent: &mut [usize], mut v: usize) -> usize {
            while parent[v] != v {
                parent[v] = parent[parent[v]];
                v = parent[v];
            }
            v
        }
        let mut total = 0.0;
        for (w, i, j) in edges {
            let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
            if ri != rj {
                parent[ri] = rj;
                total += w;
            }
        }
        total
    }

    #[test]
    fn condensed_layout_matches_scipy() {
        // scipy.spatial.distance.squareform order for n = 4: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3).
        let m = CondensedDistances::from_condensed(4, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(m.get(0, 3), 3.0);
        assert_eq!(m.get(2, 1), 4.0);
        assert_eq!(m.get(3, 2), 6.0);
        assert_eq!(m.get(1, 1), 0.0);
        assert!(CondensedDistances::from_condensed(4, vec![1.0; 5]).is_err());
        assert!(CondensedDistances::from_condensed(2, vec![-1.0]).is_err());
    }

    #[test]
    fn blocked_distances_match_naive_for_every_block_size() {
        let (n, dim) = (37, 2_100);
        let points = random_cloud(n, dim, 7);
        for metric in [Metric::Euclidean, Metric::MeanAbsolute] {
            let reference = naive(&points, dim, metric);
            // Blocks of 1, 5, 13 rows and one block holding everything.
            for rows in [1, 5, 13, n] {
                let params = DistanceParams { metric, block_bytes: rows * dim * 4 };
                let mut source = SlicePoints::new(&points, dim).unwrap();
                let got = pairwise_distances(&mut source, &params).unwrap();
                for (a, b) in got.as_slice().iter().zip(reference.as_slice()) {
                    assert!((a - b).abs() <= 1e-5 * b.max(1e-3), "{metric:?} {rows}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn streaming_reads_at_most_one_block_per_request() {
        // A source that records every request: with blocks of 4 rows over 10 points, each read
        // is at most 4 rows, the first block is read once, and block J is read once for every
        // block up to and including it (3 blocks → 1 + 2 + 3 = 6 reads).
        struct Recording<'a> {
            inner: SlicePoints<'a>,
            requests: Vec<(usize, usize)>,
        }
        impl PointSource for Recording<'_> {
            type Error = std::convert::Infallible;
            fn len(&self) -> usize {
                self.inner.len()
            }
            fn dim(&self) -> usize {
                self.inner.dim()
            }
            fn read_rows(&mut self, start: usize, out: &mut [f32]) -> Result<(), Self::Error> {
                self.requests.push((start, out.len() / self.dim()));
                self.inner.read_rows(start, out)
            }
        }

        let (n, dim) = (10, 6);
        let points = random_cloud(n, dim, 3);
        let mut source =
            Recording { inner: SlicePoints::new(&points, dim).unwrap(), requests: Vec::new() };
        let params = DistanceParams { block_bytes: 4 * dim * 4, ..DistanceParams::default() };
        let streamed = pairwise_distances(&mut source, &params).unwrap();

        assert_eq!(source.requests, vec![(0, 4), (4, 4), (8, 2), (4, 4), (8, 2), (8, 2)]);
        let reference = naive(&points, dim, Metric::Euclidean);
        for (a, b) in streamed.as_slice().iter().zip(reference.as_slice()) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    #[test]
    fn mean_absolute_is_l1_over_dim() {
        // Losses (1, 2, 3, 4) and (2, 2, 1, 4): ρ = (1 + 0 + 2 + 0)/4 = 0.75.
        let rows = [1.0, 2.0, 3.0, 4.0, 2.0, 2.0, 1.0, 4.0];
        let mut source = SlicePoints::new(&rows, 4).unwrap();
        let params = DistanceParams { metric: Metric::MeanAbsolute, ..DistanceParams::default() };
        let d = pairwise_distances(&mut source, &params).unwrap();
        assert!((d.get(0, 1) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn source_errors_carry_the_row_range() {
        struct Failing;
        impl PointSource for Failing {
            type Error = std::io::Error;
            fn len(&self) -> usize {
                4
            }
            fn dim(&self) -> usize {
                3
            }
            fn read_rows(&mut self, start: usize, _: &mut [f32]) -> Result<(), Self::Error> {
                if start >= 2 {
                    return Err(std::io::Error::other("disk gone"));
                }
                Ok(())
            }
        }
        let params = DistanceParams { block_bytes: 2 * 3 * 4, ..DistanceParams::default() };
        let err = pairwise_distances(&mut Failing, &params).unwrap_err();
        assert!(matches!(err, BoundError::PointSource { start: 2, end: 4, .. }), "{err}");
        assert_eq!(err.to_string(), "reading rows 2..4 of the point source");
    }

    #[test]
    fn mst_of_a_hand_made_graph() {
        // Points on a line at 0, 1, 3, 7: the MST is the chain, lengths 1, 2, 4; E_1 = 7,
        // E_2 = 1 + 4 + 16 = 21.
        let x = [0.0_f64, 1.0, 3.0, 7.0];
        let d = CondensedDistances::from_fn(4, |i, j| (x[i] - x[j]).abs());
        let edges = minimum_spanning_tree(&d);
        assert_eq!(edges.len(), 3);
        assert_eq!(e_alpha(&edges, 1.0), 7.0);
        assert_eq!(e_alpha(&edges, 2.0), 21.0);

        // The subset {0, 3} has one edge of length 7.
        let sub = subset_minimum_spanning_tree(&d, &[0, 3]).unwrap();
        assert_eq!(sub, vec![MstEdge { a: 0, b: 3, length: 7.0 }]);
        assert!(subset_minimum_spanning_tree(&d, &[0, 9]).is_err());
    }

    proptest! {
        #[test]
        fn prim_matches_kruskal(n in 1usize..40, dim in 1usize..5, seed in any::<u64>()) {
            let points = random_cloud(n, dim, seed);
            let d = naive(&points, dim, Metric::Euclidean);
            let edges = minimum_spanning_tree(&d);
            prop_assert_eq!(edges.len(), n - 1);

            // The edges span: every point is reached from point 0.
            let mut reached = vec![false; n];
            reached[0] = true;
            for _ in 0..n {
                for e in &edges {
                    if reached[e.a] || reached[e.b] {
                        reached[e.a] = true;
                        reached[e.b] = true;
                    }
                }
            }
            prop_assert!(reached.iter().all(|&r| r));

            let prim_weight = e_alpha(&edges, 1.0);
            let kruskal = kruskal_weight(&d);
            prop_assert!((prim_weight - kruskal).abs() < WEIGHT_TOL, "{prim_weight} vs {kruskal}");
        }

        #[test]
        fn subset_mst_matches_mst_of_subset_cloud(seed in any::<u64>(), k in 2usize..25) {
            let points = random_cloud(30, 3, seed);
            let d = naive(&points, 3, Metric::Euclidean);
            let subset: Vec<usize> = (0..30).filter(|i| (i * 7 + seed as usize) % 30 < k).collect();
            let sub_points: Vec<f32> =
                subset.iter().flat_map(|&i| points[i * 3..(i + 1) * 3].to_vec()).collect();
            let direct = kruskal_weight(&naive(&sub_points, 3, Metric::Euclidean));
            let via_subset = e_alpha(&subset_minimum_spanning_tree(&d, &subset).unwrap(), 1.0);
            prop_assert!((direct - via_subset).abs() < WEIGHT_TOL);
        }
    }

    #[test]
    fn subset_sizes_are_evenly_spaced() {
        assert_eq!(
            subset_sizes(200, 2000, 10),
            vec![200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000]
        );
        assert_eq!(subset_sizes(200, 100, 10), vec![100]);
    }

    #[test]
    fn least_squares_recovers_a_line() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [3.0, 5.0, 7.0, 9.0];
        let fit = least_squares(&x, &y);
        assert!((fit.slope - 2.0).abs() < 1e-12);
        assert!((fit.intercept - 1.0).abs() < 1e-12);
        assert!((fit.r_squared - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ph_dim_rejects_degenerate_input() {
        let tiny = CondensedDistances::from_fn(3, |_, _| 1.0);
        assert!(matches!(
            ph_dim(&tiny, &PhDimParams { min_points: 3, ..PhDimParams::default() }),
            Err(BoundError::Degenerate { .. })
        ));
        let same = CondensedDistances::from_fn(50, |_, _| 0.0);
        assert!(matches!(
            ph_dim(&same, &PhDimParams { min_points: 10, ..PhDimParams::default() }),
            Err(BoundError::Degenerate { .. })
        ));
        assert!(ph_dim(&same, &PhDimParams { alpha: 0.0, ..PhDimParams::default() }).is_err());
    }
}
