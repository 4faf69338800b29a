"""``DepthwiseConv2D``: each input channel convolved with its own ``depth_multiplier`` kernels (Keras's layer).

``(N, H, W, C) -> (N, OH, OW, C * depth_multiplier)``, output channel ``c * depth_multiplier + k`` being
input channel ``c`` through kernel ``k``. There is no sum over channels, so no matrix product: the layer
loops over the ``KH x KW`` kernel offsets (never over samples or pixels), each offset one broadcast
multiply-add of a strided view of the padded input (``im2col.windows``, no copy). Padding, strides and
dilation follow ``Conv2D``; as it, the layer takes images of any height and width (``Input(shape=(None, None,
C))``): the pads and output size are worked out once per input size (``image_sizes.PerSize``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.layer import Layer
from ..core.regularizers import Penalized
from ..core.validation import positive_int
from .activated import Activated
from .checks import channels_last
from .im2col import Pair, check_padding, conv_geometry, padded, pair, windows
from .image_sizes import PerSize, fixed_size, image_axes, window_output


@dataclass(frozen=True)
class DepthwisePlan:
    """Where a ``DepthwiseConv2D`` call's windows lie for inputs of one ``(H, W)``: the pads
    ``((top, bottom), (left, right))``, the output ``(OH, OW)`` and the padded input's ``(H + pads, W + pads)``."""

    pads: tuple[Pair, Pair]
    output_hw: Pair
    padded_hw: Pair


class DepthwiseConv2D(Penalized, Activated):
    """Depthwise 2-D convolution; ``weight`` (Keras's ``depthwise_kernel``) is ``(KH, KW, C, depth_multiplier)``,
    ``bias`` ``(C * depth_multiplier,)``; initialized with Keras's fans (``KH*KW*C`` in, ``KH*KW*multiplier``
    out)."""

    per_sample = True
    gains_from_threads = True

    def __init__(self, kernel_size: int | tuple[int, int] | list[int], strides: int | tuple[int, int] | list[int] = 1,
                 padding: str | int | tuple[int, int] | list[int] = "valid", depth_multiplier: int = 1,
                 data_format: str | None = None, dilation_rate: int | tuple[int, int] | list[int] = 1,
                 activation: str | Layer | dict | None = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "DepthwiseConv2D")
        self.set_regularizers(depthwise_regularizer, bias_regularizer, activity_regularizer)
        self.kernel_size = pair(kernel_size, "DepthwiseConv2D kernel_size")
        self.strides = pair(strides, "DepthwiseConv2D strides")
        self.padding = check_padding(padding)
        self.dilation = pair(dilation_rate, "DepthwiseConv2D dilation_rate")
        self.depth_multiplier = positive_int(depth_multiplier, "DepthwiseConv2D depth_multiplier")
        self.set_linear(activation, use_bias, depthwise_initializer, bias_initializer)

    @property
    def depthwise_kernel(self) -> Any:
        """``weight`` under Keras's name."""
        return self.weight

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _, _, c = image_axes("DepthwiseConv2D", input_shape)
        oh, ow = window_output("DepthwiseConv2D", input_shape, self.kernel_size, self.strides, self.dilation,
                               self.padding)
        super().build(input_shape)
        m = self.depth_multiplier
        self.output_shape = (oh, ow, c * m)
        kh, kw = self.kernel_size
        self.draw_weights((m, c, kh, kw), (2, 3, 1, 0), c * m)
        self.plans = PerSize(self._plan)
        size = fixed_size(input_shape)
        self.pads = self.plans(size).pads if size is not None else None  # (None: they follow the input's size)

    def _plan(self, hw: Pair) -> DepthwisePlan:
        """The geometry of a call on ``(N, H, W, C)`` images, ``hw = (H, W)``; ``ShapeError`` when the window
        does not fit."""
        assert self.input_shape is not None  # built
        pads, out = conv_geometry("DepthwiseConv2D", (*hw, self.input_shape[2]), self.kernel_size, self.strides,
                                  self.dilation, self.padding)
        (top, bottom), (left, right) = pads
        return DepthwisePlan(pads, out, (hw[0] + top + bottom, hw[1] + left + right))

    def forward_linear(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        ws = ctx.ws
        ws.use(x)
        plan = ctx.plan = self.plans((x.shape[1], x.shape[2]))
        xp = padded(ws, x, plan.pads, "xp")
        oh, ow = plan.output_hw
        ctx.windows = patches = windows(xp, self.kernel_size, self.strides, self.dilation, (oh, ow))
        assert self.weight is not None  # built
        kernel = self.weight.data
        n, c, m = len(x), x.shape[3], self.depth_multiplier
        # training reuses the output buffer (overwritten by the next call here); inference returns a new array
        y = ws.get("y", (n, oh, ow, c, m)) if ctx.training else np.empty((n, oh, ow, c, m), x.dtype)
        term = ws.get("term", y.shape)
        for i in range(self.kernel_size[0]):
            for j in range(self.kernel_size[1]):
                if i == j == 0:
                    np.multiply(patches[:, :, :, 0, 0, :, None], kernel[0, 0], out=y)
                else:
                    y += np.multiply(patches[:, :, :, i, j, :, None], kernel[i, j], out=term)
        y = y.reshape(n, oh, ow, c * m)
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward_linear(self, ctx: Call, grad: np.ndarray) -> np.ndarray | None:
        patches = ctx.windows
        n, oh, ow, _ = grad.shape
        c, m = patches.shape[-1], self.depth_multiplier
        g = grad.reshape(n, oh, ow, c, m)
        assert self.weight is not None  # built
        if self.bias is not None:
            self.bias.grad += grad.sum(axis=(0, 1, 2))
        kh, kw = self.kernel_size
        for i in range(kh):
            for j in range(kw):
                self.weight.grad[i, j] += np.einsum("nhwc,nhwcm->cm", patches[:, :, :, i, j, :], g)
        if not ctx.input_grad:
            return None
        plan = ctx.plan
        dxp = ctx.ws.get("dxp", (n, *plan.padded_hw, c))  # reused: the returned gradient is overwritten next call
        dxp.fill(0)
        target = windows(dxp, self.kernel_size, self.strides, self.dilation, (oh, ow), writeable=True)
        kernel = self.weight.data
        term = ctx.ws.get("gterm", g.shape)
        for i in range(kh):
            for j in range(kw):  # one offset at a time: the windows of different offsets overlap
                np.multiply(g, kernel[i, j], out=term)
                target[:, :, :, i, j, :] += term[..., 0] if m == 1 else term.sum(axis=-1)
        (top, bottom), (left, right) = plan.pads
        h, w = dxp.shape[1] - top - bottom, dxp.shape[2] - left - right
        return dxp[:, top:top + h, left:left + w]

    def get_config(self) -> dict[str, Any]:
        return {"kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
                "depth_multiplier": self.depth_multiplier, "dilation_rate": list(self.dilation),
                **{KERAS_NAMES.get(k, k): v for k, v in {**self.regularizer_config(), **self.linear_config()}.items()}}


KERAS_NAMES = {"kernel_initializer": "depthwise_initializer", "kernel_regularizer": "depthwise_regularizer"}
