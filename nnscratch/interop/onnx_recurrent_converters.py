"""ONNX converters for the recurrent layers: ``SimpleRNN`` -> ``RNN``, ``LSTM`` -> ``LSTM``, ``GRU`` -> ``GRU``.

ONNX's recurrent ops read ``(T, N, F)`` (time first: batch-first ``layout=1`` is not run by every runtime),
so the sequence is transposed in, and the outputs back to nnscratch's ``(N, T, units)`` / ``(N, units)``.
Weights go in ONNX's layout: ``W`` ``(1, G*units, F)``, ``R`` ``(1, G*units, units)``, ``B`` the input and
the recurrent bias ``(1, 2*G*units)``; ONNX orders an LSTM's gates i, o, f, c where Keras has i, f, c, o
(a GRU's z, r, h are the same, and Keras's ``reset_after`` is ONNX's ``linear_before_reset=1``).
``go_backwards`` is ``direction="reverse"``; ONNX returns that sequence in input order, Keras in reading
order, so it is reversed back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from ..layers.gru import GRU
from ..layers.lstm import LSTM
from ..layers.recurrent import SimpleRNN
from .onnx_converters import Value, register_onnx_converter

_OPS = {SimpleRNN: "RNN", LSTM: "LSTM", GRU: "GRU"}
_GATES = {SimpleRNN: [0], LSTM: [0, 3, 1, 2], GRU: [0, 1, 2]}  # ONNX's block order in Keras's numbering
_NAMES = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}


def _onnx_activation(layer: Any, name: str) -> str:
    if name not in _NAMES:
        raise InvalidValueError(f"cannot export layer '{layer.name}' ({type(layer).__name__}) to ONNX with the "
                                f"'{name}' activation: ONNX's recurrent ops take {', '.join(_NAMES)}")
    return _NAMES[name]


def _recurrent(ex: Any, layer: Any, inputs: list[Value]) -> Value | list[Value]:
    cls, u = type(layer), layer.units
    order = np.concatenate([np.arange(k * u, (k + 1) * u) for k in _GATES[cls]])
    names = [ex.node("Transpose", [ex.native(inputs[0])], hint=layer.name, perm=[1, 0, 2]),
             ex.weight(layer.kernel, f"{layer.name}.W", lambda k: k.T[order][None]),
             ex.weight(layer.recurrent_kernel, f"{layer.name}.R", lambda r: r.T[order][None])]
    if layer.bias is not None:
        names.append(ex.weight(layer.bias, f"{layer.name}.B", lambda b: (
            b[:, order].reshape(1, -1) if b.ndim == 2 else np.concatenate([b[order], np.zeros_like(b)])[None])))
    activations = [_onnx_activation(layer, layer.activation)]
    if cls is not SimpleRNN:
        recurrent = _onnx_activation(layer, layer.recurrent_activation)
        activations = [recurrent, *activations, *activations[-1:]] if cls is LSTM else [recurrent, *activations]
    extra = {"linear_before_reset": 1} if cls is GRU else {}
    outs = ex.node_outputs(_OPS[cls], names, 3 if cls is LSTM else 2, hint=layer.name, hidden_size=u,
                           direction="reverse" if layer.go_backwards else "forward", activations=activations,
                           **extra)
    steps = inputs[0].shape[0]
    states = [Value(ex.node("Squeeze", [s, ex.constant(np.array([0], np.int64), "axis0")], hint=layer.name), (u,))
              for s in outs[1:]]
    if layer.return_sequences:
        y = ex.node("Squeeze", [outs[0], ex.constant(np.array([1], np.int64), "axis1")], hint=layer.name)
        y = ex.node("Transpose", [y], hint=layer.name, perm=[1, 0, 2])
        if layer.go_backwards:
            y = ex.node("Slice", [y, *(ex.constant(np.array([v], np.int64), f"slice{v}")
                                       for v in (-1, -(2**62), 1, -1))], hint=layer.name)
        out = Value(y, (steps, u))
    else:
        out = states[0]
    return [out, *states] if layer.return_state else out


for _cls in _OPS:
    register_onnx_converter(_cls, _recurrent)
