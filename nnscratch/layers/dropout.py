"""``Dropout``: inverted dropout (scales kept units by 1 / (1 - rate) in training, identity at inference);
``noise_shape`` shares one draw along axes of size 1, as ``SpatialDropout1D``/``SpatialDropout2D`` do for whole
channels."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from ..core.validation import real_number
from .checks import channels_last


class Dropout(Layer):
    """Zeroes each input element with probability ``rate`` during training; any shape ``(batch, ...)``.
    ``noise_shape`` (Keras's): the mask's shape, ``None`` entries taken from the input, 1 to share a draw along
    that axis (``(None, 1, None)`` drops whole steps' features alike)."""

    supports_masking = True  # the mask of a masked input passes on (nnscratch.core.masking)

    def __init__(self, rate: float = 0.5, noise_shape: Any = None, seed: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.use_seed(seed)
        self.rate = real_number(rate, f"{type(self).__name__} rate", "a number in [0, 1)", lambda v: 0.0 <= v < 1.0)
        if noise_shape is not None and (not isinstance(noise_shape, (tuple, list)) or not all(
                d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1)
                for d in noise_shape)):
            raise InvalidValueError(f"Dropout noise_shape must be a tuple of sizes or None, got {noise_shape!r}")
        self.noise_shape = None if noise_shape is None else tuple(None if d is None else int(d) for d in noise_shape)

    def mask_shape(self, x: np.ndarray) -> tuple[int, ...]:
        """The shape of the mask drawn for ``x`` (it broadcasts over the axes where it is 1)."""
        if self.noise_shape is None:
            return x.shape
        shape = tuple(n if d is None else d for d, n in zip(self.noise_shape, x.shape))
        if len(self.noise_shape) != x.ndim or any(d not in (1, n) for d, n in zip(shape, x.shape)):
            raise ShapeError(f"{type(self).__name__} noise_shape {self.noise_shape} does not fit inputs of shape "
                             f"{x.shape}: each size must be None, 1 or the input's")
        return shape

    def _ensure_built(self, x: np.ndarray) -> None:
        pass  # shape-agnostic

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        if not ctx.training or self.rate == 0.0:
            ctx.keep = None
            return x
        keep = 1.0 - self.rate
        mask = ctx.keep = (self.rng.random(self.mask_shape(x)) < keep).astype(x.dtype)
        mask *= x.dtype.type(1.0 / keep)
        return x * mask

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out if ctx.keep is None else grad_out * ctx.keep

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate, **({} if self.noise_shape is None else {"noise_shape": list(self.noise_shape)})}


class SpatialDropout1D(Dropout):
    """Drops whole feature channels of sequences ``(N, L, C)``: one draw per sample and channel."""

    def __init__(self, rate: float = 0.5, seed: Any = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)

    def mask_shape(self, x: np.ndarray) -> tuple[int, ...]:
        if x.ndim != 3:
            raise ShapeError(f"SpatialDropout1D expects sequences (batch, steps, channels), got shape {x.shape}")
        return (x.shape[0], 1, x.shape[2])

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate}


class SpatialDropout2D(SpatialDropout1D):
    """Drops whole channels of images ``(N, H, W, C)``: one draw per sample and channel."""

    def __init__(self, rate: float = 0.5, data_format: str | None = None, seed: Any = None, **kwargs: Any) -> None:
        channels_last(data_format, "SpatialDropout2D")
        super().__init__(rate, seed=seed, **kwargs)

    def mask_shape(self, x: np.ndarray) -> tuple[int, ...]:
        if x.ndim != 4:
            raise ShapeError(f"SpatialDropout2D expects images (batch, height, width, channels), got shape {x.shape}")
        return (x.shape[0], 1, 1, x.shape[3])
