"""ONNX converters for the layers that change a sequence's length: ``UpSampling1D`` (``Resize``, nearest),
``ZeroPadding1D`` (``Pad``) and ``Cropping1D`` (``Slice``), all on the steps axis 1 of ``(N, L, C)``.

Sequence values stay in nnscratch's layout; export needs a fixed length (it refuses variable shapes before
any converter runs). Registered in ``nnscratch.interop.onnx_converters``'s registry when the exporter imports
this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers.sequence_shape import Cropping1D, UpSampling1D, ZeroPadding1D
from .onnx_converters import Value, register_onnx_converter


def _upsampling1d(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """Nearest-neighbour ``Resize`` by the whole factor ``size`` on the steps (step ``t`` reads ``floor(t / size)``)."""
    v = inputs[0]
    length, c = v.shape
    scales = ex.constant(np.array([1, layer.size, 1], np.float32), f"{layer.name}.scales")
    y = ex.node("Resize", [ex.native(v), "", scales], hint=layer.name, mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    return Value(y, (length * layer.size, c))


def _zero_padding1d(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Pad`` (constant zeros) with ``before`` steps at the start and ``after`` at the end."""
    v, (before, after) = inputs[0], layer.padding
    length, c = v.shape
    pads = ex.constant(np.array([0, before, 0, 0, after, 0], np.int64), f"{layer.name}.pads")
    return Value(ex.node("Pad", [ex.native(v), pads], hint=layer.name), (before + length + after, c))


def _cropping1d(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Slice`` of steps ``start`` to ``L - end`` on axis 1."""
    v, (start, end) = inputs[0], layer.cropping
    length, c = v.shape
    bounds = (("starts", [start]), ("ends", [length - end]), ("axes", [1]))
    names = [ex.constant(np.array(a, np.int64), f"{layer.name}.{k}") for k, a in bounds]
    return Value(ex.node("Slice", [ex.native(v), *names], hint=layer.name), (length - start - end, c))


register_onnx_converter(UpSampling1D, _upsampling1d)
register_onnx_converter(ZeroPadding1D, _zero_padding1d)
register_onnx_converter(Cropping1D, _cropping1d)
