"""Scores of a classifier's predictions on held-out samples: balanced accuracy, ROC AUC.

They judge out-of-fold or test predictions (``model_selection``); they are not training metrics.

    binary_scores(labels, probabilities)   # {"accuracy", "balanced_accuracy", "auc"}
"""

from __future__ import annotations

import numpy as np

from ..core.errors import ShapeError


def _flat(labels: np.ndarray, other: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    labels, other = np.asarray(labels).reshape(-1), np.asarray(other).reshape(-1)
    if len(labels) != len(other):
        raise ShapeError(f"{len(labels)} labels but {len(other)} {what}: expected one per sample")
    return labels, other


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Mean of the per-class recalls over the classes present in ``labels`` ``(N,)``: 0.5 for a constant
    answer to a two-class problem, however unbalanced the classes."""
    labels, predicted = _flat(labels, predicted, "predictions")
    return float(np.mean([np.mean(predicted[labels == c] == c) for c in np.unique(labels)]))


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of 0/1 ``labels`` ``(N,)`` and ``scores`` ``(N,)``: the probability that a
    random positive scores above a random negative (ties count 1/2); NaN when a class is absent."""
    labels, scores = _flat(labels, scores, "scores")
    scores = scores.astype(np.float64)
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.sort(neg)
    below = np.searchsorted(order, pos, side="left")
    ties = np.searchsorted(order, pos, side="right") - below
    return float((below.sum() + 0.5 * ties.sum()) / (len(pos) * len(neg)))


def binary_scores(labels: np.ndarray, probabilities: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """``accuracy``, ``balanced_accuracy`` (predicting 1 when p > ``threshold``) and ``auc`` of the
    probabilities of class 1 ``(N,)`` or ``(N, 1)`` against 0/1 ``labels`` ``(N,)``."""
    labels, probabilities = _flat(labels, probabilities, "probabilities")
    predicted = (probabilities > threshold).astype(labels.dtype)
    return {"accuracy": float(np.mean(predicted == labels)), "balanced_accuracy": balanced_accuracy(labels, predicted),
            "auc": roc_auc(labels, probabilities)}


def class_scores(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Scores of class probabilities: ``binary_scores`` for ``(N,)``/``(N, 1)`` probabilities of class 1,
    else ``accuracy`` and ``balanced_accuracy`` of the arg-max class of ``(N, classes)``."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 1 or probabilities.shape[1] == 1:
        return binary_scores(labels, probabilities)
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(probabilities):
        raise ShapeError(f"{len(labels)} labels but {len(probabilities)} rows of probabilities")
    predicted = probabilities.argmax(axis=1)
    return {"accuracy": float(np.mean(predicted == labels)), "balanced_accuracy": balanced_accuracy(labels, predicted)}
