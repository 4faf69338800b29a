"""DepthwiseConv2D and SeparableConv2D: PyTorch's grouped convolution as the oracle (when installed), float64
gradient checks, Keras's weight layout and config, training inside a model, ONNX export in onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.utils.gradcheck import check_module

rng = np.random.default_rng(0)


def torch_depthwise(x: np.ndarray, kernel: np.ndarray, strides: tuple[int, int], dilation: tuple[int, int],
                    pads: tuple[int, int]) -> np.ndarray:
    torch = pytest.importorskip("torch")
    kh, kw, c, m = kernel.shape
    weight = torch.from_numpy(kernel.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw).copy())
    y = torch.nn.functional.conv2d(torch.from_numpy(x).permute(0, 3, 1, 2), weight, stride=strides,
                                   padding=pads, dilation=dilation, groups=c)
    return y.permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("kwargs, pads", [
    (dict(kernel_size=3), (0, 0)), (dict(kernel_size=(2, 3), strides=2, depth_multiplier=3), (0, 0)),
    (dict(kernel_size=3, padding=1, dilation_rate=2), (1, 1)), (dict(kernel_size=3, padding="same"), (1, 1)),
])
def test_depthwise_matches_torch_grouped_convolution(kwargs, pads) -> None:
    x = rng.normal(size=(2, 9, 8, 4))
    layer = nn.DepthwiseConv2D(use_bias=False, **kwargs).set_dtype("float64")
    y = layer.forward(x)
    expected = torch_depthwise(x, layer.weight.data, layer.strides, layer.dilation, pads)
    np.testing.assert_allclose(y, expected, atol=1e-12)
    assert y.shape[1:] == layer.output_shape


def test_separable_is_depthwise_then_pointwise() -> None:
    x = rng.normal(size=(2, 6, 6, 3))
    sep = nn.SeparableConv2D(5, 3, padding="same", depth_multiplier=2, activation="relu").set_dtype("float64")
    y = sep.forward(x)
    depthwise = nn.DepthwiseConv2D(3, padding="same", depth_multiplier=2, use_bias=False).set_dtype("float64")
    depthwise.build(x.shape[1:])
    depthwise.weight.data[...] = sep.depthwise_kernel.data
    h = depthwise.forward(x)
    expected = np.maximum(h @ sep.pointwise_kernel.data[0, 0] + sep.bias.data, 0)
    np.testing.assert_allclose(y, expected, atol=1e-12)
    assert [w.shape for w in sep.get_weights()] == [(3, 3, 3, 2), (1, 1, 6, 5), (5,)]  # Keras's order


@pytest.mark.parametrize("make", [
    lambda: nn.DepthwiseConv2D(3),
    lambda: nn.DepthwiseConv2D((2, 3), strides=2, padding="same", depth_multiplier=2, activation="tanh"),
    lambda: nn.DepthwiseConv2D(3, dilation_rate=2, padding="same", use_bias=False),
    lambda: nn.SeparableConv2D(4, 3, padding="same", activation="relu"),
    lambda: nn.SeparableConv2D(5, 2, strides=2, depth_multiplier=2),
])
def test_gradient_check(make) -> None:
    errors = check_module(make(), rng.normal(size=(2, 7, 6, 3)))
    assert max(errors.values()) < 1e-7, errors


def test_first_layer_of_a_model_still_trains_its_depthwise_kernel() -> None:
    model = nn.Sequential([nn.Input((8, 8, 3)), nn.SeparableConv2D(4, 3, activation="relu"),
                           nn.GlobalAvgPool2D(), nn.Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=nn.SGD(lr=0.1))
    before = [w.copy() for w in model.get_weights()]
    model.fit(rng.normal(size=(16, 8, 8, 3)).astype(np.float32), rng.normal(size=(16, 1)).astype(np.float32),
              epochs=2, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_saved_and_exported(tmp_path: Path) -> None:
    x = nn.Input((10, 9, 3))
    h = nn.SeparableConv2D(6, 3, padding="same", activation="relu", depth_multiplier=2)(x)
    y = nn.DepthwiseConv2D((3, 2), strides=2, padding="same", activation="sigmoid")(h)
    model = nn.Model(inputs=x, outputs=y)
    data = rng.normal(size=(3, 10, 9, 3)).astype(np.float32)
    reloaded = nn.load_model(model.save(tmp_path / "m.npz"))
    np.testing.assert_array_equal(reloaded.predict(data), model.predict(data))
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(model.export(tmp_path / "m.onnx")), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: data})[0]
    np.testing.assert_allclose(got, model.predict(data), atol=1e-5)


def test_errors() -> None:
    with pytest.raises(InvalidValueError, match="depth_multiplier"):
        nn.DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(InvalidValueError, match="channels-last"):
        nn.SeparableConv2D(4, 3, data_format="channels_first")
    with pytest.raises(ShapeError, match="DepthwiseConv2D window 5x5 is larger"):
        nn.DepthwiseConv2D(5).forward(np.zeros((1, 3, 3, 2), np.float32))
