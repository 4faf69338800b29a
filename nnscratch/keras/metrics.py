"""``keras.metrics``: nnscratch's metrics under Keras's names: classes with ``update_state``/``result``/
``reset_state`` (``Metric`` subclasses keep state in ``add_weight`` variables; ``Mean``/``Sum`` reduce values
given to them), and functions ``fn(y_true, y_pred)`` returning one value per sample (usable as custom metrics)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..training.metric_reductions import Mean, MeanMetricWrapper, Sum
from ..training.metric_variable import MetricVariable
from ..training.metrics import (
    AUC,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    F1Score,
    MeanAbsoluteError,
    MeanSquaredError,
    Metric,
    Precision,
    Recall,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    get,
)
from . import losses as _losses
from ._names import module_getattr

__all__ = ["AUC", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "F1Score", "Mean", "MeanAbsoluteError",
           "MeanMetricWrapper", "MeanSquaredError", "Metric", "MetricVariable", "Precision", "Recall",
           "RootMeanSquaredError", "SparseCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "Sum",
           "TopKCategoricalAccuracy", "binary_accuracy", "categorical_accuracy", "get", "sparse_categorical_accuracy",
           "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy"]


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where the arg-max of ``y_pred`` ``(batch, classes)`` is the class index ``y_true``, else 0.0."""
    y_pred = np.asarray(y_pred)
    return (y_pred.argmax(axis=-1) == np.asarray(y_true).reshape(len(y_pred))).astype(np.float32)


def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where the arg-maxes of one-hot ``y_true`` and ``y_pred`` agree, else 0.0."""
    return (np.asarray(y_pred).argmax(axis=-1) == np.asarray(y_true).argmax(axis=-1)).astype(np.float32)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """Per-sample mean of ``(y_pred > threshold) == y_true`` over the last axis."""
    y_pred = np.asarray(y_pred)
    hit = (y_pred > threshold) == (np.asarray(y_true).reshape(y_pred.shape) > 0.5)
    return hit.reshape(len(y_pred), -1).mean(axis=1).astype(np.float32)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1.0 where the arg-max of one-hot ``y_true`` is among the ``k`` largest of ``y_pred``, else 0.0."""
    return _top_k(np.asarray(y_true).argmax(axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1.0 where the class index ``y_true`` is among the ``k`` largest of ``y_pred``, else 0.0."""
    y_pred = np.asarray(y_pred)
    return _top_k(np.asarray(y_true).reshape(len(y_pred)), y_pred, k)


def _top_k(labels: np.ndarray, y_pred: Any, k: int) -> np.ndarray:
    scores = np.asarray(y_pred)
    mine = np.take_along_axis(scores, labels.astype(np.int64)[:, None], axis=-1)
    return ((scores > mine).sum(axis=-1) < k).astype(np.float32)


def _loss_metric(class_name: str, fn: Any, name: str) -> type[MeanMetricWrapper]:
    """Keras's metric class ``class_name``: the running mean of the per-sample loss function ``fn``."""
    def __init__(self: MeanMetricWrapper, name: str = name, dtype: Any = None) -> None:
        MeanMetricWrapper.__init__(self, fn, name, dtype)

    doc = f"The running mean over the samples of ``keras.losses.{fn.__name__}`` (logged as ``{name}``)."
    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


KLDivergence = _loss_metric("KLDivergence", _losses.kl_divergence, "kl_divergence")
Poisson = _loss_metric("Poisson", _losses.poisson, "poisson")
LogCoshError = _loss_metric("LogCoshError", _losses.log_cosh, "logcosh")
Hinge = _loss_metric("Hinge", _losses.hinge, "hinge")
SquaredHinge = _loss_metric("SquaredHinge", _losses.squared_hinge, "squared_hinge")
MeanAbsolutePercentageError = _loss_metric("MeanAbsolutePercentageError", _losses.mean_absolute_percentage_error,
                                           "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _loss_metric("MeanSquaredLogarithmicError", _losses.mean_squared_logarithmic_error,
                                           "mean_squared_logarithmic_error")
CosineSimilarity = _loss_metric("CosineSimilarity", lambda y_true, y_pred: -_losses.cosine_similarity(y_true, y_pred),
                                "cosine_similarity")
CategoricalHinge = _loss_metric("CategoricalHinge", _losses.categorical_hinge, "categorical_hinge")
__all__ += ["CategoricalHinge", "CosineSimilarity", "Hinge", "KLDivergence", "LogCoshError",
            "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Poisson", "SquaredHinge"]

_NOT_YET = "nnscratch has no such metric yet; the provided ones are listed in keras.metrics.__all__"
__getattr__ = module_getattr("keras.metrics", globals(), dict.fromkeys(
    ["MeanIoU", "IoU",
     "R2Score", "FBetaScore", "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
     "SpecificityAtSensitivity", "TruePositives", "TrueNegatives", "FalsePositives", "FalseNegatives"], _NOT_YET))
