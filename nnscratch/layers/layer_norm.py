"""``LayerNormalization``: normalize each sample over some of its axes, with a learned scale and offset."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..core import initializers
from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.validation import real_number


class LayerNormalization(Layer):
    """``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``, mean and (biased) variance taken per sample
    over ``axis`` (an int or a list of them; ``-1``: the last axis). Any input rank ``(N, ...)``.

    ``gamma`` and ``beta`` have the shape of the normalized axes (``center=False`` drops ``beta``,
    ``scale=False`` drops ``gamma``). Training and inference compute the same thing.
    """

    per_sample = True

    def __init__(self, axis: int | list[int] | tuple[int, ...] = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
            raise InvalidValueError(f"LayerNormalization axis must be an integer or a list of them, got {axis!r}")
        self.axis = [int(a) for a in axes] if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon = real_number(epsilon, "LayerNormalization epsilon", "a number > 0", lambda v: v > 0)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.gamma: Parameter | None = None
        self.beta: Parameter | None = None

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
        if self.scale:
            self.gamma = Parameter(self.gamma_initializer(param_shape, self.rng, self.dtype))
        if self.center:
            self.beta = Parameter(self.beta_initializer(param_shape, self.rng, self.dtype))

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        xhat = x - x.mean(axis=self._axes, keepdims=True)
        var = np.square(xhat).mean(axis=self._axes, keepdims=True)
        inv_std = ctx.inv_std = 1 / np.sqrt(var + self.dtype.type(self.epsilon))
        xhat *= inv_std
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
        # dx = (g - mean(g) - xhat * mean(g * xhat)) / std, means over the normalized axes
        dx = xhat * (g * xhat).mean(axis=self._axes, keepdims=True)
        dx += g.mean(axis=self._axes, keepdims=True)
        np.subtract(g, dx, out=dx)
        dx *= ctx.inv_std
        return dx

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis, "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer)}
