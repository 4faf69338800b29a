"""``Activated``: the base of a layer that is a linear map (a ``weight``, an optional ``bias``) followed by its
``activation``.

A subclass takes its settings with ``set_linear`` in ``__init__``, draws its weights with ``draw_weights`` in
``build``, adds ``linear_config()`` to its config, and defines ``forward_linear(ctx, x)`` (the output before the
activation) and ``backward_linear(ctx, grad)`` (from the gradient before the activation: weight gradients added,
dL/dx when ``ctx.input_grad``). This class composes them into a call and gives loss fusion
(``nnscratch.core.rewrites``) the activation's input, the logits, and a backward that starts there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import initializers
from ..core.call import Call
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.registry import from_config, to_config
from . import activations


class Activated(Layer):
    """``activation(forward_linear(x))`` forward, ``backward_linear(activation'(dy))`` backward, with the
    activation's records on the sub-call ``"activation"``."""

    abstract = True
    activation: Layer
    weight: Parameter | None
    bias: Parameter | None

    def set_linear(self, activation: str | Layer | dict | None, use_bias: bool, kernel_initializer: Any,
                   bias_initializer: Any) -> None:
        """The settings of the linear map and its activation (a name, a layer, a layer config or None); no
        weights until ``build``."""
        self.use_bias = bool(use_bias)
        self.activation = from_config(activation) if isinstance(activation, dict) else activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.weight = None
        self.bias = None

    @property
    def kernel(self) -> Parameter | None:
        """``weight`` under Keras's name."""
        return self.weight

    def draw_weights(self, shape: tuple[int, ...], axes: tuple[int, ...], units: int) -> None:
        """``weight``: the kernel initializer's draw of ``shape`` (the layout whose fans it should see), stored
        transposed by ``axes``; then, with ``use_bias``, ``bias`` ``(units,)``."""
        self.weight = Parameter(self.kernel_initializer(shape, self.rng, self.dtype).transpose(axes))
        if self.use_bias:
            self.bias = Parameter(self.bias_initializer((units,), self.rng, self.dtype))

    def linear_config(self) -> dict[str, Any]:
        """The ``set_linear`` settings, for ``get_config``."""
        return {
            "activation": to_config(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        }

    def forward_linear(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward_linear")

    def backward_linear(self, ctx: Call, grad: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define backward_linear")

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        return self.activation.forward_call(ctx.sub("activation"), self.forward_linear(ctx, x))

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray | None:
        return self.backward_linear(ctx, self.activation.backward_call(ctx.recorded("activation"), grad_out))

    def output_activation(self) -> Layer | None:
        return self.activation.output_activation()

    def logits(self, ctx: Call) -> np.ndarray:
        return self.activation.logits(ctx.recorded("activation"))

    def backward_from_logits(self, ctx: Call, grad: np.ndarray) -> np.ndarray | None:
        return self.backward_linear(ctx, grad)
