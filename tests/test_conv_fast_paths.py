"""Conv2D's fast paths against its general ones: the flipped-kernel input gradient against col2im, blocks of
two output pixels against single pixels, the fused ReLU against the ReLU layer, gathered against copied
column matrices (float64 C=4 gathers 1 piece, C=8 2 pieces; C=5 and C=16 copy), buffer reuse."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.layers import Conv2D
from nnscratch.layers.conv import add_block_grad, block_kernel
from nnscratch.utils.gradcheck import check_module

# Stride-1 configurations, which take the flipped-kernel input gradient.
STRIDE_ONE = [
    dict(kernel_size=3, padding="same"),
    dict(kernel_size=3, padding="valid"),
    dict(kernel_size=3, padding=1),
    dict(kernel_size=(3, 2), padding=(2, 1)),
    dict(kernel_size=(2, 3), padding="same"),  # even kernel: one more pad pixel at the bottom
    dict(kernel_size=(1, 4), padding=(0, 3)),  # padding = window span - 1: "full" convolution
    dict(kernel_size=3, dilation=2),
    dict(kernel_size=3, dilation=(2, 1), padding="same"),
]
SIZES = [(2, 7, 9), (2, 6, 8), (1, 5, 6)]  # (N, H, W): odd and even widths (blocks of 2 pixels need even ones)


def built(x: np.ndarray, block: int | None = None, grad_block: int | None = None, **config) -> Conv2D:
    """A float64 layer built for ``x`` with a random bias, optionally forced to the given pixel blocks."""
    layer = Conv2D(bias_initializer="uniform", **config).set_dtype(np.float64).set_rng(np.random.default_rng(3))
    layer.build(x.shape[1:])
    if block is not None:
        plan = dataclasses.replace(layer.plans(x.shape[1:3]), block=block, grad_block=grad_block)
        layer.plans = lambda hw: plan
    return layer


@pytest.mark.parametrize("channels, filters", [(1, 3), (4, 2), (5, 8), (3, 16)])
@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("config", STRIDE_ONE, ids=str)
def test_flipped_input_gradient_equals_col2im(config: dict, size: tuple, channels: int, filters: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((*size, channels))
    layer = built(x, filters=filters, **config)
    plan = layer.plans(x.shape[1:3])
    assert plan.flipped
    g = rng.standard_normal(layer.forward(x, training=True).shape).reshape(-1, filters)
    ws = layer.last_call.ws
    flipped = layer._input_grad_flipped(ws, plan, g).copy()
    np.testing.assert_allclose(flipped, layer._input_grad_col2im(ws, plan, g), rtol=1e-12, atol=1e-12)


def test_padding_wider_than_the_window_keeps_col2im() -> None:
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 2))
    layer = built(x, filters=3, kernel_size=3, padding=(3, 1))
    assert not layer.plans(x.shape[1:3]).flipped
    assert check_module(layer, x)["input"] < 1e-6


@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("config", STRIDE_ONE, ids=str)
def test_stride_one_gradients(config: dict, size: tuple, activation: str | None) -> None:
    x = np.random.default_rng(1).standard_normal((*size, 4))
    errors = check_module(Conv2D(3, activation=activation, bias_initializer="uniform", **config), x)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("channels, filters", [(1, 8), (4, 16), (5, 2), (8, 4)])
@pytest.mark.parametrize("config", [dict(kernel_size=3, padding="same"), dict(kernel_size=(2, 3))], ids=str)
def test_blocks_of_two_pixels_equal_single_pixels(config: dict, channels: int, filters: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 8, channels))
    blocked, single = built(x, 2, 2, filters=filters, **config), built(x, 1, 1, filters=filters, **config)
    np.testing.assert_allclose(blocked.forward(x), single.forward(x), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal((3, *blocked.output_shape))
    np.testing.assert_allclose(blocked.backward(g), single.backward(g), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(blocked.weight.grad, single.weight.grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(blocked.bias.grad, single.bias.grad, rtol=1e-12, atol=1e-12)


def test_block_kernel_and_its_gradient_fold_are_adjoint() -> None:
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((3, 2, 4, 5))
    grad = rng.standard_normal((3 * 3 * 4, 2 * 5))
    folded = add_block_grad(grad, (3, 2), 2, np.zeros_like(kernel))
    assert np.sum(block_kernel(kernel, 2) * grad) == pytest.approx(np.sum(kernel * folded))
    np.testing.assert_array_equal(block_kernel(kernel, 1), kernel.reshape(-1, 5))
    # into a reused buffer: the same matrix, refreshed from new weights; the fold adds to what it holds
    out = np.zeros((3 * 3 * 4, 2 * 5))
    block_kernel(2 * kernel, 2, out)
    np.testing.assert_array_equal(block_kernel(kernel, 2, out), block_kernel(kernel, 2))
    np.testing.assert_allclose(add_block_grad(grad, (3, 2), 2, folded.copy()), 2 * folded)


def test_kernel_matrices_follow_the_weights_between_steps() -> None:
    """The reused kernel buffers are refreshed every call: after a weight update the output follows it."""
    rng = np.random.default_rng(0)
    for channels in (1, 8):  # the bias in the product (1 channel) and added afterwards (8: gathered columns)
        x = rng.standard_normal((2, 6, 6, channels)).astype(np.float32)
        conv = Conv2D(4, 3, padding="same").set_rng(np.random.default_rng(1))
        conv.forward(x, training=True)
        conv.weight.data *= 2
        conv.bias.data += 1
        fresh = Conv2D(4, 3, padding="same")
        fresh.build(x.shape[1:])
        fresh.weight.data[...], fresh.bias.data[...] = conv.weight.data, conv.bias.data
        np.testing.assert_array_equal(conv.forward(x, training=True), fresh.forward(x, training=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [1, 8, 16])
def test_fused_relu_matches_the_relu_layer(channels: int, dtype: type) -> None:
    class UnfusedReLU(nn.ReLU):
        """Not fused by Conv2D (only the ReLU class itself is)."""

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 6, channels)).astype(dtype)
    fused = Conv2D(4, 3, padding="same", activation="relu").set_rng(np.random.default_rng(1)).set_dtype(dtype)
    plain = Conv2D(4, 3, padding="same", activation=UnfusedReLU()).set_rng(np.random.default_rng(1)).set_dtype(dtype)
    y = fused.forward(x, training=True)
    np.testing.assert_array_equal(y, plain.forward(x, training=True))
    assert fused.relu and not plain.relu
    g = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_array_equal(fused.backward(g), plain.backward(g))
    np.testing.assert_array_equal(fused.weight.grad, plain.weight.grad)
    np.testing.assert_array_equal(fused.bias.grad, plain.bias.grad)


@pytest.mark.parametrize("channels", [1, 4, 8, 16])
def test_float32_fast_paths_agree_with_float64(channels: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8, 10, channels))
    layers = {dt: Conv2D(8, 3, padding="same", activation="relu", bias_initializer="uniform")
              .set_rng(np.random.default_rng(1)).set_dtype(dt) for dt in (np.float32, np.float64)}
    g = rng.standard_normal((4, 8, 10, 8))
    out = {dt: (layer.forward(x.astype(dt), training=True), layer.backward(g.astype(dt)).copy())
           for dt, layer in layers.items()}
    for a, b in zip(out[np.float32], out[np.float64]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layers[np.float32].weight.grad, layers[np.float64].weight.grad, rtol=1e-4, atol=1e-3)


def test_training_output_is_a_reused_buffer_inference_output_is_fresh() -> None:
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 3)).astype(np.float32)
    layer = Conv2D(4, 3, padding="same", activation="relu")
    first = layer.forward(x, training=True)
    assert np.shares_memory(layer.forward(2 * x, training=True), first)
    assert not np.shares_memory(layer.forward(x), layer.forward(x))
