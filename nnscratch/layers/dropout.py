"""``Dropout``: inverted dropout (scales kept units by 1 / (1 - rate) in training, identity at inference)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.layer import Module
from ..core.validation import real_number


class Dropout(Module):
    """Zeroes each input element with probability ``rate`` during training; any shape ``(batch, ...)``."""

    def __init__(self, rate: float = 0.5) -> None:
        super().__init__()
        self.rate = real_number(rate, "Dropout rate", "a number in [0, 1)", lambda v: 0.0 <= v < 1.0)

    def _ensure_built(self, x: np.ndarray) -> None:
        pass  # shape-agnostic

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self.mask = None
            return x
        keep = 1.0 - self.rate
        self.mask = (self.rng.random(x.shape) < keep).astype(x.dtype)
        self.mask *= x.dtype.type(1.0 / keep)
        return x * self.mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out if self.mask is None else grad_out * self.mask

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate}
