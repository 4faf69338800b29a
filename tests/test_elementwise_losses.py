"""Keras's element-wise losses (log-cosh, MAPE, MSLE, Poisson, KL divergence, hinge, squared hinge): values
against the formulas of Keras's documentation, float64 gradient checks, names, and training with them."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch import keras
from nnscratch.core.errors import ShapeError
from nnscratch.training import elementwise_losses as el
from nnscratch.training import losses
from nnscratch.utils.gradcheck import check_loss

rng = np.random.default_rng(0)
P = rng.uniform(0.1, 0.9, (6, 4))  # away from the clips and kinks, where finite differences hold
T = rng.uniform(0.1, 0.9, (6, 4))
SIGNS = np.where(rng.random((6, 4)) > 0.5, 1.0, -1.0)
SCORES = rng.uniform(-0.8, 0.8, (6, 4)) + 0.1 * np.sign(rng.normal(size=(6, 4)))
EPS = losses._eps(np.dtype(np.float64))  # the clip of a float64 loss

FORMULAS = [
    (el.LogCosh, P, T, lambda p, t: np.log(np.cosh(p - t)).mean(-1)),
    (el.MeanAbsolutePercentageError, P, T, lambda p, t: (100 * np.abs(t - p) / np.abs(t)).mean(-1)),
    (el.MeanSquaredLogarithmicError, P, T, lambda p, t: np.square(np.log(p + 1) - np.log(t + 1)).mean(-1)),
    (el.Poisson, P, T, lambda p, t: (p - t * np.log(p + EPS)).mean(-1)),
    (el.KLDivergence, P, T, lambda p, t: (t * np.log(t / p)).sum(-1)),
    (el.Hinge, SCORES, SIGNS, lambda p, t: np.maximum(1 - t * p, 0).mean(-1)),
    (el.SquaredHinge, SCORES, SIGNS, lambda p, t: np.square(np.maximum(1 - t * p, 0)).mean(-1)),
]


@pytest.mark.parametrize("cls, pred, target, formula", FORMULAS)
def test_values_and_gradients(cls, pred, target, formula) -> None:
    loss = cls()
    value = loss.forward(pred, target)
    np.testing.assert_allclose(loss.sample_losses, formula(pred, target), rtol=1e-12)
    assert value == pytest.approx(formula(pred, target).mean(), rel=1e-12)
    assert check_loss(cls(), pred, target) < 1e-6
    assert check_loss(cls(), pred[..., None].repeat(2, -1), target[..., None].repeat(2, -1)) < 1e-6  # (N, a, b)


def test_log_cosh_is_finite_far_away_and_hinge_takes_0_1_labels() -> None:
    big = el.LogCosh()
    assert big.forward(np.array([[1e4], [-1e4]]), np.zeros((2, 1))) == pytest.approx(1e4 - np.log(2))
    assert np.all(np.isfinite(big.backward()))
    labels01 = (SIGNS > 0).astype(float)
    assert el.Hinge().forward(SCORES, labels01) == pytest.approx(el.Hinge().forward(SCORES, SIGNS))


@pytest.mark.parametrize("name, cls", [("logcosh", el.LogCosh), ("log_cosh", el.LogCosh), ("mape", el.MeanAbsolutePercentageError),
                                       ("msle", el.MeanSquaredLogarithmicError), ("poisson", el.Poisson),
                                       ("kld", el.KLDivergence), ("kl_divergence", el.KLDivergence), ("hinge", el.Hinge),
                                       ("squared_hinge", el.SquaredHinge)])
def test_names_and_keras_functions(name, cls) -> None:
    assert type(losses.get(name)) is cls
    fn = getattr(keras.losses, cls.name)
    assert type(losses.get(fn)) is cls  # compile(loss=keras.losses.kl_divergence) names the built-in loss
    loss = cls()
    loss.forward(P, T)
    np.testing.assert_allclose(fn(T, P), loss.sample_losses)


def test_train_with_each_and_shape_errors() -> None:
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = np.abs(rng.normal(size=(32, 3))).astype(np.float32) + 0.1
    for loss in ("log_cosh", "mape", "msle", "poisson", "kld", "hinge", "squared_hinge"):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="sigmoid")])
        model.compile("adam", loss)
        history = model.fit(x, y, epochs=3, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        with pytest.raises(ShapeError, match=f"loss '{losses.get(loss).name}' needs targets of that shape"):
            model.fit(x, y[:, :2], verbose=0)


@pytest.mark.parametrize("cls, fn", [(keras.metrics.KLDivergence, keras.losses.kl_divergence),
                                     (keras.metrics.Poisson, keras.losses.poisson),
                                     (keras.metrics.LogCoshError, keras.losses.log_cosh),
                                     (keras.metrics.Hinge, keras.losses.hinge),
                                     (keras.metrics.SquaredHinge, keras.losses.squared_hinge),
                                     (keras.metrics.MeanAbsolutePercentageError, keras.losses.mape),
                                     (keras.metrics.MeanSquaredLogarithmicError, keras.losses.msle)])
def test_the_loss_metrics_are_running_means_of_the_losses(cls, fn) -> None:
    metric = cls()
    metric.update_state(T[:4], P[:4])
    metric.update_state(T[4:], P[4:])
    assert metric.result() == pytest.approx(fn(T, P).mean(), rel=1e-6)
    assert type(metric).__name__ == cls.__name__ and metric.name in ("logcosh", fn.__name__)


def test_cosine_similarity_and_categorical_hinge() -> None:
    from nnscratch.training.row_losses import CategoricalHinge, CosineSimilarity

    unit = lambda v: v / np.linalg.norm(v, axis=-1, keepdims=True)  # noqa: E731
    cos = CosineSimilarity()
    cos.forward(P, T)
    np.testing.assert_allclose(cos.sample_losses, -np.sum(unit(P) * unit(T), axis=-1), rtol=1e-12)
    assert cos.forward(T, T) == pytest.approx(-1.0)
    assert check_loss(CosineSimilarity(), P, T) < 1e-6
    onehot = np.eye(4)[[0, 3, 1, 2, 2, 1]]
    scores = np.array([[0.9, 0.1, 0.5, 0.3], [0.2, 0.8, 0.1, 0.4], [0.1, 0.2, 0.7, 0.3], [0.5, 0.6, 0.2, 0.9],
                       [0.3, 0.1, 0.2, 0.4], [0.1, 0.95, 0.3, 0.2]])
    hinge = CategoricalHinge()
    hinge.forward(scores, onehot)
    expected = np.maximum(np.max((1 - onehot) * scores, axis=-1) - np.sum(onehot * scores, axis=-1) + 1, 0)
    np.testing.assert_allclose(hinge.sample_losses, expected)
    assert check_loss(CategoricalHinge(), scores, onehot) < 1e-6
    assert type(losses.get("cosine_similarity")) is CosineSimilarity
    assert type(losses.get(keras.losses.categorical_hinge)) is CategoricalHinge
    metric = keras.metrics.CosineSimilarity()
    metric.update_state(T, P)
    assert metric.result() == pytest.approx(np.mean(np.sum(unit(P) * unit(T), axis=-1)))
