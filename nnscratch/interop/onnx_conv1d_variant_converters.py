"""ONNX converters for ``DepthwiseConv1D`` (``Conv`` with one group per channel), ``SeparableConv1D`` (that, then a
``Conv`` of kernel size 1) and ``Conv1DTranspose`` (``ConvTranspose``).

A sequence is ``(N, L, C)`` in nnscratch and ``(N, C, L)`` in ONNX's ``Conv``: each converter transposes in and
back out (sequence values always stay in nnscratch's layout). The pads and lengths come from the exported input's
length, as the layers work them out per call. Registered in ``nnscratch.interop.onnx_converters``'s registry when
the exporter imports this module.
"""

from __future__ import annotations

from typing import Any

from ..layers.conv1d_transpose import Conv1DTranspose
from ..layers.depthwise_conv1d import DepthwiseConv1D
from ..layers.separable_conv1d import SeparableConv1D
from .onnx_converters import Value, register_onnx_converter

_SWAP = [0, 2, 1]  # (N, L, C) <-> (N, C, L)


def _depthwise_node(ex: Any, layer: DepthwiseConv1D, x: str, length: int) -> tuple[str, int]:
    """``Conv`` with ``group = C`` on the steps-first ``x``: weights ``(K, C, M) -> (C*M, 1, K)``, output channel
    ``c*M + k``, bias included; returns the node's output and its length."""
    assert layer.weight is not None  # built
    k, c, m = layer.weight.data.shape
    (before, after), out = layer.layout(length)
    names = [x, ex.weight(layer.weight, f"{layer.name}.weight", lambda w: w.transpose(1, 2, 0).reshape(c * m, 1, k))]
    if layer.bias is not None:
        names.append(ex.weight(layer.bias, f"{layer.name}.bias"))
    y = ex.node("Conv", names, hint=layer.name, kernel_shape=[k], strides=[layer.strides],
                dilations=[layer.dilation_rate], pads=[int(before), int(after)], group=c)
    return y, out


def _depthwise(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v = inputs[0]
    x = ex.node("Transpose", [ex.native(v)], hint=layer.name, perm=_SWAP)
    y, out = _depthwise_node(ex, layer, x, v.shape[0])
    z = Value(ex.node("Transpose", [y], hint=layer.name, perm=_SWAP), (out, v.shape[1] * layer.depth_multiplier))
    return ex.convert(layer.activation, [z])


def _separable(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """The depthwise ``Conv`` (no bias), then the pointwise ``Conv`` of kernel size 1 with the bias; one pair of
    transposes around both; then the activation."""
    v, p = inputs[0], layer.pointwise
    x = ex.node("Transpose", [ex.native(v)], hint=layer.name, perm=_SWAP)
    h, out = _depthwise_node(ex, layer.depthwise, x, v.shape[0])
    names = [h, ex.weight(p.weight, f"{p.name}.weight", lambda w: w.transpose(2, 1, 0))]  # (1, CM, F) -> (F, CM, 1)
    if p.bias is not None:
        names.append(ex.weight(p.bias, f"{p.name}.bias"))
    y = ex.node("Conv", names, hint=layer.name, kernel_shape=[1], strides=[1], dilations=[1], pads=[0, 0], group=1)
    z = Value(ex.node("Transpose", [y], hint=layer.name, perm=_SWAP), (out, layer.filters))
    return ex.convert(p.activation, [z])


def _transpose(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``ConvTranspose``, weights ``(K, F, C) -> (C, F, K)``: the full scatter cropped by ``pads`` to the layer's
    output, with ``output_padding`` for the steps past the scatter (zeros, as in the layer)."""
    v = inputs[0]
    out, before, full = layer.geometry(v.shape[0])
    extra = max(before + out - full, 0)
    names = [ex.node("Transpose", [ex.native(v)], hint=layer.name, perm=_SWAP),
             ex.weight(layer.weight, f"{layer.name}.weight", lambda w: w.transpose(2, 1, 0))]
    if layer.bias is not None:
        names.append(ex.weight(layer.bias, f"{layer.name}.bias"))
    y = ex.node("ConvTranspose", names, hint=layer.name, kernel_shape=[layer.kernel_size], strides=[layer.strides],
                dilations=[layer.dilation_rate], pads=[int(before), int(full + extra - before - out)],
                output_padding=[int(extra)], group=1)
    z = Value(ex.node("Transpose", [y], hint=layer.name, perm=_SWAP), (out, layer.filters))
    return ex.convert(layer.activation, [z])


register_onnx_converter(DepthwiseConv1D, _depthwise)
register_onnx_converter(SeparableConv1D, _separable)
register_onnx_converter(Conv1DTranspose, _transpose)
