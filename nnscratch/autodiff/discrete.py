"""Ops without a gradient: comparisons, logical ops, ``sign``, rounding, ``floor_divide``, ``argmax``/``argmin``,
``one_hot``.

Their outputs are piecewise constant (or integers/booleans), so nothing flows back through them, as in
PyTorch and Keras. On Tensors they return constant Tensors (``requires_grad=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .tape import Tensor, value, wrap


def _constant(name: str, fn: Callable[..., Any], doc: str, arity: int) -> Callable[..., Any]:
    if arity == 1:
        def op(x: Any) -> Any:
            return wrap(np.asarray(fn(x.data))) if isinstance(x, Tensor) else fn(x)
    else:
        def op(x: Any, y: Any) -> Any:  # type: ignore[misc]
            if isinstance(x, Tensor) or isinstance(y, Tensor):
                return wrap(np.asarray(fn(value(x), value(y))))
            return fn(x, y)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


equal = _constant("equal", np.equal, "x == y element-wise (booleans).", 2)
not_equal = _constant("not_equal", np.not_equal, "x != y element-wise.", 2)
less = _constant("less", np.less, "x < y element-wise.", 2)
less_equal = _constant("less_equal", np.less_equal, "x <= y element-wise.", 2)
greater = _constant("greater", np.greater, "x > y element-wise.", 2)
greater_equal = _constant("greater_equal", np.greater_equal, "x >= y element-wise.", 2)
logical_and = _constant("logical_and", np.logical_and, "x and y element-wise.", 2)
logical_or = _constant("logical_or", np.logical_or, "x or y element-wise.", 2)
logical_xor = _constant("logical_xor", np.logical_xor, "x xor y element-wise.", 2)
logical_not = _constant("logical_not", np.logical_not, "not x element-wise.", 1)
isnan = _constant("isnan", np.isnan, "True where x is NaN.", 1)
isinf = _constant("isinf", np.isinf, "True where x is +-inf.", 1)
isfinite = _constant("isfinite", np.isfinite, "True where x is neither NaN nor infinite.", 1)
sign = _constant("sign", np.sign, "-1, 0 or 1 by the sign of x (no gradient).", 1)
floor = _constant("floor", np.floor, "Largest integer <= x, as a float (no gradient).", 1)
ceil = _constant("ceil", np.ceil, "Smallest integer >= x, as a float (no gradient).", 1)
round = _constant("round", np.round, "x rounded to the nearest integer, halves to even (no gradient).", 1)
floor_divide = _constant("floor_divide", np.floor_divide, "floor(x / y) element-wise (``x // y``; no gradient).", 2)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """Index of the largest value along ``axis`` (of the flattened array when None); the first on ties."""
    out = np.argmax(value(x), axis=axis, keepdims=keepdims)
    return wrap(np.asarray(out)) if isinstance(x, Tensor) else out


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """Index of the smallest value along ``axis``; the first on ties."""
    out = np.argmin(value(x), axis=axis, keepdims=keepdims)
    return wrap(np.asarray(out)) if isinstance(x, Tensor) else out


def argsort(x: Any, axis: int = -1) -> Any:
    """Indices that sort ``x`` along ``axis`` (stable)."""
    out = np.argsort(value(x), axis=axis, kind="stable")
    return wrap(out) if isinstance(x, Tensor) else out


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = "float32") -> Any:
    """Integer labels ``(...)`` -> ``(..., num_classes)`` of 0/1 (the new axis at ``axis``); labels outside
    ``[0, num_classes)`` give a row of zeros (as Keras)."""
    labels = np.asarray(value(x))
    out = (labels[..., None] == np.arange(num_classes)).astype(dtype)
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return wrap(out) if isinstance(x, Tensor) else out
