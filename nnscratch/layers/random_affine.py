"""Geometric augmentation with Keras's names and arguments: ``RandomRotation``, ``RandomZoom``,
``RandomTranslation`` for channels-last images ``(N, H, W, C)``.

Like ``RandomFlip`` they act only in training and are the identity at inference. Each draws one affine map
per sample (from ``self.rng``), which sends every output pixel to a source point of its input; ``warp``
resamples there (bilinear or nearest, with Keras's fill modes), for the whole batch at once. The map is
linear in the input, and ``backward`` is its exact adjoint, so the layers pass gradient checks.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError
from .augment import Augmentation
from .warp import FILL_MODES, INTERPOLATIONS, adjoint_taps, apply_taps, sample_taps


def factor_range(value: Any, name: str, low: float = -1.0, high: float = 1.0) -> tuple[float, float]:
    """Keras's ``factor``: a number ``f`` (the range ``(-|f|, |f|)``) or ``(lower, upper)``, within ``[low, high]``."""
    numbers_given = list(value) if isinstance(value, (tuple, list)) else [value]
    if (len(numbers_given) not in (1, 2) or (isinstance(value, (tuple, list)) and len(numbers_given) != 2)
            or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and low <= float(v) <= high
                       for v in numbers_given)):
        raise InvalidValueError(f"{name} must be a number in [{low:g}, {high:g}] or a pair (lower, upper) of them, "
                                f"got {value!r}")
    if len(numbers_given) == 1:
        f = abs(float(numbers_given[0]))
        return max(-f, low), f
    lower, upper = sorted(float(v) for v in numbers_given)
    return lower, upper


def factor_config(value: Any) -> Any:
    """A factor as given (a number or a pair), in a JSON-able form."""
    return list(value) if isinstance(value, tuple) else value


class RandomWarp(Augmentation):
    """Base of the geometric augmentations: ``maps(n, h, w)`` draws ``(N, 2, 3)`` affine maps, rows giving the
    source row and column ``A @ (i, j, 1)`` of output pixel ``(i, j)`` (None: leave the batch unchanged)."""

    abstract = True

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear", fill_value: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for value, allowed, what in ((fill_mode, FILL_MODES, "fill_mode"),
                                     (interpolation, INTERPOLATIONS, "interpolation")):
            if value not in allowed:
                raise InvalidValueError(f"{type(self).__name__} {what} must be one of "
                                        f"{', '.join(map(repr, allowed))}, got {value!r}")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def maps(self, n: int, h: int, w: int) -> np.ndarray | None:
        raise NotImplementedError

    def uniform(self, bounds: tuple[float, float], n: int) -> np.ndarray:
        lower, upper = bounds
        return lower + (upper - lower) * self.rng.random(n)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        ctx.taps = None
        if not ctx.training:
            return x
        n, h, w, _ = x.shape
        a = self.maps(n, h, w)
        if a is None:
            return x
        a = a.astype(x.dtype)  # float32 coordinates for float32 images: exact to 1e-7 of the image size
        ctx.ws.use(x)
        i, j = ctx.ws.memo("grid", lambda: np.mgrid[0:h, 0:w].astype(x.dtype))  # the output pixels' rows, columns
        ys = a[:, 0, 0, None, None] * i + a[:, 0, 1, None, None] * j + a[:, 0, 2, None, None]
        xs = a[:, 1, 0, None, None] * i + a[:, 1, 1, None, None] * j + a[:, 1, 2, None, None]
        ctx.taps, outside = sample_taps(ys, xs, h, w, self.fill_mode, self.interpolation)
        return apply_taps(x, ctx.taps, x.shape, outside, self.fill_value)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out if ctx.taps is None else adjoint_taps(grad_out, ctx.taps, grad_out.shape)

    def get_config(self) -> dict[str, Any]:
        return {"fill_mode": self.fill_mode, "interpolation": self.interpolation, "fill_value": self.fill_value}


class RandomRotation(RandomWarp):
    """Rotate each image about its centre by a random angle, ``factor`` of a full turn (``0.1``: up to 36
    degrees either way; ``(lower, upper)`` for a range; positive is counter-clockwise)."""

    def __init__(self, factor: float | tuple[float, float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factor, self.bounds = factor, factor_range(factor, "RandomRotation factor")

    def maps(self, n: int, h: int, w: int) -> np.ndarray | None:
        if self.bounds == (0.0, 0.0):
            return None
        angle = 2 * math.pi * self.uniform(self.bounds, n)
        cos, sin = np.cos(angle), np.sin(angle)
        cy, cx = (h - 1) / 2, (w - 1) / 2
        return np.stack([np.stack([cos, sin, cy - cos * cy - sin * cx], axis=1),
                         np.stack([-sin, cos, cx - cos * cx + sin * cy], axis=1)], axis=1)

    def get_config(self) -> dict[str, Any]:
        return {"factor": factor_config(self.factor), **super().get_config()}


class RandomZoom(RandomWarp):
    """Zoom each image about its centre: ``height_factor`` ``f`` draws a zoom in ``[1 - f, 1 + f]`` (positive:
    zoom out, the content shrinks); ``width_factor`` likewise, None keeping the aspect ratio."""

    def __init__(self, height_factor: float | tuple[float, float], width_factor: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_bounds = factor_range(height_factor, "RandomZoom height_factor")
        self.width_bounds = None if width_factor is None else factor_range(width_factor, "RandomZoom width_factor")

    def maps(self, n: int, h: int, w: int) -> np.ndarray | None:
        if self.height_bounds == (0.0, 0.0) and self.width_bounds in (None, (0.0, 0.0)):
            return None
        zy = 1 + self.uniform(self.height_bounds, n)
        zx = zy if self.width_bounds is None else 1 + self.uniform(self.width_bounds, n)
        zero = np.zeros(n)
        return np.stack([np.stack([zy, zero, (h - 1) / 2 * (1 - zy)], axis=1),
                         np.stack([zero, zx, (w - 1) / 2 * (1 - zx)], axis=1)], axis=1)

    def get_config(self) -> dict[str, Any]:
        return {"height_factor": factor_config(self.height_factor), "width_factor": factor_config(self.width_factor),
                **super().get_config()}


class RandomTranslation(RandomWarp):
    """Shift each image by a random fraction of its height and width: ``height_factor`` ``0.1`` moves it up
    to 10% of its height up or down (positive: down), ``width_factor`` likewise (positive: right)."""

    def __init__(self, height_factor: float | tuple[float, float], width_factor: float | tuple[float, float],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_bounds = factor_range(height_factor, "RandomTranslation height_factor")
        self.width_bounds = factor_range(width_factor, "RandomTranslation width_factor")

    def maps(self, n: int, h: int, w: int) -> np.ndarray | None:
        if self.height_bounds == (0.0, 0.0) and self.width_bounds == (0.0, 0.0):
            return None
        dy, dx = self.uniform(self.height_bounds, n) * h, self.uniform(self.width_bounds, n) * w
        one, zero = np.ones(n), np.zeros(n)
        return np.stack([np.stack([one, zero, -dy], axis=1), np.stack([zero, one, -dx], axis=1)], axis=1)

    def get_config(self) -> dict[str, Any]:
        return {"height_factor": factor_config(self.height_factor), "width_factor": factor_config(self.width_factor),
                **super().get_config()}
