//! Axes as mappings from data to [0, 1], fitted to data or fixed, and their ticks: "nice"
//! steps of 1, 2 or 5 × 10ᵏ with as many decimals as the step needs, and decades on log axes.
//!
//! Labels never show float noise: a linear label has the step's decimals (or a mantissa and a
//! power of ten, `2.5×10⁻⁴`, when the values are very large or small); a log axis labels its
//! decades `0.01 … 1000`, or `10⁻⁵ … 10²` when any falls outside that.

use anyhow::{bail, Result};

/// An axis: the interval `[lo, hi]`, linear or logarithmic (base 10).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    /// The value at the start (left or bottom).
    pub lo: f64,
    /// The value at the end (right or top).
    pub hi: f64,
    /// Whether positions follow log10 of the value.
    pub log: bool,
}

/// A labelled tick.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    /// Where it sits, in data units.
    pub value: f64,
    /// Its label.
    pub label: String,
}

/// The ticks of an axis.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ticks {
    /// Labelled ticks, in increasing order.
    pub major: Vec<Tick>,
    /// Short unlabelled ticks (the 2…9 between decades of a log axis).
    pub minor: Vec<f64>,
}

impl Axis {
    /// Where `v` falls along the axis, 0 at `lo` and 1 at `hi`; `None` for values the axis
    /// cannot show (non-finite, or not positive on a log axis).
    pub fn frac(&self, v: f64) -> Option<f64> {
        if !shows(v, self.log) {
            return None;
        }
        if self.log {
            let (a, b) = (self.lo.log10(), self.hi.log10());
            Some((v.log10() - a) / (b - a))
        } else {
            Some((v - self.lo) / (self.hi - self.lo))
        }
    }

    /// Whether `v` lies within the axis.
    pub fn contains(&self, v: f64) -> bool {
        v >= self.lo && v <= self.hi
    }

    /// About `target` labelled ticks.
    pub fn ticks(&self, target: usize) -> Ticks {
        if self.log {
            log_ticks(self.lo, self.hi, target)
        } else {
            linear_ticks(self.lo, self.hi, target)
        }
    }

    /// The axis for a caller's fixed range, checked; `name` is the field the error names.
    pub fn fixed(name: &str, range: (f64, f64), log: bool) -> Result<Axis> {
        let (lo, hi) = range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            bail!("{name} ({lo}, {hi}) is not a finite interval with low < high");
        }
        if log && lo <= 0.0 {
            bail!("{name} ({lo}, {hi}) must be positive on a logarithmic axis");
        }
        Ok(Axis { lo, hi, log })
    }

    /// The axis fitted to `values` (which it must be able to show), with a margin of 5 % of
    /// the span on each side (of the log span on a log axis). A single value gets an interval
    /// around it: ±10 % of it, [−1, 1] around zero, or a factor of 2 on a log axis.
    pub fn fit(name: &str, values: impl IntoIterator<Item = f64>, log: bool) -> Result<Axis> {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.into_iter().filter(|&v| shows(v, log)) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo > hi {
            bail!("no {name} value can be shown");
        }
        let (lo, hi) = if log { padded_log(lo, hi) } else { padded_linear(lo, hi) };
        if !(lo.is_finite() && hi.is_finite() && lo < hi) || (log && lo <= 0.0) {
            bail!("the {name} values span more than a floating-point number can hold");
        }
        Ok(Axis { lo, hi, log })
    }
}

