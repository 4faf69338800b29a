"""Data-parallel training on Ray against one process: the MNIST MLP and CNN epoch with 1, 2, ... workers.

    python benchmarks/distributed.py                        # 60,000 synthetic MNIST-shaped images, 1 and 2 workers
    python benchmarks/distributed.py --samples 10000 --workers 1,2,4 --json results/distributed.json

For each network: one epoch of ``model.fit`` in this process (the thread data-parallel step where the model
allows it, BLAS threads otherwise) and one epoch of ``fit_distributed`` per worker count on a local Ray
cluster, timed from the first to the last batch (the cluster and the workers are started before). From the
distributed runs: compute per step (the slowest worker's forward/backward), synchronisation per step (the
rest: weights out, gradients back, their sum, the optimizer step, Ray's scheduling), the bytes a step moves,
and the speedup over the faster of one process on all cores and one process on one thread (each worker
computes on one thread; threadpoolctl limits this process's BLAS for that row). The data are random (the
timing does not depend on the values).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nnscratch as nn  # noqa: E402


def mlp(seed: int = 0) -> Any:
    """784-256-128-10 ReLU + softmax, SGD momentum 0.9, batch 128 (the suite's headline ``mnist_epoch``)."""
    model = nn.Sequential([nn.Input(shape=(28, 28, 1)), nn.Flatten(), nn.Dense(256, activation="relu"),
                           nn.Dense(128, activation="relu"), nn.Dense(10, activation="softmax")], seed=seed)
    return model.compile(loss="categorical_crossentropy", optimizer=nn.SGD(lr=0.01, momentum=0.9), metrics=["accuracy"])


def cnn(seed: int = 0) -> Any:
    """Conv(8)-Pool-Conv(16)-Pool-Dense(10), Adam, batch 64 (the suite's ``mnist_cnn_epoch``)."""
    model = nn.Sequential([nn.Input(shape=(28, 28, 1)), nn.Conv2D(8, 3, padding="same", activation="relu"),
                           nn.MaxPool2D(2), nn.Conv2D(16, 3, padding="same", activation="relu"), nn.MaxPool2D(2),
                           nn.Flatten(), nn.Dense(10, activation="softmax")], seed=seed)
    return model.compile(loss="categorical_crossentropy", optimizer=nn.Adam(lr=1e-3), metrics=["accuracy"])


NETWORKS = {"mlp": (mlp, 128), "cnn": (cnn, 64)}


class EpochTimer(nn.Callback):
    """An epoch's seconds, from the end of its first batch (a warm-up: first allocations, first messages) to
    the end of its last, scaled by ``steps / (steps - 1)``; resets a ``RayTrainer``'s step statistics there too."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.trainer: Any = None

    def on_train_batch_end(self, batch: int, logs: dict) -> None:
        if batch == 0:
            self.began = time.perf_counter()
            if self.trainer is not None:
                self.trainer.stats.update(steps=0, step_seconds=0.0, compute_seconds=0.0)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        steps = self.params["steps"]
        self.seconds.append((time.perf_counter() - self.began) * steps / (steps - 1))


@contextlib.contextmanager
def one_thread(on: bool) -> Iterator[None]:
    """Training steps and BLAS on one thread (as in each Ray worker, which Ray starts with OMP_NUM_THREADS=1)."""
    if not on:
        yield
        return
    from threadpoolctl import threadpool_limits

    nn.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        nn.set_num_threads(None)


def measure(network: str, samples: int, workers: list[int], seed: int = 0) -> list[dict[str, Any]]:
    """One row per configuration: ``impl``, ``workers``, ``epoch_s``, and for Ray the per-step figures."""
    from nnscratch.distributed import fit_distributed

    build, batch = NETWORKS[network]
    rng = np.random.default_rng(seed)
    x = rng.random((samples, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, samples)
    steps = -(-samples // batch)
    rows = []
    for threads in sorted({1, nn.get_num_threads()}):
        timer = EpochTimer()
        model = build()
        with one_thread(threads == 1):
            model.fit(x, y, epochs=1, batch_size=batch, verbose=0, callbacks=[timer])
        path = "thread data-parallel" if model.trainer.parallel is not None and threads > 1 else "BLAS"
        rows.append({"network": network, "impl": f"one process ({path}, {threads} thread{'s' if threads > 1 else ''})",
                     "workers": 0, "epoch_s": timer.seconds[0], "steps": steps, "params": model.count_params()})
    for count in workers:
        timer, seen = EpochTimer(), []
        model = build()
        began = time.perf_counter()
        fit_distributed(model, x, y, workers=count, epochs=1, batch_size=batch, verbose=0, callbacks=[timer],
                        trainer_hook=lambda t: (seen.append((t, time.perf_counter())), setattr(timer, "trainer", t)))
        trainer, up = seen[0]
        stats = trainer.stats
        rows.append({"network": network, "impl": f"ray, {count} worker{'s' if count > 1 else ''}", "workers": count,
                     "epoch_s": timer.seconds[0], "steps": steps, "params": model.count_params(),
                     "start_s": up - began, "step_ms": 1e3 * stats["step_seconds"] / stats["steps"],
                     "compute_ms": 1e3 * stats["compute_seconds"] / stats["steps"],
                     "sync_ms": 1e3 * trainer.sync_seconds(),
                     "bytes_per_step": (count + 1) * trainer.flat.size * trainer.flat.dtype.itemsize})
    single = min(r["epoch_s"] for r in rows if not r["workers"])  # the faster one-process setting
    for row in rows:
        row["speedup"] = single / row["epoch_s"]
    return rows


def report(rows: list[dict[str, Any]]) -> str:
    head = f"{'network':8}{'implementation':44}{'epoch s':>9}{'speedup':>9}{'step ms':>9}{'compute':>9}{'sync ms':>9}{'MB/step':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        extra = (f"{r['step_ms']:9.1f}{r['compute_ms']:9.1f}{r['sync_ms']:9.1f}{r['bytes_per_step'] / 1e6:9.2f}"
                 if r["workers"] else f"{1e3 * r['epoch_s'] / r['steps']:9.1f}{'':>27}")
        lines.append(f"{r['network']:8}{r['impl']:44}{r['epoch_s']:9.2f}{r['speedup']:9.2f}{extra}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60_000, help="training images per epoch (default 60000)")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated (default 1,2)")
    parser.add_argument("--networks", default="mlp,cnn", help="mlp, cnn or both (default)")
    parser.add_argument("--address", default=None, help="a Ray cluster to use (default: a local one)")
    parser.add_argument("--json", metavar="PATH", help="write the rows as JSON")
    args = parser.parse_args(argv)
    import ray

    workers = [int(w) for w in args.workers.split(",")]
    began = time.perf_counter()
    ray.init(address=args.address, include_dashboard=False, log_to_driver=False)
    print(f"ray {ray.__version__}: cluster up in {time.perf_counter() - began:.1f} s, "
          f"{ray.cluster_resources().get('CPU', 0):g} CPUs; this process may use {len(os.sched_getaffinity(0))} cores",
          flush=True)
    rows = []
    for network in args.networks.split(","):
        rows += measure(network, args.samples, workers)
        print(report([r for r in rows if r["network"] == network]), flush=True)
    ray.shutdown()
    print(report(rows))
    if args.json:
        from nnscratch.io.atomic import atomic_write

        atomic_write(args.json, lambda f: f.write(json.dumps(rows, indent=1).encode()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
