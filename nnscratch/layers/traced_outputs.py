"""A layer with several outputs called inside another layer's ``call()``, on traced Tensors.

The call engine (``Layer.call_engine.apply``) runs a sub-layer as one op of the tape, with one output array. A
layer that returns several (``MultiHeadAttention(..., return_attention_scores=True)``: the output and the
attention scores) runs through it joined: one flat array holding every output, cut back into the outputs with the
tape's own indexing and reshape. A loss on any of them thus reaches the layer's ``backward_call`` once, as one list
of gradients (zeros for an output nothing reads); the weights and the inputs get exact gradients.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.layer import Layer


class _Joined:
    """What ``apply`` uses of a layer (``name``, ``named_parameters``, ``forward_call``, ``backward_call``), for
    ``layer`` with its outputs joined into one flat array. One per call: it keeps that call's output shapes."""

    def __init__(self, layer: Layer) -> None:
        self.layer, self.name = layer, layer.name
        self.shapes: list[tuple[int, ...]] = []

    def named_parameters(self, *args: Any, **kwargs: Any) -> Any:
        return self.layer.named_parameters(*args, **kwargs)

    def forward_call(self, ctx: Call, x: Any) -> np.ndarray:
        outs = self.layer.forward_call(ctx, x)
        self.shapes = [o.shape for o in outs]
        return np.concatenate([o.reshape(-1) for o in outs])

    def backward_call(self, ctx: Call, grad: np.ndarray) -> Any:
        return self.layer.backward_call(ctx, _split(grad, self.shapes))


def _split(flat: Any, shapes: list[tuple[int, ...]]) -> list[Any]:
    """``flat`` (an array or a traced Tensor) cut into consecutive pieces of ``shapes``."""
    pieces, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        pieces.append(flat[start:start + size].reshape(shape))
        start += size
    return pieces


def call_with_outputs(layer: Layer, x: Any, training: bool | None) -> list[Any]:
    """``layer(x)`` inside a traced ``call()`` (``Layer.call_engine.recording`` is true) for a layer whose
    ``forward_call`` returns a list of arrays: that list as traced Tensors, each differentiable."""
    joined = _Joined(layer)
    flat = Layer.call_engine.apply(joined, x, training)
    return _split(flat, joined.shapes)
