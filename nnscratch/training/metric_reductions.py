"""Keras's reducing metrics: ``Mean`` and ``Sum`` of the values given to ``update_state``, and
``MeanMetricWrapper`` (the running mean of ``fn(y_true, y_pred)``). Used standalone (a custom training
loop's loss tracker) or, the wrapper, in ``compile(metrics=[...])``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.errors import ShapeError
from .metric_base import Metric


def _weighted(values: Any, sample_weight: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(values * weights, weights)``, the weights broadcast to the values' shape (``(batch,)`` weights
    against ``(batch, ...)`` values are spread over the trailing axes)."""
    v = np.asarray(getattr(values, "data", values), dtype=np.float64)
    if sample_weight is None:
        return v, np.ones_like(v)
    w = np.asarray(getattr(sample_weight, "data", sample_weight), dtype=np.float64)
    if w.ndim < v.ndim and w.shape == v.shape[:w.ndim]:
        w = w.reshape(w.shape + (1,) * (v.ndim - w.ndim))
    try:
        w = np.broadcast_to(w, v.shape)
    except ValueError:
        raise ShapeError(f"sample_weight of shape {w.shape} does not match values of shape {v.shape}") from None
    return v * w, w


class Sum(Metric):
    """The (weighted) sum of every value given to ``update_state(values, sample_weight=None)``."""

    name = "sum"

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name, dtype)
        self.total_var = self.add_weight(name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        weighted, _ = _weighted(values, sample_weight)
        self.total_var.assign_add(weighted.sum())

    def result(self) -> float:
        return float(self.total_var)


class Mean(Metric):
    """The (weighted) mean of every value given to ``update_state(values, sample_weight=None)``:
    ``sum(values * weights) / sum(weights)``; 0 before any value."""

    name = "mean"

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name, dtype)
        self.total_var = self.add_weight(name="total")
        self.count_var = self.add_weight(name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        weighted, weights = _weighted(values, sample_weight)
        self.total_var.assign_add(weighted.sum())
        self.count_var.assign_add(weights.sum())

    def result(self) -> float:
        count = float(self.count_var)
        return float(self.total_var) / count if count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred, **kwargs)`` (one value per sample), named ``name``. On a masked
    model output ``fit`` passes the mask ``(N, T)`` as ``sample_weight`` (``fn`` then returns one value per step)."""

    uses_mask = True

    def __init__(self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype)
        self.fn, self.fn_kwargs = fn, kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)
