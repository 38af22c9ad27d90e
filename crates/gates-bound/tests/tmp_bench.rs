use gates_bound::topology::*;
#[test]
fn bench() {
    let (n, dim) = (128, 278_800);
    let pts: Vec<f32> = (0..n*dim).map(|i| ((i * 2654435761usize) % 1000) as f32 / 1000.0).collect();
    for metric in [Metric::Euclidean, Metric::MeanAbsolute] {
        let t = std::time::Instant::now();
        let d = pairwise_distances(&mut SlicePoints::new(&pts, dim).unwrap(), &DistanceParams { metric, block_bytes: 32 * dim * 4 }).unwrap();
        let s = t.elapsed().as_secs_f64();
        let pairs = (n*(n-1)/2) as f64;
        eprintln!("TMP {metric:?} {s:.3}s  {:.2} Gelem/s  full 5000 window est {:.0} s  {}", pairs*dim as f64/s/1e9, 5000.0*4999.0/2.0*dim as f64/(pairs*dim as f64/s), d.get(0,1));
    }
    let dd = CondensedDistances::from_fn(5000, |i, j| ((i * 31 + j * 17) % 1013) as f64);
    let t = std::time::Instant::now();
    let e = minimum_spanning_tree(&dd);
    eprintln!("TMP prim 5000: {:.3}s {}", t.elapsed().as_secs_f64(), e.len());
    let t = std::time::Instant::now();
    let p = ph_dim(&dd, &PhDimParams::default()).unwrap_or_else(|_| panic!());
    eprintln!("TMP phdim 5000: {:.3}s {}", t.elapsed().as_secs_f64(), p.dim);
}
