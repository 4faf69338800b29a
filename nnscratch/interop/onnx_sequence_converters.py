"""ONNX converters for sequence layers: ``Embedding``, ``Conv1D``, 1-D pooling, ``LayerNormalization``,
``MultiHeadAttention`` (its products as ``MatMul`` over (sample, head), the softmax, the causal mask as an
added constant; an ``attention_mask`` input and the Keras masked softmax with ``Where``, the attention scores as a
second output).

A sequence is ``(N, L, C)`` in nnscratch; ONNX's ``Conv`` and pooling ops want ``(N, C, L)``, so those
converters transpose in and back out (sequence values always stay in nnscratch's layout). Registered in
``nnscratch.interop.onnx_converters``'s registry when the exporter imports this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers.attention import MultiHeadAttention
from ..layers.conv1d import Conv1D
from ..layers.embedding import Embedding
from ..layers.global_pooling import GlobalAvgPool1D, GlobalMaxPool1D
from ..layers.im2col import pad_amounts
from ..layers.layer_norm import LayerNormalization
from ..layers.pooling1d import AvgPool1D, MaxPool1D
from ..layers.time_distributed import TimeDistributed
from .onnx_converters import Converter, Value, register_onnx_converter

_SWAP = [0, 2, 1]  # (N, L, C) <-> (N, C, L)
_INT64 = 7  # onnx.TensorProto.INT64


def _steps_first(ex: Any, v: Value, op: str, hint: str, shape: tuple[int, ...], inputs: tuple[str, ...] = (),
                 **attributes: Any) -> Value:
    """``op`` applied to the sequence ``v`` (then ``inputs``, e.g. weights) in ONNX's ``(N, C, L)`` layout; the
    result back in ``(N, L, C)``."""
    swapped = ex.node("Transpose", [v.name], hint=hint, perm=_SWAP)
    y = ex.node(op, [swapped, *inputs], hint=hint, **attributes)
    return Value(ex.node("Transpose", [y], hint=hint, perm=_SWAP), shape)


def _embedding(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Gather`` of the table's rows at the indices (the model's float input cast to int64)."""
    v = inputs[0]
    index = ex.node("Cast", [ex.native(v)], hint=layer.name, to=_INT64)
    table = ex.weight(layer.embeddings, f"{layer.name}.embeddings")
    return Value(ex.node("Gather", [table, index], hint=layer.name, axis=0), (*v.shape, layer.output_dim))


