"""``RayTrainer``: the worker actors of a data-parallel run and its synchronous training step.

The driver (this process) holds the model and its optimizer. The training data go into Ray's object
store once; each step the driver puts the current weights there once (one flat vector) and sends each
worker the sample indices of its contiguous share of the global batch (the samples themselves never pass
through the driver); every worker reads the weights, computes the gradient of its share (``Worker.step``)
and returns it; the driver adds the shares up in rank order, steps the optimizer and updates the metrics,
exactly as ``Trainer.train_step`` does for one process. This is a parameter server on the driver: per
step it sends the weights out and receives one gradient per worker. A ``RayTrainer`` is the ``Step`` of
the training loop (``nnscratch.training.loop.fit_with``) that ``fit_distributed`` runs.

Failures: when a worker's process dies (killed, out of memory, its machine lost), the step's ``ray.get``
raises; the driver, whose model is still at the weights before the step, starts a new actor in place of
each dead one (Ray places it wherever the cluster has room) and redoes the whole step. A step depends on
its arguments only, so the redone step gives the numbers the failed one would have. After
``max_failures`` failures ``WorkerFailedError`` stops the run (resume it from its last checkpoint).
The driver restarts actors itself rather than through Ray's ``max_restarts``: a restarted actor would
need its constructor arguments (the dataset) kept by Ray, and the driver holds them anyway.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any

import numpy as np
import ray
from ray import exceptions as ray_errors

from ..core.errors import InvalidValueError
from ..core.validation import positive_int
from ..models.stateful import stateful_layers
from ..training.parallel import chunk_bounds
from .errors import WorkerFailedError
from .flat import FlatParameters
from .replica import build_replica, replica_spec
from .worker import Worker

_FAILURES = tuple(getattr(ray_errors, name) for name in ("RayActorError", "ActorUnavailableError", "ObjectLostError")
                  if hasattr(ray_errors, name))


class RayTrainer:
    """``workers`` Ray actors training ``model`` (compiled, built) on ``xs``/``ys`` (one array per input/output).

    ``address``: a Ray cluster to join (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``); ``None`` joins
    the one this process is connected to, else starts a local one (and ``shutdown`` stops it).
    ``seed`` keys the workers' random generators (dropout, augmentation) per step and rank; None draws one.
    Use as a context manager, or call ``start()`` and ``shutdown()``.
    """

    def __init__(self, model: Any, xs: list[np.ndarray], ys: list[np.ndarray], workers: int = 2,
                 address: str | None = None, cpus_per_worker: float = 1.0, max_failures: int = 3,
                 seed: int | None = None, runtime_env: dict[str, Any] | None = None,
                 start_timeout: float = 300.0) -> None:
        self.workers = positive_int(workers, "workers")
        self.max_failures = positive_int(max_failures, "max_failures", minimum=0)
        if not isinstance(cpus_per_worker, (int, float)) or not cpus_per_worker >= 0:
            raise InvalidValueError(f"cpus_per_worker must be a number >= 0, got {cpus_per_worker!r}")
        self.model, self.trainer = model, model._compiled()
        masked = [name for name, t in zip(model.output_names, model._graph().outputs) if t.masked]
        if masked:
            raise InvalidValueError(f"model output {masked[0]!r} carries a mask: its loss is the mean over the real "
                                    "steps of the whole batch, which the workers' shares do not add up to; train it "
                                    "with fit in one process")
        carried = next(stateful_layers(model), None)
        if carried is not None:
            raise InvalidValueError(f"layer '{carried.name}' ({type(carried).__name__}) is stateful: its states carry "
                                    "from one batch to the next, which the workers' shares of a batch would split; "
                                    "train it with fit in one process")
        self.xs, self.ys = xs, ys
        self.address, self.runtime_env, self.start_timeout = address, runtime_env, start_timeout
        self.cpus_per_worker = float(cpus_per_worker)
        self.spec = replica_spec(model)
        build_replica(self.spec)  # any problem with the spec shows here, in this process, not in a worker
        self.flat = FlatParameters(model)
        self.seed = (int(np.random.SeedSequence().generate_state(2, np.uint64)[0] >> np.uint64(1)) if seed is None
                     else positive_int(seed, "seed", 0))
        self.actors: list[Any] = []
        self.pids: list[int] = []
        self.started_ray = False
        self.failures = 0  # steps redone after a worker was lost
        self.restarts = 0  # workers replaced after their process died
        self.stats = {"steps": 0, "step_seconds": 0.0, "compute_seconds": 0.0}

    # ------------------------------------------------------------------ life cycle
    def start(self) -> RayTrainer:
        """Connect to (or start) the cluster, put the data into the object store, start the workers."""
        if not ray.is_initialized():
            ray.init(address=self.address, runtime_env=self.runtime_env, include_dashboard=False)
            self.started_ray = True
        self.data_refs = (ray.put(list(self.xs)), ray.put(list(self.ys)))
        self.actors = [self._new_actor(rank) for rank in range(self.workers)]
        try:
            self.pids = ray.get([a.ready.remote() for a in self.actors], timeout=self.start_timeout)
        except ray_errors.GetTimeoutError:
            cpus = ray.cluster_resources().get("CPU", 0)
            self.shutdown()
            raise WorkerFailedError(f"the {self.workers} workers did not start within {self.start_timeout:g} s: they "
                                    f"need {self.workers} x {self.cpus_per_worker:g} CPUs and the cluster has "
                                    f"{cpus:g}; use fewer workers or a smaller cpus_per_worker") from None
        return self

    def _new_actor(self, rank: int) -> Any:
        remote = ray.remote(Worker).options(num_cpus=self.cpus_per_worker, max_restarts=0)
        return remote.remote(self.spec, list(self.data_refs), rank)  # in a list: fetched by the worker

    def shutdown(self) -> None:
        """Stop the workers (and the local Ray instance, when ``start`` started it)."""
        for actor in self.actors:
            with contextlib.suppress(Exception):  # already gone
                ray.kill(actor, no_restart=True)
        self.actors = []
        if self.started_ray:
            ray.shutdown()
            self.started_ray = False

    def __enter__(self) -> RayTrainer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def worker_pids(self) -> list[int]:
        """The process id of each worker (rank order), as of the last step."""
        return list(self.pids)

    # ------------------------------------------------------------------ one step
    def __call__(self, xs: list[np.ndarray], ys: list[np.ndarray], rows: slice | np.ndarray) -> dict[str, float]:
        """One optimizer step on the global batch ``ys`` (targets ``(batch, ...)``), samples ``rows`` of the
        training arrays; the batch's logs. ``xs`` are not sent: the workers read the samples themselves.

        Like ``Trainer.train_step``: the gradients of the whole batch (summed from the workers' shares),
        one optimizer step when the loss is finite, the running metrics updated."""
        began = time.perf_counter()
        trainer = self.trainer
        index = (np.arange(rows.start, rows.stop, dtype=np.int64) if isinstance(rows, slice)
                 else np.asarray(rows, dtype=np.int64))
        n = len(index)
        shares = chunk_bounds(n, min(self.workers, n))
        want_outputs = any(trainer.metrics)
        weights = ray.put(self.flat.pack_weights())
        iteration = int(trainer.optimizer.iterations)
        calls = [(rank, (weights, index[a:b], (b - a) / n, [self.seed, iteration, rank], want_outputs))
                 for rank, (a, b) in enumerate(shares)]
        results = self._run(calls)
        value = sum(r["loss"] * (b - a) for r, (a, b) in zip(results, shares)) / n
        grads = results[0]["grads"].copy()  # the object store's arrays are read-only
        for r in results[1:]:
            grads += r["grads"]
        self.flat.set_grads(grads)
        if math.isfinite(value):
            trainer.optimizer.step()
            if results[0]["state"] is not None:
                self.flat.load_state(sum(r["state"] * ((b - a) / n) for r, (a, b) in zip(results, shares)))
        trainer.output_losses = [sum(r["output_losses"][i] * (b - a) for r, (a, b) in zip(results, shares)) / n
                                 for i in range(len(results[0]["output_losses"]))]
        outputs = len(trainer.output_losses)
        outs = ([np.concatenate([r["outputs"][i] for r in results]) for i in range(outputs)] if want_outputs
                else [None] * outputs)
        trainer.last_outputs = outs
        trainer.update_metrics(ys, outs, value)
        self.stats["steps"] += 1
        self.stats["step_seconds"] += time.perf_counter() - began
        self.stats["compute_seconds"] += max(r["seconds"] for r in results)
        return trainer.logs(value)

    def _run(self, calls: list[tuple[int, tuple]]) -> list[dict[str, Any]]:
        """The workers' results of one step, redoing it on replaced workers after a failure."""
        while True:
            futures = [self.actors[rank].step.remote(*args) for rank, args in calls]
            try:
                results = ray.get(futures)
            except _FAILURES as exc:
                self.failures += 1
                if self.failures > self.max_failures:
                    raise WorkerFailedError(f"a worker failed {self.failures} times (max_failures="
                                            f"{self.max_failures}): {type(exc).__name__}; the model keeps the "
                                            "weights of its last completed step") from None
                self._replace_dead()
                continue
            return results

    def _replace_dead(self) -> None:
        for rank, actor in enumerate(self.actors):
            try:
                ray.get(actor.ready.remote(), timeout=self.start_timeout)
            except (*_FAILURES, ray_errors.GetTimeoutError):
                with contextlib.suppress(Exception):  # already gone
                    ray.kill(actor, no_restart=True)
                self.actors[rank] = self._new_actor(rank)
                self.pids[rank] = ray.get(self.actors[rank].ready.remote(), timeout=self.start_timeout)
                self.restarts += 1

    def sync_seconds(self) -> float:
        """Mean seconds per step spent outside the slowest worker's compute: sending weights, receiving and
        adding gradients, the optimizer step, Ray's scheduling."""
        steps = self.stats["steps"]
        return (self.stats["step_seconds"] - self.stats["compute_seconds"]) / steps if steps else math.nan
