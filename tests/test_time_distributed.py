"""``TimeDistributed``: one layer at every step, its weights shared across steps; gradients, Keras spelling,
saving and ONNX."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import InvalidTypeError, ShapeError
from nnscratch.utils.gradcheck import check_module

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.TimeDistributed(nn.Dense(3, activation="tanh")), (2, 4, 5)),
    (lambda: nn.TimeDistributed(nn.Conv2D(2, 3, padding="same")), (2, 3, 5, 5, 1)),
])
def test_each_step_through_one_layer(make, shape) -> None:
    layer = make().set_dtype(np.float64)
    x = RNG.standard_normal(shape)
    out = layer.forward(x)
    for t in range(shape[1]):  # step by step through the wrapped layer gives the same
        np.testing.assert_allclose(out[:, t], layer.layer.forward(x[:, t]), rtol=1e-12)
    errors = check_module(make(), x)
    assert max(errors.values()) < 1e-7, errors


def test_keras_spelling_saves_and_exports(tmp_path) -> None:
    model = keras.Sequential([keras.Input((3, 8, 8, 1)),
                              keras.layers.TimeDistributed(keras.layers.Conv2D(4, 3, activation="relu")),
                              keras.layers.TimeDistributed(keras.layers.Flatten()),
                              keras.layers.LSTM(5), keras.layers.Dense(2)])
    x = RNG.random((2, 3, 8, 8, 1)).astype(np.float32)
    assert model.predict(x).shape == (2, 2)
    model.save(tmp_path / "td.npz")
    np.testing.assert_array_equal(nn.load_model(tmp_path / "td.npz").predict(x), model.predict(x))
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    session = ort.InferenceSession(str(model.export(tmp_path / "td.onnx")))
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, model.predict(x), rtol=1e-5, atol=1e-6)


def test_bad_uses() -> None:
    with pytest.raises(InvalidTypeError, match="TimeDistributed wraps a layer, got int"):
        nn.TimeDistributed(3)
    with pytest.raises(ShapeError, match=r"TimeDistributed expects sequences of shape \(batch, steps, ...\)"):
        nn.TimeDistributed(nn.Dense(2)).forward(np.ones((4, 3), np.float32))
