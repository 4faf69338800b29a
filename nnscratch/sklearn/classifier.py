"""``NNClassifier``: a scikit-learn classifier trained by nnscratch (binary, multiclass with any labels, and
multilabel with a 0/1 indicator matrix)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..core.errors import InvalidValueError
from .base import NNEstimatorBase


class NNClassifier(ClassifierMixin, NNEstimatorBase):
    """A multilayer perceptron classifier with scikit-learn's API (parameters: ``NNEstimatorBase``).

    Labels may be any sortable values (ints, strings); they are encoded as indices into ``classes_``.
    Two classes: one sigmoid output and binary cross-entropy; more: a softmax output and categorical
    cross-entropy. Multilabel (``y`` a ``(samples, labels)`` matrix of 0 and 1, scikit-learn's
    "multilabel-indicator"): one sigmoid output per label, binary cross-entropy; ``predict`` gives the 0/1
    matrix (probability >= 0.5), ``predict_proba`` each label's probability, ``classes_`` the label indices.
    Learned: ``classes_``, ``n_features_in_`` (and ``feature_names_in_`` for a DataFrame), ``model_`` (the
    nnscratch model), ``history_`` (per-epoch ``loss``, ``val_loss``...), ``n_iter_`` (epochs trained).
    """

    classes_: np.ndarray  # learned by fit
    multilabel_: bool = False

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # Encoded targets (``_encode``): class indices ``(samples,)`` for several classes, a column of 0/1
    # ``(samples, 1)`` for two, the 0/1 matrix ``(samples, labels)`` for multilabel.
    def _loss(self, y: np.ndarray) -> str:
        return "categorical_crossentropy" if y.ndim == 1 else "binary_crossentropy"

    def _output_activation(self, y: np.ndarray) -> str:
        return "softmax" if y.ndim == 1 else "sigmoid"

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        return y.reshape(len(y)) if y.ndim == 1 or y.shape[1] == 1 else None  # multilabel: no strata

    def _fit_multilabel(self, X: Any, y: Any, sample_weight: Any, warm: bool) -> NNClassifier:
        """``fit`` on a 0/1 indicator matrix ``y`` ``(samples, labels)``."""
        labels = np.arange(y.shape[1])
        if warm and (not self.multilabel_ or not np.array_equal(labels, self.classes_)):
            raise InvalidValueError(f"warm_start=True: y has {len(labels)} labels, the fitted model was trained on "
                                    f"classes_ {self.classes_.tolist()}; set warm_start=False to start anew")
        self._train(X, y.astype(np.float32), len(labels), incremental=False, sample_weight=sample_weight)
        self.classes_, self.multilabel_ = labels, True
        return self

    @staticmethod
    def _checked_classes(classes: Any) -> np.ndarray:
        classes = np.unique(np.asarray(classes))
        if len(classes) < 2:
            raise InvalidValueError(f"NNClassifier needs at least 2 classes, got {len(classes)} class "
                                    f"({classes.tolist()}); fit it on samples of several classes")
        return classes

    @staticmethod
    def _encode(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """Indices into ``classes``: ``(samples, 1)`` float32 for two classes, ``(samples,)`` int otherwise."""
        unknown = ~np.isin(y, classes)
        if unknown.any():
            raise InvalidValueError(f"y contains label {y[unknown][0]!r}, which is not one of classes_ "
                                    f"{classes.tolist()}")
        index = np.searchsorted(classes, y)
        return index.astype(np.float32).reshape(-1, 1) if len(classes) == 2 else index.astype(np.int64)

    @staticmethod
    def _n_outputs(classes: np.ndarray) -> int:
        return 1 if len(classes) == 2 else len(classes)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NNClassifier:
        """Train a new model on ``X`` ``(samples, features)`` and labels ``y`` ``(samples,)``, each sample's loss
        weighed by ``sample_weight`` ``(samples,)`` when given; returns self."""
        warm = self._warm()
        X, y = validate_data(self, X, y, dtype=np.float32, reset=not warm, multi_output=True)
        check_classification_targets(y)
        if type_of_target(y) == "multilabel-indicator":
            return self._fit_multilabel(X, y, sample_weight, warm)
        y = column_or_1d(y, warn=True)
        if warm and self.multilabel_:
            raise InvalidValueError("warm_start=True: the fitted model is multilabel, y is not; set warm_start=False")
        classes = self._checked_classes(y)
        if warm and not np.array_equal(classes, self.classes_):
            raise InvalidValueError(f"warm_start=True: y has classes {classes.tolist()}, the fitted model was trained "
                                    f"on classes_ {self.classes_.tolist()}; set warm_start=False to start anew")
        self._train(X, self._encode(y, classes), self._n_outputs(classes), incremental=False,
                    sample_weight=sample_weight)
        self.classes_, self.multilabel_ = classes, False  # set once training succeeded
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None) -> NNClassifier:
        """One epoch on ``(X, y)``, continuing the current model (a new one on the first call, which
        needs ``classes``, every label that will ever be seen); returns self."""
        first = not hasattr(self, "model_")
        if first and classes is None:
            raise InvalidValueError("classes must be passed on the first call to partial_fit: every label the "
                                    "classifier will see, e.g. classes=np.unique(y_all)")
        X, y = validate_data(self, X, y, dtype=np.float32, reset=first, multi_output=True)
        check_classification_targets(y)
        if type_of_target(y) == "multilabel-indicator" or self.multilabel_:
            raise InvalidValueError("partial_fit is for binary and multiclass labels; fit a multilabel classifier "
                                    "with fit (warm_start=True continues it)")
        y = column_or_1d(y, warn=True)
        if first:
            known = self._checked_classes(classes)
        else:
            known = self.classes_
            if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), known):
                raise InvalidValueError(f"classes={np.unique(classes).tolist()} differs from classes_ "
                                        f"{known.tolist()} of the earlier calls")
        self._train(X, self._encode(y, known), self._n_outputs(known), incremental=True, sample_weight=sample_weight)
        self.classes_ = known
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(samples, len(classes_))`` (float64), columns in the order of ``classes_``
        (multilabel: each label's own probability)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        probs = np.asarray(self.model_.predict_proba(X), dtype=np.float64).reshape(len(X), -1)
        if len(self.classes_) == 2 and not self.multilabel_:
            return np.hstack([1.0 - probs[:, :1], probs[:, :1]])
        return probs

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample ``(samples,)``, as values of ``classes_`` (multilabel: the
        0/1 matrix ``(samples, labels)``)."""
        probs = self.predict_proba(X)  # checks that the classifier is fitted, before classes_ is read
        if self.multilabel_:
            return (probs >= 0.5).astype(np.int64)
        return self.classes_[np.argmax(probs, axis=1)]
