"""Metrics computed on a batch: ``metric(target, probabilities) -> float`` (a mean over the batch)."""

from __future__ import annotations

import difflib

import numpy as np

from ..core.errors import InvalidValueError


class Metric:
    """Base class; ``name`` is the key it gets in ``History`` (``val_`` prefixed for validation)."""

    name = "metric"

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        raise NotImplementedError


class BinaryAccuracy(Metric):
    """Fraction of ``probs > threshold`` equal to the 0/1 ``target``; ``probs`` is ``(batch,)`` or ``(batch, 1)``."""

    name = "accuracy"

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        predicted = probs.reshape(len(probs), -1) > self.threshold
        return float(np.mean(predicted == (np.asarray(target).reshape(predicted.shape) > 0.5)))


class CategoricalAccuracy(Metric):
    """Fraction of rows whose arg-max equals the class index (or the one-hot target's arg-max)."""

    name = "accuracy"

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        target = np.asarray(target)
        labels = target.argmax(axis=1) if target.ndim == 2 and target.shape[1] > 1 else target.reshape(-1)
        return float(np.mean(probs.argmax(axis=1) == labels))


def accuracy(target: np.ndarray, probs: np.ndarray) -> float:
    """Binary accuracy for one output column, categorical accuracy for several."""
    metric = BinaryAccuracy() if probs.ndim == 1 or probs.shape[1] == 1 else CategoricalAccuracy()
    return metric(target, probs)


def get(metric: str | Metric, outputs: int) -> Metric:
    """Resolve ``"accuracy"`` (binary or categorical from the number of ``outputs``) or a Metric instance."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str) and metric.lower() in ("accuracy", "acc"):
        return BinaryAccuracy() if outputs == 1 else CategoricalAccuracy()
    known = ["accuracy"]
    close = difflib.get_close_matches(str(metric).lower(), known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise InvalidValueError(f"unknown metric '{metric}'{hint} (known: {', '.join(known)}, or a Metric instance)")
