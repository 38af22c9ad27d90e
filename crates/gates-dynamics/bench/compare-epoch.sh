#!/usr/bin/env bash
# One epoch of the paper's 3-layer MLP: gates (criterion) and JAX, measured in the same run,
# printed as ratios. Needs `pip install jax`. Usage: crates/gates-dynamics/bench/compare-epoch.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."

cargo bench -p gates-dynamics --bench epoch -- --noplot
jax_json=$(python3 crates/gates-dynamics/bench/epoch_jax.py 20)

python3 - "$jax_json" <<'PY'
import json, sys
jax = json.loads(sys.argv[1])
print(f"\nJAX {jax['jax_version']} on {jax['device']}; seconds per epoch (median)")
print(f"{'dtype':6} {'gates':>9} {'jax loop':>9} {'jax scan':>9} {'gates/loop':>11} {'gates/scan':>11}")
for dtype in ("f32", "f64"):
    est = json.load(open(f"target/criterion/epoch_mlp3_{dtype}/new/estimates.json"))
    ours = est["median"]["point_estimate"] / 1e9
    loop, scan = jax[dtype]["loop"], jax[dtype]["scan"]
    print(f"{dtype:6} {ours:9.4f} {loop:9.4f} {scan:9.4f} {ours/loop:11.2f} {ours/scan:11.2f}")
PY
