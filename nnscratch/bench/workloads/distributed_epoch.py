"""The ``distributed_epoch`` workload: the MNIST MLP and CNN epoch on Ray worker processes, at equal cores.

At ``T`` threads it times, interleaved: one process (``model.fit``: the thread data-parallel step on ``T``
threads where the model allows it), PyTorch on ``T`` threads, and ``nnscratch.distributed`` with ``T``
worker processes of one thread each on a local Ray cluster of ``T`` CPUs (so ``--threads 1,2`` gives the 1-
and 2-worker rows, and the all-cores speedup column of the Ray row is its scaling from 1 to ``T`` workers).
The workers are started once, before the timing (their start-up is reported apart, as ``start_s``); each
timed run is one epoch of ``fit``'s loop around the ``RayTrainer`` step (``loop.fit_with``).

From the Ray runs, per step: the compute (the slowest worker's forward/backward of its share), the
synchronisation (the rest: the weights out, the gradients back, their sum, the optimizer step, Ray's
dispatch) and the bytes moved; these are the inputs of the scaling model in ``docs/distributed.md``.
Skipped, with a note, when Ray is not installed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import numpy as np

import nnscratch as nn

from ...training.data import input_arrays, target_arrays
from ...training.loop import fit_with
from ..context import Context
from ..flops import cnn_train_flops, mlp_train_flops
from ..impls import OURS, TORCH
from ..timing import interleaved, make_row
from .cnn_epoch import CNN_ARCH, CNN_BATCH, CNN_CONVS, CNN_DENSE, CNN_LR, cnn_model
from .mlp_epoch import EPOCH_LR, EPOCH_SIZES

RAY = "nnscratch on Ray, T workers x 1 thread"
MLP_BATCH = 128
QUICK_IMAGES = {"mlp": 6000, "cnn": 2000}
# Each worker computes on one thread: BLAS, OpenMP and nnscratch's own step threads.
ONE_THREAD = {var: "1" for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                   "NNSCRATCH_NUM_THREADS")}


def _mlp() -> Any:
    model = nn.Sequential([nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(10),
                           nn.Softmax()], seed=0)
    model.build((784,))
    return model.compile(loss="categorical_crossentropy", optimizer=nn.SGD(lr=EPOCH_LR["momentum"], momentum=0.9))


def _cnn() -> Any:
    model = cnn_model()
    model.build((28, 28, 1))
    return model.compile(loss="categorical_crossentropy", optimizer=nn.Adam(lr=CNN_LR))


def _networks(ctx: Context) -> list[dict[str, Any]]:
    """The two networks with their data (flattened for the MLP, NHWC for the CNN), batch and FLOPs."""
    x_train, y_train, _, _ = ctx.mnist()
    out = []
    for name in ("mlp", "cnn"):
        n = min(QUICK_IMAGES[name], len(x_train)) if ctx.quick else len(x_train)
        if n < len(x_train):
            ctx.note(f"--quick: distributed_epoch's {name.upper()} uses the first {n:,} of the {len(x_train):,} "
                     "training images")
        x = x_train[:n].astype(np.float32) / np.float32(255)
        if name == "mlp":
            out.append({"name": "mlp", "build": _mlp, "x": x.reshape(n, -1), "batch": MLP_BATCH, "n": n,
                        "flops": mlp_train_flops(EPOCH_SIZES, n),
                        "config": f"MLP 784-256-128-10, batch {MLP_BATCH}, float32, SGD momentum 0.9, {n:,} images"})
        else:
            out.append({"name": "cnn", "build": _cnn, "x": x.reshape(n, 28, 28, 1), "batch": CNN_BATCH, "n": n,
                        "flops": cnn_train_flops(CNN_CONVS, CNN_DENSE, n),
                        "config": f"CNN {CNN_ARCH}, batch {CNN_BATCH}, float32, Adam lr {CNN_LR:g}, {n:,} images"})
        out[-1]["labels"] = np.asarray(y_train[:n])
    return out


class RayEpoch:
    """One epoch of ``fit``'s loop on ``workers`` Ray workers started once; per-call step statistics."""

    def __init__(self, net: dict[str, Any], workers: int) -> None:
        from ...distributed import RayTrainer

        self.net, self.model = net, net["build"]()
        xs = input_arrays(self.model, net["x"])
        ys = target_arrays(self.model, net["labels"], len(xs[0]))
        began = time.perf_counter()
        self.trainer = RayTrainer(self.model, xs, ys, workers=workers, seed=0).start()
        self.start_s = time.perf_counter() - began
        self.calls: list[dict[str, float]] = []

    def __call__(self) -> Any:
        before = dict(self.trainer.stats)
        fit_with(lambda model, xs, ys: nullcontext(self.trainer), self.model, self.net["x"], self.net["labels"],
                 epochs=1, batch_size=self.net["batch"], verbose=0)
        self.calls.append({k: v - before[k] for k, v in self.trainer.stats.items()})
        return self.model

    def figures(self, warmup: int) -> dict[str, Any]:
        """Per-step means over the timed calls (the first ``warmup`` calls left out)."""
        timed = self.calls[warmup:] or self.calls
        steps = sum(c["steps"] for c in timed)
        step_s, compute_s = (sum(c[k] for c in timed) / steps for k in ("step_seconds", "compute_seconds"))
        flat, workers = self.trainer.flat, self.trainer.workers
        share = self.net["batch"] / workers
        return {"workers": workers, "cores": workers, "start_s": self.start_s, "step_ms": 1e3 * step_s,
                "compute_ms": 1e3 * compute_s, "sync_ms": 1e3 * (step_s - compute_s),
                "compute_us_per_sample": 1e6 * compute_s / share, "params": self.model.count_params(),
                "bytes_per_step": (workers + 1) * flat.size * flat.dtype.itemsize,
                "redone_steps": self.trainer.failures}

    def close(self) -> None:
        self.trainer.shutdown()


