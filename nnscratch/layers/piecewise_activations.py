"""Piecewise activations of Keras 3: ``hard_sigmoid``, ``hard_silu``/``hard_swish``, ``hard_tanh``, ``sparse_plus``,
``soft_shrink`` and ``hard_shrink`` (``relu6`` is ``ReLU(max_value=6)``, in ``activations``).

Each is an ``Activation`` layer with Keras 3's formula (``hard_sigmoid(x) = relu6(x + 3) / 6``, not Keras 2's
``0.2 x + 0.5``), computed in the input's float dtype without overflow; the gradient at a kink is the one-sided
value PyTorch uses (0 at the ends of a clipped range).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.validation import real_number
from .activations import ACTIVATIONS, Activation


def _relu6_plus_3(x: np.ndarray) -> np.ndarray:
    """min(max(x + 3, 0), 6)."""
    y = x + x.dtype.type(3)
    np.maximum(y, x.dtype.type(0), out=y)
    np.minimum(y, x.dtype.type(6), out=y)
    return y


def _inside(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """1 where low < x < high, else 0, in ``x``'s dtype."""
    return ((x > x.dtype.type(low)) & (x < x.dtype.type(high))).astype(x.dtype)


class HardSigmoid(Activation):
    """relu6(x + 3) / 6: 0 for x <= -3, 1 for x >= 3, x / 6 + 0.5 between (Keras 3's, PyTorch's ``hardsigmoid``)."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        y = _relu6_plus_3(x)
        y /= x.dtype.type(6)
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        g = grad_out * _inside(ctx.x, -3, 3)
        g /= ctx.x.dtype.type(6)
        return g


class HardSwish(Activation):
    """x * relu6(x + 3) / 6 (Keras's ``hard_silu``, also named ``hard_swish``): 0 for x <= -3, x for x >= 3."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        r = _relu6_plus_3(x)
        r /= x.dtype.type(6)  # the hard sigmoid: 1 for x >= 3, so a large x is returned exactly
        return x * r

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        x = ctx.x
        t = x.dtype.type
        d = np.where(x < t(-3), t(0), np.where(x > t(3), t(1), (2 * x + t(3)) / t(6)))
        return grad_out * d


HardSiLU = HardSwish


class HardTanh(Activation):
    """clip(x, -1, 1)."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        return np.clip(x, x.dtype.type(-1), x.dtype.type(1))

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * _inside(ctx.x, -1, 1)


class SparsePlus(Activation):
    """0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        ctx.u = u = np.clip(x, x.dtype.type(-1), x.dtype.type(1)) + x.dtype.type(1)  # in [0, 2]: no overflow
        return np.where(x >= 1, x, x.dtype.type(0.25) * u * u)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        x = ctx.x
        return grad_out * np.where(x >= 1, x.dtype.type(1), x.dtype.type(0.5) * ctx.u)


class _Shrink(Activation):
    """Base of the shrink activations: ``threshold`` >= 0."""

    abstract = True

    def __init__(self, threshold: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threshold = real_number(threshold, f"{type(self).__name__} threshold", "a finite number >= 0",
                                     lambda v: v >= 0)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        x = ctx.x
        return grad_out * (np.abs(x) > x.dtype.type(self.threshold)).astype(x.dtype)

    def get_config(self) -> dict[str, Any]:
        return {"threshold": self.threshold}


class SoftShrink(_Shrink):
    """x - threshold for x > threshold, x + threshold for x < -threshold, 0 between."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        t = x.dtype.type(self.threshold)
        return np.where(x > t, x - t, np.where(x < -t, x + t, x.dtype.type(0)))


class HardShrink(_Shrink):
    """x where |x| > threshold, else 0."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        return np.where(np.abs(x) > x.dtype.type(self.threshold), x, x.dtype.type(0))


ACTIVATIONS.update({
    "hard_sigmoid": HardSigmoid, "hard_silu": HardSwish, "hard_swish": HardSwish, "hard_tanh": HardTanh,
    "sparse_plus": SparsePlus, "soft_shrink": SoftShrink, "hard_shrink": HardShrink,
})
