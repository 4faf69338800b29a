"""``TimeDistributed``: one layer applied at every step of a sequence (Keras's wrapper).

``(N, T, ...)`` is viewed as a batch of ``N*T`` samples ``(...)``, passed through the wrapped layer in one
call (its weights shared by every step, their gradients summed over the steps), and the result viewed as
``(N, T, ...)`` again: no loop over steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidTypeError, ShapeError
from ..core.layer import Layer
from ..core.registry import from_config, to_config


class TimeDistributed(Layer):
    """``(N, T, *in) -> (N, T, *out)`` where ``layer`` maps ``(M, *in) -> (M, *out)``."""

    checks_dtype = False  # the wrapped layer checks its input
    per_sample = True  # samples stay apart here; whether the wrapped layer keeps them apart is its own flag

    def __init__(self, layer: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        layer = from_config(layer) if isinstance(layer, dict) else layer
        if not isinstance(layer, Layer):
            raise InvalidTypeError(f"TimeDistributed wraps a layer, got {type(layer).__name__}")
        self.layer = layer

    def _ensure_built(self, x: np.ndarray) -> None:
        if getattr(x, "ndim", 0) < 3:
            raise ShapeError(f"TimeDistributed expects sequences of shape (batch, steps, ...), got shape "
                             f"{getattr(x, 'shape', type(x).__name__)}")
        super()._ensure_built(x)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        n, steps = x.shape[:2]
        y = self.layer.forward_call(ctx.sub("layer"), x.reshape(n * steps, *x.shape[2:]))
        ctx.n = n
        return y.reshape(n, steps, *y.shape[1:])

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray | None:
        n, steps = grad_out.shape[:2]
        dx = self.layer.backward_call(ctx.recorded("layer"), grad_out.reshape(n * steps, *grad_out.shape[2:]))
        return None if dx is None else dx.reshape(n, steps, *dx.shape[1:])

    def get_config(self) -> dict[str, Any]:
        return {"layer": to_config(self.layer)}
