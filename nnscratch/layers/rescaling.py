"""``Rescaling``: ``x * scale + offset``, a fixed affine map of the inputs (pixels 0..255 to 0..1, or to -1..1).

Keras's preprocessing layer: it puts the scaling inside the model, so a saved model takes raw pixels.
``scale`` and ``offset`` are numbers, or one value per entry of the last (channel) axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer


def _values(value: float | Sequence[float], name: str) -> float | list[float]:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim > 1 or array.size == 0 or not np.all(np.isfinite(array)):
        raise InvalidValueError(f"Rescaling {name} must be a finite number or a sequence of them (one per channel), "
                                f"got {value!r}")
    return float(array) if array.ndim == 0 else array.tolist()


class Rescaling(Layer):
    """``x * scale + offset``: ``Rescaling(1 / 255)`` maps pixels to 0..1, ``Rescaling(1 / 127.5, offset=-1)``
    to -1..1. Nothing is learned; training and inference compute the same."""

    supports_masking = True  # the mask of a masked input passes on (nnscratch.core.masking)

    per_sample = True

    def __init__(self, scale: float | Sequence[float], offset: float | Sequence[float] = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale, self.offset = _values(scale, "scale"), _values(offset, "offset")

    def _constants(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scale, offset = (np.asarray(v, dtype=x.dtype) for v in (self.scale, self.offset))
        for v, name in ((scale, "scale"), (offset, "offset")):
            if v.ndim and v.size != x.shape[-1]:
                raise ShapeError(f"Rescaling {name} has {v.size} values, one per channel, but the inputs have shape "
                                 f"{x.shape} ({x.shape[-1]} on the last axis)")
        return scale, offset

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        scale, offset = self._constants(x)
        out = np.multiply(x, scale)
        out += offset
        return out

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * np.asarray(self.scale, dtype=grad_out.dtype)

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "offset": self.offset}
