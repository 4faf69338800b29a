"""``fit``'s epochs, apart from where the batches come from: callbacks, History, the per-epoch snapshots and
the divergence and Ctrl-C guards.

``loop.fit`` runs ``train_epochs`` over arrays and ``source_loop.fit_source`` over a ``PyDataset`` or a
generator; each passes an ``EpochRunner`` that trains one epoch, one ``train_batch`` per batch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, Protocol

import numpy as np

from ..core.errors import InvalidValueError
from .callbacks import Callback
from .guards import InterruptHandler, Snapshots, diverged, report_interrupt, weights_finite
from .history import History
from .progress import ProgressBar


class Step(Protocol):
    """One training step of ``fit``: ``step(xs, ys, rows) -> logs``.

    ``xs``/``ys``: the batch, one array ``(batch, ...)`` per model input/output; ``rows``: where its samples
    are in the training arrays (a slice, or an index array when shuffled; None for a batch from a
    ``PyDataset`` or a generator). Returns the logs of ``model.train_step`` (and like it, updates the
    trainer's running metrics)."""

    def __call__(self, xs: list[np.ndarray], ys: list[np.ndarray], rows: Any) -> dict[str, float]: ...


def model_step(model: Any) -> Step:
    """The step of a plain ``fit``: ``model.train_step`` on the batch."""
    return lambda xs, ys, rows: model.train_step(xs, ys)


class EpochRunner(Protocol):
    """Train epoch ``epoch`` with ``step``: ``(logs, batches trained, whether it went through all of them)``;
    logs None when there was no batch to train (the data ran out): training stops there."""

    def __call__(self, step: Step, epoch: int) -> tuple[dict[str, float] | None, int, bool]: ...


def train_batch(model: Any, step_fn: Step, xb: list[np.ndarray], yb: list[np.ndarray], rows: Any, step: int,
                steps: int | None, epoch: int, cbs: list[Callback]) -> None:
    """One training step with its batch callbacks and the divergence guard; a custom ``train_step``'s own
    logs (or all of them, when it keeps no totals) join the running means here."""
    trainer = model.trainer
    for cb in cbs:
        cb.on_train_batch_begin(step, {})
    before = trainer.seen
    step_logs = step_fn(xb, yb, rows)
    value = step_logs.get("loss", 0.0) if isinstance(step_logs, dict) else float(step_logs)
    if not math.isfinite(value):
        diverged(model, trainer.snapshots, value, epoch, step, steps)
    if trainer.seen == before or not trainer.tracked.issuperset(step_logs):
        own = {k: v for k, v in step_logs.items() if trainer.seen == before or k not in trainer.tracked}
        if trainer.seen == before:
            trainer.seen += len(xb[0])
        weight = trainer.seen - before  # the samples the running means counted for this step
        for key, v in own.items():
            trainer.totals[key] = trainer.totals.get(key, 0.0) + float(v) * weight
    if cbs:
        logs = trainer.results()  # the running means of the losses and metrics so far
        for cb in cbs:
            cb.on_train_batch_end(step, logs)


def validation_epochs(freq: Any) -> Callable[[int], bool]:
    """Keras's ``validation_freq`` as a test of an epoch number (from 1): an int ``n`` (every ``n``-th epoch) or a
    collection of epoch numbers."""
    if isinstance(freq, numbers.Integral) and not isinstance(freq, bool) and int(freq) > 0:
        return lambda epoch: epoch % int(freq) == 0
    if isinstance(freq, (list, tuple, set, range)) and all(
            isinstance(e, numbers.Integral) and not isinstance(e, bool) and int(e) > 0 for e in freq):
        chosen = {int(e) for e in freq}
        return lambda epoch: epoch in chosen
    raise InvalidValueError(f"validation_freq must be a positive integer or a list of epoch numbers (from 1), "
                            f"got {freq!r}")


def train_epochs(model: Any, run_epoch: EpochRunner, validate: Callable[[list[Callback]], dict[str, float]] | None,
                 enter_step: Callable[[ExitStack], Step], cbs: list[Callback], *, epochs: int, start_epoch: int,
                 steps: int | None, samples: int | None, verbose: int | str, settings: dict[str, Any],
                 state: Any = None, validation_freq: Any = 1) -> History:
    """Epochs ``start_epoch..epochs-1`` of ``run_epoch`` (then ``validate``) with the callbacks ``cbs``, a
    progress display for ``verbose``, and the checkpoint ``state`` restored first when resuming. The
    compiled, prepared trainer must be in place; ``enter_step`` makes the step (its context in the stack).
    ``validation_freq``: validate after every ``n``-th epoch, or after the epochs (from 1) of a list."""
    trainer = model.trainer
    validates = validation_epochs(validation_freq)
    history = History()
    if verbose and verbose != 0:
        cbs.append(ProgressBar(per_epoch=verbose == 2))
    if state is not None:
        state.restore(model, settings)
        history, start_epoch = state.history, state.epoch
    history.interrupted = False
    model.history, model.stop_training, trainer.interrupted = history, False, False
    trainer.callbacks, trainer.fit_settings = cbs, settings
    for cb in cbs:
        cb.set_model(model)
        cb.set_params({"epochs": epochs, "steps": steps, "verbose": verbose, "samples": samples})
    for cb in cbs:
        cb.on_train_begin({"epochs": epochs, "steps": steps, "samples": samples, "initial_epoch": start_epoch})
    if state is not None:
        state.restore_callbacks(cbs)
        model.stop_training = state.stop_training
    stopped_at: tuple[int, int | None] | None = None
    trainer.snapshots = snapshots = Snapshots(model)
    stack = ExitStack()
    try:
        step = enter_step(stack)
        with InterruptHandler(model):
            for epoch in range(start_epoch, epochs):
                if model.stop_training:  # a resumed run that had already stopped, or Ctrl-C before this epoch
                    if trainer.interrupted:
                        stopped_at = (epoch, 0)
                    break
                for cb in cbs:
                    cb.on_epoch_begin(epoch, {})
                snapshots.take(epoch)
                try:
                    logs, done, complete = run_epoch(step, epoch)
                except KeyboardInterrupt:
                    snapshots.restore_latest()  # the step may have been cut half-way: back to a consistent state
                    raise
                if logs is None:
                    break
                if trainer.interrupted and not complete:
                    stopped_at = (epoch, done)
                    break
                trainer.validation_skipped = validate is not None and not validates(epoch + 1)
                if validate is not None and not trainer.validation_skipped:
                    logs.update({f"val_{k}": v for k, v in validate(cbs).items()})
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
        trainer.snapshots, trainer.callbacks = None, []  # no copies or callbacks (streams) kept after training
        trainer.weighted, trainer.sample_weight = False, None
        stack.close()
    if stopped_at is not None:
        history.interrupted = True
        report_interrupt(stopped_at, steps, epochs, cbs)
    for cb in cbs:
        cb.on_train_end({"interrupted": stopped_at is not None})
    return history
