"""``GaussianNoise``: adds zero-mean normal noise of ``stddev`` in training (a regularizer); identity at
inference. The noise is a constant of the call, so the gradient passes through unchanged."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.layer import Layer
from ..core.validation import real_number


class GaussianNoise(Layer):
    """``x + N(0, stddev**2)`` element-wise during training; any shape ``(batch, ...)``."""

    supports_masking = True  # the mask of a masked input passes on (nnscratch.core.masking)

    checks_dtype = False

    def __init__(self, stddev: float, seed: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.use_seed(seed)
        self.stddev = real_number(stddev, "GaussianNoise stddev", "a number >= 0", lambda v: v >= 0)

    def _ensure_built(self, x: np.ndarray) -> None:
        pass  # shape-agnostic

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        if not ctx.training or self.stddev == 0.0:
            return x
        return x + (self.rng.standard_normal(x.shape) * self.stddev).astype(x.dtype)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out

    def get_config(self) -> dict[str, Any]:
        return {"stddev": self.stddev}