/// Whether an axis of the given kind can show `v`.
pub fn shows(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

fn padded_linear(lo: f64, hi: f64) -> (f64, f64) {
    let span = hi - lo;
    if span > 1e-12 * hi.abs().max(lo.abs()) {
        return (lo - 0.05 * span, hi + 0.05 * span);
    }
    let mid = (lo + hi) / 2.0;
    if mid.abs() < 1e-300 {
        (-1.0, 1.0)
    } else {
        (mid - 0.1 * mid.abs(), mid + 0.1 * mid.abs())
    }
}

fn padded_log(lo: f64, hi: f64) -> (f64, f64) {
    let (a, b) = (lo.log10(), hi.log10());
    let pad = if b - a > 1e-9 { 0.05 * (b - a) } else { 2f64.log10() };
    (10f64.powf(a - pad), 10f64.powf(b + pad))
}

/// A step of 1, 2 or 5 × 10ᵏ giving about `target` intervals over `span`: the candidate
/// nearest, by ratio, to `span / target`.
fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let misfit = |m: f64| (raw / (m * power)).ln().abs();
    let best = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .min_by(|&a, &b| misfit(a).total_cmp(&misfit(b)))
        .unwrap_or(1.0);
    best * power
}

/// Multiples of a nice step inside `[lo, hi]`, labelled.
pub fn linear_ticks(lo: f64, hi: f64, target: usize) -> Ticks {
    let step = nice_step(hi - lo, target);
    let (first, last) = ((lo / step - 1e-9).ceil(), (hi / step + 1e-9).floor());
    if !(step.is_finite() && step > 0.0 && first.abs() < 1e15 && last.abs() < 1e15) {
        return Ticks { major: ends(lo, hi), minor: Vec::new() };
    }
    let values: Vec<f64> = (first as i64..=last as i64).map(|i| i as f64 * step).collect();
    let labels = linear_labels(&values, step);
    let major = values.into_iter().zip(labels).map(|(value, label)| Tick { value, label });
    Ticks { major: major.collect(), minor: Vec::new() }
}

/// The two ends of an interval as ticks, for spans no step can divide.
fn ends(lo: f64, hi: f64) -> Vec<Tick> {
    let label = |v: f64| format!("{v:.3e}");
    vec![Tick { value: lo, label: label(lo) }, Tick { value: hi, label: label(hi) }]
}

/// Labels for multiples of `step`: fixed decimals, or scientific for very large or small values.
pub fn linear_labels(values: &[f64], step: f64) -> Vec<String> {
    let largest = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let scientific = largest >= 1e5 || (largest > 0.0 && largest < 1e-3);
    let step_power = (step.log10() + 1e-9).floor() as i32;
    values
        .iter()
        .map(|&v| {
            // Multiples of the step that should be zero can carry rounding noise (or a sign).
            let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
            match (scientific, v == 0.0) {
                (true, true) => "0".to_string(),
                (true, false) => scientific_label(v, step_power),
                (false, _) => format!("{v:.*}", (-step_power).clamp(0, 12) as usize),
            }
        })
        .collect()
}

/// `v` as a mantissa times a power of ten, with the digits the step's power needs.
fn scientific_label(v: f64, step_power: i32) -> String {
    let mut power = (v.abs().log10() + 1e-9).floor() as i32;
    let digits = (power - step_power).clamp(0, 4) as usize;
    let mut mantissa = v / 10f64.powi(power);
    if format!("{:.*}", digits, mantissa.abs()).starts_with("10") {
        power += 1;
        mantissa /= 10.0;
    }
    format!("{mantissa:.digits$}×10{}", superscript(power))
}

/// Decades inside `[lo, hi]` (every k-th when there are many), with the 2…9 multiples as minor
/// ticks; spans holding fewer than two decades get linear ticks instead.
pub fn log_ticks(lo: f64, hi: f64, target: usize) -> Ticks {
    let (a, b) = (lo.log10(), hi.log10());
    let (first, last) = ((a - 1e-9).ceil() as i32, (b + 1e-9).floor() as i32);
    let decades = last - first + 1;
    if decades < 2 {
        let mut ticks = linear_ticks(lo, hi, target.min(5));
        ticks.major.retain(|t| t.value > 0.0);
        return ticks;
    }

    let stride = (decades as f64 / target.max(1) as f64).ceil().max(1.0) as i32;
    let shown: Vec<i32> = (first..=last).filter(|k| k.rem_euclid(stride) == 0).collect();
    let plain = shown.iter().all(|k| (-3..=4).contains(k));
    let major = shown
        .iter()
        .map(|&k| Tick { value: 10f64.powi(k), label: decade_label(k, plain) })
        .collect();

    let minor = if stride > 1 {
        (first..=last).filter(|k| k.rem_euclid(stride) != 0).map(|k| 10f64.powi(k)).collect()
    } else {
        (first - 1..=last)
            .flat_map(|k| (2..=9).map(move |m| f64::from(m) * 10f64.powi(k)))
            .filter(|&v| v >= lo && v <= hi)
            .collect()
    };
    Ticks { major, minor }
}

