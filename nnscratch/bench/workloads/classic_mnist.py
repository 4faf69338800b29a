"""The classic MNIST workloads: 784-100-50-10 tanh on 1000 images, one sample at a time and in batches of 32."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import nnscratch as nn

from .. import baseline_numpy as base
from ..context import Context
from ..flops import mlp_train_flops
from ..impls import NUMPY_CLASSIC, NUMPY_VEC, OURS, TORCH
from ..timing import interleaved, make_row
from .accuracy import accuracy
from .xor import tanh_mlp


def onehot(labels: np.ndarray, classes: int, dtype: Any) -> np.ndarray:
    out = np.zeros((len(labels), classes), dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def _classic_mnist_data(ctx: Context, n_images: int) -> tuple[np.ndarray, ...]:
    """``(x, labels, one-hot y, x_test, y_test)``: the first ``n_images`` as float64 rows in [0, 1], the test set."""
    x_train, y_train, x_test, y_test = ctx.mnist()
    x = x_train[:n_images].reshape(n_images, -1).astype(np.float64) / 255.0
    labels = np.asarray(y_train[:n_images])
    xt = x_test.reshape(len(x_test), -1).astype(np.float64) / 255.0
    return x, labels, onehot(labels, 10, np.float64), xt, np.asarray(y_test)


def mnist_classic(ctx: Context) -> list[dict[str, Any]]:
    """784-100-50-10 tanh, MSE on one-hot targets, SGD lr 0.1, one update per sample, 1000 images x 35 epochs."""
    n_images, epochs = (200, 5) if ctx.quick else (1000, 35)
    sizes, lr = [784, 100, 50, 10], 0.1
    x, labels, y, xt, yt = _classic_mnist_data(ctx, n_images)
    steps = n_images * epochs
    config = f"784-100-50-10 tanh, MSE, SGD lr {lr}, batch 1, {n_images} images x {epochs} epochs, float64"

    def ours() -> Any:
        model = tanh_mlp(sizes, "float64")
        model.compile(loss="mse", optimizer=nn.SGD(lr=lr))
        model.fit(x, y, epochs=epochs, batch_size=1, shuffle=False, verbose=0)
        return model

    def classic() -> Any:
        net = base.ClassicNetwork(sizes, seed=0)
        net.fit(x, y, epochs, lr)
        return net

    cands: dict[str, Callable[[], Any]] = {OURS: ours, NUMPY_CLASSIC: classic}
    tb = ctx.torch()
    if tb is not None:
        cands[TORCH] = lambda: tb.train(x, y, sizes, epochs=epochs, batch_size=1, optimizer="sgd", lr=lr, hidden="tanh",
                                        output="tanh_mse", dtype=np.float64, shuffle=False)
    timed = interleaved(cands, ctx.reps_for(3, 2), ctx.warmup)
    flops = mlp_train_flops(sizes, steps)
    base_step = float(np.median(timed[NUMPY_CLASSIC]["times"])) / steps * 1e6
    rows = []
    for name, t in timed.items():
        extra: dict[str, Any] = {"data": ctx.data_source}
        if name == OURS:
            extra["overhead_us_per_step"] = float(np.median(t["times"])) / steps * 1e6 - base_step
        if ctx.real_data:
            extra["test_accuracy"] = accuracy(name, t["result"], xt, yt)
        rows.append(make_row("mnist_classic", config, name, t["times"], threads=ctx.threads, dtype="float64",
                             steps=steps, flops=flops, samples=steps, **extra))
    return rows


def mnist_vectorized(ctx: Context) -> list[dict[str, Any]]:
    """The classic MNIST network and data in mini-batches of 32 (nnscratch vs plain NumPy vs torch)."""
    n_images, epochs, bs = (1000, 10, 32) if ctx.quick else (1000, 35, 32)
    sizes, lr = [784, 100, 50, 10], 0.1
    x, labels, y, xt, yt = _classic_mnist_data(ctx, n_images)
    steps = -(-n_images // bs) * epochs
    config = f"784-100-50-10 tanh, MSE, SGD lr {lr}, batch {bs}, {n_images} images x {epochs} epochs, float64"

    def ours() -> Any:
        model = tanh_mlp(sizes, "float64")
        model.compile(loss="mse", optimizer=nn.SGD(lr=lr))
        model.fit(x, y, epochs=epochs, batch_size=bs, shuffle=True, verbose=0)
        return model

    def plain() -> Any:
        params, _ = base.train_vectorized(x, y, sizes, epochs=epochs, batch_size=bs, optimizer="sgd", lr=lr,
                                          hidden="tanh", output="tanh_mse", dtype=np.float64)
        return params, ("tanh", "tanh_mse")

    cands: dict[str, Callable[[], Any]] = {OURS: ours, NUMPY_VEC: plain}
    tb = ctx.torch()
    if tb is not None:
        cands[TORCH] = lambda: tb.train(x, y, sizes, epochs=epochs, batch_size=bs, optimizer="sgd", lr=lr,
                                        hidden="tanh", output="tanh_mse", dtype=np.float64)
    timed = interleaved(cands, ctx.reps_for(5, 2), ctx.warmup)
    flops = mlp_train_flops(sizes, n_images * epochs)
    rows = []
    for name, t in timed.items():
        extra: dict[str, Any] = {"data": ctx.data_source}
        if ctx.real_data:
            extra["test_accuracy"] = accuracy(name, t["result"], xt, yt)
        rows.append(make_row("mnist_vectorized", config, name, t["times"], threads=ctx.threads, dtype="float64",
                             steps=steps, flops=flops, samples=n_images * epochs, **extra))
    return rows
