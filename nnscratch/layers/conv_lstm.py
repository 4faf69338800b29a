"""``ConvLSTM2D``: an LSTM whose products are convolutions, over sequences of channels-last images.

Input ``(N, T, H, W, C)``; per step, with ``z = conv(x_t, kernel, strides, padding, dilation_rate) +
conv(h, recurrent_kernel, stride 1, "same") + bias`` split into four blocks of ``filters`` channels (Keras's
order i, f, c, o, as ``LSTM``)::

    i = rec(z_i)   f = rec(z_f)   g = act(z_c)   o = rec(z_o)       (rec: recurrent_activation, sigmoid)
    c_t = f * c_{t-1} + i * g      h_t = o * act(c_t)               (act: activation, tanh)

``h`` and ``c`` are images ``(N, OH, OW, filters)`` (``OH``, ``OW``: the input convolution's output size) that
start at zero. The input convolution of every step is one im2col and one product over the ``N*T`` images;
each step then convolves ``h`` (im2col of ``h``, one product) and does the gate maths, vectorized over the
batch and the pixels. Backward runs the steps in reverse (as ``LSTM``): from dL/dh and the dL/dc of the step
after, the gates' pre-activation gradients ``dz``; the recurrent kernel's gradient ``cols(h_{t-1}).T @ dz``
(the columns of ``h`` refilled, not kept); dL/dh_{t-1} the patch products ``dz @ recurrent_kernel.T``
scatter-added (``col2im``); ``dc_{t-1} = dc * f``. Then the input convolution's gradients for all steps at once.

Weights in Keras's layout: ``kernel`` ``(KH, KW, C, 4 filters)``, ``recurrent_kernel`` ``(KH, KW, filters,
4 filters)``, ``bias`` ``(4 filters,)``. Refused (one ``InvalidValueError`` each): ``stateful=True``, dropout,
strides > 1 together with dilation_rate > 1, ``data_format="channels_first"``, initial states, masks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import initializers, regularizers
from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.parameter import Parameter
from ..core.validation import positive_int, real_number
from ..core.workspace import Workspace
from .checks import channels_last, sample_shape_error, valid_or_same
from .im2col import Pair, blocked_inner, blocked_matmul, columns, conv_geometry, padded, pair, scatter_products
from .recurrent import ACTIVATIONS, activation_name
from .recurrent_layer import RecurrentLayer

Pads = tuple[Pair, Pair]


class ConvLSTM2D(RecurrentLayer):
    """``(N, T, H, W, C) -> (N, OH, OW, filters)`` (``(N, T, OH, OW, filters)`` with ``return_sequences``;
    ``return_state`` adds the final ``h`` and ``c``, each ``(N, OH, OW, filters)``). ``go_backwards`` reads the
    sequence from its end (the returned sequence in that reading order, as Keras's). ``T`` may vary from call to
    call (``Input((None, H, W, C))``); ``OH = floor((H + pads - dilation*(KH-1) - 1) / stride) + 1`` as
    ``Conv2D``'s ("same": ``ceil(H / stride)``).

    The states are images, so ``state_widths`` gives their channels (``[filters, filters]``), which is what
    ``Bidirectional`` reads (it wraps a ``ConvLSTM2D``, its halves' outputs joined on the channel axis); the call
    takes no initial states."""

    per_sample = False  # (as the other recurrent layers: a batch split across threads runs its steps' Python twice)

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = "ConvLSTM2D"
        channels_last(data_format, name)
        if activity_regularizer is not None or any(c is not None for c in (kernel_constraint, recurrent_constraint,
                                                                            bias_constraint)):
            raise InvalidValueError(f"{name}: activity_regularizer and weight constraints are not supported by "
                                    "nnscratch (weight penalties are: kernel_, recurrent_ and bias_regularizer)")
        self.filters = positive_int(filters, f"{name} filters")
        self.kernel_size = pair(kernel_size, f"{name} kernel_size")
        self.strides = pair(strides, f"{name} strides")
        self.padding = valid_or_same(padding, name)
        self.dilation_rate = pair(dilation_rate, f"{name} dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise InvalidValueError(f"{name}: strides > 1 together with dilation_rate > 1 is not supported (as in "
                                    f"Keras), got strides={self.strides}, dilation_rate={self.dilation_rate}")
        self.activation = activation_name(activation, f"{name} activation")
        self.recurrent_activation = activation_name(recurrent_activation, f"{name} recurrent_activation")
        self.use_bias, self.unit_forget_bias = bool(use_bias), bool(unit_forget_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful = bool(go_backwards), bool(stateful)
        if self.stateful:
            raise InvalidValueError(f"{name}: stateful=True is not supported by nnscratch (each call starts from "
                                    "zero states); pass whole sequences")
        self.dropout = real_number(dropout, f"{name} dropout", "a number in [0, 1)", lambda v: 0.0 <= v < 1.0)
        self.recurrent_dropout = real_number(recurrent_dropout, f"{name} recurrent_dropout", "a number in [0, 1)",
                                             lambda v: 0.0 <= v < 1.0)
        if self.dropout or self.recurrent_dropout:
            raise InvalidValueError(f"{name}: dropout and recurrent_dropout are not supported by nnscratch (got "
                                    f"{self.dropout}, {self.recurrent_dropout}); put a Dropout layer before it")
        self.states: list[np.ndarray] | None = None
        self.use_seed(seed)
        self.kernel: Parameter | None = None
        self.recurrent_kernel: Parameter | None = None
        self.bias: Parameter | None = None

    # ------------------------------------------------------------------ weights and states
    def state_widths(self) -> list[int]:
        """The channels of the two states ``h`` and ``c`` (each an image ``(N, OH, OW, filters)``)."""
        return [self.filters, self.filters]

    def state_labels(self) -> list[str]:
        return ["h", "c"]

    def build(self, input_shape: Any) -> None:
        """For per-sample ``(T, H, W, C)`` (``T``, ``H`` and ``W`` may be None)."""
        if isinstance(input_shape, list):
            raise self._no_initial_state()
        input_shape = tuple(input_shape)
        if len(input_shape) != 4:
            raise sample_shape_error("ConvLSTM2D", "steps, height, width, channels", input_shape)
        _, h, w, c = input_shape
        if c is None:
            raise ShapeError(f"ConvLSTM2D needs a fixed number of channels (the last axis), got (batch, "
                             f"{', '.join(map(str, input_shape))})")
        if h is not None and w is not None:  # the window fits
            conv_geometry("ConvLSTM2D", (h, w, c), self.kernel_size, self.strides, self.dilation_rate, self.padding)
        super().build(input_shape)
        f4, (kh, kw) = 4 * self.filters, self.kernel_size
        # drawn (out, in, KH, KW), whose fans the initializers expect (orthogonal: columns of the flat
        # (KH*KW*in, out) matrix), stored as Keras's (KH, KW, in, out)
        self.kernel = Parameter(self.kernel_initializer((f4, c, kh, kw), self.rng, self.dtype).transpose(2, 3, 1, 0))
        self.recurrent_kernel = Parameter(
            self.recurrent_initializer((f4, self.filters, kh, kw), self.rng, self.dtype).transpose(2, 3, 1, 0))
        if self.use_bias:
            bias = self.bias_initializer((f4,), self.rng, self.dtype)
            if self.unit_forget_bias:
                bias[self.filters:2 * self.filters] = 1.0
            self.bias = Parameter(bias)

    def regularized_weights(self) -> list[tuple[Parameter, Any]]:
        """``(parameter, regularizer)`` pairs the trainer adds to the loss."""
        pairs = ((self.kernel, self.kernel_regularizer), (self.recurrent_kernel, self.recurrent_regularizer),
                 (self.bias, self.bias_regularizer))
        return [(p, r) for p, r in pairs if p is not None and r is not None]

    def _geometry(self, hw: Pair) -> tuple[Pads, Pair, Pads]:
        """The input convolution's pads and output ``(OH, OW)`` for images ``hw``, and the recurrent one's pads."""
        pads, out = conv_geometry("ConvLSTM2D", (*hw, 1), self.kernel_size, self.strides, self.dilation_rate,
                                  self.padding)
        state_pads, _ = conv_geometry("ConvLSTM2D", (*out, 1), self.kernel_size, (1, 1), (1, 1), "same")
        return pads, out, state_pads

    @staticmethod
    def _no_initial_state() -> InvalidValueError:
        return InvalidValueError("ConvLSTM2D takes no initial states in nnscratch (initial_state=, or [x, h, c]): "
                                 "each sequence starts from zero states")

    # ------------------------------------------------------------------ the call
    def __call__(self, inputs: Any, initial_state: Any = None, mask: Any = None,  # type: ignore[override]
                 training: bool | None = None) -> Any:
        """Keras's call ``layer(x)``; ``initial_state=`` and ``mask=`` are refused."""
        if initial_state is not None or isinstance(inputs, (list, tuple)):
            raise self._no_initial_state()
        if mask is not None:
            raise InvalidValueError("ConvLSTM2D does not support masks in nnscratch (mask=)")
        return super().__call__(inputs, training)

    def act(self, z: np.ndarray) -> np.ndarray:
        return ACTIVATIONS[self.activation][0](z)

    def act_grad(self, y: np.ndarray) -> np.ndarray:
        return ACTIVATIONS[self.activation][1](y)

    def forward_call(self, ctx: Call, x: Any) -> Any:
        """``x`` ``(N, T, H, W, C)``; keeps the gates, cells and states of every step on ``ctx``."""
        if isinstance(x, (list, tuple)):
            raise self._no_initial_state()
        self._ensure_built(x)
        assert self.kernel is not None and self.recurrent_kernel is not None  # built
        n, steps, height, width, c = x.shape
        if steps == 0:
            raise ShapeError(f"ConvLSTM2D needs sequences of at least one step, got input shape {x.shape}")
        pads, (oh, ow), state_pads = ctx.geometry = self._geometry((height, width))
        ws_in, ws_h = ctx.sub("input").ws, ctx.sub("state").ws
        ws_in.use(x)
        ws_h.use(x)
        ctx.shape = x.shape
        # time-major (T*N, H, W, C) images, in reading order: one im2col and one product for every step
        xt = (x[:, ::-1] if self.go_backwards else x).transpose(1, 0, 2, 3, 4).reshape(steps * n, height, width, c)
        xp = padded(ws_in, xt, pads, "padded")
        cols = ctx.cols = columns(ws_in, "cols", xp, self.kernel_size, self.strides, self.dilation_rate, (oh, ow))
        f, rows = self.filters, n * oh * ow
        xw = blocked_matmul(cols, self.kernel.data.reshape(-1, 4 * f))
        if self.bias is not None:
            xw += self.bias.data
        xw = xw.reshape(steps, rows, 4 * f)
        rec = ACTIVATIONS[self.recurrent_activation][0]
        wr = self.recurrent_kernel.data.reshape(-1, 4 * f)
        gates = ctx.gates = np.empty((steps, rows, 4 * f), self.dtype)  # i, f, g, o after their activations
        cells = ctx.cells = np.empty((steps, rows, f), self.dtype)
        act_cells = ctx.act_cells = np.empty((steps, rows, f), self.dtype)  # act(c), for backward too
        hs = ctx.hs = np.empty((steps, rows, f), self.dtype)
        for t in range(steps):
            z = xw[t]
            if t > 0:  # (h starts at zero: no recurrent product at the first step)
                z += blocked_matmul(self._state_columns(ws_h, hs[t - 1], (n, oh, ow), state_pads), wr,
                                    out=ws_h.get("recurrent products", (rows, 4 * f)))
            g = gates[t]
            g[:, :2 * f] = rec(z[:, :2 * f])
            g[:, 2 * f:3 * f] = self.act(z[:, 2 * f:3 * f])
            g[:, 3 * f:] = rec(z[:, 3 * f:])
            cell = cells[t]
            np.multiply(g[:, :f], g[:, 2 * f:3 * f], out=cell)
            if t > 0:
                cell += g[:, f:2 * f] * cells[t - 1]
            act_cells[t] = self.act(cell)
            np.multiply(g[:, 3 * f:], act_cells[t], out=hs[t])
        image = (n, oh, ow, f)
        if self.return_sequences:
            out = np.ascontiguousarray(hs.reshape(steps, *image).transpose(1, 0, 2, 3, 4))
        else:
            out = hs[-1].reshape(image).copy()
        return [out, hs[-1].reshape(image).copy(), cells[-1].reshape(image).copy()] if self.return_state else out

    def _state_columns(self, ws: Workspace, h: np.ndarray, image: tuple[int, int, int], pads: Pads) -> np.ndarray:
        """The column matrix ``(N*OH*OW, KH*KW*filters)`` of the state ``h`` ``(N*OH*OW, filters)`` for the
        recurrent "same" convolution, in reused buffers of ``ws``."""
        hp = padded(ws, h.reshape(*image, self.filters), pads, "state padded")
        return columns(ws, "state cols", hp, self.kernel_size, (1, 1), (1, 1), image[1:])

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        """dL/dx ``(N, T, H, W, C)`` (None when not ``ctx.input_grad``); adds the weights' gradients."""
        assert self.kernel is not None and self.recurrent_kernel is not None  # built
        n, steps, height, width, c = ctx.shape
        pads, (oh, ow), state_pads = ctx.geometry
        f, rows = self.filters, n * oh * ow
        grads = list(grad_out) if self.return_state else [grad_out]
        dseq = None
        dh_next = np.zeros((rows, f), self.dtype)
        dc_next = np.zeros((rows, f), self.dtype)
        if grads[0] is not None:
            if self.return_sequences:
                dseq = np.ascontiguousarray(np.transpose(grads[0], (1, 0, 2, 3, 4))).reshape(steps, rows, f)
            else:
                dh_next += grads[0].reshape(rows, f)
        if len(grads) > 1 and grads[1] is not None:
            dh_next += grads[1].reshape(rows, f)
        if len(grads) > 2 and grads[2] is not None:
            dc_next += grads[2].reshape(rows, f)
        dz = self._steps_back(ctx, dseq, dh_next, dc_next)
        flat = dz.reshape(steps * rows, 4 * f)  # time-major, as the input products were
        self.kernel.grad += blocked_inner(ctx.cols, flat).reshape(self.kernel.shape)
        if self.bias is not None:
            self.bias.grad += flat.sum(axis=0)
        if not ctx.input_grad:
            return None
        (top, bottom), (left, right) = pads
        kk = self.kernel_size[0] * self.kernel_size[1]
        kernels = self.kernel.data.reshape(kk, c, 4 * f).transpose(0, 2, 1)  # (KH*KW, 4F, C)
        dxp = scatter_products(ctx.recorded("input").ws, flat, kernels, self.kernel_size, self.strides,
                               self.dilation_rate, (oh, ow), (height + top + bottom, width + left + right))
        dx = dxp[:, top:top + height, left:left + width].reshape(steps, n, height, width, c).transpose(1, 0, 2, 3, 4)
        return np.ascontiguousarray(dx[:, ::-1] if self.go_backwards else dx)

    def _steps_back(self, ctx: Call, dseq: np.ndarray | None, dh_next: np.ndarray,
                    dc_next: np.ndarray) -> np.ndarray:
        """Backpropagation through time: dL/dz ``(T, N*OH*OW, 4 filters)`` of every step, from dL/dh of every step
        ``dseq`` (None: only the final states get gradients) and of the final ``h`` and ``c``; adds the recurrent
        kernel's gradient."""
        assert self.recurrent_kernel is not None  # built
        n, _, _, _, _ = ctx.shape
        _, (oh, ow), state_pads = ctx.geometry
        f, kh, kw = self.filters, *self.kernel_size
        rec_grad = ACTIVATIONS[self.recurrent_activation][1]
        gates, cells, act_cells, hs = ctx.gates, ctx.cells, ctx.act_cells, ctx.hs
        ws = ctx.recorded("state").ws
        kernels = self.recurrent_kernel.data.reshape(kh * kw, f, 4 * f).transpose(0, 2, 1)  # (KH*KW, 4F, F)
        (top, bottom), (left, right) = state_pads
        dwr = np.zeros((kh * kw * f, 4 * f), self.dtype)
        dz = np.empty_like(gates)
        for t in range(len(gates) - 1, -1, -1):
            g = gates[t]
            i, fg, gg, o = g[:, :f], g[:, f:2 * f], g[:, 2 * f:3 * f], g[:, 3 * f:]
            dh = dh_next if dseq is None else dh_next + dseq[t]
            ac = act_cells[t]
            dc = dc_next + dh * o * self.act_grad(ac)
            d = dz[t]
            d[:, :f] = dc * gg * rec_grad(i)
            if t > 0:
                d[:, f:2 * f] = dc * cells[t - 1] * rec_grad(fg)
            else:
                d[:, f:2 * f] = 0.0
            d[:, 2 * f:3 * f] = dc * i * self.act_grad(gg)
            d[:, 3 * f:] = dh * ac * rec_grad(o)
            if t == 0:  # (the zero start states: nothing further back)
                break
            dc_next = dc * fg
            dwr += blocked_inner(self._state_columns(ws, hs[t - 1], (n, oh, ow), state_pads), d)
            dhp = scatter_products(ws, d, kernels, self.kernel_size, (1, 1), (1, 1), (oh, ow),
                                   (oh + top + bottom, ow + left + right))
            dh_next = dhp[:, top:top + oh, left:left + ow].reshape(-1, f)
        self.recurrent_kernel.grad += dwr.reshape(self.recurrent_kernel.shape)
        return dz

    def get_config(self) -> dict[str, Any]:
        named = (("kernel_regularizer", self.kernel_regularizer), ("recurrent_regularizer", self.recurrent_regularizer),
                 ("bias_regularizer", self.bias_regularizer))
        return {"filters": self.filters, "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": "channels_last", "dilation_rate": list(self.dilation_rate),
                "activation": self.activation, "recurrent_activation": self.recurrent_activation,
                "use_bias": self.use_bias, "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "unit_forget_bias": self.unit_forget_bias, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards, "stateful": self.stateful,
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                **{key: reg.get_config() for key, reg in named if reg is not None}}
