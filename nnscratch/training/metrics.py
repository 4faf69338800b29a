"""Metrics: ``metric(target, probabilities) -> float`` per batch, or Keras's ``update_state``/``result``.

Names ``compile(metrics=[...])`` accepts: ``"accuracy"``/``"acc"`` (binary or categorical from the number
of outputs), ``"binary_accuracy"``, ``"categorical_accuracy"``, ``"sparse_categorical_accuracy"``,
``"mse"``, ``"mae"``, ``"rmse"``/``"root_mean_squared_error"``, ``"top_k_categorical_accuracy"``,
``"sparse_top_k_categorical_accuracy"``, ``"precision"``, ``"recall"``, ``"auc"``; a ``Metric`` instance; or a function
``fn(y_true, y_pred)`` returning one value per sample (or a number), named by its ``__name__``.
Metrics see probabilities: a ``from_logits`` loss's outputs pass through its sigmoid/softmax first. On an output
``(N, T, C)`` a metric is Keras's: the mean of its value at each of the ``N * T`` steps (``step_values``); a mask on
the output weighs the steps (``Metric.masked_totals``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError
from ..core.validation import positive_int, unknown_name
from .confusion_metrics import AUC, F1Score, Precision, Recall
from .metric_base import Metric

__all__ = ["AUC", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "F1Score", "FunctionMetric", "MeanAbsoluteError",
           "MeanSquaredError", "Metric", "Precision", "Recall", "RootMeanSquaredError", "SparseCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "TopKCategoricalAccuracy", "accuracy", "get"]


def _fraction(hits: np.ndarray) -> float:
    """The fraction of true values (``np.mean`` of a bool array, without its Python-level overhead)."""
    return np.count_nonzero(hits) / hits.size


def _class_labels(target: Any, probs: np.ndarray) -> np.ndarray:
    """The class index of each row of ``probs`` ``(N, ..., C)``: ``target``'s (class indices ``(N, ...)`` or
    ``(N, ..., 1)``, or one-hot rows of ``probs``'s shape, whose arg-max counts)."""
    target = np.asarray(target)
    if target.shape == probs.shape and probs.shape[-1] > 1:
        return target.argmax(axis=-1)
    return target.reshape(probs.shape[:-1])


def _rows(probs: np.ndarray) -> np.ndarray:
    """``probs`` with a class axis: ``(N,)`` outputs as ``(N, 1)``."""
    return probs if probs.ndim > 1 else probs.reshape(-1, 1)


class BinaryAccuracy(Metric):
    """Fraction of ``probs > threshold`` equal to the 0/1 ``target``."""

    name = "accuracy"

    def __init__(self, threshold: float = 0.5, name: str | None = None, dtype: Any = None) -> None:
        self.threshold = threshold
        super().__init__(name, dtype)

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        predicted = probs.reshape(len(probs), -1) > self.threshold
        return _fraction(predicted == (np.asarray(target).reshape(predicted.shape) > 0.5))

    def step_values(self, target: np.ndarray, probs: np.ndarray) -> np.ndarray:
        probs = _rows(probs)
        return ((probs > self.threshold) == (np.asarray(target).reshape(probs.shape) > 0.5)).mean(axis=-1)


class CategoricalAccuracy(Metric):
    """Fraction of rows (of ``probs`` ``(N, ..., C)``) whose arg-max equals the class index (or the one-hot
    target's arg-max)."""

    name = "accuracy"

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        if probs.ndim != 2:
            return _fraction(self.step_values(target, probs))
        target = np.asarray(target)  # (N, C): the common case, kept cheap
        labels = target.argmax(axis=1) if target.ndim == 2 and target.shape[1] > 1 else target.reshape(-1)
        return _fraction(probs.argmax(axis=1) == labels)

    def step_values(self, target: np.ndarray, probs: np.ndarray) -> np.ndarray:
        probs = _rows(probs)
        return probs.argmax(axis=-1) == _class_labels(target, probs)


class SparseCategoricalAccuracy(CategoricalAccuracy):
    """Keras's name for class-index targets (``CategoricalAccuracy`` accepts both kinds)."""

    name = "sparse_categorical_accuracy"


class Accuracy(Metric):
    """Fraction of predictions exactly equal to the targets (Keras's ``Accuracy``: no arg-max, no threshold)."""

    name = "accuracy"

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        return _fraction(np.asarray(probs).reshape(len(probs), -1) == np.asarray(target).reshape(len(probs), -1))

    def step_values(self, target: np.ndarray, probs: np.ndarray) -> np.ndarray:
        probs = _rows(np.asarray(probs))
        return (probs == np.asarray(target).reshape(probs.shape)).mean(axis=-1)


class MeanSquaredError(Metric):
    name = "mean_squared_error"

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        return float(np.mean(np.square(probs.reshape(len(probs), -1) - np.asarray(target).reshape(len(probs), -1))))

    def step_values(self, target: np.ndarray, probs: np.ndarray) -> np.ndarray:
        probs = _rows(probs)
        return np.square(probs - np.asarray(target).reshape(probs.shape)).mean(axis=-1)


