"""``SeparableConv2D``: a depthwise convolution followed by a 1x1 convolution across channels (Keras's layer).

``(N, H, W, C) -> (N, OH, OW, filters)`` with ``KH*KW*C*depth_multiplier + C*depth_multiplier*filters``
weights instead of ``KH*KW*C*filters``. It is the composition of two layers it owns, ``depthwise``
(``DepthwiseConv2D``, no bias) and ``pointwise`` (a 1x1 ``Conv2D`` with the bias and the activation): their
calls are recorded under the sub-calls ``"depthwise"`` and ``"pointwise"``. Both take images of any height and
width (``Input(shape=(None, None, C))``), so the composition does too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import initializers, regularizers
from ..core.call import Call
from ..core.layer import Layer
from ..core.registry import to_config
from ..core.shapes import SampleShape
from ..core.validation import positive_int
from .checks import channels_last
from .conv import Conv2D
from .depthwise_conv import DepthwiseConv2D


class Separable(Layer):
    """A depthwise convolution (``self.depthwise``), then a pointwise one of kernel 1 (``self.pointwise``): the
    forward and backward of ``SeparableConv2D`` and ``SeparableConv1D``."""

    abstract = True
    depthwise: Any
    pointwise: Any

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        h = self.depthwise.forward_call(ctx.sub("depthwise"), x)
        return self.pointwise.forward_call(ctx.sub("pointwise", input_grad=True), h)  # dL/dh feeds the depthwise

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray | None:
        grad = self.pointwise.backward_call(ctx.recorded("pointwise"), grad_out)
        assert grad is not None  # the pointwise call was recorded with input_grad=True
        return self.depthwise.backward_call(ctx.recorded("depthwise"), grad)


class SeparableConv2D(Separable):
    """Depthwise-separable 2-D convolution; weights in Keras's order: ``depthwise_kernel`` ``(KH, KW, C,
    depth_multiplier)``, ``pointwise_kernel`` ``(1, 1, C*depth_multiplier, filters)``, ``bias``."""

    per_sample = True
    gains_from_threads = True

    def __init__(self, filters: int, kernel_size: int | tuple[int, int] | list[int],
                 strides: int | tuple[int, int] | list[int] = 1,
                 padding: str | int | tuple[int, int] | list[int] = "valid",
                 data_format: str | None = None, dilation_rate: int | tuple[int, int] | list[int] = 1,
                 depth_multiplier: int = 1, activation: str | Layer | dict | None = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", pointwise_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "SeparableConv2D")
        self.filters = positive_int(filters, "SeparableConv2D filters")
        self.depthwise = DepthwiseConv2D(kernel_size, strides, padding, depth_multiplier, dilation_rate=dilation_rate,
                                         use_bias=False, depthwise_initializer=depthwise_initializer,
                                         depthwise_regularizer=depthwise_regularizer, name="depthwise")
        self.pointwise = Conv2D(filters, 1, activation=activation, use_bias=use_bias,
                                kernel_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                                kernel_regularizer=pointwise_regularizer, bias_regularizer=bias_regularizer,
                                activity_regularizer=activity_regularizer, name="pointwise")

    @property
    def depthwise_kernel(self) -> Any:
        return self.depthwise.weight

    @property
    def pointwise_kernel(self) -> Any:
        return self.pointwise.weight

    @property
    def bias(self) -> Any:
        return self.pointwise.bias

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        # (as per-sample shapes: a plain tuple starting with None would read as Keras's batch shape)
        self.depthwise.build(SampleShape(input_shape))
        super().build(input_shape)
        self.pointwise.build(SampleShape(self.depthwise.output_shape))
        self.output_shape = self.pointwise.output_shape

    def get_config(self) -> dict[str, Any]:
        d, p = self.depthwise, self.pointwise
        config = {"filters": self.filters, "kernel_size": list(d.kernel_size), "strides": list(d.strides),
                  "padding": d.padding if isinstance(d.padding, str) else list(d.padding),
                  "dilation_rate": list(d.dilation), "depth_multiplier": d.depth_multiplier,
                  "activation": to_config(p.activation), "use_bias": p.use_bias,
                  "depthwise_initializer": initializers.serialize(d.kernel_initializer),
                  "pointwise_initializer": initializers.serialize(p.kernel_initializer),
                  "bias_initializer": initializers.serialize(p.bias_initializer)}
        for key, reg in (("depthwise_regularizer", d.kernel_regularizer),
                         ("pointwise_regularizer", p.kernel_regularizer), ("bias_regularizer", p.bias_regularizer)):
            if reg is not None:
                config[key] = regularizers.config_of(reg)
        return config
