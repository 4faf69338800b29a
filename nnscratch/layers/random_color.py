"""Colour augmentation with Keras's names and arguments: ``RandomContrast`` and ``RandomBrightness`` for
channels-last images ``(N, H, W, C)``, one random draw per image, training only (identity at inference).
Outputs are clipped to ``value_range`` (the range the pixels live in: ``(0, 255)`` raw, ``(0, 1)`` rescaled);
the gradient is zero where the clip bit, and otherwise the exact adjoint of the affine map drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError
from .augment import Augmentation
from .random_affine import factor_config, factor_range


def _value_range(value: Any, layer: str) -> tuple[float, float]:
    try:
        low, high = sorted(float(v) for v in value)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{layer} value_range must be two numbers (low, high), got {value!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise InvalidValueError(f"{layer} value_range must be two finite numbers low < high, got {value!r}")
    return low, high


class RandomColor(Augmentation):
    """Base of the colour augmentations: ``factor``, ``value_range``, the draw per image and the clipping."""

    abstract = True

    def __init__(self, factor: Any, value_range: Any = (0, 255), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factor, self.value_range = factor, _value_range(value_range, type(self).__name__)

    def draw(self, n: int, bounds: tuple[float, float]) -> np.ndarray:
        lower, upper = bounds
        return (lower + (upper - lower) * self.rng.random(n)).reshape(n, 1, 1, 1)

    def clip(self, ctx: Call, y: np.ndarray) -> np.ndarray:
        low, high = self.value_range
        ctx.kept = (y >= low) & (y <= high)
        return np.clip(y, low, high, out=y)

    def get_config(self) -> dict[str, Any]:
        return {"factor": factor_config(self.factor), "value_range": list(self.value_range)}


class RandomContrast(RandomColor):
    """``(x - mean) * c + mean`` with ``mean`` each image's per-channel mean and ``c`` drawn per image from
    ``[1 - factor, 1 + factor]`` (``(lower, upper)``: ``[1 - lower, 1 + upper]``; numbers in [0, 1])."""

    def __init__(self, factor: float | tuple[float, float], value_range: Any = (0, 255), **kwargs: Any) -> None:
        super().__init__(factor, value_range, **kwargs)
        lower, upper = factor_range(factor, "RandomContrast factor", 0.0, 1.0)
        self.bounds = (1 - upper, 1 + upper) if not isinstance(factor, (tuple, list)) else (1 - lower, 1 + upper)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        ctx.c = None
        if not ctx.training:
            return x
        ctx.c = c = self.draw(len(x), self.bounds).astype(x.dtype)
        mean = x.mean(axis=(1, 2), keepdims=True)
        return self.clip(ctx, (x - mean) * c + mean)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        if ctx.c is None:
            return grad_out
        g = grad_out * ctx.kept
        return g * ctx.c + g.mean(axis=(1, 2), keepdims=True) * (1 - ctx.c)


class RandomBrightness(RandomColor):
    """``x + delta``, ``delta`` drawn per image as ``factor`` of the value range: ``factor=0.2`` adds up to
    +-20% of ``value_range`` (``(lower, upper)`` for a range; numbers in [-1, 1])."""

    def __init__(self, factor: float | tuple[float, float], value_range: Any = (0, 255), **kwargs: Any) -> None:
        super().__init__(factor, value_range, **kwargs)
        self.bounds = factor_range(factor, "RandomBrightness factor")

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        ctx.kept = None
        if not ctx.training:
            return x
        low, high = self.value_range
        delta = self.draw(len(x), self.bounds) * (high - low)
        return self.clip(ctx, x + delta.astype(x.dtype))

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out if ctx.kept is None else grad_out * ctx.kept