class MeanAbsoluteError(Metric):
    name = "mean_absolute_error"

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        return float(np.mean(np.abs(probs.reshape(len(probs), -1) - np.asarray(target).reshape(len(probs), -1))))

    def step_values(self, target: np.ndarray, probs: np.ndarray) -> np.ndarray:
        probs = _rows(probs)
        return np.abs(probs - np.asarray(target).reshape(probs.shape)).mean(axis=-1)


class RootMeanSquaredError(Metric):
    """``sqrt`` of the mean squared error over every sample seen (not a mean of per-batch roots)."""

    name = "root_mean_squared_error"

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if sample_weight is not None:
            raise InvalidTypeError("RootMeanSquaredError.update_state does not take sample_weight in nnscratch")
        y_pred = np.asarray(y_pred)
        diff = y_pred.reshape(len(y_pred), -1) - np.asarray(y_true).reshape(len(y_pred), -1)
        self._sum += float(np.sum(np.square(diff, dtype=np.float64)))
        self._seen += diff.size

    def result(self) -> float:
        return float(np.sqrt(self._sum / self._seen)) if self._seen else 0.0


class TopKCategoricalAccuracy(Metric):
    """Fraction of rows (of ``probs`` ``(N, ..., C)``) whose target class (its index, or the one-hot row's arg-max)
    is among the ``k`` largest outputs."""

    name = "top_k_categorical_accuracy"

    def __init__(self, k: int = 5, name: str | None = None, dtype: Any = None) -> None:
        self.k = positive_int(k, "k")
        super().__init__(name, dtype)

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        if probs.ndim != 2:
            return _fraction(self.step_values(target, probs))
        target = np.asarray(target)  # (N, C), as it always was
        labels = target.argmax(axis=1) if target.ndim == 2 and target.shape[1] > 1 else target.reshape(-1)
        mine = np.take_along_axis(probs, labels.astype(np.int64)[:, None], axis=1)
        return _fraction((probs > mine).sum(axis=1) < self.k)  # fewer than k outputs beat the target's

    def step_values(self, target: np.ndarray, probs: np.ndarray) -> np.ndarray:
        scores = _rows(probs)
        labels = _class_labels(target, scores)
        mine = np.take_along_axis(scores, labels.astype(np.int64)[..., None], axis=-1)
        return (scores > mine).sum(axis=-1) < self.k  # fewer than k outputs beat the target's


class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    """Keras's name for class-index targets (``TopKCategoricalAccuracy`` accepts both kinds)."""

    name = "sparse_top_k_categorical_accuracy"


class FunctionMetric(Metric):
    """A plain function ``fn(y_true, y_pred)`` as a metric: the batch mean of what it returns."""

    def __init__(self, fn: Callable[[Any, Any], Any], name: str | None = None) -> None:
        self.fn = fn
        super().__init__(name or getattr(fn, "__name__", "metric"))

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        return float(np.mean(np.asarray(self.fn(target, probs), dtype=np.float64)))

    def step_values(self, target: np.ndarray, probs: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn(target, probs), dtype=np.float64)  # with a mask: one value per step (N, T)


def accuracy(target: np.ndarray, probs: np.ndarray) -> float:
    """Binary accuracy for outputs whose last axis has one value, categorical accuracy for several."""
    metric = BinaryAccuracy() if probs.ndim == 1 or probs.shape[-1] == 1 else CategoricalAccuracy()
    return metric(target, probs)


NAMES: dict[str, Callable[[], Metric]] = {
    "binary_accuracy": lambda: BinaryAccuracy(name="binary_accuracy"),
    "categorical_accuracy": lambda: CategoricalAccuracy(name="categorical_accuracy"),
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mse": lambda: MeanSquaredError(name="mse"), "mean_squared_error": MeanSquaredError,
    "mae": lambda: MeanAbsoluteError(name="mae"), "mean_absolute_error": MeanAbsoluteError,
    "precision": Precision, "recall": Recall, "auc": AUC,
    "root_mean_squared_error": RootMeanSquaredError, "rmse": lambda: RootMeanSquaredError(name="rmse"),
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
}


def get(metric: str | Metric | Callable[[Any, Any], Any], outputs: int) -> Metric:
    """Resolve a name (see the module doc), a Metric instance or class, or a function ``fn(y_true, y_pred)``.
    ``outputs``: the size of the model output's last axis, which picks ``"accuracy"`` as Keras does (1: binary)."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, type) and issubclass(metric, Metric):
        return metric()
    if isinstance(metric, str):
        key = metric.lower()
        if key in ("accuracy", "acc"):  # logged under the name given ("acc" as "acc"), as Keras does
            return BinaryAccuracy(name=metric) if outputs == 1 else CategoricalAccuracy(name=metric)
        if key in NAMES:
            return NAMES[key]()
        raise unknown_name("metric", metric, ["accuracy", *NAMES], ", a Metric instance or a function")
    if callable(metric):
        return FunctionMetric(metric)
    raise unknown_name("metric", metric, ["accuracy", *NAMES], ", a Metric instance or a function")
