"""examples/cat_validation.py: stratified folds, class balancing and the scores used to choose recipes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
try:
    import cat_validation as cv
finally:
    sys.path.pop(0)

LABELS = np.array([0] * 137 + [1] * 72)  # the training set's class counts


def test_stratified_folds_keep_the_class_balance_and_are_seeded() -> None:
    folds = cv.stratified_folds(LABELS, 5, 0)
    assert sorted(np.unique(folds)) == [0, 1, 2, 3, 4]
    for k in range(5):
        assert abs(LABELS[folds == k].mean() - LABELS.mean()) < 0.03
    np.testing.assert_array_equal(folds, cv.stratified_folds(LABELS, 5, 0))
    assert not np.array_equal(folds, cv.stratified_folds(LABELS, 5, 1))


def test_balanced_indices_repeat_the_smaller_class() -> None:
    idx = cv.balanced_indices(LABELS, np.random.default_rng(0))
    chosen = LABELS[idx]
    assert (chosen == 0).sum() == (chosen == 1).sum() == 137
    assert np.array_equal(np.sort(idx[chosen == 0]), np.flatnonzero(LABELS == 0))  # every non-cat once
    counts = np.bincount(idx[chosen == 1], minlength=len(LABELS))[LABELS == 1]
    assert set(counts) == {1, 2} and counts.sum() == 137  # each cat once or twice: 72 + 65


def test_scores() -> None:
    y = np.array([0, 0, 0, 1, 1])
    assert cv.roc_auc(y, [0.1, 0.2, 0.3, 0.8, 0.9]) == 1.0
    assert cv.roc_auc(y, [0.9, 0.8, 0.7, 0.2, 0.1]) == 0.0
    assert cv.roc_auc(y, [0.5] * 5) == 0.5
    assert np.isnan(cv.roc_auc([1, 1], [0.2, 0.3]))
    assert cv.balanced_accuracy(y, [0, 0, 0, 0, 0]) == 0.5  # the constant answer
    assert cv.balanced_accuracy(y, [0, 0, 1, 1, 0]) == pytest.approx((2 / 3 + 1 / 2) / 2)
    s = cv.scores(y, [0.1, 0.2, 0.6, 0.8, 0.4])
    assert s == {"accuracy": 0.6, "balanced_accuracy": pytest.approx((2 / 3 + 1 / 2) / 2), "auc": pytest.approx(5 / 6)}
