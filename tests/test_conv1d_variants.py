"""DepthwiseConv1D, SeparableConv1D and Conv1DTranspose (Keras 3's layers): float64 finite differences, NumPy loop
references (Keras's transposed-convolution padding rule as its JAX backend applies it), PyTorch's grouped and
transposed convolutions, Keras's weight layout, sequences of any length, configs and model files, ONNX export,
and one clear error for each bad argument."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.training.regularization import penalized
from nnscratch.utils.gradcheck import check_module

TOL = 1e-7
CHANNELS = 3

DEPTHWISE = [
    dict(kernel_size=3),
    dict(kernel_size=2, strides=2, padding="same", depth_multiplier=3),
    dict(kernel_size=3, padding="same", dilation_rate=2, use_bias=False),
    dict(kernel_size=3, strides=2, dilation_rate=2, padding="same", depth_multiplier=2, activation="tanh"),
    dict(kernel_size=4, strides=3),
    dict(kernel_size=1, depth_multiplier=2, padding="same"),
]
SEPARABLE = [
    dict(filters=4, kernel_size=3),
    dict(filters=2, kernel_size=3, padding="same", depth_multiplier=2, activation="tanh"),
    dict(filters=3, kernel_size=2, strides=2, dilation_rate=1, use_bias=False),
    dict(filters=5, kernel_size=2, strides=2, dilation_rate=3, padding="same", depth_multiplier=3),
]
TRANSPOSE = [
    dict(filters=2, kernel_size=3),
    dict(filters=3, kernel_size=3, strides=2, padding="same"),
    dict(filters=2, kernel_size=4, strides=2, padding="same"),
    dict(filters=2, kernel_size=2, strides=3),  # the window is shorter than the stride: zero steps between patches
    dict(filters=2, kernel_size=3, strides=2, output_padding=1),
    dict(filters=2, kernel_size=4, strides=3, padding="same", output_padding=2, activation="tanh"),
    dict(filters=2, kernel_size=2, strides=2, padding="same", output_padding=1),
    dict(filters=2, kernel_size=3, dilation_rate=2, padding="same", use_bias=False),
    dict(filters=2, kernel_size=2, dilation_rate=3, output_padding=0),
    dict(filters=1, kernel_size=1, strides=3, padding="same", output_padding=2),
]
LAYERS: list[tuple[str, type, dict]] = ([("DepthwiseConv1D", nn.DepthwiseConv1D, c) for c in DEPTHWISE]
                                        + [("SeparableConv1D", nn.SeparableConv1D, c) for c in SEPARABLE]
                                        + [("Conv1DTranspose", nn.Conv1DTranspose, c) for c in TRANSPOSE])
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in config.items())}" for name, _, config in LAYERS]


def sequences(n: int, length: int, seed: int = 0, channels: int = CHANNELS) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, length, channels))


def same_pads(length: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's "same" padding, written out again: ``ceil(length / s)`` outputs, the extra zero at the end."""
    total = max((-(-length // s) - 1) * s + d * (k - 1) + 1 - length, 0)
    return total // 2, total - total // 2


def depthwise_reference(x: np.ndarray, kernel: np.ndarray, s: int, d: int, padding: str) -> np.ndarray:
    """Loops over output steps and kernel offsets; output channel ``c*M + m``."""
    k, c, m = kernel.shape
    pads = same_pads(x.shape[1], k, s, d) if padding == "same" else (0, 0)
    xp = np.pad(x, ((0, 0), pads, (0, 0)))
    out = (xp.shape[1] - d * (k - 1) - 1) // s + 1
    y = np.zeros((len(x), out, c, m))
    for t in range(out):
        for i in range(k):
            y[:, t] += xp[:, t * s + i * d, :, None] * kernel[i]
    return y.reshape(len(x), out, c * m)


def keras_transpose_reference(x: np.ndarray, kernel: np.ndarray, s: int, d: int, padding: str,
                              output_padding: int | None) -> np.ndarray:
    """Keras's transposed convolution as its JAX backend computes it: the input dilated by ``s``, padded by Keras's
    ``_convert_conv_transpose_padding_args_from_keras_to_jax`` rule, correlated with the flipped kernel."""
    k, f, _ = kernel.shape
    span = (k - 1) * d + 1
    if padding == "valid":
        extra = max(span, s) - span if output_padding is None else output_padding
        left, right = span - 1, span - 1 + extra
    else:
        pad_len = s + span - 2 if output_padding is None else span + span % 2 - 2 + output_padding
        left = min(pad_len // 2 + pad_len % 2, span - 1)
        right = pad_len - left
    n, length, c = x.shape
    dilated = np.zeros((n, (length - 1) * s + 1, c))
    dilated[:, ::s] = x
    xp = np.pad(dilated, ((0, 0), (left, right), (0, 0)))
    out = xp.shape[1] - span + 1
    y = np.zeros((n, out, f))
    for t in range(out):
        for i in range(k):
            y[:, t] += xp[:, t + i * d] @ kernel[k - 1 - i].T
    return y


def finished(layer: Any, linear: np.ndarray) -> np.ndarray:
    """``linear`` plus the layer's bias, through its activation (``tanh`` or none in these tests)."""
    last = layer.pointwise if isinstance(layer, nn.SeparableConv1D) else layer
    y = linear + (last.bias.data if last.bias is not None else 0)
    return np.tanh(y) if type(last.activation).__name__ == "Tanh" else y


@pytest.mark.parametrize(("name", "cls", "config"), LAYERS, ids=IDS)
def test_gradients_match_finite_differences(name: str, cls: type, config: dict) -> None:
    layer = cls(**config)
    errors = check_module(layer, sequences(2, 9))
    assert max(errors.values()) < TOL, errors
    layer.backward(np.ones_like(layer.forward(sequences(2, 9))))  # a second call of the same record


@pytest.mark.parametrize("config", DEPTHWISE, ids=str)
def test_depthwise_matches_loops(config: dict) -> None:
    x = sequences(2, 11, 1)
    layer = nn.DepthwiseConv1D(**config).set_dtype(np.float64)
    got = layer.forward(x)
    want = depthwise_reference(x, layer.weight.data, layer.strides, layer.dilation_rate, layer.padding)
    np.testing.assert_allclose(got, finished(layer, want), rtol=1e-10, atol=1e-12)
    assert got.shape[1:] == (layer.layout(11)[1], CHANNELS * layer.depth_multiplier)


@pytest.mark.parametrize("config", SEPARABLE, ids=str)
def test_separable_is_depthwise_then_pointwise(config: dict) -> None:
    x = sequences(2, 10, 2)
    layer = nn.SeparableConv1D(**config).set_dtype(np.float64)
    y = layer.forward(x)
    d = layer.depthwise
    h = depthwise_reference(x, layer.depthwise_kernel.data, d.strides, d.dilation_rate, d.padding)
    np.testing.assert_allclose(y, finished(layer, h @ layer.pointwise_kernel.data[0]), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("config", TRANSPOSE, ids=str)
def test_transpose_follows_keras_padding_rule(config: dict) -> None:
    x = sequences(2, 5, 3)
    layer = nn.Conv1DTranspose(**config).set_dtype(np.float64)
    y = layer.forward(x)
    want = keras_transpose_reference(x, layer.weight.data, layer.strides, layer.dilation_rate, layer.padding,
                                     layer.output_padding)
    np.testing.assert_allclose(y, finished(layer, want), rtol=1e-10, atol=1e-12)


def test_transpose_output_lengths_are_keras_formulas() -> None:
    assert nn.Conv1DTranspose(32, 3, 2, activation="relu")(np.zeros((4, 10, 128), np.float32)).shape == (4, 21, 32)
    for length in (1, 4, 7):
        for k in (1, 2, 3, 4, 5):
            for s in (1, 2, 3):
                span = k
                assert nn.Conv1DTranspose(1, k, s).geometry(length)[0] == (length - 1) * s + max(span, s)
                assert nn.Conv1DTranspose(1, k, s, "same").geometry(length)[0] == length * s
                for op in range(s):
                    assert nn.Conv1DTranspose(1, k, s, output_padding=op).geometry(length)[0] == \
                        (length - 1) * s + span + op
                    if (length - 1) * s + span % 2 + op > 0:
                        assert nn.Conv1DTranspose(1, k, s, "same", output_padding=op).geometry(length)[0] == \
                            (length - 1) * s + span % 2 + op


def test_transpose_is_the_input_gradient_of_conv1d() -> None:
    x = sequences(2, 6, 4)
    for k, s, padding in [(3, 1, "valid"), (3, 2, "same"), (4, 2, "same"), (3, 2, "valid")]:
        up = nn.Conv1DTranspose(2, k, strides=s, padding=padding, use_bias=False).set_dtype(np.float64)
        y = up.forward(x)
        conv = nn.Conv1D(CHANNELS, k, strides=s, padding=padding, use_bias=False).set_dtype(np.float64)
        assert conv.forward(np.zeros_like(y)).shape == x.shape
        conv.weight.data[...] = up.weight.data  # (K, 2, C) in both layouts
        np.testing.assert_allclose(conv.backward(x), y, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("config", DEPTHWISE, ids=str)
def test_depthwise_matches_torch_grouped_convolution(config: dict) -> None:
    torch = pytest.importorskip("torch")
    x = sequences(2, 12, 4)
    layer = nn.DepthwiseConv1D(**config).set_dtype(np.float64)
    y = layer.forward(x)
    k, c, m = layer.weight.shape
    weight = torch.from_numpy(layer.weight.data.transpose(1, 2, 0).reshape(c * m, 1, k).copy())
    pads = same_pads(12, k, layer.strides, layer.dilation_rate) if layer.padding == "same" else (0, 0)
    xt = torch.nn.functional.pad(torch.from_numpy(x).permute(0, 2, 1), pads)
    want = torch.nn.functional.conv1d(xt, weight, stride=layer.strides, dilation=layer.dilation_rate, groups=c)
    np.testing.assert_allclose(y, finished(layer, want.permute(0, 2, 1).numpy()), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("config", TRANSPOSE, ids=str)
def test_transpose_matches_torch_conv_transpose(config: dict) -> None:
    torch = pytest.importorskip("torch")
    x = sequences(2, 6, 5)
    layer = nn.Conv1DTranspose(**config).set_dtype(np.float64)
    y = layer.forward(x)
    out, before, full = layer.geometry(6)
    full_y = torch.nn.functional.conv_transpose1d(  # weight (C, F, K); output (N, F, (L-1)*s + K')
        torch.from_numpy(x).permute(0, 2, 1), torch.from_numpy(layer.weight.data.transpose(2, 1, 0).copy()),
        stride=layer.strides, dilation=layer.dilation_rate).permute(0, 2, 1).numpy()
    assert full_y.shape[1] == full
    want = np.pad(full_y, ((0, 0), (0, max(before + out - full, 0)), (0, 0)))[:, before:before + out]
    np.testing.assert_allclose(y, finished(layer, want), rtol=1e-10, atol=1e-12)


def test_keras_weight_layout_names_and_set_weights() -> None:
    x = sequences(2, 8).astype(np.float32)
    depthwise = nn.DepthwiseConv1D(3, depth_multiplier=2)
    separable = nn.SeparableConv1D(5, 3, depth_multiplier=2)
    transpose = nn.Conv1DTranspose(4, 3, strides=2)
    for layer, shapes in [(depthwise, [(3, 3, 2), (6,)]), (separable, [(3, 3, 2), (1, 6, 5), (5,)]),
                          (transpose, [(3, 4, 3), (4,)])]:
        layer(x)
        assert [w.shape for w in layer.get_weights()] == shapes  # Keras's shapes, in Keras's order
        arrays = [np.random.default_rng(1).standard_normal(s).astype(np.float32) for s in shapes]
        layer.set_weights(arrays)
        for got, want in zip(layer.get_weights(), arrays):
            np.testing.assert_array_equal(got, want)
    assert depthwise.kernel is depthwise.weight is depthwise.depthwise_kernel
    assert separable.depthwise_kernel is separable.depthwise.weight and separable.bias is separable.pointwise.bias
    assert transpose.kernel is transpose.weight


def test_first_layer_of_a_model_trains_every_weight() -> None:
    rng = np.random.default_rng(4)
    for first in (nn.SeparableConv1D(4, 3, activation="relu"), nn.DepthwiseConv1D(3, padding="same"),
                  nn.Conv1DTranspose(3, 3, strides=2)):
        model = nn.Sequential([nn.Input((8, CHANNELS)), first, nn.GlobalAvgPool1D(), nn.Dense(1)], seed=0)
        model.compile(loss="mse", optimizer=nn.SGD(lr=0.1))
        before = [w.copy() for w in model.get_weights()]
        model.fit(rng.normal(size=(16, 8, CHANNELS)).astype(np.float32), rng.normal(size=(16, 1)).astype(np.float32),
                  epochs=2, verbose=0)
        assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_regularizers_reach_the_loss() -> None:
    x = np.zeros((1, 6, CHANNELS), np.float32)
    layers = [nn.DepthwiseConv1D(3, depthwise_regularizer="l2", bias_regularizer="l1"),
              nn.SeparableConv1D(2, 3, depthwise_regularizer="l1", pointwise_regularizer="l2", bias_regularizer="l2"),
              nn.Conv1DTranspose(2, 3, kernel_regularizer="l2")]
    for layer, count in zip(layers, (2, 3, 1)):
        layer(x)
        assert len(list(penalized(layer))) == len(layer.losses) == count
        assert type(layer)(**layer.get_config()).get_config() == layer.get_config()


# ------------------------------------------------------------------ sequences of any length
VARIABLE: dict[str, Callable[[], Any]] = {
    "DepthwiseConv1D-valid-dilated": lambda: nn.DepthwiseConv1D(3, dilation_rate=2, depth_multiplier=2),
    "DepthwiseConv1D-same-strided": lambda: nn.DepthwiseConv1D(3, strides=2, padding="same", activation="tanh"),
    "SeparableConv1D-same": lambda: nn.SeparableConv1D(4, 3, padding="same", depth_multiplier=2),
    "SeparableConv1D-strided": lambda: nn.SeparableConv1D(2, 2, strides=2, use_bias=False),
    "Conv1DTranspose-valid": lambda: nn.Conv1DTranspose(2, 3, strides=2),
    "Conv1DTranspose-same-output_padding": lambda: nn.Conv1DTranspose(3, 4, strides=2, padding="same",
                                                                      output_padding=1),
    "Conv1DTranspose-dilated": lambda: nn.Conv1DTranspose(2, 2, dilation_rate=2, padding="same"),
}


def _model(make: Callable[[], Any], length: int | None) -> nn.Model:
    inputs = nn.Input(shape=(length, CHANNELS), dtype="float64")
    return nn.Model(inputs, make()(inputs), seed=0)


@pytest.mark.parametrize("name", VARIABLE)
def test_each_length_computes_what_a_fixed_model_does(name: str) -> None:
    model = _model(VARIABLE[name], None)
    assert model.input_shape == (None, CHANNELS) and model.outputs[0].shape[:2] == (None, None)
    for length in (5, 8):
        x = sequences(2, length, length)
        errors = check_module(model, x)
        assert max(errors.values()) < TOL, (length, errors)
        fixed = _model(VARIABLE[name], length)
        fixed.set_weights(model.get_weights())
        np.testing.assert_allclose(model.predict(x), fixed.predict(x), rtol=0, atol=1e-12)
        np.testing.assert_allclose(model.forward(x, training=True), fixed.predict(x), rtol=0, atol=1e-12)


def test_a_too_short_sequence_is_one_clear_error() -> None:
    model = _model(lambda: nn.SeparableConv1D(2, 4, dilation_rate=2), None)
    with pytest.raises(ShapeError, match="SeparableConv1D window of 7 steps is longer than its input of 5 steps"):
        model.predict(sequences(1, 5))


# ------------------------------------------------------------------ configs, files, ONNX
def _all_three(length: int | None) -> nn.Model:
    x = nn.Input(shape=(length, CHANNELS))
    h = nn.DepthwiseConv1D(3, padding="same", depth_multiplier=2, activation="relu")(x)
    h = nn.SeparableConv1D(4, 3, strides=2, dilation_rate=2, padding="same", activation="tanh",
                           pointwise_regularizer="l2")(h)
    y = nn.Conv1DTranspose(2, 3, strides=2, output_padding=1, kernel_regularizer="l1")(h)
    return nn.Model(inputs=x, outputs=y)


@pytest.mark.parametrize(("name", "cls", "config"), LAYERS, ids=IDS)
def test_configs_rebuild_equal_layers(name: str, cls: type, config: dict) -> None:
    layer = cls(**config)
    copy = type(layer).from_config(layer.get_config())
    assert copy.get_config() == layer.get_config() and set(config) <= set(layer.get_config())


@pytest.mark.parametrize("length", [11, None])
def test_saved_and_loaded(tmp_path: Path, length: int | None) -> None:
    nn.set_random_seed(3)
    model = _all_three(length)
    data = sequences(3, 11).astype(np.float32)
    loaded = nn.load_model(model.save(tmp_path / "m.npz"))
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(data), model.predict(data))
    if length is None:
        np.testing.assert_array_equal(loaded.predict(data[:, :7]), model.predict(data[:, :7]))


@pytest.mark.parametrize(("name", "cls", "config"), LAYERS, ids=IDS)
def test_onnx_export_matches_predict(tmp_path: Path, name: str, cls: type, config: dict) -> None:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    nn.set_random_seed(5)
    x = nn.Input(shape=(9, CHANNELS))
    model = nn.Model(inputs=x, outputs=cls(**config)(x))
    data = sequences(4, 9, 6).astype(np.float32)
    path = model.export(tmp_path / "m.onnx", format="onnx")
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    groups = [next(a.i for a in node.attribute if a.name == "group") for node in proto.graph.node
              if node.op_type in ("Conv", "ConvTranspose")]
    assert groups == {"DepthwiseConv1D": [CHANNELS], "SeparableConv1D": [CHANNELS, 1], "Conv1DTranspose": [1]}[name]
    assert any(node.op_type == "ConvTranspose" for node in proto.graph.node) == (name == "Conv1DTranspose")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: data})[0]
    np.testing.assert_allclose(got, model.predict(data), rtol=0, atol=1e-5)


def test_onnx_export_of_a_chain(tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    nn.set_random_seed(7)
    model = _all_three(13)
    data = sequences(2, 13, 8).astype(np.float32)
    session = ort.InferenceSession(str(model.export(tmp_path / "m.onnx", format="onnx")),
                                   providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: data})[0]
    np.testing.assert_allclose(got, model.predict(data), rtol=0, atol=1e-5)


# ------------------------------------------------------------------ errors
F32 = np.float32
BAD = [
    (lambda: nn.DepthwiseConv1D(3, padding="causal"), InvalidValueError,
     r"DepthwiseConv1D padding must be 'valid' or 'same' \(as in Keras 3\), got 'causal'; for a causal layer"),
    (lambda: nn.SeparableConv1D(2, 3, padding="full"), InvalidValueError, "SeparableConv1D padding must be 'valid' or 'same'"),
    (lambda: nn.Conv1DTranspose(2, 3, padding="causal"), InvalidValueError, "Conv1DTranspose padding must be 'valid'"),
    (lambda: nn.Conv1DTranspose(2, 3, padding=1), InvalidValueError, "Conv1DTranspose padding must be"),
    (lambda: nn.Conv1DTranspose(2, 3, strides=2, dilation_rate=2), InvalidValueError,
     "Conv1DTranspose does not support strides > 1 together with dilation_rate > 1"),
    (lambda: nn.Conv1DTranspose(2, 3, strides=2, output_padding=2), InvalidValueError,
     "Conv1DTranspose output_padding must be smaller than strides"),
    (lambda: nn.Conv1DTranspose(2, 3, output_padding=1), InvalidValueError,
     "Conv1DTranspose output_padding must be smaller than strides"),
    (lambda: nn.Conv1DTranspose(2, 3, output_padding=-1), InvalidValueError, "Conv1DTranspose output_padding must be"),
    (lambda: nn.Conv1DTranspose(0, 3), InvalidValueError, "Conv1DTranspose filters"),
    (lambda: nn.DepthwiseConv1D(3, depth_multiplier=0), InvalidValueError, "DepthwiseConv1D depth_multiplier"),
    (lambda: nn.SeparableConv1D(2, 3, depth_multiplier=0), InvalidValueError, "SeparableConv1D depth_multiplier"),
    (lambda: nn.SeparableConv1D(0, 3), InvalidValueError, "SeparableConv1D filters"),
    (lambda: nn.DepthwiseConv1D(0), InvalidValueError, "DepthwiseConv1D kernel_size"),
    (lambda: nn.DepthwiseConv1D((3, 3)), InvalidValueError, "DepthwiseConv1D kernel_size"),
    (lambda: nn.SeparableConv1D(2, 3, strides=0), InvalidValueError, "SeparableConv1D strides"),
    (lambda: nn.SeparableConv1D(2, 3, dilation_rate=0), InvalidValueError, "SeparableConv1D dilation_rate"),
    (lambda: nn.SeparableConv1D(2, 3, activity_regularizer="l2"), InvalidValueError, "activity_regularizer"),
    (lambda: nn.DepthwiseConv1D(3, data_format="channels_first"), InvalidValueError, "DepthwiseConv1D works on channels-last"),
    (lambda: nn.Conv1DTranspose(2, 3, data_format="channels_first"), InvalidValueError, "Conv1DTranspose works on channels-last"),
    (lambda: nn.DepthwiseConv1D(3).forward(np.zeros((2, 5), F32)), ShapeError,
     r"DepthwiseConv1D expects inputs of shape \(batch, steps, channels\)"),
    (lambda: nn.SeparableConv1D(2, 3).forward(np.zeros((2, 5, 5, 1), F32)), ShapeError,
     r"SeparableConv1D expects inputs of shape \(batch, steps, channels\)"),
    (lambda: nn.Conv1DTranspose(2, 3).forward(np.zeros((2, 5), F32)), ShapeError,
     r"Conv1DTranspose expects inputs of shape \(batch, steps, channels\)"),
    (lambda: nn.DepthwiseConv1D(9).forward(np.zeros((2, 5, 1), F32)), ShapeError,
     "DepthwiseConv1D window of 9 steps is longer than its input of 5 steps"),
    (lambda: nn.Conv1DTranspose(2, 2, strides=2, padding="same", output_padding=0).forward(np.zeros((1, 1, 1), F32)),
     ShapeError, "Conv1DTranspose with padding='same'.* gives no output step for an input of 1 steps"),
]


@pytest.mark.parametrize(("make", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_arguments_and_inputs_raise_one_clear_error(make: Callable[[], Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make()
