"""ONNX converters for the 3-D layers on channels-last volumes ``(N, D, H, W, C)``: ``Conv3D`` (ONNX ``Conv``),
``MaxPool3D`` (``MaxPool``), ``AvgPool3D`` (``AveragePool`` with ``count_include_pad=0``) and the global pools
``GlobalMaxPool3D`` / ``GlobalAvgPool3D`` (``ReduceMax`` / ``ReduceMean`` over the volume axes).

The exporter's layout bookkeeping (``Value.channels_first``, ``ex.native``, ``ex.channels_first``) knows 4-D
images only, so these converters hold 5-D tensors channels-last between layers: each reads its input through
one ``Transpose`` to ONNX's NCDHW (``perm [0, 4, 1, 2, 3]``) and gives back a channels-last ``Value`` (``perm
[0, 2, 3, 4, 1]``). The exporter notes the NCDHW tensor behind each channels-last output (``transposed_from``),
so a chain such as ``MaxPool3D -> Conv3D`` reads it directly instead of transposing twice; an activation or any
other layer in between reads the channels-last tensor as usual. "same" padding is TensorFlow's (the extra pad at
the end), given to ONNX as explicit pads. In a float64 model the ``Conv`` and ``AveragePool`` nodes are rewritten in ops
onnxruntime runs in double (``nnscratch.interop.onnx_double``); ``MaxPool``, ``Transpose`` and the reductions
run in double as they are. Registered in ``nnscratch.interop.onnx_converters``'s registry when imported.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import ShapeError
from ..layers.conv3d import Conv3D
from ..layers.im2col3d import Pads3, Triple, volume_geometry
from ..layers.pooling3d import AvgPool3D, GlobalAvgPool3D, GlobalMaxPool3D, MaxPool3D
from .onnx_converters import Converter, Value, register_onnx_converter

TO_CHANNELS_FIRST_3D = [0, 4, 1, 2, 3]  # (N, D, H, W, C) -> (N, C, D, H, W)
TO_NATIVE_3D = [0, 2, 3, 4, 1]  # (N, C, D, H, W) -> (N, D, H, W, C)


def volume_value(v: Value, layer: Any) -> Value:
    """``v``, checked to be a channels-last volume ``(D, H, W, C)``."""
    if len(v.shape) != 4 or v.channels_first:
        raise ShapeError(f"ONNX export of layer '{layer.name}' ({type(layer).__name__}): expected a channels-last "
                         f"volume (batch, depth, height, width, channels), got (batch, {', '.join(map(str, v.shape))})"
                         + (" held channels-first" if v.channels_first else ""))
    return v


def channels_first_3d(ex: Any, v: Value) -> str:
    """The name of the channels-last volume ``v`` in ONNX's NCDHW layout (one ``Transpose``, shared by every
    reader; none when ``v`` came out of one of these converters)."""
    return str(ex.transposed(v.name, TO_CHANNELS_FIRST_3D))


def native_3d(ex: Any, y: str, shape: tuple[int, ...], hint: str) -> Value:
    """The NCDHW tensor ``y`` as a channels-last ``Value`` of per-sample ``shape`` ``(D, H, W, C)``."""
    return Value(ex.transposed_from(y, TO_NATIVE_3D, hint), shape)


def onnx_pads_3d(pads: Pads3) -> list[int]:
    """nnscratch's ``((front, back), (top, bottom), (left, right))`` as ONNX's
    ``[front, top, left, back, bottom, right]``."""
    return [int(p[0]) for p in pads] + [int(p[1]) for p in pads]


def _geometry(layer: Any, v: Value, kernel: Triple, dilation: Triple) -> tuple[Pads3, Triple]:
    """The pads and output ``(OD, OH, OW)`` of ``layer`` on the volume ``v`` (its fixed size)."""
    return volume_geometry(type(layer).__name__, v.shape, kernel, layer.strides, dilation, layer.padding)


def _conv3d(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Conv`` on NCDHW data, weights ``(KD, KH, KW, C, F) -> (F, C, KD, KH, KW)``, TensorFlow's asymmetric "same"
    padding as explicit pads; then the activation, on the channels-last result."""
    v = volume_value(inputs[0], layer)
    pads, out = _geometry(layer, v, layer.kernel_size, layer.dilation_rate)
    names = [channels_first_3d(ex, v),
             ex.weight(layer.weight, f"{layer.name}.weight", lambda w: w.transpose(4, 3, 0, 1, 2))]
    if layer.bias is not None:
        names.append(ex.weight(layer.bias, f"{layer.name}.bias"))
    y = ex.node("Conv", names, hint=layer.name, kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
                dilations=list(layer.dilation_rate), pads=onnx_pads_3d(pads), group=1)
    return ex.convert(layer.activation, [native_3d(ex, y, (*out, layer.filters), layer.name)])


def _pool3d(op: str, **extra: int) -> Converter:
    def convert(ex: Any, layer: Any, inputs: list[Value]) -> Value:
        v = volume_value(inputs[0], layer)
        pads, out = _geometry(layer, v, layer.pool_size, (1, 1, 1))
        y = ex.node(op, [channels_first_3d(ex, v)], hint=layer.name, kernel_shape=list(layer.pool_size),
                    strides=list(layer.strides), pads=onnx_pads_3d(pads), **extra)
        return native_3d(ex, y, (*out, v.shape[-1]), layer.name)
    return convert


def _global_pool3d(reduce: str) -> Converter:
    """``reduce`` (``ReduceMean``/``ReduceMax``) over the volume axes of the tensor as the layer holds it: axes
    1-3 of ``(N, D, H, W, C)``, or 2-4 of ``(N, C, D, H, W)`` with ``data_format="channels_first"``; no
    ``Transpose`` either way."""
    def convert(ex: Any, layer: Any, inputs: list[Value]) -> Value:
        v = volume_value(inputs[0], layer)
        keep = bool(layer.keepdims)
        first = layer.data_format == "channels_first"
        y = ex.node(reduce, [v.name], hint=layer.name, axes=[2, 3, 4] if first else [1, 2, 3], keepdims=int(keep))
        c = v.shape[0] if first else v.shape[-1]
        if not keep:
            return Value(y, (c,))
        return Value(y, (c, 1, 1, 1) if first else (1, 1, 1, c))
    return convert


register_onnx_converter(Conv3D, _conv3d)
register_onnx_converter(MaxPool3D, _pool3d("MaxPool"))  # padded cells never win (ONNX pads MaxPool with -inf)
register_onnx_converter(AvgPool3D, _pool3d("AveragePool", count_include_pad=0))  # padded cells not counted
register_onnx_converter(GlobalMaxPool3D, _global_pool3d("ReduceMax"))
register_onnx_converter(GlobalAvgPool3D, _global_pool3d("ReduceMean"))
