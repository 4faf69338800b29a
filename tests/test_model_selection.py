"""nnscratch.utils.model_selection and scores: stratified folds, class balancing, cross-validation, seed ensembles."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.utils.model_selection import (
    balanced_indices,
    class_labels,
    cross_validate,
    member_seed,
    seed_ensemble,
    stratified_folds,
)
from nnscratch.utils.scores import (
    balanced_accuracy,
    binary_scores,
    class_scores,
    roc_auc,
)

LABELS = np.array([0] * 137 + [1] * 72)  # the cat training set's class counts


def test_stratified_folds_keep_the_class_balance_and_are_seeded() -> None:
    folds = stratified_folds(LABELS, 5, 0)
    assert sorted(np.unique(folds)) == [0, 1, 2, 3, 4]
    for k in range(5):
        assert abs(LABELS[folds == k].mean() - LABELS.mean()) < 0.03
        assert abs((folds == k).sum() - len(LABELS) / 5) <= 2
    np.testing.assert_array_equal(folds, stratified_folds(LABELS, 5, 0))
    assert not np.array_equal(folds, stratified_folds(LABELS, 5, 1))
    with pytest.raises(InvalidValueError, match="k >= 2"):
        stratified_folds(LABELS, 1, 0)


def test_balanced_indices_repeat_the_smaller_class() -> None:
    idx = balanced_indices(LABELS, np.random.default_rng(0))
    chosen = LABELS[idx]
    assert (chosen == 0).sum() == (chosen == 1).sum() == 137
    assert np.array_equal(np.sort(idx[chosen == 0]), np.flatnonzero(LABELS == 0))  # every non-cat once
    counts = np.bincount(idx[chosen == 1], minlength=len(LABELS))[LABELS == 1]
    assert set(counts) == {1, 2} and counts.sum() == 137  # each cat once or twice: 72 + 65


def test_scores() -> None:
    y = np.array([0, 0, 0, 1, 1])
    assert roc_auc(y, [0.1, 0.2, 0.3, 0.8, 0.9]) == 1.0
    assert roc_auc(y, [0.9, 0.8, 0.7, 0.2, 0.1]) == 0.0
    assert roc_auc(y, [0.5] * 5) == 0.5
    assert roc_auc(y, [0.1, 0.5, 0.3, 0.5, 0.9]) == pytest.approx((3 + 2.5) / 6)  # one tie counts 1/2
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3]))
    assert balanced_accuracy(y, [0, 0, 0, 0, 0]) == 0.5  # the constant answer
    assert balanced_accuracy(y, [0, 0, 1, 1, 0]) == pytest.approx((2 / 3 + 1 / 2) / 2)
    s = binary_scores(y, [0.1, 0.2, 0.6, 0.8, 0.4])
    assert s == {"accuracy": 0.6, "balanced_accuracy": pytest.approx((2 / 3 + 1 / 2) / 2), "auc": pytest.approx(5 / 6)}
    multi = class_scores([0, 1, 2, 2], np.eye(3)[[0, 2, 2, 2]])
    assert multi == {"accuracy": 0.75, "balanced_accuracy": pytest.approx((1 + 0 + 1) / 3)}
    with pytest.raises(ShapeError):
        binary_scores(y, [0.5, 0.5])


def test_roc_auc_matches_the_pairwise_definition() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 60)
    p = np.round(rng.random(60), 1)  # many ties
    pos, neg = p[y == 1], p[y == 0]
    pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert roc_auc(y, p) == pytest.approx(pairs / (len(pos) * len(neg)), abs=1e-15)


def test_class_labels() -> None:
    np.testing.assert_array_equal(class_labels(np.array([[1.0], [0.0]])), [1, 0])
    np.testing.assert_array_equal(class_labels(np.eye(3)[[2, 0, 1]]), [2, 0, 1])
    with pytest.raises(ShapeError):
        class_labels(np.zeros((2, 2, 2)))


def blobs(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two separable clouds in 2-D; class 1 is a third of the samples."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 3 == 0).astype(np.int64)
    x = rng.normal(size=(n, 2)) * 0.3 + np.where(y[:, None] == 1, 1.5, -1.5)
    return x.astype(np.float32), y


def build(seed: int) -> nn.Sequential:
    model = nn.Sequential([nn.Dense(4, activation="tanh"), nn.Dense(1, activation="sigmoid")], seed=seed)
    return model.compile(loss="binary_crossentropy", optimizer=nn.Adam(lr=0.05), metrics=["accuracy"])


def test_cross_validate_scores_each_sample_by_the_member_that_held_it_out() -> None:
    x, y = blobs()
    seeds = []

    def recording_build(seed: int) -> nn.Sequential:
        seeds.append(seed)
        return build(seed)

    cv = cross_validate(recording_build, x, y.reshape(-1, 1).astype(np.float32), folds=4, seed=2, epochs=20,
                        batch_size=8, verbose=0)
    assert seeds == [member_seed(2, k) for k in range(4)] == [200, 201, 202, 203]
    np.testing.assert_array_equal(cv.fold, stratified_folds(y, 4, 2))
    np.testing.assert_array_equal(cv.labels, y)
    assert cv.out_of_fold.shape == (len(y), 1) and len(cv.members) == len(cv.histories) == 4
    for k, member in enumerate(cv.members):
        held = cv.fold == k
        np.testing.assert_allclose(cv.out_of_fold[held], member.predict_proba(x[held]), rtol=1e-6)
        assert "val_loss" in cv.histories[k]  # fold k was its validation data
        assert cv.histories[k]["val_accuracy"][-1] == pytest.approx(cv.fold_scores()[k]["accuracy"])
    assert cv.scores == binary_scores(y, cv.out_of_fold)
    assert cv.scores["balanced_accuracy"] == 1.0  # separable clouds
    ensemble = cv.ensemble()
    assert isinstance(ensemble, nn.Ensemble) and len(ensemble.members) == 4
    np.testing.assert_allclose(ensemble.predict_proba(x), np.mean([m.predict_proba(x) for m in cv.members], axis=0),
                               rtol=1e-6)


def test_cross_validate_passes_callbacks_and_refuses_too_many_folds() -> None:
    x, y = blobs(n=12)
    stoppers = [nn.EarlyStopping(monitor="val_loss", patience=0) for _ in range(2)]
    cv = cross_validate(build, x, y.reshape(-1, 1).astype(np.float32), folds=2, epochs=50, batch_size=4,
                        callbacks=lambda k: [stoppers[k]], verbose=0)
    assert all(s.model is m for s, m in zip(stoppers, cv.members))
    with pytest.raises(InvalidValueError, match="5 folds"):
        cross_validate(build, x, y, folds=5, epochs=1)  # 4 of class 1 cannot fill 5 folds
    with pytest.raises(ShapeError):
        cross_validate(build, x, y[:5], folds=2, epochs=1)


def test_seed_ensemble_is_reproducible_and_resumes(tmp_path) -> None:
    x, y = blobs(n=18)
    y = y.reshape(-1, 1).astype(np.float32)
    asked = []

    def callbacks(k: int) -> list:
        asked.append(k)
        return []

    a, histories = seed_ensemble(build, x, y, seeds=[5, 6], callbacks=callbacks, epochs=3, batch_size=6, verbose=0)
    b, _ = seed_ensemble(build, x, y, seeds=[5, 6], epochs=3, batch_size=6, verbose=0)
    assert asked == [0, 1] and [len(h["loss"]) for h in histories] == [3, 3]
    assert isinstance(a, nn.Ensemble) and len(a.members) == 2
    for name, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[name])
    assert not np.array_equal(a.members[0].layers[0].weight.data, a.members[1].layers[0].weight.data)
    seed_ensemble(build, x, y, seeds=[5, 6], checkpoint_dir=tmp_path, epochs=2, batch_size=6, verbose=0)
    assert (tmp_path / "member-0").is_dir() and (tmp_path / "member-1").is_dir()
    resumed, hist = seed_ensemble(build, x, y, seeds=[5, 6], checkpoint_dir=tmp_path, resume=True, epochs=3,
                                  batch_size=6, verbose=0)
    assert [len(h["loss"]) for h in hist] == [3, 3]
    for name, value in a.state_dict().items():
        np.testing.assert_array_equal(value, resumed.state_dict()[name])
    with pytest.raises(nn.ModelFileError):
        seed_ensemble(build, x, y, seeds=[5], checkpoint_dir=tmp_path / "typo", resume=True, epochs=3, verbose=0)
    with pytest.raises(InvalidValueError):
        seed_ensemble(build, x, y, seeds=[], epochs=1)
