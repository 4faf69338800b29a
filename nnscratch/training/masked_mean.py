"""Keras's masked means: how a mask ``(N, T)`` on a model output (True: a real step, False: padding) weighs the
per-step losses and metric values of that output.

A loss (Keras's ``losses.loss.apply_mask`` and ``reduce_values``, reduction ``sum_over_batch_size``): each step
weighs ``N T / sum(mask)`` where real and 0 at padding, so the plain mean of the weighted step losses is
``sum(loss_t * mask_t) / sum(mask)`` (0 when all is padding); sample weights multiply those weights and stay out of
the denominator. A metric (Keras's ``MeanMetricWrapper`` with the mask as sample weight, reduced by ``Mean``): a
batch adds ``sum_n mean_t(value * mask)`` to the total and ``sum_n mean_t(mask)`` to the count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import ShapeError


def _check(mask: np.ndarray, shape: tuple[int, ...], what: str) -> None:
    if mask.ndim != 2 or tuple(shape[:2]) != mask.shape:
        raise ShapeError(f"a mask of shape {mask.shape} cannot weigh {what} of shape {tuple(shape)}: it needs "
                         "(samples, steps) to match their first two axes (a model output (samples, steps, ..., last))")


def mask_weights(mask: np.ndarray, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Keras's weight of each step loss of ``shape`` ``(N, T, ...)`` under ``mask`` ``(N, T)``: ``N T / sum(mask)``
    at a real step, 0 at padding (0 everywhere when all is padding), shaped ``(N, T, 1, ...)`` to broadcast."""
    mask = np.asarray(mask)
    _check(mask, shape, "step losses")
    valid = np.count_nonzero(mask)
    weight = mask.size / valid if valid else 0.0
    return (mask * weight).astype(dtype).reshape(mask.shape + (1,) * (len(shape) - 2))


def metric_terms(values: Any, mask: np.ndarray) -> tuple[float, float]:
    """``(total, count)`` a batch adds to a masked running mean: ``values`` per step ``(N, T, ...)`` weighted by
    ``mask`` ``(N, T)``, each sample's weighted values and weights averaged over its steps, then summed."""
    values = np.asarray(values, dtype=np.float64)
    mask = np.asarray(mask)
    _check(mask, values.shape, "metric values")
    w = np.broadcast_to(mask.reshape(mask.shape + (1,) * (values.ndim - 2)), values.shape)
    per_sample = values[0].size if len(values) else 1
    return float(np.sum(values * w)) / per_sample, float(np.count_nonzero(w)) / per_sample
