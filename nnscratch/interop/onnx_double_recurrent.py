"""ONNX's ``RNN``, ``GRU`` and ``LSTM`` in float64 for onnxruntime (which runs them in float32 only): one direction
unrolled over its fixed number of steps into ``MatMul``, ``Add``, ``Mul`` and the activations, with ONNX's
equations and gate orders (LSTM i, o, f, c; GRU z, r, h). The input's part of every step is one ``MatMul`` of
the whole sequence; each step adds the recurrent part. Used by ``nnscratch.interop.onnx_double``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .onnx_double import Lowering

_ACTIVATIONS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}
_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
_DEFAULTS = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _activations(low: Lowering, op: str) -> list[str]:
    names = [_text(a).lower() for a in (low.attr("activations") or _DEFAULTS[op])]
    if any(a not in _ACTIVATIONS for a in names):
        low.refuse(f"activations {names}: only {', '.join(_ACTIVATIONS)} are unrolled")
    return [_ACTIVATIONS[a] for a in names]


def _zeros(low: Lowering, x: str, hidden: int) -> str:
    """A ``(N, hidden)`` state of zeros, ``N`` read from ``x`` ``(T, N, F)``."""
    batch = low.op("Slice", [low.op("Shape", [x]), low.ints([1], "one"), low.ints([2], "two")])
    shape = low.op("Concat", [batch, low.ints([hidden], "hidden")], axis=0)
    zero = low.helper.make_tensor("zero", 11, [1], [0.0])  # onnx.TensorProto.DOUBLE
    return low.op("ConstantOfShape", [shape], value=zero)


def unroll(low: Lowering, node: Any) -> None:
    op = node.op_type
    x, w, r, b, lengths, h0, c0, peepholes = [*node.input, *[""] * (8 - len(node.input))][:8]
    plain = (_text(low.attr("direction", "forward")) in ("forward", "reverse") and not lengths and not peepholes
             and low.attr("clip") is None and not low.attr("layout", 0) and not low.attr("input_forget", 0))
    if not plain:
        low.refuse("only one direction without sequence_lens, clip, peepholes, layout or input_forget is unrolled")
    acts = _activations(low, op)
    hidden, gates = int(low.attr("hidden_size")), _GATES[op]
    steps = low.shape(x)[0]
    if steps is None:
        low.refuse("its number of steps is not fixed")
    kernel, recurrent = low.array(w)[0], low.array(r)[0]  # (G*H, F), (G*H, H)
    bias = low.array(b)[0] if b else np.zeros(2 * gates * hidden)
    wb, rb = bias[:gates * hidden], bias[gates * hidden:].copy()
    inside = op == "GRU" and bool(low.attr("linear_before_reset", 0))  # the h gate's recurrent bias inside r * (...)
    rh_bias = rb[2 * hidden:].copy()
    if inside:
        rb[2 * hidden:] = 0
    xw = low.op("Add", [low.op("MatMul", [x, low.const(kernel.T, "W")]), low.const(wb + rb, "B")])  # (T, N, G*H)
    axis0, last = low.ints([0], "axis0"), low.ints([-1], "last")

    def part(name: str, k: int, count: int = 1) -> str:
        """Gates ``k`` to ``k + count`` of ``name`` ``(N, G*H)``."""
        return low.op("Slice", [name, low.ints([k * hidden], "start"), low.ints([(k + count) * hidden], "end"), last])

    h = low.op("Squeeze", [h0, axis0]) if h0 else _zeros(low, x, hidden)
    c = (low.op("Squeeze", [c0, axis0]) if c0 else _zeros(low, x, hidden)) if op == "LSTM" else ""
    order = range(steps - 1, -1, -1) if _text(low.attr("direction", "forward")) == "reverse" else range(steps)
    states: dict[int, str] = {}
    rz = low.const(np.ascontiguousarray((recurrent[:2 * hidden] if op == "GRU" else recurrent).T), "R")
    rh = low.const(np.ascontiguousarray(recurrent[2 * hidden:].T), "R_h") if op == "GRU" else ""
    rh_b = low.const(rh_bias, "Rb_h") if inside else ""
    for t in order:
        xt = low.op("Gather", [xw, low.ints(t, "step")], axis=0)  # (N, G*H)
        if op == "GRU":
            zr = low.op(acts[0], [low.op("Add", [part(xt, 0, 2), low.op("MatMul", [h, rz])])])
            z, reset = part(zr, 0), part(zr, 1)
            if inside:
                hr = low.op("Mul", [reset, low.op("Add", [low.op("MatMul", [h, rh]), rh_b])])
            else:
                hr = low.op("MatMul", [low.op("Mul", [reset, h]), rh])
            candidate = low.op(acts[1], [low.op("Add", [part(xt, 2), hr])])
            keep = low.op("Sub", [low.scalar(1.0), z])
            h = low.op("Add", [low.op("Mul", [keep, candidate]), low.op("Mul", [z, h])])
        else:
            pre = low.op("Add", [xt, low.op("MatMul", [h, rz])])
            if op == "RNN":
                h = low.op(acts[0], [pre])
            else:
                i, o, f = (low.op(acts[0], [part(pre, k)]) for k in range(3))
                c = low.op("Add", [low.op("Mul", [f, c]), low.op("Mul", [i, low.op(acts[1], [part(pre, 3)])])])
                h = low.op("Mul", [o, low.op(acts[2], [c])])
        states[t] = h
    outs = [*node.output, "", "", ""]
    if outs[0]:
        sequence = low.op("Concat", [low.op("Unsqueeze", [states[t], axis0]) for t in range(steps)], axis=0)
        low.op("Unsqueeze", [sequence, low.ints([1], "axis1")], outs[0])  # (T, 1, N, H)
    if outs[1]:
        low.op("Unsqueeze", [h, axis0], outs[1])
    if op == "LSTM" and outs[2]:
        low.op("Unsqueeze", [c, axis0], outs[2])
