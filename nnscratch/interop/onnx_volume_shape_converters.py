"""ONNX converters for the layers that change a volume's size: ``UpSampling3D`` (``Resize``, nearest, by whole
factors), ``ZeroPadding3D`` (``Pad``) and ``Cropping3D`` (``Slice``), on axes 1, 2, 3 of ``(N, D, H, W, C)``.

The tensors stay channels-last (none of these ops cares about the layout), so no ``Transpose`` is added; export
needs fixed sizes (it refuses variable shapes before any converter runs). In a float64 model the ``Resize`` is
rewritten as one ``Gather`` per axis (``nnscratch.interop.onnx_double``); ``Pad`` and ``Slice`` run in double as
they are. Registered in ``nnscratch.interop.onnx_converters``'s registry when imported.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import ShapeError
from ..layers.volume_shape import Cropping3D, UpSampling3D, ZeroPadding3D
from .onnx_converters import Value, register_onnx_converter
from .onnx_volume_converters import volume_value


def _upsampling3d(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """Nearest-neighbour ``Resize`` by the whole factors ``size`` (voxel ``i`` of an axis reads ``floor(i / s)``)."""
    v = volume_value(inputs[0], layer)
    (d, h, w, c), (sd, sh, sw) = v.shape, layer.size
    scales = ex.constant(np.array([1, sd, sh, sw, 1], np.float32), f"{layer.name}.scales")
    y = ex.node("Resize", [v.name, "", scales], hint=layer.name, mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    return Value(y, (d * sd, h * sh, w * sw, c))


def _zero_padding3d(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Pad`` (constant zeros): ONNX's ``[0, front, top, left, 0, 0, back, bottom, right, 0]``."""
    v = volume_value(inputs[0], layer)
    (d, h, w, c), pads = v.shape, layer.padding
    amounts = [0, *(p[0] for p in pads), 0, 0, *(p[1] for p in pads), 0]
    name = ex.constant(np.array(amounts, np.int64), f"{layer.name}.pads")
    size = tuple(n + a + b for n, (a, b) in zip((d, h, w), pads))
    return Value(ex.node("Pad", [v.name, name], hint=layer.name), (*size, c))


def _cropping3d(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Slice`` of voxels ``front .. D - back``, ``top .. H - bottom``, ``left .. W - right`` on axes 1, 2, 3."""
    v = volume_value(inputs[0], layer)
    (d, h, w, c), crops = v.shape, layer.cropping
    ends = [n - b for n, (_, b) in zip((d, h, w), crops)]
    if any(end - a < 1 for end, (a, _) in zip(ends, crops)):
        raise ShapeError(f"ONNX export of layer '{layer.name}' (Cropping3D): cropping {crops} removes a whole axis "
                         f"of inputs of shape (batch, {d}, {h}, {w}, {c})")
    bounds = (("starts", [a for a, _ in crops]), ("ends", ends), ("axes", [1, 2, 3]))
    names = [ex.constant(np.array(a, np.int64), f"{layer.name}.{k}") for k, a in bounds]
    size = tuple(end - a for end, (a, _) in zip(ends, crops))
    return Value(ex.node("Slice", [v.name, *names], hint=layer.name), (*size, c))


register_onnx_converter(UpSampling3D, _upsampling3d)
register_onnx_converter(ZeroPadding3D, _zero_padding3d)
register_onnx_converter(Cropping3D, _cropping3d)
