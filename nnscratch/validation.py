"""Checks for user-supplied arrays and arguments; every failure names the argument, expected and actual."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DTypeError, InvalidValueError, ShapeError


def as_float_array(x: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """``x`` as a non-empty, finite array of ``dtype`` with a batch axis (no copy when already right)."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise DTypeError(f"{name} must be a numeric array, got {type(x).__name__} that NumPy cannot convert ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{name} must hold numbers (bool, int or float), got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ShapeError(f"{name} must have a batch axis, shape (batch, ...), got a scalar")
    if arr.shape[0] == 0 or arr.size == 0:
        raise InvalidValueError(f"{name} is empty (shape {arr.shape}); expected at least one sample")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``InvalidValueError`` naming the first NaN or inf in ``arr``."""
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise InvalidValueError(f"{name} contains {arr[first]} at index {first}; expected finite numbers")


def as_targets(y: Any, name: str, n: int, dtype: np.dtype) -> np.ndarray:
    """Targets with ``n`` rows: integer labels stay integers, float targets are cast to ``dtype``."""
    arr = np.asarray(y)
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if arr.ndim == 0 or arr.shape[0] != n:
        raise ShapeError(f"{name} has {arr.shape[0] if arr.ndim else 0} rows (shape {arr.shape}); expected {n}, one per input sample")
    if arr.dtype.kind == "f":
        arr = np.ascontiguousarray(arr, dtype=dtype)
        check_finite(arr, name)
    return arr


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
