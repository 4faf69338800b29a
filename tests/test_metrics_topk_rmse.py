"""Top-k accuracy against a brute-force count (ties count as hits, as TensorFlow's in_top_k), and the root
mean squared error as the root of the whole evaluation's mean, not a mean of batch roots."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras

rng = np.random.default_rng(0)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_top_k_matches_a_brute_force_count(k) -> None:
    scores = rng.random((200, 10))
    labels = rng.integers(0, 10, 200)
    expected = np.mean([labels[i] in np.argsort(-scores[i])[:k] for i in range(200)])
    assert keras.metrics.SparseTopKCategoricalAccuracy(k=k)(labels, scores) == pytest.approx(expected)
    onehot = np.eye(10)[labels]
    assert keras.metrics.TopKCategoricalAccuracy(k=k)(onehot, scores) == pytest.approx(expected)
    assert keras.metrics.top_k_categorical_accuracy(onehot, scores, k).mean() == pytest.approx(expected)
    assert keras.metrics.sparse_top_k_categorical_accuracy(labels, scores, k).mean() == pytest.approx(expected)
    ties = np.zeros((3, 10))
    assert keras.metrics.SparseTopKCategoricalAccuracy(k=1)(np.array([0, 4, 9]), ties) == 1.0


def test_rmse_is_the_root_of_the_whole_mean() -> None:
    x = rng.normal(size=(50, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + rng.normal(size=(50, 1))).astype(np.float32)
    model = nn.Sequential([nn.Input((3,)), nn.Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=nn.SGD(lr=0.01), metrics=["rmse", keras.metrics.RootMeanSquaredError()])
    results = model.evaluate(x, y, batch_size=7, return_dict=True)
    expected = float(np.sqrt(np.mean((model.predict(x) - y) ** 2)))
    assert results["rmse"] == pytest.approx(expected, rel=1e-6)
    assert results["root_mean_squared_error"] == pytest.approx(expected, rel=1e-6)
    assert results["loss"] == pytest.approx(expected ** 2, rel=1e-5)
    history = model.fit(x, y, epochs=2, batch_size=10, verbose=0)
    assert set(history.history) == {"loss", "rmse", "root_mean_squared_error"}


def test_top_k_in_fit_logs() -> None:
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = rng.integers(0, 6, 40)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["sparse_top_k_categorical_accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=6, name="top6")])
    logs = model.evaluate(x, y, return_dict=True)
    assert logs["top6"] == 1.0  # six classes: the target is always among the top six
    assert logs["sparse_top_k_categorical_accuracy"] == pytest.approx(
        np.mean([y[i] in np.argsort(-model.predict(x)[i])[:5] for i in range(40)]))


def test_two_metrics_of_one_name_are_refused() -> None:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["sparse_top_k_categorical_accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2)])
    with pytest.raises(nn.InvalidValueError, match="two metrics would be logged as 'sparse_top_k_categorical_accuracy'"):
        model.evaluate(np.ones((2, 4), "float32"), np.array([0, 1]))
