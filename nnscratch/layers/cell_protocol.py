"""What ``RNN`` asks of a cell (Keras's protocol): ``state_size``, ``output_size``, ``build`` and ``call``.

A cell is a ``Layer`` that computes one step: ``call(inputs, states) -> (output, new_states)``, ``inputs``
``(N, F)``, each state ``(N, width)``. ``state_size`` is an int (one state) or a list of ints (one per state;
a ``StackedRNNCells``' is the nested list of its cells'), ``output_size`` an int (default: the first state's
width). ``build`` gets Keras's ``(batch, features)`` shape and creates the weights with ``add_weight``.
The built-in cells (``rnn_cells``) follow the same protocol, run by the recurrent layers' vectorized loops.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.layer import Layer


def who(layer: Any) -> str:
    """``RNN 'rnn'``: a layer as the messages name it."""
    return f"{type(layer).__name__} '{getattr(layer, 'name', '?')}'"


def _flat(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


def state_widths(cell: Any) -> list[int]:
    """The width of each state of ``cell``, flattened (a stack's cells in order); one clear error without a
    valid ``state_size``."""
    size = getattr(cell, "state_size", None)
    if size is None:
        raise InvalidValueError(f"the cell {who(cell)} has no state_size: set self.state_size in its __init__ (an "
                                "int, or a list of ints: one per state), as Keras's RNN requires")
    widths = _flat(size)
    if not widths or not all(isinstance(w, numbers.Integral) and not isinstance(w, bool) and int(w) > 0
                             for w in widths):
        raise InvalidValueError(f"the cell {who(cell)} has state_size {size!r}: expected a positive int, or a list of "
                                "them (one per state; each state is (batch, width))")
    return [int(w) for w in widths]


def output_width(cell: Any) -> int:
    """Keras's rule: ``output_size`` when the cell has one, else the first state's width."""
    size = getattr(cell, "output_size", None)
    if size is None:
        return state_widths(cell)[0]
    if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size <= 0:
        raise InvalidValueError(f"the cell {who(cell)} has output_size {size!r}: expected a positive int")
    return int(size)


class BuiltInCell(Layer):
    """Base of nnscratch's own cells (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``, ``StackedRNNCells``), which
    ``RNN`` runs on their layers' vectorized loops rather than step by step through ``call(inputs, states)``."""

    abstract = True


def checked_cell(cell: Any, owner: str) -> Layer:
    """``cell`` if it is a layer with ``call(inputs, states)`` (or a built-in cell) and a valid ``state_size``."""
    if not isinstance(cell, Layer):
        raise InvalidTypeError(f"{owner}: a cell must be a keras.layers.Layer with call(inputs, states) and "
                               f"state_size (LSTMCell, GRUCell, SimpleRNNCell, or your own), got {type(cell).__name__}")
    if not isinstance(cell, BuiltInCell):
        call = getattr(type(cell), "call", None)
        if call is None:
            hint = (f"; for the layer {type(cell).__name__} use {type(cell).__name__}Cell"
                    if type(cell).__name__ in ("LSTM", "GRU", "SimpleRNN") else "")
            raise InvalidTypeError(f"{owner}: the cell {who(cell)} has no call(inputs, states) method: a cell computes "
                                   f"one step, returning (output, new_states){hint}")
        params = [p for p in list(inspect.signature(call).parameters.values())[1:]
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
        if len(params) < 2 and not any(p.kind is p.VAR_POSITIONAL for p in params):
            raise InvalidTypeError(f"{owner}: the cell {who(cell)} must define call(self, inputs, states) (one step: "
                                   "returns (output, new_states)); its call takes fewer arguments")
    state_widths(cell)
    return cell


def build_cell(cell: Layer, features: int) -> None:
    """Build ``cell`` for steps of ``features`` values (Keras's ``build((batch, features))``), once."""
    if cell.built:
        return
    if type(cell).build is not Layer.build:
        cell.build((None, features))
    if not cell.built:  # a Keras-style build that did not call super().build
        cell.input_shape = (features,)
