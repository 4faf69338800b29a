"""Patch extraction for channels-last (NHWC) images: convolution as one matrix product.

An image batch is ``(N, H, W, C)``. After padding to ``(N, Hp, Wp, C)``, ``windows`` views it (no copy)
as ``(N, OH, OW, KH, KW, C)``: one ``KH x KW x C`` patch per output pixel. ``im2col`` copies that view
into the column matrix ``(N*OH*OW, KH*KW*C)``, which times a ``(KH*KW*C, OC)`` kernel gives the NHWC
output directly. ``col2im`` is the adjoint: it scatter-adds patch gradients back into a padded image.
Both loop over the ``KH*KW`` kernel offsets at most, never over samples, pixels or channels.
See ``docs/convolution.md``.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .errors import InvalidValueError, ShapeError

Pair = tuple[int, int]
Padding = str | Pair


def pair(value: int | tuple[int, int] | list[int], name: str, minimum: int = 1) -> Pair:
    """``value`` (an int or two ints) as ``(height, width)`` integers ``>= minimum``."""
    items = (value, value) if isinstance(value, numbers.Integral) else value
    try:
        ok = len(items) == 2 and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= minimum
                                     for v in items)
    except TypeError:
        ok = False
    if not ok:
        raise InvalidValueError(f"{name} must be an integer >= {minimum} or a pair of them, got {value!r}")
    return int(items[0]), int(items[1])


def check_padding(padding: str | int | tuple[int, int] | list[int]) -> Padding:
    """``"valid"``, ``"same"`` or explicit ``(pad_h, pad_w)`` zeros on each side."""
    if isinstance(padding, str):
        if padding.lower() not in ("valid", "same"):
            raise InvalidValueError(f"padding must be 'valid', 'same', an int or (pad_h, pad_w), got {padding!r}")
        return padding.lower()
    return pair(padding, "padding", minimum=0)


def pad_amounts(padding: Padding, size: Pair, kernel: Pair, stride: Pair, dilation: Pair) -> tuple[Pair, Pair]:
    """``((top, bottom), (left, right))`` for an input of ``size = (H, W)``.

    ``"same"`` follows TensorFlow: the output has ``ceil(size / stride)`` pixels and the total padding is
    split with the extra pixel at the bottom/right.
    """
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        amounts = []
        for n, k, s, d in zip(size, kernel, stride, dilation):
            total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
            amounts.append((total // 2, total - total // 2))
        return amounts[0], amounts[1]
    return (padding[0], padding[0]), (padding[1], padding[1])


def output_size(size: int, kernel: int, stride: int, dilation: int, pads: Pair) -> int:
    """Output length along one axis: ``floor((size + pads - dilation*(kernel-1) - 1) / stride) + 1``."""
    return (size + sum(pads) - dilation * (kernel - 1) - 1) // stride + 1


def conv_geometry(layer: str, input_shape: tuple[int, ...], kernel: Pair, stride: Pair, dilation: Pair,
                  padding: Padding) -> tuple[tuple[Pair, Pair], Pair]:
    """``(pads, (OH, OW))`` for per-sample ``input_shape = (H, W, C)``; ``ShapeError`` if it does not fit."""
    if len(input_shape) != 3:
        raise ShapeError(f"{layer} expects images of shape (batch, height, width, channels), "
                         f"got (batch, {', '.join(map(str, input_shape))})")
    size = (input_shape[0], input_shape[1])
    pads = pad_amounts(padding, size, kernel, stride, dilation)
    out = tuple(output_size(*args) for args in zip(size, kernel, stride, dilation, pads))
    if min(out) < 1:
        span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        padded = tuple(n + sum(p) for n, p in zip(size, pads))
        raise ShapeError(f"{layer} window {span[0]}x{span[1]} is larger than its (padded) input "
                         f"{padded[0]}x{padded[1]} (input shape (batch, {', '.join(map(str, input_shape))}))")
    return pads, out


def windows(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair,
            writeable: bool = False) -> np.ndarray:
    """View of the padded batch ``xp`` ``(N, Hp, Wp, C)`` as patches ``(N, OH, OW, KH, KW, C)`` (no copy).

    ``[..., i, j, :]`` is the ``(N, OH, OW, C)`` slice of inputs that kernel offset ``(i, j)`` sees.
    Patches overlap in memory, so only write through it (``writeable=True``) one offset at a time.
    """
    sn, sh, sw, sc = xp.strides
    shape = (xp.shape[0], *out_hw, *kernel, xp.shape[3])
    strides = (sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc)
    return as_strided(xp, shape, strides, writeable=writeable)


def im2col(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair, out: np.ndarray) -> np.ndarray:
    """Copy the patches of ``xp`` into ``out``, the column matrix ``(N*OH*OW, KH*KW*C)``; returns ``out``.

    Row ``(n, oh, ow)`` holds the patch in ``(kh, kw, c)`` order. ``out`` may be row-major (``order="C"``,
    best for many channels: each patch row is copied in runs of ``KW*C``) or column-major (``order="F"``,
    best for 1-3 channels: the copy runs along image rows); ``np.dot`` takes either without a copy.
    """
    patches = windows(xp, kernel, stride, dilation, out_hw)
    rs, cs = out.strides
    c = xp.shape[3]
    dest = as_strided(out, patches.shape,
                      (out_hw[0] * out_hw[1] * rs, out_hw[1] * rs, rs, kernel[1] * c * cs, c * cs, cs))
    np.copyto(dest, patches)
    return out


def col2im(dpatches: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out: np.ndarray) -> np.ndarray:
    """Scatter-add patch gradients into the padded image gradient ``out`` ``(N, Hp, Wp, C)`` (zeroed first).

    ``dpatches`` is offset-major, ``(KH*KW, N, OH, OW, C)``: entry ``k = i*KW + j`` holds the gradient of
    the inputs seen by kernel offset ``(i, j)``. One vectorized strided add per offset; returns ``out``.
    """
    out.fill(0)
    dest = windows(out, kernel, stride, dilation, dpatches.shape[2:4], writeable=True)
    for k, part in enumerate(dpatches):
        view = dest[:, :, :, k // kernel[1], k % kernel[1], :]
        np.add(view, part, out=view)
    return out


class Workspace:
    """Scratch arrays a layer reuses from call to call; all are dropped when the input shape or dtype changes."""

    def __init__(self) -> None:
        self._key: tuple = ()
        self._arrays: dict[str, np.ndarray] = {}

    def use(self, x: np.ndarray) -> None:
        """Key the workspace to ``x``'s shape and dtype (call at the start of every forward)."""
        key = (x.shape, x.dtype)
        if key != self._key:
            self._key, self._arrays = key, {}

    def get(self, name: str, shape: tuple[int, ...], fill: float | None = None, dtype: np.dtype | None = None,
            order: str = "C") -> np.ndarray:
        """The array ``name``, created on first request (filled with ``fill`` when given, else uninitialized)."""
        arr = self._arrays.get(name)
        if arr is None:
            dtype = self._key[1] if dtype is None else dtype
            arr = np.empty(shape, dtype, order) if fill is None else np.full(shape, fill, dtype, order)
            self._arrays[name] = arr
        return arr
