"""Losses: values against hand formulas, gradient checks, stability at logits of +-1e4, target checks."""

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.training import losses
from nnscratch.utils.gradcheck import check_loss

rng = np.random.default_rng(0)
LOGITS = rng.standard_normal((5, 4))
PROBS = 1 / (1 + np.exp(-rng.standard_normal((5, 1))))
BIN = rng.integers(0, 2, size=(5, 1)).astype(float)
LABELS = np.array([0, 3, 1, 2, 3])


@pytest.mark.parametrize("loss,pred,target", [
    (losses.MeanSquaredError(), LOGITS, rng.standard_normal((5, 4))),
    (losses.MeanAbsoluteError(), LOGITS, rng.standard_normal((5, 4))),
    (losses.BinaryCrossEntropy(), PROBS, BIN),
    (losses.BinaryCrossEntropy(from_logits=True), LOGITS[:, :1], BIN),
    (losses.BinaryCrossEntropy(from_logits=True), LOGITS, (rng.random((5, 4)) > 0.5).astype(float)),
    (losses.CategoricalCrossEntropy(from_logits=True), LOGITS, LABELS),
    (losses.CategoricalCrossEntropy(from_logits=True), LOGITS, np.eye(4)[LABELS]),
    (losses.CategoricalCrossEntropy(), np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True), LABELS),
    (losses.CategoricalCrossEntropy(), np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True), np.eye(4)[LABELS]),
    (losses.CategoricalCrossEntropy(from_logits=True, label_smoothing=0.1), LOGITS, LABELS),
])
def test_gradients_match_finite_differences(loss, pred, target):
    assert check_loss(loss, pred, target) < 1e-6


@pytest.mark.parametrize("from_logits", [True, False])
def test_class_indices_give_the_one_hot_value_and_gradient(from_logits):
    """Class indices take a shorter path (no one-hot matrix); the numbers are those of the one-hot rows."""
    pred = LOGITS if from_logits else np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
    by_index, by_row = (losses.CategoricalCrossEntropy(from_logits=from_logits) for _ in range(2))
    assert by_index.forward(pred, LABELS) == pytest.approx(by_row.forward(pred, np.eye(4)[LABELS]), rel=1e-14)
    np.testing.assert_allclose(by_index.backward(), by_row.backward(), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(by_index.sample_losses, by_row.sample_losses, rtol=1e-14)


def test_values_match_formulas():
    y = rng.standard_normal((5, 4))
    assert np.isclose(losses.MeanSquaredError()(LOGITS, y), np.mean((LOGITS - y) ** 2))
    assert np.isclose(losses.MeanAbsoluteError()(LOGITS, y), np.mean(np.abs(LOGITS - y)))
    p, t = PROBS, BIN
    assert np.isclose(losses.BinaryCrossEntropy()(p, t), -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))
    z = LOGITS[:, :1]
    s = 1 / (1 + np.exp(-z))
    assert np.isclose(losses.BinaryCrossEntropy(from_logits=True)(z, t), -np.mean(t * np.log(s) + (1 - t) * np.log(1 - s)))
    logp = LOGITS - np.log(np.exp(LOGITS).sum(1, keepdims=True))
    assert np.isclose(losses.CategoricalCrossEntropy(from_logits=True)(LOGITS, LABELS), -logp[np.arange(5), LABELS].mean())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_at_extreme_logits(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        ce = losses.CategoricalCrossEntropy(from_logits=True)
        value = ce(z, np.array([1, 1]))
        grad = ce.backward()
        assert np.isclose(value, 1e4, rtol=1e-6)  # first row: log-prob of class 1 is -2e4, second row: ~0
        assert np.all(np.isfinite(grad)) and grad.dtype == dtype
        bce = losses.BinaryCrossEntropy(from_logits=True)
        value = bce(z[:, :1], np.array([0.0, 0.0]))
        assert np.isclose(value, 5e3, rtol=1e-6)
        assert np.all(np.isfinite(bce.backward()))
        sig = nn.Sigmoid().forward(z)
        soft = nn.Softmax().forward(z)
        assert np.all((sig >= 0) & (sig <= 1)) and np.allclose(soft.sum(1), 1)
        probs = losses.BinaryCrossEntropy()
        assert np.isfinite(probs(sig[:, :1], np.array([0.0, 1.0]))) and np.all(np.isfinite(probs.backward()))


def test_fused_softmax_crossentropy_trains_at_huge_logits():
    model = nn.Sequential([nn.Dense(3), nn.Softmax()], seed=0, dtype="float64")
    model.compile(loss="categorical_crossentropy", optimizer=nn.SGD(lr=0.1))
    model.build((2,))
    model.layers[0].weight.data[:] = [[1e4, 0, -1e4], [0, 1e4, -1e4]]
    history = model.fit(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([2, 2]), epochs=1, verbose=0)
    assert np.isfinite(history["loss"][0]) and history["loss"][0] > 1e3


def test_target_errors():
    ce = losses.CategoricalCrossEntropy(from_logits=True)
    with pytest.raises(InvalidValueError, match="label 4 out of range"):
        ce(LOGITS, np.array([0, 1, 2, 3, 4]))
    with pytest.raises(InvalidValueError, match="whole numbers"):
        ce(LOGITS, np.array([0, 1.5, 2, 3, 1]))
    with pytest.raises(ShapeError, match="expected"):
        losses.MeanSquaredError()(LOGITS, np.zeros((5, 3)))


def test_lookup_by_name_suggests():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert losses.get("softmax_crossentropy").from_logits
    with pytest.raises(InvalidValueError, match="did you mean 'binary_crossentropy'"):
        losses.get("binary_crosentropy")


def test_keras_loss_functions_name_built_in_losses():
    from nnscratch import keras
    assert type(losses.get(keras.losses.mean_squared_error)) is losses.MeanSquaredError
    assert type(losses.get(keras.losses.binary_crossentropy)) is losses.BinaryCrossEntropy
    nn.set_random_seed(0)
    model = nn.Sequential([nn.Dense(1)])
    model.compile(loss=keras.losses.mean_squared_error, optimizer="sgd")
    history = model.fit(np.ones((4, 2), np.float32), np.ones((4, 1), np.float32), epochs=2, verbose=0)
    assert len(history["loss"]) == 2
