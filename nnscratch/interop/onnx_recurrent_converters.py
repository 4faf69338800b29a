"""ONNX converters for the recurrent layers: ``SimpleRNN`` -> ``RNN``, ``LSTM`` -> ``LSTM``, ``GRU`` -> ``GRU``;
``Bidirectional`` as its two halves and the merge.

ONNX's recurrent ops read ``(T, N, F)`` (time first: batch-first ``layout=1`` is not run by every runtime),
so the sequence is transposed in, and the outputs back to nnscratch's ``(N, T, units)`` / ``(N, units)``.
Weights go in ONNX's layout: ``W`` ``(1, G*units, F)``, ``R`` ``(1, G*units, units)``, ``B`` the input and
the recurrent bias ``(1, 2*G*units)``; ONNX orders an LSTM's gates i, o, f, c where Keras has i, f, c, o
(a GRU's z, r, h are the same; Keras's ``reset_after=True`` is ONNX's ``linear_before_reset=1``, and
``reset_after=False``, whose one bias is the input bias, ``linear_before_reset=0`` with a zero recurrent bias).
``go_backwards`` is ``direction="reverse"``; ONNX returns that sequence in input order, Keras in reading
order, so it is reversed back. A layer called with initial states (Keras's ``initial_state``) gives them to
the op's ``initial_h`` (and an LSTM's ``initial_c``), each ``(N, units)`` unsqueezed to ONNX's
``(num_directions = 1, N, units)``; ``Bidirectional`` gives each half its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from ..layers.bidirectional import Bidirectional
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


def _refuse_stateful(layer: Any) -> None:
    """An ONNX graph carries nothing from one run to the next: a stateful layer's export would start from zeros."""
    if layer.stateful:
        raise InvalidValueError(f"cannot export layer '{layer.name}' ({type(layer).__name__}) to ONNX with "
                                f"stateful=True: an ONNX graph carries no states from one run to the next; export "
                                f"a copy built with stateful=False (its initial states as graph inputs)")


def _recurrent(ex: Any, layer: Any, inputs: list[Value]) -> Value | list[Value]:
    _refuse_stateful(layer)
    cls, u = type(layer), layer.units
    order = np.concatenate([np.arange(k * u, (k + 1) * u) for k in _GATES[cls]])
    names = [ex.node("Transpose", [ex.native(inputs[0])], hint=layer.name, perm=[1, 0, 2]),
             ex.weight(layer.kernel, f"{layer.name}.W", lambda k: k.T[order][None]),
             ex.weight(layer.recurrent_kernel, f"{layer.name}.R", lambda r: r.T[order][None])]
    if layer.bias is not None:
        names.append(ex.weight(layer.bias, f"{layer.name}.B", lambda b: (
            b[:, order].reshape(1, -1) if b.ndim == 2 else np.concatenate([b[order], np.zeros_like(b)])[None])))
    if len(inputs) > 1:  # initial states: the op's inputs 5 (initial_h) and 6 (initial_c), after B and sequence_lens
        if layer.bias is None:
            names.append(ex.constant(np.zeros((1, 2 * layer.gates * u), ex.dtype), f"{layer.name}.B"))
        axis0 = ex.constant(np.array([0], np.int64), "axis0")
        names += ["", *(ex.node("Unsqueeze", [ex.native(s), axis0], hint=layer.name) for s in inputs[1:])]
    activations = [_onnx_activation(layer, layer.activation)]
    if cls is not SimpleRNN:
        recurrent = _onnx_activation(layer, layer.recurrent_activation)
        activations = [recurrent, *activations, *activations[-1:]] if cls is LSTM else [recurrent, *activations]
    extra = {"linear_before_reset": int(layer.reset_after)} if cls is GRU else {}
    outs = ex.node_outputs(_OPS[cls], names, 3 if cls is LSTM else 2, hint=layer.name, hidden_size=u,
                           direction="reverse" if layer.go_backwards else "forward", activations=activations,
                           **extra)
    steps = inputs[0].shape[0]
    states = [Value(ex.node("Squeeze", [s, ex.constant(np.array([0], np.int64), "axis0")], hint=layer.name), (u,))
              for s in outs[1:]]
    if layer.return_sequences:
        y = ex.node("Squeeze", [outs[0], ex.constant(np.array([1], np.int64), "axis1")], hint=layer.name)
        out = Value(ex.node("Transpose", [y], hint=layer.name, perm=[1, 0, 2]), (steps, u))
        if layer.go_backwards:
            out = _reversed_steps(ex, out, layer.name)
    else:
        out = states[0]
    return [out, *states] if layer.return_state else out


def _reversed_steps(ex: Any, v: Value, hint: str) -> Value:
    """``v`` ``(N, T, ...)`` with its steps in reverse order."""
    bounds = [ex.constant(np.array([k], np.int64), f"slice{k}") for k in (-1, -(2**62), 1, -1)]
    return Value(ex.node("Slice", [v.name, *bounds], hint=hint), v.shape)


def _bidirectional(ex: Any, layer: Any, inputs: list[Value]) -> Value | list[Value]:
    """Both recurrent halves, the backward one's sequence put back in input order, merged as the layer does."""
    _refuse_stateful(layer)
    halves, (x, *states), k = [], inputs, len(layer.forward_layer.state_widths())
    for sub, init in ((layer.forward_layer, states[:k]), (layer.backward_layer, states[k:])):
        out = ex.convert(sub, [x, *init])
        halves.append(out if isinstance(out, list) else [out])
    (f, *f_states), (b, *b_states) = halves
    if layer.forward_layer.return_sequences:
        b = _reversed_steps(ex, b, layer.name)
    mode, hint = layer.merge_mode, layer.name
    if mode is None:
        merged = [f, b]
    elif mode == "concat":
        merged = [Value(ex.node("Concat", [f.name, b.name], hint=hint, axis=-1),
                        (*f.shape[:-1], f.shape[-1] + b.shape[-1]))]
    else:
        op = {"sum": "Add", "mul": "Mul", "ave": "Add"}[mode]
        y = ex.node(op, [f.name, b.name], hint=hint)
        if mode == "ave":
            y = ex.node("Mul", [y, ex.scalar(0.5, "half")], hint=hint)
        merged = [Value(y, f.shape)]
    outs = [*merged, *f_states, *b_states]
    return outs if len(outs) > 1 else outs[0]


for _cls in _OPS:
    register_onnx_converter(_cls, _recurrent)
register_onnx_converter(Bidirectional, _bidirectional)