def _conv1d(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Conv`` with a 1-D kernel, weights ``(K, C, F) -> (F, C, K)``, the layer's pads (causal: all before)."""
    names = [ex.weight(layer.weight, f"{layer.name}.weight", lambda w: w.transpose(2, 1, 0))]
    if layer.bias is not None:
        names.append(ex.weight(layer.bias, f"{layer.name}.bias"))
    z = _steps_first(ex, inputs[0], "Conv", layer.name, layer.output_shape, inputs=tuple(names),
                     kernel_shape=[layer.kernel_size], strides=[layer.strides], dilations=[layer.dilation_rate],
                     pads=[int(p) for p in layer.pads], group=1)
    return ex.convert(layer.activation, [z])


def _pool1d(op: str, **extra: Any) -> Converter:
    def convert(ex: Any, layer: Any, inputs: list[Value]) -> Value:
        v = inputs[0]
        padding = layer.padding if isinstance(layer.padding, str) else (layer.padding, layer.padding)
        _, (before, after) = pad_amounts(padding, (1, v.shape[0]), (1, layer.pool_size), (1, layer.strides), (1, 1))
        out = (before + after + v.shape[0] - layer.pool_size) // layer.strides + 1
        return _steps_first(ex, v, op, layer.name, (out, v.shape[1]), kernel_shape=[layer.pool_size],
                            strides=[layer.strides], pads=[int(before), int(after)], **extra)
    return convert


def _global1d(op: str) -> Converter:
    """``op`` over the steps: axis 1, or axis 2 for ``data_format="channels_first"`` ``(N, C, L)``."""
    def convert(ex: Any, layer: Any, inputs: list[Value]) -> Value:
        v, first = inputs[0], layer.data_format == "channels_first"
        c = v.shape[0] if first else v.shape[-1]
        shape = ((c, 1) if first else (1, c)) if layer.keepdims else (c,)
        return Value(ex.node(op, [v.name], hint=layer.name, axes=[2 if first else 1], keepdims=int(layer.keepdims)),
                     shape)
    return convert


def _layer_norm(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``(x - mean) * (1 / sqrt(var + eps)) * gamma + beta`` over the layer's axes, as it computes it."""
    v, h = inputs[0], layer.name
    rank = len(v.shape) + 1
    axes = sorted(a % rank for a in (layer.axis if isinstance(layer.axis, list) else [layer.axis]))
    x = ex.native(v)
    centred = ex.node("Sub", [x, ex.node("ReduceMean", [x], hint=h, axes=axes, keepdims=1)], hint=h)
    var = ex.node("ReduceMean", [ex.node("Mul", [centred, centred], hint=h)], hint=h, axes=axes, keepdims=1)
    std = ex.node("Sqrt", [ex.node("Add", [var, ex.scalar(layer.epsilon, f"{h}.epsilon")], hint=h)], hint=h)
    y = ex.node("Mul", [centred, ex.node("Reciprocal", [std], hint=h)], hint=h)
    shape = tuple(d if i + 1 in axes else 1 for i, d in enumerate(v.shape))  # gamma, beta over one sample
    if layer.gamma is not None:
        y = ex.node("Mul", [y, ex.weight(layer.gamma, f"{h}.gamma", lambda g: np.reshape(g, shape))], hint=h)
    if layer.beta is not None:
        y = ex.node("Add", [y, ex.weight(layer.beta, f"{h}.beta", lambda b: np.reshape(b, shape))], hint=h)
    return Value(y, v.shape)


def _attention(ex: Any, layer: Any, inputs: list[Value]) -> Value | list[Value]:
    h, heads = layer.name, layer.num_heads

    def project(v: Value, kernel: Any, bias: Any, dim: int) -> str:
        y = ex.node("MatMul", [ex.native(v), ex.weight(kernel, f"{h}.kernel", lambda k: k.reshape(k.shape[0], -1))],
                    hint=h)
        if bias is not None:
            y = ex.node("Add", [y, ex.weight(bias, f"{h}.bias", lambda b: b.reshape(-1))], hint=h)
        y = ex.node("Reshape", [y, ex.constant(np.array([0, 0, heads, dim], np.int64), f"{h}.heads")], hint=h)
        return ex.node("Transpose", [y], hint=h, perm=[0, 2, 1, 3])  # (N, H, T, dim)

    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) >= 3 else value
    q = project(query, layer.query_kernel, layer.query_bias, layer.key_dim)
    k = project(key, layer.key_kernel, layer.key_bias, layer.key_dim)
    v = project(value, layer.value_kernel, layer.value_bias, layer.value_dim)
    scores = ex.node("MatMul", [q, ex.node("Transpose", [k], hint=h, perm=[0, 1, 3, 2])], hint=h)
    scores = ex.node("Mul", [scores, ex.scalar(1.0 / np.sqrt(layer.key_dim), f"{h}.scale")], hint=h)
    steps = (query.shape[0], value.shape[0])
    if len(inputs) == 4:
        weights = _masked_softmax(ex, layer, scores, inputs[3], steps)
    else:
        if layer.use_causal_mask:
            blocked = np.where(np.triu(np.ones(steps, bool), k=1), -1e9, 0.0).astype(ex.dtype)
            scores = ex.node("Add", [scores, ex.constant(blocked, f"{h}.causal")], hint=h)
        weights = ex.node("Softmax", [scores], hint=h, axis=-1)
    context = ex.node("MatMul", [weights, v], hint=h)
    context = ex.node("Transpose", [context], hint=h, perm=[0, 2, 1, 3])
    context = ex.node("Reshape", [context, ex.constant(np.array([0, 0, -1], np.int64), f"{h}.merge")], hint=h)
    out = ex.node("MatMul", [context, ex.weight(layer.output_kernel, f"{h}.output_kernel",
                                                lambda k: k.reshape(-1, k.shape[-1]))], hint=h)
    if layer.output_bias is not None:
        out = ex.node("Add", [out, ex.weight(layer.output_bias, f"{h}.output_bias")], hint=h)
    result = Value(out, (query.shape[0], layer.output_kernel.shape[-1]))
    return [result, Value(weights, (heads, *steps))] if layer.return_attention_scores else result


def _masked_softmax(ex: Any, layer: Any, scores: str, mask: Value, steps: tuple[int, int]) -> str:
    """Keras's masked softmax of ``scores`` ``(N, H, Tq, Tv)`` where the attention mask input (non-zero: may
    attend; ``(N, Tq, Tv)`` or broadcasting to it) and the causal mask allow: -1e9 in place of the other scores,
    ``Softmax``, then 0 for their weights."""
    h = layer.name
    zero = ex.scalar(0.0, f"{h}.zero")
    allowed = ex.node("Not", [ex.node("Equal", [ex.native(mask), zero], hint=h)], hint=h)
    if layer.use_causal_mask:
        allowed = ex.node("And", [allowed, ex.constant(np.tril(np.ones(steps, bool)), f"{h}.causal")], hint=h)
    allowed = ex.node("Unsqueeze", [allowed, ex.constant(np.array([1], np.int64), f"{h}.heads_axis")], hint=h)
    hidden = ex.scalar(-1e9, f"{h}.hidden")
    weights = ex.node("Softmax", [ex.node("Where", [allowed, scores, hidden], hint=h)], hint=h, axis=-1)
    return ex.node("Where", [allowed, weights, zero], hint=h)


def _time_distributed(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """The wrapped layer's converter on ``(N*T, ...)``, between two ``Reshape`` nodes."""
    v, h = inputs[0], layer.name
    steps, inner = v.shape[0], v.shape[1:]
    flat = ex.node("Reshape", [ex.native(v), ex.constant(np.array([-1, *inner], np.int64), f"{h}.steps_in")], hint=h)
    y = ex.convert(layer.layer, [Value(flat, inner)])
    assert isinstance(y, Value)  # the wrapped layer has one output
    shape = np.array([-1, steps, *y.shape], np.int64)
    return Value(ex.node("Reshape", [ex.native(y), ex.constant(shape, f"{h}.steps_out")], hint=h), (steps, *y.shape))


register_onnx_converter(TimeDistributed, _time_distributed)
register_onnx_converter(MultiHeadAttention, _attention)
register_onnx_converter(Embedding, _embedding)
register_onnx_converter(Conv1D, _conv1d)
register_onnx_converter(MaxPool1D, _pool1d("MaxPool"))  # padded steps never win
register_onnx_converter(AvgPool1D, _pool1d("AveragePool", count_include_pad=0))  # nor are they counted
register_onnx_converter(GlobalAvgPool1D, _global1d("ReduceMean"))
register_onnx_converter(GlobalMaxPool1D, _global1d("ReduceMax"))
register_onnx_converter(LayerNormalization, _layer_norm)
