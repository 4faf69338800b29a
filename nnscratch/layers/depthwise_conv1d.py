"""``DepthwiseConv1D``: each channel of a sequence convolved with its own ``depth_multiplier`` kernels (Keras's layer).

``(N, L, C) -> (N, OL, C * depth_multiplier)``, output channel ``c * depth_multiplier + k`` being input channel
``c`` through kernel ``k``. It is ``DepthwiseConv2D``'s computation on the image of height 1 ``(N, 1, L, C)``: a
loop over the ``K`` kernel offsets (never over samples or steps), each one broadcast multiply-add of a strided
view of the padded input (``im2col.windows``, no copy). The padding and the output length are worked out at each
call from the input's length and kept on the call's record, so a model built on ``Input(shape=(None, C))`` takes
sequences of any length.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import ShapeError
from ..core.layer import Layer
from ..core.regularizers import Penalized
from ..core.validation import positive_int
from .activated import Activated
from .checks import channels_last, sample_shape_error, single, valid_or_same
from .im2col import axis_pads, output_size, padded, windows

CAUSAL_HINT = ("for a causal layer put ZeroPadding1D((dilation_rate * (kernel_size - 1), 0)) before it and keep "
               "padding='valid'")


def sequence_layout(layer: str, padding: str, length: int, kernel: int, stride: int,
                    dilation: int) -> tuple[tuple[int, int], int]:
    """``((before, after), OL)`` of a ``"valid"``/``"same"`` convolution of ``length`` steps (TensorFlow's "same":
    ``OL = ceil(length / stride)``, the extra pad step after); ``ShapeError`` naming ``layer`` if it does not fit."""
    pads = axis_pads(padding, length, kernel, stride, dilation)
    out = output_size(length, kernel, stride, dilation, pads)
    if out < 1:
        raise ShapeError(f"{layer} window of {dilation * (kernel - 1) + 1} steps is longer than its input of {length} "
                         f"steps{f' (padded to {length + sum(pads)})' if sum(pads) else ''}")
    return pads, out


class DepthwiseConv1D(Penalized, Activated):
    """Depthwise 1-D convolution. ``weight`` (Keras's ``kernel``) is ``(K, C, depth_multiplier)``, ``bias``
    ``(C * depth_multiplier,)``; initialized with Keras's fans (``K*C`` in, ``K*depth_multiplier`` out).
    ``OL = floor((L + pads - dilation_rate*(K-1) - 1) / strides) + 1``; ``padding="same"`` gives ``ceil(L / strides)``.
    Strides and dilation may both exceed 1 (as in Keras 3)."""

    per_sample = True
    gains_from_threads = True

    def __init__(self, kernel_size: int | tuple[int] | list[int], strides: int | tuple[int] | list[int] = 1,
                 padding: str = "valid", depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: int | tuple[int] | list[int] = 1, activation: str | Layer | dict | None = None,
                 use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.label = "DepthwiseConv1D"  # the name its errors give (SeparableConv1D's for its depthwise step)
        channels_last(data_format, self.label)
        self.set_regularizers(depthwise_regularizer, bias_regularizer, activity_regularizer)
        self.kernel_size = single(kernel_size, "DepthwiseConv1D kernel_size")
        self.strides = single(strides, "DepthwiseConv1D strides")
        self.padding = valid_or_same(padding, "DepthwiseConv1D", CAUSAL_HINT)
        self.dilation_rate = single(dilation_rate, "DepthwiseConv1D dilation_rate")
        self.depth_multiplier = positive_int(depth_multiplier, "DepthwiseConv1D depth_multiplier")
        self.set_linear(activation, use_bias, depthwise_initializer, bias_initializer)

    @property
    def depthwise_kernel(self) -> Any:
        """``weight`` under Keras 2's name (Keras 3 calls it ``kernel``)."""
        return self.weight

    def layout(self, length: int) -> tuple[tuple[int, int], int]:
        """``((before, after), OL)`` for inputs of ``length`` steps (``ShapeError`` if the window does not fit)."""
        return sequence_layout(self.label, self.padding, length, self.kernel_size, self.strides, self.dilation_rate)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 2:
            raise sample_shape_error(self.label, "steps, channels", input_shape)
        length, c = input_shape
        if c is None:
            raise ShapeError(f"{self.label} needs a fixed number of channels (the last axis), got None")
        out = None if length is None else self.layout(length)[1]
        super().build(input_shape)
        m = self.depth_multiplier
        self.output_shape = (out, c * m)
        self.draw_weights((m, c, self.kernel_size), (2, 1, 0), c * m)  # (K, C, M)

    def _windows(self, xp: np.ndarray, out: int, writeable: bool = False) -> np.ndarray:
        """The padded batch ``xp`` ``(N, 1, Lp, C)`` as windows ``(N, OL, K, C)`` (a strided view, no copy)."""
        view = windows(xp, (1, self.kernel_size), (1, self.strides), (1, self.dilation_rate), (1, out), writeable)
        return view[:, 0, :, 0]

    def forward_linear(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """``(N, L, C) -> (N, OL, C*M)`` before the activation; keeps the windows and the layout on ``ctx``."""
        self._ensure_built(x)
        ws = ctx.ws
        ws.use(x)
        n, length, c = x.shape
        ctx.length = length
        pads, out = ctx.layout = self.layout(length)  # (per call: the length may vary)
        xp = padded(ws, x.reshape(n, 1, length, c), ((0, 0), pads), "xp")
        patches = ctx.windows = self._windows(xp, out)
        assert self.weight is not None  # built
        kernel, m = self.weight.data, self.depth_multiplier
        # training reuses the output buffer (overwritten by the next call here); inference returns a new array
        y = ws.get("y", (n, out, c, m)) if ctx.training else np.empty((n, out, c, m), x.dtype)
        term = ws.get("term", y.shape)
        np.multiply(patches[:, :, 0, :, None], kernel[0], out=y)
        for i in range(1, self.kernel_size):
            y += np.multiply(patches[:, :, i, :, None], kernel[i], out=term)
        y = y.reshape(n, out, c * m)
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward_linear(self, ctx: Call, grad: np.ndarray) -> np.ndarray | None:
        """Adds dL/dW (one contraction per offset) and dL/db; dL/dx scatter-adds ``g * W`` offset by offset."""
        patches = ctx.windows
        assert self.weight is not None  # built
        k, c, m = self.weight.shape
        n, out, _ = grad.shape
        g = grad.reshape(n, out, c, m)
        if self.bias is not None:
            self.bias.grad += grad.sum(axis=(0, 1))
        for i in range(k):
            self.weight.grad[i] += np.einsum("noc,nocm->cm", patches[:, :, i], g)
        if not ctx.input_grad:
            return None
        length, (before, after) = ctx.length, ctx.layout[0]
        dxp = ctx.ws.get("dxp", (n, 1, length + before + after, c))  # reused: the returned gradient is overwritten
        dxp.fill(0)
        target = self._windows(dxp, out, writeable=True)
        kernel = self.weight.data
        term = ctx.ws.get("gterm", g.shape)
        for i in range(k):  # one offset at a time: the windows of different offsets overlap
            np.multiply(g, kernel[i], out=term)
            target[:, :, i] += term[..., 0] if m == 1 else term.sum(axis=-1)
        return dxp[:, 0, before:before + length]

    def get_config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "strides": self.strides, "padding": self.padding,
                "depth_multiplier": self.depth_multiplier, "dilation_rate": self.dilation_rate,
                **{KERAS_NAMES.get(k, k): v for k, v in {**self.regularizer_config(), **self.linear_config()}.items()}}


KERAS_NAMES = {"kernel_initializer": "depthwise_initializer", "kernel_regularizer": "depthwise_regularizer"}
