"""The reference for benches/epoch.rs: the same epoch in JAX on the CPU.

784-16-16-10 ReLU MLP without biases, PyTorch's nn.Linear initialisation, softmax
cross-entropy, plain SGD at lr 0.1, minibatches of 32 from the 8,000 training digits of the
embedded MNIST subset (every index not congruent to 4 mod 5), one epoch = 250 steps.

Two JAX programs are timed, both jit-compiled and warmed up first:
  loop: a Python loop over a jitted step (what most research scripts do);
  scan: the whole epoch as one jitted lax.scan (JAX at its fastest).
Prints one JSON object: seconds per epoch, median over repetitions.
"""
import gzip
import json
import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "gates-models", "data", "mnist-subset")


def load():
    with gzip.open(os.path.join(DATA, "images-idx3-ubyte.gz")) as f:
        raw = f.read()
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784) / 255.0
    with gzip.open(os.path.join(DATA, "labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    train = np.arange(len(labels)) % 5 != 4
    return images[train], labels[train]


def init(key, widths, dtype):
    params = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        key, sub = jax.random.split(key)
        bound = 1.0 / np.sqrt(fan_in)
        params.append(jax.random.uniform(sub, (fan_out, fan_in), dtype, -bound, bound))
    return params


def loss_fn(params, x, y):
    a = x
    for w in params[:-1]:
        a = jax.nn.relu(a @ w.T)
    logits = a @ params[-1].T
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


def sgd(params, x, y, lr):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
    return [p - lr * g for p, g in zip(params, grads)], loss


def median_time(fn, reps):
    fn()  # compile and warm up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(dtype, reps):
    images, labels = load()
    x_all = jnp.asarray(images, dtype)
    y_all = jnp.asarray(labels, jnp.int32)
    order = np.random.default_rng(0).permutation(len(labels))[: 250 * 32].reshape(250, 32)
    xs, ys = x_all[order], y_all[order]
    params = init(jax.random.PRNGKey(0), [784, 16, 16, 10], dtype)
    lr = jnp.asarray(0.1, dtype)

    step = jax.jit(sgd)

    def loop():
        p = params
        for t in range(250):
            p, loss = step(p, xs[t], ys[t], lr)
        jax.block_until_ready(p)

    @jax.jit
    def epoch(p):
        def body(p, batch):
            p, loss = sgd(p, batch[0], batch[1], lr)
            return p, loss
        return jax.lax.scan(body, p, (xs, ys))

    def scan():
        jax.block_until_ready(epoch(params))

    return {"loop": median_time(loop, reps), "scan": median_time(scan, reps)}


if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    out = {"jax_version": jax.__version__, "device": str(jax.devices()[0])}
    out["f32"] = run(jnp.float32, reps)
    jax.config.update("jax_enable_x64", True)
    out["f64"] = run(jnp.float64, reps)
    print(json.dumps(out))
