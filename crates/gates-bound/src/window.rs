//! Iterate windows (`gates.window` artifacts) as point clouds, and the complexity measures of
//! PAPER.md §5 computed from them: E_α of the minimum spanning tree and PH-dim, with the
//! Euclidean metric on the parameters or the data-dependent ρ metric on the per-sample losses.
//!
//! The window is read block by block through [`PointSource`], so only the n×n distance matrix
//! and two blocks of rows are ever in memory.

use std::path::Path;

use gates_artifacts::{ComplexityReport, RecordFormat, RecordReader, WindowKind, WindowPreamble};

use crate::error::{BoundError, Result};
use crate::topology::{
    e_alpha, minimum_spanning_tree, pairwise_distances, ph_dim, DistanceParams, Metric,
    PhDimParams, PointSource,
};

/// Which coordinates of a window's records form the points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowMetric {
    /// The parameters w_t, with Euclidean distance.
    Euclidean,
    /// The per-sample losses (ℓ(w_t, z_i))_i, with ρ(w, w′) = (1/n′)Σ|ℓ(w, z_i) − ℓ(w′, z_i)|.
    Rho,
}

impl WindowMetric {
    /// Name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            WindowMetric::Euclidean => "euclidean",
            WindowMetric::Rho => "rho",
        }
    }
}

/// Which measure to compute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Measure {
    /// PH-dim, the slope-based dimension estimate.
    PhDim,
    /// E_α of the whole cloud's minimum spanning tree.
    EAlpha,
}

impl Measure {
    /// Name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Measure::PhDim => "ph-dim",
            Measure::EAlpha => "e-alpha",
        }
    }
}

/// A window file read as a point cloud of parameters or of per-sample losses.
pub struct WindowPoints {
    reader: RecordReader<WindowPreamble>,
    metric: WindowMetric,
    buf: Vec<u8>,
}

impl WindowPoints {
    /// Opens a window file, checking its header and preamble.
    pub fn open(path: &Path, metric: WindowMetric) -> Result<Self> {
        let reader = RecordReader::open(path).map_err(artifact_error)?;
        Ok(Self { reader, metric, buf: Vec::new() })
    }

    /// The window's preamble.
    pub fn preamble(&self) -> &WindowPreamble {
        self.reader.preamble()
    }
}

fn artifact_error(e: gates_artifacts::Error) -> BoundError {
    BoundError::Artifact(Box::new(e))
}

impl PointSource for WindowPoints {
    type Error = gates_artifacts::Error;

    fn len(&self) -> usize {
        self.reader.len() as usize
    }

    fn dim(&self) -> usize {
        let p = self.reader.preamble();
        match self.metric {
            WindowMetric::Euclidean => p.param_count as usize,
            WindowMetric::Rho => p.eval_indices.len(),
        }
    }

    fn read_rows(&mut self, start: usize, out: &mut [f32]) -> Result<(), Self::Error> {
        let dim = self.dim();
        let rows = out.len() / dim.max(1);
        let d = self.reader.preamble().param_count as usize;
        let record_len = self.reader.preamble().record_len() as usize;
        self.reader.read_block(start as u64, rows as u64, &mut self.buf)?;

        // Record layout: step (8 bytes), d parameters, n′ losses, all little-endian f32.
        let offset = match self.metric {
            WindowMetric::Euclidean => 8,
            WindowMetric::Rho => 8 + 4 * d,
        };
        for (row, record) in self.buf.chunks_exact(record_len).enumerate() {
            let floats = &record[offset..offset + 4 * dim];
            for (x, bytes) in out[row * dim..(row + 1) * dim].iter_mut().zip(floats.chunks_exact(4))
            {
                *x = f32::from_le_bytes(bytes.try_into().expect("4 bytes"));
            }
        }
        Ok(())
    }
}

/// Computes a complexity measure of a window file.
pub fn window_complexity(
    path: &Path,
    measure: Measure,
    metric: WindowMetric,
    params: &PhDimParams,
) -> Result<ComplexityReport> {
    let mut reports = window_complexities(path, &[measure], metric, params)?;
    Ok(reports.remove(0))
}

