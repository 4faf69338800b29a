"""``History``: the per-epoch record of losses and metrics that ``fit`` returns."""

from __future__ import annotations

from typing import Any

from .callbacks import Callback


class History(Callback):
    """``history["loss"]`` is a list with one float per epoch; validation keys are prefixed ``val_``.

    ``fit`` returns one; passed in ``callbacks`` (Keras's ``keras.callbacks.History()``) it records too."""

    interrupted: bool  # set by fit: whether Ctrl-C ended it

    def __init__(self) -> None:
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.epoch, self.history = [], {}

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.append(epoch, logs or {})

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def keys(self):
        return self.history.keys()

    def to_dict(self) -> dict[str, list]:
        return {"epoch": list(self.epoch), **{k: list(v) for k, v in self.history.items()}}

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History(epochs={len(self.epoch)}, {last})"
