"""``GroupNormalization``: normalize each sample over groups of its channels (Keras's layer, channels last).

``(N, ..., C)`` with ``C`` divisible by ``groups`` is viewed as ``(N, S, groups, C / groups)`` (``S``: the
other axes flattened); mean and (biased) variance are taken per sample and group over ``S`` and the group's
channels; then ``gamma`` and ``beta`` ``(C,)`` per channel. ``groups=1`` is a layer norm over the whole
sample, ``groups=C`` instance normalization. Training and inference compute the same thing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import initializers
from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.validation import positive_int, real_number


class GroupNormalization(Layer):
    """``(N, ..., C) -> (N, ..., C)``, normalized per sample and group of ``C / groups`` channels."""

    per_sample = True

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.groups = positive_int(groups, "GroupNormalization groups")
        if axis != -1:
            raise InvalidValueError(f"GroupNormalization axis must be -1 (channels last), got {axis!r}")
        self.epsilon = real_number(epsilon, "GroupNormalization epsilon", "a number > 0", lambda v: v > 0)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.gamma: Parameter | None = None
        self.beta: Parameter | None = None

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) < 1 or input_shape[-1] % self.groups:
            raise ShapeError(f"GroupNormalization of {self.groups} groups needs a channel count divisible by it, got "
                             f"inputs of shape (batch{''.join(f', {d}' for d in input_shape)})")
        super().build(input_shape)
        channels = input_shape[-1]
        if self.scale:
            self.gamma = Parameter(self.gamma_initializer((channels,), self.rng, self.dtype))
        if self.center:
            self.beta = Parameter(self.beta_initializer((channels,), self.rng, self.dtype))

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        grouped = x.reshape(len(x), -1, self.groups, x.shape[-1] // self.groups)
        xhat = grouped - grouped.mean(axis=(1, 3), keepdims=True)
        var = np.square(xhat).mean(axis=(1, 3), keepdims=True)
        inv_std = ctx.inv_std = 1 / np.sqrt(var + self.dtype.type(self.epsilon))
        xhat *= inv_std
        ctx.xhat = xhat = xhat.reshape(x.shape)
        y = xhat * self.gamma.data if self.gamma is not None else xhat.copy()
        if self.beta is not None:
            y += self.beta.data
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray | None:
        xhat = ctx.xhat
        channels = xhat.shape[-1]
        if self.beta is not None:
            self.beta.grad += grad_out.reshape(-1, channels).sum(axis=0)
        if self.gamma is not None:
            self.gamma.grad += (grad_out * xhat).reshape(-1, channels).sum(axis=0)
        if not ctx.input_grad:
            return None
        g = grad_out * self.gamma.data if self.gamma is not None else grad_out
        shape = (len(g), -1, self.groups, channels // self.groups)
        g, xh = g.reshape(shape), xhat.reshape(shape)
        # dx = (g - mean(g) - xhat * mean(g * xhat)) / std, means over each sample's group
        dx = xh * (g * xh).mean(axis=(1, 3), keepdims=True)
        dx += g.mean(axis=(1, 3), keepdims=True)
        np.subtract(g, dx, out=dx)
        dx *= ctx.inv_std
        return dx.reshape(grad_out.shape)

    def get_config(self) -> dict[str, Any]:
        return {"groups": self.groups, "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer)}
