"""Checks for user-supplied arrays and arguments; every failure names the argument, expected and actual."""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from . import shapes
from .errors import DTypeError, InvalidTypeError, InvalidValueError, ShapeError


def _shape(shape: tuple[int | None, ...]) -> str:
    """``(batch, 28, 28)`` for a per-sample shape ``(28, 28)``."""
    return "(batch" + "".join(f", {d}" for d in shape) + ")"


def as_float_array(x: Any, name: str, dtype: DTypeLike) -> np.ndarray:
    """``x`` as a non-empty, finite array of ``dtype`` with a batch axis (no copy when already right)."""
    if isinstance(x, (str, bytes, dict, set)) or x is None:
        raise DTypeError(f"{name} must be a numeric array of shape (samples, ...), got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise DTypeError(f"{name} must be a numeric array, got {type(x).__name__} "
                         f"that NumPy cannot convert ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{name} must hold numbers (bool, int or float), got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ShapeError(f"{name} must have a batch axis, shape (samples, ...), got a scalar")
    if arr.shape[0] == 0 or arr.size == 0:
        raise InvalidValueError(f"{name} is empty (shape {arr.shape}); expected at least one sample")
    cast = arr.dtype != dtype
    with np.errstate(over="ignore"):  # float64 values beyond float32's range: reported just below
        arr = np.ascontiguousarray(arr, dtype=dtype)
    check_finite(arr, name, hint=f" (values beyond the {np.dtype(dtype).name} range?)" if cast else "")
    return arr


def check_finite(arr: np.ndarray, name: str, hint: str = "") -> None:
    """Raise ``InvalidValueError`` naming the first NaN or inf in ``arr``.

    The check runs over 1 MiB-element chunks so a large dataset costs no dataset-sized temporary."""
    if arr.dtype.kind != "f":
        return
    flat = arr.reshape(-1)
    chunk = 1 << 20
    if not all(np.isfinite(flat[i:i + chunk]).all() for i in range(0, flat.size, chunk)):
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise InvalidValueError(f"{name} contains {arr[first]} at index {first}; expected finite numbers{hint}")


def as_targets(y: Any, name: str, n: int, dtype: np.dtype) -> np.ndarray:
    """Targets with ``n`` rows: integer labels stay integers, float targets are cast to ``dtype``."""
    if isinstance(y, (str, bytes, dict, set)) or y is None:
        raise DTypeError(f"{name} must be a numeric array with one row per sample, got {type(y).__name__}")
    try:
        arr = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise DTypeError(f"{name} must be a numeric array, got {type(y).__name__} "
                         f"that NumPy cannot convert ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if arr.ndim == 0 or arr.shape[0] != n:
        raise ShapeError(f"{name} has {arr.shape[0] if arr.ndim else 0} rows (shape {arr.shape}); expected {n}, one "
                         "per input sample")
    if arr.size == 0:
        raise InvalidValueError(f"{name} is empty (shape {arr.shape}); expected at least one value per sample")
    if arr.dtype.kind == "f":
        cast = arr.dtype != dtype
        with np.errstate(over="ignore"):
            arr = np.ascontiguousarray(arr, dtype=dtype)
        check_finite(arr, name, hint=f" (values beyond the {np.dtype(dtype).name} range?)" if cast else "")
    return arr


def check_sample_shape(x: np.ndarray, name: str, input_shape: tuple[int | None, ...] | None,
                       who: str = "the model") -> None:
    """Raise ``ShapeError`` unless ``x`` is ``(samples, *input_shape)`` (no check when ``input_shape`` is None; a
    None axis of ``input_shape`` takes any size)."""
    if input_shape is None or shapes.fits(x.shape[1:], tuple(input_shape)):
        return
    hint = ""
    if x.ndim == len(input_shape) and x.shape == tuple(input_shape):
        hint = f"; a single sample? add the batch axis: {name}[None]"
    elif None not in input_shape and int(np.prod(x.shape[1:])) == shapes.known_size(tuple(input_shape)):
        hint = f"; reshape it: {name}.reshape(len({name}), {', '.join(map(str, input_shape))})"
    raise ShapeError(f"{name} has shape {x.shape}, but {who} was built for inputs of shape "
                     f"{_shape(tuple(input_shape))}{hint}")


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidTypeError(f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise InvalidValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def real_number(value: Any, name: str, expected: str, ok: Callable[[Any], bool] = lambda v: True) -> float:
    """``value`` as a float if it is a finite real number satisfying ``ok``, else ``InvalidValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value) or not ok(value):
        raise InvalidValueError(f"{name} must be {expected}, got {value!r}")
    return float(value)


def unknown_name(kind: str, name: Any, known: Iterable[str], extra: str = "") -> InvalidValueError:
    """The error for an unknown ``kind`` name, with a "did you mean" suggestion and the known names."""
    known = list(known)
    close = difflib.get_close_matches(str(name).lower(), known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return InvalidValueError(f"unknown {kind} '{name}'{hint} (known: {', '.join(known)}{extra})")


def lookup(kind: str, name: str, registry: dict[str, Any], aliases: dict[str, str] | None = None) -> Any:
    """``registry[name]`` (case-insensitive, through ``aliases``), else the "did you mean" error of ``unknown_name``."""
    aliases = aliases or {}
    key = aliases.get(name.lower(), name.lower())
    if key in registry:
        return registry[key]
    raise unknown_name(kind, name, sorted([*registry, *aliases]))


def build(kind: str, name: str, factory: Callable[..., Any], args: dict[str, Any], what: str = "arguments") -> Any:
    """``factory(**args)``, with a ``TypeError`` (an unexpected or missing argument) as ``InvalidValueError``."""
    try:
        return factory(**args)
    except TypeError as exc:
        raise InvalidValueError(f"bad {what} for {kind} {name!r}: {exc}") from exc


def from_named_config(kind: str, config: dict[str, Any], registry: dict[str, Any],
                      aliases: dict[str, str] | None = None) -> Any:
    """Re-create an object from ``{"name": ..., **arguments}`` (a ``get_config()`` output) through ``registry``."""
    args = dict(config)
    name = args.pop("name", None)
    if not isinstance(name, str):
        raise InvalidValueError(f"{kind} config needs a string 'name', got {config!r}")
    return build(kind, name, lookup(kind, name, registry, aliases), args, "config")
