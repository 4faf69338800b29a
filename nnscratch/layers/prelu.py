"""``PReLU``: a leaky ReLU whose negative slope is learned, one per entry of the sample (or shared along
``shared_axes``, e.g. one per channel of an image)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import initializers
from ..core.call import Call
from ..core.errors import InvalidValueError
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.regularizers import Penalized, config_of


class PReLU(Penalized, Layer):
    """``x`` where ``x > 0``, else ``alpha * x``; ``alpha`` has the sample's shape with 1 on ``shared_axes``
    (1-based axes of the input, as in Keras: ``shared_axes=[1, 2]`` shares it over an image's height and
    width)."""

    supports_masking = True  # the mask of a masked input passes on (nnscratch.core.masking)

    per_sample = True

    def __init__(self, alpha_initializer: Any = "zeros", alpha_regularizer: Any = None, alpha_constraint: Any = None,
                 shared_axes: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if alpha_constraint is not None:
            raise InvalidValueError("PReLU alpha_constraint is not supported by nnscratch")
        self.set_regularizers(alpha_regularizer)
        self.alpha_initializer = initializers.get(alpha_initializer)
        axes = [shared_axes] if isinstance(shared_axes, int) else list(shared_axes or [])
        if not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in axes):
            raise InvalidValueError(f"PReLU shared_axes must be axes >= 1 (axis 0 is the batch), got {shared_axes!r}")
        self.shared_axes = sorted(set(axes))
        self.alpha: Parameter | None = None

    @property
    def weight(self) -> Parameter | None:  # the regularizers' name for the weight they penalize
        return self.alpha

    bias = None

    def build(self, input_shape: tuple[int, ...]) -> None:
        if any(a > len(input_shape) for a in self.shared_axes):
            raise InvalidValueError(f"PReLU shared_axes {self.shared_axes} do not fit samples of shape {input_shape}")
        super().build(input_shape)
        shape = tuple(1 if i + 1 in self.shared_axes else d for i, d in enumerate(input_shape))
        self.alpha = Parameter(self.alpha_initializer(shape, self.rng, self.dtype))

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        assert self.alpha is not None  # built
        ctx.x, ctx.negative = x, x <= 0
        return np.where(ctx.negative, self.alpha.data * x, x)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        assert self.alpha is not None  # built
        x, negative = ctx.x, ctx.negative
        shared = tuple(a for a in range(x.ndim) if a == 0 or a in self.shared_axes)
        self.alpha.grad += np.sum(grad_out * x * negative, axis=shared).reshape(self.alpha.data.shape)
        return np.where(negative, grad_out * self.alpha.data, grad_out)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"alpha_initializer": initializers.serialize(self.alpha_initializer),
                                  "shared_axes": self.shared_axes or None}
        if self.kernel_regularizer is not None:
            config["alpha_regularizer"] = config_of(self.kernel_regularizer)
        return config
