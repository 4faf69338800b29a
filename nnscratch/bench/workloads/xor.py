"""The XOR workloads: the classic 2-3-1 tanh network one sample at a time, and full batch."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

import nnscratch as nn

from .. import baseline_numpy as base
from ..context import Context
from ..flops import mlp_train_flops
from ..impls import NUMPY_CLASSIC, NUMPY_VEC, OURS, OURS_STEP, TORCH
from ..timing import interleaved, make_row

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float64)


def tanh_mlp(sizes: list[int], dtype: str, seed: int = 0) -> Any:
    """Dense+tanh layers for ``sizes`` (tanh on the output too, as in the classic algorithm)."""
    return nn.Sequential([nn.Dense(w, activation="tanh") for w in sizes[1:]], seed=seed, dtype=dtype)



def xor_classic(ctx: Context) -> list[dict[str, Any]]:
    """2-3-1 tanh, MSE, SGD lr 0.1, one update per sample, 1000 epochs: nnscratch vs the classic NumPy code."""
    epochs, lr, sizes = (250 if ctx.quick else 1000), 0.1, [2, 3, 1]
    steps = epochs * len(XOR_X)
    config = f"2-3-1 tanh, MSE, SGD lr {lr}, batch 1, {epochs} epochs, float64"

    def ours() -> float:
        model = tanh_mlp(sizes, "float64")
        model.compile(loss="mse", optimizer=nn.SGD(lr=lr))
        return model.fit(XOR_X, XOR_Y, epochs=epochs, batch_size=1, shuffle=False, verbose=0)["loss"][-1]

    def ours_step() -> float:
        model = tanh_mlp(sizes, "float64")
        model.compile(loss="mse", optimizer=nn.SGD(lr=lr))
        model.fit(XOR_X, XOR_Y, epochs=0, verbose=0)  # builds and attaches the optimizer
        value = 0.0
        for _ in range(epochs):
            for i in range(len(XOR_X)):
                value = model.train_step(XOR_X[i:i + 1], XOR_Y[i:i + 1])["loss"]
        return value

    def classic() -> float:
        return base.ClassicNetwork(sizes, seed=0).fit(XOR_X, XOR_Y, epochs, lr)[-1]

    cands: dict[str, Callable[[], Any]] = {OURS: ours, OURS_STEP: ours_step, NUMPY_CLASSIC: classic}
    tb = ctx.torch()
    if tb is not None:
        cands[TORCH] = lambda: tb.train(XOR_X, XOR_Y, sizes, epochs=epochs, batch_size=1, optimizer="sgd", lr=lr,
                                        hidden="tanh", output="tanh_mse", dtype=np.float64, shuffle=False)
    timed = interleaved(cands, ctx.reps_for(5), ctx.warmup)
    flops = mlp_train_flops(sizes, steps)
    rows = []
    base_step = float(np.median(timed[NUMPY_CLASSIC]["times"])) / steps * 1e6
    for name, t in timed.items():
        extra: dict[str, Any] = {}
        if name in (OURS, OURS_STEP):
            extra["overhead_us_per_step"] = float(np.median(t["times"])) / steps * 1e6 - base_step
        if name in (OURS, NUMPY_CLASSIC):
            extra["final_loss"] = float(t["result"])
        rows.append(make_row("xor_classic", config, name, t["times"], threads=ctx.threads, dtype="float64",
                             steps=steps, flops=flops, samples=steps, **extra))
    return rows


class StopAtAccuracy(nn.Callback):
    """Stop ``fit`` once the epoch's ``accuracy`` log reaches ``target``; ``reached_epoch`` is 1-based."""

    def __init__(self, target: float = 1.0) -> None:
        super().__init__()
        self.target = target
        self.reached_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if (logs or {}).get("accuracy", 0.0) >= self.target and self.reached_epoch is None:
            self.reached_epoch = epoch + 1
            self.model.stop_training = True


def xor_vectorized(ctx: Context) -> list[dict[str, Any]]:
    """2-3-1 tanh full batch for 1000 epochs (vs plain NumPy, torch); time to 100% with the best recipe."""
    epochs, lr, sizes = (250 if ctx.quick else 1000), 0.1, [2, 3, 1]
    config = f"2-3-1 tanh, MSE, SGD lr {lr}, full batch, {epochs} epochs, float64"

    def ours() -> float:
        model = tanh_mlp(sizes, "float64")
        model.compile(loss="mse", optimizer=nn.SGD(lr=lr))
        return model.fit(XOR_X, XOR_Y, epochs=epochs, batch_size=None, shuffle=False, verbose=0)["loss"][-1]

    def plain() -> float:
        return base.train_vectorized(XOR_X, XOR_Y, sizes, epochs=epochs, batch_size=4, optimizer="sgd", lr=lr,
                                     hidden="tanh", output="tanh_mse", dtype=np.float64, shuffle=False)[1][-1]

    cands: dict[str, Callable[[], Any]] = {OURS: ours, NUMPY_VEC: plain}
    tb = ctx.torch()
    if tb is not None:
        cands[TORCH] = lambda: tb.train(XOR_X, XOR_Y, sizes, epochs=epochs, batch_size=4, optimizer="sgd", lr=lr,
                                        hidden="tanh", output="tanh_mse", dtype=np.float64, shuffle=False)
    timed = interleaved(cands, ctx.reps_for(5), ctx.warmup)
    flops = mlp_train_flops(sizes, epochs * len(XOR_X))
    rows = [make_row("xor_vectorized", config, name, t["times"], threads=ctx.threads, dtype="float64", steps=epochs,
                     flops=flops, samples=epochs * len(XOR_X)) for name, t in timed.items()]

    # Time to 100% accuracy with the framework's best recipe, one seed per repetition.
    best = "2-8-1 tanh + sigmoid, binary cross-entropy, Adam lr 0.1, full batch, stop at 100% accuracy"
    max_epochs = 1000
    times, epochs_needed, reached = [], [], 0
    for seed in range(ctx.reps_for(5, 3)):
        model = nn.Sequential([nn.Dense(8, activation="tanh"), nn.Dense(1, activation="sigmoid")], seed=seed,
                              dtype="float64")
        model.compile(loss="binary_crossentropy", optimizer=nn.Adam(lr=0.1), metrics=["accuracy"])
        stop = StopAtAccuracy(1.0)
        t0 = time.perf_counter()
        model.fit(XOR_X, XOR_Y, epochs=max_epochs, batch_size=None, shuffle=False, callbacks=[stop], verbose=0)
        times.append(time.perf_counter() - t0)
        epochs_needed.append(stop.reached_epoch)
        reached += stop.reached_epoch is not None
    done = [e for e in epochs_needed if e is not None]
    rows.append(make_row("xor_vectorized", best, f"{OURS} time-to-100%", times, threads=ctx.threads, dtype="float64",
                         steps=int(np.median(done)) if done else max_epochs, seeds=list(range(len(times))),
                         epochs_to_100=epochs_needed, reached=f"{reached}/{len(times)} seeds"))
    return rows
