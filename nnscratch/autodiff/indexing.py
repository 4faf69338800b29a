"""Indexing: ``getitem`` (``x[...]``: slices, ints, None, Ellipsis, integer and boolean arrays), ``take``,
``take_along_axis``.

The gradient scatters back into zeros of the input's shape; with integer index arrays it *accumulates*
(``np.add.at``), so an entry picked twice gets both gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tape import Tensor, node, value


def _plain_key(key: Any) -> Any:
    """The index with Tensors replaced by their arrays and lists by arrays (as NumPy reads them)."""
    if isinstance(key, tuple):
        return tuple(_plain_key(k) for k in key)
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, list):
        return np.asarray(key)
    return key


def _gathers(key: Any) -> bool:
    """True when the index holds an integer array (entries may repeat, so the gradient must accumulate)."""
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, np.ndarray) and k.dtype.kind in "iu" for k in parts)


def getitem(x: Any, key: Any) -> Any:
    """``x[key]`` with NumPy's basic and advanced indexing."""
    key = _plain_key(key)
    if not isinstance(x, Tensor):
        return np.asarray(x)[key]
    shape = x.data.shape
    gathers = _gathers(key)

    def rule(g: np.ndarray, n: tuple) -> tuple:
        full = np.zeros(shape, dtype=g.dtype)
        if gathers:
            np.add.at(full, key, g)
        else:
            full[key] = g
        return (full,)

    return node(x.data[key], (x,), rule)


def take(x: Any, indices: Any, axis: int | None = None) -> Any:
    """Entries of ``x`` at integer ``indices`` along ``axis`` (of the flattened ``x`` when None).

    The output has shape ``x.shape[:axis] + indices.shape + x.shape[axis+1:]`` (an embedding lookup is
    ``take(table, ids, axis=0)``); repeated indices accumulate their gradients.
    """
    idx = np.asarray(value(indices))
    if not isinstance(x, Tensor):
        return np.take(x, idx, axis=axis)
    shape, size = x.data.shape, x.data.size
    ax = None if axis is None else axis % x.ndim

    def rule(g: np.ndarray, n: tuple) -> tuple:
        if ax is None:
            flat = np.zeros(size, dtype=g.dtype)
            np.add.at(flat, idx.ravel(), g.ravel())
            return (flat.reshape(shape),)
        full = np.zeros(shape, dtype=g.dtype)
        np.add.at(full, (slice(None),) * ax + (idx,), g)  # type: ignore[arg-type]
        return (full,)

    return node(np.take(x.data, idx, axis=axis), (x,), rule)


def take_along_axis(x: Any, indices: Any, axis: int | None = -1) -> Any:
    """``np.take_along_axis``: ``indices`` has ``x``'s rank and picks along ``axis`` per position
    (e.g. the entries at ``argmax(x, axis=-1, keepdims=True)``); repeated picks accumulate gradients."""
    idx = np.asarray(value(indices))
    if not isinstance(x, Tensor):
        return np.take_along_axis(x, idx, axis=axis)
    shape = x.data.shape

    def rule(g: np.ndarray, n: tuple) -> tuple:
        full = np.zeros(shape, dtype=g.dtype)
        if axis is None:
            np.add.at(full.reshape(-1), idx, g)
            return (full,)
        ax = axis % len(shape)
        where = tuple(idx if d == ax else np.arange(n_d).reshape([-1 if e == d else 1 for e in range(len(shape))])
                      for d, n_d in enumerate(shape))
        np.add.at(full, where, g)
        return (full,)

    return node(np.take_along_axis(x.data, idx, axis=axis), (x,), rule)
