"""Metrics from counts of true/false positives (Keras's ``Precision``, ``Recall``, ``AUC``, ``F1Score``):
stateful, because a mean of per-batch values would not be the metric of the whole data."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from .metric_base import Metric


def _binary(y_true: Any, y_pred: Any, class_id: int | None) -> tuple[np.ndarray, np.ndarray]:
    """``(targets, scores)`` flattened; one column when ``class_id`` is given."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if class_id is not None:
        if y_true.shape != y_pred.shape:  # class indices against (batch, classes) scores
            y_true = (y_true.reshape(-1) == class_id).astype(np.float64)
        else:
            y_true = y_true[..., class_id]
        y_pred = y_pred[..., class_id]
    if y_true.size != y_pred.size:
        raise InvalidValueError(f"targets of shape {y_true.shape} do not match predictions {y_pred.shape}; "
                                "pass class_id=k for one class of a multi-class output")
    return y_true.reshape(-1) > 0.5, y_pred.reshape(-1)


class _Counts(Metric):
    stateful = True

    def __init__(self, thresholds: float | None = None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        if top_k is not None:
            raise InvalidValueError(f"{type(self).__name__}(top_k=...) is not supported by nnscratch")
        self.threshold = 0.5 if thresholds is None else float(thresholds)
        self.class_id = class_id
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        self.tp = self.fp = self.fn = 0.0

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = _binary(y_true, y_pred, self.class_id)
        predicted = p > self.threshold
        self.tp += float(np.sum(predicted & t))
        self.fp += float(np.sum(predicted & ~t))
        self.fn += float(np.sum(~predicted & t))

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        saved = (self.tp, self.fp, self.fn)
        self.reset_state()
        self.update_state(target, probs)
        value = self.result()
        self.tp, self.fp, self.fn = saved
        return value


class Precision(_Counts):
    """tp / (tp + fp) of ``y_pred > thresholds`` (0.5) against 0/1 targets (Keras's ``Precision``)."""

    name = "precision"

    def result(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0


class Recall(_Counts):
    """tp / (tp + fn) of ``y_pred > thresholds`` (0.5) against 0/1 targets (Keras's ``Recall``)."""

    name = "recall"

    def result(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


class AUC(_Counts):
    """Area under the ROC (or precision-recall, ``curve="PR"``) curve from counts at ``num_thresholds``
    evenly spaced thresholds, trapezoidal rule, as Keras computes it."""

    name = "auc"

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", name: str | None = None,
                 class_id: int | None = None, **keras: Any) -> None:
        if curve not in ("ROC", "PR") or set(keras) - {"summation_method", "dtype", "thresholds", "multi_label"}:
            raise InvalidValueError(f"AUC supports curve='ROC' or 'PR' only, got curve={curve!r} {keras}")
        eps = 1e-7
        self.thresholds = np.array([-eps, *np.linspace(0, 1, num_thresholds)[1:-1], 1 + eps])
        self.curve = curve
        super().__init__(None, None, class_id, name)

    def reset_state(self) -> None:
        n = len(getattr(self, "thresholds", ()))
        self.tps, self.fps, self.fns, self.tns = (np.zeros(n) for _ in range(4))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = _binary(y_true, y_pred, self.class_id)
        above = p[None, :] > self.thresholds[:, None]  # (thresholds, samples)
        self.tps += (above & t).sum(axis=1)
        self.fps += (above & ~t).sum(axis=1)
        self.fns += (~above & t).sum(axis=1)
        self.tns += (~above & ~t).sum(axis=1)

    def result(self) -> float:
        tp, fp, fn, tn = self.tps, self.fps, self.fns, self.tns
        if self.curve == "ROC":
            x, y = fp / np.maximum(fp + tn, 1e-12), tp / np.maximum(tp + fn, 1e-12)
        else:
            x, y = tp / np.maximum(tp + fn, 1e-12), tp / np.maximum(tp + fp, 1e-12)
        return float(np.sum((x[:-1] - x[1:]) * (y[:-1] + y[1:]) / 2))

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        saved = (self.tps, self.fps, self.fns, self.tns)
        self.reset_state()
        self.update_state(target, probs)
        value = self.result()
        self.tps, self.fps, self.fns, self.tns = saved
        return value


class F1Score(Metric):
    """F1 per class from one-hot (or 0/1) targets and ``(batch, classes)`` scores, averaged as ``average``
    says ("micro", "macro", "weighted"). ``threshold=None`` takes each row's arg-max as its prediction."""

    name = "f1_score"
    stateful = True

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        if average not in ("micro", "macro", "weighted"):
            raise InvalidValueError(f"F1Score(average={average!r}): nnscratch logs hold one number per metric; pass "
                                    "average='macro', 'micro' or 'weighted'")
        self.average, self.threshold = average, threshold
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        self.tp = self.fp = self.fn = self.support = None

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        p = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
        t = np.asarray(y_true, dtype=np.float64).reshape(len(p), -1)
        if t.shape[1] == 1 and p.shape[1] > 1:  # class indices
            t = (t.astype(np.int64) == np.arange(p.shape[1])).astype(np.float64)
        if self.threshold is None and p.shape[1] > 1:
            predicted = p == p.max(axis=1, keepdims=True)
        else:
            predicted = p > (0.5 if self.threshold is None else self.threshold)
        truth = t > 0.5
        counts = [np.sum(predicted & truth, 0), np.sum(predicted & ~truth, 0), np.sum(~predicted & truth, 0),
                  np.sum(truth, 0)]
        if self.tp is None:
            self.tp, self.fp, self.fn, self.support = (c.astype(np.float64) for c in counts)
        else:
            self.tp, self.fp, self.fn, self.support = (
                a + c for a, c in zip((self.tp, self.fp, self.fn, self.support), counts))

    def result(self) -> float:
        if self.tp is None:
            return 0.0
        if self.average == "micro":
            tp, fp, fn = self.tp.sum(), self.fp.sum(), self.fn.sum()
            return float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 0.0
        denom = 2 * self.tp + self.fp + self.fn
        f1 = np.divide(2 * self.tp, denom, out=np.zeros_like(denom), where=denom > 0)
        if self.average == "macro":
            return float(f1.mean())
        return float(np.sum(f1 * self.support) / max(self.support.sum(), 1.0))

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        saved = (self.tp, self.fp, self.fn, self.support)
        self.reset_state()
        self.update_state(target, probs)
        value = self.result()
        self.tp, self.fp, self.fn, self.support = saved
        return value
