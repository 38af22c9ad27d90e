#!/usr/bin/env bash
# Times dense symmetric eigenvalues at d = 2,000 and 12,960: ours (benches/dense_eig.rs, both
# parallelism settings) against numpy.linalg.eigvalsh (LAPACK dsyevd, OpenBLAS) on the same
# matrices, checks our eigenvalues against LAPACK's, and prints our time over numpy's. Takes
# several minutes on 2 cores and 1.4 GB of temporary disk.
#
# Usage: crates/gates-spectral/bench/compare.sh [cargo target dir]
# GATES_BENCH_ALGOS=two-stage-32,one-stage adds faer's one-stage reduction (about 450 s more).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${1:-${CARGO_TARGET_DIR:-/tmp/target-spectral}}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# The Rust bench leaves its matrices (1.3 GB at d = 12,960) and eigenvalues here; numpy times
# LAPACK on the same matrices and checks our eigenvalues against its own.
export GATES_BENCH_SHARE_DIR="$out/shared"
mkdir -p "$GATES_BENCH_SHARE_DIR"

echo "== ours (cargo bench: manual timing, criterion in --test mode)"
(cd "$root" && CARGO_TARGET_DIR="$target" cargo bench -p gates-spectral --bench dense_eig -- --test) \
    | tee "$out/faer.txt" | grep -E '^RESULT' || true

echo "== numpy"
# OpenBLAS settings tuned for another CPU must not apply here: unset both, for this command only.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 "$here/eig_numpy.py" 2000 12960 \
    | tee "$out/numpy.txt"

echo "== eigenvalues: ours against LAPACK's on the same matrices"
grep '^CHECK' "$out/numpy.txt" || echo "no CHECK lines: numpy did not find the shared matrices"

echo "== ratio ours / numpy (below 1: ours faster)"
python3 - "$out/faer.txt" "$out/numpy.txt" <<'PY'
import re, sys
faer = {}
for line in open(sys.argv[1]):
    m = re.match(r"RESULT faer d=(\d+) algo=([\w-]+) par=(\w+) threads=(\d+) seconds=([\d.]+)", line)
    if m:
        faer[(int(m[1]), m[2], m[3])] = float(m[5])
numpy = {}
for line in open(sys.argv[2]):
    m = re.match(r"RESULT numpy d=(\d+) seconds=([\d.]+)", line)
    if m:
        numpy[int(m[1])] = float(m[2])
for (d, algo, par), t in sorted(faer.items()):
    if d in numpy:
        print(f"d={d} {algo} par={par}: ours {t:.2f} s, numpy {numpy[d]:.2f} s, ratio {t / numpy[d]:.2f}")
PY
