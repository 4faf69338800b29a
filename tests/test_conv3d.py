"""Conv3D, MaxPool3D, AvgPool3D, GlobalMaxPool3D and GlobalAvgPool3D (channels-last volumes, Keras 3's layers):
float64 finite differences, NumPy loop references, PyTorch's conv3d/max_pool3d/avg_pool3d, shape and argument
errors, configs, empty batches, a small model that trains, and model files."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.call import Call
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.core.layer import Layer
from nnscratch.layers import conv3d as conv3d_module
from nnscratch.layers.conv3d import Conv3D
from nnscratch.layers.pooling3d import (
    AveragePooling3D,
    AvgPool3D,
    GlobalAveragePooling3D,
    GlobalAvgPool3D,
    GlobalMaxPool3D,
    GlobalMaxPooling3D,
    MaxPool3D,
    MaxPooling3D,
)
from nnscratch.utils.gradcheck import check_module

TOL = 1e-6
CHANNELS = 3
SHAPE = (5, 6, 7, CHANNELS)  # (D, H, W, C) per sample

CONVS = [
    dict(filters=4, kernel_size=3),
    dict(filters=2, kernel_size=3, strides=2, padding="same"),
    dict(filters=3, kernel_size=(2, 3, 2), strides=(1, 2, 3), padding="same"),
    dict(filters=2, kernel_size=2, dilation_rate=(2, 1, 2), padding="same", activation="tanh"),
    dict(filters=3, kernel_size=(3, 2, 3), strides=2, dilation_rate=2, use_bias=False),
    dict(filters=2, kernel_size=4, padding="same", activation="relu"),
    dict(filters=2, kernel_size=1, strides=(2, 1, 2)),
]
POOLS = [
    dict(pool_size=2),
    dict(pool_size=3, strides=2, padding="same"),
    dict(pool_size=(2, 3, 2), strides=1),
    dict(pool_size=(3, 2, 2), strides=(2, 1, 3), padding="same"),
    dict(pool_size=2, strides=3, padding="same"),
]


def volumes(n: int = 2, shape: tuple[int, ...] = SHAPE, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, *shape))


def tf_pads(size: int, kernel: int, stride: int, dilation: int, padding: str) -> tuple[int, int]:
    """TensorFlow's "same" rule, written out again: ceil(size / stride) outputs, the extra pad cell after."""
    if padding == "valid":
        return 0, 0
    span = dilation * (kernel - 1) + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def pad_all(x: np.ndarray, layer: Any, kernel: tuple[int, ...], dilation: tuple[int, ...], fill: float) -> np.ndarray:
    pads = [tf_pads(x.shape[1 + a], kernel[a], layer.strides[a], dilation[a], layer.padding) for a in range(3)]
    return np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=fill)


def conv_reference(layer: Conv3D, x: np.ndarray) -> np.ndarray:
    """Plain loops over output positions, ``np.tensordot`` of one patch batch with the kernel at each."""
    w = layer.weight.data
    (kd, kh, kw), (sd, sh, sw), (dd, dh, dw) = layer.kernel_size, layer.strides, layer.dilation_rate
    xp = pad_all(x, layer, layer.kernel_size, layer.dilation_rate, 0.0)
    od, oh, ow = ((xp.shape[1 + a] - layer.dilation_rate[a] * (layer.kernel_size[a] - 1) - 1) // layer.strides[a] + 1
                  for a in range(3))
    y = np.zeros((len(x), od, oh, ow, layer.filters))
    for i, j, k in itertools.product(range(od), range(oh), range(ow)):
        patch = xp[:, i * sd:i * sd + dd * (kd - 1) + 1:dd, j * sh:j * sh + dh * (kh - 1) + 1:dh,
                   k * sw:k * sw + dw * (kw - 1) + 1:dw]
        y[:, i, j, k] = np.tensordot(patch, w, axes=4)
    if layer.bias is not None:
        y += layer.bias.data
    return y


