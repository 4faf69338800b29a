"""``Conv3D``: 3-D convolution of channels-last volumes ``(N, D, H, W, C)`` as matrix products (im2col)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.layer import Layer
from ..core.regularizers import Penalized
from ..core.validation import positive_int
from ..core.workspace import Workspace
from .activated import Activated
from .checks import channels_last, valid_or_same
from .im2col import blocked_inner, blocked_matmul
from .im2col3d import (
    Pads3,
    Triple,
    padded_shape,
    padded_volume,
    triple,
    unpadded,
    volume_axes,
    volume_geometry,
    volume_output,
    volume_windows,
)

# The column matrix of one call is filled for a few kernel depths at a time when the whole of it
# (N*OD*OH*OW rows of KD*KH*KW*C values) would be larger than this: the products are then summed over those
# slabs, and backward refills each slab's columns instead of keeping them all.
COLUMN_BYTES = 256 << 20


@dataclass(frozen=True)
class Conv3DPlan:
    """Where a call's windows lie for inputs of one size: input and output ``(D, H, W)``, the pads, and how many
    kernel depths each slab of the column matrix holds (``KD``: the whole matrix, kept for backward)."""

    input_size: Triple
    output_size: Triple
    pads: Pads3
    depths: int


class Conv3D(Penalized, Activated):
    """3-D convolution (cross-correlation): ``(N, D, H, W, C) -> (N, OD, OH, OW, filters)``, channels last.

    ``padding`` is ``"valid"`` (none) or ``"same"`` (TensorFlow's rule: ``OD = ceil(D / stride)``, the extra pad
    cell at the end of each axis); ``OD = floor((D + pads - dilation*(KD-1) - 1) / stride) + 1``, likewise for
    ``H`` and ``W``. ``C`` is inferred from the first input.

    ``weight`` (Keras's ``kernel``) is ``(KD, KH, KW, C, filters)``, ``bias`` ``(filters,)``: Keras 3's layout, so
    ``weight.reshape(KD*KH*KW*C, filters)`` (free) is the matrix the column matrix ``(N*OD*OH*OW, KD*KH*KW*C)``
    multiplies. For large inputs the column matrix is filled and multiplied a few kernel depths at a time
    (``COLUMN_BYTES``). Backward: ``dW = cols.T @ g``, ``db = sum(g)``, and the patch gradients ``g @ W.T``
    scatter-added back into the padded input, one kernel offset at a time.

    Scratch buffers belong to the call site (``ctx.ws``) and are reused while the input shape stays the same, so
    the gradient a call's backward returns is overwritten by the next call at that site: copy it to keep it.
    """

    per_sample = True
    gains_from_threads = True

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int, int] | list[int],
        strides: int | tuple[int, int, int] | list[int] = 1,
        padding: str = "valid",
        dilation_rate: int | tuple[int, int, int] | list[int] = 1,
        activation: str | Layer | dict | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "Conv3D")
        self.set_regularizers(kernel_regularizer, bias_regularizer, activity_regularizer)
        self.filters = positive_int(filters, "Conv3D filters")
        self.kernel_size = triple(kernel_size, "Conv3D kernel_size")
        self.strides = triple(strides, "Conv3D strides")
        self.dilation_rate = triple(dilation_rate, "Conv3D dilation_rate")
        self.padding = valid_or_same(padding, "Conv3D")
        self.set_linear(activation, use_bias, kernel_initializer, bias_initializer)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _, _, _, c = volume_axes("Conv3D", input_shape)
        out = volume_output("Conv3D", input_shape, self.kernel_size, self.strides, self.dilation_rate, self.padding)
        super().build(input_shape)
        self.output_shape = (*out, self.filters)
        kd, kh, kw = self.kernel_size
        self.draw_weights((self.filters, c, kd, kh, kw), (2, 3, 4, 1, 0), self.filters)  # (KD, KH, KW, C, filters)
        fixed = None not in input_shape[:3]
        self.pads = volume_geometry("Conv3D", input_shape, self.kernel_size, self.strides, self.dilation_rate,
                                    self.padding)[0] if fixed else None  # (None: they follow the input's size)

    def _plan(self, x: np.ndarray) -> Conv3DPlan:
        """The geometry of a call on ``x`` ``(N, D, H, W, C)``."""
        pads, out = volume_geometry("Conv3D", x.shape[1:], self.kernel_size, self.strides, self.dilation_rate,
                                    self.padding)
        kd, kh, kw = self.kernel_size
        slab = len(x) * out[0] * out[1] * out[2] * kh * kw * x.shape[4] * x.itemsize  # bytes per kernel depth
        depths = kd if slab * kd <= COLUMN_BYTES else max(1, min(kd, COLUMN_BYTES // max(slab, 1)))
        return Conv3DPlan(x.shape[1:4], out, pads, depths)

    def forward_linear(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """The output before the activation ``(N, OD, OH, OW, filters)``; keeps what backward needs on ``ctx``."""
        self._ensure_built(x)
        assert self.weight is not None  # built
        ws = ctx.ws
        ws.use(x)
        plan = ctx.plan = self._plan(x)
        xp = ctx.xp = padded_volume(ws, x, plan.pads, "padded")
        n, f = len(x), self.filters
        y = None
        for start in range(0, self.kernel_size[0], plan.depths):
            cols = self._columns(ws, xp, plan, start)
            kernel = self._slab(start, plan.depths).reshape(-1, f)
            if y is None:
                y = blocked_matmul(cols, kernel)
            else:
                y += blocked_matmul(cols, kernel, out=ws.get("part", y.shape))
        assert y is not None  # (one slab at least)
        ctx.cols = cols if plan.depths == self.kernel_size[0] else None  # the whole column matrix, kept
        if self.bias is not None:
            y += self.bias.data
        return y.reshape(n, *plan.output_size, f)

    def backward_linear(self, ctx: Call, grad: np.ndarray) -> np.ndarray | None:
        """From dL/d(pre-activation): the weight gradients (added), and dL/dx when ``ctx.input_grad``."""
        assert self.weight is not None  # built
        plan, f, ws = ctx.plan, self.filters, ctx.ws
        g = np.ascontiguousarray(grad).reshape(-1, f)  # (N*OD*OH*OW, filters)
        if self.bias is not None:
            self.bias.grad += g.sum(axis=0)
        n = len(grad)
        c = self.weight.shape[3]
        dxp = dwin = None
        if ctx.input_grad:
            dxp = ws.get("dxp", padded_shape(n, plan.input_size, plan.pads, c))
            dxp.fill(0)
            dwin = volume_windows(dxp, self.kernel_size, self.strides, self.dilation_rate, plan.output_size,
                                  writeable=True)
        for start in range(0, self.kernel_size[0], plan.depths):
            cols = ctx.cols if ctx.cols is not None else self._columns(ws, ctx.xp, plan, start)
            slab = self._slab(start, plan.depths)  # (s, KH, KW, C, filters)
            self.weight.grad[start:start + len(slab)] += blocked_inner(cols, g).reshape(slab.shape)
            if dwin is not None:
                self._scatter(ws, g, slab, start, dwin, n, plan)
        if dxp is None:
            return None
        return unpadded(dxp, plan.pads, plan.input_size)

    def _slab(self, start: int, depths: int) -> np.ndarray:
        """The kernel at depths ``start .. start+depths-1`` ``(s, KH, KW, C, filters)`` (a view)."""
        assert self.weight is not None  # built
        return self.weight.data[start:start + depths]

    def _columns(self, ws: Workspace, xp: np.ndarray, plan: Conv3DPlan, start: int) -> np.ndarray:
        """The column matrix of kernel depths ``start .. start+s-1``: ``(N*OD*OH*OW, s*KH*KW*C)``, in a reused
        buffer (row ``(n, od, oh, ow)`` holds its patch in ``(kd, kh, kw, c)`` order)."""
        kd, kh, kw = self.kernel_size
        s = min(plan.depths, kd - start)
        n, c = xp.shape[0], xp.shape[4]
        od, oh, ow = plan.output_size
        rows, width = n * od * oh * ow, s * kh * kw * c
        buffer = ws.get("cols", (rows * plan.depths * kh * kw * c,))
        cols = buffer[:rows * width].reshape(rows, width)
        win = volume_windows(xp, self.kernel_size, self.strides, self.dilation_rate, plan.output_size)
        np.copyto(cols.reshape(n, od, oh, ow, s, kh, kw, c), win[:, :, :, :, start:start + s])
        return cols

    def _scatter(self, ws: Workspace, g: np.ndarray, slab: np.ndarray, start: int, dwin: np.ndarray, n: int,
                 plan: Conv3DPlan) -> None:
        """Add the patch gradients ``g @ slab.T`` of kernel depths ``start ..`` into the padded input gradient
        through its windows view ``dwin``, one kernel offset at a time."""
        s, kh, kw, c, f = slab.shape
        od, oh, ow = plan.output_size
        rows = len(g)
        buffer = ws.get("patch grads", (rows * plan.depths * kh * kw * c,))
        patches = buffer[:rows * s * kh * kw * c].reshape(rows, s * kh * kw * c)
        blocked_matmul(g, slab.reshape(-1, f).T, out=patches)
        parts = patches.reshape(n, od, oh, ow, s, kh, kw, c)
        for i in range(s):
            for j in range(kh):
                for k in range(kw):
                    view = dwin[:, :, :, :, start + i, j, k]
                    np.add(view, parts[:, :, :, :, i, j, k], out=view)

    def get_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            **self.linear_config(),
            **self.regularizer_config(),
        }
