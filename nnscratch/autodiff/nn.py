"""Neural-network functions: activations and the softmax family, numerically stable for extreme inputs.

``sigmoid``, ``log_sigmoid``, ``softplus``, ``relu``, ``leaky_relu``, ``elu``, ``silu``, ``gelu`` (tanh
approximation, as the ``GELU`` layer), ``softmax``, ``log_softmax`` and ``logsumexp``: no overflow at
|x| = 1e4 in float32, outputs keep the input's float dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tape import Tensor, node, value

Axis = int | tuple[int, ...] | None


def _sigmoid(x: Any) -> Any:
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows, and keeps the tails accurate
    return np.where(np.asarray(x) >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)); any shape."""
    if not isinstance(x, Tensor):
        return _sigmoid(x)
    y = _sigmoid(x.data)
    return node(y, (x,), lambda g, n: (g * (y * (1 - y)),))


def log_sigmoid(x: Any) -> Any:
    """log(sigmoid(x)) = -softplus(-x), exact for large |x|."""
    if not isinstance(x, Tensor):
        return -np.logaddexp(0, -np.asarray(x))
    xd = x.data
    return node(-np.logaddexp(0, -xd), (x,), lambda g, n: (g * _sigmoid(-xd),))


def softplus(x: Any) -> Any:
    """log(1 + exp(x)), without overflow."""
    if not isinstance(x, Tensor):
        return np.logaddexp(0, x)
    xd = x.data
    return node(np.logaddexp(0, xd), (x,), lambda g, n: (g * _sigmoid(xd),))


def relu(x: Any) -> Any:
    """max(x, 0); gradient 0 at 0 (as PyTorch)."""
    if not isinstance(x, Tensor):
        return np.maximum(x, 0)
    y = np.maximum(x.data, 0)
    return node(y, (x,), lambda g, n: (np.multiply(g, y > 0, dtype=g.dtype),))


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Any:
    """x for x > 0, ``negative_slope * x`` otherwise (Keras' default slope 0.2)."""
    xd = value(x)
    y = np.where(np.asarray(xd) > 0, xd, np.multiply(xd, negative_slope))
    if not isinstance(x, Tensor):
        return y
    return node(y, (x,), lambda g, n: (np.where(xd > 0, g, g * negative_slope),))


def elu(x: Any, alpha: float = 1.0) -> Any:
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""
    xd = value(x)
    em1 = np.expm1(np.minimum(xd, 0))
    y = np.where(np.asarray(xd) > 0, xd, alpha * em1)
    if not isinstance(x, Tensor):
        return y
    return node(y, (x,), lambda g, n: (np.where(xd > 0, g, g * (alpha * (em1 + 1))),))


def silu(x: Any) -> Any:
    """x * sigmoid(x) (swish)."""
    xd = value(x)
    s = _sigmoid(xd)
    if not isinstance(x, Tensor):
        return xd * s
    return node(xd * s, (x,), lambda g, n: (g * (s * (1 + xd * (1 - s))),))


_GELU_C = float(np.sqrt(2 / np.pi))


def gelu(x: Any) -> Any:
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): the tanh approximation (Keras' default)."""
    xd = value(x)
    t = np.tanh(_GELU_C * (xd + 0.044715 * xd**3))
    y = 0.5 * xd * (1 + t)
    if not isinstance(x, Tensor):
        return y

    def rule(g: Any, n: tuple) -> tuple:
        dt = (1 - t * t) * _GELU_C * (1 + 3 * 0.044715 * xd * xd)
        return (g * (0.5 * (1 + t) + 0.5 * xd * dt),)

    return node(y, (x,), rule)


def _shifted(x: Any, axis: Axis) -> tuple[Any, Any]:
    """(x - m, m) with m the max over ``axis`` (keepdims), 0 where that max is not finite."""
    m = np.max(x, axis=axis, keepdims=True)
    if not np.all(np.isfinite(m)):
        m = np.where(np.isfinite(m), m, 0)
    return x - m, m


def _softmax(x: Any, axis: Axis) -> Any:
    e, _ = _shifted(np.asarray(x), axis)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def softmax(x: Any, axis: Axis = -1) -> Any:
    """exp(x) / sum(exp(x)) over ``axis`` (default the last); the outputs sum to 1."""
    if not isinstance(x, Tensor):
        return _softmax(x, axis)
    y = _softmax(x.data, axis)
    return node(y, (x,), lambda g, n: (y * (g - (g * y).sum(axis=axis, keepdims=True)),))


def _logsumexp(x: Any, axis: Axis) -> Any:
    """log(sum(exp(x))) over ``axis``, keepdims."""
    s, m = _shifted(np.asarray(x), axis)
    with np.errstate(divide="ignore"):  # an all -inf slice: log(0) = -inf is the answer
        return np.log(np.exp(s).sum(axis=axis, keepdims=True)) + m


def log_softmax(x: Any, axis: Axis = -1) -> Any:
    """x - logsumexp(x) over ``axis``: the log of ``softmax``, finite where softmax underflows to 0."""
    xd = np.asarray(value(x))
    y = xd - _logsumexp(xd, axis)
    if not isinstance(x, Tensor):
        return y
    return node(y, (x,), lambda g, n: (g - np.exp(y) * g.sum(axis=axis, keepdims=True),))


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) over ``axis`` (all axes by default); -inf for an all -inf slice."""
    xd = np.asarray(value(x))
    lse = _logsumexp(xd, axis)
    out = lse if keepdims else (lse.reshape(()) if axis is None else np.squeeze(lse, axis=axis))
    if not isinstance(x, Tensor):
        return out

    def rule(g: Any, n: tuple) -> tuple:
        with np.errstate(invalid="ignore"):
            w = np.exp(xd - lse)  # softmax weights; NaN (-inf - -inf) only in an all -inf slice
        if not np.all(np.isfinite(lse)):
            w = np.where(np.isnan(w), 0, w)
        return (np.reshape(g, lse.shape) * w,)

    return node(out, (x,), rule)
