"""Shape ops: ``reshape``, ``expand_dims``, ``squeeze``, ``ravel``, ``transpose``, ``swapaxes``, ``moveaxis``,
``broadcast_to``, ``concatenate``, ``stack``, ``split``, ``tile``, ``repeat``, ``pad``.

Their gradients only move numbers back where they came from (reshape back, split the gradient of a
concatenation, sum the copies made by tile/repeat/broadcast).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from .tape import Tensor, node, value

Shape = int | Sequence[int]


def _reshaping(np_fn: Any, x: Any, *args: Any) -> Any:
    """An op that only changes the shape (a view): its gradient is reshaped back."""
    if not isinstance(x, Tensor):
        return np_fn(x, *args)
    shape = x.data.shape
    return node(np_fn(x.data, *args), (x,), lambda g, n: (np.reshape(g, shape),))


def reshape(x: Any, newshape: Shape) -> Any:
    """The same entries in shape ``newshape`` (one entry may be -1)."""
    return _reshaping(np.reshape, x, newshape)


def expand_dims(x: Any, axis: Shape) -> Any:
    """Insert axes of length 1 at ``axis``."""
    return _reshaping(np.expand_dims, x, axis)


def squeeze(x: Any, axis: Shape | None = None) -> Any:
    """Drop axes of length 1 (all of them, or those in ``axis``)."""
    return _reshaping(np.squeeze, x, axis)


def ravel(x: Any) -> Any:
    """The entries as a 1-D array (C order)."""
    return _reshaping(np.ravel, x)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Any:
    """Permute the axes (reverse them by default); ``x.T`` is ``transpose(x)``."""
    if not isinstance(x, Tensor):
        return np.transpose(x, axes)
    inverse = None if axes is None else np.argsort([a % x.ndim for a in axes])
    return node(np.transpose(x.data, axes), (x,), lambda g, n: (np.transpose(g, inverse),))


def swapaxes(x: Any, axis1: int, axis2: int) -> Any:
    """Exchange two axes."""
    if not isinstance(x, Tensor):
        return np.swapaxes(x, axis1, axis2)
    return node(np.swapaxes(x.data, axis1, axis2), (x,), lambda g, n: (np.swapaxes(g, axis1, axis2),))


def moveaxis(x: Any, source: Shape, destination: Shape) -> Any:
    """Move axes to new positions, the others keeping their order."""
    if not isinstance(x, Tensor):
        return np.moveaxis(x, source, destination)
    return node(np.moveaxis(x.data, source, destination), (x,),
                  lambda g, n: (np.moveaxis(g, destination, source),))


def broadcast_to(x: Any, shape: Sequence[int]) -> Any:
    """``x`` repeated along new or length-1 axes to ``shape`` (NumPy broadcasting; a read-only view)."""
    if not isinstance(x, Tensor):
        return np.broadcast_to(x, shape)
    return node(np.broadcast_to(x.data, shape), (x,), lambda g, n: (g,))  # the tape sums the copies


def concatenate(xs: Sequence[Any], axis: int | None = 0) -> Any:
    """Join arrays along an existing ``axis`` (flattened first when None)."""
    if not any(isinstance(x, Tensor) for x in xs):
        return np.concatenate(xs, axis=axis)
    data = [np.asarray(value(x)) for x in xs]
    shapes = [d.shape for d in data]
    sizes = [d.size if axis is None else d.shape[axis] for d in data]
    cuts = np.cumsum(sizes)[:-1]

    def rule(g: np.ndarray, n: tuple) -> tuple:
        parts = np.split(g, cuts, axis=0 if axis is None else axis)
        return tuple(np.reshape(p, s) if need else None for p, s, need in zip(parts, shapes, n))

    return node(np.concatenate(data, axis=axis), tuple(xs), rule)


def stack(xs: Sequence[Any], axis: int = 0) -> Any:
    """Join same-shape arrays along a new ``axis``."""
    if not any(isinstance(x, Tensor) for x in xs):
        return np.stack(xs, axis=axis)
    out = np.stack([value(x) for x in xs], axis=axis)
    return node(out, tuple(xs), lambda g, n: tuple(np.moveaxis(g, axis, 0)))


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Any]:
    """``np.split``: ``x`` cut along ``axis`` into equal sections, or at the given indices; a list."""
    if not isinstance(x, Tensor):
        return np.split(x, indices_or_sections, axis=axis)
    pieces = np.split(x.data, indices_or_sections, axis=axis)
    shape, ax = x.data.shape, axis % x.ndim
    out, start = [], 0
    for piece in pieces:
        index = (slice(None),) * ax + (slice(start, start + piece.shape[ax]),)
        start += piece.shape[ax]

        def rule(g: np.ndarray, n: tuple, index: tuple = index) -> tuple:
            full = np.zeros(shape, dtype=g.dtype)
            full[index] = g
            return (full,)

        out.append(node(piece, (x,), rule))
    return out


def tile(x: Any, repeats: Shape) -> Any:
    """``x`` repeated ``repeats`` times along each axis (``np.tile``)."""
    if not isinstance(x, Tensor):
        return np.tile(x, repeats)
    reps = (int(repeats),) if isinstance(repeats, (int, np.integer)) else tuple(int(r) for r in repeats)
    nd = max(x.ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + reps
    padded = (1,) * (nd - x.ndim) + x.shape
    shape = x.shape

    def rule(g: np.ndarray, n: tuple) -> tuple:
        interleaved = [d for pair in zip(reps, padded) for d in pair]
        return (g.reshape(interleaved).sum(axis=tuple(range(0, 2 * nd, 2))).reshape(shape),)

    return node(np.tile(x.data, reps), (x,), rule)


def repeat(x: Any, repeats: int | Sequence[int], axis: int | None = None) -> Any:
    """Each entry repeated ``repeats`` times (an int, or one count per entry) along ``axis`` (flattened if None)."""
    if not isinstance(x, Tensor):
        return np.repeat(x, repeats, axis=axis)
    shape = x.data.shape
    src = x.data.ravel() if axis is None else x.data
    ax = 0 if axis is None else axis % x.ndim
    counts = np.broadcast_to(np.asarray(repeats, dtype=np.intp), (src.shape[ax],))

    def rule(g: np.ndarray, n: tuple) -> tuple:
        if g.shape[ax] == 0:
            return (np.zeros(shape, dtype=g.dtype),)
        if np.all(counts == counts[0]):
            split_shape = src.shape[:ax] + (src.shape[ax], int(counts[0])) + src.shape[ax + 1:]
            return (g.reshape(split_shape).sum(axis=ax + 1).reshape(shape),)
        summed = np.zeros(src.shape, dtype=g.dtype)
        np.add.at(summed, (slice(None),) * ax + (np.repeat(np.arange(len(counts)), counts),), g)  # type: ignore[arg-type]
        return (summed.reshape(shape),)

    return node(np.repeat(x.data, repeats, axis=axis), (x,), rule)


_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(x: Any, pad_width: Any, mode: Any = "constant", constant_values: float = 0) -> Any:
    """``np.pad``: ``pad_width`` is ((before, after),) per axis (or one pair / one int for all axes).

    Differentiable for ``mode`` "constant", "edge", "reflect", "symmetric" and "wrap".
    """
    if not isinstance(x, Tensor):
        if mode == "constant":
            return np.pad(x, pad_width, mode=mode, constant_values=constant_values)
        return np.pad(x, pad_width, mode=mode)
    xd = x.data
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (xd.ndim, 2))
    if mode == "constant":
        inner = tuple(slice(int(b), int(b) + n) for (b, _), n in zip(widths, xd.shape))
        out = np.pad(xd, widths, mode=mode, constant_values=constant_values)
        return node(out, (x,), lambda g, n: (g[inner],))
    if mode not in _INDEX_MODES:
        raise InvalidValueError(f"pad mode {mode!r} is not differentiable; expected 'constant' or one of "
                                f"{_INDEX_MODES}")
    source = np.pad(np.arange(xd.size).reshape(xd.shape), widths, mode=mode)  # which input entry each output copies
    size, shape = xd.size, xd.shape
    return node(np.pad(xd, widths, mode=mode), (x,),
                  lambda g, n: (np.bincount(source.ravel(), weights=g.ravel(), minlength=size).reshape(shape),))
