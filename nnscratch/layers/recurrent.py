"""Recurrent layers over sequences ``(N, T, F)``: the shared machinery (``Recurrent``) and ``SimpleRNN``.

A recurrent layer multiplies the whole input sequence by its ``kernel`` in one matrix product (``(N*T, F) @
(F, G*units)``, ``G`` blocks of ``units`` columns: one per gate), then runs the steps in time order, each a
product of the previous state with the ``recurrent_kernel`` ``(units, G*units)`` and the element-wise gate
maths of the subclass (``run`` / ``run_back``), vectorized over the batch. Backward runs the steps in
reverse (backpropagation through time); the kernels' gradients are again one product each over all steps.

Keras's arguments and weight layout (``get_weights``: kernel, recurrent kernel, bias), its initializers
(``glorot_uniform`` kernel, ``orthogonal`` recurrent kernel), ``return_sequences``, ``return_state``
(outputs ``[output, *final states]``), ``go_backwards`` (the sequence read from its end; the returned
sequence is in that reading order, as in Keras), ``dropout`` on the inputs and ``recurrent_dropout`` on
the state, each one mask per sample that holds over all the steps. A sequence starts from zero states, or
from Keras's ``initial_state`` (``layer(x, initial_state=[h(, c)])`` or ``layer([x, h(, c)])``; see
``recurrent_states``), whose gradients backward returns beside dL/dx: ``[dx, dh0(, dc0)]``.

Masks (Keras's): ``ctx.mask`` ``(N, T)`` (True: a real step) makes every state keep its value over a padding
step, whose output is then the previous step's (zeros before the first real step); with ``go_backwards`` it
is read from its end too. Backward passes the gradient of a held state back to the step that made it. Without
a mask (or with one whose steps are all real) the loops run as they would without masking. With initial states
the output at the padding steps before a sample's first real step is zero, as Keras's (``recurrent_states``).

``stateful=True`` (Keras's): the final states of each call are kept on the layer (``layer.states``, layer state
and not weights: ``recurrent_states``, carried states) and start the next call; ``reset_states()`` zeroes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ..core import initializers, regularizers
from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.parameter import Parameter
from ..core.validation import positive_int, real_number
from .checks import sample_shape_error
from .recurrent_layer import RecurrentLayer
from .recurrent_states import (
    STATE_NAMES,
    call_inputs,
    checked_states,
    leading_padding,
    sequence_mask,
    sequence_shape,
    start_states,
)


def gate_sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))`` as ``0.5 tanh(z / 2) + 0.5``: six times faster than the exact form of
    ``core.functional.sigmoid`` and within one float epsilon of it in absolute terms, which is what matters
    for a gate that scales a state (the exact form keeps the relative precision of tiny probabilities,
    which the losses need). Its derivative is ``y (1 - y)`` exactly, so gradient checks hold."""
    y = np.multiply(z, z.dtype.type(0.5))
    np.tanh(y, out=y)
    y *= y.dtype.type(0.5)
    y += y.dtype.type(0.5)
    return y


# name -> (function, its derivative written from the function's output)
ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (np.tanh, lambda y: 1 - y * y),
    "sigmoid": (gate_sigmoid, lambda y: y * (1 - y)),
    "relu": (lambda z: np.maximum(z, 0), lambda y: (y > 0).astype(y.dtype)),
    "linear": (lambda z: z, np.ones_like),
}


def activation_name(value: Any, what: str) -> str:
    """One of ``ACTIVATIONS`` (``None`` is ``"linear"``), else a clear error."""
    name = "linear" if value is None else value
    if not isinstance(name, str) or name.lower() not in ACTIVATIONS:
        raise InvalidValueError(f"{what} must be one of {', '.join(map(repr, ACTIVATIONS))} (or None), got {value!r}")
    return name.lower()


def rate(value: Any, what: str) -> float:
    return real_number(value, what, "a number in [0, 1)", lambda v: 0.0 <= v < 1.0)


