"""Column-matrix helpers: gathered against copied patches, blocked products against plain ones."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.core.workspace import Workspace
from nnscratch.layers.im2col import (
    blocked_inner,
    blocked_matmul,
    column_layout,
    columns,
    gather,
    im2col,
    padded,
    patch_index,
    pixel_pieces,
    row_blocks,
    scatter_products,
)


@pytest.mark.parametrize("dtype, channels", [(np.float32, 8), (np.float32, 16), (np.float64, 4), (np.float64, 8),
                                             (np.float32, 5), (np.float32, 1)])
@pytest.mark.parametrize("kernel, stride, dilation", [((3, 3), (1, 1), (1, 1)), ((3, 4), (1, 2), (1, 1)),
                                                      ((2, 3), (2, 1), (1, 2))])
def test_gathered_columns_equal_copied_columns(kernel: tuple, stride: tuple, dilation: tuple, dtype: type,
                                               channels: int) -> None:
    xp = np.random.default_rng(0).standard_normal((2, 9, 10, channels)).astype(dtype)
    out_hw = tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(xp.shape[1:3], kernel, stride, dilation))
    cols = np.empty((2 * out_hw[0] * out_hw[1], kernel[0] * kernel[1] * channels), dtype)
    copied = im2col(xp, kernel, stride, dilation, out_hw, cols).copy()
    pieces = pixel_pieces(channels, xp.itemsize) or 1
    index = patch_index(xp.shape, kernel, stride, dilation, out_hw, pieces)
    np.testing.assert_array_equal(gather(xp, index, np.empty_like(copied)), copied)


def test_pixel_pieces_and_column_layout() -> None:
    assert [pixel_pieces(c, 4) for c in (1, 5, 8, 10, 16, 24, 64)] == [1, 1, 1, 0, 2, 3, 8]
    assert [column_layout(c, 4) for c in (1, 3, 4, 8, 16, 24, 10)] == ["F", "F", "gather", "gather", "gather", "C", "C"]
    assert column_layout(4, 8) == "gather" and column_layout(5, 8) == "C"


@pytest.mark.parametrize("rows", [0, 1, 7, 255, 256, 6272, 50176, 2 * 3 * 5 * 7 * 11 * 13, 65537])
def test_row_blocks_divide_the_rows(rows: int) -> None:
    blocks = row_blocks(rows, target=256)
    assert blocks >= 1 and rows % blocks == 0
    if rows in (6272, 50176):
        assert rows // blocks in (224, 256)


@pytest.mark.parametrize("order", ["C", "F", "strided"])
@pytest.mark.parametrize("rows", [12, 1000, 6272])
def test_blocked_products_equal_plain_products(rows: int, order: str) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((rows, 2 * 13))
    a = a[:, ::2] if order == "strided" else np.asarray(a[:, :13], order=order)
    b, g = rng.standard_normal((13, 5)), rng.standard_normal((rows, 5))
    np.testing.assert_allclose(blocked_matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
    out = np.empty((rows, 5))
    assert blocked_matmul(a, b, out=out) is out
    np.testing.assert_allclose(blocked_inner(a, g), a.T @ g, rtol=1e-10, atol=1e-10)


def _naive_columns(xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, out_hw: tuple) -> np.ndarray:
    """The column matrix by explicit loops over output pixels and kernel offsets (a reference only)."""
    n, c = xp.shape[0], xp.shape[3]
    cols = np.empty((n, *out_hw, *kernel, c), xp.dtype)
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            for a in range(kernel[0]):
                for b in range(kernel[1]):
                    cols[:, i, j, a, b] = xp[:, i * stride[0] + a * dilation[0], j * stride[1] + b * dilation[1]]
    return cols.reshape(n * out_hw[0] * out_hw[1], -1)


@pytest.mark.parametrize("channels", [1, 3, 4, 8, 16, 24])  # every column_layout: "F", "gather", "C"
@pytest.mark.parametrize("kernel, stride, dilation", [((3, 3), (1, 1), (1, 1)), ((1, 4), (1, 2), (1, 2))])
def test_columns_of_padded_input_match_loops(channels: int, kernel: tuple, stride: tuple, dilation: tuple) -> None:
    x = np.random.default_rng(1).standard_normal((2, 6, 7, channels)).astype(np.float32)
    pads = ((1, 2), (0, 3))
    ws = Workspace()
    ws.use(x)
    xp = padded(ws, x, pads, "xp")
    np.testing.assert_array_equal(xp, np.pad(x, ((0, 0), *pads, (0, 0))))
    assert padded(ws, x, ((0, 0), (0, 0)), "none") is x
    out_hw = tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(xp.shape[1:3], kernel, stride, dilation))
    expected = _naive_columns(xp, kernel, stride, dilation, out_hw)
    np.testing.assert_array_equal(columns(ws, "cols", xp, kernel, stride, dilation, out_hw), expected)
    if column_layout(channels, x.itemsize) != "gather":  # a ones column after the patches
        with_ones = columns(ws, "ones", xp, kernel, stride, dilation, out_hw, ones_column=True)
        np.testing.assert_array_equal(with_ones[:, :-1], expected)
        np.testing.assert_array_equal(with_ones[:, -1], 1)


@pytest.mark.parametrize("kernel, stride, dilation", [((3, 3), (1, 1), (1, 1)), ((2, 3), (2, 1), (1, 2))])
def test_scatter_products_is_the_adjoint_of_columns_times_kernel(kernel: tuple, stride: tuple,
                                                                 dilation: tuple) -> None:
    """<columns(xp) @ K, r> == <xp, scatter_products(r, K.T)>: the input gradient of a convolution."""
    rng = np.random.default_rng(2)
    c, oc, padded_hw = 3, 5, (8, 9)
    out_hw = tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(padded_hw, kernel, stride, dilation))
    xp = rng.standard_normal((2, *padded_hw, c))
    kernel_matrix = rng.standard_normal((kernel[0] * kernel[1] * c, oc))
    r = rng.standard_normal((2 * out_hw[0] * out_hw[1], oc))
    ws = Workspace()
    ws.use(xp)
    cols = columns(ws, "cols", xp, kernel, stride, dilation, out_hw)
    kernels = kernel_matrix.reshape(kernel[0] * kernel[1], c, oc).transpose(0, 2, 1)  # (KH*KW, OC, C)
    scattered = scatter_products(ws, r, kernels, kernel, stride, dilation, out_hw, padded_hw).copy()
    assert scattered.shape == xp.shape
    np.testing.assert_allclose(np.sum(xp * scattered), np.sum((cols @ kernel_matrix) * r), rtol=1e-12)
    again = scatter_products(ws, r, kernels, kernel, stride, dilation, out_hw, padded_hw)  # the reused buffer
    np.testing.assert_array_equal(again, scattered)  # is zeroed before the adds
