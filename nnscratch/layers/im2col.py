"""Patch extraction for channels-last (NHWC) images: convolution as one matrix product.

An image batch is ``(N, H, W, C)``. After padding to ``(N, Hp, Wp, C)``, ``windows`` views it (no copy)
as ``(N, OH, OW, KH, KW, C)``: one ``KH x KW x C`` patch per output pixel. ``im2col`` copies that view
into the column matrix ``(N*OH*OW, KH*KW*C)``, which times a ``(KH*KW*C, OC)`` kernel gives the NHWC
output directly; small pixels are faster gathered with one ``np.take`` (``gather``, ``patch_index``).
``col2im`` is the adjoint: it scatter-adds patch gradients back into a padded image. They loop over the
``KH*KW`` kernel offsets at most, never over samples, pixels or channels. ``padded``, ``columns`` and
``scatter_products`` are the set-up every convolution layer shares, in a call's reused buffers: pad, fill
the column matrix the fastest way, scatter patch products back. ``blocked_matmul`` and
``blocked_inner`` multiply the tall, thin column matrix block of rows by block of rows.
See ``docs/convolution.md``.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..core.errors import InvalidValueError, ShapeError
from ..core.workspace import Workspace

Pair = tuple[int, int]
Padding = str | Pair


def pair(value: int | tuple[int, int] | list[int], name: str, minimum: int = 1) -> Pair:
    """``value`` (an int or two ints) as ``(height, width)`` integers ``>= minimum``."""
    h, w = sizes(value, 2, name, minimum, "a pair of them")
    return h, w


def sizes(value: Any, count: int, name: str, minimum: int, several: str) -> tuple[int, ...]:
    """``value`` (an int, or ``count`` ints) as ``count`` integers ``>= minimum``; ``InvalidValueError`` naming
    ``several`` (how the ``count`` form reads: "a pair of them") otherwise."""
    items: Any = (value,) * count if isinstance(value, numbers.Integral) else value  # checked below
    try:
        ok = len(items) == count and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= minimum for v in items)
    except TypeError:
        ok = False
    if not ok:
        raise InvalidValueError(f"{name} must be an integer >= {minimum} or {several}, got {value!r}")
    return tuple(int(v) for v in items)


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
    if isinstance(padding, str):
        return (axis_pads(padding, size[0], kernel[0], stride[0], dilation[0]),
                axis_pads(padding, size[1], kernel[1], stride[1], dilation[1]))
    return (padding[0], padding[0]), (padding[1], padding[1])


def axis_pads(padding: str, size: int, kernel: int, stride: int, dilation: int) -> Pair:
    """``(before, after)`` zeros along one axis of ``size`` cells for ``"valid"`` (none) or ``"same"``
    (TensorFlow's rule: ``ceil(size / stride)`` outputs, the extra pad cell after)."""
    if padding == "valid":
        return 0, 0
    total = max((-(-size // stride) - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


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
    oh, ow = (output_size(*args) for args in zip(size, kernel, stride, dilation, pads))
    out = (oh, ow)
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


# np.take copies items of up to 32 bytes with specialised loops, larger ones with memmove: gathering
# pixels in pieces of 32 bytes is faster than in whole pixels of 64 bytes or more.
PIECE_BYTES = 32
GATHER_MAX_PIECES = 2  # beyond, im2col's strided copy (runs of KW*C values) is as fast


def pixel_pieces(channels: int, itemsize: int) -> int:
    """How many equal pieces of at most ``PIECE_BYTES`` a pixel is gathered in; 0 if it does not split evenly."""
    size = channels * itemsize
    if size <= PIECE_BYTES:
        return 1
    return size // PIECE_BYTES if size % PIECE_BYTES == 0 else 0


def column_layout(channels: int, itemsize: int) -> str:
    """How ``im2col`` fills the column matrix fastest for pixels of ``channels`` values of ``itemsize`` bytes.

    ``"F"``: column-major, strided copy along image rows (1-3 channels); ``"gather"``: row-major, one
    ``np.take`` of pixel pieces (``gather_index``); ``"C"``: row-major, strided copy in runs of ``KW*C``
    values (large pixels).
    """
    if channels <= 3:
        return "F"
    return "gather" if 0 < pixel_pieces(channels, itemsize) <= GATHER_MAX_PIECES else "C"


def gather_index(pixels: np.ndarray, pieces: int) -> np.ndarray:
    """Indices for ``gather`` of the pixels numbered ``pixels``, each in ``pieces`` consecutive pieces."""
    return (pixels.reshape(-1, 1) * pieces + np.arange(pieces)).ravel()


def gather(src: np.ndarray, index: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` (contiguous) with the pixel pieces of ``src`` that ``index`` (``gather_index``) names."""
    if not len(index):  # an empty batch
        return out
    piece = out.size // len(index)
    # mode="clip" (the indices are in range) avoids the output buffering of the default "raise".
    src.reshape(-1, piece).take(index, axis=0, out=out.reshape(-1, piece), mode="clip")
    return out


def patch_index(padded_shape: tuple[int, ...], kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair,
                pieces: int = 1) -> np.ndarray:
    """``gather`` indices of every patch cell of ``xp`` ``(N, Hp, Wp, C)``, in column-matrix order.

    They are the patches of the image of pixel numbers, so ``gather(xp, index, cols)`` is the column matrix.
    """
    n, hp, wp = padded_shape[:3]
    numbers = np.arange(n * hp * wp).reshape(n, hp, wp, 1)
    return gather_index(windows(numbers, kernel, stride, dilation, out_hw), pieces)


def im2col(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair, out: np.ndarray) -> np.ndarray:
    """Copy the patches of ``xp`` into ``out``, the column matrix ``(N*OH*OW, KH*KW*C)``; returns ``out``.

    Row ``(n, oh, ow)`` holds the patch in ``(kh, kw, c)`` order. ``out`` may be row-major (``order="C"``,
    best for many channels: each patch row is copied in runs of ``KW*C``) or column-major (``order="F"``,
    best for 1-3 channels: the copy runs along image rows); ``np.dot`` takes either without a copy.
    For small pixels ``gather`` with ``patch_index`` is faster.
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


def padded(ws: Workspace, x: np.ndarray, pads: tuple[Pair, Pair], name: str) -> np.ndarray:
    """``x`` ``(N, H, W, C)`` with ``pads = ((top, bottom), (left, right))`` zeros around each image, in the
    reused buffer ``name`` (its border stays zero); ``x`` itself when there is no padding."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    n, h, w, c = x.shape
    xp = ws.get(name, (n, h + top + bottom, w + left + right, c), fill=0)
    xp[:, top:top + h, left:left + w] = x
    return xp


def columns(ws: Workspace, name: str, xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair,
            ones_column: bool = False) -> np.ndarray:
    """The column matrix ``(N*OH*OW, KH*KW*C)`` of the padded batch ``xp``, in the reused buffer ``name``, filled
    the fastest way for its pixels (``column_layout``: a strided copy, or ``gather`` with an index kept in
    ``ws``); ``ones_column`` appends a column of ones (the bias row of the kernel matrix), not with ``gather``."""
    n, c = xp.shape[0], xp.shape[3]
    layout = column_layout(c, xp.itemsize)
    width = kernel[0] * kernel[1] * c
    cols = ws.get(name, (n * out_hw[0] * out_hw[1], width + int(ones_column)),
                  fill=1 if ones_column else None, order="F" if layout == "F" else "C")
    if layout != "gather":
        im2col(xp, kernel, stride, dilation, out_hw, cols[:, :width] if ones_column else cols)  # ones stay
        return cols
    assert not ones_column, "the gathered layout has no room for a ones column"
    index = ws.memo(f"{name} index", lambda: patch_index(xp.shape, kernel, stride, dilation, out_hw,
                                                           pixel_pieces(c, xp.itemsize)))
    return gather(xp, index, cols)


def scatter_products(ws: Workspace, rows: np.ndarray, kernels: np.ndarray, kernel: Pair, stride: Pair,
                     dilation: Pair, grid: Pair, padded_hw: Pair) -> np.ndarray:
    """``col2im`` of patch products: ``rows`` ``(N*GH*GW, A)``, one per pixel of a ``grid = (GH, GW)``, times each
    kernel offset's matrix of ``kernels`` ``(KH*KW, A, C)``, scatter-added into the zeroed padded image
    ``(N, *padded_hw, C)`` (reused buffers of ``ws``), which is returned. A convolution's input gradient is this
    with ``rows`` the output gradient; a transposed convolution's output, with ``rows`` its input."""
    kk, _, c = kernels.shape
    n = len(rows) // (grid[0] * grid[1])
    products = np.matmul(rows, kernels, out=ws.get("patch products", (kk, len(rows), c)))  # offset-major
    out = ws.get("scattered", (n, *padded_hw, c))
    return col2im(products.reshape(kk, n, *grid, c), kernel, stride, dilation, out)


# Rows per block in the products below: OpenBLAS multiplies a tall, thin column matrix 1.3-2x faster as a
# batch of blocks of a few hundred rows (np.matmul over a stacked view, one BLAS call per block) than whole.
BLOCK_ROWS = 256


@functools.lru_cache(maxsize=64)
def row_blocks(rows: int, target: int = BLOCK_ROWS) -> int:
    """The number of equal blocks ``rows`` splits into whose size is closest to ``target`` (1 if none)."""
    if rows <= target:
        return 1
    divisors = (d for i in range(1, int(rows ** 0.5) + 1) if rows % i == 0 for d in (i, rows // i))
    return min(divisors, key=lambda blocks: abs(rows // blocks - target))


def _blocks(a: np.ndarray, blocks: int) -> np.ndarray:
    """``a`` ``(M, K)`` (any strides) as ``(blocks, M / blocks, K)``, without a copy."""
    m, k = a.shape
    if a.flags.c_contiguous:  # (a reshape is much cheaper than as_strided)
        return a.reshape(blocks, m // blocks, k)
    if a.flags.f_contiguous:
        return a.T.reshape(k, blocks, m // blocks).transpose(1, 2, 0)
    return as_strided(a, (blocks, m // blocks, k), (a.strides[0] * (m // blocks), *a.strides), writeable=False)


def blocked_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` for a tall ``a`` ``(M, K)`` and a small ``b`` ``(K, N)``, block of rows by block of rows."""
    if out is None:
        out = np.empty((len(a), b.shape[1]), np.result_type(a, b))
    blocks = row_blocks(len(a))
    np.matmul(_blocks(a, blocks), b, out=out.reshape(blocks, -1, b.shape[1]))
    return out


def blocked_inner(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``a.T @ g`` ``(K, N)`` for tall ``a`` ``(M, K)`` and ``g`` ``(M, N)``: the sum of the blocks' products."""
    blocks = row_blocks(len(a))
    return np.matmul(_blocks(a, blocks).transpose(0, 2, 1), _blocks(g, blocks)).sum(axis=0)
