"""``Conv1D``: 1-D convolution of channels-last sequences, as one matrix product (im2col on a 1 x K window)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from ..core.validation import positive_int
from .activated import Activated
from .checks import channels_last, sample_shape_error, single
from .im2col import axis_pads, blocked_inner, blocked_matmul, columns, output_size, padded, scatter_products

PADDINGS = ("valid", "same", "causal")


class Conv1D(Activated):
    """1-D convolution (cross-correlation): ``(N, L, C) -> (N, OL, filters)``, channels last.

    ``padding``: ``"valid"`` (none), ``"same"`` (TensorFlow's rule: ``OL = ceil(L / strides)``, the extra pad
    step at the end) or ``"causal"`` (``dilation_rate * (kernel_size - 1)`` zeros at the start, so output ``t``
    sees inputs ``<= t``). ``OL = floor((L + pads - dilation_rate*(K-1) - 1) / strides) + 1``.

    ``weight`` is ``(K, C, filters)`` (Keras's kernel layout), ``bias`` ``(filters,)``. The sequence is viewed as
    an image of height 1: the column matrix ``(N*OL, K*C)`` (``im2col``) times ``weight.reshape(K*C, filters)``
    is the output; backward is the transposed products and ``col2im``.
    """

    per_sample = True
    gains_from_threads = True

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int] | list[int],
        strides: int | tuple[int] | list[int] = 1,
        padding: str = "valid",
        dilation_rate: int | tuple[int] | list[int] = 1,
        activation: str | Layer | dict | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "Conv1D")
        self.filters = positive_int(filters, "Conv1D filters")
        self.kernel_size = single(kernel_size, "Conv1D kernel_size")
        self.strides = single(strides, "Conv1D strides")
        self.dilation_rate = single(dilation_rate, "Conv1D dilation_rate")
        if not isinstance(padding, str) or padding.lower() not in PADDINGS:
            raise InvalidValueError(f"Conv1D padding must be one of {', '.join(map(repr, PADDINGS))}, got {padding!r}")
        self.padding = padding.lower()
        self.set_linear(activation, use_bias, kernel_initializer, bias_initializer)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 2:
            raise sample_shape_error("Conv1D", "steps, channels", input_shape)
        length, c = input_shape
        if c is None:
            raise ShapeError("Conv1D needs a fixed number of channels (the last axis), got None")
        # (for a fixed length: checks that the window fits; ONNX export reads the pads)
        self.pads: tuple[int, int] | None = None
        out: int | None = None
        if length is not None:
            self.pads, out = self._layout(length, input_shape)
        super().build(input_shape)
        self.output_shape = (out, self.filters)
        self.draw_weights((self.filters, c, self.kernel_size), (2, 1, 0), self.filters)  # (K, C, filters)

    def _layout(self, length: int, input_shape: tuple[int | None, ...]) -> tuple[tuple[int, int], int]:
        """``((before, after), OL)``: the zero steps padded on each side of ``length`` steps and the output length;
        ``ShapeError`` if the window does not fit."""
        span = self.dilation_rate * (self.kernel_size - 1) + 1
        pads = ((span - 1, 0) if self.padding == "causal"
                else axis_pads(self.padding, length, self.kernel_size, self.strides, self.dilation_rate))
        out = output_size(length, self.kernel_size, self.strides, self.dilation_rate, pads)
        if out < 1:
            raise ShapeError(f"Conv1D window of {span} steps is longer than its (padded) input of "
                             f"{length + sum(pads)} steps (input shape (batch, {', '.join(map(str, input_shape))}))")
        return pads, out

    def _geometry(self, out: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
        """Kernel, stride, dilation and output size of the equivalent image convolution (height 1)."""
        return (1, self.kernel_size), (1, self.strides), (1, self.dilation_rate), (1, out)

    def forward_linear(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """The output before the activation ``(N, OL, filters)``; keeps the column matrix on ``ctx``."""
        self._ensure_built(x)
        ws = ctx.ws
        ws.use(x)
        n, length, c = x.shape
        ctx.length = length
        pads, out = ctx.layout = self._layout(length, x.shape[1:])  # (per call: the length may vary)
        xp = padded(ws, x.reshape(n, 1, length, c), ((0, 0), pads), "padded")
        cols = ctx.cols = columns(ws, "cols", xp, *self._geometry(out))
        assert self.weight is not None  # built
        y = blocked_matmul(cols, self.weight.data.reshape(-1, self.filters))
        if self.bias is not None:
            y += self.bias.data
        return y.reshape(n, out, self.filters)

    def backward_linear(self, ctx: Call, grad: np.ndarray) -> np.ndarray | None:
        """From dL/d(pre-activation): the weight gradients (added), and dL/dx when ``ctx.input_grad``."""
        assert self.weight is not None  # built
        k, c, f = self.weight.shape
        g = grad.reshape(-1, f)  # (N*OL, filters)
        self.weight.grad += blocked_inner(ctx.cols, g).reshape(k, c, f)
        if self.bias is not None:
            self.bias.grad += g.sum(axis=0)
        if not ctx.input_grad:
            return None
        # patch gradients g @ W.T, scatter-added back by col2im
        length, ((before, after), out) = ctx.length, ctx.layout
        dxp = scatter_products(ctx.ws, g, self.weight.data.transpose(0, 2, 1), *self._geometry(out),
                               (1, length + before + after))
        return dxp[:, 0, before:before + length]

    def get_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            **self.linear_config(),
        }
