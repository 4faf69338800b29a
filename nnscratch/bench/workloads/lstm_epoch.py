"""The ``mnist_lstm_epoch`` workload: MNIST images read row by row (28 steps of 28 pixels) by an LSTM(64),
then a softmax Dense(10); one epoch, Adam, batch 128: nnscratch vs PyTorch's ``nn.LSTM`` (the same gate
maths, its own fused kernels; ``baseline_torch.build_lstm``, trained by the CNN's loop)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import nnscratch as nn

from ..context import Context
from ..impls import OURS, TORCH
from ..timing import interleaved, make_row
from .accuracy import accuracy

LSTM_UNITS, LSTM_BATCH, LSTM_LR, LSTM_QUICK_IMAGES = 64, 128, 1e-3, 4000
STEPS = FEATURES = 28


def lstm_train_flops(samples: int, units: int = LSTM_UNITS, classes: int = 10) -> int:
    """Useful FLOPs of one training pass: each product (the input and recurrent products of the four gates at
    every step, the dense layer) three times (forward, weight gradient, input gradient); the element-wise gate
    maths is not counted."""
    gates = 4 * units
    per_step = 2 * FEATURES * gates + 2 * units * gates
    return samples * 3 * (STEPS * per_step + 2 * units * classes)


def lstm_model(seed: int = 0) -> Any:
    return nn.Sequential([nn.LSTM(LSTM_UNITS), nn.Dense(10), nn.Softmax()], seed=seed)


def mnist_lstm_epoch(ctx: Context) -> list[dict[str, Any]]:
    """One epoch of LSTM(64) over MNIST rows (60,000 images; --quick 4,000), batch 128, Adam, float32."""
    x_train, y_train, x_test, y_test = ctx.mnist()
    n = min(LSTM_QUICK_IMAGES, len(x_train)) if ctx.quick else len(x_train)
    if n < len(x_train):
        ctx.note(f"--quick: the LSTM epoch workload uses the first {n:,} of the {len(x_train):,} training images")
    labels = np.asarray(y_train[:n])
    x = x_train[:n].reshape(n, STEPS, FEATURES).astype(np.float32) / np.float32(255)
    config = f"LSTM({LSTM_UNITS}) over 28 rows of 28 pixels, dense10, batch {LSTM_BATCH}, Adam, float32, {n:,} images"

    def ours() -> Any:
        model = lstm_model()
        model.compile(loss="categorical_crossentropy", optimizer=nn.Adam(lr=LSTM_LR))
        model.fit(x, labels, epochs=1, batch_size=LSTM_BATCH, verbose=0)
        return model

    cands: dict[str, Callable[[], Any]] = {OURS: ours}
    tb = ctx.torch()
    if tb is not None:
        cands[TORCH] = lambda: tb.train_classifier(tb.build_lstm(FEATURES, LSTM_UNITS, 10), x, labels,
                                                   batch_size=LSTM_BATCH, lr=LSTM_LR)
    timed = interleaved(cands, ctx.reps_for(3, 2), ctx.warmup)
    xt = x_test.reshape(len(x_test), STEPS, FEATURES).astype(np.float32) / np.float32(255) if ctx.real_data else None
    rows = []
    for name, t in timed.items():
        extra: dict[str, Any] = {"data": ctx.data_source, "batch_size": LSTM_BATCH, "optimizer": "adam", "lr": LSTM_LR}
        if xt is not None:
            extra["test_accuracy_after_epoch"] = accuracy(name, t["result"], xt, np.asarray(y_test))
        rows.append(make_row("mnist_lstm_epoch", config, name, t["times"], threads=ctx.threads, dtype="float32",
                             steps=-(-n // LSTM_BATCH), flops=lstm_train_flops(n), samples=n, **extra))
    return rows
