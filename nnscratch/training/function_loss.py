"""Losses written with ``nnscratch.ops``: run on the tape, differentiated by it.

``compile(loss=fn)`` with ``fn(y_true, y_pred)``, or a ``Loss`` subclass that defines
``call(y_true, y_pred)`` instead of ``forward``/``backward``. The function runs through
``nnscratch.autodiff.vjp`` with ``y_pred`` watched; its result is a scalar or one value per sample
(then averaged over the batch, Keras's default reduction), and backward returns its gradient with
respect to ``y_pred``. No hand-written gradient is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autodiff import Tensor, vjp
from ..core.errors import ShapeError


def run(name: str, compute: Callable[[Any, Any], Any], pred: np.ndarray, target: Any) -> tuple[float, Any]:
    """The batch loss ``mean(compute(y_true, y_pred))`` and what ``gradient`` needs."""
    target = np.asarray(target)
    if target.dtype.kind == "f" and target.dtype != pred.dtype:
        target = target.astype(pred.dtype)
    if target.ndim == 1 and pred.ndim == 2 and pred.shape[1] == 1 and target.dtype.kind == "f":
        target = target.reshape(-1, 1)
    out, back = vjp(lambda p: compute(Tensor(target), p), pred)
    out = np.asarray(out)
    if out.ndim > 1 or (out.ndim == 1 and len(out) != len(pred)):
        raise ShapeError(f"loss '{name}' returned shape {out.shape}; expected a scalar or one value per sample "
                         f"({len(pred)},)")
    return float(np.mean(out)), (back, out.shape)


def gradient(state: Any) -> np.ndarray:
    """dLoss/dy_pred of the last ``run``."""
    back, shape = state
    seed = np.full(shape, 1.0 / max(1, int(np.prod(shape))))
    return np.ascontiguousarray(back(seed)[0])
