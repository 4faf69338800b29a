"""The ``mnist_cnn_epoch`` workload: one epoch of the issue's small CNN, nnscratch vs PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import nnscratch as nn

from ..context import Context
from ..flops import cnn_train_flops
from ..impls import OURS, TORCH
from ..machine import MemoryProbe
from ..timing import interleaved, make_row
from .accuracy import accuracy

# The CNN: Conv2D(8,3,same,relu)-MaxPool2D(2)-Conv2D(16,3,same,relu)-MaxPool2D(2)-Flatten-Dense(10)+softmax.
CNN_CONVS = [(28, 28, 3, 3, 1, 8), (14, 14, 3, 3, 8, 16)]   # (OH, OW, KH, KW, C, OC) per convolution
CNN_DENSE = [7 * 7 * 16, 10]
CNN_BATCH, CNN_LR, CNN_QUICK_IMAGES = 64, 1e-3, 5000
CNN_ARCH = "conv8-pool-conv16-pool-dense10"


def cnn_model(dtype: str = "float32", seed: int = 0) -> Any:
    """The issue's CNN in nnscratch, for ``(N, 28, 28, 1)`` channels-last images."""
    return nn.Sequential([nn.Conv2D(8, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
                          nn.MaxPool2D(2),
                          nn.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
                          nn.MaxPool2D(2),
                          nn.Flatten(), nn.Dense(10), nn.Softmax()], seed=seed, dtype=dtype)


def mnist_cnn_epoch(ctx: Context) -> list[dict[str, Any]]:
    """One epoch of the issue's CNN over 60,000 images (batch 64, Adam, float32): nnscratch vs torch."""
    if not all(hasattr(nn, name) for name in ("Conv2D", "MaxPool2D", "Flatten")):
        ctx.note("mnist_cnn_epoch skipped: this nnscratch has no Conv2D/MaxPool2D/Flatten")
        return []
    x_train, y_train, x_test, y_test = ctx.mnist()
    n = min(CNN_QUICK_IMAGES, len(x_train)) if ctx.quick else len(x_train)
    if n < len(x_train):
        ctx.note(f"--quick: the CNN epoch workload uses the first {n:,} of the {len(x_train):,} training images")
    labels = np.asarray(y_train[:n])
    x = x_train[:n].reshape(n, 28, 28, 1).astype(np.float32) / np.float32(255)  # NHWC
    config = f"{CNN_ARCH}, batch {CNN_BATCH}, float32, Adam lr {CNN_LR:g}, {n:,} images"

    def ours() -> Any:
        model = cnn_model()
        model.compile(loss="categorical_crossentropy", optimizer=nn.Adam(lr=CNN_LR))
        model.fit(x, labels, epochs=1, batch_size=CNN_BATCH, verbose=0)
        return model

    # Peak memory of our epoch alone, before torch is even imported (its libraries alone are ~300 MB).
    probe = MemoryProbe()
    ours()
    memory = probe.report()
    memory["dataset_bytes"] = int(x.nbytes + labels.nbytes)
    memory["raw_dataset_bytes"] = int(sum(a.nbytes for a in ctx.mnist()))
    cands: dict[str, Callable[[], Any]] = {OURS: ours}
    tb = ctx.torch()
    if tb is not None:
        cands[TORCH] = lambda: tb.train_cnn(x, labels, epochs=1, batch_size=CNN_BATCH, lr=CNN_LR)
    timed = interleaved(cands, ctx.reps_for(3, 2), ctx.warmup)
    flops = cnn_train_flops(CNN_CONVS, CNN_DENSE, n)
    xt = x_test.reshape(len(x_test), 28, 28, 1).astype(np.float32) / np.float32(255) if ctx.real_data else None
    rows = []
    for name, t in timed.items():
        extra: dict[str, Any] = {"data": ctx.data_source, "batch_size": CNN_BATCH, "optimizer": "adam", "lr": CNN_LR,
                                 "layout": "NHWC" if name == OURS else "NCHW"}
        if name == OURS:
            extra["memory"] = memory
        if xt is not None:
            extra["test_accuracy_after_epoch"] = accuracy(name, t["result"], xt, np.asarray(y_test))
        rows.append(make_row("mnist_cnn_epoch", config, name, t["times"], threads=ctx.threads, dtype="float32",
                             steps=-(-n // CNN_BATCH), flops=flops, samples=n, **extra))
    return rows