class Recurrent(RecurrentLayer):
    """Base of ``SimpleRNN``, ``LSTM`` and ``GRU``: subclasses set ``gates`` and define ``run`` and
    ``run_back``; ``(N, T, F) -> (N, units)`` (``(N, T, units)`` with ``return_sequences``)."""

    abstract = True
    per_sample = False  # may draw dropout masks; stateful ones carry each row's states to the next batch (a chunk
    # of it on a thread would read and write them apart); and a batch split across threads ran twice as slow (its
    # steps' Python serializes), so a model with a recurrent layer never takes the data-parallel path
    gates: ClassVar[int] = 1
    state_count: ClassVar[int] = 1  # the final states ``return_state`` adds (LSTM: h and c)
    supports_masking = True  # Keras's: a padding step keeps the states (``ctx.mask``); see ``compute_mask``

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, seed: Any = None, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        if activity_regularizer is not None or any(c is not None for c in (kernel_constraint, recurrent_constraint,
                                                                            bias_constraint)):
            raise InvalidValueError(f"{name}: activity_regularizer and weight constraints are not supported by "
                                    "nnscratch (weight penalties are: kernel_, recurrent_ and bias_regularizer)")
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.units = positive_int(units, f"{name} units")
        self.activation = activation_name(activation, f"{name} activation")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.dropout = rate(dropout, f"{name} dropout")
        self.recurrent_dropout = rate(recurrent_dropout, f"{name} recurrent_dropout")
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.unroll = bool(go_backwards), bool(unroll)  # unroll: the same numbers either way
        self.stateful = bool(stateful)
        # stateful=True: the final states of the last call, each (batch, units), where the next call starts;
        # None: zeros (before the first call, after reset_states). Layer state, never saved (recurrent_states).
        self.states: list[np.ndarray] | None = None
        self.use_seed(seed)
        self.kernel: Parameter | None = None
        self.recurrent_kernel: Parameter | None = None
        self.bias: Parameter | None = None

    # ------------------------------------------------------------------ weights
    def bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def initial_bias(self) -> np.ndarray:
        return self.bias_initializer(self.bias_shape(), self.rng, self.dtype)

    def state_widths(self) -> list[int]:
        """The ``units`` of each initial state a call may take (``[units]``, an LSTM's ``[units, units]``)."""
        return [self.units] * self.state_count

    def state_labels(self) -> list[str]:
        """The names of those states, for messages: ``["h"]``, an LSTM's ``["h", "c"]``."""
        return list(STATE_NAMES[:self.state_count])

    def build(self, input_shape: Any, initial_state_shape: Any = None) -> None:
        """For the sequence's ``(T, F)`` (a list of shapes: the sequence's, then the initial states' ``(units,)``)."""
        input_shape = sequence_shape(self, input_shape, initial_state_shape, self.state_widths())
        if len(input_shape) != 2:
            raise sample_shape_error(type(self).__name__, "steps, features", input_shape)
        super().build(input_shape)
        width, features = self.gates * self.units, input_shape[1]
        # drawn in the (out, in) layout whose fans the initializers expect, stored as Keras's (in, out)
        self.kernel = Parameter(self.kernel_initializer((width, features), self.rng, self.dtype).T)
        self.recurrent_kernel = Parameter(self.recurrent_initializer((width, self.units), self.rng, self.dtype).T)
        if self.use_bias:
            self.bias = Parameter(self.initial_bias())

    def regularized_weights(self) -> list[tuple[Parameter, Any]]:
        """``(parameter, regularizer)`` pairs the trainer adds to the loss (as ``Dense``'s)."""
        pairs = ((self.kernel, self.kernel_regularizer), (self.recurrent_kernel, self.recurrent_regularizer),
                 (self.bias, self.bias_regularizer))
        return [(p, r) for p, r in pairs if p is not None and r is not None]

    def input_bias(self) -> np.ndarray | None:
        """The bias added to the input products (all of ``bias`` but for GRU's second row)."""
        return None if self.bias is None else self.bias.data

    def add_input_bias_grad(self, total: np.ndarray) -> None:
        assert self.bias is not None
        self.bias.grad += total

    # ------------------------------------------------------------------ the steps (subclasses)
    def run(self, ctx: Call, xw: np.ndarray, hmask: np.ndarray | None, keep: np.ndarray | None,
            init: list[np.ndarray] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """From the input products ``xw`` ``(T, N, G*units)``: the states ``h`` of every step ``(T, N, units)``
        and the final states (``[h]``, or ``[h, c]``); what backward needs goes on ``ctx``. ``keep`` ``(T, N, 1)``
        (``steps_kept``): where False, every state keeps its previous value. ``init``: the states before the
        first step, each ``(N, units)`` (None: zeros; backward finds them on ``ctx.init``)."""
        raise NotImplementedError

    def run_back(self, ctx: Call, dhs: np.ndarray, dfinal: list[np.ndarray | None], hmask: np.ndarray | None,
                 keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """From dL/dh of every step ``(T, N, units)`` (outputs only) and of the final states: dL/d(input
        products) and dL/d(recurrent products), each ``(T, N, G*units)`` (zero at the steps ``keep`` skips), and
        dL/d(the states before the first step) (``[dh0]`` or ``[dh0, dc0]``, each ``(N, units)``)."""
        raise NotImplementedError

    def steps_kept(self, mask: Any, n: int, steps: int) -> np.ndarray | None:
        """The mask ``(N, T)`` as the loop reads it: ``(T, N, 1)`` booleans in reading order (reversed with
        ``go_backwards``); None without a mask or when every step is real (the same numbers, unmasked)."""
        if mask is None:
            return None
        keep = np.asarray(mask, dtype=bool)
        if keep.shape != (n, steps):
            raise ShapeError(f"{type(self).__name__}: the mask must have shape (batch, steps) = {(n, steps)}, "
                             f"got {keep.shape}")
        if keep.all():
            return None
        return np.ascontiguousarray((keep[:, ::-1] if self.go_backwards else keep).T)[:, :, None]

    @staticmethod
    def held(keep: np.ndarray | None, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray] | None:
        """For backward: ``keep`` as 1/0 ``(T, N, 1)``, and its complement (the steps whose states are held)."""
        if keep is None:
            return None
        kept = keep.astype(dtype)
        return kept, 1 - kept

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """Keras's ``RNN.compute_mask``: the input's mask with ``return_sequences`` (as is, even with
        ``go_backwards``), else None; with ``return_state`` a list, None for each state."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        out = mask if self.return_sequences else None
        return [out, *[None] * self.state_count] if self.return_state else out

    def add_recurrent_kernel_grad(self, ctx: Call, drec: np.ndarray) -> None:
        """Add dL/d(recurrent_kernel) from dL/d(recurrent products) ``drec`` ``(T, N, G*units)``: the kernel saw the
        state before each step (times the recurrent dropout mask): ``hs[t - 1]``, one product over steps 1..T-1,
        and before the first the initial state (zeros without one: nothing to add)."""
        assert self.recurrent_kernel is not None
        before = ctx.hs[:-1] if ctx.hmask is None else ctx.hs[:-1] * ctx.hmask
        self.recurrent_kernel.add_matmul(before.reshape(-1, self.units).T, drec[1:].reshape(-1, drec.shape[2]))
        if ctx.init is not None:
            self.recurrent_kernel.add_matmul(self.initial_h(ctx).T, drec[0])

    @staticmethod
    def initial_h(ctx: Call) -> np.ndarray:
        """The initial ``h`` ``(N, units)`` of the call in ``ctx`` as the recurrent kernel saw it (dropout-masked)."""
        return ctx.init[0] if ctx.hmask is None else ctx.init[0] * ctx.hmask

    def state_products(self, h: np.ndarray, hmask: np.ndarray | None) -> np.ndarray:
        """``h @ recurrent_kernel`` (``h`` masked by recurrent dropout first)."""
        assert self.recurrent_kernel is not None
        return (h if hmask is None else h * hmask) @ self.recurrent_kernel.data

    def state_grad(self, d: np.ndarray, hmask: np.ndarray | None) -> np.ndarray:
        """dL/dh from dL/d(recurrent products) ``d`` ``(N, G*units)``."""
        assert self.recurrent_kernel is not None
        dh = d @ self.recurrent_kernel.data.T
        return dh if hmask is None else dh * hmask

    def act(self, z: np.ndarray) -> np.ndarray:
        return ACTIVATIONS[self.activation][0](z)

    def act_grad(self, y: np.ndarray) -> np.ndarray:
        return ACTIVATIONS[self.activation][1](y)

    # ------------------------------------------------------------------ the call
    def _mask(self, training: bool, shape: tuple[int, ...], rate: float) -> np.ndarray | None:
        if not training or rate == 0.0:
            return None
        keep = 1.0 - rate
        mask = (self.rng.random(shape) < keep).astype(self.dtype)
        mask *= self.dtype.type(1.0 / keep)
        return mask

    def __call__(self, inputs: Any, initial_state: Any = None, mask: Any = None,  # type: ignore[override]
                 training: bool | None = None) -> Any:
        """Keras's call: ``layer(x)``, ``layer(x, initial_state=[h(, c)])`` or ``layer([x, h(, c)])``, each state
        ``(batch, units)``; on symbolic tensors one graph node, on arrays the outputs. ``mask=`` is refused: a
        sequence's mask comes through the graph."""
        return super().__call__(call_inputs(self, inputs, initial_state, mask, self.state_widths()), training)

    def forward_call(self, ctx: Call, x: Any) -> Any:
        """``x`` ``(N, T, F)``, or ``[x, *initial states]`` (each ``(N, units)``)."""
        x, init = (x[0], list(x[1:])) if isinstance(x, (list, tuple)) else (x, None)
        self._ensure_built(x)
        assert self.kernel is not None
        if init is not None:
            init = checked_states(self, x, init, self.state_widths())
        n, steps, features = x.shape
        if self.stateful:
            init = start_states(self, ctx, n, init)
        if self.go_backwards:
            x = x[:, ::-1]
        xmask = ctx.xmask = self._mask(ctx.training, (1, n, features), self.dropout)
        hmask = ctx.hmask = self._mask(ctx.training, (n, self.units), self.recurrent_dropout)
        keep = ctx.keep = self.steps_kept(sequence_mask(ctx.mask), n, steps)
        xt = np.ascontiguousarray(x.transpose(1, 0, 2))  # time-major (T, N, F): each step's rows together
        if xmask is not None:
            xt *= xmask
        xin = ctx.xin = xt.reshape(steps * n, features)
        xw = xin @ self.kernel.data
        bias = self.input_bias()
        if bias is not None:
            xw += bias
        ctx.init = init
        hs, finals = self.run(ctx, xw.reshape(steps, n, xw.shape[-1]), hmask, keep, init)
        if self.stateful and n:  # copies: the call's outputs (return_state) are the caller's
            self.states = [s.copy() for s in finals]
        ctx.hs, ctx.shape = hs, x.shape
        out = hs.transpose(1, 0, 2).copy() if self.return_sequences else hs[-1].copy()
        lead = ctx.lead = None if init is None or keep is None else leading_padding(keep)
        if lead is not None:  # Keras's output there: zeros (the held states are the initial ones)
            np.copyto(out, out.dtype.type(0), where=lead.transpose(1, 0, 2) if self.return_sequences else lead[-1])
        return [out, *finals] if self.return_state else out

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        """dL/dx ``(N, T, F)``; with initial states ``[dx, dh0(, dc0)]``."""
        assert self.kernel is not None and self.recurrent_kernel is not None
        grads = list(grad_out) if self.return_state else [grad_out]
        n, steps, features = ctx.shape
        hs = ctx.hs
        dhs = np.zeros_like(hs)
        if grads[0] is not None:
            if self.return_sequences:
                dhs += grads[0].transpose(1, 0, 2)
            else:
                dhs[-1] += grads[0]
            if ctx.lead is not None:  # the zeros emitted at leading padding steps depend on nothing
                np.copyto(dhs, dhs.dtype.type(0), where=ctx.lead)
        dxw, drec, dinit = self.run_back(ctx, dhs, grads[1:], ctx.hmask, ctx.keep)
        self.add_recurrent_kernel_grad(ctx, drec)
        flat = dxw.reshape(steps * n, drec.shape[2])  # time-major, as the input products were
        self.kernel.add_matmul(ctx.xin.T, flat)
        if self.bias is not None:
            self.add_input_bias_grad(flat.sum(axis=0))
        if not ctx.input_grad:
            return None
        dx = (flat @ self.kernel.data.T).reshape(steps, n, features)
        if ctx.xmask is not None:
            dx *= ctx.xmask
        dx = dx.transpose(1, 0, 2)
        dx = np.ascontiguousarray(dx[:, ::-1] if self.go_backwards else dx)
        return dx if ctx.init is None or (self.stateful and ctx.carried) else [dx, *dinit]


    def get_config(self) -> dict[str, Any]:
        return {"units": self.units, "activation": self.activation, "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                **self._regularizer_config()}

    def _regularizer_config(self) -> dict[str, Any]:
        named = (("kernel_regularizer", self.kernel_regularizer), ("recurrent_regularizer", self.recurrent_regularizer),
                 ("bias_regularizer", self.bias_regularizer))
        return {key: reg.get_config() for key, reg in named if reg is not None}


class SimpleRNN(Recurrent):
    """``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`` (Keras's ``SimpleRNN``)."""

    gates = 1

    def run(self, ctx: Call, xw: np.ndarray, hmask: np.ndarray | None, keep: np.ndarray | None,
            init: list[np.ndarray] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        hs = np.empty((len(xw), xw.shape[1], self.units), self.dtype)
        h = np.zeros((xw.shape[1], self.units), self.dtype) if init is None else init[0]
        for t in range(len(xw)):
            new = self.act(xw[t] + self.state_products(h, hmask))
            if keep is not None:
                new = np.where(keep[t], new, h)
            h = hs[t] = new
        return hs, [h]

    def run_back(self, ctx: Call, dhs: np.ndarray, dfinal: list[np.ndarray | None], hmask: np.ndarray | None,
                 keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        hs, held = ctx.hs, self.held(keep, ctx.hs.dtype)
        dz = np.empty_like(hs)
        dh_next = dfinal[0] if dfinal and dfinal[0] is not None else np.zeros_like(hs[0])
        for t in range(len(hs) - 1, -1, -1):
            dh = dhs[t] + dh_next
            if held is not None:  # a held step passes dh on as is; its own activation gets nothing
                dh, dh_held = dh * held[0][t], dh * held[1][t]
            dz[t] = dh * self.act_grad(hs[t])
            dh_next = self.state_grad(dz[t], hmask)
            if held is not None:
                dh_next += dh_held
        return dz, dz, [dh_next]