def mnist_distributed_epoch(ctx: Context) -> list[dict[str, Any]]:
    """The MLP and CNN epoch: one process on T threads, PyTorch on T threads, Ray on T one-thread workers."""
    try:
        import nnscratch.distributed  # noqa: F401  (without Ray: DistributedUnavailableError, the install hint)
    except ImportError as exc:
        ctx.note(f"distributed_epoch skipped: {exc}")
        return []
    import ray

    workers, started = ctx.threads, not ray.is_initialized()
    if started:  # else: the cluster this process is connected to
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": ONE_THREAD})
        ctx.note(f"distributed_epoch: the Ray row at T threads is T worker processes of one thread each on a local "
                 f"cluster of T CPUs (ray {ray.__version__}); the driver and Ray's own processes share those cores")
    tb = ctx.torch()
    rows: list[dict[str, Any]] = []
    try:
        for net in _networks(ctx):
            rows += _measure(ctx, net, workers, tb)
    finally:
        if started:
            ray.shutdown()
    return rows


def _measure(ctx: Context, net: dict[str, Any], workers: int, tb: Any) -> list[dict[str, Any]]:
    x, labels, bs, n = net["x"], net["labels"], net["batch"], net["n"]
    single: dict[str, Any] = {}

    def ours() -> Any:
        model = net["build"]()
        model.fit(x, labels, epochs=1, batch_size=bs, verbose=0)
        single["parallel"] = model.trainer.parallel is not None
        return model

    ray_epoch = RayEpoch(net, workers)
    cands: dict[str, Callable[[], Any]] = {OURS: ours, RAY: ray_epoch}
    if tb is not None:
        if net["name"] == "mlp":
            cands[TORCH] = lambda: tb.train(x, labels, EPOCH_SIZES, epochs=1, batch_size=bs, optimizer="momentum",
                                            lr=EPOCH_LR["momentum"], dtype="float32")
        else:
            cands[TORCH] = lambda: tb.train_cnn(x, labels, epochs=1, batch_size=bs, lr=CNN_LR)
    try:
        timed = interleaved(cands, ctx.reps_for(3, 2), max(ctx.warmup, 1))
        figures = ray_epoch.figures(max(ctx.warmup, 1))
    finally:
        ray_epoch.close()
    path = ("one thread" if ctx.threads == 1 else
            "thread data-parallel step" if single.get("parallel") else "BLAS threads")
    rows = []
    for name, t in timed.items():
        extra: dict[str, Any] = {"data": ctx.data_source, "batch_size": bs, "network": net["name"]}
        if name == RAY:
            extra.update(figures)
        elif name == OURS:
            extra.update(path=f"one process, {path}", cores=ctx.threads)
        rows.append(make_row("distributed_epoch", net["config"], name, t["times"], threads=ctx.threads,
                             dtype="float32", steps=-(-n // bs), flops=net["flops"], samples=n, **extra))
    ray_row = next(r for r in rows if r["impl"] == RAY)
    speedup = rows[0]["median_s"] / ray_row["median_s"]
    f = figures
    ctx.note(f"distributed_epoch {net['name'].upper()}, {workers} Ray worker{'s' if workers > 1 else ''}: "
             f"{f['step_ms']:.1f} ms per step = compute {f['compute_ms']:.1f} (slowest worker; "
             f"{f['compute_us_per_sample']:.0f} us per sample) + sync {f['sync_ms']:.1f} ms; "
             f"{f['bytes_per_step'] / 1e6:.2f} MB moved per step; workers up in {f['start_s']:.1f} s; "
             f"speedup over one process on {ctx.threads} thread{'s' if ctx.threads > 1 else ''} ({path}): "
             f"{speedup:.2f}")
    return rows
