"""Times numpy.linalg.eigvalsh (LAPACK dsyevd through OpenBLAS) on random symmetric matrices
of the sizes benches/dense_eig.rs uses, and prints RESULT lines that compare.sh reads.

With GATES_BENCH_SHARE_DIR set (compare.sh sets it), it takes the very matrices the Rust bench
wrote there, and checks every set of eigenvalues the Rust bench wrote against LAPACK's: CHECK
lines give max |ours - LAPACK| relative to max |LAPACK|.

Run through compare.sh, which unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for this command
only, so that OpenBLAS picks its kernel for the actual CPU.
"""

import glob
import os
import sys
import time

import numpy as np

try:
    from threadpoolctl import threadpool_info
except ImportError:  # pip install threadpoolctl
    threadpool_info = None


def random_symmetric(n, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n, n))
    return np.tril(g) + np.tril(g, -1).T


def main():
    sizes = [int(s) for s in sys.argv[1:]] or [2000, 12960]
    print(f"numpy {np.__version__}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        print(f"{var}={os.environ.get(var, '<unset>')}")
    if threadpool_info is None:
        print("threadpoolctl not installed: pip install threadpoolctl")
    else:
        for pool in threadpool_info():
            print(
                "threadpool:",
                pool.get("internal_api"),
                pool.get("version"),
                "architecture=" + str(pool.get("architecture")),
                "threads=" + str(pool.get("num_threads")),
                pool.get("filepath"),
            )
    shared = os.environ.get("GATES_BENCH_SHARE_DIR")
    for n in sizes:
        matrix = os.path.join(shared, f"matrix-{n}.f64") if shared else None
        if matrix and os.path.exists(matrix):
            a = np.fromfile(matrix, dtype="<f8").reshape(n, n)
        else:
            a = random_symmetric(n)
        repeats = 3 if n <= 2000 else 1
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            w = np.linalg.eigvalsh(a)
            times.append(time.perf_counter() - started)
        times.sort()
        seconds = times[len(times) // 2]
        print(f"RESULT numpy d={n} seconds={seconds:.3f} (max eigenvalue {w[-1]:.6f})", flush=True)
        if matrix and os.path.exists(matrix):
            check(shared, n, w)


def check(shared, n, lapack):
    """Compares the Rust bench's eigenvalues of the same matrix with LAPACK's."""
    scale = np.abs(lapack).max()
    for path in sorted(glob.glob(os.path.join(shared, f"eigenvalues-{n}-*.f64"))):
        ours = np.fromfile(path, dtype="<f8")
        setting = os.path.basename(path)[len(f"eigenvalues-{n}-"):-len(".f64")]
        if ours.shape != lapack.shape:
            print(f"CHECK d={n} {setting}: {ours.size} eigenvalues, expected {n}: FAILED")
            continue
        error = np.abs(ours - lapack).max() / scale
        # Both solvers are backward stable: each eigenvalue is off by at most about d·ε·‖A‖.
        allowed = 10 * n * np.finfo(np.float64).eps
        verdict = "ok" if error < allowed else "FAILED"
        print(
            f"CHECK d={n} {setting}: max |ours - LAPACK| / max |LAPACK| = {error:.2e}"
            f" (allowed {allowed:.1e}) {verdict}"
        )


if __name__ == "__main__":
    main()
