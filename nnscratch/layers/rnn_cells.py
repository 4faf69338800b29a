"""Keras's built-in cells ``SimpleRNNCell``, ``LSTMCell`` and ``GRUCell``: the weights of one recurrent step.

A cell owns ``kernel`` ``(F, G*units)``, ``recurrent_kernel`` ``(units, G*units)`` and ``bias`` (Keras's
layout and initializers: exactly those of ``SimpleRNN``, ``LSTM``, ``GRU``), and runs through the layer of
the same name: ``recurrent_layer(**flags)`` gives (and keeps, one per set of flags) a ``SimpleRNN``/``LSTM``/
``GRU`` configured like the cell that *shares* the cell's ``Parameter`` objects and draws its dropout masks
from the cell's generator. ``RNN(LSTMCell(n))`` is therefore ``LSTM(n)``'s vectorized loop, bit for bit; those
layers are hidden (not children): the weights are the cell's, found once, under ``cell.kernel`` etc.

Called directly, Keras's ``cell(x_t, states)`` (``x_t`` ``(N, F)``, ``states`` ``[h]`` or ``[h, c]``) is one
step: the layer on a sequence of one step, from those states; it returns ``(output, new_states)``, works on
arrays, on symbolic tensors and inside another layer's ``call`` (differentiable). Dropout masks are then drawn
at each call (Keras keeps a cell's masks across the steps of one sequence).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, NotBuiltError
from ..core.parameter import Parameter
from ..core.regularizers import get as get_regularizer
from ..core.shapes import SampleShape
from .cell_protocol import BuiltInCell
from .checks import sample_shape_error
from .gru import GRU
from .lstm import LSTM
from .recurrent import Recurrent, SimpleRNN

# The arguments of the recurrent layers that belong to RNN (the loop), not to the cell (the step).
LOOP_ARGUMENTS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")


class RecurrentCell(BuiltInCell):
    """Base of the built-in cells: Keras's cell arguments, validated by (and passed to) ``layer_class``."""

    abstract = True
    per_sample = False  # dropout draws random masks
    layer_class: ClassVar[type[Recurrent]] = SimpleRNN

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: Any = None,
                 name: str | None = None, trainable: bool = True, implementation: int = 2, **gate_options: Any) -> None:
        super().__init__(name=name, trainable=trainable)
        cls = type(self).__name__
        loop = sorted(set(gate_options) & set(LOOP_ARGUMENTS))
        if loop:
            raise InvalidValueError(f"{cls}: {', '.join(loop)} belong to the RNN layer that runs the cell "
                                    f"(RNN({cls}(...), {loop[0]}=...)), not to the cell")
        template = self.layer_class(
            units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, name=f"{self.name}_options", **gate_options)
        # the layer's arguments, checked and serialized by the layer itself (the loop's own left out)
        self.options: dict[str, Any] = {k: v for k, v in template.get_config().items() if k not in LOOP_ARGUMENTS}
        self.units = template.units
        self.activation, self.use_bias = template.activation, template.use_bias
        self.dropout, self.recurrent_dropout = template.dropout, template.recurrent_dropout
        widths = template.state_widths()
        self.state_size: int | list[int] = widths[0] if len(widths) == 1 else widths  # Keras's
        self.output_size = self.units
        self.use_seed(seed)
        self.kernel: Parameter | None = None
        self.recurrent_kernel: Parameter | None = None
        self.bias: Parameter | None = None
        self._layers: dict[tuple[bool, bool, bool], Recurrent] = {}  # by flags; a dict: not children

    # ------------------------------------------------------------------ weights
    def build(self, input_shape: Any) -> None:
        """For steps of per-sample shape ``(F,)`` (Keras's ``(batch, F)``; a list: the step's shape first)."""
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list)):
            input_shape = input_shape[0]  # cell([x, *states]) on symbolic tensors
        shape = tuple(input_shape)
        if len(shape) != 1 or shape[0] is None:
            raise sample_shape_error(type(self).__name__, "features", shape)
        maker = self._new_layer()
        maker.build(SampleShape((None, shape[0])))  # the layer's own initial weights (unit_forget_bias, GRU's bias)
        self.kernel, self.recurrent_kernel, self.bias = maker.kernel, maker.recurrent_kernel, maker.bias
        super().build(shape)

    def regularized_weights(self) -> list[tuple[Parameter, Any]]:
        """``(parameter, regularizer)`` pairs the trainer adds to the loss (the layer's)."""
        named = (("kernel", self.kernel), ("recurrent_kernel", self.recurrent_kernel), ("bias", self.bias))
        pairs = [(p, get_regularizer(self.options.get(f"{key}_regularizer"))) for key, p in named]
        return [(p, r) for p, r in pairs if p is not None and r is not None]

    def get_initial_state(self, batch_size: int | None = None) -> list[np.ndarray]:
        """Keras's: zeros ``(batch_size, units)``, one per state."""
        widths = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [np.zeros((int(batch_size or 0), w), self.dtype) for w in widths]

    # ------------------------------------------------------------------ the layer that runs the cell
    def _new_layer(self, **flags: bool) -> Recurrent:
        layer = self.layer_class(**self.options, **flags, name=f"{self.name}_loop")
        layer.dtype, layer.rng = self.dtype, self.rng
        return layer

    def recurrent_layer(self, return_sequences: bool = False, return_state: bool = False,
                        go_backwards: bool = False) -> Recurrent:
        """The ``SimpleRNN``/``LSTM``/``GRU`` with these flags that runs this cell over a sequence ``(N, T, F)``,
        on the cell's own weights (kept, one per set of flags; its generator is the cell's at each call)."""
        if self.kernel is None or self.input_shape is None:
            raise NotBuiltError(f"{type(self).__name__} '{self.name}' has no weights yet: build it (or the RNN) first")
        key = (bool(return_sequences), bool(return_state), bool(go_backwards))
        layer = self._layers.get(key)
        if layer is None or layer.dtype != self.dtype:
            layer = self._new_layer(return_sequences=key[0], return_state=key[1], go_backwards=key[2])
            layer.kernel, layer.recurrent_kernel, layer.bias = self.kernel, self.recurrent_kernel, self.bias
            layer.input_shape = (None, self.input_shape[0])  # built: any number of steps
            self._layers[key] = layer
        layer.rng = self.rng  # (set_rng and use_seed reach the cell; its layers follow)
        return layer

    # ------------------------------------------------------------------ one step, called directly
    def __call__(self, inputs: Any, states: Any = None, training: bool | None = None) -> Any:  # type: ignore[override]
        """Keras's ``cell(x_t, states, training=None)``: ``(output, new_states)``; ``new_states`` is a list when
        ``states`` was one (a single tensor for a single one)."""
        if states is None:
            raise InvalidValueError(f"{type(self).__name__} '{self.name}' computes one step from the states before "
                                    f"it: call it as cell(x_t, states) (states: {self.state_size!r} wide, e.g. "
                                    "cell.get_initial_state(batch_size)), or run it over a sequence with RNN(cell)")
        several = isinstance(states, (list, tuple))
        out = super().__call__([inputs, *(states if several else [states])], training)
        return out[0], (list(out[1:]) if several else out[1])

    def forward_call(self, ctx: Call, x: Any) -> Any:
        """``[x_t (N, F), *states (N, units)]`` -> ``[output, *new states]``."""
        if not isinstance(x, (list, tuple)) or len(x) < 2:
            raise InvalidValueError(f"{type(self).__name__} '{self.name}' takes [x_t, *states] (one step and the "
                                    "states before it)")
        inputs, *states = x
        self._ensure_built(inputs)
        step = ctx.sub("step")
        step.mask = None
        return self.recurrent_layer(return_state=True).forward_call(step, [inputs[:, None, :], *states])

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        grads = self.recurrent_layer(return_state=True).backward_call(ctx.recorded("step"), grad_out)
        if grads is None:
            return None
        dx, *dstates = grads
        return [dx[:, 0], *dstates]

    def get_config(self) -> dict[str, Any]:
        return dict(self.options)


class SimpleRNNCell(RecurrentCell):
    """``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``; one state ``h`` ``(N, units)``."""

    layer_class = SimpleRNN


class LSTMCell(RecurrentCell):
    """One ``LSTM`` step (gates i, f, c, o); two states ``[h, c]``, each ``(N, units)``; ``state_size``
    ``[units, units]``."""

    layer_class = LSTM

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, recurrent_activation=recurrent_activation,
                         unit_forget_bias=unit_forget_bias, **kwargs)
        self.recurrent_activation = self.options["recurrent_activation"]
        self.unit_forget_bias = self.options["unit_forget_bias"]


class GRUCell(RecurrentCell):
    """One ``GRU`` step (gates z, r, h; ``reset_after`` Keras's two forms); one state ``h`` ``(N, units)``."""

    layer_class = GRU

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, recurrent_activation=recurrent_activation,
                         reset_after=reset_after, **kwargs)
        self.recurrent_activation = self.options["recurrent_activation"]
        self.reset_after = self.options["reset_after"]
