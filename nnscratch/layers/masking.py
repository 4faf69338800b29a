"""``Masking``: marks the steps of a sequence whose features all equal ``mask_value`` as padding (Keras's layer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.layer import Layer
from ..core.validation import real_number


class Masking(Layer):
    """``(N, T, ...)`` -> the same, with the padding steps (every value equal to ``mask_value``) set to 0; the output
    carries the mask ``any(x != mask_value, axis=-1)`` ``(N, T)`` for the layers after it (``nnscratch.core.masking``).
    """

    per_sample = True
    checks_dtype = False  # no weights: any float dtype passes
    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = real_number(mask_value, "Masking mask_value", "a finite number")

    def _kept(self, x: np.ndarray) -> np.ndarray:
        """``(N, T, ..., 1)`` booleans: whether a step has a value other than ``mask_value``."""
        return np.not_equal(x, x.dtype.type(self.mask_value)).any(axis=-1, keepdims=True)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        ctx.kept = kept = self._kept(x)
        return x * kept

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * ctx.kept

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """``any(inputs != mask_value, axis=-1)``: ``(N, T)`` for ``(N, T, F)`` inputs."""
        kept = self._kept(np.asarray(inputs))
        return kept.reshape(kept.shape[:-1])

    def get_config(self) -> dict[str, Any]:
        return {"mask_value": self.mask_value}
