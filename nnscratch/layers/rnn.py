"""``RNN(cell)``: Keras's recurrent layer around a cell, ``(N, T, F) -> (N, units)`` (``(N, T, units)`` with
``return_sequences``; ``return_state`` adds the final states).

The cell is a built-in one (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``: run by the vectorized loop of
``SimpleRNN``/``LSTM``/``GRU`` on the cell's weights, so ``RNN(LSTMCell(n), ...)`` computes exactly what
``LSTM(n, ...)`` does: dropout, masks, ``initial_state``, ``go_backwards``), a user's cell (``call(inputs,
states)`` with ``keras.ops``, ``state_size``, optional ``output_size`` and ``get_initial_state``: run on the
autodiff tape by ``cell_loop``), or a list of cells / ``StackedRNNCells`` (the cells one after the other over
the whole sequence, each by its own loop: what stacking computes, see ``stacked_cells``).

Keras's call forms: ``rnn(x)``, ``rnn(x, initial_state=states)`` or ``rnn([x, *states])``, the states flat in
the cells' order (a stack's nested lists are flattened), each ``(N, width)``; with ``return_state`` the outputs
are ``[output, *final states]``, flat as well (Keras nests a stack's multi-state cells). Masks (``ctx.mask``,
from ``Embedding(mask_zero=True)``/``Masking``): a padding step keeps every state and repeats the previous
output (zeros before the first real step); ``zero_output_for_mask=True`` gives zeros at padding steps instead.
``stateful=True`` is refused. The weights are the cells' (``rnn.cell.kernel``; ``get_weights`` is Keras's
kernel, recurrent kernel, bias per cell).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError
from ..core.registry import from_config, to_config
from .cell_loop import CellLoop
from .cell_protocol import build_cell, checked_cell, output_width, state_widths
from .checks import sample_shape_error
from .recurrent_layer import RecurrentLayer
from .recurrent_states import STATE_NAMES, call_inputs, checked_states, sequence_mask, sequence_shape
from .rnn_cells import RecurrentCell
from .stacked_cells import StackedRNNCells, leaf_cells


def _flat(states: Any) -> Any:
    """Nested lists of states (a stack's, Keras's form) as one flat list; anything else as it is."""
    if not isinstance(states, (list, tuple)):
        return states
    return [leaf for s in states for leaf in (_flat(s) if isinstance(s, (list, tuple)) else [s])]


class RNN(RecurrentLayer):
    """Runs ``cell`` (a cell, a list of cells, or ``StackedRNNCells``) over the steps of ``(N, T, F)``."""

    per_sample = False  # dropout; and a recurrent layer's steps serialize across threads (see ``Recurrent``)
    supports_masking = True

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(cell, dict):
            cell = from_config(cell)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(list(cell))
        self.cell = checked_cell(cell, f"RNN '{self.name}'")
        if stateful:
            raise InvalidValueError(f"RNN '{self.name}'(stateful=True) is not supported: each sequence starts from "
                                    "the cell's initial states, or from those of the call (initial_state=)")
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.unroll = bool(go_backwards), bool(unroll)  # unroll: the same numbers either way
        self.stateful = False  # (Keras's attribute; model.reset_states() leaves the layer alone)
        self.states = None  # (it carries none)
        self.zero_output_for_mask = bool(zero_output_for_mask)

    # ------------------------------------------------------------------ the cells and their states
    def state_widths(self) -> list[int]:
        """The width of each state, flat, in the cells' order (what ``initial_state`` takes)."""
        return state_widths(self.cell)

    def state_labels(self) -> list[str]:
        """The states' names, for messages: ``h``/``c`` of a built-in cell, else ``state k``; with the cell's name
        in a stack."""
        cells = leaf_cells(self.cell)
        labels = []
        for cell in cells:
            count = len(state_widths(cell))
            names = STATE_NAMES[:count] if isinstance(cell, RecurrentCell) else [f"state {k}" for k in range(count)]
            labels += [f"{cell.name} {n}" if len(cells) > 1 else n for n in names]
        return labels

    def segments(self) -> list[Any]:
        """What runs each cell over the whole sequence, bottom to top: a built-in cell's ``Recurrent`` layer or a
        ``CellLoop``; every one but the last returns its sequence, the first alone reads it backwards."""
        cells = leaf_cells(self.cell)
        runs: list[Any] = []
        for i, cell in enumerate(cells):
            flags = {"return_sequences": self.return_sequences or i < len(cells) - 1,
                     "return_state": self.return_state, "go_backwards": self.go_backwards and i == 0}
            runs.append(cell.recurrent_layer(**flags) if isinstance(cell, RecurrentCell) else CellLoop(cell, **flags))
        return runs

    # ------------------------------------------------------------------ building and calling
    def __call__(self, inputs: Any, initial_state: Any = None, mask: Any = None,  # type: ignore[override]
                 training: bool | None = None) -> Any:
        """Keras's call: ``rnn(x)``, ``rnn(x, initial_state=states)`` or ``rnn([x, *states])``, each state
        ``(batch, width)``; ``mask=`` is refused (a sequence's mask comes through the graph)."""
        if isinstance(inputs, (list, tuple)):
            inputs = [inputs[0], *_flat(list(inputs[1:]))]
        return super().__call__(call_inputs(self, inputs, _flat(initial_state), mask, self.state_widths()), training)

    def build(self, input_shape: Any, initial_state_shape: Any = None) -> None:
        """For the sequence's ``(T, F)`` (a list of shapes: the sequence's, then the initial states')."""
        input_shape = sequence_shape(self, input_shape, initial_state_shape, self.state_widths())
        if len(input_shape) != 2 or input_shape[1] is None:
            raise sample_shape_error(f"RNN '{self.name}'", "steps, features", input_shape)
        super().build(input_shape)
        features = int(input_shape[1])
        build_cell(self.cell, features)  # a stack builds its cells in turn
        for cell in leaf_cells(self.cell):
            build_cell(cell, features)
            features = output_width(cell)

    def forward_call(self, ctx: Call, x: Any) -> Any:
        """``x`` ``(N, T, F)``, or ``[x, *initial states]`` (each ``(N, width)``)."""
        x, init = (x[0], list(x[1:])) if isinstance(x, (list, tuple)) else (x, None)
        self._ensure_built(x)
        if init is not None:
            init = checked_states(self, x, init, self.state_widths())
        mask = sequence_mask(ctx.mask)
        h, finals, start = x, [], 0
        for i, (run, cell) in enumerate(zip(self.segments(), leaf_cells(self.cell))):
            sub = ctx.sub(i, input_grad=ctx.input_grad if i == 0 else True)
            # the first run reads the sequence (and mask) backwards; the next ones read its output as it comes
            sub.mask = mask[:, ::-1] if mask is not None and i > 0 and self.go_backwards else mask
            count = len(state_widths(cell))
            own = None if init is None else init[start:start + count]
            start += count
            out = run.forward_call(sub, h if own is None else [h, *own])
            if self.return_state:
                out, *states = out
                finals += states
            h = out
        ctx.zeroed = self._padding(mask, h.shape[0], x.shape[1])
        if ctx.zeroed is not None:
            h = np.where(ctx.zeroed, h.dtype.type(0), h)
        ctx.has_init = init is not None
        return [h, *finals] if self.return_state else h

    def _padding(self, mask: Any, n: int, steps: int) -> np.ndarray | None:
        """With ``zero_output_for_mask`` and a mask: True where the output is a padding step's, broadcastable to the
        output (reading order); else None."""
        if not self.zero_output_for_mask or mask is None:
            return None
        keep = np.asarray(mask, dtype=bool).reshape(n, steps)
        keep = keep[:, ::-1] if self.go_backwards else keep
        return ~keep[:, :, None] if self.return_sequences else ~keep[:, -1:]

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        """dL/dx ``(N, T, F)``; with initial states ``[dx, *dL/d(states)]``."""
        grads = list(grad_out) if self.return_state else [grad_out]
        g = grads[0]
        if g is not None and ctx.zeroed is not None:
            g = np.where(ctx.zeroed, g.dtype.type(0), g)
        runs = self.segments()
        bounds = np.cumsum([0, *(len(state_widths(c)) for c in leaf_cells(self.cell))])
        dinit: list[list[np.ndarray]] = [[] for _ in runs]
        for i in range(len(runs) - 1, -1, -1):
            own = grads[1 + bounds[i]:1 + bounds[i + 1]]
            d = runs[i].backward_call(ctx.recorded(i), [g, *own] if self.return_state else g)
            if d is None:
                return None
            if ctx.has_init:
                g, dinit[i] = d[0], list(d[1:])
            else:
                g = d
        return [g, *(s for states in dinit for s in states)] if ctx.has_init else g

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """Keras's ``RNN.compute_mask``: the input's mask with ``return_sequences``, else None; with
        ``return_state`` a list, None for each state."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        out = mask if self.return_sequences else None
        return [out, *[None] * len(self.state_widths())] if self.return_state else out

    def get_config(self) -> dict[str, Any]:
        return {"cell": to_config(self.cell), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}
