"""``UnitNormalization``: scale each sample to L2 norm 1 over some of its axes (Keras's layer), and the L2
normalization it shares with ``Dot(normalize=True)``.

As Keras 3's ``ops.normalize(x, axis, order=2, epsilon)``: ``y = x * rsqrt(max(sum(x**2 over axes), eps**2))``,
that is ``x / max(||x||, eps)``; ``UnitNormalization`` uses ``eps = 1e-12``. A vector whose norm is below
``eps`` (a zero vector) is scaled by ``1 / eps`` and gets a finite gradient.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import DTypeError, InvalidTypeError, ShapeError
from ..core.layer import Layer

EPSILON = 1e-12  # Keras's UnitNormalization: ops.normalize(..., epsilon=1e-12)


def resolve_axes(axis: int | list[int], ndim: int, who: str) -> tuple[int, ...]:
    """``axis`` (an int or a list, negative from the end) as sorted non-negative axes of an array of ``ndim``
    axes (batch included); ``ShapeError`` for the batch axis, an axis out of range or one named twice."""
    axes = axis if isinstance(axis, list) else [axis]
    full = sorted({a + ndim if a < 0 else a for a in axes})
    if len(full) != len(axes) or not all(1 <= a < ndim for a in full):
        raise ShapeError(f"{who} axis {axis!r} does not name distinct non-batch axes of inputs of rank {ndim} "
                         f"(axes 1..{ndim - 1} or -1..-{ndim - 1}; axis 0 is the batch)")
    return tuple(full)


def l2_normalize(x: np.ndarray, axes: tuple[int, ...], epsilon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y, inv, free)``: ``y = x * inv`` with ``inv = rsqrt(max(sum(x**2, axes), epsilon**2))`` (kept dims),
    ``free`` True where the norm was not clamped (what the gradient needs)."""
    square_sum = np.sum(np.square(x), axis=axes, keepdims=True)
    floor = x.dtype.type(epsilon * epsilon)
    free = square_sum > floor
    inv = 1.0 / np.sqrt(np.maximum(square_sum, floor))
    return x * inv, inv, free


def l2_normalize_grad(grad: np.ndarray, y: np.ndarray, inv: np.ndarray, free: np.ndarray,
                      axes: tuple[int, ...]) -> np.ndarray:
    """dL/dx of ``l2_normalize`` from dL/dy: ``inv * (g - y * sum(g * y, axes))`` where the norm was not clamped,
    ``inv * g`` where it was (``y`` is then ``x`` times a constant)."""
    along = np.sum(grad * y, axis=axes, keepdims=True)
    along *= free
    out = grad - y * along
    out *= inv
    return out


class UnitNormalization(Layer):
    """``x / max(||x||, 1e-12)``, the L2 norm taken per sample over ``axis`` (an int or a list of them, never the
    batch axis 0; default the last). Any shape ``(N, ...)`` -> the same shape; no weights."""

    supports_masking = True  # the mask of a masked input passes on (nnscratch.core.masking)

    checks_dtype = False
    per_sample = True

    def __init__(self, axis: int | list[int] | tuple[int, ...] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
            raise InvalidTypeError(f"UnitNormalization axis must be an int or a non-empty list of ints (axes of the "
                                   f"input, -1 the last), got {axis!r}")
        self.axis: int | list[int] = [int(a) for a in axes] if isinstance(axis, (list, tuple)) else int(axes[0])

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        resolve_axes(self.axis, len(input_shape) + 1, "UnitNormalization")  # only the rank matters
        super().build(input_shape)

    def _ensure_built(self, x: np.ndarray) -> None:
        if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
            raise DTypeError(f"UnitNormalization expects a float array of shape (batch, ...), got "
                             f"{getattr(x, 'dtype', type(x).__name__)}")
        if self.input_shape is None:
            self.build(x.shape[1:])

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        axes = ctx.axes = resolve_axes(self.axis, x.ndim, "UnitNormalization")
        y, ctx.inv, ctx.free = l2_normalize(x, axes, EPSILON)
        ctx.y = y
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray | None:
        if not ctx.input_grad:
            return None
        return l2_normalize_grad(grad_out, ctx.y, ctx.inv, ctx.free, ctx.axes)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}
