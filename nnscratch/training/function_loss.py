"""Losses written with ``nnscratch.ops``: run on the tape, differentiated by it.

``compile(loss=fn)`` with ``fn(y_true, y_pred)``, or a ``Loss`` subclass that defines
``call(y_true, y_pred)`` instead of ``forward``/``backward``. The function runs through
``nnscratch.autodiff.vjp`` with ``y_pred`` watched; its result is a scalar, one value per sample ``(N,)``
or per step ``(N, T, ...)`` (then averaged over all of them, Keras's default reduction), and backward returns
its gradient with respect to ``y_pred``. No hand-written gradient is needed. With a mask ``(N, T)`` (a masked
model output) one value per step ``(N, T, ...)`` leaves the padding steps out as Keras does (``masked_mean``); a
scalar is kept as it is (Keras's too), one value per sample is refused (the mask cannot weigh it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autodiff import Tensor, vjp
from ..core.errors import ShapeError
from .masked_mean import mask_weights


def run(name: str, compute: Callable[[Any, Any], Any], pred: np.ndarray, target: Any,
        mask: np.ndarray | None = None) -> tuple[float, Any]:
    """The batch loss ``mean(compute(y_true, y_pred))`` (masked: Keras's masked mean) and what ``gradient`` needs."""
    target = np.asarray(target)
    if target.dtype.kind == "f" and target.dtype != pred.dtype:
        target = target.astype(pred.dtype)
    if target.ndim == 1 and pred.ndim == 2 and pred.shape[1] == 1 and target.dtype.kind == "f":
        target = target.reshape(-1, 1)
    out, back = vjp(lambda p: compute(Tensor(target), p), pred)
    out = np.asarray(out)
    if out.ndim and len(out) != len(pred):
        raise ShapeError(f"loss '{name}' returned shape {out.shape}; expected a scalar, one value per sample "
                         f"({len(pred)},) or per step ({len(pred)}, ...)")
    if mask is None or out.ndim == 0:  # (a scalar stays as it is, as in Keras: the mask cannot weigh it)
        return float(np.mean(out)), (back, out.shape, None)
    if out.ndim == 1:
        raise ShapeError(f"loss '{name}' returned shape {out.shape}, but the model output carries a mask over its "
                         f"steps {np.shape(mask)}: return one value per step (e.g. the mean over the last axis only)")
    weights = np.broadcast_to(mask_weights(mask, out.shape, np.float64), out.shape)
    return float(np.mean(out * weights)), (back, out.shape, weights)


def gradient(state: Any) -> np.ndarray:
    """dLoss/dy_pred of the last ``run``."""
    back, shape, weights = state
    count = max(1, int(np.prod(shape)))
    seed = np.full(shape, 1.0 / count) if weights is None else weights / count
    return np.ascontiguousarray(back(seed)[0])
