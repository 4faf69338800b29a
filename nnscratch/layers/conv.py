"""``Conv2D``: 2-D convolution of channels-last images as one matrix product (im2col)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import initializers
from ..im2col import Workspace, check_padding, col2im, conv_geometry, im2col, pair
from ..module import Module, from_config, to_config
from ..parameter import Parameter
from ..validation import positive_int
from . import activations


class Conv2D(Module):
    """2-D convolution (cross-correlation, as in every framework): ``(N, H, W, C) -> (N, OH, OW, filters)``.

    Images are channels-last (NHWC). ``padding`` is ``"valid"`` (none), ``"same"`` (TensorFlow's rule:
    ``OH = ceil(H / stride)``, extra pad pixel at the bottom/right) or explicit zeros per side (``p`` or
    ``(ph, pw)``); ``OH = floor((H + pads - dilation*(KH-1) - 1) / stride) + 1``. ``C`` is inferred from the
    first input.

    ``weight`` is stored ``(KH, KW, C, filters)`` so that ``weight.reshape(KH*KW*C, filters)`` (free) is the
    matrix the column matrix ``(N*OH*OW, KH*KW*C)`` multiplies; it is initialized from a
    ``(filters, C, KH, KW)`` draw so the initializer sees the right fans. ``bias`` is ``(filters,)``.
    Scratch buffers are reused while the input shape stays the same, so the gradient ``backward`` returns
    is a view that the next ``backward`` overwrites.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] | list[int],
        strides: int | tuple[int, int] | list[int] = 1,
        padding: str | int | tuple[int, int] | list[int] = "valid",
        dilation: int | tuple[int, int] | list[int] = 1,
        use_bias: bool = True,
        activation: str | Module | dict | None = None,
        kernel_initializer: Any = "he_normal",
        bias_initializer: Any = "zeros",
    ) -> None:
        super().__init__()
        self.filters = positive_int(filters, "Conv2D filters")
        self.kernel_size = pair(kernel_size, "Conv2D kernel_size")
        self.strides = pair(strides, "Conv2D strides")
        self.padding = check_padding(padding)
        self.dilation = pair(dilation, "Conv2D dilation")
        self.use_bias = bool(use_bias)
        self.activation = from_config(activation) if isinstance(activation, dict) else activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None
        self.input_grad = True  # False skips computing dL/dx (first layer of a model)
        self._ws = Workspace()

    def build(self, input_shape: tuple[int, ...]) -> None:
        self.pads, (oh, ow) = conv_geometry("Conv2D", tuple(input_shape), self.kernel_size, self.strides,
                                            self.dilation, self.padding)
        super().build(input_shape)
        self.output_shape = (oh, ow, self.filters)
        kh, kw = self.kernel_size
        kernel = self.kernel_initializer((self.filters, input_shape[2], kh, kw), self.rng, self.dtype)
        self.weight = Parameter(kernel.transpose(2, 3, 1, 0))
        if self.use_bias:
            self.bias = Parameter(self.bias_initializer((self.filters,), self.rng, self.dtype))

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._ensure_built(x)
        self._ws.use(x)
        xp = self._padded(x)
        n, c, (oh, ow, oc) = len(x), self.input_shape[2], self.output_shape
        cols = self._ws.get("cols", (n * oh * ow, self.kernel_size[0] * self.kernel_size[1] * c),
                            order="F" if c <= 3 else "C")
        self.cols = im2col(xp, self.kernel_size, self.strides, self.dilation, (oh, ow), cols)
        y = np.dot(cols, self.weight.data.reshape(-1, oc))
        if self.bias is not None:  # adding rows of OW*OC values is faster than broadcasting OC values
            rows = y.reshape(-1, ow * oc)
            rows += np.tile(self.bias.data, ow)
        return self.activation.forward(y.reshape(n, oh, ow, oc), training)

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        (h, w, c), (oh, ow, oc) = self.input_shape, self.output_shape
        kh, kw = self.kernel_size
        g = self.activation.backward(grad_out).reshape(-1, oc)  # (N*OH*OW, OC)
        grad = self.weight.grad.reshape(-1, oc)  # a view, (KH*KW*C, OC)
        grad += np.dot(self.cols.T, g)
        if self.bias is not None:
            self.bias.grad += np.dot(self._ws.get("ones", (len(g),), fill=1), g)
        if not self.input_grad:
            return None
        # dcols = g @ W.T, written offset-major (KH*KW, N*OH*OW, C) so that col2im adds contiguous blocks.
        kernel = self.weight.data.reshape(kh * kw, c, oc).transpose(0, 2, 1)
        dcols = np.matmul(g, kernel, out=self._ws.get("dcols", (kh * kw, len(g), c)))
        n = len(g) // (oh * ow)
        (top, bottom), (left, right) = self.pads
        dxp = self._ws.get("dxp", (n, h + top + bottom, w + left + right, c))
        col2im(dcols.reshape(kh * kw, n, oh, ow, c), self.kernel_size, self.strides, self.dilation, dxp)
        return dxp[:, top:top + h, left:left + w]

    def _padded(self, x: np.ndarray) -> np.ndarray:
        """``x`` with its zero padding, in a reused buffer (``x`` itself when there is none)."""
        (top, bottom), (left, right) = self.pads
        if top == bottom == left == right == 0:
            return x
        n, h, w, c = x.shape
        xp = self._ws.get("xp", (n, h + top + bottom, w + left + right, c), fill=0)
        xp[:, top:top + h, left:left + w] = x  # the border stays zero
        return xp

    def get_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
            "dilation": list(self.dilation),
            "use_bias": self.use_bias,
            "activation": to_config(self.activation),
            "kernel_initializer": self.kernel_initializer.get_config(),
            "bias_initializer": self.bias_initializer.get_config(),
        }
