"""The ``mnist_epoch`` workload: one epoch of 784-256-128-10 ReLU + softmax CE, batch x dtype x optimizer."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

import nnscratch as nn

from .. import baseline_numpy as base
from ..context import Context
from ..flops import mlp_train_flops
from ..impls import NUMPY_VEC, OURS, SKLEARN, TORCH
from ..machine import MemoryProbe
from ..timing import interleaved, make_row
from .accuracy import accuracy

EPOCH_SIZES = [784, 256, 128, 10]
EPOCH_LR = {"momentum": 0.01, "adam": 1e-3}
HEADLINE = (128, "float32", "momentum")


def epoch_configs(quick: bool) -> list[tuple[int, str, str]]:
    """(batch, dtype, optimizer) of the epoch workload; the headline configuration comes first."""
    if quick:
        return [HEADLINE]
    grid = list(itertools.product([128, 64], ["float32", "float64"], ["momentum", "adam"]))
    grid.remove(HEADLINE)
    return [HEADLINE, *grid]


def epoch_config_name(bs: int, dtype: str, opt: str) -> str:
    return f"batch {bs}, {dtype}, {'SGD momentum 0.9' if opt == 'momentum' else 'Adam'}"


def mnist_epoch(ctx: Context) -> list[dict[str, Any]]:
    """One epoch of 784-256-128-10 ReLU + softmax CE over 60,000 images, for batch x dtype x optimizer."""
    x_train, y_train, x_test, y_test = ctx.mnist()
    n = 12000 if ctx.quick else len(x_train)
    if n < len(x_train):
        ctx.note(f"--quick: the epoch workload uses the first {n:,} of the {len(x_train):,} training images")
    labels = np.asarray(y_train[:n])
    x32 = x_train[:n].reshape(n, -1).astype(np.float32) / np.float32(255)
    xs: dict[str, np.ndarray] = {"float32": x32}
    tb, sk = ctx.torch(), ctx.sklearn()
    rows: list[dict[str, Any]] = []
    for k, (bs, dtype, opt) in enumerate(epoch_configs(ctx.quick)):
        if dtype not in xs:
            xs[dtype] = x32.astype(dtype)
        x, lr = xs[dtype], EPOCH_LR[opt]

        def ours(x: np.ndarray = x, bs: int = bs, dtype: str = dtype, opt: str = opt, lr: float = lr) -> Any:
            model = nn.Sequential([nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(10),
                                   nn.Softmax()], seed=0, dtype=dtype)
            optimizer = nn.SGD(lr=lr, momentum=0.9) if opt == "momentum" else nn.Adam(lr=lr)
            model.compile(loss="categorical_crossentropy", optimizer=optimizer)
            model.fit(x, labels, epochs=1, batch_size=bs, verbose=0)
            return model

        def plain(x: np.ndarray = x, bs: int = bs, dtype: str = dtype, opt: str = opt, lr: float = lr) -> Any:
            params, _ = base.train_vectorized(x, labels, EPOCH_SIZES, epochs=1, batch_size=bs, optimizer=opt, lr=lr,
                                              dtype=dtype)
            return params, ("relu", "softmax_ce")

        memory = None
        if k == 0:  # peak memory of our run alone, before any baseline has run in this process
            probe = MemoryProbe()
            ours()
            memory = probe.report()
            memory["dataset_bytes"] = int(x32.nbytes + labels.nbytes)
            memory["raw_dataset_bytes"] = int(sum(a.nbytes for a in ctx.mnist()))
        cands: dict[str, Callable[[], Any]] = {OURS: ours, NUMPY_VEC: plain}
        if tb is not None:
            def torch_run(x: np.ndarray = x, bs: int = bs, dtype: str = dtype, opt: str = opt, lr: float = lr) -> Any:
                return tb.train(x, labels, EPOCH_SIZES, epochs=1, batch_size=bs, optimizer=opt, lr=lr, dtype=dtype)

            cands[TORCH] = torch_run
        if sk is not None:
            def sklearn_run(x: np.ndarray = x, bs: int = bs, opt: str = opt, lr: float = lr) -> Any:
                return sk.train(x, labels, (256, 128), epochs=1, batch_size=bs, optimizer=opt, lr=lr)

            cands[SKLEARN] = sklearn_run
        timed = interleaved(cands, ctx.reps_for(5 if k == 0 else 3, 2), ctx.warmup)
        flops = mlp_train_flops(EPOCH_SIZES, n)
        xt = None
        if ctx.real_data:
            xt = x_test.reshape(len(x_test), -1).astype(dtype) / np.dtype(dtype).type(255)
        for name, t in timed.items():
            extra: dict[str, Any] = {"data": ctx.data_source, "batch_size": bs, "optimizer": opt, "lr": lr,
                                     "headline": k == 0}
            if name == OURS and memory is not None:
                extra["memory"] = memory
            if xt is not None:
                extra["test_accuracy_after_epoch"] = accuracy(name, t["result"], xt, np.asarray(y_test))
            rows.append(make_row("mnist_epoch", epoch_config_name(bs, dtype, opt), name, t["times"],
                                 threads=ctx.threads, dtype=dtype, steps=-(-n // bs), flops=flops, samples=n, **extra))
    return rows
