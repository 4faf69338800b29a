"""``ReduceLROnPlateau``: divide the learning rate when a monitored value stops improving (Keras's rules)."""

from __future__ import annotations

import math
import sys
from typing import Any

from ..core.errors import InvalidValueError
from ..core.validation import positive_int, real_number
from .callbacks import Callback, _better, _monitored


class ReduceLROnPlateau(Callback):
    """After ``patience`` epochs without an improvement of ``monitor`` by more than ``min_delta``, multiply
    the learning rate by ``factor`` (not below ``min_lr``), then wait ``cooldown`` epochs before counting
    again. The rate of each epoch is logged as ``learning_rate``."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 **kwargs: Any) -> None:
        if kwargs:
            raise InvalidValueError(f"ReduceLROnPlateau got unexpected arguments {sorted(kwargs)}")
        self.factor = real_number(factor, "ReduceLROnPlateau factor", "a number in (0, 1)", lambda v: 0 < v < 1)
        self.monitor, self.verbose = monitor, verbose
        self.patience = positive_int(patience, "ReduceLROnPlateau patience", minimum=0)
        self.cooldown = positive_int(cooldown, "ReduceLROnPlateau cooldown", minimum=0)
        self.min_delta = abs(real_number(min_delta, "ReduceLROnPlateau min_delta", "a finite number"))
        self.min_lr = real_number(min_lr, "ReduceLROnPlateau min_lr", "a number >= 0", lambda v: v >= 0)
        self.better = _better(mode, monitor)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.best, self.wait, self.cooldown_counter = math.nan, 0, 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.lr)
        current = _monitored(logs, self.monitor, "ReduceLROnPlateau", self.model)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if math.isnan(self.best) or self.better(current, self.best, self.min_delta):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience and optimizer.lr > self.min_lr:
                new_lr = max(optimizer.lr * self.factor, self.min_lr)
                optimizer.lr = new_lr
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr:.4g}.",
                          file=sys.stderr)
                self.cooldown_counter, self.wait = self.cooldown, 0

    def get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}, {}

    def set_state(self, config: dict[str, Any], arrays: dict[str, Any]) -> None:
        self.best, self.wait, self.cooldown_counter = (float(config["best"]), int(config["wait"]),
                                                       int(config["cooldown_counter"]))
