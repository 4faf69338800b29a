"""``Conv1DTranspose``: the transposed 1-D convolution of channels-last sequences (Keras's layer).

As ``Conv2DTranspose`` on the image of height 1 ``(N, 1, L, C)``: the forward pass is the input gradient of a
``Conv1D`` (patch products scatter-added by ``col2im``), the input gradient a ``Conv1D`` forward pass (``im2col``
and one product). The output length and cropping are worked out at each call from the input's length and kept on
the call's record, so a model built on ``Input(shape=(None, C))`` takes sequences of any length.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from ..core.regularizers import Penalized
from ..core.validation import positive_int
from .activated import Activated
from .checks import channels_last, sample_shape_error, single, valid_or_same
from .im2col import blocked_inner, blocked_matmul, columns, padded, scatter_products


class Conv1DTranspose(Penalized, Activated):
    """Transposed convolution ``(N, L, C) -> (N, OL, filters)``: each input step adds its patch ``x[n, i] @ W``
    at step ``i * strides`` of the uncropped output, ``(L-1)*strides + K'`` steps long (``K' = dilation_rate*(K-1)
    + 1``), which is then cropped (or extended with zeros) to Keras's length:

    - ``"valid"``: ``L*s + max(K' - s, 0)``, or ``(L-1)*s + K' + output_padding`` when that is given;
    - ``"same"``: ``L*s``, or ``(L-1)*s + K' % 2 + output_padding``; cropped as TensorFlow does (the
      ``"same"`` padding of a ``Conv1D`` of that output, the extra step at the end).

    ``weight`` (Keras's ``kernel``) is ``(K, filters, C)``, the kernel of the ``Conv1D`` it transposes, ``bias``
    ``(filters,)``. As in Keras, ``output_padding`` must be smaller than ``strides``, and ``strides > 1`` does not
    go with ``dilation_rate > 1``.
    """

    per_sample = True
    gains_from_threads = True

    def __init__(self, filters: int, kernel_size: int | tuple[int] | list[int],
                 strides: int | tuple[int] | list[int] = 1, padding: str = "valid",
                 output_padding: int | tuple[int] | list[int] | None = None, data_format: str | None = None,
                 dilation_rate: int | tuple[int] | list[int] = 1, activation: str | Layer | dict | None = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "Conv1DTranspose")
        self.set_regularizers(kernel_regularizer, bias_regularizer, activity_regularizer)
        self.filters = positive_int(filters, "Conv1DTranspose filters")
        self.kernel_size = single(kernel_size, "Conv1DTranspose kernel_size")
        self.strides = single(strides, "Conv1DTranspose strides")
        self.padding = valid_or_same(padding, "Conv1DTranspose")
        self.dilation_rate = single(dilation_rate, "Conv1DTranspose dilation_rate")
        if self.strides > 1 and self.dilation_rate > 1:
            raise InvalidValueError(f"Conv1DTranspose does not support strides > 1 together with dilation_rate > 1 "
                                    f"(as in Keras), got strides={strides!r}, dilation_rate={dilation_rate!r}")
        self.output_padding = (None if output_padding is None
                               else single(output_padding, "Conv1DTranspose output_padding", 0))
        if self.output_padding is not None and self.output_padding >= self.strides:
            raise InvalidValueError(f"Conv1DTranspose output_padding must be smaller than strides (as in Keras), got "
                                    f"output_padding={output_padding!r}, strides={strides!r}")
        self.set_linear(activation, use_bias, kernel_initializer, bias_initializer)

    def geometry(self, length: int) -> tuple[int, int, int]:
        """``(OL, steps cropped before, steps the patches cover)`` for inputs of ``length`` steps; ``ShapeError``
        when the output would be empty."""
        s, span, extra = self.strides, self.dilation_rate * (self.kernel_size - 1) + 1, self.output_padding
        full = (length - 1) * s + span
        if self.padding == "valid":
            out = length * s + max(span - s, 0) if extra is None else full + extra
        else:
            out = length * s if extra is None else full - 2 * (span // 2) + extra
        if out < 1:
            raise ShapeError(f"Conv1DTranspose with padding={self.padding!r}, kernel_size={self.kernel_size} and "
                             f"output_padding={extra} gives no output step for an input of {length} steps")
        return out, (max(full - out, 0) // 2 if self.padding == "same" else 0), full

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 2:
            raise sample_shape_error("Conv1DTranspose", "steps, channels", input_shape)
        length, c = input_shape
        if c is None:
            raise ShapeError("Conv1DTranspose needs a fixed number of channels (the last axis), got None")
        out = None if length is None else self.geometry(length)[0]
        super().build(input_shape)
        self.output_shape = (out, self.filters)
        self.draw_weights((c, self.filters, self.kernel_size), (2, 1, 0), self.filters)  # (K, filters, C)

    def _grid(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """Kernel, stride and dilation of the equivalent image convolution (height 1)."""
        return (1, self.kernel_size), (1, self.strides), (1, self.dilation_rate)

    def forward_linear(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """Patch products ``x @ W.T`` scatter-added into the uncropped output, cropped, plus the bias."""
        self._ensure_built(x)
        ws = ctx.ws
        ws.use(x)
        ctx.x = x
        assert self.weight is not None  # built
        length, c = x.shape[1:]
        out, before, full = self.geometry(length)  # (per call: the length may vary)
        size = ctx.size = max(full, before + out)  # the uncropped output, and any steps past it the output reaches
        ctx.crop = before, out
        full_y = scatter_products(ws, x.reshape(-1, c), self.weight.data.transpose(0, 2, 1), *self._grid(),
                                  (1, length), (1, size))
        y = full_y[:, 0, before:before + out]
        return y + self.bias.data if self.bias is not None else y.copy()

    def backward_linear(self, ctx: Call, grad: np.ndarray) -> np.ndarray | None:
        """dL/dx is the convolution of the output gradient (zero-padded back to the uncropped length) with the
        kernel: ``im2col`` and one product; dL/dW is the column matrix times the input."""
        ws, x = ctx.ws, ctx.x
        assert self.weight is not None  # built
        (n, length, c), (k, f, _) = x.shape, self.weight.shape
        (before, out), size = ctx.crop, ctx.size
        g = padded(ws, grad.reshape(n, 1, out, f), ((0, 0), (before, size - before - out)), "grad padded")
        cols = columns(ws, "cols", g, *self._grid(), (1, length))  # (N*L, K*filters)
        self.weight.grad += blocked_inner(cols, x.reshape(-1, c)).reshape(k, f, c)
        if self.bias is not None:
            self.bias.grad += grad.reshape(-1, f).sum(axis=0)
        if not ctx.input_grad:
            return None
        return blocked_matmul(cols, self.weight.data.reshape(-1, c)).reshape(n, length, c)

    def get_config(self) -> dict[str, Any]:
        return {"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "output_padding": self.output_padding, "dilation_rate": self.dilation_rate,
                **self.regularizer_config(), **self.linear_config()}
