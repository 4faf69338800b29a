"""``Dropout``: inverted dropout (scales kept units by 1 / (1 - rate) in training, identity at inference)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.layer import Layer
from ..core.random import refuse_layer_seed
from ..core.validation import real_number


class Dropout(Layer):
    """Zeroes each input element with probability ``rate`` during training; any shape ``(batch, ...)``."""

    def __init__(self, rate: float = 0.5, seed: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        refuse_layer_seed("Dropout", seed)
        self.rate = real_number(rate, "Dropout rate", "a number in [0, 1)", lambda v: 0.0 <= v < 1.0)

    def _ensure_built(self, x: np.ndarray) -> None:
        pass  # shape-agnostic

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        if not ctx.training or self.rate == 0.0:
            ctx.mask = None
            return x
        keep = 1.0 - self.rate
        mask = ctx.mask = (self.rng.random(x.shape) < keep).astype(x.dtype)
        mask *= x.dtype.type(1.0 / keep)
        return x * mask

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out if ctx.mask is None else grad_out * ctx.mask

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate}
