"""Conv2D: forward against a loop reference, gradient checks, layout, configuration, errors, save/load."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import DTypeError, InvalidValueError, ShapeError
from nnscratch.layers import BatchNorm, Conv2D, MaxPool2D
from nnscratch.utils.gradcheck import check_module

CONFIGS = [
    dict(filters=4, kernel_size=3),
    dict(filters=3, kernel_size=3, strides=2),
    dict(filters=3, kernel_size=3, padding="same"),
    dict(filters=2, kernel_size=3, strides=2, padding="same"),
    dict(filters=2, kernel_size=(2, 3), padding="same"),
    dict(filters=2, kernel_size=4, strides=(2, 3), padding="same"),
    dict(filters=3, kernel_size=3, padding=1),
    dict(filters=2, kernel_size=(3, 2), strides=(2, 1), padding=(2, 1)),
    dict(filters=2, kernel_size=3, dilation=2),
    dict(filters=2, kernel_size=3, dilation=(2, 1), padding="same"),
    dict(filters=4, kernel_size=3, padding=1, use_bias=False),
    dict(filters=3, kernel_size=1, strides=2),
]


def reference_conv(x: np.ndarray, layer: Conv2D) -> np.ndarray:
    """Direct definition: y[n, i, j, o] = b[o] + sum over (a, b, c) of xpad[n, i*s + a*d, j*s + b*d, c] w[a, b, c, o]."""
    (top, bottom), (left, right) = layer.pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    w = layer.weight.data
    kh, kw, _, oc = w.shape
    (sh, sw), (dh, dw) = layer.strides, layer.dilation
    oh = (xp.shape[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[2] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((len(x), oh, ow, oc))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    y[:, i, j, :] += xp[:, i * sh + a * dh, j * sw + b * dw, :] @ w[a, b]
    return y + (layer.bias.data if layer.bias is not None else 0)


def tf_same_pads(n: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


@pytest.mark.parametrize("channels", [1, 2, 5])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_forward_matches_reference(config: dict, channels: int) -> None:
    rng = np.random.default_rng(0)
    layer = Conv2D(**config, bias_initializer="uniform").set_dtype(np.float64)
    x = rng.standard_normal((2, 7, 9, channels))
    y = layer.forward(x)
    np.testing.assert_allclose(y, reference_conv(x, layer), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_gradients(config: dict) -> None:
    x = np.random.default_rng(1).standard_normal((2, 7, 9, 3))
    errors = check_module(Conv2D(**config, bias_initializer="uniform"), x)
    assert max(errors.values()) < 1e-6, errors


def test_gradients_single_channel_with_activation() -> None:
    x = np.random.default_rng(2).standard_normal((3, 6, 5, 1))
    errors = check_module(Conv2D(4, 3, strides=2, padding="same", activation="tanh"), x)
    assert set(errors) == {"input", "weight", "bias"}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("size, kernel, stride", [(7, 3, 1), (7, 3, 2), (8, 4, 2), (7, 4, 2), (9, 2, 1), (5, 1, 3)])
def test_same_padding_follows_tensorflow(size: int, kernel: int, stride: int) -> None:
    layer = Conv2D(1, kernel, strides=stride, padding="same")
    y = layer.forward(np.zeros((1, size, size, 1), np.float32))
    assert y.shape[1:3] == (-(-size // stride),) * 2
    assert layer.pads == (tf_same_pads(size, kernel, stride),) * 2


def test_same_stride_one_keeps_size() -> None:
    y = Conv2D(6, (3, 5), padding="same").forward(np.zeros((2, 7, 9, 4), np.float32))
    assert y.shape == (2, 7, 9, 6)


def test_weight_is_drawn_in_pytorch_layout_and_stored_hwio() -> None:
    seen = []

    def init(shape, rng=None, dtype=np.float32):
        seen.append(shape)
        return np.arange(np.prod(shape), dtype=dtype).reshape(shape)

    layer = Conv2D(5, (2, 3), kernel_initializer=init)
    layer.forward(np.zeros((1, 6, 6, 4), np.float32))
    assert seen[0] == (5, 4, 2, 3)  # (out, in, kh, kw): initializers compute the fans from it
    drawn = np.arange(5 * 4 * 2 * 3, dtype=np.float32).reshape(5, 4, 2, 3)
    assert layer.weight.shape == (2, 3, 4, 5)
    np.testing.assert_array_equal(layer.weight.data, drawn.transpose(2, 3, 1, 0))
    assert layer.weight.data.flags.c_contiguous


def test_he_normal_uses_fan_in() -> None:
    layer = Conv2D(64, 3, kernel_initializer="he_normal").set_rng(np.random.default_rng(0))
    layer.forward(np.zeros((1, 5, 5, 32), np.float32))
    assert layer.weight.data.std() == pytest.approx(np.sqrt(2 / (32 * 9)), rel=0.02)
    np.testing.assert_array_equal(layer.bias.data, 0)


def test_default_initializer_is_keras_glorot_uniform() -> None:
    layer = Conv2D(64, 3).set_rng(np.random.default_rng(0))
    layer.forward(np.zeros((1, 5, 5, 32), np.float32))
    limit = np.sqrt(6 / (32 * 9 + 64 * 9))  # fans: in 32*3*3, out 64*3*3
    assert np.abs(layer.weight.data).max() <= limit and layer.weight.data.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)


def test_config_round_trip() -> None:
    layer = Conv2D(7, (3, 2), strides=(2, 1), padding=(1, 0), dilation=2, use_bias=False, activation="relu",
                   kernel_initializer="glorot_uniform")
    config = json.loads(json.dumps(layer.get_config()))
    copy = Conv2D(**config)
    assert not copy.built
    assert copy.get_config() == layer.get_config()
    assert copy.kernel_size == (3, 2) and copy.strides == (2, 1) and copy.padding == (1, 0)
    assert copy.dilation == (2, 2) and copy.use_bias is False and type(copy.activation).__name__ == "ReLU"
    assert Conv2D(**Conv2D(3, 3, padding="same").get_config()).padding == "same"


def test_rebuilt_layer_with_same_weights_gives_same_output() -> None:
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 3)).astype(np.float32)
    layer = Conv2D(4, 3, padding="same", activation="relu")
    y = layer.forward(x)
    copy = nn.Module.registry["Conv2D"](**layer.get_config())
    copy.forward(x)
    copy.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(copy.forward(x), y)


def test_input_grad_false_skips_input_gradient() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    layer = Conv2D(4, 3, padding="same")
    g = rng.standard_normal(layer.forward(x).shape).astype(np.float32)
    layer.backward(g)
    full = layer.weight.grad.copy(), layer.bias.grad.copy()
    layer.zero_grad()
    ctx = nn.Call(training=False, input_grad=False)  # a call whose caller needs no dL/dx
    layer.forward_call(ctx, x)
    assert layer.backward_call(ctx, g) is None
    np.testing.assert_array_equal(layer.weight.grad, full[0])
    np.testing.assert_array_equal(layer.bias.grad, full[1])


def test_backward_adds_into_grad() -> None:
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 2))
    layer = Conv2D(3, 3).set_dtype(np.float64)
    g = np.ones(layer.forward(x).shape)
    layer.backward(g)
    once = layer.weight.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once)


def test_scratch_buffers_are_reused_per_input_shape() -> None:
    rng = np.random.default_rng(0)
    layer = Conv2D(4, 3, padding="same")
    x = rng.standard_normal((4, 8, 8, 3)).astype(np.float32)
    g = np.ones((4, 8, 8, 4), np.float32)
    layer.forward(x)
    cols, dx = layer.last_call.cols, layer.backward(g)
    layer.forward(2 * x)
    assert layer.last_call.cols is cols
    assert np.shares_memory(layer.backward(g), dx)
    y_small = layer.forward(x[:1])  # another batch size: new buffers, still correct
    assert layer.last_call.cols is not cols
    np.testing.assert_allclose(y_small, layer.forward(x)[:1], rtol=1e-6)


@pytest.mark.parametrize("channels", [1, 8])
def test_float32_stays_float32(channels: int) -> None:
    x = np.random.default_rng(0).standard_normal((2, 6, 6, channels)).astype(np.float32)
    layer = Conv2D(4, 3, strides=2, padding="same", activation="relu")
    y = layer.forward(x, training=True)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == np.float32
    with pytest.raises(DTypeError):
        layer.forward(x.astype(np.float64))


def test_activation_is_applied() -> None:
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 2)).astype(np.float32)
    linear = Conv2D(3, 3).set_rng(np.random.default_rng(1))
    relu = Conv2D(3, 3, activation="relu").set_rng(np.random.default_rng(1))
    np.testing.assert_array_equal(relu.forward(x), np.maximum(linear.forward(x), 0))


def test_shape_errors_name_expected_and_actual() -> None:
    with pytest.raises(ShapeError, match=r"\(batch, height, width, channels\).*\(batch, 10\)"):
        Conv2D(2, 3).forward(np.zeros((4, 10), np.float32))
    with pytest.raises(ShapeError, match=r"5x5.*larger.*4x4"):
        Conv2D(2, 5).forward(np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(ShapeError, match=r"5x5.*larger"):
        Conv2D(2, 3, dilation=2).forward(np.zeros((1, 4, 8, 1), np.float32))
    layer = Conv2D(2, 3)
    layer.forward(np.zeros((1, 6, 6, 1), np.float32))
    with pytest.raises(ShapeError, match=r"6, 6, 1.*\(1, 6, 6, 2\)"):
        layer.forward(np.zeros((1, 6, 6, 2), np.float32))


@pytest.mark.parametrize("kwargs", [
    dict(filters=0, kernel_size=3), dict(filters=2.5, kernel_size=3), dict(filters=2, kernel_size=0),
    dict(filters=2, kernel_size=(3, 3, 3)), dict(filters=2, kernel_size="3"), dict(filters=2, kernel_size=2.0),
    dict(filters=2, kernel_size=3, strides=0), dict(filters=2, kernel_size=3, strides=(1, -1)),
    dict(filters=2, kernel_size=3, padding="full"), dict(filters=2, kernel_size=3, padding=-1),
    dict(filters=2, kernel_size=3, dilation=0), dict(filters=2, kernel_size=True),
    dict(filters=2, kernel_size=3, activation="relux"),
])
def test_invalid_arguments(kwargs: dict) -> None:
    with pytest.raises(InvalidValueError):
        Conv2D(**kwargs)


def small_cnn() -> nn.Sequential:
    return nn.Sequential([
        Conv2D(4, 3, padding="same", activation="relu"),
        BatchNorm(),
        MaxPool2D(),
        Conv2D(6, 3, strides=2, padding="same", activation="relu"),
        nn.GlobalAvgPool2D(),
        nn.Dense(3, activation="softmax"),
    ], seed=0)


def test_cnn_with_batchnorm_save_load_round_trip(tmp_path) -> None:
    x = np.random.default_rng(0).standard_normal((16, 8, 8, 1)).astype(np.float32)
    model = small_cnn()
    for _ in range(3):
        model.forward(x, training=True)  # moves the BatchNorm running statistics
    state = model.state_dict()
    assert {"layers.1.running_mean", "layers.1.running_var", "layers.0.weight", "layers.5.weight"} <= set(state)
    assert state["layers.0.weight"].shape == (3, 3, 1, 4)
    assert not np.allclose(state["layers.1.running_var"], 1)
    path = model.save(tmp_path / "cnn")
    loaded = nn.load_model(path)
    assert loaded.get_config() == model.get_config()
    for name, value in loaded.state_dict().items():
        np.testing.assert_array_equal(value, state[name])
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_cnn_trains() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8, 8, 1)).astype(np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.int64)  # top half brighter?
    model = small_cnn()
    model.compile(loss="categorical_crossentropy", optimizer=nn.Adam(lr=0.01))
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
