"""``ActivityRegularization``: the identity, plus a penalty on its input added to the loss (Keras's layer).

The penalty of a batch ``x`` of ``N`` samples is ``(l1 * sum(|x|) + l2 * sum(x**2)) / N``: Keras 3 divides an
activity regularizer's value by the batch size (``Layer.__call__``), so its strength does not depend on the
batch size. The value goes on the call's ``losses`` (the trainer adds them to the loss, in training and
evaluation, as it does ``add_loss`` values) and backward adds its gradient, ``(l1 * sign(x) + 2 * l2 * x) / N``
times the call's ``loss_scale``, to the gradient that passes through.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.layer import Layer
from ..core.validation import real_number


def _factor(value: Any, name: str) -> float:
    return real_number(value, f"ActivityRegularization {name}", "a finite number >= 0", lambda v: v >= 0)


class ActivityRegularization(Layer):
    """``y = x`` for any shape ``(N, ...)``; adds ``(l1 * sum|x| + l2 * sum x**2) / N`` to the loss."""

    supports_masking = True  # the mask of a masked input passes on (nnscratch.core.masking)

    checks_dtype = False
    # Samples stay apart and the penalty is a mean over the batch: a batch split across threads gives each chunk's
    # penalty the chunk's share, as it does the losses (nnscratch.training.parallel), so the sum is the batch's.
    per_sample = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.l1, self.l2 = _factor(l1, "l1"), _factor(l2, "l2")

    def _ensure_built(self, x: np.ndarray) -> None:
        pass  # shape-agnostic

    def penalty(self, x: np.ndarray) -> float:
        """The value added to the loss for the batch ``x`` ``(N, ...)``."""
        value = 0.0
        if self.l1:
            value += self.l1 * float(np.sum(np.abs(x), dtype=np.float64))
        if self.l2:
            value += self.l2 * float(np.sum(np.square(x, dtype=np.float64)))
        return value / len(x)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        active = bool(self.l1 or self.l2) and x.ndim > 0 and len(x) > 0
        ctx.x = x if active else None
        if active:
            ctx.losses.append(self.penalty(x))
        return x

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray | None:
        x = ctx.x
        if x is None:
            return grad_out
        if not ctx.input_grad:
            return None
        scale = ctx.loss_scale / len(x)
        grad = grad_out.copy()
        if self.l1:
            grad += np.sign(x) * grad.dtype.type(self.l1 * scale)
        if self.l2:
            grad += x * grad.dtype.type(2.0 * self.l2 * scale)
        return grad

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}
