"""Class predictions of a compiled model, as scikit-learn's classifiers give them: probabilities, class
indices and accuracy (``predict_proba``, ``predict_classes``, ``score``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidValueError, ShapeError
from ..core.validation import as_targets


class ClassPredictions:
    """Methods of ``Model`` built on its ``predict``, compiled ``loss`` and ``dtype``."""

    dtype: np.dtype
    loss: Any
    predict: Any

    def predict_proba(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """Probabilities: ``predict`` mapped through the loss's link (sigmoid/softmax for logit losses)."""
        if isinstance(self.loss, list):
            raise InvalidValueError(f"predict_proba, predict_classes and score are for a model with one output; this "
                                    f"one has {len(self.loss)}: use predict")
        out = self.predict(x, batch_size)
        return self.loss.to_probabilities(out) if self.loss is not None else out

    def predict_classes(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """Class indices ``(samples,)``: arg-max for several outputs, probability > 0.5 for one."""
        probs = self.predict_proba(x, batch_size)
        if probs.ndim == 2 and probs.shape[1] > 1:
            return probs.argmax(axis=1)
        return (probs.reshape(len(probs)) > 0.5).astype(np.int64)

    def score(self, x: Any, y: Any) -> float:
        """Accuracy on ``(x, y)`` (scikit-learn's ``score``)."""
        predicted = self.predict_classes(x)
        y = as_targets(y, "y", len(predicted), self.dtype)
        if y.ndim == 2 and y.shape[1] > 1:
            y = y.argmax(axis=1)
        elif y.ndim > 2:
            raise ShapeError(f"y has shape {y.shape}; expected ({len(y)},) class indices or one-hot rows")
        return float(np.mean(predicted == y.reshape(-1)))
