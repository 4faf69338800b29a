"""``Normalization``: fixed input standardization ``(x - mean) / std``, statistics taken from data by ``adapt``.

Unlike ``BatchNorm`` nothing is learned and training and inference compute the same thing: the
statistics are measured once, on the training inputs, and saved with the model (in its configuration),
so a saved model takes raw inputs (pixels / 255, say) and needs no separate preprocessing record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, NotBuiltError, ShapeError
from ..core.layer import Layer
from ..core.validation import as_float_array


class Normalization(Layer):
    """``(x - mean) / std`` per entry of the last axis: per feature for ``(batch, features)``, per channel
    for images ``(batch, height, width, channels)``.

    ``Normalization().adapt(x_train)`` measures ``mean`` and ``std`` over every other axis (``std`` at least
    ``epsilon``); ``center=False`` keeps the mean at 0, ``scale=False`` the std at 1 (subtract the mean only).
    Alternatively pass ``mean`` and ``std`` (sequences of the last axis' length). Until either is done
    the layer refuses to run.
    """

    supports_masking = True  # the mask of a masked input passes on (nnscratch.core.masking)

    per_sample = True

    def __init__(self, mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
                 center: bool = True, scale: bool = True, epsilon: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.center, self.scale, self.epsilon = bool(center), bool(scale), float(epsilon)
        if (mean is None) != (std is None):
            raise InvalidValueError("Normalization needs both mean and std, or neither (then call adapt(x))")
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self._stats_key: tuple | None = None
        if mean is not None:
            self._set(np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64))

    def _set(self, mean: np.ndarray, std: np.ndarray) -> None:
        if mean.ndim != 1 or mean.shape != std.shape or not mean.size:
            raise ShapeError(f"Normalization mean and std must be 1-D of equal length, got {mean.shape} and "
                             f"{std.shape}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
            raise InvalidValueError("Normalization mean must be finite and std finite and positive")
        self.mean, self.std = mean, std
        self._stats_key = None  # the broadcast copies of _full_stats are stale

    def adapt(self, x: np.ndarray) -> Normalization:
        """Measure ``mean`` and ``std`` per entry of the last axis of ``x`` ``(samples, ..., features)``."""
        x = as_float_array(x, "x", np.float64)
        if x.ndim < 2:
            raise ShapeError("Normalization.adapt needs a batch of shape (samples, ..., features), got shape "
                             f"{x.shape}")
        if self.input_shape is not None and x.shape[1:] != self.input_shape:
            raise ShapeError(f"Normalization was built for samples of shape {self.input_shape}, got {x.shape[1:]}")
        axes = tuple(range(x.ndim - 1))
        mean = x.mean(axis=axes) if self.center else np.zeros(x.shape[-1])
        std = np.maximum(x.std(axis=axes), self.epsilon) if self.scale else np.ones(x.shape[-1])
        self._set(mean, std)
        return self

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        if self.mean is None:
            raise NotBuiltError("Normalization has no statistics yet: call adapt(x_train) (or pass mean and std) "
                                "before using the model")
        self._ensure_built(x)
        if x.shape[-1] != self.mean.size:
            raise ShapeError(f"Normalization has statistics for {self.mean.size} features on the last axis, "
                             f"got inputs of shape {x.shape}")
        mean, inv_std = self._full_stats(x)
        out = np.subtract(x, mean)
        out *= inv_std
        return out

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * self._stats[1]

    def _full_stats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``mean`` and ``1 / std`` broadcast to one sample's shape in ``x``'s dtype, kept until they change:
        a broadcast over a short last axis (3 channels) is several times slower than over whole samples."""
        key = (x.dtype, x.shape[1:])
        if self._stats_key != key:
            assert self.mean is not None and self.std is not None  # forward checked that there are statistics
            mean, inv_std = (np.ascontiguousarray(np.broadcast_to(v, x.shape[1:]), dtype=x.dtype)
                             for v in (self.mean, 1 / self.std))
            self._stats = (mean, inv_std)
            self._stats_key = key
        return self._stats

    def get_config(self) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        if self.mean is not None and self.std is not None:
            stats = {"mean": self.mean.tolist(), "std": self.std.tolist()}
        return {**stats, "center": self.center, "scale": self.scale, "epsilon": self.epsilon}
