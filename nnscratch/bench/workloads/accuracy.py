"""Test accuracy of whatever an implementation returned from training (a model, a network, parameters)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import baseline_numpy as base
from ..impls import NUMPY_CLASSIC, NUMPY_VEC, OURS, SKLEARN, TORCH


def accuracy(impl: str, trained: Any, x: np.ndarray, y: np.ndarray) -> float | None:
    """Test accuracy of whatever ``impl`` returned from training."""
    if impl == OURS:
        return float(np.mean(trained.predict_classes(x.astype(trained.dtype, copy=False)) == y))
    if impl == NUMPY_CLASSIC:
        return float(np.mean(trained.predict(x).argmax(axis=1) == y))
    if impl == NUMPY_VEC:
        return float(np.mean(base.predict_vectorized(trained[0], x, *trained[1]) == y))
    if impl == TORCH:
        from .. import baseline_torch

        return baseline_torch.accuracy(trained, x, y)
    if impl == SKLEARN:
        return float(trained.score(x, y))
    return None
