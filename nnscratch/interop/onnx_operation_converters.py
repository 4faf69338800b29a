"""ONNX converter for ``Operation`` nodes (``x + inputs``, ``x * 0.5``, ``ops.exp(x)`` in a functional model).

The element-wise ops export, with tensors or constants on either side (NumPy's broadcasting is ONNX's):
``add``, ``subtract``, ``multiply``, ``divide``, ``power``, ``maximum``, ``minimum`` and ``negative``, ``abs``,
``sqrt``, ``exp``, ``log``, ``tanh``, ``sigmoid``, ``relu``. Constants become initializers in the model's dtype.
The node keeps its input's layout when every constant is a single number; otherwise it works channels-last.
Any other op (``mean``, ``getitem``, ``concatenate``...) is refused with one error naming it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autodiff.operation import Operation
from ..autodiff.operation_args import Slot
from ..core.errors import InvalidValueError
from .onnx_converters import Value, register_onnx_converter

BINARY = {"add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div", "true_divide": "Div",
          "power": "Pow", "maximum": "Max", "minimum": "Min"}
UNARY = {"negative": "Neg", "abs": "Abs", "absolute": "Abs", "sqrt": "Sqrt", "exp": "Exp", "log": "Log",
         "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}


def _operation(ex: Any, layer: Operation, inputs: list[Value]) -> Value:
    onnx_op = BINARY.get(layer.op) or UNARY.get(layer.op)
    arity = 2 if layer.op in BINARY else 1
    args = layer.op_args
    if onnx_op is None or layer.op_kwargs or len(args) != arity:
        raise InvalidValueError(
            f"cannot export layer '{layer.name}' (Operation, ops.{layer.op}) to ONNX: the operations that export "
            f"are the element-wise {', '.join(sorted({*BINARY, *UNARY}))}; write ops.{layer.op} as a layer with a "
            f"registered converter (nnscratch.interop.onnx_converters.register_onnx_converter) to export it")
    constants = [np.asarray(a, dtype=ex.dtype) for a in args if not isinstance(a, Slot)]
    tensors = [inputs[a.index] for a in args if isinstance(a, Slot)]
    keep = all(c.size == 1 for c in constants) and len({v.channels_first for v in tensors}) == 1
    names = []
    for k, a in enumerate(args):
        if isinstance(a, Slot):
            v = inputs[a.index]
            names.append(v.name if keep else ex.native(v))
        else:
            c = np.asarray(a, dtype=ex.dtype)
            names.append(ex.constant(c.reshape(()) if keep else c, f"{layer.name}.constant{k}"))
    out = ex.node(onnx_op, names, hint=layer.name)
    first = tensors[0]
    return Value(out, first.shape, first.channels_first if keep else False)


register_onnx_converter(Operation, _operation)
