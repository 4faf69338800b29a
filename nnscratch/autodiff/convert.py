"""Conversions: ``convert_to_tensor``, ``convert_to_numpy``, ``cast``, ``stop_gradient``, ``shape``,
``zeros_like``, ``ones_like``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tape import Tensor, as_array, node, wrap


def convert_to_tensor(x: Any, dtype: Any = None) -> Any:
    """``x`` as an array op inputs accept: Tensors stay Tensors (cast when ``dtype`` is given); anything else
    becomes an ndarray (Python floats become float32)."""
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == np.dtype(dtype) else cast(x, dtype)
    return as_array(x, dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """The value of ``x`` as an ndarray (a Tensor's data, shared, without its graph)."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def cast(x: Any, dtype: Any) -> Any:
    """``x`` converted to ``dtype``. Float-to-float casts pass the gradient (cast back); casts to integers or
    booleans stop it."""
    dtype = np.dtype(dtype)
    if not isinstance(x, Tensor):
        return np.asarray(x).astype(dtype, copy=False)
    out = x.data.astype(dtype, copy=False)
    if dtype.kind not in "fc":
        return wrap(out)
    return node(out, (x,), lambda g, n: (g,))  # the tape casts g back to x's dtype


def stop_gradient(x: Any) -> Any:
    """The same value as a constant: no gradient flows back through it."""
    return wrap(x.data) if isinstance(x, Tensor) else x


def shape(x: Any) -> tuple[int, ...]:
    """The shape of ``x`` as a tuple of ints."""
    return tuple(np.shape(x.data if isinstance(x, Tensor) else x))


def zeros_like(x: Any, dtype: Any = None) -> np.ndarray:
    """Zeros of ``x``'s shape and dtype (a constant, plain array)."""
    return np.zeros_like(x.data if isinstance(x, Tensor) else x, dtype=dtype)


def ones_like(x: Any, dtype: Any = None) -> np.ndarray:
    """Ones of ``x``'s shape and dtype (a constant, plain array)."""
    return np.ones_like(x.data if isinstance(x, Tensor) else x, dtype=dtype)
