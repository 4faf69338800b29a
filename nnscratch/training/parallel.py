"""Data-parallel training steps: each batch split across threads, one replica of the layers per thread.

NumPy uses one core for everything but large matrix products, and the products of a small convolutional
network are too thin for a multi-threaded BLAS to help. ``fit`` therefore splits every training batch
into ``get_num_threads()`` contiguous chunks. The calling thread runs chunk 0 through the model's own
layers; each other chunk goes through a replica of the layers in a worker thread. A replica shares the
parameters' ``data`` arrays (optimizers update them in place, so replicas never go stale) and has its own
``grad`` arrays and scratch buffers. NumPy releases the GIL inside its loops and BLAS calls, so the
threads overlap. The chunk gradients are then added into the model's gradients in a fixed order and the
optimizer steps once: the result is the full batch's gradient, and a seeded run gives the same numbers
every time for a given thread count (to rounding, not bit for bit, against another thread count).

Any model whose layers all treat samples independently and draw no random numbers takes this path
(``Layer.per_sample``): ``Dense``, ``Conv2D``, the pooling layers, activations, ``Flatten``... A model with
``Dropout``, ``BatchNorm``, augmentation, recurrent or attention layers, or a masked output, trains on one thread. So
does a model of ``Dense`` layers alone (no layer that ``gains_from_threads``): its time goes to matrix
products, which the BLAS already spreads over the cores, and split batches made an MNIST MLP epoch slower
(1.1 s -> 1.7 s on 2 cores; 0.7 s -> 1.0-1.1 s with the BLAS held to one thread per half), while the
convolutional benchmark network gained 1.1-1.4x.

The thread count, read when ``fit`` starts: ``set_num_threads(n)``, else the environment variable
``NNSCRATCH_NUM_THREADS``, else ``OMP_NUM_THREADS``, else the number of cores this process may use.
"""

from __future__ import annotations

import copy
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError

# Below this many samples per chunk, a split costs more than it gains.
MIN_CHUNK = 8

_threads: int | None = None
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def set_num_threads(n: int | None) -> None:
    """Threads for training steps (``None``: back to the default from the environment and the cores)."""
    global _threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise InvalidValueError(f"set_num_threads takes a positive integer or None, got {n!r}")
    _threads = None if n is None else int(n)


def get_num_threads() -> int:
    """The threads a training step may use: ``set_num_threads``, ``NNSCRATCH_NUM_THREADS``, ``OMP_NUM_THREADS``
    or the cores available to this process, in that order."""
    if _threads is not None:
        return _threads
    for var in ("NNSCRATCH_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _executor(workers: int) -> ThreadPoolExecutor:
    """A shared pool of at least ``workers`` threads (idle between steps; Python joins them at exit)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            old, _pool, _pool_size = _pool, ThreadPoolExecutor(workers, thread_name_prefix="nnscratch"), workers
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def chunk_bounds(n: int, chunks: int) -> list[tuple[int, int]]:
    """``chunks`` contiguous ``(start, stop)`` ranges covering ``range(n)``, sizes differing by at most one."""
    edges = [n * k // chunks for k in range(chunks + 1)]
    return list(zip(edges[:-1], edges[1:]))


def replicate(trainer: Any) -> tuple[Any, list]:
    """A replica trainer on a copy of the model whose layers share the parameters' ``data`` arrays (not
    their ``grad``), with its own call records and losses; and the replica's copies of the parameters."""
    model = trainer.model
    params = [p for _, p in model.named_parameters(include_frozen=True)]
    memo: dict[int, Any] = {id(p.data): p.data for p in params}
    memo[id(model.trainer)] = None  # the copy needs no trainer of its own
    copy_model = copy.deepcopy(model, memo)
    return trainer.replica(copy_model), [memo[id(p)] for p in params]


def _chunk(twin: Any, params: list, xs: list, ys: list, weight: float) -> tuple[float, list]:
    """A replica's share of a step: its gradients (``params``) zeroed, then forward, loss and backward."""
    for p in params:
        p.zero_grad()
    return twin.forward_backward(xs, ys, weight)


class DataParallel:
    """The data-parallel step of a compiled model: ``step(xs, ys, threads)`` fills the model's gradients."""

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer
        self.threads = get_num_threads()
        self.params = [p for _, p in trainer.model.named_parameters(include_frozen=True)]  # frozen ones shared too
        self.replicas: list[tuple[Any, list]] = []  # (replica trainer, its copies of self.params)

    @staticmethod
    def eligible(model: Any) -> bool:
        """Every layer of the model (and inside it) is ``per_sample``, at least one ``gains_from_threads``, and no
        output carries a mask (its loss is normalised by the real steps of the whole batch, not of a chunk)."""
        graph = getattr(model, "graph", None)
        if graph is not None and any(t.masked for t in graph.outputs):
            return False
        modules = list(model.modules())[1:]
        return all(m.per_sample for m in modules) and any(m.gains_from_threads for m in modules)

    def threads_for(self, batch: int) -> int:
        """How many chunks a batch of ``batch`` samples is split into (1: no split)."""
        return max(1, min(self.threads, batch // MIN_CHUNK))

    def _replicas(self, count: int) -> list[tuple[Any, list]]:
        params = self.params
        stale = any(len(copies) != len(params) or any(c.data is not p.data for c, p in zip(copies, params))
                    for _, copies in self.replicas[:count])  # an array replaced, not updated in place
        if len(self.replicas) < count or stale:
            self.replicas = [replicate(self.trainer) for _ in range(count)]
        return self.replicas[:count]

    def step(self, xs: list[np.ndarray], ys: list[np.ndarray], threads: int) -> tuple[float, list[np.ndarray]]:
        """The loss (mean over the batch) and outputs of one forward/backward split into ``threads`` chunks;
        the model's gradients (zeroed before) hold the batch's afterwards."""
        n = len(xs[0])
        bounds = chunk_bounds(n, threads)
        replicas = self._replicas(threads - 1)
        pool = _executor(threads - 1)
        futures = [pool.submit(_chunk, twin, copies, [x[a:b] for x in xs], [y[a:b] for y in ys], (b - a) / n)
                   for (twin, copies), (a, b) in zip(replicas, bounds[1:])]
        a, b = bounds[0]
        try:
            first = self.trainer.forward_backward([x[a:b] for x in xs], [y[a:b] for y in ys], (b - a) / n)
        finally:
            wait(futures)  # never leave a worker running on the shared weights, even after an error here
        results = [first] + [f.result() for f in futures]
        value = sum(v * (b - a) for (v, _), (a, b) in zip(results, bounds)) / n
        if math.isfinite(value):
            for _, copies in replicas:
                for p, q in zip(self.params, copies):
                    if p.trainable:
                        p.grad += q.grad
        outs = [np.concatenate([out[i] for _, out in results]) for i in range(len(results[0][1]))]
        return value, outs
