"""Resampling images at computed points: the shared machinery of the geometric augmentation layers.

Every output pixel ``(n, i, j)`` reads the input at a source point ``(ys[n, i, j], xs[n, i, j])``: with
``"bilinear"`` interpolation from its four neighbouring pixels, with ``"nearest"`` from the closest one.
A neighbour outside the image is brought in by the fill mode (Keras's): ``"reflect"`` ``(d c b a | a b c d |
d c b a)``, ``"wrap"`` ``(a b c d | a b c d)``, ``"nearest"`` ``(a a | a b c d | d d)`` or ``"constant"`` (the
``fill_value``). The result is a list of *taps*, ``(flat source pixel, weight)`` per output pixel, so the
forward pass is a few ``np.take`` calls and the backward pass (the exact adjoint) one ``np.bincount``.
"""

from __future__ import annotations

import numpy as np

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")

Taps = list[tuple[np.ndarray, np.ndarray]]  # (flat source pixel (N*H*W,), weight (N*H*W,)) per neighbour


def fill_index(index: np.ndarray, size: int, fill_mode: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Integer positions along an axis of ``size`` pixels mapped inside it; for ``"constant"`` also which
    positions were inside (the others read the fill value)."""
    if fill_mode == "reflect":
        period = index % (2 * size)
        return np.where(period < size, period, 2 * size - 1 - period), None
    if fill_mode == "wrap":
        return index % size, None
    inside = (index >= 0) & (index < size) if fill_mode == "constant" else None
    return np.clip(index, 0, size - 1), inside


def sample_taps(ys: np.ndarray, xs: np.ndarray, height: int, width: int, fill_mode: str,
                interpolation: str) -> tuple[Taps, np.ndarray | None]:
    """The taps that read source points ``(ys, xs)`` ``(N, H', W')`` of ``(N, height, width, C)`` images, and for
    ``"constant"`` the weight each output pixel gives the fill value ``(N*H'*W',)`` (None otherwise)."""
    n = len(ys)
    if interpolation == "nearest":
        corners = [(np.floor(ys + 0.5), np.floor(xs + 0.5), None)]
    else:
        y0, x0 = np.floor(ys), np.floor(xs)
        dy, dx = ys - y0, xs - x0
        corners = [(y0, x0, (1 - dy) * (1 - dx)), (y0, x0 + 1, (1 - dy) * dx),
                   (y0 + 1, x0, dy * (1 - dx)), (y0 + 1, x0 + 1, dy * dx)]
    first = (np.arange(n) * (height * width))[:, None, None]
    taps: Taps = []
    outside = None
    for cy, cx, weight in corners:
        rows, row_in = fill_index(cy.astype(np.int64), height, fill_mode)
        cols, col_in = fill_index(cx.astype(np.int64), width, fill_mode)
        w = np.ones(ys.shape, ys.dtype) if weight is None else weight
        if row_in is not None and col_in is not None:
            inside = row_in & col_in
            lost = np.where(inside, 0, w)
            outside = lost if outside is None else outside + lost
            w = np.where(inside, w, 0)
        taps.append(((first + rows * width + cols).reshape(-1), w.reshape(-1)))
    return taps, None if outside is None else outside.reshape(-1)


def apply_taps(x: np.ndarray, taps: Taps, shape: tuple[int, ...], outside: np.ndarray | None = None,
               fill_value: float = 0.0) -> np.ndarray:
    """The resampled images ``shape`` ``(N, H', W', C)`` from ``x`` ``(N, H, W, C)``."""
    pixels = x.reshape(-1, x.shape[-1])
    out = np.zeros((taps[0][0].size, x.shape[-1]), x.dtype)
    for index, weight in taps:
        out += np.take(pixels, index, axis=0) * weight.astype(x.dtype, copy=False)[:, None]
    if outside is not None and fill_value:
        out += (outside * fill_value).astype(x.dtype)[:, None]
    return out.reshape(shape)


def adjoint_taps(grad: np.ndarray, taps: Taps, input_shape: tuple[int, ...]) -> np.ndarray:
    """dL/dx ``input_shape`` from dL/d(resampled) ``grad``: each output gradient, times its tap weights, added to
    the source pixels it was read from."""
    c = grad.shape[-1]
    g = grad.reshape(-1, c)
    index = np.concatenate([(i[:, None] * c + np.arange(c)).reshape(-1) for i, _ in taps])
    weights = np.concatenate([(g * w[:, None]).reshape(-1) for _, w in taps])
    dx = np.bincount(index, weights=weights, minlength=int(np.prod(input_shape)))
    return dx.reshape(input_shape).astype(grad.dtype, copy=False)
