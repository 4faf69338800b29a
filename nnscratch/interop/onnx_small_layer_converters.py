"""ONNX converters for ``UnitNormalization``, ``Dot``, ``ActivityRegularization``, ``GaussianDropout`` and
``AlphaDropout``.

The last three are identities in an exported (inference) graph: no node. ``UnitNormalization`` is
``x * (1 / sqrt(max(ReduceSumSquare(x), eps**2)))`` over its axes, in whichever layout ``x`` is held; ``Dot``
moves the summed axis of ``x`` last and that of ``y`` first (after the batch), reshapes them to ``(N, P, D)``
and ``(N, D, Q)``, and takes one ``MatMul``, as the layer computes it. Registered in
``nnscratch.interop.onnx_converters``'s registry when this module is imported.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..layers.activity_regularization import ActivityRegularization
from ..layers.dot import EPSILON as DOT_EPSILON
from ..layers.dot import Dot
from ..layers.noise_dropout import AlphaDropout, GaussianDropout
from ..layers.unit_norm import EPSILON as UNIT_EPSILON
from ..layers.unit_norm import UnitNormalization, resolve_axes
from .onnx_converters import Value, register_onnx_converter


def _identity(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """The identity at inference: no node (the noise and the penalty act only in training)."""
    return inputs[0]


def _l2_normalized(ex: Any, name: str, axes: list[int], epsilon: float, hint: str) -> str:
    """``name * (1 / sqrt(max(sum(name**2 over axes), epsilon**2)))`` (ONNX axes), as ``l2_normalize``."""
    square_sum = ex.node("ReduceSumSquare", [name], hint=hint, axes=axes, keepdims=1)
    clamped = ex.node("Max", [square_sum, ex.scalar(epsilon * epsilon, f"{hint}.epsilon_squared")], hint=hint)
    inv = ex.node("Reciprocal", [ex.node("Sqrt", [clamped], hint=hint)], hint=hint)
    return ex.node("Mul", [name, inv], hint=hint)


def _unit_normalization(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v = inputs[0]
    axes = [ex.axis(v, a) for a in resolve_axes(layer.axis, len(v.shape) + 1, "UnitNormalization")]
    return v.renamed(_l2_normalized(ex, v.name, axes, UNIT_EPSILON, layer.name))


def _dot(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``MatMul`` of ``x`` as ``(N, P, D)`` (its summed axis last) by ``y`` as ``(N, D, Q)`` (its summed axis
    first), reshaped to ``(N, *x's other axes, *y's other axes)``; ``(N, 1)`` for two vectors."""
    (xv, yv), h = inputs, layer.name
    rank_x, rank_y = len(xv.shape) + 1, len(yv.shape) + 1
    i, j = layer.resolved_axes((rank_x, rank_y))
    x, y = ex.native(xv), ex.native(yv)
    if layer.normalize:
        x = _l2_normalized(ex, x, [i], DOT_EPSILON, h)
        y = _l2_normalized(ex, y, [j], DOT_EPSILON, h)
    size = xv.shape[i - 1]
    x_rest = [xv.shape[a - 1] for a in range(1, rank_x) if a != i]
    y_rest = [yv.shape[a - 1] for a in range(1, rank_y) if a != j]
    perm_x = [a for a in range(rank_x) if a != i] + [i]
    perm_y = [0, j] + [a for a in range(1, rank_y) if a != j]
    if perm_x != list(range(rank_x)):
        x = ex.node("Transpose", [x], hint=h, perm=perm_x)
    if perm_y != list(range(rank_y)):
        y = ex.node("Transpose", [y], hint=h, perm=perm_y)

    def reshaped(name: str, shape: list[int], what: str) -> str:
        return ex.node("Reshape", [name, ex.constant(np.array([0, *shape], np.int64), f"{h}.{what}")], hint=h)

    x3 = reshaped(x, [math.prod(x_rest), size], "x_shape")
    y3 = reshaped(y, [size, math.prod(y_rest)], "y_shape")
    shape = (*x_rest, *y_rest) or (1,)
    return Value(reshaped(ex.node("MatMul", [x3, y3], hint=h), list(shape), "out_shape"), tuple(shape))


register_onnx_converter(ActivityRegularization, _identity)
register_onnx_converter(GaussianDropout, _identity)
register_onnx_converter(AlphaDropout, _identity)
register_onnx_converter(UnitNormalization, _unit_normalization)
register_onnx_converter(Dot, _dot)
