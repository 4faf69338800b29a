"""Callbacks: hooks ``fit`` calls at the start and end of training, of each epoch and of each batch."""

from __future__ import annotations

import inspect
import math
import os
import string
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.validation import positive_int, real_number

if TYPE_CHECKING:
    from ..models.model import Model


class Callback:
    """Base class; override any hook. ``self.model`` is set before ``on_train_begin``.

    Order per epoch: ``on_epoch_begin``, ``on_train_batch_begin``/``on_train_batch_end`` around every batch
    (they call ``on_batch_begin``/``on_batch_end`` unless overridden), the validation pass
    (``on_test_begin``, ``on_test_batch_*``, ``on_test_end``), ``on_epoch_end`` (logs may
    still be changed here, e.g. ``lr``), then the ``History`` records the epoch, then
    ``on_epoch_complete`` (the epoch is final: the place to save the training state).
    ``on_train_end`` gets ``{"interrupted": bool}`` (True after Ctrl-C); it is not called when
    ``fit`` raises (e.g. ``TrainingDivergedError``).

    A callback with state that must survive an interrupted run implements ``get_state()`` (a JSON-able
    dict and a dict of arrays) and ``set_state(config, arrays)``; ``nnscratch.Checkpoint`` stores them and
    ``fit(resume_from=...)`` gives them back after ``on_train_begin``.
    """

    model: Model
    params: dict[str, Any] = {}

    def set_model(self, model: Model) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None: ...

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None: ...

    def on_epoch_complete(self, epoch: int, logs: dict[str, float]) -> None: ...

    # Keras's batch hooks: ``on_train_batch_*`` default to ``on_batch_*``.
    def on_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None: ...

    def on_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None: ...

    def on_train_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None: ...

    def on_test_end(self, logs: dict[str, float] | None = None) -> None: ...

    def on_test_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None: ...

    def on_test_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None: ...

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None: ...

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None: ...

    def on_predict_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None: ...

    def interrupt_hint(self) -> str | None:
        """A few words for the line printed when Ctrl-C stops ``fit`` (e.g. where to resume from)."""
        return None

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """``(JSON-able dict, arrays)`` to store in a checkpoint, or None (nothing to store)."""
        return None

    def set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore what ``get_state`` returned (called by ``fit(resume_from=...)`` after ``on_train_begin``)."""


def _better(mode: str, monitor: str) -> Callable[[float, float, float], bool]:
    """``better(current, best, min_delta)`` for ``mode`` "min", "max" or "auto" (max for accuracy-like keys)."""
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    if mode == "min":
        return lambda current, best, delta: current < best - delta
    if mode == "max":
        return lambda current, best, delta: current > best + delta
    raise InvalidValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")


def _monitored(logs: dict[str, float], monitor: str, who: str, model: Any) -> float | None:
    """The monitored value; None for a ``val_`` key in an epoch that ``validation_freq`` did not validate."""
    if monitor not in logs:
        trainer = getattr(model, "trainer", None)
        if monitor.startswith("val_") and getattr(trainer, "validation_skipped", False):
            return None
        raise InvalidValueError(f"{who} monitors '{monitor}', but the logs only have {sorted(logs)}; "
                                "pass validation data for 'val_' keys")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the model ends with the weights of its best epoch. Keras's ``baseline``
    (a value to beat) and ``start_from_epoch`` (epochs not watched at first) are supported.
    """

    best_state: dict[str, np.ndarray] | None  # set by on_train_begin
    stopped_epoch: int | None

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False, verbose: int = 0,
                 baseline: float | None = None, start_from_epoch: int = 0) -> None:
        self.verbose, self.baseline = verbose, baseline
        self.start_from_epoch = positive_int(start_from_epoch, "EarlyStopping start_from_epoch", minimum=0)
        if not isinstance(monitor, str):
            raise InvalidTypeError(f"EarlyStopping monitor must be a log name such as 'val_loss', got {monitor!r}")
        self.monitor = monitor
        self.patience = positive_int(patience, "EarlyStopping patience", minimum=0)
        self.min_delta = abs(real_number(min_delta, "EarlyStopping min_delta", "a finite number"))
        self.better = _better(mode, monitor)
        self.restore_best_weights = bool(restore_best_weights)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.best, self.best_epoch, self.wait, self.best_state = math.nan, -1, 0, None
        self.stopped_epoch = None
        if self.baseline is not None:
            self.best, self.best_epoch = float(self.baseline), -2  # to beat; no weights to restore yet

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if epoch < self.start_from_epoch:
            return
        current = _monitored(logs or {}, self.monitor, "EarlyStopping", self.model)
        if current is None:
            return
        if self.best_epoch == -1 or self.better(current, self.best, self.min_delta):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_state = self.model.state_dict()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.restore_best_weights and self.best_state is not None:
            self.model.load_state_dict(self.best_state)

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        config = {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                  "stopped_epoch": self.stopped_epoch}
        return config, dict(self.best_state or {})

    def set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.best, self.best_epoch = float(config["best"]), int(config["best_epoch"])
        self.wait, self.stopped_epoch = int(config["wait"]), config["stopped_epoch"]
        self.best_state = {k: np.array(v) for k, v in arrays.items()} or None