def pool_reference(layer: Any, x: np.ndarray) -> np.ndarray:
    """Plain loops over output positions: max over real cells, or their mean (padded cells excluded)."""
    is_max = isinstance(layer, MaxPool3D)
    ones = (1, 1, 1)
    xp = pad_all(x, layer, layer.pool_size, ones, np.nan)
    od, oh, ow = ((xp.shape[1 + a] - layer.pool_size[a]) // layer.strides[a] + 1 for a in range(3))
    (kd, kh, kw), (sd, sh, sw) = layer.pool_size, layer.strides
    y = np.zeros((len(x), od, oh, ow, x.shape[4]))
    for i, j, k in itertools.product(range(od), range(oh), range(ow)):
        patch = xp[:, i * sd:i * sd + kd, j * sh:j * sh + kh, k * sw:k * sw + kw].reshape(len(x), -1, x.shape[4])
        y[:, i, j, k] = np.nanmax(patch, axis=1) if is_max else np.nanmean(patch, axis=1)
    return y


def f64(layer: Layer) -> Layer:
    return layer.set_dtype(np.float64)


# ------------------------------------------------------------------ gradients (float64 finite differences)


@pytest.mark.parametrize("config", CONVS, ids=lambda c: str(c))
def test_conv3d_gradients_match_finite_differences(config: dict) -> None:
    errors = check_module(Conv3D(**config), volumes())
    assert errors and max(errors.values()) < TOL, errors
    assert ("bias" in errors) == config.get("use_bias", True)


@pytest.mark.parametrize("cls", [MaxPool3D, AvgPool3D])
@pytest.mark.parametrize("config", POOLS, ids=lambda c: str(c))
def test_pool3d_gradients_match_finite_differences(cls: type, config: dict) -> None:
    errors = check_module(cls(**config), volumes(seed=1))
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("cls", [GlobalMaxPool3D, GlobalAvgPool3D])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pool3d_gradients_match_finite_differences(cls: type, keepdims: bool) -> None:
    errors = check_module(cls(keepdims=keepdims), volumes(seed=2))
    assert max(errors.values()) < TOL, errors


def test_conv3d_in_slabs_of_kernel_depths_gives_the_same_values_and_gradients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large inputs fill the column matrix a few kernel depths at a time; forced here with a tiny limit."""
    x = volumes()
    whole = f64(Conv3D(3, (3, 2, 2), padding="same", strides=(1, 2, 1)))
    y_whole = whole.forward(x)
    monkeypatch.setattr(conv3d_module, "COLUMN_BYTES", 1)
    sliced = f64(Conv3D(3, (3, 2, 2), padding="same", strides=(1, 2, 1)))
    sliced.build(x.shape[1:])
    sliced.set_weights(whole.get_weights())
    np.testing.assert_allclose(sliced.forward(x), y_whole, rtol=0, atol=1e-12)
    ctx = Call(training=True)
    sliced.forward_call(ctx, x)
    assert ctx.plan.depths == 1 and ctx.cols is None  # (it did run in slabs)
    errors = check_module(Conv3D(3, 3, strides=2, padding="same", activation="tanh"), x)
    assert max(errors.values()) < TOL, errors


# ------------------------------------------------------------------ loop references


@pytest.mark.parametrize("config", CONVS, ids=lambda c: str(c))
def test_conv3d_matches_a_loop_reference(config: dict) -> None:
    layer = f64(Conv3D(**config, bias_initializer="random_normal"))
    x = volumes(3, seed=3)
    y = layer.forward(x)
    expected = conv_reference(layer, x)
    if config.get("activation") == "tanh":
        expected = np.tanh(expected)
    elif config.get("activation") == "relu":
        expected = np.maximum(expected, 0)
    assert y.shape == expected.shape == (3, *layer.output_shape)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cls", [MaxPool3D, AvgPool3D])
@pytest.mark.parametrize("config", POOLS, ids=lambda c: str(c))
def test_pool3d_matches_a_loop_reference(cls: type, config: dict) -> None:
    layer = f64(cls(**config))
    x = volumes(3, seed=4)
    if cls is MaxPool3D:
        x = -np.abs(x) - 1  # every real cell below 0: padding must not win a max
    y = layer.forward(x)
    expected = pool_reference(layer, x)
    assert y.shape == expected.shape == (3, *layer.output_shape)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-12)


def test_global_pools_match_numpy() -> None:
    x = volumes(3, seed=5)
    np.testing.assert_allclose(f64(GlobalAvgPool3D()).forward(x), x.mean(axis=(1, 2, 3)), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(f64(GlobalMaxPool3D()).forward(x), x.max(axis=(1, 2, 3)))
    assert f64(GlobalAvgPool3D(keepdims=True)).forward(x).shape == (3, 1, 1, 1, CHANNELS)
    first = np.moveaxis(x, 4, 1)
    np.testing.assert_allclose(f64(GlobalAvgPool3D(data_format="channels_first")).forward(first),
                               x.mean(axis=(1, 2, 3)), rtol=0, atol=1e-12)


def test_max_pool_gradient_goes_to_the_first_of_tied_cells() -> None:
    layer = f64(MaxPool3D(2))
    x = np.ones((1, 2, 2, 2, 1))
    layer.forward(x)
    dx = layer.backward(np.full((1, 1, 1, 1, 1), 3.0))
    expected = np.zeros_like(x)
    expected[0, 0, 0, 0, 0] = 3.0
    np.testing.assert_array_equal(dx, expected)


# ------------------------------------------------------------------ PyTorch


def _torch_conv(torch: Any, layer: Conv3D, x: np.ndarray) -> tuple[Any, Any, Any, Any]:
    tx = torch.tensor(np.moveaxis(x, 4, 1), requires_grad=True)  # NCDHW
    tw = torch.tensor(layer.weight.data.transpose(4, 3, 0, 1, 2).copy(), requires_grad=True)  # (F, C, KD, KH, KW)
    tb = torch.tensor(layer.bias.data, requires_grad=True) if layer.bias is not None else None
    pads = [tf_pads(x.shape[1 + a], layer.kernel_size[a], layer.strides[a], layer.dilation_rate[a], layer.padding)
            for a in range(3)]
    flat = [p for pair in reversed(pads) for p in pair]  # F.pad: last axis first
    y = torch.nn.functional.conv3d(torch.nn.functional.pad(tx, flat), tw, tb, stride=layer.strides,
                                   dilation=layer.dilation_rate)
    return tx, tw, tb, y


@pytest.mark.parametrize("config", [c for c in CONVS if "activation" not in c], ids=lambda c: str(c))
def test_conv3d_matches_pytorch(config: dict) -> None:
    torch = pytest.importorskip("torch")
    layer = f64(Conv3D(**config, bias_initializer="random_normal"))
    x = volumes(2, seed=6)
    y = layer.forward(x)
    tx, tw, tb, ty = _torch_conv(torch, layer, x)
    np.testing.assert_allclose(y, np.moveaxis(ty.detach().numpy(), 1, 4), rtol=0, atol=1e-10)
    g = np.random.default_rng(7).standard_normal(y.shape)
    for p in layer.parameters():
        p.zero_grad()
    dx = layer.backward(g.copy())
    ty.backward(torch.tensor(np.moveaxis(g, 4, 1)))
    np.testing.assert_allclose(dx, np.moveaxis(tx.grad.numpy(), 1, 4), rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.weight.grad, tw.grad.numpy().transpose(2, 3, 4, 1, 0), rtol=0, atol=1e-10)
    if tb is not None:
        np.testing.assert_allclose(layer.bias.grad, tb.grad.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("cls", [MaxPool3D, AvgPool3D])
@pytest.mark.parametrize("config", [c for c in POOLS if c.get("padding", "valid") == "valid"], ids=lambda c: str(c))
def test_pool3d_matches_pytorch(cls: type, config: dict) -> None:
    torch = pytest.importorskip("torch")
    layer = f64(cls(**config))
    x = volumes(2, seed=8)
    y = layer.forward(x)
    tx = torch.tensor(np.moveaxis(x, 4, 1), requires_grad=True)
    pool = torch.nn.functional.max_pool3d if cls is MaxPool3D else torch.nn.functional.avg_pool3d
    ty = pool(tx, layer.pool_size, layer.strides)
    np.testing.assert_allclose(y, np.moveaxis(ty.detach().numpy(), 1, 4), rtol=0, atol=1e-10)
    g = np.random.default_rng(9).standard_normal(y.shape)
    dx = layer.backward(g.copy())
    ty.backward(torch.tensor(np.moveaxis(g, 4, 1)))
    np.testing.assert_allclose(dx, np.moveaxis(tx.grad.numpy(), 1, 4), rtol=0, atol=1e-10)


# ------------------------------------------------------------------ calls: dtypes, empty batches, no input gradient


@pytest.mark.parametrize("make", [lambda: Conv3D(4, 3, padding="same"), lambda: MaxPool3D(2),
                                  lambda: AvgPool3D(3, 2, "same"), GlobalAvgPool3D, GlobalMaxPool3D])
def test_float32_by_default_and_empty_batches(make: Any) -> None:
    x = volumes(2).astype(np.float32)
    layer = make()
    y = layer.forward(x)
    assert y.dtype == np.float32
    empty = make().forward(np.zeros((0, *SHAPE), np.float32))
    assert empty.shape == (0, *y.shape[1:]) and empty.dtype == np.float32
    back = layer.forward(x[:0], training=True)
    assert layer.backward(np.zeros_like(back)).shape == (0, *SHAPE)


def test_conv3d_without_input_gradient_still_adds_weight_gradients() -> None:
    layer = f64(Conv3D(2, 2, activation="relu"))
    x = volumes()
    ctx = Call(training=True, input_grad=False)
    y = layer.forward_call(ctx, x)
    assert layer.backward_call(ctx, np.ones_like(y)) is None
    assert np.any(layer.weight.grad != 0) and np.any(layer.bias.grad != 0)
    before = layer.weight.grad.copy()
    ctx = Call(training=True)
    layer.backward_call(ctx, np.ones_like(layer.forward_call(ctx, x)))
    np.testing.assert_allclose(layer.weight.grad, 2 * before, rtol=1e-12)  # added, not overwritten


def test_conv3d_weights_have_keras_layout() -> None:
    layer = Conv3D(5, (2, 3, 4))
    layer.build(SHAPE)
    assert layer.kernel is layer.weight
    assert layer.weight.shape == (2, 3, 4, CHANNELS, 5) and layer.bias.shape == (5,)
    assert layer.weight.dtype == np.float32
    fan_in, fan_out = 2 * 3 * 4 * CHANNELS, 2 * 3 * 4 * 5
    assert np.abs(layer.weight.data).max() <= np.sqrt(6 / (fan_in + fan_out)) + 1e-7  # glorot_uniform's limit


def test_variable_sizes_are_worked_out_per_call() -> None:
    layer = Conv3D(2, 3, strides=2, padding="same")
    model = nn.Sequential([nn.Input((None, None, 7, CHANNELS)), layer, MaxPool3D(1)], seed=0,
                          dtype="float64")
    assert layer.output_shape == (None, None, 4, 2) and layer.pads is None
    for shape in ((5, 6, 7, CHANNELS), (3, 9, 7, CHANNELS)):
        x = volumes(2, shape)
        np.testing.assert_allclose(model.predict(x), conv_reference(layer, x), rtol=0, atol=1e-12)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(("make", "shape", "words"), [
    (lambda: Conv3D(2, 5), (4, 8, 8, 1), ["window spans 5 along the depth", "(batch, 4, 8, 8, 1)"]),
    (lambda: Conv3D(2, (1, 1, 3), dilation_rate=3), (4, 4, 4, 1), ["window spans 7 along the width", "4, 4, 4, 1"]),
    (lambda: MaxPool3D((2, 9, 2)), (4, 8, 8, 1), ["window spans 9 along the height", "(batch, 4, 8, 8, 1)"]),
    (lambda: AvgPool3D(3), (2, 8, 8, 1), ["window spans 3 along the depth", "(batch, 2, 8, 8, 1)"]),
    (lambda: Conv3D(2, 3), (8, 8, 1), ["depth, height, width, channels", "(batch, 8, 8, 1)"]),
    (lambda: MaxPool3D(), (8, 8, 8, 8, 1), ["depth, height, width, channels", "(batch, 8, 8, 8, 8, 1)"]),
    (lambda: GlobalAvgPool3D(), (8, 8, 1), ["depth, height, width, channels", "(batch, 8, 8, 1)"]),
    (lambda: GlobalMaxPool3D(), (8, 8, 1), ["depth, height, width, channels", "(batch, 8, 8, 1)"]),
])
def test_shape_errors_name_the_shapes(make: Any, shape: tuple[int, ...], words: list[str]) -> None:
    with pytest.raises(ShapeError) as info:
        make().forward(np.zeros((1, *shape), np.float32))
    assert all(w in str(info.value) for w in words), str(info.value)
    with pytest.raises(ShapeError):
        nn.Sequential([nn.Input(shape), make()])


def test_same_padding_fits_any_window() -> None:
    assert Conv3D(2, 5, padding="same").forward(np.zeros((1, 2, 3, 1, 1), np.float32)).shape == (1, 2, 3, 1, 2)
    assert MaxPool3D(4, padding="same").forward(np.zeros((1, 2, 3, 1, 1), np.float32)).shape == (1, 1, 1, 1, 1)


@pytest.mark.parametrize("make", [
    lambda: Conv3D(0, 3), lambda: Conv3D(2, 0), lambda: Conv3D(2, (3, 3)), lambda: Conv3D(2, 3, strides=(1, 0, 1)),
    lambda: Conv3D(2, 3, padding="causal"), lambda: Conv3D(2, 3, padding=1), lambda: Conv3D(2, 3, dilation_rate=0),
    lambda: Conv3D(2, 3, data_format="channels_first"), lambda: Conv3D(2, 3, activity_regularizer="l2"),
    lambda: Conv3D(2, 3.0), lambda: Conv3D(2, True),
    lambda: MaxPool3D(0), lambda: MaxPool3D((2, 2)), lambda: AvgPool3D(2, strides=0), lambda: AvgPool3D(padding="full"),
    lambda: MaxPool3D(data_format="channels_first"), lambda: GlobalAvgPool3D(data_format="NDHWC"),
])
def test_bad_arguments_are_refused(make: Any) -> None:
    with pytest.raises(InvalidValueError):
        make()


def test_bad_kernel_sizes_are_invalid_values() -> None:
    for bad in (0, (3, 3), (1, 2, -1), "3"):
        with pytest.raises(InvalidValueError, match="Conv3D kernel_size"):
            Conv3D(2, bad)
    with pytest.raises(InvalidValueError, match="Conv3D padding"):
        Conv3D(2, 3, padding="causal")
    with pytest.raises(InvalidValueError, match="MaxPool3D pool_size"):
        MaxPool3D((2, 2))


# ------------------------------------------------------------------ configs, aliases, models, files


@pytest.mark.parametrize("layer", [
    *(Conv3D(**c) for c in CONVS), Conv3D(2, 3, kernel_regularizer="l2", bias_regularizer={"l1": 0.1}),
    *(cls(**c) for cls in (MaxPool3D, AvgPool3D) for c in POOLS),
    GlobalAvgPool3D(), GlobalMaxPool3D(keepdims=True), GlobalAvgPool3D(data_format="channels_first"),
], ids=lambda layer: type(layer).__name__)
def test_configs_round_trip(layer: Layer) -> None:
    config = layer.get_config()
    copy = type(layer)(**config)
    assert copy.get_config() == config and copy is not layer
    assert type(layer).from_config(config).get_config() == config


def test_configs_use_keras_names_and_defaults() -> None:
    config = Conv3D(8, 3).get_config()
    assert config["kernel_size"] == [3, 3, 3] and config["strides"] == [1, 1, 1]
    assert config["dilation_rate"] == [1, 1, 1] and config["padding"] == "valid" and config["use_bias"] is True
    assert MaxPool3D(3).get_config() == {"pool_size": [3, 3, 3], "strides": [3, 3, 3], "padding": "valid"}
    assert GlobalAvgPool3D().get_config()["keepdims"] is False


def test_keras_aliases_and_registration() -> None:
    assert MaxPooling3D is MaxPool3D and AveragePooling3D is AvgPool3D
    assert GlobalAveragePooling3D is GlobalAvgPool3D and GlobalMaxPooling3D is GlobalMaxPool3D
    for cls in (Conv3D, MaxPool3D, AvgPool3D, GlobalAvgPool3D, GlobalMaxPool3D):
        assert Layer.registry[cls.__name__] is cls


def test_regularizers_reach_the_loss() -> None:
    layer = Conv3D(2, 2, kernel_regularizer="l2", bias_regularizer="l1")
    layer.forward(np.zeros((1, *SHAPE), np.float32))
    assert len(layer.regularized_weights()) == 2
    assert layer.losses[0] == pytest.approx(0.01 * float(np.sum(layer.weight.data.astype(np.float64) ** 2)))


def small_model() -> nn.Sequential:
    return nn.Sequential([nn.Input((8, 8, 8, 1)), Conv3D(4, 3, activation="relu"), MaxPool3D(2), nn.BatchNorm(),
                          GlobalAvgPool3D(), nn.Dense(2, activation="softmax")], seed=0)


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Volumes of noise with a bright blob in the front half (class 1) or the back half (class 0)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.3, (n, 8, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 2, n)
    x[y == 1, :4, 2:6, 2:6] += 1.5
    x[y == 0, 4:, 2:6, 2:6] += 1.5
    return x, y


def test_small_model_trains_and_round_trips_through_a_file(tmp_path: Path) -> None:
    model = small_model()
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    x, y = synthetic(64, 0)
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses
    x_test, y_test = synthetic(32, 1)
    assert np.mean(model.predict(x_test).argmax(axis=1) == y_test) > 0.7
    loaded = nn.load_model(model.save(tmp_path / "m.npz"))
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x_test), model.predict(x_test))


def test_small_model_gradients_match_finite_differences() -> None:
    model = nn.Sequential([nn.Input((5, 4, 6, 2)), Conv3D(3, 2, padding="same", activation="tanh"),
                           AvgPool3D(2, 1), MaxPool3D(2, padding="same"), GlobalMaxPool3D(), nn.Dense(2)], seed=1,
                          dtype="float64")
    errors = check_module(model, volumes(2, (5, 4, 6, 2)))
    assert max(errors.values()) < TOL, errors


def test_keras_io_ct_scan_architecture_builds() -> None:
    """keras-io's "3D image classification from CT scans" model, built on empty-batch probes (no activations)."""
    inputs = nn.Input((128, 128, 64, 1))
    h = inputs
    for filters in (64, 64, 128, 256):
        h = Conv3D(filters=filters, kernel_size=3, activation="relu")(h)
        h = MaxPool3D(pool_size=2)(h)
        h = nn.BatchNorm()(h)
    assert tuple(h.shape) == (None, 6, 6, 2, 256)
    h = GlobalAvgPool3D()(h)
    h = nn.Dense(units=512, activation="relu")(h)
    h = nn.Dropout(0.3)(h)
    outputs = nn.Dense(units=1, activation="sigmoid")(h)
    model = nn.Model(inputs, outputs)
    assert tuple(outputs.shape) == (None, 1)
    # Keras's summary of the same model: convolutions 27*C*F + F, BatchNorm 4 per channel, the Dense layers
    assert model.count_params() == 1_352_897


def test_batch_norm_normalizes_volumes_per_channel() -> None:
    """The CT-scan model puts BatchNorm after MaxPool3D: it must normalize ``(N, D, H, W, C)`` over all but C."""
    x = np.random.default_rng(10).normal(2.0, 3.0, (4, 3, 2, 3, 5))
    layer = f64(nn.BatchNorm())
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 1, 2, 3)), 1, rtol=1e-3)
    errors = check_module(nn.BatchNorm(), x, training=True)
    assert max(errors.values()) < TOL, errors
