"""``Conv2D``: 2-D convolution of channels-last images as one matrix product (im2col)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError
from ..core.layer import Layer
from ..core.regularizers import Penalized
from ..core.validation import positive_int
from ..core.workspace import Workspace
from . import activations
from .activated import Activated
from .im2col import (
    Pair,
    blocked_inner,
    blocked_matmul,
    check_padding,
    column_layout,
    columns,
    conv_geometry,
    padded,
    pair,
    scatter_products,
)
from .image_sizes import PerSize, fixed_size, image_axes, window_output


@dataclass(frozen=True)
class ConvPlan:
    """Where a ``Conv2D`` call's windows lie for inputs of one size: the input and output ``(H, W)``, the forward
    pads, the pads of the input gradient's convolution (``flipped``: stride 1 and pads that fit), and the output
    pixels per row of each column matrix."""

    input_hw: Pair
    output_hw: Pair
    pads: tuple[Pair, Pair]
    grad_pads: tuple[Pair, Pair]
    flipped: bool
    block: int
    grad_block: int


class Conv2D(Penalized, Activated):
    """2-D convolution (cross-correlation, as in every framework): ``(N, H, W, C) -> (N, OH, OW, filters)``.

    Images are channels-last (NHWC). ``padding`` is ``"valid"`` (none), ``"same"`` (TensorFlow's rule:
    ``OH = ceil(H / stride)``, extra pad pixel at the bottom/right) or explicit zeros per side (``p`` or
    ``(ph, pw)``); ``OH = floor((H + pads - dilation*(KH-1) - 1) / stride) + 1``. ``C`` is inferred from the
    first input. Built for ``(None, None, C)`` it takes images of any height and width (one size per call):
    the geometry of each size (``ConvPlan``) is worked out on its first call and kept; ``pads`` is then ``None``.

    ``weight`` is stored ``(KH, KW, C, filters)`` so that ``weight.reshape(KH*KW*C, filters)`` (free) is the
    matrix the column matrix ``(N*OH*OW, KH*KW*C)`` multiplies; it is initialized from a
    ``(filters, C, KH, KW)`` draw so the initializer sees the right fans. ``bias`` is ``(filters,)``.
    ``activation="relu"`` is applied in place on the product. The default initializer is Keras's
    ``glorot_uniform``; ``dilation_rate`` is Keras's name of ``dilation``.

    Scratch buffers belong to the call site (``ctx.ws``) and are reused while the input shape stays the
    same, so the gradient a call's backward returns, and in training mode its output, are overwritten by
    the next call at that site: copy them to keep them.
    See ``docs/convolution.md`` for the products (two output pixels per row of the column matrix, the input
    gradient as a convolution with the flipped kernel).
    """

    per_sample = True
    gains_from_threads = True

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] | list[int],
        strides: int | tuple[int, int] | list[int] = 1,
        padding: str | int | tuple[int, int] | list[int] = "valid",
        dilation: int | tuple[int, int] | list[int] = 1,
        use_bias: bool = True,
        activation: str | Layer | dict | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        data_format: str | None = None,
        dilation_rate: int | tuple[int, int] | list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise InvalidValueError(f"Conv2D works on channels-last images only (data_format='channels_last'), got "
                                    f"{data_format!r}; transpose NCHW data with x.transpose(0, 2, 3, 1)")
        if dilation_rate is not None:  # Keras's name
            if dilation != 1:
                raise InvalidValueError("pass dilation_rate or dilation, not both")
            dilation = dilation_rate
        self.set_regularizers(kernel_regularizer, bias_regularizer, activity_regularizer)
        self.filters = positive_int(filters, "Conv2D filters")
        self.kernel_size = pair(kernel_size, "Conv2D kernel_size")
        self.strides = pair(strides, "Conv2D strides")
        self.padding = check_padding(padding)
        self.dilation = pair(dilation, "Conv2D dilation")
        self.set_linear(activation, use_bias, kernel_initializer, bias_initializer)
        act = self.activation  # the plain ReLU (no max_value, slope or threshold) is applied in place on the product
        self.relu = type(act) is activations.ReLU and act.plain

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        h, w, c = image_axes("Conv2D", input_shape)
        oh, ow = window_output("Conv2D", input_shape, self.kernel_size, self.strides, self.dilation, self.padding)
        super().build(input_shape)
        self.output_shape = (oh, ow, self.filters)
        kh, kw = self.kernel_size
        self.draw_weights((self.filters, c, kh, kw), (2, 3, 1, 0), self.filters)
        self.plans = PerSize(self._plan)
        size = fixed_size(input_shape)
        self.pads = self.plans(size).pads if size is not None else None  # (None: they follow the input's size)

    def _plan(self, hw: Pair) -> ConvPlan:
        """The geometry of a call on ``(N, H, W, C)`` images, ``hw = (H, W)``."""
        assert self.weight is not None  # built
        c = self.weight.shape[2]
        pads, (oh, ow) = conv_geometry("Conv2D", (*hw, c), self.kernel_size, self.strides, self.dilation,
                                       self.padding)
        # With stride 1, dL/dx is a convolution of the output gradient zero-padded by d*(K-1) - pad on each
        # side; a forward padding wider than d*(K-1) (rare) keeps the col2im path.
        reach = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
        (top, bottom), (left, right) = pads
        grad_pads = ((reach[0] - top, reach[0] - bottom), (reach[1] - left, reach[1] - right))
        # Output pixels per row of the column matrices: of the forward product (OW wide, OC outputs) and of
        # the input gradient's (W wide, C outputs).
        simple = self.strides == self.dilation == (1, 1)
        return ConvPlan(hw, (oh, ow), pads, grad_pads,
                        flipped=self.strides == (1, 1) and min(min(p) for p in grad_pads) >= 0,
                        block=pixel_block(ow, self.filters) if simple else 1,
                        grad_block=pixel_block(hw[1], c) if simple else 1)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        y = self.forward_linear(ctx, x)
        if self.relu:  # in place on the product: one pass, no temporary
            ctx.relu_out = np.maximum(y, 0, out=y)
            return y
        return self.activation.forward_call(ctx.sub("activation"), y)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray | None:
        return self.backward_linear(ctx, self._activation_grad(ctx, grad_out))

    def forward_linear(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """im2col, the product and the bias: the output before the activation ``(N, OH, OW, OC)``."""
        self._ensure_built(x)
        ws = ctx.ws
        ws.use(x)
        plan = ctx.plan = self.plans((x.shape[1], x.shape[2]))
        n, (oh, ow), oc = len(x), plan.output_hw, self.filters
        p = plan.block
        # The bias rides in the product as a ones column of cols (not possible when cols is gathered).
        ctx.bias_in_cols = self.bias is not None and column_layout(x.shape[3], x.itemsize) != "gather"
        ctx.cols = self._im2col(ws, x, plan.pads, "cols", p, self.strides, (oh, ow // p), ctx.bias_in_cols)
        # (KH*(KW+p-1)*C [+1 bias row], p*OC)
        assert self.weight is not None  # built
        bias = self.bias if ctx.bias_in_cols else None
        kernel = self._kernel_matrix(ws, "kernel", self.weight.data, p, bias.data if bias is not None else None)
        # (N*OH*OW/p, p*OC), that is (N, OH, OW, OC); training reuses one buffer (no fresh pages every step)
        y = blocked_matmul(ctx.cols, kernel, out=ws.get("y", (len(ctx.cols), p * oc)) if ctx.training else None)
        if self.bias is not None and not ctx.bias_in_cols:  # rows of OW*OC values: faster than broadcasting OC
            tiled = ws.get("bias row", (ow, oc))
            tiled[...] = self.bias.data
            rows = y.reshape(-1, ow * oc)
            rows += tiled.reshape(-1)
        return y.reshape(n, oh, ow, oc)

    def backward_linear(self, ctx: Call, grad: np.ndarray) -> np.ndarray | None:
        """From dL/d(pre-activation): the weight gradients (added), and dL/dx when ``ctx.input_grad``."""
        plan, oc = ctx.plan, self.filters
        p = plan.block
        g = grad.reshape(-1, oc)  # (N*OH*OW, OC)
        wgrad = blocked_inner(ctx.cols, g.reshape(-1, p * oc))  # (rows of the kernel matrix, p*OC)
        assert self.weight is not None  # built
        if ctx.bias_in_cols:
            assert self.bias is not None  # the bias rode in the columns
            self.bias.grad += wgrad[-1].reshape(p, oc).sum(axis=0)
            wgrad = wgrad[:-1]
        elif self.bias is not None:
            self.bias.grad += np.dot(ctx.ws.get("ones", (len(g),), fill=1), g)
        add_block_grad(wgrad, self.kernel_size, p, self.weight.grad)
        if not ctx.input_grad:
            return None
        return self._input_grad_flipped(ctx.ws, plan, g) if plan.flipped else self._input_grad_col2im(ctx.ws, plan, g)

    def _activation_grad(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        """dL/d(pre-activation) ``(N, OH, OW, OC)``; for the in-place ReLU in reused buffers."""
        if not self.relu:
            return self.activation.backward_call(ctx.sub("activation"), grad_out)
        y = ctx.relu_out
        mask = np.greater(y, 0, out=ctx.ws.get("mask", y.shape, dtype=np.bool_))
        return np.multiply(grad_out, mask, out=ctx.ws.get("g", y.shape))

    def _input_grad_flipped(self, ws: Workspace, plan: ConvPlan, g: np.ndarray) -> np.ndarray:
        """dL/dx for stride 1: the stride-1 convolution of ``g`` with the flipped kernel, its in/out channels
        swapped, over ``g`` zero-padded by ``span - 1 - pad`` on each side. One im2col and one product."""
        assert self.weight is not None  # built
        (h, w), (oh, ow), (c, oc) = plan.input_hw, plan.output_hw, self.weight.shape[2:]
        n, q = len(g) // (oh * ow), plan.grad_block
        cols = self._im2col(ws, g.reshape(n, oh, ow, oc), plan.grad_pads, "gcols", q, (1, 1), (h, w // q))
        flipped = self.weight.data[::-1, ::-1].transpose(0, 1, 3, 2)  # (KH, KW, OC, C)
        dx = ws.get("dx", (n, h, w, c))
        blocked_matmul(cols, self._kernel_matrix(ws, "flipped kernel", flipped, q), out=dx.reshape(-1, q * c))
        return dx

    def _kernel_matrix(self, ws: Workspace, name: str, kernel: np.ndarray, p: int,
                       bias: np.ndarray | None = None) -> np.ndarray:
        """``block_kernel(kernel, p)``, with ``bias`` (repeated ``p`` times) as an extra last row when given,
        refreshed from the current weights in the reused buffer ``name``; for ``p = 1`` and no bias the
        kernel reshaped."""
        kh, kw, c, oc = kernel.shape
        if p == 1 and bias is None:
            return kernel.reshape(-1, oc)
        rows = kh * (kw + p - 1) * c
        out = ws.get(name, (rows + int(bias is not None), p * oc), fill=0)  # zeros outside the blocks stay
        block_kernel(kernel, p, out[:rows])
        if bias is not None:
            out[rows].reshape(p, oc)[...] = bias
        return out

    def _input_grad_col2im(self, ws: Workspace, plan: ConvPlan, g: np.ndarray) -> np.ndarray:
        """dL/dx for any stride: patch gradients ``g @ W.T``, scatter-added into the padded input by ``col2im``."""
        assert self.weight is not None  # built
        (h, w), (oh, ow), (c, oc) = plan.input_hw, plan.output_hw, self.weight.shape[2:]
        kh, kw = self.kernel_size
        kernels = self.weight.data.reshape(kh * kw, c, oc).transpose(0, 2, 1)  # (KH*KW, OC, C)
        (top, bottom), (left, right) = plan.pads
        dxp = scatter_products(ws, g, kernels, self.kernel_size, self.strides, self.dilation, (oh, ow),
                               (h + top + bottom, w + left + right))
        return dxp[:, top:top + h, left:left + w]

    def _im2col(self, ws: Workspace, x: np.ndarray, pads: tuple[Pair, Pair], name: str, block: int, stride: Pair,
                out_hw: Pair, ones_column: bool = False) -> np.ndarray:
        """The column matrix of ``x`` zero-padded by ``pads``, in the reused buffer ``name``: one row per ``block``
        adjacent output pixels, a window of ``(KH, KW + block - 1)`` cells moved by ``block`` along the width;
        ``ones_column`` appends a column of ones (not with the gathered layout)."""
        window = (self.kernel_size[0], self.kernel_size[1] + block - 1)
        xp = padded(ws, x, pads, f"{name} padded")
        return columns(ws, name, xp, window, (stride[0], stride[1] * block), self.dilation, out_hw, ones_column)

    def get_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
            "dilation": list(self.dilation),
            **self.linear_config(),
            **self.regularizer_config(),
        }


# Two output pixels per row of the column matrix (``block_kernel``) pay off while the product is narrow: the
# column matrix shrinks by (KW+1)/(2*KW) and the product doubles its output columns, at 1 + 1/KW times the FLOPs.
BLOCK_MAX_FILTERS = 16


def pixel_block(width: int, filters: int) -> int:
    """Adjacent output pixels per row of the column matrix of a stride-1 product: 2 or 1."""
    return 2 if width % 2 == 0 and filters <= BLOCK_MAX_FILTERS else 1


def block_kernel(kernel: np.ndarray, p: int, out: np.ndarray | None = None) -> np.ndarray:
    """The ``(KH*(KW+p-1)*C, p*OC)`` matrix that maps a window of ``KW+p-1`` columns to ``p`` adjacent output
    pixels of a stride-1 convolution with ``kernel`` ``(KH, KW, C, OC)``. Written into ``out`` when given,
    whose entries outside the ``p`` blocks must be zero (they are never written), else into a new array."""
    kh, kw, c, oc = kernel.shape
    if out is None:
        out = np.zeros((kh * (kw + p - 1) * c, p * oc), kernel.dtype)
    blocked = out.reshape(kh, kw + p - 1, c, p, oc)
    for s in range(p):  # output pixel s of the block sees window columns s .. s+KW-1
        blocked[:, s:s + kw, :, s] = kernel
    return out


def add_block_grad(grad: np.ndarray, kernel_size: Pair, p: int, out: np.ndarray) -> np.ndarray:
    """The adjoint of ``block_kernel``: a ``(KH*(KW+p-1)*C, p*OC)`` gradient summed into ``out`` ``(KH, KW, C, OC)``
    (added to what it holds, in place); returns ``out``."""
    (kh, kw), oc = kernel_size, grad.shape[1] // p
    blocked = grad.reshape(kh, kw + p - 1, -1, p, oc)
    for s in range(p):
        np.add(out, blocked[:, s:s + kw, :, s], out=out)
    return out
