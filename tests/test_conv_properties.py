"""Shape contracts of Conv2D and the pools over many random configurations (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnscratch.core.errors import ShapeError
from nnscratch.layers import AvgPool2D, Conv2D, MaxPool2D

FAST = settings(max_examples=40, deadline=None)
sizes = st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9), st.integers(1, 4))  # N, H, W, C
windows = st.tuples(st.integers(1, 4), st.integers(1, 4))
steps = st.tuples(st.integers(1, 3), st.integers(1, 3))
paddings = st.one_of(st.sampled_from(["valid", "same"]), st.tuples(st.integers(0, 2), st.integers(0, 2)))


def expected_size(n: int, k: int, s: int, d: int, padding: str | tuple[int, int], axis: int) -> int:
    """Output length by the documented formulas, written independently of the library."""
    if padding == "same":
        return -(-n // s)
    pad = 0 if padding == "valid" else 2 * padding[axis]
    return (n + pad - d * (k - 1) - 1) // s + 1


@FAST
@given(size=sizes, filters=st.integers(1, 4), kernel=windows, stride=steps, dilation=steps, padding=paddings,
       use_bias=st.booleans())
def test_conv_shape_contract(size, filters, kernel, stride, dilation, padding, use_bias) -> None:
    n, h, w, c = size
    oh, ow = (expected_size(sz, k, s, d, padding, i)
              for i, (sz, k, s, d) in enumerate(zip((h, w), kernel, stride, dilation)))
    layer = Conv2D(filters, kernel, stride, padding, dilation, use_bias).set_dtype(np.float64)
    x = np.random.default_rng(0).standard_normal(size)
    if min(oh, ow) < 1:
        with pytest.raises(ShapeError):
            layer.forward(x)
        return
    y = layer.forward(x, training=True)
    assert y.shape == (n, oh, ow, filters)
    g = np.random.default_rng(1).standard_normal(y.shape)
    dx = layer.backward(g)
    assert dx.shape == x.shape
    assert layer.weight.grad.shape == layer.weight.shape == (*kernel, c, filters)
    assert (layer.bias is not None) == use_bias
    if use_bias:
        assert layer.bias.grad.shape == (filters,)
        np.testing.assert_allclose(layer.bias.grad, g.sum(axis=(0, 1, 2)))
    # The convolution is bilinear in (x, weight), and backward gives its adjoints:
    # <conv(x), g> == <x, dx> == <weight, dweight>.
    linear = np.sum((y - layer.bias.data if use_bias else y) * g)
    assert np.sum(x * dx) == pytest.approx(linear, rel=1e-9, abs=1e-9)
    assert np.sum(layer.weight.data * layer.weight.grad) == pytest.approx(linear, rel=1e-9, abs=1e-9)


@FAST
@given(size=sizes, pool=windows, stride=st.one_of(st.none(), steps), padding=st.sampled_from(["valid", "same"]),
       kind=st.sampled_from([MaxPool2D, AvgPool2D]))
def test_pool_shape_contract(size, pool, stride, padding, kind) -> None:
    n, h, w, c = size
    strides = pool if stride is None else stride
    oh, ow = (expected_size(sz, k, s, 1, padding, i) for i, (sz, k, s) in enumerate(zip((h, w), pool, strides)))
    layer = kind(pool, stride, padding).set_dtype(np.float64)
    x = np.random.default_rng(0).standard_normal(size)
    if min(oh, ow) < 1:
        with pytest.raises(ShapeError):
            layer.forward(x)
        return
    y = layer.forward(x)
    assert y.shape == (n, oh, ow, c)
    g = np.random.default_rng(1).standard_normal(y.shape)
    dx = layer.backward(g)
    assert dx.shape == x.shape
    # Max routes each gradient to one input; average spreads it: both conserve the total gradient
    # unless a window includes padding (average only) -- so compare the max case exactly.
    if kind is MaxPool2D:
        assert dx.sum() == pytest.approx(g.sum())
        assert np.all((dx != 0).sum() <= g.size)
