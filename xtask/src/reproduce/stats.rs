//! Correlation of measures with generalization targets over a set of trained models: Kendall's
//! τ-b and the granulated Kendall coefficients (PAPER.md §5), computed by gates-bound.

use std::collections::BTreeMap;

use anyhow::Result;
use gates_bound::correlation::{granulated_kendall, kendall_tau_b, Run};
use serde::Serialize;

use super::table::{Cell, Table};

/// One measure against one target.
#[derive(Clone, Debug, Serialize)]
pub struct Correlation {
    /// The measure.
    pub measure: String,
    /// The target.
    pub target: String,
    /// Models with finite measure and target (the others are left out).
    pub models: usize,
    /// Kendall's τ-b over those models.
    pub tau: Option<f64>,
    /// ψ per hyperparameter: τ across that hyperparameter, averaged over the others' settings.
    pub psi: BTreeMap<String, Option<f64>>,
    /// The average granulated Kendall Ψ, the mean of the defined ψ.
    pub average: Option<f64>,
}

/// Correlates `measure` with `target` over models described by `hyperparameters`; models where
/// either value is not finite are left out.
pub fn correlate(
    measure_name: &str,
    target_name: &str,
    hyperparameters: &[BTreeMap<String, f64>],
    measure: &[f64],
    target: &[f64],
) -> Result<Correlation> {
    let runs: Vec<Run> = hyperparameters
        .iter()
        .zip(measure.iter().zip(target))
        .filter(|(_, (m, t))| m.is_finite() && t.is_finite())
        .map(|(h, (&m, &t))| Run { hyperparameters: h.clone(), measure: m, target: t })
        .collect();
    let mut out = Correlation {
        measure: measure_name.into(),
        target: target_name.into(),
        models: runs.len(),
        tau: None,
        psi: BTreeMap::new(),
        average: None,
    };
    if runs.len() < 2 {
        return Ok(out);
    }
    let (xs, ys): (Vec<f64>, Vec<f64>) = runs.iter().map(|r| (r.measure, r.target)).unzip();
    out.tau = kendall_tau_b(&xs, &ys)?;
    if !runs[0].hyperparameters.is_empty() {
        let g = granulated_kendall(&runs)?;
        out.psi = g.per_hyperparameter.into_iter().map(|p| (p.hyperparameter, p.psi)).collect();
        out.average = g.average;
    }
    Ok(out)
}

/// The correlations as a table: one row per measure and target.
pub fn table(correlations: &[Correlation]) -> Table {
    let names: Vec<String> =
        correlations.first().map(|c| c.psi.keys().cloned().collect()).unwrap_or_default();
    let mut columns =
        vec!["measure".to_string(), "target".into(), "models".into(), "kendall_tau".into()];
    columns.extend(names.iter().map(|n| format!("psi_{n}")));
    columns.push("average_granulated".into());
    let mut t = Table { columns, rows: vec![] };
    for c in correlations {
        let mut row: Vec<Cell> = vec![
            c.measure.clone().into(),
            c.target.clone().into(),
            (c.models as f64).into(),
            c.tau.into(),
        ];
        row.extend(names.iter().map(|n| Cell::from(c.psi.get(n).copied().flatten())));
        row.push(c.average.into());
        t.push(row);
    }
    t
}

/// The measure with the largest value of `key` among `correlations` for `target`.
pub fn best<'a>(
    correlations: &'a [Correlation],
    target: &str,
    key: impl Fn(&Correlation) -> Option<f64>,
) -> Option<(&'a Correlation, f64)> {
    correlations
        .iter()
        .filter(|c| c.target == target)
        .filter_map(|c| key(c).map(|v| (c, v)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_models_are_left_out_and_tau_is_rank_based() {
        let h: Vec<BTreeMap<String, f64>> = (0..4)
            .map(|i| {
                BTreeMap::from([("lr".to_string(), (i % 2) as f64), ("b".into(), (i / 2) as f64)])
            })
            .collect();
        let c = correlate("m", "gap", &h, &[1.0, 2.0, 3.0, f64::NAN], &[10.0, 20.0, 30.0, 40.0])
            .unwrap();
        assert_eq!(c.models, 3);
        assert_eq!(c.tau, Some(1.0));
        let c = correlate("m", "gap", &h, &[4.0, 3.0, 2.0, 1.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(c.tau, Some(-1.0));
        assert_eq!(c.average, Some(-1.0));
        assert_eq!(best(std::slice::from_ref(&c), "gap", |c| c.tau).map(|(_, v)| v), Some(-1.0));
    }
}
