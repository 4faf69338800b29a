"""Ensemble: the mean of its members' outputs, one model file, and clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidTypeError, InvalidValueError, ShapeError


def data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float32)


def member(seed, loss="binary_crossentropy", dtype="float32", inputs=None):
    x, y = data()
    model = nn.Sequential([nn.Dense(6, activation="relu"), nn.Dense(1, activation="sigmoid")], seed=seed, dtype=dtype)
    model.compile(loss, nn.Adam(lr=1e-2), metrics=["accuracy"])
    model.fit((x if inputs is None else inputs).astype(dtype), y, epochs=5, verbose=0)
    return model


def test_output_is_the_mean_of_the_members():
    x, _ = data(seed=1)
    members = [member(s) for s in range(3)]
    ensemble = nn.Ensemble(members)
    expected = np.mean([m.predict_proba(x) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict_proba(x), expected, rtol=1e-6)
    np.testing.assert_array_equal(ensemble.predict_classes(x), (expected.reshape(-1) > 0.5).astype(np.int64))


def test_takes_over_the_members_loss_and_evaluates():
    x, y = data(seed=2)
    ensemble = nn.Ensemble([member(0), member(1)])
    assert isinstance(ensemble.loss, nn.BinaryCrossEntropy)
    ensemble.compile("binary_crossentropy", metrics=["accuracy"])
    scores = ensemble.evaluate(x, y, return_dict=True)
    assert scores["accuracy"] == pytest.approx(ensemble.score(x, y))


def test_save_and_load_give_the_same_predictions(tmp_path):
    x, _ = data(seed=3)
    ensemble = nn.Ensemble([member(s) for s in range(3)])
    loaded = nn.load(ensemble.save(tmp_path / "ensemble.npz"))
    assert isinstance(loaded, nn.Ensemble) and len(loaded.members) == 3
    np.testing.assert_array_equal(loaded.predict(x), ensemble.predict(x))
    assert "members.2.layers.1.weight" in loaded.state_dict()


def test_an_ensemble_is_a_graph_model_that_can_be_trained_as_a_whole():
    x, y = data()
    members = [member(0), member(1)]
    ensemble = nn.Ensemble(members)
    assert isinstance(ensemble.layers[-1], nn.Average)
    before = [m.get_weights() for m in members]
    ensemble.compile("binary_crossentropy", nn.Adam(lr=1e-2))
    history = ensemble.fit(x, y, epochs=5, verbose=0)
    assert history["loss"][-1] < history["loss"][0]
    for m, old in zip(members, before):  # both members moved: the gradient of the average reaches each
        assert any(not np.array_equal(a, b) for a, b in zip(m.get_weights(), old))


def test_bad_members_are_refused():
    with pytest.raises(InvalidValueError, match="at least one"):
        nn.Ensemble([])
    with pytest.raises(InvalidTypeError, match="member 1 must be a Model"):
        nn.Ensemble([member(0), nn.Dense(1)])
    with pytest.raises(InvalidTypeError, match="list of models"):
        nn.Ensemble(member(0))
    with pytest.raises(InvalidValueError, match="one dtype"):
        nn.Ensemble([member(0), member(1, dtype="float64")])
    wide = np.zeros((120, 4), np.float32)
    with pytest.raises(ShapeError, match="different inputs"):
        nn.Ensemble([member(0), member(1, inputs=wide)])
    with pytest.raises(InvalidTypeError, match="pass its members"):
        nn.Ensemble([nn.Ensemble([member(0)])])