class ModelCheckpoint(Callback):
    """Save the model after each epoch (atomically) to ``filepath``, which may contain ``{epoch}``
    and log keys (``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``, the file name as given). ``save_best_only`` saves
    on improvement of ``monitor`` only."""

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", verbose: int = 0, save_weights_only: bool = False, save_freq: str = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        if save_freq != "epoch":
            raise InvalidValueError(f"ModelCheckpoint saves once per epoch (save_freq='epoch'), got {save_freq!r}")
        self.verbose, self.save_weights_only, self.threshold = verbose, bool(save_weights_only), initial_value_threshold
        if not isinstance(filepath, (str, os.PathLike)):
            raise InvalidTypeError(f"ModelCheckpoint filepath must be a path, got {filepath!r}")
        try:
            fields = {name.split(".")[0].split("[")[0]
                      for _, name, _, _ in string.Formatter().parse(str(filepath)) if name}
        except ValueError as exc:
            raise InvalidValueError(f"ModelCheckpoint filepath {str(filepath)!r} is not a valid format string: "
                                    f"{exc}") from None
        self.filepath, self.monitor, self.save_best_only = str(filepath), monitor, bool(save_best_only)
        self.fields = fields
        self.better = _better(mode, monitor)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.best = math.nan if self.threshold is None else float(self.threshold)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = {} if logs is None else logs
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint", self.model)
            if current is None or not (math.isnan(self.best) or self.better(current, self.best, 0.0)):
                return
            self.best = current
        missing = sorted(self.fields - {"epoch", *logs})
        if missing:
            raise InvalidValueError(f"ModelCheckpoint filepath {self.filepath!r} uses {{{missing[0]}}}, but the logs "
                                    f"only have {sorted(logs)}")
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (ValueError, IndexError, KeyError) as exc:
            raise InvalidValueError(f"ModelCheckpoint filepath {self.filepath!r} cannot be formatted with the "
                                    f"epoch and logs {sorted(logs)}: {exc}") from None
        self.model.save_weights(path) if self.save_weights_only else self.model.save(path)

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"best": self.best}, {}

    def set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.best = float(config["best"])


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate at the start of each epoch from ``schedule(epoch)`` or
    ``schedule(epoch, lr)`` (epochs count from 0). The rate used is recorded in the logs as ``lr``."""

    def __init__(self, schedule: Callable[..., float]) -> None:
        if not callable(schedule):
            raise InvalidTypeError(f"LearningRateScheduler schedule must be a function of the epoch, got {schedule!r}")
        self.schedule = schedule
        params: Mapping[str, inspect.Parameter]
        try:
            params = inspect.signature(schedule).parameters
        except (TypeError, ValueError):  # some builtins have no signature
            params = {}
        self.takes_lr = len(params) >= 2

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        opt = self.model.optimizer
        lr = self.schedule(epoch, opt.lr) if self.takes_lr else self.schedule(epoch)
        if (isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating))
                or not np.isfinite(lr) or lr <= 0):
            raise InvalidValueError(f"LearningRateScheduler: schedule gave learning rate {lr!r} at epoch {epoch}; "
                                    "expected > 0")
        opt.lr = float(lr)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is not None:
            logs["lr"] = float(self.model.optimizer.lr)


class TerminateOnNaN(Callback):
    """Keras's ``TerminateOnNaN``. ``fit`` always stops at a NaN or infinite loss (it raises
    ``TrainingDivergedError`` with the last finite weights put back), so this callback has nothing to add."""
