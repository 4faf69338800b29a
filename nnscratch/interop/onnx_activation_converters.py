"""ONNX converters of the activation layers with arguments or without an ONNX op of their own (opset 17).

``ReLU``: ``Relu``, or with Keras's arguments ``Clip`` (``max_value``), ``LeakyRelu`` (``negative_slope``) or the
formula (``threshold``); ``Softmax``/``LogSoftmax`` over one axis are ONNX's ops, over several ``x -
ReduceLogSumExp(x)``. The smooth and piecewise activations map to ``Selu``, ``Softplus``, ``Softsign``,
``HardSigmoid`` (alpha 1/6, beta 0.5), ``HardSwish``, ``Exp``, ``Celu``, ``Shrink`` and ``Clip``, or to a few basic
ops (swish: ``x * Sigmoid(x)``; mish: ``x * Tanh(Softplus(x))``, since ``Mish`` needs opset 18). Every converter
keeps its input's layout.
"""

from __future__ import annotations

from typing import Any

from ..layers.activations import ReLU, Softmax
from ..layers.piecewise_activations import HardShrink, HardSigmoid, HardSwish, HardTanh, SoftShrink, SparsePlus
from ..layers.smooth_activations import (
    CELU,
    SELU,
    SELU_ALPHA,
    SELU_SCALE,
    Exponential,
    LogSigmoid,
    LogSoftmax,
    Mish,
    Softplus,
    Softsign,
    Squareplus,
    Swish,
    TanhShrink,
)
from .onnx_converters import Value, register_onnx_converter, unary


def _relu(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``(x > threshold ? min(x, max_value) : 0) + negative_slope * min(x - threshold, 0)``."""
    v, h = inputs[0], layer.name
    x, ns, top, t = v.name, layer.negative_slope, layer.max_value, layer.threshold
    if layer.plain:
        return v.renamed(ex.node("Relu", [x], hint=h))
    if not t and not ns:
        return v.renamed(ex.node("Clip", [x, ex.scalar(0.0, "zero"), ex.scalar(top, f"{h}.max_value")], hint=h))
    if not t and top is None:
        return v.renamed(ex.node("LeakyRelu", [x], hint=h, alpha=float(ns)))
    zero = ex.scalar(0.0, "zero")
    if t:
        tv = ex.scalar(t, f"{h}.threshold")
        y = ex.node("Where", [ex.node("Greater", [x, tv], hint=h), x, zero], hint=h)
    else:
        y = ex.node("Relu", [x], hint=h)
    if top is not None:
        y = ex.node("Min", [y, ex.scalar(top, f"{h}.max_value")], hint=h)
    if ns:
        below = ex.node("Min", [ex.node("Sub", [x, tv], hint=h) if t else x, zero], hint=h)
        y = ex.node("Add", [y, ex.node("Mul", [below, ex.scalar(ns, f"{h}.negative_slope")], hint=h)], hint=h)
    return v.renamed(y)


def _normalized(op: str, exp: bool) -> Any:
    """Softmax (``exp``) or LogSoftmax over ``layer.axis``: ONNX's ``op`` over one axis, else from
    ``ReduceLogSumExp`` over all of them."""
    def convert(ex: Any, layer: Any, inputs: list[Value]) -> Value:
        v, h = inputs[0], layer.name
        if not isinstance(layer.axis, tuple):
            return v.renamed(ex.node(op, [v.name], hint=h, axis=ex.axis(v, layer.axis)))
        axes = sorted({ex.axis(v, a) for a in layer.axis})
        lse = ex.node("ReduceLogSumExp", [v.name], hint=h, axes=axes, keepdims=1)
        y = ex.node("Sub", [v.name, lse], hint=h)
        return v.renamed(ex.node("Exp", [y], hint=h) if exp else y)
    return convert


def _swish(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v, h = inputs[0], layer.name
    return v.renamed(ex.node("Mul", [v.name, ex.node("Sigmoid", [v.name], hint=h)], hint=h))


def _mish(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v, h = inputs[0], layer.name
    t = ex.node("Tanh", [ex.node("Softplus", [v.name], hint=h)], hint=h)
    return v.renamed(ex.node("Mul", [v.name, t], hint=h))


def _log_sigmoid(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v, h = inputs[0], layer.name
    sp = ex.node("Softplus", [ex.node("Neg", [v.name], hint=h)], hint=h)
    return v.renamed(ex.node("Neg", [sp], hint=h))


def _squareplus(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``(x + sqrt(x * x + b)) * 0.5``."""
    v, h = inputs[0], layer.name
    x = v.name
    root = ex.node("Sqrt", [ex.node("Add", [ex.node("Mul", [x, x], hint=h), ex.scalar(layer.b, f"{h}.b")], hint=h)],
                   hint=h)
    return v.renamed(ex.node("Mul", [ex.node("Add", [x, root], hint=h), ex.scalar(0.5, "half")], hint=h))


def _tanh_shrink(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v, h = inputs[0], layer.name
    return v.renamed(ex.node("Sub", [v.name, ex.node("Tanh", [v.name], hint=h)], hint=h))


def _hard_tanh(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v = inputs[0]
    low, high = ex.scalar(-1.0, "minus_one"), ex.scalar(1.0, "one")
    return v.renamed(ex.node("Clip", [v.name, low, high], hint=layer.name))


def _sparse_plus(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``x >= 1 ? x : (clip(x, -1, 1) + 1)^2 / 4``."""
    v, h = inputs[0], layer.name
    x, one = v.name, ex.scalar(1.0, "one")
    u = ex.node("Add", [ex.node("Clip", [x, ex.scalar(-1.0, "minus_one"), one], hint=h), one], hint=h)
    q = ex.node("Mul", [ex.node("Mul", [u, u], hint=h), ex.scalar(0.25, "quarter")], hint=h)
    return v.renamed(ex.node("Where", [ex.node("GreaterOrEqual", [x, one], hint=h), x, q], hint=h))


register_onnx_converter(ReLU, _relu)
register_onnx_converter(Softmax, _normalized("Softmax", True))
register_onnx_converter(LogSoftmax, _normalized("LogSoftmax", False))
register_onnx_converter(SELU, unary("Selu", alpha=lambda layer: SELU_ALPHA, gamma=lambda layer: SELU_SCALE))
register_onnx_converter(Swish, _swish)
register_onnx_converter(Softplus, unary("Softplus"))
register_onnx_converter(Softsign, unary("Softsign"))
register_onnx_converter(Mish, _mish)
register_onnx_converter(Exponential, unary("Exp"))
register_onnx_converter(LogSigmoid, _log_sigmoid)
register_onnx_converter(CELU, unary("Celu", alpha=lambda layer: float(layer.alpha)))
register_onnx_converter(Squareplus, _squareplus)
register_onnx_converter(TanhShrink, _tanh_shrink)
register_onnx_converter(HardSigmoid, unary("HardSigmoid", alpha=lambda layer: 1 / 6, beta=lambda layer: 0.5))
register_onnx_converter(HardSwish, unary("HardSwish"))
register_onnx_converter(HardTanh, _hard_tanh)
register_onnx_converter(SparsePlus, _sparse_plus)
register_onnx_converter(SoftShrink, unary("Shrink", bias=lambda layer: layer.threshold,
                                          lambd=lambda layer: layer.threshold))
register_onnx_converter(HardShrink, unary("Shrink", bias=lambda layer: 0.0, lambd=lambda layer: layer.threshold))
