"""Finite-difference checks of the tape's gradients (float64), for tests and for new ops.

``check_gradients(fn, *args)`` compares ``vjp``'s gradients of L = sum(fn(*args) * G) (G fixed, random)
with central differences of the same L computed on plain arrays, and returns one relative error
||a - n|| / (||a|| + ||n||) per argument (None for arguments that are not float arrays).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.errors import DTypeError
from .gradients import vjp
from .tape import Tensor


def _as_plain(out: Any) -> np.ndarray:
    return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)


def numeric_gradient(loss: Callable[[], float], arr: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``loss()`` with respect to ``arr`` (perturbed in place, then restored)."""
    grad = np.zeros_like(arr)
    flat, gflat = arr.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = loss()
        flat[i] = old - eps
        minus = loss()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, atol: float = 0.0) -> float:
    """||a - n|| / max(||a|| + ||n||, atol), 0 when both are 0 (``atol`` keeps a gradient that is 0 up to
    rounding from counting as a 100% error)."""
    denom = max(float(np.linalg.norm(analytic) + np.linalg.norm(numeric)), atol)
    return 0.0 if denom == 0 else float(np.linalg.norm(analytic - numeric) / denom)


def check_gradients(fn: Callable[..., Any], *args: Any, eps: float = 1e-6, seed: int = 0,
                    atol: float = 0.0) -> list[float | None]:
    """Relative error of the tape's gradient of each argument of ``fn`` against finite differences.

    Float arguments must be float64; ``atol`` is passed to ``relative_error``. Also checks that the traced
    forward equals the plain NumPy one.
    """
    args = tuple(np.array(a) if isinstance(a, np.ndarray) else a for a in args)  # private copies to perturb
    for a in args:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.dtype != np.float64:
            raise DTypeError(f"gradient checks need float64 arrays, got {a.dtype}")
    out, backward = vjp(fn, *args)
    plain = _as_plain(fn(*args))
    traced = _as_plain(out)
    if plain.shape != traced.shape or not np.allclose(plain, traced, rtol=1e-12, atol=1e-12, equal_nan=True):
        raise AssertionError(f"traced forward differs from the NumPy one: {traced} vs {plain}")
    weights = np.random.default_rng(seed).standard_normal(traced.shape)
    grads = backward(weights)
    errors: list[float | None] = []
    for a, g in zip(args, grads):
        if not (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
            errors.append(None)
            continue
        numeric = numeric_gradient(lambda: float(np.sum(_as_plain(fn(*args)) * weights)), a, eps)
        errors.append(relative_error(np.zeros_like(a) if g is None else g, numeric, atol))
    return errors
