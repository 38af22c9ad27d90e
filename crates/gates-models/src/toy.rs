//! The two-dimensional toy loss of PAPER.md figure 6,
//! L(x) = ½‖x‖² − 2·cos(4x₁)·cos(4x₂),
//! with its gradient and Hessian in closed form. Its many local minima make SGD with Gaussian
//! noise settle on a fractal random attractor.

/// The toy loss at x.
pub fn loss(x: [f64; 2]) -> f64 {
    0.5 * (x[0] * x[0] + x[1] * x[1]) - 2.0 * (4.0 * x[0]).cos() * (4.0 * x[1]).cos()
}

/// ∇L(x) = x + 8·(sin(4x₁)cos(4x₂), cos(4x₁)sin(4x₂)).
pub fn gradient(x: [f64; 2]) -> [f64; 2] {
    let (s1, c1) = (4.0 * x[0]).sin_cos();
    let (s2, c2) = (4.0 * x[1]).sin_cos();
    [x[0] + 8.0 * s1 * c2, x[1] + 8.0 * c1 * s2]
}

/// ∇²L(x): diagonal 1 + 32·cos(4x₁)cos(4x₂), off-diagonal −32·sin(4x₁)sin(4x₂).
pub fn hessian(x: [f64; 2]) -> [[f64; 2]; 2] {
    let (s1, c1) = (4.0 * x[0]).sin_cos();
    let (s2, c2) = (4.0 * x[1]).sin_cos();
    let diag = 1.0 + 32.0 * c1 * c2;
    let off = -32.0 * s1 * s2;
    [[diag, off], [off, diag]]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of the closed forms agree with them.
    #[test]
    fn closed_forms_match_finite_differences() {
        let h = 1e-5;
        for &x in &[[0.3, -0.7], [1.1, 0.2], [-0.05, 0.9]] {
            let g = gradient(x);
            let hess = hessian(x);
            for i in 0..2 {
                let mut xp = x;
                let mut xm = x;
                xp[i] += h;
                xm[i] -= h;
                let fd = (loss(xp) - loss(xm)) / (2.0 * h);
                assert!((fd - g[i]).abs() < 1e-7, "gradient {i}: {fd} vs {}", g[i]);
                let (gp, gm) = (gradient(xp), gradient(xm));
                for j in 0..2 {
                    let fd = (gp[j] - gm[j]) / (2.0 * h);
                    assert!(
                        (fd - hess[j][i]).abs() < 1e-6,
                        "hessian {j}{i}: {fd} vs {}",
                        hess[j][i]
                    );
                }
            }
        }
    }
}
