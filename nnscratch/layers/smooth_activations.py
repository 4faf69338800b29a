"""Smooth activations of Keras 3: ``selu``, ``swish``/``silu``, ``softplus``, ``softsign``, ``mish``, ``exponential``,
``log_softmax``, ``log_sigmoid``, ``celu``, ``squareplus`` and ``tanh_shrink``.

Each is an ``Activation`` layer (``Activation("selu")``, ``Dense(64, activation="swish")``) with Keras 3's formula
and defaults, computed in the input's float dtype with an exact backward, and finite for inputs of any size
where the value itself is (``softplus(1000) == 1000``, ``softplus(-700) > 0`` in float64, ``log_softmax([1000, 0])
== [0, -1000]``); only ``exponential`` overflows to ``inf``, as ``exp`` does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import functional as F
from ..core.call import Call
from ..core.validation import real_number
from .activations import ACTIVATIONS, Activation, check_axis, softmax_axis

SELU_ALPHA = 1.6732632423543772848170429916717  # Klambauer et al. (Keras's and PyTorch's constants)
SELU_SCALE = 1.0507009873554804934193349852946


def sigmoid_pair(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sigmoid(x), 1 - sigmoid(x)) = (sigmoid(x), sigmoid(-x)), each with its full relative precision."""
    e = np.exp(-np.abs(x))  # in (0, 1]: no overflow
    d = 1 + e
    big, small = 1 / d, e / d
    positive = x >= 0
    return np.where(positive, big, small), np.where(positive, small, big)


class SELU(Activation):
    """scale * x for x > 0, scale * alpha * (exp(x) - 1) otherwise, with Keras's ``alpha`` 1.67326 and ``scale``
    1.05070 (use it with ``lecun_normal`` weights and ``AlphaDropout``)."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        neg = x.dtype.type(SELU_ALPHA) * np.expm1(np.minimum(x, 0))
        return x.dtype.type(SELU_SCALE) * np.where(x > 0, x, neg)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        x = ctx.x
        neg = x.dtype.type(SELU_SCALE * SELU_ALPHA) * np.exp(np.minimum(x, 0))
        return grad_out * np.where(x > 0, x.dtype.type(SELU_SCALE), neg)


class Swish(Activation):
    """x * sigmoid(x) (Keras's ``swish``, also named ``silu``)."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        ctx.s, ctx.r = sigmoid_pair(x)
        return x * ctx.s

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * (ctx.s * (1 + ctx.x * ctx.r))


SiLU = Swish


class Softplus(Activation):
    """log(1 + exp(x)) as ``logaddexp(0, x)``: ``x`` for large x, ``exp(x)`` (tiny, > 0) for very negative x."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        return np.logaddexp(x.dtype.type(0), x)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * F.sigmoid(ctx.x)


class Softsign(Activation):
    """x / (1 + |x|)."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        ctx.d = d = 1 + np.abs(x)
        return x / d

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        d = ctx.d
        return grad_out / d / d  # / (1 + |x|)^2 without forming the square, which could overflow


class Mish(Activation):
    """x * tanh(softplus(x))."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        ctx.t = t = np.tanh(np.logaddexp(x.dtype.type(0), x))
        return x * t

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        x, t = ctx.x, ctx.t
        return grad_out * (t + x * (1 - t * t) * F.sigmoid(x))


class Exponential(Activation):
    """exp(x) (``inf`` where it overflows, as ``exp``)."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        with np.errstate(over="ignore"):
            ctx.y = y = np.exp(x)
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * ctx.y


class LogSoftmax(Activation):
    """x - logsumexp(x) over ``axis`` (the last by default; a list of axes normalizes over all of them): the log
    of ``Softmax``, finite where the softmax underflows to 0."""

    def __init__(self, axis: int | tuple[int, ...] | list[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = softmax_axis(axis, "LogSoftmax")

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        check_axis(x, self.axis, "LogSoftmax")
        ctx.y = y = F.log_softmax(x, axis=self.axis)
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out - np.exp(ctx.y) * grad_out.sum(axis=self.axis, keepdims=True)

    def get_config(self) -> dict[str, Any]:
        return {"axis": list(self.axis) if isinstance(self.axis, tuple) else self.axis}


class LogSigmoid(Activation):
    """log(sigmoid(x)) = -softplus(-x)."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        return -np.logaddexp(x.dtype.type(0), -x)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * F.sigmoid(-ctx.x)


class CELU(Activation):
    """max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1) (continuously differentiable ELU)."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = real_number(alpha, "CELU alpha", "a finite number > 0", lambda v: v > 0)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        a = x.dtype.type(self.alpha)
        return np.maximum(x, 0) + a * np.expm1(np.minimum(x, 0) / a)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        x = ctx.x
        return grad_out * np.where(x > 0, x.dtype.type(1), np.exp(np.minimum(x, 0) / x.dtype.type(self.alpha)))

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class Squareplus(Activation):
    """(x + sqrt(x^2 + b)) / 2, a smooth ReLU; computed without overflow or cancellation at either end
    (``b / (2 (sqrt(x^2 + b) - x))`` for x < 0)."""

    def __init__(self, b: float = 4.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.b = real_number(b, "Squareplus b", "a finite number > 0", lambda v: v > 0)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        half = x.dtype.type(0.5)
        ctx.h = h = np.hypot(x, x.dtype.type(np.sqrt(self.b)))
        ctx.low = low = half * x.dtype.type(self.b) / h / (1 + np.abs(x) / h)  # the value at -|x|
        return np.where(x >= 0, half * x + half * h, low)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        x, h = ctx.x, ctx.h
        return grad_out * np.where(x >= 0, x.dtype.type(0.5) * (1 + x / h), ctx.low / h)

    def get_config(self) -> dict[str, Any]:
        return {"b": self.b}


class TanhShrink(Activation):
    """x - tanh(x)."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        ctx.t = t = np.tanh(x)
        return x - t

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        t = ctx.t
        return grad_out * (t * t)


ACTIVATIONS.update({
    "selu": SELU, "swish": Swish, "silu": Swish, "softplus": Softplus, "softsign": Softsign, "mish": Mish,
    "exponential": Exponential, "log_softmax": LogSoftmax, "log_sigmoid": LogSigmoid, "celu": CELU,
    "squareplus": Squareplus, "tanh_shrink": TanhShrink,
})
