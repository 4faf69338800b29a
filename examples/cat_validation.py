"""Choosing a cat-classifier recipe on the 209 training images: folds, class balancing and scores.

Shared by ``train_cat.py`` (the dense models) and ``cat_cnn.py`` (the convolutional one). The test
images are never used here.
"""

from __future__ import annotations

import numpy as np


def stratified_folds(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold index (0..k-1) of every sample; each class is shuffled and dealt round-robin into the folds."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels).reshape(-1)
    folds = np.empty(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        rng.shuffle(idx)
        folds[idx] = np.arange(len(idx)) % k
    return folds


def balanced_indices(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices that repeat the samples of the smaller classes until every class is as large as the largest.

    Each sample of a class appears ``n // count`` times, and a random ``n % count`` of them once more, so
    the training set holds as many cats as non-cats (the training images are 34% cats). A classifier
    trained on them does not lean towards "non-cat" just because it is the commoner answer in training.
    """
    labels = np.asarray(labels).reshape(-1)
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    n = max(len(g) for g in groups)
    parts = [np.concatenate([np.tile(g, n // len(g)), rng.choice(g, n % len(g), replace=False)]) for g in groups]
    return np.concatenate(parts)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: the probability that a random cat scores above a random non-cat (ties 1/2)."""
    labels, scores = np.asarray(labels).reshape(-1), np.asarray(scores, dtype=np.float64).reshape(-1)
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Mean of the per-class accuracies (cats found, non-cats found): 0.5 for a constant answer."""
    labels, predicted = np.asarray(labels).reshape(-1), np.asarray(predicted).reshape(-1)
    return float(np.mean([np.mean(predicted[labels == c] == c) for c in np.unique(labels)]))


def scores(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """``accuracy``, ``balanced_accuracy`` (at p > 0.5) and ``auc`` of cat probabilities against 0/1 labels."""
    labels, probabilities = np.asarray(labels).reshape(-1), np.asarray(probabilities).reshape(-1)
    predicted = probabilities > 0.5
    return {"accuracy": float(np.mean(predicted == labels)), "balanced_accuracy": balanced_accuracy(labels, predicted),
            "auc": roc_auc(labels, probabilities)}
