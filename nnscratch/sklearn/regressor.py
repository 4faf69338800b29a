"""``NNRegressor``: a scikit-learn regressor trained by nnscratch (one target or several)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..core.errors import ShapeError
from .base import NNEstimatorBase


class NNRegressor(RegressorMixin, NNEstimatorBase):
    """A multilayer perceptron regressor with scikit-learn's API (parameters: ``NNEstimatorBase``).

    ``y`` ``(samples,)`` or ``(samples, targets)``; a linear output layer and mean squared error.
    ``predict`` returns float64 of the shape ``y`` had. Learned: ``n_features_in_`` (and
    ``feature_names_in_`` for a DataFrame), ``n_outputs_``, ``model_``, ``history_``, ``n_iter_``.
    """

    n_outputs_: int  # learned by fit

    def _loss(self, y: np.ndarray) -> str:
        return "mse"

    def _output_activation(self, y: np.ndarray) -> None:
        return None

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _targets(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, dtype=np.float32, multi_output=True, y_numeric=True, reset=reset)
        y = np.asarray(y, dtype=np.float32)
        if y.ndim > 2:
            raise ShapeError(f"y has shape {y.shape}; expected (samples,) or (samples, targets)")
        return X, y

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NNRegressor:
        """Train a new model on ``X`` ``(samples, features)`` and ``y`` ``(samples,)``/``(samples, targets)``,
        each sample's loss weighed by ``sample_weight`` ``(samples,)`` when given."""
        warm = self._warm()
        X, y = self._targets(X, y, reset=not warm)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if warm and n_outputs != self.n_outputs_:
            raise ShapeError(f"warm_start=True: y has {n_outputs} target(s) per sample, the fitted model "
                             f"{self.n_outputs_}; set warm_start=False to start anew")
        self._train(X, y.reshape(len(y), n_outputs), n_outputs, incremental=False, sample_weight=sample_weight)
        self._y_1d, self.n_outputs_ = y.ndim == 1, n_outputs  # set once training succeeded
        return self

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> NNRegressor:
        """One epoch on ``(X, y)``, continuing the current model (a new one on the first call)."""
        first = not hasattr(self, "model_")
        X, y = self._targets(X, y, reset=first)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if not first and n_outputs != self.n_outputs_:
            raise ShapeError(f"y has {n_outputs} target(s) per sample; the earlier calls had {self.n_outputs_}")
        self._train(X, y.reshape(len(y), n_outputs), n_outputs, incremental=True, sample_weight=sample_weight)
        if first:
            self._y_1d, self.n_outputs_ = y.ndim == 1, n_outputs
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions (float64): ``(samples,)`` when fit on a 1-d ``y``, else ``(samples, targets)``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        out = np.asarray(self.model_.predict(X), dtype=np.float64).reshape(len(X), self.n_outputs_)
        return out.reshape(len(X)) if self._y_1d else out
