"""``LayerNormalization``: normalize each sample over some of its axes, with a learned scale and offset."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from .standardize import AffineNormalization, standardize, standardize_grad


class LayerNormalization(AffineNormalization):
    """``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``, mean and (biased) variance taken per sample
    over ``axis`` (an int or a list of them; ``-1``: the last axis). Any input rank ``(N, ...)``.

    ``gamma`` and ``beta`` have the shape of the normalized axes (``center=False`` drops ``beta``,
    ``scale=False`` drops ``gamma``). Training and inference compute the same thing.
    """

    supports_masking = True  # the mask of a masked input passes on (nnscratch.core.masking)

    def __init__(self, axis: int | list[int] | tuple[int, ...] = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 **kwargs: Any) -> None:
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer, **kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
            raise InvalidValueError(f"LayerNormalization axis must be an integer or a list of them, got {axis!r}")
        self.axis = [int(a) for a in axes] if isinstance(axis, (list, tuple)) else int(axis)

    def build(self, input_shape: tuple[int, ...]) -> None:
        rank = len(input_shape) + 1
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        full = sorted({a + rank if a < 0 else a for a in axes})
        if len(full) != len(axes) or not all(1 <= a < rank for a in full):
            raise ShapeError(f"LayerNormalization axis {self.axis!r} does not name distinct non-batch axes of inputs "
                             f"of shape (batch{''.join(f', {d}' for d in input_shape)}) (axes 1..{rank - 1} or "
                             f"-1..-{rank - 1})")
        super().build(input_shape)
        self._axes = tuple(full)
        self._others = tuple(a for a in range(rank) if a not in full)
        param_shape = tuple(input_shape[a - 1] for a in full)
        self._broadcast = tuple(input_shape[a - 1] if a in full else 1 for a in range(1, rank))
        self.build_affine(param_shape)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        xhat, ctx.inv_std = standardize(x, self._axes, self.epsilon)
        ctx.xhat = xhat
        y = xhat * self.gamma.data.reshape(self._broadcast) if self.gamma is not None else xhat.copy()
        if self.beta is not None:
            y += self.beta.data.reshape(self._broadcast)
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray | None:
        xhat = ctx.xhat
        if self.beta is not None:
            self.beta.grad += grad_out.sum(axis=self._others).reshape(self.beta.shape)
        if self.gamma is not None:
            self.gamma.grad += (grad_out * xhat).sum(axis=self._others).reshape(self.gamma.shape)
        if not ctx.input_grad:
            return None
        g = grad_out * self.gamma.data.reshape(self._broadcast) if self.gamma is not None else grad_out
        return standardize_grad(g, xhat, ctx.inv_std, self._axes)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis, **self.affine_config()}
