"""The layer fusions nnscratch registers (``nnscratch.core.rewrites``), each a named layer of its own.

``ReLUMaxPool2D``: a plain ReLU (a ``ReLU()`` layer, or the ``activation="relu"`` of a ``Conv2D``) followed by a
``MaxPool2D`` that alone reads its output. The pool applies ``max(., 0)`` to its 4x smaller output and,
backward, the ReLU's mask to its own gradient: the same outputs and gradients, bit for bit, with one
pass over the larger array fewer each way (``MaxPool2D.forward_relu_call``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.layer import Layer
from ..core.rewrites import register_fusion
from .activations import ReLU
from .conv import Conv2D
from .pooling import MaxPool2D


class ReLUMaxPool2D(Layer):
    """``pool(relu(producer_linear(x)))`` as one step; ``producer`` (optional) is a layer with a ReLU
    activation whose ``forward_linear``/``backward_linear`` give the output before it."""

    abstract = True  # made by a graph's plan, never named in a model file
    per_sample = True
    gains_from_threads = True

    def __init__(self, pool: MaxPool2D, producer: Any = None) -> None:
        super().__init__(name=f"{producer.name if producer is not None else 'relu'}+{pool.name}")
        self.pool = pool
        self.producer = producer

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        if self.producer is not None:
            x = self.producer.forward_linear(ctx.sub(0), x)
        return self.pool.forward_relu_call(ctx.sub(1, input_grad=True), x)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray | None:
        g = self.pool.backward_call(ctx.sub(1, input_grad=True), grad_out)
        return self.producer.backward_linear(ctx.sub(0), g) if self.producer is not None else g


register_fusion(ReLU, MaxPool2D, lambda relu, pool: ReLUMaxPool2D(pool), when=lambda relu, pool: relu.plain,
                name="relu+maxpool")
register_fusion(Conv2D, MaxPool2D, lambda conv, pool: ReLUMaxPool2D(pool, conv),
                when=lambda conv, pool: conv.relu, name="conv_relu+maxpool")
