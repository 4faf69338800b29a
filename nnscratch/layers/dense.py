"""``Dense``: the fully connected layer ``y = x @ W + b``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidTypeError, ShapeError
from ..core.layer import Layer
from ..core.regularizers import Penalized
from ..core.validation import positive_int
from .activated import Activated


class Dense(Penalized, Activated):
    """Fully connected layer: ``(batch, in_features) -> (batch, units)``.

    ``weight`` is ``(in_features, units)`` and ``bias`` ``(units,)``; ``in_features`` is inferred from the
    first input. ``activation`` (a name or layer) is applied after. ``kernel_regularizer``/``bias_regularizer``
    (``"l2"``, ``keras.regularizers.L2(1e-4)``) add a weight penalty to the training loss. The initializer draws
    the weight as ``(units, in_features)`` (the course's ``randn(out, in)`` order) and it is stored transposed, because
    ``x @ W`` and ``x.T @ g`` with this layout are the fastest BLAS calls for both passes.
    """

    supports_masking = True  # the mask of a masked input passes on (nnscratch.core.masking)

    per_sample = True

    def __init__(
        self,
        units: int,
        activation: str | Layer | dict | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.set_regularizers(kernel_regularizer, bias_regularizer, activity_regularizer)
        self.units = positive_int(units, "Dense units")
        if not isinstance(use_bias, (bool, np.bool_)):
            raise InvalidTypeError(f"Dense use_bias must be True or False, got {use_bias!r}")
        self.set_linear(activation, use_bias, kernel_initializer, bias_initializer)

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) == 0:
            raise ShapeError("Dense expects inputs of shape (batch, features), got (batch,): one number per sample; "
                             "reshape it to (batch, 1) with x.reshape(-1, 1)")
        if input_shape[-1] is None:
            raise ShapeError("Dense needs a fixed number of features (the last axis), got None: it follows the size of "
                             "a variable axis upstream (a Flatten of images or sequences of any size); pool that axis "
                             "away first (GlobalAveragePooling2D / GlobalAveragePooling1D)")
        super().build(input_shape)
        self.draw_weights((self.units, input_shape[-1]), (1, 0), self.units)

    def forward_linear(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """``x @ W + b`` ``(batch, units)``, before the activation; on ``(batch, ..., features)`` the same map
        of the last axis, as in Keras (``(batch, ..., units)``)."""
        self._ensure_built(x)
        assert self.weight is not None  # built
        ctx.shape = x.shape if x.ndim > 2 else None
        if ctx.shape is not None:
            x = x.reshape(-1, x.shape[-1])
        ctx.x = x
        z = np.dot(x, self.weight.data)
        if self.bias is not None:
            z += self.bias.data
        return z if ctx.shape is None else z.reshape(*ctx.shape[:-1], self.units)

    def backward_linear(self, ctx: Call, g: np.ndarray) -> np.ndarray | None:
        """From dL/d(x @ W + b): the weight gradients (added), and dL/dx when ``ctx.input_grad``."""
        assert self.weight is not None  # built
        if ctx.shape is not None:
            g = g.reshape(-1, self.units)
        self.weight.add_matmul(ctx.x.T, g)
        if self.bias is not None:
            self.bias.add_sum(g)
        if not ctx.input_grad:
            return None
        dx = np.dot(g, self.weight.data.T)
        return dx if ctx.shape is None else dx.reshape(ctx.shape)

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            **self.linear_config(),
            **self.regularizer_config(),
        }
