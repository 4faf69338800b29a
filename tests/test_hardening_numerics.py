"""Sigmoid accurate to float64 rounding over its whole range; log-probabilities finite where representable."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core import functional as F
from nnscratch.training.losses import CategoricalCrossEntropy

mpmath = pytest.importorskip("mpmath", reason="mpmath computes the exact reference values")
mpmath.mp.prec = 200

XS = np.concatenate([np.linspace(-708.0, 40.0, 1501), np.random.default_rng(0).uniform(-60, 60, 500)])


def exact_sigmoid(x: float) -> float:
    return float(1 / (1 + mpmath.exp(-mpmath.mpf(float(x)))))


def ulps(value: np.ndarray, exact: np.ndarray) -> np.ndarray:
    return np.abs(value.astype(np.float64) - exact) / np.spacing(exact.astype(value.dtype)).astype(np.float64)


def test_float64_sigmoid_is_within_two_ulps_everywhere():
    exact = np.array([exact_sigmoid(x) for x in XS])
    assert ulps(F.sigmoid(XS), exact).max() <= 2


def test_float32_sigmoid_is_within_two_ulps_down_to_its_smallest_normal_value():
    xs = np.linspace(-87.0, 17.0, 1001).astype(np.float32)
    exact = np.array([exact_sigmoid(x) for x in xs], dtype=np.float32)
    y = F.sigmoid(xs)
    assert y.dtype == np.float32 and ulps(y, exact.astype(np.float64)).max() <= 2


def test_tiny_probabilities_are_not_rounded_to_zero():
    assert F.sigmoid(np.array([-700.0]))[0] == pytest.approx(exact_sigmoid(-700.0), rel=1e-15)
    assert F.sigmoid(np.array([-100.0], np.float32))[0] > 0
    assert F.sigmoid(np.array([-746.0]))[0] == 0.0  # below the smallest float64: 0 is the right rounding
    np.testing.assert_array_equal(F.sigmoid(np.array([np.inf, -np.inf, 0.0])), [1.0, 0.0, 0.5])
    assert np.isnan(F.sigmoid(np.array([np.nan]))[0])
    assert F.sigmoid(np.arange(-2, 3)).dtype == np.float64


def test_log_sigmoid_is_finite_and_accurate_for_every_finite_input():
    xs = np.array([-1e4, -700.0, -40.0, -1.0, 0.0, 1.0, 40.0, 700.0])
    exact = np.array([float(-mpmath.log1p(mpmath.exp(-mpmath.mpf(x)))) for x in xs])
    got = F.log_sigmoid(xs)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, exact, rtol=1e-15, atol=0)


def test_log_of_predict_proba_is_finite_for_a_very_negative_logit():
    model = nn.Sequential([nn.Dense(1, activation="sigmoid")], seed=0, dtype=np.float64).build((1,))
    model.load_state_dict({"layers.0.weight": np.array([[1.0]]), "layers.0.bias": np.array([0.0])})
    model.compile("binary_crossentropy", "sgd")
    probs = model.predict_proba(np.array([[-30.0], [-200.0], [-700.0]]))
    assert np.isfinite(np.log(probs)).all()
    np.testing.assert_allclose(np.log(probs[:, 0]), [-30.0, -200.0, -700.0], rtol=1e-12)


def test_categorical_cross_entropy_clips_probabilities_as_documented():
    loss = CategoricalCrossEntropy()
    for dtype, eps in ((np.float32, 1e-7), (np.float64, 1e-15)):
        pred = np.array([[0.0, 1.0]], dtype)
        assert loss.forward(pred, np.array([0])) == pytest.approx(-np.log(dtype(eps)), rel=1e-6)
        assert np.isfinite(loss.backward()).all()
    assert "clipped to [eps, 1]" in CategoricalCrossEntropy.__doc__
