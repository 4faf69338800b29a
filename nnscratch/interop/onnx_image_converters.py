"""ONNX converters for the image layers that came with Keras's image tutorials: ``DepthwiseConv2D`` and
``SeparableConv2D`` (ONNX ``Conv`` with one group per channel, then a 1x1 ``Conv``), ``Resizing`` (``Resize``)
and ``GroupNormalization`` (its statistics over a ``(N, S, groups, C / groups)`` view, as the layer takes them).
Registered in ``nnscratch.interop.onnx_converters``'s registry when the exporter imports this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers.depthwise_conv import DepthwiseConv2D
from ..layers.group_norm import GroupNormalization
from ..layers.resizing import Resizing
from ..layers.separable_conv import SeparableConv2D
from .onnx_converters import Value, onnx_pads, register_onnx_converter


def _depthwise(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Conv`` with ``group = C``: weights ``(KH, KW, C, M) -> (C*M, 1, KH, KW)``, output channel ``c*M + k``."""
    x = ex.channels_first(inputs[0])
    kh, kw, c, m = layer.weight.data.shape
    names = [x, ex.weight(layer.weight, f"{layer.name}.weight",
                          lambda w: w.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw))]
    if layer.bias is not None:
        names.append(ex.weight(layer.bias, f"{layer.name}.bias"))
    y = ex.node("Conv", names, hint=layer.name, kernel_shape=[kh, kw], strides=list(layer.strides),
                dilations=list(layer.dilation), pads=onnx_pads(layer.pads), group=c)
    return ex.convert(layer.activation, [Value(y, layer.output_shape, True)])


def _separable(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """The depthwise convolution, then the pointwise 1x1 convolution with the bias and the activation."""
    return ex.convert(layer.pointwise, [_depthwise(ex, layer.depthwise, inputs)])


def _resizing(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Resize`` with aligned pixel centres (half_pixel), to sizes built from the input's batch (and channel)
    size; ``crop_to_aspect_ratio`` first slices the centred window."""
    v, h = inputs[0], layer.name
    rows, cols, c = v.shape
    top, left, height, width = layer.window(rows, cols)
    axes = np.array([2, 3] if v.channels_first else [1, 2], np.int64)
    x = v.name
    if (height, width) != (rows, cols):
        bounds = [ex.constant(a, f"{h}.{k}") for k, a in (("starts", np.array([top, left], np.int64)),
                                                        ("ends", np.array([top + height, left + width], np.int64)),
                                                        ("axes", axes))]
        x = ex.node("Slice", [x, *bounds], hint=h)
    shape = ex.node("Shape", [x], hint=h)
    kept = [ex.node("Slice", [shape, ex.constant(np.array([a], np.int64), f"{h}.from"),
                              ex.constant(np.array([b], np.int64), f"{h}.to")], hint=h)
            for a, b in ((0, 2) if v.channels_first else (0, 1), (4, 4) if v.channels_first else (3, 4))]
    target = ex.constant(np.array([layer.height, layer.width], np.int64), f"{h}.size")
    sizes = ex.node("Concat", [kept[0], target, kept[1]], hint=h, axis=0)
    extra = {"nearest_mode": "round_prefer_ceil"} if layer.interpolation == "nearest" else {}
    y = ex.node("Resize", [x, "", "", sizes], hint=h, mode="linear" if layer.interpolation == "bilinear" else "nearest",
                coordinate_transformation_mode="half_pixel", **extra)
    return Value(y, (layer.height, layer.width, c), v.channels_first)


def _group_norm(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v, h = inputs[0], layer.name
    channels = v.shape[-1]
    view = np.array([0, -1, layer.groups, channels // layer.groups], np.int64)
    x = ex.node("Reshape", [ex.native(v), ex.constant(view, f"{h}.groups")], hint=h)
    centred = ex.node("Sub", [x, ex.node("ReduceMean", [x], hint=h, axes=[1, 3], keepdims=1)], hint=h)
    var = ex.node("ReduceMean", [ex.node("Mul", [centred, centred], hint=h)], hint=h, axes=[1, 3], keepdims=1)
    std = ex.node("Sqrt", [ex.node("Add", [var, ex.scalar(layer.epsilon, f"{h}.epsilon")], hint=h)], hint=h)
    y = ex.node("Mul", [centred, ex.node("Reciprocal", [std], hint=h)], hint=h)
    y = ex.node("Reshape", [y, ex.constant(np.array([-1, *v.shape], np.int64), f"{h}.shape")], hint=h)
    if layer.gamma is not None:
        y = ex.node("Mul", [y, ex.weight(layer.gamma, f"{h}.gamma")], hint=h)
    if layer.beta is not None:
        y = ex.node("Add", [y, ex.weight(layer.beta, f"{h}.beta")], hint=h)
    return Value(y, v.shape)


register_onnx_converter(GroupNormalization, _group_norm)
register_onnx_converter(DepthwiseConv2D, _depthwise)
register_onnx_converter(SeparableConv2D, _separable)
register_onnx_converter(Resizing, _resizing)
