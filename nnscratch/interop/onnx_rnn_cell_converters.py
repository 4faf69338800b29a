"""ONNX converters for ``RNN`` and the built-in cells: they export as the recurrent layers that run them.

``RNN`` around built-in cells is each cell's ``SimpleRNN``/``LSTM``/``GRU`` (``rnn.segments()``, sharing the
cell's weights) converted by ``onnx_recurrent_converters`` in turn, a stack's cells one after the other, each
given its own initial states; the outputs are the last one's, then every cell's final states. A cell called on
one step (``cell(x_t, states)``) is its layer on a sequence of one step. A user's cell (``call`` in
``keras.ops``) has no ONNX form: one error naming the layer and the cell, as for a ``Lambda``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from ..layers.cell_protocol import state_widths
from ..layers.rnn import RNN
from ..layers.rnn_cells import GRUCell, LSTMCell, RecurrentCell, SimpleRNNCell
from ..layers.stacked_cells import leaf_cells
from . import onnx_recurrent_converters  # noqa: F401  (registers the recurrent layers' converters)
from .onnx_converters import Value, register_onnx_converter


def _rnn(ex: Any, layer: Any, inputs: list[Value]) -> Value | list[Value]:
    cells = leaf_cells(layer.cell)
    for cell in cells:
        if not isinstance(cell, RecurrentCell):
            raise InvalidValueError(
                f"cannot export layer '{layer.name}' (RNN) to ONNX: its cell '{cell.name}' ({type(cell).__name__}) "
                "is a cell of your own, whose call() has no ONNX form (as a Lambda's function). Build the model with "
                "LSTMCell, GRUCell or SimpleRNNCell (or the LSTM, GRU, SimpleRNN layers) to export it")
    (x, *states), finals, start = inputs, [], 0
    for run, cell in zip(layer.segments(), cells):
        count = len(state_widths(cell))
        out = ex.convert(run, [x, *states[start:start + count]])
        start += count
        if layer.return_state:
            x, *own = out
            finals += own
        else:
            x = out
    return [x, *finals] if layer.return_state else x


def _cell(ex: Any, cell: Any, inputs: list[Value]) -> list[Value]:
    """``[x_t, *states]`` -> ``[output, *new states]``: the cell's layer on the step ``(N, 1, F)``."""
    x, *states = inputs
    axis1 = ex.constant(np.array([1], np.int64), "axis1")
    step = Value(ex.node("Unsqueeze", [ex.native(x), axis1], hint=cell.name), (1, *x.shape))
    out = ex.convert(cell.recurrent_layer(return_state=True), [step, *states])
    return list(out)


register_onnx_converter(RNN, _rnn)
for _cls in (SimpleRNNCell, LSTMCell, GRUCell):
    register_onnx_converter(_cls, _cell)
