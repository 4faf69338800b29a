"""Callbacks: hooks ``fit`` calls at the start and end of training, of each epoch and of each batch."""

from __future__ import annotations

import inspect
import math
import os
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .errors import InvalidValueError

if TYPE_CHECKING:
    from .model import Model


class Callback:
    """Base class; override any hook. ``self.model`` is set before ``on_train_begin``."""

    model: Model

    def set_model(self, model: Model) -> None:
        self.model = model

    def on_train_begin(self, logs: dict[str, Any]) -> None: ...

    def on_train_end(self, logs: dict[str, Any]) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None: ...

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None: ...


def _better(mode: str, monitor: str) -> Callable[[float, float, float], bool]:
    """``better(current, best, min_delta)`` for ``mode`` "min", "max" or "auto" (max for accuracy-like keys)."""
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    if mode == "min":
        return lambda current, best, delta: current < best - delta
    if mode == "max":
        return lambda current, best, delta: current > best + delta
    raise InvalidValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")


def _monitored(logs: dict[str, float], monitor: str, who: str) -> float:
    if monitor not in logs:
        raise InvalidValueError(f"{who} monitors '{monitor}', but the logs only have {sorted(logs)}; "
                                "pass validation data for 'val_' keys")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the model ends with the weights of its best epoch.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False) -> None:
        if patience < 0:
            raise InvalidValueError(f"EarlyStopping patience must be >= 0, got {patience}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), abs(float(min_delta))
        self.better = _better(mode, monitor)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.wait, self.best_state = math.nan, -1, 0, None
        self.stopped_epoch = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        current = _monitored(logs, self.monitor, "EarlyStopping")
        if self.best_epoch < 0 or self.better(current, self.best, self.min_delta):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_state = self.model.state_dict()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore_best_weights and self.best_state is not None:
            self.model.load_state_dict(self.best_state)


class ModelCheckpoint(Callback):
    """Save the model after each epoch (atomically) to ``filepath``, which may contain ``{epoch}``
    and log keys (``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``). ``save_best_only`` saves on improvement only."""

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto") -> None:
        self.filepath, self.monitor, self.save_best_only = str(filepath), monitor, save_best_only
        self.better = _better(mode, monitor)

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.best = math.nan

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not (math.isnan(self.best) or self.better(current, self.best, 0.0)):
                return
            self.best = current
        self.model.save(self.filepath.format(epoch=epoch + 1, **logs))


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate at the start of each epoch from ``schedule(epoch)`` or
    ``schedule(epoch, lr)`` (epochs count from 0). The rate used is recorded in the logs as ``lr``."""

    def __init__(self, schedule: Callable[..., float]) -> None:
        self.schedule = schedule
        params = inspect.signature(schedule).parameters if callable(schedule) else {}
        self.takes_lr = len(params) >= 2

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        opt = self.model.optimizer
        lr = self.schedule(epoch, opt.lr) if self.takes_lr else self.schedule(epoch)
        if not np.isfinite(lr) or lr <= 0:
            raise InvalidValueError(f"LearningRateScheduler: schedule gave learning rate {lr!r} at epoch {epoch}; expected > 0")
        opt.lr = float(lr)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        logs["lr"] = float(self.model.optimizer.lr)
