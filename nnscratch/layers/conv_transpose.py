"""``Conv2DTranspose``: the transposed 2-D convolution (a "deconvolution"), for channels-last images.

Its forward pass is the input gradient of a ``Conv2D`` (patch products scatter-added by ``col2im``) and
its input gradient is a ``Conv2D`` forward pass (``im2col`` and one product): the same machinery, swapped.
It takes images of any height and width (``Input(shape=(None, None, C))``): the output size and cropping are
worked out once per input size (``image_sizes.PerSize``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from ..core.validation import positive_int
from .activated import Activated
from .checks import channels_last, sample_shape_error
from .im2col import (
    Pair,
    blocked_inner,
    blocked_matmul,
    check_padding,
    columns,
    padded,
    pair,
    scatter_products,
)
from .image_sizes import PerSize, fixed_size, image_axes


@dataclass(frozen=True)
class TransposePlan:
    """Where a ``Conv2DTranspose`` call's output lies for inputs of one ``(H, W)``: the output ``(OH, OW)``, the
    cells ``(top, left)`` cropped before it and the ``(height, width)`` of the uncropped output (what the patches
    cover, and any cells past it the output reaches)."""

    output_hw: Pair
    crop: Pair
    buffer_hw: Pair


class Conv2DTranspose(Activated):
    """Transposed convolution: ``(N, H, W, C) -> (N, OH, OW, filters)``, each input pixel adding its
    kernel-sized patch ``x[n, i, j] @ W`` at ``(i*strides, j*strides)`` of the (uncropped) output.

    Output size per axis, with ``K' = dilation_rate*(K-1) + 1``:

    - ``"valid"``: ``H*s + max(K' - s, 0)``, or ``(H-1)*s + K' + output_padding`` when that is given;
    - ``"same"``: ``H*s``, or ``(H-1)*s + K' - 2*(K'//2) + output_padding``; the uncropped output is cropped
      as TensorFlow does (``Conv2D``'s ``"same"`` padding of the output, the extra cell at the bottom/right);
    - ``p`` or ``(ph, pw)`` (PyTorch's ``padding``): ``(H-1)*s + K' - 2p + output_padding``, ``p`` cropped
      from each side.

    ``weight`` is ``(KH, KW, filters, C)`` (Keras's layout, the kernel of the ``Conv2D`` it transposes),
    ``bias`` ``(filters,)``.
    """

    per_sample = True
    gains_from_threads = True

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] | list[int],
        strides: int | tuple[int, int] | list[int] = (1, 1),
        padding: str | int | tuple[int, int] | list[int] = "valid",
        output_padding: int | tuple[int, int] | list[int] | None = None,
        dilation_rate: int | tuple[int, int] | list[int] = (1, 1),
        activation: str | Layer | dict | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "Conv2DTranspose")
        self.filters = positive_int(filters, "Conv2DTranspose filters")
        self.kernel_size = pair(kernel_size, "Conv2DTranspose kernel_size")
        self.strides = pair(strides, "Conv2DTranspose strides")
        self.padding = check_padding(padding)
        self.dilation_rate = pair(dilation_rate, "Conv2DTranspose dilation_rate")
        self.output_padding = (None if output_padding is None
                               else pair(output_padding, "Conv2DTranspose output_padding", 0))
        if self.output_padding is not None and any(
                p >= max(s, d) for p, s, d in zip(self.output_padding, self.strides, self.dilation_rate)):
            raise InvalidValueError(f"Conv2DTranspose output_padding {output_padding!r} must be smaller than strides "
                                    f"{self.strides} (or dilation_rate {self.dilation_rate})")
        self.set_linear(activation, use_bias, kernel_initializer, bias_initializer)

    def geometry(self, i: int, size: int) -> tuple[int, int, int]:
        """``(output size, cells cropped before, cells the patches cover)`` along axis ``i`` (0: height, 1: width)."""
        s, span = self.strides[i], self.dilation_rate[i] * (self.kernel_size[i] - 1) + 1
        extra = None if self.output_padding is None else self.output_padding[i]
        full = (size - 1) * s + span  # what the patches cover
        if self.padding == "valid":
            out = size * s + max(span - s, 0) if extra is None else full + extra
            before = 0
        elif self.padding == "same":
            out = size * s if extra is None else full - 2 * (span // 2) + extra
            before = max(full - out, 0) // 2
        else:
            before = int(self.padding[i])
            out = full - 2 * before + (extra or 0)
        return out, before, full

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 3:
            raise sample_shape_error("Conv2DTranspose", "height, width, channels", input_shape)
        h, w, c = image_axes("Conv2DTranspose", input_shape)
        oh, ow = (None if size is None else self.geometry(i, size)[0] for i, size in enumerate((h, w)))
        self._check_output((oh, ow), input_shape)
        super().build(input_shape)
        self.output_shape = (oh, ow, self.filters)
        kh, kw = self.kernel_size
        self.draw_weights((c, self.filters, kh, kw), (2, 3, 1, 0), self.filters)  # (KH, KW, filters, C)
        self.plans = PerSize(self._plan)
        size = fixed_size(input_shape)  # the cells cropped before the output (None: they follow the input's size)
        crop = self.plans(size).crop if size is not None else None
        self._top: int | None = None if crop is None else crop[0]
        self._left: int | None = None if crop is None else crop[1]

    def _plan(self, hw: Pair) -> TransposePlan:
        """The output size and cropping of a call on ``(N, H, W, C)`` images, ``hw = (H, W)``; ``ShapeError`` when
        the padding crops the whole output."""
        assert self.input_shape is not None  # built
        (oh, top, fh), (ow, left, fw) = self.geometry(0, hw[0]), self.geometry(1, hw[1])
        self._check_output((oh, ow), (*hw, self.input_shape[2]))
        return TransposePlan((oh, ow), (top, left), (max(fh, top + oh), max(fw, left + ow)))

    def _check_output(self, out: tuple[int | None, int | None], input_shape: tuple[int | None, ...]) -> None:
        """``ShapeError`` when an output axis ``out`` (``None``: variable) has no cell."""
        if any(size is not None and size < 1 for size in out):
            raise ShapeError(f"Conv2DTranspose with padding {self.padding!r} crops more than its output holds: "
                             f"output {out[0]}x{out[1]} for input shape (batch, {', '.join(map(str, input_shape))})")

    def forward_linear(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """Patch products ``x @ W.T`` scatter-added into the uncropped output, cropped, plus the bias."""
        self._ensure_built(x)
        ws = ctx.ws
        ws.use(x)
        ctx.x = x
        assert self.weight is not None  # built
        (_, h, w, c), (kh, kw, f, _) = x.shape, self.weight.shape
        plan = ctx.plan = self.plans((h, w))
        kernels = self.weight.data.reshape(kh * kw, f, c).transpose(0, 2, 1)  # (KH*KW, C, filters)
        full = scatter_products(ws, x.reshape(-1, c), kernels, self.kernel_size, self.strides, self.dilation_rate,
                                (h, w), plan.buffer_hw)
        (oh, ow), (top, left) = plan.output_hw, plan.crop
        y = full[:, top:top + oh, left:left + ow]
        return y + self.bias.data if self.bias is not None else y.copy()

    def backward_linear(self, ctx: Call, grad: np.ndarray) -> np.ndarray | None:
        """dL/dx is the convolution of the output gradient (zero-padded back to the uncropped size) with the
        kernel: ``im2col`` and one product; dL/dW is the column matrix times the input."""
        ws, x, plan = ctx.ws, ctx.x, ctx.plan
        assert self.weight is not None  # built
        (n, h, w, c), (kh, kw, f, _) = x.shape, self.weight.shape
        (oh, ow), (top, left), (bh, bw) = plan.output_hw, plan.crop, plan.buffer_hw
        pads = ((top, bh - top - oh), (left, bw - left - ow))
        cols = columns(ws, "cols", padded(ws, grad, pads, "grad padded"), self.kernel_size, self.strides,
                       self.dilation_rate, (h, w))
        self.weight.grad += blocked_inner(cols, x.reshape(-1, c)).reshape(kh, kw, f, c)
        if self.bias is not None:
            self.bias.grad += grad.reshape(-1, f).sum(axis=0)
        if not ctx.input_grad:
            return None
        return blocked_matmul(cols, self.weight.data.reshape(-1, c)).reshape(n, h, w, c)

    def get_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
            "output_padding": None if self.output_padding is None else list(self.output_padding),
            "dilation_rate": list(self.dilation_rate),
            **self.linear_config(),
        }
