"""1-D and global pooling, UpSampling2D, Cropping2D, ZeroPadding2D: references, finite differences, ties."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.utils.gradcheck import check_module

TOL = 1e-7

POOL1D = [dict(), dict(pool_size=3, strides=1), dict(pool_size=3, strides=2, padding="same"),
          dict(pool_size=2, padding="same"), dict(pool_size=3, strides=2, padding=1), dict(pool_size=2, strides=3)]


def pool1d_reference(x: np.ndarray, layer: nn.MaxPool1D | nn.AvgPool1D) -> np.ndarray:
    """Max or mean of the real (unpadded) steps of every window, by a loop over windows."""
    k, s = layer.pool_size, layer.strides
    if layer.padding == "same":
        total = max((-(-x.shape[1] // s) - 1) * s + k - x.shape[1], 0)
        pads = (total // 2, total - total // 2)
    else:
        pads = (0, 0) if layer.padding == "valid" else (layer.padding, layer.padding)
    xp = np.pad(x, ((0, 0), pads, (0, 0)), constant_values=np.nan)
    reduce = np.nanmax if isinstance(layer, nn.MaxPool1D) else np.nanmean
    out = (xp.shape[1] - k) // s + 1
    return np.stack([reduce(xp[:, t * s:t * s + k], axis=1) for t in range(out)], axis=1)


@pytest.mark.parametrize("cls", [nn.MaxPool1D, nn.AvgPool1D])
@pytest.mark.parametrize("config", POOL1D, ids=str)
def test_pool1d_matches_reference_and_finite_differences(cls: type, config: dict) -> None:
    x = np.random.default_rng(0).standard_normal((2, 9, 3))
    layer = cls(**config).set_dtype(np.float64)
    np.testing.assert_allclose(layer.forward(x), pool1d_reference(x, layer), rtol=1e-12)
    assert check_module(cls(**config), x)["input"] < TOL


def test_pool1d_keras_names_and_defaults() -> None:
    assert nn.MaxPooling1D is nn.MaxPool1D and nn.AveragePooling1D is nn.AvgPool1D
    assert nn.MaxPool1D(3).strides == 3 and nn.AvgPool1D(3, strides=1).strides == 1
    assert nn.MaxPool1D().forward(np.zeros((2, 7, 4), np.float32)).shape == (2, 3, 4)


def test_max_pool1d_routes_ties_to_the_first_step() -> None:
    x = np.array([[[1.0], [1.0], [0.0], [2.0]]], np.float32)
    pool = nn.MaxPool1D()
    dx = pool.backward(np.ones_like(pool.forward(x)))
    np.testing.assert_array_equal(dx[0, :, 0], [1, 0, 0, 1])


@pytest.mark.parametrize(("cls", "shape"), [(nn.GlobalMaxPool1D, (2, 5, 3)), (nn.GlobalMaxPool2D, (2, 4, 3, 3)),
                                             (nn.GlobalAvgPool1D, (2, 5, 3))])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(cls: type, shape: tuple, keepdims: bool) -> None:
    x = np.random.default_rng(1).standard_normal(shape)
    axes = tuple(range(1, len(shape) - 1))
    expected = (x.max if "Max" in cls.__name__ else x.mean)(axis=axes, keepdims=keepdims)
    layer = cls(keepdims=keepdims).set_dtype(np.float64)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12)
    assert check_module(cls(keepdims=keepdims), x)["input"] < TOL


def test_global_max_routes_to_the_first_maximum() -> None:
    x = np.zeros((1, 2, 2, 2), np.float32)
    x[0, 1, 0, 1] = x[0, 1, 1, 1] = 3
    pool = nn.GlobalMaxPooling2D()
    np.testing.assert_array_equal(pool.forward(x), [[0, 3]])
    dx = pool.backward(np.array([[5.0, 7.0]], np.float32))
    assert dx[0, 0, 0, 0] == 5 and dx[0, 1, 0, 1] == 7 and dx.sum() == 12
    assert nn.GlobalMaxPooling1D is nn.GlobalMaxPool1D and nn.GlobalAveragePooling1D is nn.GlobalAvgPool1D


@pytest.mark.parametrize("size", [2, (2, 3), (1, 2)])
def test_upsampling_nearest(size: int | tuple) -> None:
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 2))
    sh, sw = (size, size) if isinstance(size, int) else size
    layer = nn.UpSampling2D(size).set_dtype(np.float64)
    np.testing.assert_array_equal(layer.forward(x), x.repeat(sh, axis=1).repeat(sw, axis=2))
    assert check_module(nn.UpSampling2D(size), x)["input"] < TOL
    dx = layer.backward(np.ones((2, 3 * sh, 4 * sw, 2)))
    np.testing.assert_array_equal(dx, sh * sw)  # each input pixel feeds sh*sw outputs


@pytest.mark.parametrize("cropping", [1, (1, 2), ((0, 2), (1, 0)), ((0, 0), (0, 0))])
def test_cropping2d(cropping: object) -> None:
    x = np.random.default_rng(3).standard_normal((2, 5, 6, 2))
    layer = nn.Cropping2D(cropping).set_dtype(np.float64)
    (top, bottom), (left, right) = layer.cropping
    np.testing.assert_array_equal(layer.forward(x), x[:, top:5 - bottom, left:6 - right])
    assert check_module(nn.Cropping2D(cropping), x)["input"] < TOL


@pytest.mark.parametrize("padding", [1, (2, 0), ((0, 2), (1, 3))])
def test_zero_padding2d(padding: object) -> None:
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 2))
    layer = nn.ZeroPadding2D(padding).set_dtype(np.float64)
    (top, bottom), (left, right) = layer.padding
    np.testing.assert_array_equal(layer.forward(x), np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0))))
    assert check_module(nn.ZeroPadding2D(padding), x)["input"] < TOL


def test_padding_then_cropping_is_the_identity() -> None:
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 1)).astype(np.float32)
    spec = ((1, 2), (3, 0))
    y = nn.Cropping2D(spec).forward(nn.ZeroPadding2D(spec).forward(x))
    np.testing.assert_array_equal(y, x)
