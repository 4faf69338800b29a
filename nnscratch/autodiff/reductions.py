"""Reductions over ``axis`` (None = all axes; an int or a tuple) with ``keepdims``, as in NumPy/Keras.

``sum``, ``mean``, ``max``, ``min``, ``prod``, ``var``, ``std``, ``norm``, ``cumsum``. Gradients flow back
broadcast over the reduced axes; ``max``/``min`` share it evenly among tied maxima (as Keras/TensorFlow),
``prod`` is exact when some entries are 0.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from . import elementwise as ew
from .tape import Tensor, node

Axis = int | tuple[int, ...] | None


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative axes (None = all)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim if ndim else int(a) for a in axes))


def _kept_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduced_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    axes = _axes(axis, len(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _count(shape: tuple[int, ...], axis: Axis) -> int:
    return math.prod(shape[i] for i in _axes(axis, len(shape)))


def _spread(g: Any, shape: tuple[int, ...], axis: Axis) -> np.ndarray:
    """``g`` (the reduced shape, with or without kept dims) broadcast back to ``shape``."""
    return np.broadcast_to(np.reshape(g, _kept_shape(shape, axis)), shape)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Sum over ``axis``."""
    if not isinstance(x, Tensor):
        return np.sum(x, axis=axis, keepdims=keepdims)
    shape = x.data.shape
    return node(np.sum(x.data, axis=axis, keepdims=keepdims), (x,), lambda g, n: (_spread(g, shape, axis),))


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Mean over ``axis``."""
    if not isinstance(x, Tensor):
        return np.mean(x, axis=axis, keepdims=keepdims)
    shape = x.data.shape
    count = builtins.max(_count(shape, axis), 1)
    return node(np.mean(x.data, axis=axis, keepdims=keepdims), (x,),
                  lambda g, n: (_spread(g / count, shape, axis),))


def _extreme(np_fn: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    if not isinstance(x, Tensor):
        return np_fn(x, axis=axis, keepdims=keepdims)
    xd = x.data
    yk = np_fn(xd, axis=axis, keepdims=True)

    def rule(g: Any, n: tuple) -> tuple:
        hit = (xd == yk).astype(g.dtype)
        hit /= hit.sum(axis=axis, keepdims=True)
        return (np.reshape(g, yk.shape) * hit,)

    return node(yk if keepdims else np.reshape(yk, _reduced_shape(xd.shape, axis)), (x,), rule)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Largest value over ``axis``; tied maxima share the gradient equally."""
    return _extreme(np.max, x, axis, keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Smallest value over ``axis``; tied minima share the gradient equally."""
    return _extreme(np.min, x, axis, keepdims)


def _product_of_others(x: np.ndarray, axis: Axis) -> np.ndarray:
    """For each entry, the product of the other entries of its reduced slice (exact with zeros)."""
    axes = _axes(axis, x.ndim)
    keep = [i for i in range(x.ndim) if i not in axes]
    perm = keep + list(axes)
    xt = np.transpose(x, perm)
    flat = xt.reshape(xt.shape[:len(keep)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    left = np.concatenate([ones, np.cumprod(flat[..., :-1], axis=-1)], axis=-1)
    right = np.concatenate([np.cumprod(flat[..., :0:-1], axis=-1)[..., ::-1], ones], axis=-1)
    return np.transpose((left * right).reshape(xt.shape), np.argsort(perm))


def prod(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Product over ``axis``."""
    if not isinstance(x, Tensor):
        return np.prod(x, axis=axis, keepdims=keepdims)
    xd = x.data
    return node(np.prod(xd, axis=axis, keepdims=keepdims), (x,),
                  lambda g, n: (_spread(g, xd.shape, axis) * _product_of_others(xd, axis),))


def _centered(xd: np.ndarray, axis: Axis, ddof: int) -> tuple[np.ndarray, int]:
    return xd - xd.mean(axis=axis, keepdims=True), builtins.max(_count(xd.shape, axis) - ddof, 0)


def var(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Any:
    """Variance over ``axis`` (divided by N - ``ddof``)."""
    if not isinstance(x, Tensor):
        return np.var(x, axis=axis, keepdims=keepdims, ddof=ddof)
    d, dof = _centered(x.data, axis, ddof)
    out = np.var(x.data, axis=axis, keepdims=keepdims, ddof=ddof)
    return node(out, (x,), lambda g, n: (_spread(g, d.shape, axis) * d * (2 / dof),))


def std(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Any:
    """Standard deviation over ``axis`` (gradient inf where it is 0, as in PyTorch)."""
    if not isinstance(x, Tensor):
        return np.std(x, axis=axis, keepdims=keepdims, ddof=ddof)
    d, dof = _centered(x.data, axis, ddof)
    out = np.std(x.data, axis=axis, keepdims=keepdims, ddof=ddof)
    sk = np.reshape(out, _kept_shape(d.shape, axis))
    return node(out, (x,), lambda g, n: (_spread(g, d.shape, axis) * d / (dof * sk),))


def norm(x: Any, ord: Any = None, axis: Axis = None, keepdims: bool = False) -> Any:
    """Vector norm over ``axis`` (``ord`` None/2, 1, inf, -inf or p > 0), or Frobenius (``ord`` None/'fro').

    On plain arrays this is ``np.linalg.norm`` (all its norms). On Tensors, ``axis`` None means all
    entries (the 2-norm of the flattened array); matrix norms other than Frobenius are not differentiable here.
    """
    if not isinstance(x, Tensor):
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    two_axes = isinstance(axis, tuple) and len(axis) == 2
    if ord in (None, "fro") or (ord == 2 and not two_axes):
        xd = x.data
        sk = np.sqrt(np.sum(xd * xd, axis=axis, keepdims=True))
        out = sk if keepdims else np.reshape(sk, _reduced_shape(xd.shape, axis))

        def rule(g: Any, n: tuple) -> tuple:
            safe = np.where(sk == 0, 1, sk)
            return (np.reshape(g, sk.shape) * xd / safe,)  # 0 at x = 0 (a subgradient)

        return node(out, (x,), rule)
    if two_axes or (axis is None and x.ndim != 1):
        raise InvalidValueError(f"norm of a Tensor with ord={ord!r} over several axes is not differentiable here; "
                                "expected ord None or 'fro' (Frobenius), or a vector norm over one axis")
    a = ew.abs(x)
    if ord == np.inf:
        return max(a, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return min(a, axis=axis, keepdims=keepdims)
    if ord == 1:
        return sum(a, axis=axis, keepdims=keepdims)
    if isinstance(ord, (int, float)) and ord > 0:
        return ew.power(sum(ew.power(a, ord), axis=axis, keepdims=keepdims), 1.0 / ord)
    raise InvalidValueError(f"norm ord={ord!r} is not supported on Tensors; expected None, 'fro', inf, -inf or p > 0")


def cumsum(x: Any, axis: int | None = None) -> Any:
    """Running sum along ``axis`` (of the flattened array when None)."""
    if not isinstance(x, Tensor):
        return np.cumsum(x, axis=axis)
    shape = x.data.shape
    ax = 0 if axis is None else axis

    def rule(g: Any, n: tuple) -> tuple:
        return (np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax).reshape(shape),)

    return node(np.cumsum(x.data, axis=axis), (x,), rule)
