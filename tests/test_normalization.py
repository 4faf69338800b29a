"""Normalization: statistics from adapt, the exact affine map and its gradient, errors, save/load."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, NotBuiltError, ShapeError
from nnscratch.utils.gradcheck import check_module


def data(shape=(50, 4), seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(loc=np.arange(shape[-1]) * 3.0, scale=np.arange(1, shape[-1] + 1), size=shape)


@pytest.mark.parametrize("shape", [(50, 4), (20, 3, 5, 2)])
def test_adapt_gives_zero_mean_unit_std_per_last_axis_entry(shape):
    x = data(shape)
    layer = nn.Normalization().set_dtype("float64").adapt(x)
    y = layer.forward(x)
    axes = tuple(range(x.ndim - 1))
    np.testing.assert_allclose(y.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=axes), 1.0, rtol=1e-12)


def test_center_only_and_given_statistics():
    x = data()
    centered = nn.Normalization(scale=False).set_dtype("float64").adapt(x).forward(x)
    np.testing.assert_allclose(centered, x - x.mean(axis=0))
    given = nn.Normalization(mean=[1, 2, 3, 4], std=[2, 2, 4, 4]).set_dtype("float64")
    np.testing.assert_allclose(given.forward(x), (x - [1, 2, 3, 4]) / [2, 2, 4, 4])


def test_constant_feature_uses_epsilon_not_zero():
    x = data()
    x[:, 1] = 7.0
    y = nn.Normalization(epsilon=1e-3).set_dtype("float64").adapt(x).forward(x)
    assert np.all(np.isfinite(y)) and np.all(y[:, 1] == 0.0)


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5, 2)])
def test_gradient_check(shape):
    layer = nn.Normalization().set_dtype("float64").adapt(data(shape, seed=1))
    errors = check_module(layer, data(shape, seed=2))
    assert errors["input"] < 1e-7, errors


def test_same_in_training_and_inference_and_float32():
    x = data().astype(np.float32)
    layer = nn.Normalization().adapt(x)
    y = layer.forward(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, layer.forward(x, training=True))


def test_errors_name_the_problem():
    with pytest.raises(NotBuiltError, match="adapt"):
        nn.Normalization().forward(np.zeros((2, 3), np.float32))
    with pytest.raises(InvalidValueError, match="both mean and std"):
        nn.Normalization(mean=[0.0])
    with pytest.raises(InvalidValueError, match="positive"):
        nn.Normalization(mean=[0.0], std=[0.0])
    layer = nn.Normalization().set_dtype("float64").adapt(data())
    with pytest.raises(ShapeError, match="4 features"):
        layer.forward(np.zeros((2, 5)))
    with pytest.raises(ShapeError, match="samples"):
        nn.Normalization().adapt(np.zeros(5))
    with pytest.raises(InvalidValueError):
        nn.Normalization().adapt(np.full((3, 2), np.nan))


def test_model_with_normalization_trains_and_round_trips(tmp_path):
    x = data((200, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    model = nn.Sequential([nn.Normalization().adapt(x), nn.Dense(8, activation="relu"),
                           nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile("binary_crossentropy", nn.Adam(lr=1e-2), metrics=["accuracy"])
    model.fit(x, y, epochs=30, verbose=0)
    assert model.evaluate(x, y, return_dict=True)["accuracy"] > 0.9
    loaded = nn.load(model.save(tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_adapting_again_replaces_the_statistics():
    layer = nn.Normalization().set_dtype("float64")
    first, second = data(seed=1), data(seed=2) * 5 + 3
    layer.adapt(first)
    layer.forward(first)
    layer.adapt(second)
    np.testing.assert_allclose(layer.forward(second).mean(axis=0), 0.0, atol=1e-12)
