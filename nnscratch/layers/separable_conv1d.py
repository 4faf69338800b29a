"""``SeparableConv1D``: a depthwise 1-D convolution followed by a pointwise convolution across channels (Keras's layer).

``(N, L, C) -> (N, OL, filters)`` with ``K*C*depth_multiplier + C*depth_multiplier*filters`` weights instead of
``K*C*filters``. It is the composition of two layers it owns, ``depthwise`` (``DepthwiseConv1D``, no bias) and
``pointwise`` (a ``Conv1D`` of kernel size 1 with the bias and the activation), as ``SeparableConv2D`` is; their
calls are recorded under the sub-calls ``"depthwise"`` and ``"pointwise"``. Both take sequences of any length.
"""

from __future__ import annotations

from typing import Any

from ..core import initializers, regularizers
from ..core.errors import InvalidValueError
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.registry import to_config
from ..core.shapes import SampleShape
from ..core.validation import positive_int
from .checks import channels_last, single, valid_or_same
from .conv1d import Conv1D
from .depthwise_conv1d import CAUSAL_HINT, DepthwiseConv1D
from .separable_conv import Separable


class SeparableConv1D(Separable):
    """Depthwise-separable 1-D convolution; weights in Keras's order: ``depthwise_kernel`` ``(K, C,
    depth_multiplier)``, ``pointwise_kernel`` ``(1, C*depth_multiplier, filters)``, ``bias`` ``(filters,)``.
    Padding ``"valid"``/``"same"``, strides and dilation as ``DepthwiseConv1D``."""

    per_sample = True
    gains_from_threads = True

    def __init__(self, filters: int, kernel_size: int | tuple[int] | list[int],
                 strides: int | tuple[int] | list[int] = 1, padding: str = "valid", data_format: str | None = None,
                 dilation_rate: int | tuple[int] | list[int] = 1, depth_multiplier: int = 1,
                 activation: str | Layer | dict | None = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", pointwise_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "SeparableConv1D")
        if activity_regularizer is not None:
            raise InvalidValueError("activity_regularizer is not supported by nnscratch (weight penalties are: "
                                    "depthwise_regularizer, pointwise_regularizer, bias_regularizer)")
        self.filters = positive_int(filters, "SeparableConv1D filters")
        self.depthwise = DepthwiseConv1D(
            single(kernel_size, "SeparableConv1D kernel_size"), single(strides, "SeparableConv1D strides"),
            valid_or_same(padding, "SeparableConv1D", CAUSAL_HINT),
            positive_int(depth_multiplier, "SeparableConv1D depth_multiplier"),
            dilation_rate=single(dilation_rate, "SeparableConv1D dilation_rate"), use_bias=False,
            depthwise_initializer=depthwise_initializer, depthwise_regularizer=depthwise_regularizer, name="depthwise")
        self.depthwise.label = "SeparableConv1D"
        self.pointwise = Conv1D(filters, 1, activation=activation, use_bias=use_bias,
                                kernel_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                                name="pointwise")
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    @property
    def depthwise_kernel(self) -> Parameter | None:
        return self.depthwise.weight

    @property
    def pointwise_kernel(self) -> Parameter | None:
        return self.pointwise.weight

    @property
    def bias(self) -> Parameter | None:
        return self.pointwise.bias

    def regularized_weights(self) -> list[tuple[Any, regularizers.Regularizer]]:
        """The pointwise kernel's and the bias's penalties (the depthwise layer lists its own)."""
        pairs = ((self.pointwise.weight, self.pointwise_regularizer), (self.pointwise.bias, self.bias_regularizer))
        return [(p, r) for p, r in pairs if p is not None and r is not None]

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        # (as per-sample shapes: a plain tuple starting with None would read as Keras's batch shape)
        self.depthwise.build(SampleShape(input_shape))
        super().build(input_shape)
        self.pointwise.build(SampleShape(self.depthwise.output_shape))
        self.output_shape = self.pointwise.output_shape

    def get_config(self) -> dict[str, Any]:
        d, p = self.depthwise, self.pointwise
        config = {"filters": self.filters, "kernel_size": d.kernel_size, "strides": d.strides, "padding": d.padding,
                  "dilation_rate": d.dilation_rate, "depth_multiplier": d.depth_multiplier,
                  "activation": to_config(p.activation), "use_bias": p.use_bias,
                  "depthwise_initializer": initializers.serialize(d.kernel_initializer),
                  "pointwise_initializer": initializers.serialize(p.kernel_initializer),
                  "bias_initializer": initializers.serialize(p.bias_initializer)}
        for key, reg in (("depthwise_regularizer", d.kernel_regularizer),
                         ("pointwise_regularizer", self.pointwise_regularizer),
                         ("bias_regularizer", self.bias_regularizer)):
            if reg is not None:
                config[key] = regularizers.config_of(reg)
        return config
