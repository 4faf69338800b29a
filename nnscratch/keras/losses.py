"""``keras.losses``: nnscratch's losses under Keras's class and function names.

Loss objects are called ``loss(y_pred, y_true)`` in nnscratch (prediction first); the Keras-named functions
below take Keras's order ``fn(y_true, y_pred)`` and return one value per sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..training.elementwise_losses import (
    Hinge,
    KLDivergence,
    LogCosh,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Poisson,
    SquaredHinge,
    per_sample,
    sample_values,
)
from ..training.huber import Huber
from ..training.losses import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    get,
)
from ..training.row_losses import CategoricalHinge, CosineSimilarity, categorical_hinge, cosine_similarity
from ._names import module_getattr

BinaryCrossentropy = BinaryCrossEntropy
CategoricalCrossentropy = CategoricalCrossEntropy
SparseCategoricalCrossentropy = CategoricalCrossEntropy  # takes class indices as well as one-hot rows

__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "CategoricalHinge", "CosineSimilarity", "Hinge", "Huber",
           "KLDivergence", "LogCosh", "Loss",
           "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError",
           "Poisson", "SparseCategoricalCrossentropy", "SquaredHinge", "binary_crossentropy",
           "categorical_crossentropy", "get", "hinge", "huber", "kl_divergence", "kld", "log_cosh", "mae", "mape",
           "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
           "mean_squared_logarithmic_error", "mse", "msle", "poisson", "sparse_categorical_crossentropy",
           "squared_hinge", "categorical_hinge", "cosine_similarity"]


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False) -> np.ndarray:
    """Per-sample cross-entropy ``(batch,)`` of class indices ``y_true`` and ``y_pred`` ``(batch, classes)``."""
    return sample_values(CategoricalCrossEntropy(from_logits), y_true, y_pred)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0) -> np.ndarray:
    """Per-sample cross-entropy ``(batch,)`` of one-hot ``y_true`` and ``y_pred`` ``(batch, classes)``."""
    return sample_values(CategoricalCrossEntropy(from_logits, label_smoothing), y_true, y_pred)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0) -> np.ndarray:
    """Per-sample binary cross-entropy ``(batch,)`` (mean over the last axes)."""
    return sample_values(BinaryCrossEntropy(from_logits, label_smoothing), y_true, y_pred)


def mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    return sample_values(MeanSquaredError(), y_true, y_pred)


def mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    return sample_values(MeanAbsoluteError(), y_true, y_pred)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> np.ndarray:
    return sample_values(Huber(delta), y_true, y_pred)


mse, mae = mean_squared_error, mean_absolute_error
MSE, MAE = mse, mae
log_cosh, mean_absolute_percentage_error, mean_squared_logarithmic_error, poisson, kl_divergence, hinge, \
    squared_hinge = (per_sample(cls) for cls in (LogCosh, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
                                                 Poisson, KLDivergence, Hinge, SquaredHinge))
mape, msle, kld = mean_absolute_percentage_error, mean_squared_logarithmic_error, kl_divergence

_NOT_YET = "nnscratch has no such loss yet; the built-in ones are listed in keras.losses.__all__"
__getattr__ = module_getattr("keras.losses", globals(), dict.fromkeys(
    ["BinaryFocalCrossentropy",
     "CategoricalFocalCrossentropy", "CTC", "Dice",
     "Tversky"], _NOT_YET))
