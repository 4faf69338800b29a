"""Conv1D and Conv2DTranspose: loop references, finite-difference gradients, the adjoint of Conv2D, configs."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.utils.gradcheck import check_module

TOL = 1e-7

CONV1D = [
    dict(kernel_size=3),
    dict(kernel_size=3, strides=2),
    dict(kernel_size=4, strides=2, padding="same"),
    dict(kernel_size=3, padding="causal", dilation_rate=2),
    dict(kernel_size=2, padding="same", dilation_rate=3),
    dict(kernel_size=1, use_bias=False),
    dict(kernel_size=3, activation="tanh"),
]


def conv1d_reference(x: np.ndarray, layer: nn.Conv1D) -> np.ndarray:
    """Loops over output steps and kernel offsets of the explicitly padded input."""
    before, after = layer.pads
    xp = np.pad(x, ((0, 0), (before, after), (0, 0)))
    k, s, d = layer.kernel_size, layer.strides, layer.dilation_rate
    out = (xp.shape[1] - d * (k - 1) - 1) // s + 1
    y = np.zeros((len(x), out, layer.filters))
    for t in range(out):
        for i in range(k):
            y[:, t] += xp[:, t * s + i * d] @ layer.weight.data[i]
    return y + (layer.bias.data if layer.bias is not None else 0)


@pytest.mark.parametrize("config", CONV1D, ids=str)
@pytest.mark.parametrize("channels", [2, 5])
def test_conv1d_matches_loops_and_finite_differences(config: dict, channels: int) -> None:
    x = np.random.default_rng(0).standard_normal((2, 9, channels))
    layer = nn.Conv1D(3, **config).set_dtype(np.float64)
    y = layer.forward(x)
    linear = conv1d_reference(x, layer)
    np.testing.assert_allclose(y, np.tanh(linear) if config.get("activation") else linear, rtol=1e-12, atol=1e-12)
    errors = check_module(layer, x)
    assert max(errors.values()) < TOL, errors


def test_conv1d_padding_rules() -> None:
    x = np.zeros((1, 10, 1), np.float32)
    assert nn.Conv1D(1, 3).forward(x).shape == (1, 8, 1)
    assert nn.Conv1D(1, 3, strides=3, padding="same").forward(x).shape == (1, 4, 1)  # ceil(10 / 3)
    same = nn.Conv1D(1, 4, padding="same")
    assert same.forward(x).shape == (1, 10, 1) and same.pads == (1, 2)  # TensorFlow's rule: the extra step at the end
    causal = nn.Conv1D(1, 3, padding="causal", dilation_rate=2).set_dtype(np.float64)
    xs = np.random.default_rng(1).standard_normal((1, 10, 1))
    y = causal.forward(xs)
    later = xs.copy()
    later[:, 6:] += 1  # a change at step 6 moves no output before step 6
    np.testing.assert_array_equal(causal.forward(later)[:, :6], y[:, :6])
    assert not np.allclose(causal.forward(later)[:, 6:], y[:, 6:])


def test_conv1d_weight_layout_and_skipped_input_grad() -> None:
    layer = nn.Conv1D(4, 3)
    y = layer.forward(np.ones((2, 7, 5), np.float32))
    assert layer.weight.shape == (3, 5, 4) and layer.bias.shape == (4,) and y.dtype == np.float32
    layer.last_call.input_grad = False
    assert layer.backward(np.ones_like(y)) is None
    assert np.abs(layer.weight.grad).sum() > 0


TRANSPOSE = [
    (dict(kernel_size=3), (6, 5)),
    (dict(kernel_size=3, strides=2), (9, 7)),
    (dict(kernel_size=3, strides=2, padding="same"), (8, 6)),
    (dict(kernel_size=(2, 3), strides=(3, 1)), (12, 5)),
    (dict(kernel_size=3, strides=2, padding=1, output_padding=1), (8, 6)),
    (dict(kernel_size=3, strides=2, padding="same", output_padding=1), (8, 6)),
    (dict(kernel_size=4, strides=2, padding="same"), (8, 6)),
    (dict(kernel_size=3, dilation_rate=2, use_bias=False), (8, 7)),
    (dict(kernel_size=2, strides=2, activation="relu"), (8, 6)),
]


def transpose_reference(x: np.ndarray, layer: nn.Conv2DTranspose) -> np.ndarray:
    """Every input pixel adds its patch ``W @ x`` at ``(i*s, j*s)``; then the crop the layer chose."""
    (kh, kw, f, _), (sh, sw), (dh, dw) = layer.weight.shape, layer.strides, layer.dilation_rate
    n, h, w, _ = x.shape
    full = np.zeros((n, 40, 40, f))
    for i in range(h):
        for j in range(w):
            for a in range(kh):
                for b in range(kw):
                    full[:, i * sh + a * dh, j * sw + b * dw] += x[:, i, j] @ layer.weight.data[a, b].T
    oh, ow, _ = layer.output_shape
    return full[:, layer._top:layer._top + oh, layer._left:layer._left + ow] + (
        layer.bias.data if layer.bias is not None else 0)


@pytest.mark.parametrize(("config", "out_hw"), TRANSPOSE, ids=str)
def test_conv2d_transpose_shapes_loops_and_finite_differences(config: dict, out_hw: tuple) -> None:
    x = np.random.default_rng(2).standard_normal((2, 4, 3, 2))
    layer = nn.Conv2DTranspose(3, **config).set_dtype(np.float64)
    layer.set_rng(np.random.default_rng(7))  # seeded weights: no pre-activation lands on the ReLU's kink by chance
    y = layer.forward(x)
    assert y.shape == (2, *out_hw, 3)
    linear = transpose_reference(x, layer)
    np.testing.assert_allclose(y, np.maximum(linear, 0) if config.get("activation") else linear, rtol=1e-12, atol=1e-12)
    errors = check_module(layer, x)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize(("kernel", "strides", "padding"), [(3, 1, "valid"), (3, 2, "same"), (4, 2, "same"), (3, 2, "valid")])
def test_conv2d_transpose_is_the_input_gradient_of_conv2d(kernel: int, strides: int, padding: str) -> None:
    x = np.random.default_rng(3).standard_normal((2, 4, 5, 3))
    up = nn.Conv2DTranspose(2, kernel, strides=strides, padding=padding, use_bias=False).set_dtype(np.float64)
    y = up.forward(x)
    conv = nn.Conv2D(3, kernel, strides=strides, padding=padding, use_bias=False).set_dtype(np.float64)
    conv.forward(np.zeros_like(y))
    assert conv.output_shape == x.shape[1:]
    conv.weight.data[...] = up.weight.data  # (KH, KW, 2, 3) in both layouts
    np.testing.assert_allclose(conv.backward(x), y, rtol=1e-12, atol=1e-12)


def test_conv_configs_rebuild_equal_layers() -> None:
    for layer in (nn.Conv1D(4, 3, strides=2, padding="causal", dilation_rate=2, activation="relu", use_bias=False),
                  nn.Conv2DTranspose(4, (2, 3), strides=2, padding="same", output_padding=1, activation="sigmoid")):
        copy = type(layer)(**layer.get_config())
        assert copy.get_config() == layer.get_config()
