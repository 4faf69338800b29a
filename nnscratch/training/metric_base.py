"""``Metric``: the base class of metrics, usable per batch (``metric(target, probs) -> float``) and, as in
Keras, with state accumulated over batches (``update_state`` / ``result`` / ``reset_state``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError


class Metric:
    """``name`` is the key in the logs and ``History`` (``val_`` prefixed for validation).

    A subclass implements ``__call__(target, probs)``: the mean of the metric over one batch. Its state
    is then the sample-weighted mean of the batch values (``fit`` keeps this running mean itself).
    A ``stateful`` metric (precision, recall, AUC, F1) is not a mean of batch values: it implements
    ``update_state``, ``result`` and ``reset_state``, and ``fit`` calls them.
    """

    name = "metric"
    stateful = False

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        if name is not None:
            if not isinstance(name, str) or not name:
                raise InvalidTypeError(f"metric name must be a non-empty string, got {name!r}")
            self.name = name
        self.reset_state()

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(target, probs)")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch: ``y_true`` the targets, ``y_pred`` the model's outputs ``(batch, ...)``."""
        y_pred = np.asarray(y_pred)
        n = len(y_pred)
        if sample_weight is not None:
            raise InvalidTypeError(f"{type(self).__name__}.update_state does not take sample_weight in nnscratch")
        self.total += float(self(np.asarray(y_true), y_pred)) * n
        self.count += n

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0

    reset_states = reset_state  # the Keras 2 name

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
