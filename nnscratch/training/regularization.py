"""What the trainer adds to a batch's loss beyond the outputs' losses: weight penalties (regularizers) and
per-sample weights (``fit(sample_weight=..., class_weight=...)``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from ..core.parameter import Parameter
from ..core.regularizers import penalized  # noqa: F401  (the trainer's, here with the rest)


def penalty(terms: list[tuple[Parameter, Any]]) -> float:
    """The sum of the weight penalties ``terms`` (``list(penalized(model))``; 0.0 when empty)."""
    return sum((reg(p.data) for p, reg in terms), 0.0)


def add_penalty_gradients(terms: list[tuple[Parameter, Any]], scale: float = 1.0) -> None:
    """Add ``scale`` times each penalty's gradient into its weight's ``grad``."""
    for p, reg in terms:
        g = reg.gradient(p.data)
        if scale != 1.0:
            g *= g.dtype.type(scale)
        p.grad += g


def weighted_value(loss: Any, weights: np.ndarray) -> float:
    """The loss of the last ``forward`` with sample ``weights``: ``mean(weights * per-sample loss)`` (Keras's
    reduction: divided by the batch size, not by the weights' sum)."""
    values = getattr(loss, "sample_losses", None)
    if values is None or len(values) != len(weights):
        raise InvalidValueError(f"sample_weight/class_weight need a built-in loss (one value per sample); "
                                f"{type(loss).__name__} gives none")
    return float(np.mean(weights * values))


def sample_weights(y: np.ndarray, n: int, sample_weight: Any = None, class_weight: Any = None,
                   output_shape: tuple[int | None, ...] | None = None) -> np.ndarray | None:
    """One weight per sample from ``sample_weight`` ``(n,)`` and/or ``class_weight`` ``{class: weight}``
    (a class is the target's index, its one-hot arg-max, or its 0/1 value); None when neither is given.
    ``class_weight`` needs a model output (per-sample ``output_shape``) of one class per sample, ``(samples, C)``."""
    if class_weight is not None and output_shape is not None and len(output_shape) > 1:
        raise InvalidValueError(f"class_weight weighs each sample by its one class, but the model outputs (samples, "
                                f"{', '.join(map(str, output_shape))}): a class per step; pass sample_weight (one "
                                "weight per sample) instead")
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if len(w) != n or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise InvalidValueError(f"sample_weight must hold {n} finite numbers >= 0 (one per sample), got shape "
                                    f"{np.shape(sample_weight)}")
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise InvalidValueError(f"class_weight must be a dict {{class index: weight}}, got "
                                    f"{type(class_weight).__name__}")
        y = np.asarray(y)
        labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else np.rint(y.reshape(n)).astype(np.int64)
        table = np.ones(int(max(labels.max(initial=0), *class_weight)) + 1)
        for k, v in class_weight.items():
            table[int(k)] = float(v)
        cw = table[labels]
        w = cw if w is None else w * cw
    return w
