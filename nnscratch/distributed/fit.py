"""``fit_distributed``: ``model.fit`` with every training step split across Ray worker processes.

The loop is ``model.fit``'s own (``nnscratch.training.loop.fit_with``): the same argument checks, sample
order (the model's generator draws each epoch's permutation exactly as ``fit`` does), callbacks, History,
metrics, validation (on the driver), divergence guard, Ctrl-C handling, checkpoints and ``resume_from``.
Only the training step differs: a ``RayTrainer`` (workers started when training starts, stopped when it
ends) instead of ``model.train_step``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.validation import positive_int
from ..models.model import Model
from ..training.callbacks import Callback
from ..training.checkpoint import Checkpoint
from ..training.history import History
from ..training.loop import as_callbacks, fit_with
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
    cbs = as_callbacks(callbacks)
    if resume:
        if checkpoint_dir is None or resume_from is not None:
            raise InvalidValueError("resume=True continues the run in checkpoint_dir: pass checkpoint_dir (and not "
                                    "resume_from)")
        resume_from = checkpoint_dir
    if checkpoint_dir is not None:
        cbs.append(Checkpoint(checkpoint_dir))

    @contextmanager
    def ray_step(model: Any, xs: list[np.ndarray], ys: list[np.ndarray]) -> Iterator[RayTrainer]:
        if resume_from is not None:
            print(f"resuming from '{resume_from}' after epoch {len(model.history.epoch)}", file=sys.stderr, flush=True)
        with RayTrainer(model, xs, ys, workers=workers, address=address, cpus_per_worker=cpus_per_worker,
                        max_failures=max_failures, seed=seed, runtime_env=runtime_env) as ray_trainer:
            if trainer_hook is not None:
                trainer_hook(ray_trainer)
            yield ray_trainer

    return fit_with(ray_step, model, x, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                    validation_data=validation_data, validation_split=validation_split, callbacks=cbs,
                    verbose=verbose, initial_epoch=initial_epoch, resume_from=resume_from)
