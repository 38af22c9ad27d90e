"""Times numpy.linalg.eigvalsh (LAPACK dsyevd through OpenBLAS) on random symmetric matrices
of the sizes benches/dense_eig.rs uses, and prints RESULT lines that compare.sh reads.

Run through compare.sh, which unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for this command
only, so that OpenBLAS picks its kernel for the actual CPU.
"""

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
    for n in sizes:
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


if __name__ == "__main__":
    main()
