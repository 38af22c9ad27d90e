#!/usr/bin/env bash
# Runs the Rust Hessian-vector-product bench and the JAX reference, then prints times and
# ratios. Usage: crates/gates-autodiff/bench/compare.sh (from anywhere). Honours
# CARGO_TARGET_DIR; takes a few minutes.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
jax_out="$(mktemp)"
trap 'rm -f "$jax_out"' EXIT

(cd "$root" && cargo bench -p gates-autodiff --bench hvp)
python3 "$here/hvp_jax.py" | tee "$jax_out"

python3 - "$target/criterion/hvp" "$jax_out" <<'PY'
import json
import sys
from pathlib import Path

criterion, jax_file = Path(sys.argv[1]), Path(sys.argv[2])
jax = {}
for line in jax_file.read_text().splitlines():
    if line.startswith("{"):
        row = json.loads(line)
        jax[row["id"]] = row["ms"]

# Reference JAX figures (2-core machine, quiet) from the task; target is 1.5x these.
reference = {"mlp5_f32": 3.2, "mlp5_f64": 5.6, "mlp3_f32": 0.34}
block = 16


def ours(case_id):
    path = criterion / case_id / "new" / "estimates.json"
    if not path.exists():
        return float("nan")
    estimates = json.loads(path.read_text())
    # Criterion reports the slope of its linear fit when it has one, else the mean.
    best = estimates.get("slope") or estimates["mean"]
    return best["point_estimate"] / 1e6


print()
print("ms per Hessian-vector product (block cases: per vector)")
header = ("model", "jax", "single", "cold", "block", "tape", "tape_blk",
          "single/jax", "cold/jax", "single/blk", "ref", "single/ref")
print(("{:<10}" + "{:>11}" * (len(header) - 1)).format(*header))
for name in ("mlp3_f32", "mlp3_f64", "mlp5_f32", "mlp5_f64"):
    j = jax.get(f"{name}_single", float("nan"))
    single, cold = ours(f"{name}_single"), ours(f"{name}_cold")
    blk = ours(f"{name}_block16") / block
    tape, tape_blk = ours(f"{name}_tape_single"), ours(f"{name}_tape_block16") / block
    ref = reference.get(name, float("nan"))
    row = (name, j, single, cold, blk, tape, tape_blk, single / j, cold / j, single / blk, ref,
           single / ref)
    print(("{:<10}" + "{:>11.3f}" * (len(row) - 1)).format(*row))
jax_block = {n: jax.get(f"{n}_block16", float("nan")) / block for n in
             ("mlp3_f32", "mlp3_f64", "mlp5_f32", "mlp5_f64")}
print("JAX vmap block, ms per vector:",
      ", ".join(f"{n} {v:.3f}" for n, v in jax_block.items()))
PY
