"""What the per-sample normalization layers share (``LayerNormalization``, ``GroupNormalization``): the
standardization of a sample over some axes, its gradient, and the learned scale and offset.

With ``xhat = (x - mean) / sqrt(var + epsilon)`` (mean and biased variance over ``axes``, kept), the
gradient of ``xhat`` is ``dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + epsilon)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import initializers
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.validation import real_number


def standardize(x: np.ndarray, axes: tuple[int, ...], epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """``(xhat, 1 / sqrt(var + epsilon))``, the statistics taken over ``axes`` (kept as size-1 axes)."""
    xhat = x - x.mean(axis=axes, keepdims=True)
    var = np.square(xhat).mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(var + x.dtype.type(epsilon))
    xhat *= inv_std
    return xhat, inv_std


def standardize_grad(g: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """dL/dx from dL/dxhat ``g`` (the shape of ``xhat``)."""
    dx = xhat * (g * xhat).mean(axis=axes, keepdims=True)
    dx += g.mean(axis=axes, keepdims=True)
    np.subtract(g, dx, out=dx)
    dx *= inv_std
    return dx


class AffineNormalization(Layer):
    """Base: ``epsilon``, and ``gamma`` (``scale``) and ``beta`` (``center``) drawn by ``build_affine``."""

    abstract = True
    per_sample = True

    def __init__(self, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = real_number(epsilon, f"{type(self).__name__} epsilon", "a number > 0", lambda v: v > 0)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.gamma: Parameter | None = None
        self.beta: Parameter | None = None

    def build_affine(self, shape: tuple[int, ...]) -> None:
        if self.scale:
            self.gamma = Parameter(self.gamma_initializer(shape, self.rng, self.dtype))
        if self.center:
            self.beta = Parameter(self.beta_initializer(shape, self.rng, self.dtype))

    def affine_config(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer)}
