"""Dropout with noise instead of zeros (Keras's ``GaussianDropout`` and ``AlphaDropout``): random in training
only, the identity at inference.

``GaussianDropout(rate)`` multiplies each element by its own draw of ``N(1, rate / (1 - rate))``: the mean is
kept, the variance grows as a dropout of ``rate`` would make it. ``AlphaDropout(rate)`` (for SELU networks)
sets a dropped element to SELU's negative saturation ``alpha_p = -scale * alpha`` and then applies the affine
map ``a * x + b`` that brings inputs of mean 0 and variance 1 back to mean 0 and variance 1.

The draws come from the layer's generator (``seed=``: a generator of its own, else the model's), so runs repeat
and checkpoints resume them. The noise is a constant of the call: backward multiplies by it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError
from ..core.layer import Layer
from ..core.validation import real_number
from .dropout import Dropout

# SELU's constants (Klambauer et al. 2017, as in Keras's AlphaDropout)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
ALPHA_P = -SELU_ALPHA * SELU_SCALE  # -1.7580993408473766: SELU's value at -inf


def _rate(value: Any, layer: str) -> float:
    """A dropout rate in ``[0, 1)`` (1 would scale by infinity), else one error naming the layer."""
    return real_number(value, f"{layer} rate", "a number in [0, 1)", lambda v: 0.0 <= v < 1.0)


class GaussianDropout(Layer):
    """``x * noise``, ``noise ~ N(1, stddev**2)`` per element with ``stddev = sqrt(rate / (1 - rate))``, in
    training; the identity at inference. Any shape ``(N, ...)`` -> the same shape."""

    supports_masking = True  # the mask of a masked input passes on (nnscratch.core.masking)

    checks_dtype = False

    def __init__(self, rate: float, seed: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.use_seed(seed)
        self.rate = _rate(rate, "GaussianDropout")

    @property
    def stddev(self) -> float:
        """The noise's standard deviation, ``sqrt(rate / (1 - rate))``."""
        return math.sqrt(self.rate / (1.0 - self.rate))

    def _ensure_built(self, x: np.ndarray) -> None:
        pass  # shape-agnostic

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        if not ctx.training or self.rate == 0.0:
            ctx.noise = None
            return x
        noise = self.rng.standard_normal(x.shape).astype(x.dtype, copy=False)
        noise *= x.dtype.type(self.stddev)
        noise += x.dtype.type(1.0)
        ctx.noise = noise
        return x * noise

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out if ctx.noise is None else grad_out * ctx.noise

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate}


class AlphaDropout(Dropout):
    """SELU-preserving dropout, in training: each element kept with probability ``1 - rate``, else set to
    ``alpha_p``; then ``a * x + b`` with ``a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5`` and
    ``b = -a * alpha_p * rate``. The identity at inference. Any shape ``(N, ...)`` -> the same shape.

    ``noise_shape`` (as ``Dropout``'s): the mask's shape, ``None`` taken from the input, 1 to share a draw along
    that axis."""

    def __init__(self, rate: float, noise_shape: Any = None, seed: Any = None, **kwargs: Any) -> None:
        _rate(rate, "AlphaDropout")
        if noise_shape is not None and (not isinstance(noise_shape, (tuple, list)) or not all(
                d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1)
                for d in noise_shape)):
            raise InvalidValueError(f"AlphaDropout noise_shape must be None or a tuple of positive sizes and None "
                                    f"(one per input axis, batch included), got {noise_shape!r}")
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)

    def affine(self) -> tuple[float, float]:
        """Keras's ``(a, b)``: ``a * x + b`` restores mean 0 and variance 1 after the drop."""
        keep = 1.0 - self.rate
        a = (keep * (1.0 + self.rate * ALPHA_P**2)) ** -0.5
        return a, -a * ALPHA_P * self.rate

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        if not ctx.training or self.rate == 0.0:
            ctx.keep = None
            return x
        a, b = self.affine()
        kept = self.rng.random(self.mask_shape(x)) >= self.rate  # Keras: uniform >= rate keeps
        dtype = x.dtype.type
        ctx.keep = np.where(kept, dtype(a), dtype(0.0)).astype(x.dtype, copy=False)  # dy/dx: a where kept
        shift = np.where(kept, dtype(b), dtype(a * ALPHA_P + b)).astype(x.dtype, copy=False)
        out = x * ctx.keep
        out += shift
        return out
