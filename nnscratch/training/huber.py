"""``Huber``: squared error near zero, absolute error beyond ``delta`` (Keras's ``"huber"`` loss)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from . import losses


class Huber(losses.Loss):
    """mean over all elements of ``0.5 d**2`` where ``|d| <= delta`` else ``delta * (|d| - 0.5 delta)``,
    ``d = pred - target``; ``pred`` and ``target`` of the same shape ``(batch, ...)``."""

    name = "huber"

    def __init__(self, delta: float = 1.0, **keras: Any) -> None:
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta > 0:
            raise InvalidValueError(f"Huber delta must be a number > 0, got {delta!r}")
        self.delta = float(delta)
        losses._smoothing(0.0, keras)

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        self._check_same_shape(y, output_shape, name)

    def forward(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
        self.diff = pred - losses._as_target(pred, target, self.name)
        a = np.abs(self.diff)
        d = pred.dtype.type(self.delta)
        per = np.where(a <= d, 0.5 * np.square(self.diff), d * (a - 0.5 * d))
        if mask is not None:
            value, self.sample_losses = self._masked_mean(per.mean(axis=-1), mask)
            return value
        self.step_weights = None
        self.sample_losses = per.reshape(len(pred), -1).mean(axis=1)
        return float(np.mean(per))

    def backward(self) -> np.ndarray:
        g = np.clip(self.diff, -self.delta, self.delta)
        return self._weigh(g * g.dtype.type(1.0 / g.size))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "delta": self.delta}


losses.LOSSES["huber"] = (Huber, {})
