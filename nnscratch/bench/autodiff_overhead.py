"""Per-step cost of a Dense layer written with ``nnscratch.ops`` (differentiated by the tape) vs the built-in
``Dense`` with its hand-written backward: forward + backward + parameter-gradient accumulation, float32.

    python -m nnscratch.bench.autodiff_overhead [--batch 128] [--reps 300]

Prints the median time per step of each and the ratio, for the MNIST MLP's first layer (784 -> 256, no input
gradient) and second layer (256 -> 128, with the input gradient). Not a test: timings vary with the machine.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import nnscratch as nn
from nnscratch import ops
from nnscratch.autodiff import Tensor, vjp
from nnscratch.core.call import Call


def median_time(step: Callable[[], None], reps: int) -> float:
    """Median seconds of ``step()`` over ``reps`` calls, after 10 untimed ones."""
    for _ in range(10):
        step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def dense_call(x: Tensor, params: list[Tensor]) -> Tensor:
    """``relu(x @ w + b)`` written with ``nnscratch.ops``: ``x`` (batch, in), ``w`` (in, out), ``b`` (out,)."""
    w, b = params
    return ops.relu(ops.add(ops.matmul(x, w), b))


def main() -> None:
    """Print the two layers' per-step times and their ratio."""
    parser = argparse.ArgumentParser(prog="python -m nnscratch.bench.autodiff_overhead",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--reps", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for n_in, n_out, first in ((784, 256, True), (256, 128, False)):
        t_builtin, t_ops = compare(rng, args.batch, n_in, n_out, first, args.reps)
        print(f"Dense {n_in}->{n_out} relu, batch {args.batch}{' (first layer)' if first else ''}: "
              f"built-in {t_builtin * 1e6:.0f} us, ops+tape {t_ops * 1e6:.0f} us, ratio {t_ops / t_builtin:.2f}")


def compare(rng: np.random.Generator, batch: int, n_in: int, n_out: int, first: bool, reps: int) -> tuple[float, float]:
    """Median seconds per step of the built-in Dense and of the ops version (same weights, same data)."""
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    g = rng.standard_normal((batch, n_out)).astype(np.float32)
    layer = nn.Dense(n_out, activation="relu")
    layer.forward(x)  # builds the weights
    w, b = layer.weight, layer.bias
    assert w is not None and b is not None
    ctx = Call(training=True, input_grad=not first)  # the first layer of a model skips dL/dx
    x_in = Tensor(x) if first else x  # a constant Tensor: no input gradient, as the built-in first layer

    def builtin() -> None:
        w.zero_grad()
        b.zero_grad()
        layer.forward_call(ctx, x)
        layer.backward_call(ctx, g)

    def with_ops() -> None:
        w.zero_grad()
        b.zero_grad()
        _, backward = vjp(dense_call, x_in, [w.data, b.data])
        _, (dw, db) = backward(g)
        w.grad += dw
        b.grad += db

    return median_time(builtin, reps), median_time(with_ops, reps)

if __name__ == "__main__":
    main()
