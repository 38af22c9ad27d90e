#!/usr/bin/env bash
# Times one SLQ run (m = 100 Lanczos steps, full reorthogonalisation, f64) on the minibatch
# Hessian of the 5-layer MLP at batch 128: ours (benches/slq_mlp.rs, whose unit is two runs) and
# JAX's (bench/slq_jax.py) back to back, and prints our time over JAX's. Needs `pip install jax
# scipy`; takes about five minutes on 2 cores.
#
# Usage: crates/gates-spectral/bench/compare-slq.sh [cargo target dir]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${1:-${CARGO_TARGET_DIR:-/tmp/target-spectral}}"
jax_out="$(mktemp)"
trap 'rm -f "$jax_out"' EXIT

echo "== ours (criterion)"
(cd "$root" && CARGO_TARGET_DIR="$target" cargo bench -p gates-spectral --bench slq_mlp -- slq_2runs)
criterion="$target/criterion"

echo "== JAX"
python3 "$here/slq_jax.py" | tee "$jax_out"

echo "== ratio ours / JAX (below 1: ours faster)"
python3 - "$criterion" "$jax_out" <<'PY'
import json
import sys
from pathlib import Path


def per_run(case):
    """Criterion's mean over its samples of one iteration (two runs), per run, in seconds."""
    estimates = json.loads((Path(sys.argv[1]) / case / "new" / "estimates.json").read_text())
    return estimates["mean"]["point_estimate"] / 1e9 / 2


jax = None
for line in open(sys.argv[2]):
    if line.startswith("{"):
        jax = json.loads(line)["s"]
ours = per_run("slq_2runs_m100_mlp5_f64")
print(f"one SLQ run, m = 100, 5-layer MLP, b = 128, f64: ours {ours:.2f} s, JAX {jax:.2f} s, "
      f"ratio {ours / jax:.2f}")
side_by_side = per_run("slq_2runs_m100_mlp5_f64_parallel")
print(f"two runs side by side (what gates spectrum does here), per run: {side_by_side:.2f} s, "
      f"ratio {side_by_side / jax:.2f}")
PY
