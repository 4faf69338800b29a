"""ONNX converters for the preprocessing layers ``CenterCrop``, ``RandomCrop``, ``CategoryEncoding`` and
``Discretization``, as each computes at inference.

A crop is a ``Slice`` of the height and width axes; a resize (Keras's ``smart_resize``: ``CenterCrop`` of an image
smaller than the target, ``RandomCrop`` at inference) one ``Einsum`` of the image with the layer's two bilinear
matrices, ``R @ image @ C.T`` (ops onnxruntime runs in float32 and float64). Either works on the image in whichever
layout it is held. ``CategoryEncoding`` compares the (float) tokens with ``0..num_tokens-1`` (``Equal``, ``Cast``),
then ``ReduceMax`` (multi-hot) or ``ReduceSum`` (count, after ``Mul`` by the count weights) over the tokens;
``Discretization`` counts the boundaries a value is not below (``Less``, ``Not``, ``ReduceSum``: NaN in the last
bin, as ``np.digitize``), then encodes the same way. Unlike the layers, the graph does not check the tokens: one
out of range encodes as zeros. Registered in ``nnscratch.interop.onnx_converters``'s registry when imported.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers.category_encoding import CategoryEncoding
from ..layers.crop import CenterCrop, RandomCrop, resize_matrices
from ..layers.discretization import Discretization
from .onnx_converters import Value, register_onnx_converter


def _image(ex: Any, layer: Any, v: Value) -> tuple[str, list[int], bool]:
    """The image tensor's name, the ONNX axes of its height and width, whether it stays channels-first."""
    if layer.channels_first:  # the layer's own (N, C, H, W) array
        return ex.native(v), [2, 3], False
    return v.name, ([2, 3] if v.channels_first else [1, 2]), v.channels_first


def _sizes(layer: Any, v: Value) -> tuple[int, int, int]:
    """``(H, W, C)`` of one image of ``v``."""
    shape = v.shape
    return (shape[1], shape[2], shape[0]) if layer.channels_first else (shape[0], shape[1], shape[2])


def _cropped(ex: Any, layer: Any, v: Value, top: int, left: int) -> Value:
    x, axes, held_first = _image(ex, layer, v)
    h, c = layer.name, _sizes(layer, v)[2]
    bounds = [ex.constant(np.array(a, np.int64), f"{h}.{k}") for k, a in (
        ("starts", [top, left]), ("ends", [top + layer.height, left + layer.width]), ("axes", axes))]
    shape = (c, layer.height, layer.width) if layer.channels_first else (layer.height, layer.width, c)
    return Value(ex.node("Slice", [x, *bounds], hint=h), shape, held_first)


def _resized(ex: Any, layer: Any, v: Value) -> Value:
    """``smart_resize``: ``Einsum`` of the image with ``R (height, H)`` and ``C (width, W)``."""
    x, axes, held_first = _image(ex, layer, v)
    rows, cols, c = _sizes(layer, v)
    r, cm = resize_matrices(rows, cols, layer.height, layer.width, ex.dtype)
    equation = "nchw,ih,jw->ncij" if axes == [2, 3] else "nhwc,ih,jw->nijc"
    y = ex.node("Einsum", [x, ex.constant(r, f"{layer.name}.rows"), ex.constant(cm, f"{layer.name}.columns")],
                hint=layer.name, equation=equation)
    shape = (c, layer.height, layer.width) if layer.channels_first else (layer.height, layer.width, c)
    return Value(y, shape, held_first)


def _center_crop(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v = inputs[0]
    rows, cols, _ = _sizes(layer, v)
    if rows < layer.height or cols < layer.width:
        return _resized(ex, layer, v)
    return _cropped(ex, layer, v, (rows - layer.height) // 2, (cols - layer.width) // 2)


def _random_crop(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """Its inference behaviour: the resize."""
    return _resized(ex, layer, inputs[0])


def _axes(ex: Any, axes: list[int], hint: str) -> str:
    return ex.constant(np.array(axes, np.int64), hint)


def _encoded(ex: Any, h: str, x: str, shape: tuple[int, ...], depth: int, mode: str,
             weights: str | None = None) -> Value:
    """``CategoryEncoding``'s ``mode`` encoding of the valid float tokens ``x`` ``(N, *shape)``."""
    out: tuple[int, ...]
    if not shape or mode == "one_hot" and shape == (1,):  # one token a sample: (N, 1) against the tokens
        column = x if shape else ex.node("Unsqueeze", [x, _axes(ex, [1], f"{h}.axis")], hint=h)
        tokens, reduced, out = column, False, (depth,)
        if weights is not None and not shape:
            weights = ex.node("Unsqueeze", [weights, _axes(ex, [1], f"{h}.axis")], hint=h)
    else:
        tokens = ex.node("Unsqueeze", [x, _axes(ex, [-1], f"{h}.last")], hint=h)
        reduced, out = mode != "one_hot", (depth,) if mode != "one_hot" else (*shape, depth)
        if weights is not None:
            weights = ex.node("Unsqueeze", [weights, _axes(ex, [-1], f"{h}.last")], hint=h)
    every = ex.constant(np.arange(depth).astype(ex.dtype), f"{h}.tokens")
    hot = ex.node("Cast", [ex.node("Equal", [tokens, every], hint=h)], hint=h, to=ex.elem_type)
    if weights is not None:
        hot = ex.node("Mul", [hot, weights], hint=h)
    if reduced and mode == "multi_hot":
        hot = ex.node("ReduceMax", [hot], hint=h, axes=[1], keepdims=0)
    elif reduced:
        hot = ex.node("ReduceSum", [hot, _axes(ex, [1], f"{h}.axis")], hint=h, keepdims=0)
    return Value(hot, out)


def _category_encoding(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    weights = ex.native(inputs[1]) if len(inputs) > 1 else None
    v = inputs[0]
    return _encoded(ex, layer.name, ex.native(v), v.shape, layer.num_tokens, layer.output_mode, weights)


def _discretization(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """The bin index: how many boundaries are not above the value (``Less``, ``Not``, summed), then encoded."""
    v, h = inputs[0], layer.name
    element_wise = layer.output_mode == "int"  # (kept in whichever layout the input is held)
    x = v.name if element_wise else ex.native(v)
    if layer.depth == 1:  # no boundaries: every value in bin 0
        zero = ex.onnx.numpy_helper.from_array(np.zeros(1, ex.dtype))
        bins = ex.node("ConstantOfShape", [ex.node("Shape", [x], hint=h)], hint=h, value=zero)
    else:
        boundaries = ex.constant(np.asarray(layer.bin_boundaries).astype(ex.dtype), f"{h}.bin_boundaries")
        below = ex.node("Less", [ex.node("Unsqueeze", [x, _axes(ex, [-1], f"{h}.last")], hint=h), boundaries], hint=h)
        reached = ex.node("Cast", [ex.node("Not", [below], hint=h)], hint=h, to=ex.elem_type)
        bins = ex.node("ReduceSum", [reached, _axes(ex, [-1], f"{h}.last")], hint=h, keepdims=0)
    if element_wise:
        return v.renamed(bins)
    return _encoded(ex, h, bins, v.shape, layer.depth, layer.output_mode)


register_onnx_converter(CenterCrop, _center_crop)
register_onnx_converter(RandomCrop, _random_crop)
register_onnx_converter(CategoryEncoding, _category_encoding)
register_onnx_converter(Discretization, _discretization)