/// Computes several complexity measures of a window file from one distance matrix, in the
/// order of `measures`.
pub fn window_complexities(
    path: &Path,
    measures: &[Measure],
    metric: WindowMetric,
    params: &PhDimParams,
) -> Result<Vec<ComplexityReport>> {
    let mut points = WindowPoints::open(path, metric)?;
    let kind = match points.preamble().kind {
        WindowKind::Backward => "bwd",
        WindowKind::Forward => "fwd",
    };
    let n = points.len();
    let distance_params = DistanceParams {
        metric: match metric {
            WindowMetric::Euclidean => Metric::Euclidean,
            WindowMetric::Rho => Metric::MeanAbsolute,
        },
        ..DistanceParams::default()
    };
    tracing::debug!(path = %path.display(), n, dim = points.dim(), metric = metric.name(), "distances");
    let distances = pairwise_distances(&mut points, &distance_params)?;

    let mut reports = Vec::with_capacity(measures.len());
    for &measure in measures {
        let mut report = ComplexityReport {
            window: path.display().to_string(),
            window_kind: kind.into(),
            points: n as u64,
            measure: measure.name().into(),
            metric: metric.name().into(),
            value: f64::NAN,
            alpha: params.alpha,
            sizes: vec![],
            lifetime_sums: vec![],
            slope: None,
            r_squared: None,
        };
        match measure {
            Measure::EAlpha => {
                let value = e_alpha(&minimum_spanning_tree(&distances), params.alpha);
                report.value = value;
                report.sizes = vec![n as u64];
                report.lifetime_sums = vec![value];
            }
            Measure::PhDim => {
                let fit = ph_dim(&distances, params)?;
                report.value = fit.dim;
                report.sizes = fit.sizes.iter().map(|&s| s as u64).collect();
                report.lifetime_sums = fit.e_alpha;
                report.slope = Some(fit.slope);
                report.r_squared = Some(fit.r_squared);
            }
        }
        reports.push(report);
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gates_artifacts::{producer, RecordWriter, WindowRecord};

    /// A window whose parameters lie on a segment and whose losses fill a square.
    fn write_window(path: &Path, n: usize) {
        let preamble = WindowPreamble {
            kind: WindowKind::Forward,
            param_count: 3,
            eval_indices: vec![4, 9],
            capacity: n as u64,
        };
        let mut writer = RecordWriter::create(path, &producer!(), &"test", &preamble).unwrap();
        let mut state = 12345u64;
        let mut uniform = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f32 / (1u64 << 53) as f32
        };
        for i in 0..n {
            let t = uniform();
            let record = WindowRecord {
                step: i as u64,
                params: vec![t, 2.0 * t, -t],
                losses: vec![uniform(), uniform()],
            };
            writer.append(&record.encode()).unwrap();
        }
        writer.finish().unwrap();
    }

    #[test]
    fn window_points_read_parameters_or_losses() {
        let dir = std::env::temp_dir().join(format!("gates-bound-window-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.gates");
        write_window(&path, 600);

        let mut params = WindowPoints::open(&path, WindowMetric::Euclidean).unwrap();
        assert_eq!((params.len(), params.dim()), (600, 3));
        let mut rows = vec![0.0f32; 6];
        params.read_rows(10, &mut rows).unwrap();
        assert_eq!(rows[1], 2.0 * rows[0]);
        assert_eq!(rows[5], -rows[3]);
        let losses = WindowPoints::open(&path, WindowMetric::Rho).unwrap();
        assert_eq!(losses.dim(), 2);

        // A segment has PH-dim 1; a uniformly filled square has PH-dim 2 (mean-absolute metric
        // included: it is a norm). Tolerances as in the topology tests.
        let params = PhDimParams::default();
        let line =
            window_complexity(&path, Measure::PhDim, WindowMetric::Euclidean, &params).unwrap();
        assert!((line.value - 1.0).abs() < 0.1, "segment: {}", line.value);
        assert_eq!(line.window_kind, "fwd");
        let square = window_complexity(&path, Measure::PhDim, WindowMetric::Rho, &params).unwrap();
        assert!((square.value - 2.0).abs() < 0.3, "square: {}", square.value);
        let e =
            window_complexity(&path, Measure::EAlpha, WindowMetric::Euclidean, &params).unwrap();
        // The MST of points on a segment is the segment: E_1 is its length, √6 times the spread of t.
        assert!(e.value > 0.0 && e.value <= 6f64.sqrt() + 1e-6, "{}", e.value);

        // Both measures from one distance matrix equal the separate computations.
        let both = window_complexities(
            &path,
            &[Measure::EAlpha, Measure::PhDim],
            WindowMetric::Euclidean,
            &params,
        )
        .unwrap();
        assert_eq!((both[0].value, &both[0].measure), (e.value, &e.measure));
        assert_eq!((both[1].value, both[1].slope), (line.value, line.slope));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
