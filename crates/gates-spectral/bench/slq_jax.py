#!/usr/bin/env python3
"""Reference timing of one SLQ run in JAX, for crates/gates-spectral/benches/slq_mlp.rs.

The same work as one run of the Rust bench: m = 100 Lanczos steps with full
reorthogonalisation (classical Gram-Schmidt applied twice) on the minibatch Hessian of the
paper's 5-layer MLP 784-200-200-200-200-10 (ReLU, no bias, 278,800 parameters), softmax
cross-entropy averaged over a batch of 128, all in f64, then the eigen-decomposition of T
(nodes and weights). The Rust bench uses the embedded MNIST subset and the model's own
initialisation; here the inputs are uniform on [0, 1), the labels and the weights random
(uniform in +-1/sqrt(784)), of the same shapes: the cost of a product does not depend on the
values.

Hessian-vector products are forward-over-reverse, jax.jvp(jax.grad(loss), (w,), (v,)). Each
Lanczos step (the product, both Gram-Schmidt passes, beta and the new vector) is one jitted
call, and a second one writes the new vector in place into the basis. XLA needs static shapes,
so the basis is kept in chunks of 8 vectors and a step passes the chunks in use: one
compilation per chunk count, all done in an untimed warm-up run. (Slicing the first k rows of
one (m + 1) x d array copies them at every step, and passing the whole array reads m + 1 rows
at every step; both measured slower.)

Prints {"id": "slq_1run_m100_mlp5_f64", "s": ...}: the median wall time of one run, in seconds.
"""

import argparse
import json
import os
import time
from functools import partial

os.environ.setdefault("JAX_ENABLE_X64", "1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from scipy.linalg import eigh_tridiagonal  # noqa: E402

jax.config.update("jax_enable_x64", True)

WIDTHS = [784, 200, 200, 200, 200, 10]
BATCH = 128
BUCKET = 8


def make_loss(x, y):
    """The minibatch loss as a function of the flat parameter vector ([out, in] row-major)."""
    shapes = [(o, i) for i, o in zip(WIDTHS[:-1], WIDTHS[1:])]

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


def make_step(loss):
    """One Lanczos step: the product with q_j, both Gram-Schmidt passes, beta and q_{j+1}.

    The basis is a tuple of (8, d) chunks (zero rows past the last vector); only the chunks in
    use are passed, so a pass reads about the j + 1 vectors of the basis and nothing is copied.
    """

    def hvp(w, v):
        return jax.jvp(jax.grad(loss), (w,), (v,))[1]

    @jax.jit
    def step(w, chunks, v, j):
        r = hvp(w, v)
        alpha = 0.0
        for _ in range(2):
            hs = [c @ r for c in chunks]
            r = r - sum(c.T @ h for c, h in zip(chunks, hs))
            alpha = alpha + jnp.concatenate(hs)[j]
        beta = jnp.linalg.norm(r)
        return r / beta, alpha, beta

    @partial(jax.jit, donate_argnums=(0,))
    def put(chunk, v, row):
        return jax.lax.dynamic_update_slice(chunk, v[None, :], (row, 0))

    return step, put


def slq_run(step_put, w, probe, m):
    """Nodes and weights of one run from the Rademacher probe."""
    step, put = step_put
    d = probe.shape[0]
    chunks = [jnp.zeros((BUCKET, d), dtype=jnp.float64) for _ in range(m // BUCKET + 1)]
    v = probe / np.sqrt(d)
    chunks[0] = put(chunks[0], v, 0)
    alphas, betas = [], []
    for j in range(m):
        active = tuple(chunks[: j // BUCKET + 1])
        v, alpha, beta = step(w, active, v, j)
        alphas.append(alpha)
        betas.append(beta)
        if j + 1 < m:
            c = (j + 1) // BUCKET
            chunks[c] = put(chunks[c], v, (j + 1) % BUCKET)
    alphas = np.asarray(jax.device_get(jnp.stack(alphas)))
    betas = np.asarray(jax.device_get(jnp.stack(betas)))
    nodes, vectors = eigh_tridiagonal(alphas, betas[:-1])
    return nodes, vectors[0] ** 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs")
    parser.add_argument("--steps", type=int, default=100, help="Lanczos steps m")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    d = sum(i * o for i, o in zip(WIDTHS[:-1], WIDTHS[1:]))
    x = jnp.asarray(rng.random((BATCH, WIDTHS[0])))
    y = jnp.asarray(np.eye(WIDTHS[-1])[rng.integers(0, WIDTHS[-1], BATCH)])
    bound = 1.0 / np.sqrt(784.0)
    w = jnp.asarray(rng.uniform(-bound, bound, d))
    step = make_step(make_loss(x, y))

    def probe():
        return jnp.asarray(rng.choice([-1.0, 1.0], d))

    slq_run(step, w, probe(), args.steps)  # compiles every bucket
    times = []
    for _ in range(args.repeats):
        v = probe()
        start = time.perf_counter()
        nodes, weights = slq_run(step, w, v, args.steps)
        times.append(time.perf_counter() - start)
        assert abs(weights.sum() - 1.0) < 1e-10, weights.sum()
    print(json.dumps({
        "id": f"slq_1run_m{args.steps}_mlp5_f64",
        "s": float(np.median(times)),
        "all_s": times,
        "jax": jax.__version__,
        "top_node": float(nodes[-1]),
    }), flush=True)


if __name__ == "__main__":
    main()
