"""``Bidirectional``: a recurrent layer run over the sequence twice, from its start and from its end, the two
outputs merged (Keras's wrapper).

The backward copy is the layer's configuration with ``go_backwards`` flipped (or ``backward_layer``); its
output sequence, in reading order, is reversed back so that step ``t`` of both halves looks at input step
``t``. ``merge_mode``: ``"concat"`` (last axis), ``"sum"``, ``"mul"``, ``"ave"``, or ``None`` (both
outputs, a list). With ``return_state`` the outputs are the merged output, then the forward layer's final
states, then the backward layer's. A mask (``ctx.mask``) goes to both layers, the backward one reading it
from its end as it reads the inputs; ``compute_mask`` is Keras's.

Keras's ``initial_state``: ``Bidirectional(LSTM(..))(x, initial_state=[fh, fc, bh, bc])`` (or the list form
``[x, fh, fc, bh, bc]``): the forward layer's states, then the backward layer's (Keras's halves), each layer
starting from its own (``recurrent_states``); backward returns ``[dx, *their gradients]``.

``stateful=True`` (on the wrapped layer; both halves must agree): each half carries its own final states into
the next call (the backward half's are those after reading the sequence from its end, as Keras's);
``reset_states()`` resets both, ``states`` lists the forward half's then the backward half's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.layer import Layer
from ..core.registry import from_config, to_config
from ..core.shapes import SampleShape
from .recurrent_layer import RecurrentLayer
from .recurrent_states import call_inputs, checked_states, given_states, sequence_mask, sequence_shape

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _recurrent(layer: Any, what: str) -> RecurrentLayer:
    layer = from_config(layer) if isinstance(layer, dict) else layer
    if not isinstance(layer, RecurrentLayer):
        raise InvalidTypeError(f"Bidirectional {what} must be a recurrent layer (SimpleRNN, LSTM, GRU, RNN, "
                               f"ConvLSTM2D), got {type(layer).__name__}")
    return layer


class Bidirectional(Layer):
    """``(N, T, F)`` -> the forward and backward outputs of ``layer``, merged by ``merge_mode``."""

    per_sample = True
    supports_masking = True  # both layers get the mask (Keras's)

    def __init__(self, layer: Any, merge_mode: str | None = "concat", backward_layer: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.forward_layer = _recurrent(layer, "layer")
        if backward_layer is None:
            spec = to_config(self.forward_layer)
            spec["config"]["go_backwards"] = not self.forward_layer.go_backwards
            spec["name"] = f"backward_{self.forward_layer.name}"
            backward_layer = spec
        self.backward_layer = _recurrent(backward_layer, "backward_layer")
        f, b = self.forward_layer, self.backward_layer
        if (f.return_sequences, f.return_state, f.stateful) != (b.return_sequences, b.return_state, b.stateful):
            raise InvalidValueError("Bidirectional layer and backward_layer must agree on return_sequences, "
                                    "return_state and stateful")
        if merge_mode not in MERGE_MODES:
            raise InvalidValueError(f"Bidirectional merge_mode must be one of {MERGE_MODES}, got {merge_mode!r}")
        self.merge_mode = merge_mode

    @property
    def stateful(self) -> bool:
        """Whether the halves carry their final states into the next call (the wrapped layer's ``stateful``)."""
        return self.forward_layer.stateful

    @property
    def states(self) -> list[np.ndarray] | None:
        """The carried states, the forward half's then the backward half's; None before the first call and after
        a reset (zeros)."""
        f, b = self.forward_layer.states, self.backward_layer.states
        return None if f is None or b is None else [*f, *b]

    def reset_states(self, states: Any = None) -> None:
        """Both halves start their next call from zeros, or from ``states`` (the forward half's, then the backward
        half's, each ``(batch, units)``); a no-op when not stateful (``states`` is refused)."""
        states = given_states(self, states)
        k = len(self.forward_layer.state_widths())
        self.forward_layer.reset_states(None if states is None else states[:k])
        self.backward_layer.reset_states(None if states is None else states[k:])

    def reset_state(self, states: Any = None) -> None:
        """Keras 3's name of ``reset_states``."""
        self.reset_states(states)

    def state_widths(self) -> list[int]:
        """The ``units`` of each initial state a call may take: the forward layer's states, then the backward's."""
        return [*self.forward_layer.state_widths(), *self.backward_layer.state_widths()]

    def state_labels(self) -> list[str]:
        """The names of those states, for messages: ``["forward h", "forward c", "backward h", ...]``."""
        return [f"{side} {name}" for side, half in (("forward", self.forward_layer), ("backward", self.backward_layer))
                for name in half.state_labels()]

    def __call__(self, inputs: Any, initial_state: Any = None, mask: Any = None,  # type: ignore[override]
                 training: bool | None = None) -> Any:
        """Keras's call: ``layer(x)``, ``layer(x, initial_state=[forward states..., backward states...])`` or the
        list form ``layer([x, *states])``; ``mask=`` is refused (a sequence's mask comes through the graph)."""
        return super().__call__(call_inputs(self, inputs, initial_state, mask, self.state_widths()), training)

    def build(self, input_shape: Any, initial_state_shape: Any = None) -> None:
        input_shape = sequence_shape(self, input_shape, initial_state_shape, self.state_widths())
        super().build(input_shape)
        for layer in (self.forward_layer, self.backward_layer):  # for this shape, whose steps may be None
            if not layer.built:  # (per-sample: a plain tuple starting with None would read as a batch shape)
                layer.build(SampleShape(input_shape))

    def _halves(self, ctx: Call, x: np.ndarray, init: list[np.ndarray] | None) -> tuple[Any, Any, list[np.ndarray]]:
        forward, backward = ctx.sub("forward"), ctx.sub("backward")
        forward.mask = backward.mask = sequence_mask(ctx.mask)
        k = len(self.forward_layer.state_widths())
        f = self.forward_layer.forward_call(forward, x if init is None else [x, *init[:k]])
        b = self.backward_layer.forward_call(backward, x if init is None else [x, *init[k:]])
        states: list[np.ndarray] = []
        if self.forward_layer.return_state:
            (f, *fs), (b, *bs) = f, b
            states = [*fs, *bs]
        if self.forward_layer.return_sequences:
            b = b[:, ::-1]
        return f, b, states

    def forward_call(self, ctx: Call, x: Any) -> Any:
        """``x`` ``(N, T, F)``, or ``[x, *initial states]`` (each ``(N, units)``)."""
        x, init = (x[0], list(x[1:])) if isinstance(x, (list, tuple)) else (x, None)
        self._ensure_built(x)
        if init is not None:
            init = checked_states(self, x, init, self.state_widths())
        f, b, states = self._halves(ctx, x, init)
        ctx.f, ctx.b = f, b
        mode = self.merge_mode
        if mode is None:
            merged: list[np.ndarray] = [f, b]
        elif mode == "concat":
            merged = [np.concatenate([f, b], axis=-1)]
        elif mode == "sum":
            merged = [f + b]
        elif mode == "mul":
            merged = [f * b]
        else:
            merged = [(f + b) * f.dtype.type(0.5)]
        outs = [*merged, *states]
        return outs if len(outs) > 1 else outs[0]

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        grads = list(grad_out) if isinstance(grad_out, (list, tuple)) else [grad_out]
        f, b = ctx.f, ctx.b
        n_merged = 2 if self.merge_mode is None else 1
        g, states = grads[:n_merged], grads[n_merged:]
        if self.merge_mode is None:
            df, db = (d if d is not None else np.zeros_like(v) for d, v in zip(g, (f, b)))
        elif g[0] is None:
            df, db = np.zeros_like(f), np.zeros_like(b)
        elif self.merge_mode == "concat":
            df, db = g[0][..., :f.shape[-1]], g[0][..., f.shape[-1]:]
        elif self.merge_mode == "sum":
            df = db = g[0]
        elif self.merge_mode == "mul":
            df, db = g[0] * b, g[0] * f
        else:
            df = db = g[0] * g[0].dtype.type(0.5)
        if self.forward_layer.return_sequences:
            db = db[:, ::-1]
        half = len(states) // 2
        dx_f = self.forward_layer.backward_call(ctx.recorded("forward"),
                                                [df, *states[:half]] if states else df)
        dx_b = self.backward_layer.backward_call(ctx.recorded("backward"),
                                                 [db, *states[half:]] if states else db)
        if dx_f is None or dx_b is None:
            return None
        if isinstance(dx_f, list):  # called with initial states: [dx, *forward states', *backward states']
            return [dx_f[0] + dx_b[0], *dx_f[1:], *dx_b[1:]]
        return dx_f + dx_b

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """Keras's ``Bidirectional.compute_mask``: the input's mask for each merged output with
        ``return_sequences`` (two with ``merge_mode=None``), else None; then None for each state.

        Keras lists the states' masks only for a stateful layer; otherwise it returns the merged outputs'
        masks alone, which its caller pairs with the first outputs, the states getting none: the same masks."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        out = mask if self.forward_layer.return_sequences else None
        merged = [out, out] if self.merge_mode is None else [out]
        if not self.forward_layer.return_state:
            return merged if self.merge_mode is None else out
        return [*merged, *[None] * len(self.state_widths())]

    def get_config(self) -> dict[str, Any]:
        return {"layer": to_config(self.forward_layer), "merge_mode": self.merge_mode,
                "backward_layer": to_config(self.backward_layer)}
