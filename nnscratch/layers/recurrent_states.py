"""Initial states of the recurrent layers (Keras's ``initial_state``): the forms of the call, their checks, and
the padding steps a mask puts before a sample's first real step.

``layer(x, initial_state=[h])`` (``[h, c]`` for an ``LSTM``; a single tensor for a one-state layer) and
``layer([x, *states])`` are the same call: one graph node of 1 + ``state_count`` inputs (the list form is
how a saved graph is rebuilt). Each state is ``(N, units)``; ``Bidirectional`` takes the forward layer's
states, then the backward layer's. The steps start from the given states instead of zeros (the states
before the first step *read*: with ``go_backwards``, before the last input step); without them a call runs
exactly as before. The layer's ``input_shape`` stays the sequence's ``(T, F)`` either way, so one layer may
be called with states at one place and without at another (a seq2seq decoder at training and inference).

Masks (the sequence's, the first of the inputs' masks): a padding step keeps every state. Keras's output
there is the previous step's *output*, which starts at zeros (the TensorFlow and PyTorch backends; any
backend's unrolled loop), so at the padding steps before a sample's first real step the output is zero
while the states held there are the initial ones (``leading_padding``), and a sample that is all padding
outputs zeros while its ``return_state`` states are the initial ones. (Keras's NumPy and JAX backends
repeat the first state there instead; with zero initial states the two agree.)

Carried states (Keras's ``stateful=True``): layer state, not weights, like BatchNorm's running statistics but
never saved. ``layer.states`` holds the final states of the layer's last call, each ``(N, units)`` (copies);
the next call starts from them (sample ``i`` of a batch continues sample ``i`` of the batch before), and an
explicit ``initial_state`` overrides them for that call, whose final states are then carried in turn. They are
constants to backward (truncated backpropagation through time: no gradient crosses batches). ``None`` is a
zero start: before the first call, and after ``reset_states()`` (or ``reset_states(states)``: given ones);
the first batch after it fixes the batch size, and a batch of another size is refused until the next reset
(Keras fixes it with ``Input(batch_size=...)``, which nnscratch accepts and does not enforce). An empty batch
(the shape probes of ``core.shapes``) neither reads nor writes them. They are not in ``state_dict``, the model
files, checkpoints or ``get_weights`` (nor are they in Keras's), and a masked step keeps them as any state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import DTypeError, InvalidTypeError, InvalidValueError, ShapeError
from ..core.shapes import SampleShape
from ..core.tensor import SymbolicTensor

STATE_NAMES = ("h", "c")


def _who(layer: Any) -> str:
    return f"{type(layer).__name__} '{layer.name}'"


def sequence_mask(mask: Any) -> Any:
    """The sequence's mask among a call's input masks (``ctx.mask``: a list when the call has initial states)."""
    return mask[0] if isinstance(mask, (list, tuple)) else mask


def _count_error(layer: Any, got: int, widths: list[int]) -> InvalidValueError:
    labels = layer.state_labels()
    shapes = ", ".join(f"{n} (batch, {w})" for n, w in zip(labels, widths))
    return InvalidValueError(f"{_who(layer)} takes {len(widths)} initial state{'s' if len(widths) > 1 else ''}: "
                             f"{shapes}; got {got}")


def call_inputs(layer: Any, inputs: Any, initial_state: Any, mask: Any, widths: list[int]) -> Any:
    """What ``Layer.__call__`` gets for Keras's ``layer(inputs, initial_state=..., mask=...)``: the sequence
    alone, or ``[x, *states]`` (``widths``: each state's ``units``); symbolic states are checked against
    ``(batch, units)`` here (``Layer.__call__`` casts arrays to the layer's dtype, Keras's autocast)."""
    who = _who(layer)
    if mask is not None:
        raise InvalidValueError(f"{who}: mask= (Keras masks) is not supported in nnscratch as a call argument: the "
                                "mask of the sequence (Embedding(mask_zero=True), Masking) comes through the graph")
    if isinstance(inputs, (list, tuple)):
        if initial_state is not None:
            raise InvalidValueError(f"{who} was given its initial states twice: in the list [x, *states] and as "
                                    "initial_state=; give them one way")
        if not inputs:
            raise InvalidValueError(f"{who} was called on an empty list; expected a sequence (batch, steps, features)")
        x, states = inputs[0], list(inputs[1:])
    else:
        x = inputs
        states = ([] if initial_state is None else list(initial_state) if isinstance(initial_state, (list, tuple))
                  else [initial_state])
    if not states:
        return x
    if len(states) != len(widths):
        raise _count_error(layer, len(states), widths)
    labels = layer.state_labels()
    for i, (s, w) in enumerate(zip(states, widths)):
        if isinstance(s, SymbolicTensor) and s.sample_shape != (w,):
            raise ShapeError(f"{who}: initial state {i} ({labels[i]}) must have shape (batch, {w}) (batch, units), "
                             f"got (batch, {', '.join(map(str, s.sample_shape))})")
    return [x, *states]


def checked_states(layer: Any, x: np.ndarray, states: list[Any], widths: list[int]) -> list[np.ndarray] | None:
    """``states`` (arrays, after the sequence ``x`` ``(N, T, F)`` of a call's list) checked against ``widths``:
    each ``(N, units)`` in the layer's dtype; None when there are none."""
    if not states:
        return None
    if len(states) != len(widths):
        raise _count_error(layer, len(states), widths)
    who, labels, n = _who(layer), layer.state_labels(), x.shape[0]
    for i, (s, w) in enumerate(zip(states, widths)):
        if not isinstance(s, np.ndarray):
            raise InvalidTypeError(f"{who}: initial state {i} ({labels[i]}) must be a numpy array of shape (batch, "
                                   f"{w}), got {type(s).__name__}")
        if s.dtype != layer.dtype:
            raise DTypeError(f"{who}: initial state {i} ({labels[i]}) is {s.dtype}, the layer {layer.dtype}; cast "
                             f"it with .astype('{layer.dtype}')")
        if s.shape != (n, w):
            raise ShapeError(f"{who}: initial state {i} ({labels[i]}) must have shape (batch, units) = ({n}, {w}) "
                             f"(batch: the sequence's, {x.shape}), got {s.shape}")
    return states


def _per_sample(shape: Any, rank: int) -> tuple[Any, ...]:
    """``shape`` without Keras's batch axis (a plain tuple one axis longer than ``rank`` starting with None)."""
    shape = shape if isinstance(shape, SampleShape) else tuple(shape)
    if len(shape) == rank + 1 and shape[0] is None and not isinstance(shape, SampleShape):
        return tuple(shape[1:])
    return tuple(shape)


def sequence_shape(layer: Any, input_shape: Any, state_shapes: Any, widths: list[int]) -> Any:
    """For ``build``: the sequence's per-sample shape ``(T, F)`` from ``input_shape`` (a list of shapes: the
    sequence's, then the states'; or the sequence's with ``state_shapes`` beside it), the states' shapes
    checked to be ``(units,)``."""
    if (isinstance(input_shape, (list, tuple)) and input_shape
            and all(isinstance(s, (list, tuple)) for s in input_shape)):
        input_shape, *rest = input_shape
        state_shapes = rest or state_shapes
        input_shape = _per_sample(input_shape, 2)
    if state_shapes:
        shapes = [_per_sample(s, 1) for s in state_shapes]
        if len(shapes) != len(widths):
            raise _count_error(layer, len(shapes), widths)
        for i, (s, w) in enumerate(zip(shapes, widths)):
            if s != (w,):
                raise ShapeError(f"{_who(layer)}: initial state {i} ({layer.state_labels()[i]}) must have shape "
                                 f"(batch, {w}), got (batch, {', '.join(map(str, s))})")
    return input_shape


def leading_padding(keep: np.ndarray) -> np.ndarray | None:
    """From the loop's mask ``keep`` ``(T, N, 1)`` (reading order): True at the padding steps before each sample's
    first real step (all of a sample that is all padding), where the output is zero though the states held
    are the initial ones; None when there are none."""
    lead = ~np.logical_or.accumulate(keep, axis=0)
    return lead if lead.any() else None


# ---------------------------------------------------------------- carried states (stateful=True)
def batch_size_error(layer: Any, carried: int, got: int) -> ShapeError:
    return ShapeError(f"{_who(layer)} is stateful: it carries the final states of its previous batch, of {carried} "
                      f"samples (sample i of a batch continues sample i of the batch before), and got a batch of "
                      f"{got}. Give every batch {carried} samples (fit/evaluate/predict(batch_size={carried}) on a "
                      f"multiple of {carried} samples, validation_batch_size={carried}), or call reset_states() on "
                      "the layer or the model before a batch of another size")


def start_states(layer: Any, ctx: Any, n: int, init: list[np.ndarray] | None) -> list[np.ndarray] | None:
    """The states a stateful layer's call on ``n`` samples starts from: the call's own ``init`` (Keras's
    ``initial_state`` wins), else the carried ``layer.states`` (None: zeros). ``ctx.carried``: whether backward
    returns dL/dx alone (the call had no states of its own: carried ones are constants)."""
    ctx.carried = init is None
    carried = layer.states
    if carried is None or n == 0:  # a zero start; an empty batch (a shape probe) reads nothing
        return init
    if carried[0].shape[0] != n:
        raise batch_size_error(layer, carried[0].shape[0], n)
    if init is not None:
        return init
    return carried if carried[0].dtype == layer.dtype else [s.astype(layer.dtype) for s in carried]


def given_states(layer: Any, states: Any) -> list[np.ndarray] | None:
    """``layer.reset_states(states)``: None (a zero start: the next batch may have any size), or the states to
    carry into the next batch, one array ``(N, units)`` per state (a single array for a one-state layer),
    copied in the layer's dtype; the batches that follow must have ``N`` samples."""
    if states is None:
        return None
    if not layer.stateful:
        raise InvalidValueError(f"{_who(layer)} is not stateful (stateful=True): it carries no states to set")
    states = list(states) if isinstance(states, (list, tuple)) else [states]
    widths = layer.state_widths()
    if len(states) != len(widths):
        raise _count_error(layer, len(states), widths)
    arrays = [np.array(s, dtype=layer.dtype) for s in states]
    n = arrays[0].shape[0] if arrays[0].ndim == 2 and arrays[0].shape[0] else 1
    for i, (a, w) in enumerate(zip(arrays, widths)):
        if a.shape != (n, w):
            raise ShapeError(f"{_who(layer)}: state {i} ({layer.state_labels()[i]}) must have shape (batch, units) = "
                             f"({'batch' if i == 0 else n}, {w}), got {a.shape}")
    return arrays