/// The label of 10ᵏ: plain digits (`0.001`, `1000`) or a power (`10⁻⁵`).
pub fn decade_label(k: i32, plain: bool) -> String {
    match (plain, k) {
        (true, k) if k >= 0 => format!("{}", 10f64.powi(k)),
        (true, k) => format!("{:.*}", (-k) as usize, 10f64.powi(k)),
        (false, k) => format!("10{}", superscript(k)),
    }
}

/// `n` in superscript digits (DejaVu Sans has them all).
pub fn superscript(n: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let sign = if n < 0 { "⁻" } else { "" };
    let digits: String = n
        .unsigned_abs()
        .to_string()
        .chars()
        .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
        .collect();
    format!("{sign}{digits}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<&str> {
        t.major.iter().map(|t| t.label.as_str()).collect()
    }

    #[test]
    fn linear_labels_have_the_steps_decimals() {
        assert_eq!(labels(&linear_ticks(0.0, 1.0, 5)), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(labels(&linear_ticks(-0.31, 0.12, 4)), ["-0.3", "-0.2", "-0.1", "0.0", "0.1"]);
        assert_eq!(labels(&linear_ticks(0.0, 3000.0, 3)), ["0", "1000", "2000", "3000"]);
        let tiny = linear_ticks(1e-4, 4e-4, 3);
        assert_eq!(labels(&tiny), ["1×10⁻⁴", "2×10⁻⁴", "3×10⁻⁴", "4×10⁻⁴"]);
        let big = linear_ticks(0.0, 2.5e6, 5);
        assert_eq!(labels(&big)[1], "5×10⁵");
    }

    #[test]
    fn no_label_shows_float_noise() {
        for (lo, hi) in [(0.1, 0.7), (1e-7, 3e-7), (1234.5, 9876.5), (0.3, 0.30001), (1.0, 1e9)] {
            for log in [false, true] {
                for tick in (Axis { lo, hi, log }).ticks(6).major {
                    assert!(tick.label.chars().count() <= 10, "{lo}..{hi}: {}", tick.label);
                }
            }
        }
    }

    #[test]
    fn log_axes_label_decades() {
        assert_eq!(labels(&log_ticks(0.005, 200.0, 6)), ["0.01", "0.1", "1", "10", "100"]);
        assert_eq!(labels(&log_ticks(1e-6, 1e2, 5)), ["10⁻⁶", "10⁻⁴", "10⁻²", "10⁰", "10²"]);
        let few = log_ticks(2.0, 8.0, 6);
        assert!(few.major.len() >= 2, "{:?}", labels(&few));
        assert!(log_ticks(0.5, 50.0, 6).minor.contains(&20.0));
    }

    #[test]
    fn fitted_axes_pad_and_survive_degenerate_data() {
        let a = Axis::fit("x", [0.0, 10.0], false).unwrap();
        assert!(a.lo < 0.0 && a.hi > 10.0);
        assert_eq!(
            Axis::fit("x", [0.0, 0.0], false).unwrap(),
            Axis { lo: -1.0, hi: 1.0, log: false }
        );
        let one = Axis::fit("y", [3.0], true).unwrap();
        assert!(one.lo < 3.0 && one.hi > 3.0);
        assert!(Axis::fit("y", [-1.0, 0.0, f64::NAN], true).is_err());
        assert!(Axis::fit("y", [-1e308, 1e308], false).is_err());
        assert!(Axis::fixed("x_range", (f64::NAN, 1.0), false).is_err());
        assert!(Axis::fixed("x_range", (0.0, 1.0), true).is_err());
    }
}
