"""The ``mnist_lstm_epoch`` workload: MNIST images read row by row (28 steps of 28 pixels) by an LSTM(64),
then a softmax Dense(10); one epoch, Adam, batch 128: nnscratch vs PyTorch's ``nn.LSTM`` (the same gate
maths, its own fused kernels)."""

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


def train_torch_lstm(x: np.ndarray, y: np.ndarray, *, batch_size: int, lr: float, seed: int = 0) -> Any:
    """The same network in PyTorch (``nn.LSTM`` batch-first, ``nn.Linear``), trained one epoch with Adam."""
    import torch

    torch.manual_seed(seed)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(FEATURES, LSTM_UNITS, batch_first=True)
            self.out = torch.nn.Linear(LSTM_UNITS, 10)

        def forward(self, inputs: Any) -> Any:
            _, (h, _) = self.lstm(inputs)
            return self.out(h[0])

    net = Net()
    X, Y = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.asarray(y, np.int64))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed + 1))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(X[idx]), Y[idx]).backward()
        opt.step()
    return net


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
    if ctx.torch() is not None:
        cands[TORCH] = lambda: train_torch_lstm(x, labels, batch_size=LSTM_BATCH, lr=LSTM_LR)
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
