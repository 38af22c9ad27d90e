#!/usr/bin/env python3
"""Reference timings of Hessian-vector products in JAX, for crates/gates-autodiff/benches/hvp.rs.

Same models as the Rust bench: the paper's MLPs 784-16-16-10 and 784-200-200-200-200-10, ReLU,
no bias, softmax cross-entropy averaged over a batch of 128, with random inputs of the right
shape. The product is forward-over-reverse, jax.jvp(jax.grad(f), (w,), (v,)), jitted, on the
flat parameter vector in gates-models' layout (weights [out, in] row-major, concatenated). A
block of 16 products is jax.vmap of the same function over 16 directions.

Prints one JSON object per line: {"id": "mlp5_f32_single", "ms": ...}, where ms is the median
wall time of one call (of 16 products for the block ids). Every call recomputes the whole
product, primal pass included.
"""

import argparse
import json
import os
import time

# Both precisions in one process; f32 arrays stay f32.
os.environ.setdefault("JAX_ENABLE_X64", "1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

BATCH = 128
BLOCK = 16
ARCHS = {"mlp3": [784, 16, 16, 10], "mlp5": [784, 200, 200, 200, 200, 10]}


def make_loss(widths, x, y):
    """The minibatch loss as a function of the flat parameter vector."""
    shapes = [(o, i) for i, o in zip(widths[:-1], widths[1:])]

    def loss(w):
        a, offset = x, 0
        for layer, (o, i) in enumerate(shapes):
            weight = w[offset:offset + o * i].reshape(o, i)
            offset += o * i
            a = a @ weight.T
            if layer + 1 < len(shapes):
                a = jax.nn.relu(a)
        logp = jax.nn.log_softmax(a, axis=1)
        return -jnp.mean(jnp.sum(logp * y, axis=1))

    return loss


def median_ms(fn, args, repeats):
    jax.block_until_ready(fn(*args))  # compile
    for _ in range(3):
        jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed calls per case")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    for name, widths in ARCHS.items():
        d = sum(i * o for i, o in zip(widths[:-1], widths[1:]))
        for dtype in (np.float32, np.float64):
            x = jnp.asarray(rng.random((BATCH, widths[0])), dtype=dtype)
            labels = rng.integers(0, widths[-1], BATCH)
            y = jnp.asarray(np.eye(widths[-1])[labels], dtype=dtype)
            bound = 1.0 / np.sqrt(784.0)
            w = jnp.asarray(rng.uniform(-bound, bound, d), dtype=dtype)
            vs = jnp.asarray(rng.standard_normal((BLOCK, d)), dtype=dtype)

            loss = make_loss(widths, x, y)

            def hvp(w, v):
                return jax.jvp(jax.grad(loss), (w,), (v,))[1]

            single = jax.jit(hvp)
            block = jax.jit(jax.vmap(hvp, in_axes=(None, 0)))
            tag = f"{name}_{'f32' if dtype == np.float32 else 'f64'}"
            for case, fn, v in (("single", single, vs[0]), (f"block{BLOCK}", block, vs)):
                ms = median_ms(fn, (w, v), args.repeats)
                print(json.dumps({"id": f"{tag}_{case}", "ms": ms}), flush=True)


if __name__ == "__main__":
    main()
