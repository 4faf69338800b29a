"""Window geometry and patch views for channels-last volumes ``(N, D, H, W, C)``: the 3-D ``im2col`` set-up.

The 3-D analogues of ``im2col``'s ``pair``, ``conv_geometry`` and ``windows``: ``triple`` reads a size given as one
int or three, ``volume_geometry`` works out pads (TensorFlow's ``"same"`` rule, the extra pad cell at the end) and
output sizes, raising ``ShapeError`` when a window does not fit, and ``volume_windows`` views a padded batch as
``(N, OD, OH, OW, KD, KH, KW, C)`` patches without a copy. ``padded_volume`` pads into a reused buffer.
``Conv3D`` and the 3-D pooling layers loop over kernel offsets at most, never over samples or voxels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..core.errors import ShapeError
from ..core.workspace import Workspace
from .checks import sample_shape_error
from .im2col import Pair, axis_pads, output_size, sizes

Triple = tuple[int, int, int]
Pads3 = tuple[Pair, Pair, Pair]
LAYOUT = "depth, height, width, channels"


def triple(value: Any, name: str, minimum: int = 1) -> Triple:
    """``value`` (an int or three ints) as ``(depth, height, width)`` integers ``>= minimum``."""
    d, h, w = sizes(value, 3, name, minimum, "three of them (depth, height, width)")
    return d, h, w


def volume_axes(layer: str, input_shape: tuple[int | None, ...]) -> tuple[int | None, int | None, int | None, int]:
    """``(D, H, W, C)`` of a per-sample volume shape (``D``, ``H``, ``W`` may be ``None``); ``ShapeError`` for
    another rank or a variable number of channels."""
    if len(input_shape) != 4:
        raise sample_shape_error(layer, LAYOUT, input_shape)
    d, h, w, c = input_shape
    if c is None:
        raise ShapeError(f"{layer} needs a fixed number of channels (the last axis), got (batch, {d}, {h}, {w}, None)")
    return d, h, w, c


def axis_geometry(layer: str, input_shape: tuple[int | None, ...], axis: int, kernel: int, stride: int,
                  dilation: int, padding: str) -> tuple[Pair, int]:
    """``((before, after), output size)`` along spatial ``axis`` (0, 1, 2) of a fixed size; ``ShapeError`` when
    the (dilated) window is longer than the padded axis."""
    size = input_shape[axis]
    assert size is not None  # (callers pass fixed axes only)
    pads = axis_pads(padding, size, kernel, stride, dilation)
    out = output_size(size, kernel, stride, dilation, pads)
    if out < 1:
        span = dilation * (kernel - 1) + 1
        what = ("depth", "height", "width")[axis]
        raise ShapeError(f"{layer} window spans {span} along the {what}, more than its (padded) input's "
                         f"{size + sum(pads)} (input shape (batch, {', '.join(map(str, input_shape))}))")
    return pads, out


def volume_output(layer: str, input_shape: tuple[int | None, ...], kernel: Triple, stride: Triple,
                  dilation: Triple, padding: str) -> tuple[int | None, int | None, int | None]:
    """``(OD, OH, OW)`` for per-sample ``(D, H, W, C)``, ``None`` along a variable axis; ``ShapeError`` where a
    fixed axis is shorter than the window or the rank is wrong."""
    volume_axes(layer, input_shape)
    out = [None if input_shape[a] is None else
           axis_geometry(layer, input_shape, a, kernel[a], stride[a], dilation[a], padding)[1] for a in range(3)]
    return out[0], out[1], out[2]


def volume_geometry(layer: str, input_shape: tuple[int | None, ...], kernel: Triple, stride: Triple, dilation: Triple,
                    padding: str) -> tuple[Pads3, Triple]:
    """``(pads, (OD, OH, OW))`` for a per-sample ``input_shape = (D, H, W, C)`` whose ``D, H, W`` are fixed."""
    volume_axes(layer, input_shape)
    (pd, od), (ph, oh), (pw, ow) = (axis_geometry(layer, input_shape, a, kernel[a], stride[a], dilation[a], padding)
                                    for a in range(3))
    return (pd, ph, pw), (od, oh, ow)


def padded_volume(ws: Workspace, x: np.ndarray, pads: Pads3, name: str, fill: float = 0.0) -> np.ndarray:
    """``x`` ``(N, D, H, W, C)`` with ``pads`` cells of ``fill`` around each volume, in the reused buffer ``name``
    (its border keeps ``fill``); ``x`` itself when there is no padding."""
    if not any(p for side in pads for p in side):
        return x
    (front, back), (top, bottom), (left, right) = pads
    n, d, h, w, c = x.shape
    xp = ws.get(name, (n, d + front + back, h + top + bottom, w + left + right, c), fill=fill)
    xp[:, front:front + d, top:top + h, left:left + w] = x
    return xp


def unpadded(xp: np.ndarray, pads: Pads3, size: Triple) -> np.ndarray:
    """The inner ``(N, D, H, W, C)`` of a padded batch (a view)."""
    (front, _), (top, _), (left, _) = pads
    d, h, w = size
    return xp[:, front:front + d, top:top + h, left:left + w]


def padded_shape(n: int, size: Triple, pads: Pads3, c: int) -> tuple[int, int, int, int, int]:
    return (n, *(s + sum(p) for s, p in zip(size, pads)), c)  # type: ignore[return-value]


def volume_windows(xp: np.ndarray, kernel: Triple, stride: Triple, dilation: Triple, out: Triple,
                   writeable: bool = False) -> np.ndarray:
    """View of the padded batch ``xp`` ``(N, Dp, Hp, Wp, C)`` as patches ``(N, OD, OH, OW, KD, KH, KW, C)`` (no copy).

    ``[:, :, :, :, i, j, k]`` is the ``(N, OD, OH, OW, C)`` slice of inputs kernel offset ``(i, j, k)`` sees.
    Patches overlap in memory, so only write through it (``writeable=True``) one offset at a time.
    """
    sn, sd, sh, sw, sc = xp.strides
    shape = (xp.shape[0], *out, *kernel, xp.shape[4])
    strides = (sn, sd * stride[0], sh * stride[1], sw * stride[2],
               sd * dilation[0], sh * dilation[1], sw * dilation[2], sc)
    return as_strided(xp, shape, strides, writeable=writeable)


def offsets(kernel: Triple) -> list[Triple]:
    """Every kernel offset ``(i, j, k)`` in row-major order."""
    return [(i, j, k) for i in range(kernel[0]) for j in range(kernel[1]) for k in range(kernel[2])]
