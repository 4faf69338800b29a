"""``fit_distributed``: ``model.fit`` with every training step split across Ray worker processes.

The loop is ``model.fit``'s (``nnscratch.training.loop``): the same argument checks, sample order (the
model's generator draws each epoch's permutation exactly as ``fit`` does), callbacks, History, metrics,
validation (on the driver), divergence guard, Ctrl-C handling, checkpoints and ``resume_from``. Only the
training step differs: ``RayTrainer.train_step`` on the workers instead of ``model.train_step``.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable
from typing import Any

from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.validation import positive_int, real_number
from ..models.model import Model
from ..training.callbacks import Callback
from ..training.checkpoint import Checkpoint, read_checkpoint
from ..training.data import input_arrays, take, target_arrays
from ..training.guards import (
    InterruptHandler,
    Snapshots,
    diverged,
    report_interrupt,
    weights_finite,
)
from ..training.history import History
from ..training.loop import as_callbacks, evaluate
from ..training.progress import ProgressBar
from .ray_trainer import RayTrainer


def fit_distributed(model: Any, x: Any, y: Any, *, workers: int = 2, epochs: int = 1, batch_size: int | None = 32,
                    shuffle: bool = True, validation_data: tuple[Any, Any] | None = None,
                    validation_split: float = 0.0, callbacks: Iterable[Callback] = (), verbose: int | str = "auto",
                    initial_epoch: int = 0, checkpoint_dir: str | os.PathLike | None = None, resume: bool = False,
                    resume_from: str | os.PathLike | None = None, address: str | None = None,
                    seed: int | None = None, max_failures: int = 3, cpus_per_worker: float = 1.0,
                    runtime_env: dict[str, Any] | None = None, trainer_hook: Any = None) -> History:
    """Train ``model`` (compiled) like ``model.fit(x, y, ...)`` with each global batch split across ``workers``
    Ray worker processes; returns the same ``History`` (per-epoch loss, metrics, ``val_`` metrics).

    ``batch_size`` is the global batch: each worker computes the gradient of about ``batch_size / workers``
    samples and the driver steps once per batch, so the weights equal ``model.fit``'s at the same batch size,
    to float rounding (models with dropout or batch normalization draw and normalize per worker instead).
    ``checkpoint_dir``: write a resumable checkpoint there each epoch (``nnscratch.Checkpoint``);
    ``resume=True`` continues from it (``resume_from=path`` names another checkpoint). ``address``: the Ray
    cluster (``"auto"``, ``"ray://head:10001"``); None uses the connected one or starts a local one.
    ``seed`` keys the workers' random layers; ``max_failures`` bounds how many times a lost worker is
    replaced and its step redone; ``cpus_per_worker`` is each actor's CPU reservation; ``runtime_env`` goes
    to ``ray.init``. ``trainer_hook(ray_trainer)`` is called once the workers are up (tests, monitoring).
    Other arguments as in ``model.fit``.
    """
    if not isinstance(model, Model):
        raise InvalidTypeError(f"fit_distributed trains an nnscratch Model, got {type(model).__name__}")
    if type(model).train_step is not Model.train_step:
        raise InvalidValueError(f"{type(model).__name__} overrides train_step: fit_distributed trains with the "
                                "compiled loss only; train it with model.fit")
    workers = positive_int(workers, "workers")
    epochs = positive_int(epochs, "epochs", minimum=0)
    initial_epoch = positive_int(initial_epoch, "initial_epoch", minimum=0)
    validation_split = real_number(validation_split, "validation_split", "a number in [0, 1)", lambda v: 0.0 <= v < 1.0)
    cbs = as_callbacks(callbacks)
    if resume:
        if checkpoint_dir is None or resume_from is not None:
            raise InvalidValueError("resume=True continues the run in checkpoint_dir: pass checkpoint_dir (and not "
                                    "resume_from)")
        resume_from = checkpoint_dir
    if checkpoint_dir is not None:
        cbs.append(Checkpoint(checkpoint_dir))
    state = None
    if resume_from is not None:
        if initial_epoch:
            raise InvalidValueError("pass either initial_epoch or resume_from, not both: a checkpoint knows its epoch")
        state = read_checkpoint(resume_from)
        state.check_compatible(model)
        print(f"resuming from '{state.path}' after epoch {state.epoch}", file=sys.stderr, flush=True)
    if y is None:
        raise InvalidValueError("fit_distributed needs targets y")
    xs = input_arrays(model, x)
    ys = target_arrays(model, y, len(xs[0]))
    xvs = yvs = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise InvalidTypeError("validation_data must be a tuple (x_val, y_val), got "
                                   f"{type(validation_data).__name__}")
        xvs = input_arrays(model, validation_data[0], "validation_data[0]")
        yvs = target_arrays(model, validation_data[1], len(xvs[0]), "validation_data[1]")
    elif validation_split:
        split = len(xs[0]) - round(len(xs[0]) * validation_split)
        if split < 1 or split == len(xs[0]):
            raise InvalidValueError(f"validation_split={validation_split} of {len(xs[0])} samples leaves an empty part")
        xs, xvs = take(xs, slice(None, split)), take(xs, slice(split, None))
        ys, yvs = take(ys, slice(None, split)), take(ys, slice(split, None))
    n = len(xs[0])
    bs = n if batch_size is None else min(positive_int(batch_size, "batch_size"), n)
    steps = -(-n // bs)
    if state is not None:
        state.check_input(xs[0])
        if model.trainer is None:
            state.compile_into(model)
    trainer = model._compiled()
    trainer.prepare(training=True)
    trainer.check_targets(ys)
    if yvs is not None:
        trainer.check_targets(yvs, "validation_data[1]")
    settings = {"epochs": epochs, "batch_size": bs, "samples": n, "shuffle": bool(shuffle),
                "validation_samples": len(xvs[0]) if xvs is not None else 0, "workers": workers}
    history, start_epoch = History(), initial_epoch
    if state is not None:
        state.restore(model, settings)
        history, start_epoch = state.history, state.epoch
    with RayTrainer(model, xs, ys, workers=workers, address=address, cpus_per_worker=cpus_per_worker,
                    max_failures=max_failures, seed=seed, runtime_env=runtime_env) as ray_trainer:
        if trainer_hook is not None:
            trainer_hook(ray_trainer)
        return _train(model, ray_trainer, cbs, history, state, settings, start_epoch, steps, verbose, xvs, yvs)


def _train(model: Any, ray_trainer: RayTrainer, cbs: list[Callback], history: History, state: Any,
           settings: dict[str, Any], start_epoch: int, steps: int, verbose: Any, xvs: Any, yvs: Any) -> History:
    """The epochs of ``loop.fit`` around ``ray_trainer.train_step``."""
    trainer = model.trainer
    epochs, bs, n = settings["epochs"], settings["batch_size"], settings["samples"]
    if verbose and verbose != 0:
        cbs.append(ProgressBar(per_epoch=verbose == 2))
    history.interrupted = False
    model.history, model.stop_training, trainer.interrupted = history, False, False
    trainer.callbacks, trainer.fit_settings = cbs, settings
    for cb in cbs:
        cb.set_model(model)
        cb.set_params({"epochs": epochs, "steps": steps, "verbose": verbose, "samples": n})
    for cb in cbs:
        cb.on_train_begin({"epochs": epochs, "steps": steps, "samples": n, "initial_epoch": start_epoch})
    if state is not None:
        state.restore_callbacks(cbs)
        model.stop_training = state.stop_training
    gather = settings["shuffle"] and bs < n
    stopped_at: tuple[int, int | None] | None = None
    trainer.snapshots = snapshots = Snapshots(model)
    try:
        with InterruptHandler(model):
            for epoch in range(start_epoch, epochs):
                if model.stop_training:
                    if trainer.interrupted:
                        stopped_at = (epoch, 0)
                    break
                for cb in cbs:
                    cb.on_epoch_begin(epoch, {})
                snapshots.take(epoch)
                ray_trainer.set_order(model.rng.permutation(n) if gather else None)
                try:
                    logs, seen = _run_epoch(model, ray_trainer, cbs, epoch, steps, bs, n)
                except KeyboardInterrupt:
                    snapshots.restore_latest()
                    raise
                if trainer.interrupted and seen < n:
                    stopped_at = (epoch, -(-seen // bs))
                    break
                if xvs is not None:
                    val = evaluate(model, xvs, yvs, batch_size=max(bs, 256), callbacks=cbs)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                for cb in cbs:
                    cb.on_epoch_end(epoch, logs)
                history.append(epoch, logs)
                for cb in cbs:
                    cb.on_epoch_complete(epoch, logs)
                if model.stop_training:
                    if trainer.interrupted:
                        stopped_at = (epoch, None)
                    break
            if stopped_at is None and not weights_finite(model):
                last = history.epoch[-1] if history.epoch else start_epoch
                diverged(model, snapshots, math.nan, last, None, steps,
                         "the weights became NaN or inf although the loss stayed finite")
    finally:
        trainer.snapshots, trainer.callbacks = None, []
    if stopped_at is not None:
        history.interrupted = True
        report_interrupt(stopped_at, steps, epochs, cbs)
    for cb in cbs:
        cb.on_train_end({"interrupted": stopped_at is not None})
    return history


def _run_epoch(model: Any, ray_trainer: RayTrainer, cbs: list[Callback], epoch: int, steps: int, bs: int,
               n: int) -> tuple[dict[str, float], int]:
    """One epoch of distributed steps; the logs are the means over its batches."""
    trainer = model.trainer
    trainer.reset_metrics()
    logs: dict[str, float] = {}
    seen = 0
    for step in range(steps):
        start, stop = step * bs, min(step * bs + bs, n)
        for cb in cbs:
            cb.on_train_batch_begin(step, {})
        value = ray_trainer.train_step(start, stop)["loss"]
        if not math.isfinite(value):
            diverged(model, trainer.snapshots, value, epoch, step, steps)
        seen = stop
        logs = trainer.results()  # the running means of the losses and metrics so far
        for cb in cbs:
            cb.on_train_batch_end(step, logs)
        if model.stop_training:
            break
    return trainer.results(), seen
