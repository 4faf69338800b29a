"""``Activated``: the base of a layer that is a linear map followed by its ``activation``.

A subclass defines ``forward_linear(ctx, x)`` (the output before the activation) and ``backward_linear(ctx,
grad)`` (from the gradient before the activation: weight gradients added, dL/dx when ``ctx.input_grad``) and
sets ``self.activation``; this class composes them into a call and gives loss fusion
(``nnscratch.core.rewrites``) the activation's input, the logits, and a backward that starts there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.layer import Layer


class Activated(Layer):
    """``activation(forward_linear(x))`` forward, ``backward_linear(activation'(dy))`` backward, with the
    activation's records on the sub-call ``"activation"``."""

    abstract = True
    activation: Layer

    def forward_linear(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward_linear")

    def backward_linear(self, ctx: Call, grad: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define backward_linear")

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        return self.activation.forward_call(ctx.sub("activation"), self.forward_linear(ctx, x))

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray | None:
        return self.backward_linear(ctx, self.activation.backward_call(ctx.sub("activation"), grad_out))

    def output_activation(self) -> Layer | None:
        return self.activation.output_activation()

    def logits(self, ctx: Call) -> np.ndarray:
        return self.activation.logits(ctx.sub("activation"))

    def backward_from_logits(self, ctx: Call, grad: np.ndarray) -> np.ndarray | None:
        return self.backward_linear(ctx, grad)
