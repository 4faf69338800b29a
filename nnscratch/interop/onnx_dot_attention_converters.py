"""ONNX converters for ``Attention`` and ``AdditiveAttention`` (``nnscratch.layers.dot_attention``).

The scores as the layers compute them: ``MatMul`` of the query and the transposed key (times ``scale``), or
the query and key broadcast against each other (``Unsqueeze``, ``Add``), ``Tanh`` and ``ReduceSum`` over the
features; the causal mask as an added constant (``-1e9`` above the diagonal, as Keras); ``Softmax`` over the
keys and ``MatMul`` with the value. Inference mode (no dropout). With ``return_attention_scores`` the
attention weights are a second output. Registered when this module is imported.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers.dot_attention import MASKED, AdditiveAttention, Attention, causal_blocked
from .onnx_converters import Value, register_onnx_converter


def _broadcast_sum(ex: Any, q: str, k: str, h: str) -> str:
    """``q[:, :, None] + k[:, None]``: ``(N, Tq, Tv, D)``."""
    qe = ex.node("Unsqueeze", [q, ex.constant(np.array([2], np.int64), f"{h}.axis2")], hint=h)
    ke = ex.node("Unsqueeze", [k, ex.constant(np.array([1], np.int64), f"{h}.axis1")], hint=h)
    return ex.node("Add", [qe, ke], hint=h)


def _sum_features(ex: Any, x: str, h: str) -> str:
    """``x.sum(axis=-1)`` of an ``(N, Tq, Tv, D)`` tensor."""
    return ex.node("ReduceSum", [x, ex.constant(np.array([-1], np.int64), f"{h}.features")], hint=h, keepdims=0)


def _scores(ex: Any, layer: Any, q: str, k: str) -> str:
    """The ``(N, Tq, Tv)`` scores of ``layer`` for the query ``q`` and key ``k``."""
    h = layer.name
    if isinstance(layer, AdditiveAttention):
        t = ex.node("Tanh", [_broadcast_sum(ex, q, k, h)], hint=h)
        if layer.scale is not None:
            t = ex.node("Mul", [t, ex.weight(layer.scale, f"{h}.scale")], hint=h)
        return _sum_features(ex, t, h)
    if layer.score_mode == "dot":
        scores = ex.node("MatMul", [q, ex.node("Transpose", [k], hint=h, perm=[0, 2, 1])], hint=h)
        if layer.scale is not None:
            scores = ex.node("Mul", [scores, ex.weight(layer.scale, f"{h}.scale")], hint=h)
        return scores
    z = _broadcast_sum(ex, q, k, h)
    if layer.scale is not None:
        z = ex.node("Mul", [z, ex.weight(layer.scale, f"{h}.scale")], hint=h)
    u = _sum_features(ex, ex.node("Tanh", [z], hint=h), h)
    return ex.node("Mul", [u, ex.weight(layer.concat_score_weight, f"{h}.concat_score_weight")], hint=h)


def _attention(ex: Any, layer: Any, inputs: list[Value]) -> Value | list[Value]:
    """``Softmax(scores (+ causal constant)) @ value``; ``[output, weights]`` with ``return_attention_scores``."""
    h = layer.name
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) == 3 else value
    v = ex.native(value)
    scores = _scores(ex, layer, ex.native(query), v if key is value else ex.native(key))
    steps = (query.shape[0], value.shape[0])
    if layer.use_causal_mask:
        blocked = np.where(causal_blocked(*steps), -MASKED, 0.0).astype(ex.dtype)
        scores = ex.node("Add", [scores, ex.constant(blocked, f"{h}.causal")], hint=h)
    weights = ex.node("Softmax", [scores], hint=h, axis=-1)
    out = Value(ex.node("MatMul", [weights, v], hint=h), (query.shape[0], value.shape[1]))
    return [out, Value(weights, steps)] if layer.return_attention_scores else out


register_onnx_converter(Attention, _attention)
register_onnx_converter(AdditiveAttention, _attention)
