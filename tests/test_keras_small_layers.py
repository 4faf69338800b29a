"""PReLU, Permute, RepeatVector, GaussianNoise, SpatialDropout1D/2D and Dropout's noise_shape: known values,
float64 gradient checks, training-only randomness, configs, and ONNX export in onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.utils.gradcheck import check_module

rng = np.random.default_rng(0)


def prelu(shared_axes=None, shape=(4, 5, 2)) -> nn.PReLU:
    layer = nn.PReLU(shared_axes=shared_axes).set_dtype("float64")
    layer.build(shape)
    layer.alpha.data[...] = rng.uniform(0.1, 0.5, layer.alpha.data.shape)
    return layer


@pytest.mark.parametrize("make, x", [
    (lambda: prelu(), rng.normal(size=(3, 4, 5, 2))),
    (lambda: prelu([1, 2]), rng.normal(size=(3, 4, 5, 2))),
    (lambda: nn.Permute((3, 1, 2)), rng.normal(size=(2, 3, 4, 5))),
    (lambda: nn.RepeatVector(3), rng.normal(size=(4, 5))),
    (lambda: nn.GaussianNoise(0.3), rng.normal(size=(4, 5))),
    (lambda: nn.SpatialDropout2D(0.5), rng.normal(size=(4, 3, 3, 6))),
    (lambda: nn.SpatialDropout1D(0.5), rng.normal(size=(4, 3, 6))),
    (lambda: nn.Dropout(0.5, noise_shape=(None, 1, None)), rng.normal(size=(4, 3, 6))),
])
def test_gradient_checks_in_training(make, x) -> None:
    errors = check_module(make(), x, training=True, seed=1)
    assert max(errors.values()) < 1e-7, errors


def test_known_values() -> None:
    x = rng.normal(size=(2, 3, 4))
    layer = prelu(shape=(3, 4))
    np.testing.assert_allclose(layer.forward(x), np.where(x > 0, x, layer.alpha.data * x))
    assert prelu([1, 2], shape=(4, 5, 2)).alpha.data.shape == (1, 1, 2)
    np.testing.assert_array_equal(nn.Permute((2, 1)).forward(x), x.transpose(0, 2, 1))
    np.testing.assert_array_equal(nn.RepeatVector(2).forward(x[:, 0]), np.stack([x[:, 0], x[:, 0]], axis=1))
    assert nn.GaussianNoise(1.0).forward(x) is x  # inference: identity
    noisy = nn.GaussianNoise(0.5).set_dtype("float64").forward(np.zeros((4000, 5)), training=True)
    assert abs(noisy.std() - 0.5) < 0.02 and abs(noisy.mean()) < 0.02


def test_spatial_dropout_drops_whole_channels() -> None:
    x = np.ones((50, 4, 4, 8))
    y = nn.SpatialDropout2D(0.5).set_dtype("float64").forward(x, training=True)
    per_channel = y.reshape(50, 16, 8)
    assert np.all(per_channel.min(axis=1) == per_channel.max(axis=1))  # each channel all kept or all dropped
    assert set(np.unique(y)) == {0.0, 2.0} and 0.3 < np.mean(y == 0) < 0.7
    steps = nn.Dropout(0.5, noise_shape=(None, 1, None)).set_dtype("float64").forward(np.ones((50, 6, 8)),
                                                                                   training=True)
    assert np.all(steps.min(axis=1) == steps.max(axis=1))


def test_keras_names_configs_and_export(tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    x = keras.Input((6, 5, 3))
    h = keras.layers.PReLU(shared_axes=[1, 2])(keras.layers.Conv2D(4, 3)(x))
    h = keras.layers.SpatialDropout2D(0.2)(h)
    p = keras.layers.Permute((2, 1))(keras.layers.Reshape((-1, 4))(h))
    r = keras.layers.RepeatVector(2)(keras.layers.Flatten()(keras.layers.GaussianNoise(0.1)(p)))
    model = keras.Model(x, [p, r])
    for layer in model.layers:
        if isinstance(layer, nn.PReLU):
            layer.alpha.data[...] = rng.uniform(0.1, 0.3, layer.alpha.data.shape)
    copy = keras.models.model_from_json(model.to_json())
    assert [type(a) for a in copy.layers] == [type(b) for b in model.layers]
    data = rng.normal(size=(3, 6, 5, 3)).astype(np.float32)
    session = ort.InferenceSession(str(model.export(tmp_path / "m.onnx")), providers=["CPUExecutionProvider"])
    for ours, theirs in zip(model.predict(data), session.run(None, {session.get_inputs()[0].name: data})):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.Permute((1, 1)), InvalidValueError, "permutation of 1..n"),
    (lambda: nn.RepeatVector(0), InvalidValueError, "positive integer"),
    (lambda: nn.PReLU(shared_axes=[0]), InvalidValueError, "axes >= 1"),
    (lambda: nn.GaussianNoise(-1.0), InvalidValueError, "stddev"),
    (lambda: nn.GaussianNoise(0.1, seed=1.5), InvalidValueError, r"GaussianNoise seed must be None or a non-negative"),
    (lambda: nn.SpatialDropout2D(0.2).forward(np.ones((2, 3, 4)), training=True), ShapeError, "expects images"),
    (lambda: nn.Dropout(0.2, noise_shape=(None, 2)).forward(np.ones((2, 3)), training=True), ShapeError,
     "does not fit inputs"),
    (lambda: nn.RepeatVector(2).forward(np.ones((2, 3, 4))), ShapeError, "expects vectors"),
])
def test_bad_arguments(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()
