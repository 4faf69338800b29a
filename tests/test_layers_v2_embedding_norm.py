"""Embedding and LayerNormalization: references, finite differences, repeated indices, index checks."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import DTypeError, InvalidValueError
from nnscratch.utils.gradcheck import check_module, relative_error

TOL = 1e-7


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.float64])
def test_embedding_looks_up_rows(dtype: type) -> None:
    layer = nn.Embedding(6, 3)
    index = np.array([[0, 5, 2], [2, 2, 1]])
    y = layer.forward(index.astype(dtype))
    assert y.shape == (2, 3, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y, layer.embeddings.data[index])
    assert np.abs(layer.embeddings.data).max() <= 0.05  # Keras's "uniform": U(-0.05, 0.05)


def test_embedding_gradient_adds_repeated_rows_and_matches_finite_differences() -> None:
    layer = nn.Embedding(5, 4).set_dtype(np.float64)
    index = np.array([[1, 3, 1], [4, 1, 0]], np.float64)  # row 1 read three times, row 2 never
    g = np.random.default_rng(0).standard_normal((2, 3, 4))
    layer.forward(index)
    layer.zero_grad()
    assert layer.backward(g) is None  # indices are not differentiable
    one_hot = np.eye(5)[index.astype(int).reshape(-1)]  # (6, 5)
    np.testing.assert_allclose(layer.embeddings.grad, one_hot.T @ g.reshape(-1, 4), rtol=1e-12)
    assert not layer.embeddings.grad[2].any()
    table = layer.embeddings.data
    numeric = np.zeros_like(table)
    eps = 1e-6
    for i in np.ndindex(table.shape):
        old = table[i]
        table[i] = old + eps
        plus = np.sum(layer.forward(index) * g)
        table[i] = old - eps
        minus = np.sum(layer.forward(index) * g)
        table[i] = old
        numeric[i] = (plus - minus) / (2 * eps)
    assert relative_error(layer.embeddings.grad, numeric) < TOL


@pytest.mark.parametrize(("bad", "message"), [(5, r"holds index 5.*out of range.*input_dim=5.*0\.\.4"),
                                              (-1, r"holds index -1.*out of range"),
                                              (1.5, r"holds 1\.5.*whole numbers"),
                                              (np.nan, r"holds nan.*whole numbers")])
def test_embedding_rejects_bad_indices(bad: float, message: str) -> None:
    x = np.zeros((2, 3))
    x[1, 2] = bad
    with pytest.raises(InvalidValueError, match=r"Embedding input " + message):
        nn.Embedding(5, 2).forward(x)



@pytest.mark.parametrize("dtype", ["int32", "int64", np.uint8])
def test_an_integer_input_feeds_an_embedding_as_keras_declares_it(dtype) -> None:
    tokens = np.random.default_rng(0).integers(0, 50, (8, 5))
    outputs = []
    for input_dtype in (dtype, "float32"):
        nn.set_random_seed(3)
        inputs = nn.Input((5,), dtype=input_dtype)
        assert inputs.dtype == np.float32  # integers travel as float32 (whole numbers exact below 2**24)
        model = nn.Model(inputs, nn.Dense(1)(nn.GlobalAvgPool1D()(nn.Embedding(50, 4)(inputs))))
        model.compile("adam", "mse").fit(tokens, np.ones(8), epochs=2, verbose=0)
        outputs.append(model.predict(tokens))
    np.testing.assert_array_equal(*outputs)


def test_float32_indices_are_refused_where_they_stop_being_exact() -> None:
    layer = nn.Embedding(2 ** 24 + 2, 1)
    layer.build((3,))
    with pytest.raises(DTypeError, match=r"input_dim=16777218 needs integer or float64 indices: float32 holds whole "
                                         r"numbers exactly only up to 16777216"):
        layer.forward(np.zeros((2, 3), np.float32))
    assert layer.forward(np.array([[2 ** 24 + 1, 0, 1]])).shape == (1, 3, 1)  # integers are exact


LN_CASES = [(-1, (3, 6)), (-1, (3, 4, 5)), ([-2, -1], (3, 4, 5)), (1, (3, 4, 5)), ([1, 3], (2, 3, 2, 4))]


def layer_norm_reference(x: np.ndarray, axes: tuple[int, ...], gamma: np.ndarray, beta: np.ndarray,
                         shape: tuple[int, ...], eps: float) -> np.ndarray:
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


@pytest.mark.parametrize(("axis", "shape"), LN_CASES, ids=str)
def test_layer_norm_matches_reference_and_finite_differences(axis: int | list, shape: tuple) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 3 + 1
    layer = nn.LayerNormalization(axis=axis).set_dtype(np.float64)
    layer.forward(x)
    layer.gamma.data[...] = rng.standard_normal(layer.gamma.shape)
    layer.beta.data[...] = rng.standard_normal(layer.beta.shape)
    axes = tuple(sorted(a % len(shape) for a in (axis if isinstance(axis, list) else [axis])))
    broadcast = tuple(shape[a] if a in axes else 1 for a in range(len(shape)))
    expected = layer_norm_reference(x, axes, layer.gamma.data, layer.beta.data, broadcast, 1e-3)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)
    assert layer.gamma.shape == tuple(shape[a] for a in axes)
    errors = check_module(layer, x)
    assert set(errors) == {"input", "gamma", "beta"} and max(errors.values()) < TOL, errors


def test_layer_norm_without_center_or_scale() -> None:
    x = np.random.default_rng(2).standard_normal((4, 5))
    layer = nn.LayerNormalization(center=False, scale=False, epsilon=1e-6).set_dtype(np.float64)
    y = layer.forward(x)
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=-1), 1, atol=1e-5)
    assert layer.weights == [] and check_module(layer, x)["input"] < TOL


def test_layer_norm_is_per_sample() -> None:
    x = np.random.default_rng(3).standard_normal((5, 3, 4)).astype(np.float32)
    layer = nn.LayerNormalization()
    np.testing.assert_allclose(layer.forward(x)[2:3], layer.forward(x[2:3]), rtol=1e-6)


def test_embedding_regularizer_penalizes_the_whole_table_in_training() -> None:
    from nnscratch import keras
    from nnscratch.training.regularization import penalized

    layer = keras.layers.Embedding(7, 3, embeddings_regularizer=keras.regularizers.l2(0.1))
    model = keras.Sequential([keras.Input((2,)), layer, keras.layers.Flatten(), keras.layers.Dense(1)])
    table = layer.embeddings.data
    assert len(list(penalized(model))) == 1
    np.testing.assert_allclose(layer.losses, [0.1 * np.sum(table.astype(np.float64) ** 2)], rtol=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.array([[1, 2]]), np.zeros((1, 1), np.float32)
    no_penalty = float(np.mean(model.predict(x, verbose=0) ** 2))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(no_penalty + layer.losses[0], rel=1e-5)
    copy = keras.layers.Embedding.from_config(layer.get_config())
    assert copy.embeddings_regularizer.get_config() == {"l1": 0.0, "l2": 0.1}
    with pytest.warns(UserWarning, match="input_length"):
        keras.layers.Embedding(7, 3, input_length=5)
    with pytest.raises(InvalidValueError, match="constraints are not supported"):
        keras.layers.Embedding(7, 3, embeddings_constraint="non_neg")
