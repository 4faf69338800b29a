"""The ``mnist_ops_epoch`` workload: the MNIST MLP epoch with its Dense layers written with ``nnscratch.ops``
(``build``/``add_weight``/``call``, differentiated by the tape) against the built-in ``Dense``, interleaved."""

from __future__ import annotations

from typing import Any

import numpy as np

import nnscratch as nn
from nnscratch import ops

from ..context import Context
from ..flops import mlp_train_flops
from ..impls import OURS
from ..impls import OURS_OPS as OPS
from ..timing import interleaved, make_row
from .mlp_epoch import EPOCH_SIZES


class OpsDense(nn.Layer):
    """``activation(x @ w + b)`` written with ops, no backward (what a user's custom layer looks like)."""

    def __init__(self, units: int, activation: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units, self.activation = units, activation

    def build(self, input_shape: Any) -> None:
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, x: Any) -> Any:
        z = ops.matmul(x, self.w) + self.b
        return ops.relu(z) if self.activation == "relu" else z


def mnist_ops_epoch(ctx: Context) -> list[dict[str, Any]]:
    """One epoch of 784-256-128-10 (batch 128, float32, Adam) with built-in and ops-written Dense layers."""
    x_train, y_train, _, _ = ctx.mnist()
    n = 12000 if ctx.quick else len(x_train)
    labels = np.asarray(y_train[:n])
    x = x_train[:n].reshape(n, -1).astype(np.float32) / np.float32(255)
    bs = 128

    def run(dense: Any) -> Any:
        model = nn.Sequential([dense(256, activation="relu"), dense(128, activation="relu"), dense(10), nn.Softmax()],
                              seed=0)
        model.compile(loss="categorical_crossentropy", optimizer=nn.Adam(1e-3))
        model.fit(x, labels, epochs=1, batch_size=bs, verbose=0)
        return model

    timed = interleaved({OURS: lambda: run(nn.Dense), OPS: lambda: run(OpsDense)}, ctx.reps_for(3, 2), ctx.warmup)
    flops = mlp_train_flops(EPOCH_SIZES, n)
    ratio = float(np.median(timed[OPS]["times"]) / np.median(timed[OURS]["times"]))
    ctx.note(f"mnist_ops_epoch: the ops-written Dense takes {ratio:.2f}x the built-in Dense's epoch time "
             f"(goal: at most 1.3x)")
    return [make_row("mnist_ops_epoch", "batch 128, float32, Adam", name, t["times"], threads=ctx.threads,
                     dtype="float32", steps=-(-n // bs), flops=flops, samples=n, data=ctx.data_source,
                     ops_over_builtin=ratio)
            for name, t in timed.items()]
