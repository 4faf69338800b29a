"""``GroupNormalization``: normalize each sample over groups of its channels (Keras's layer, channels last).

``(N, ..., C)`` with ``C`` divisible by ``groups`` is viewed as ``(N, S, groups, C / groups)`` (``S``: the
other axes flattened); mean and (biased) variance are taken per sample and group over ``S`` and the group's
channels; then ``gamma`` and ``beta`` ``(C,)`` per channel. ``groups=1`` is a layer norm over the whole
sample, ``groups=C`` instance normalization. Training and inference compute the same thing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.validation import positive_int
from .standardize import AffineNormalization, standardize, standardize_grad

_GROUPED = (1, 3)  # the statistics' axes in the (N, S, groups, C / groups) view


class GroupNormalization(AffineNormalization):
    """``(N, ..., C) -> (N, ..., C)``, normalized per sample and group of ``C / groups`` channels."""

    mask_refused = "Keras's GroupNormalization takes masks, which nnscratch does not"

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 **kwargs: Any) -> None:
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer, **kwargs)
        self.groups = positive_int(groups, "GroupNormalization groups")
        if axis != -1:
            raise InvalidValueError(f"GroupNormalization axis must be -1 (channels last), got {axis!r}")

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) < 1 or input_shape[-1] % self.groups:
            raise ShapeError(f"GroupNormalization of {self.groups} groups needs a channel count divisible by it, got "
                             f"inputs of shape (batch{''.join(f', {d}' for d in input_shape)})")
        super().build(input_shape)
        self.build_affine((input_shape[-1],))

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        grouped = x.reshape(len(x), math.prod(x.shape[1:-1]), self.groups, x.shape[-1] // self.groups)
        xhat, ctx.inv_std = standardize(grouped, _GROUPED, self.epsilon)
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
        return standardize_grad(g.reshape(shape), xhat.reshape(shape), ctx.inv_std, _GROUPED).reshape(grad_out.shape)

    def get_config(self) -> dict[str, Any]:
        return {"groups": self.groups, **self.affine_config()}
