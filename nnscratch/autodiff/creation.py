"""Arrays made from a shape: ``zeros``, ``ones``, ``full``, ``full_like``, ``eye``, ``arange`` (constants:
plain float32 arrays by default, as Keras's ``keras.ops`` makes them; no gradient flows into them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tape import Tensor


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _dtype(dtype: Any) -> np.dtype:
    return np.dtype(np.float32 if dtype is None else dtype)


def zeros(shape: Any, dtype: Any = None) -> np.ndarray:
    """Zeros of ``shape`` (float32 unless ``dtype`` is given)."""
    return np.zeros(_shape(shape), _dtype(dtype))


def ones(shape: Any, dtype: Any = None) -> np.ndarray:
    """Ones of ``shape`` (float32 unless ``dtype`` is given)."""
    return np.ones(_shape(shape), _dtype(dtype))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> np.ndarray:
    """``fill_value`` everywhere in an array of ``shape`` (float32 unless ``dtype`` is given)."""
    value = fill_value.data if isinstance(fill_value, Tensor) else fill_value
    return np.full(_shape(shape), value, _dtype(dtype))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> np.ndarray:
    """``fill_value`` in an array of ``x``'s shape and dtype (or ``dtype``)."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    value = fill_value.data if isinstance(fill_value, Tensor) else fill_value
    return np.full(data.shape, value, data.dtype if dtype is None else np.dtype(dtype))


def eye(n: int, m: int | None = None, k: int = 0, dtype: Any = None) -> np.ndarray:
    """The ``(n, m)`` identity (ones on diagonal ``k``)."""
    return np.eye(int(n), None if m is None else int(m), int(k), _dtype(dtype))


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> np.ndarray:
    """Evenly spaced values in ``[start, stop)`` (NumPy's dtype rules unless ``dtype`` is given)."""
    return np.arange(start, stop, step) if dtype is None else np.arange(start, stop, step, dtype=np.dtype(dtype))
