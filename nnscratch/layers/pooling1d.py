"""``MaxPool1D`` and ``AvgPool1D`` (Keras: ``MaxPooling1D``, ``AveragePooling1D``) for channels-last sequences.

A sequence ``(N, L, C)`` is an image of height 1: each layer runs a ``MaxPool2D`` / ``AvgPool2D`` with
``1 x pool_size`` windows on the free view ``(N, 1, L, C)``, so ties, padding and speed are theirs (one
for each sequence length, when the length varies: ``Input(shape=(None, C))``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from .checks import channels_last, sample_shape_error, single
from .im2col import output_size, pad_amounts
from .pooling import AvgPool2D, MaxPool2D


class _Pool1D(Layer):
    """``(N, L, C) -> (N, OL, C)``: windows of ``pool_size`` steps moved by ``strides`` (default ``pool_size``).

    ``padding``: ``"valid"``, ``"same"`` (TensorFlow's rule: ``OL = ceil(L / strides)``) or ``p`` steps on each
    side; padded steps never win a max and are not counted in a mean.
    """

    abstract = True
    per_sample = True
    gains_from_threads = True
    pool2d: type[MaxPool2D] | type[AvgPool2D]

    def __init__(self, pool_size: int | tuple[int] | list[int] = 2, strides: int | tuple[int] | list[int] | None = None,
                 padding: str | int = "valid", data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        channels_last(data_format, name)
        self.pool_size = single(pool_size, f"{name} pool_size")
        self.strides = self.pool_size if strides is None else single(strides, f"{name} strides")
        if isinstance(padding, str):
            if padding.lower() not in ("valid", "same"):
                raise InvalidValueError(f"{name} padding must be 'valid', 'same' or an integer, got {padding!r}")
            self.padding: str | int = padding.lower()
        else:
            self.padding = single(padding, f"{name} padding", minimum=0)
            if self.padding >= self.pool_size:
                raise InvalidValueError(f"{name} padding {padding!r} must be smaller than pool_size {self.pool_size} "
                                        "(a window must not lie entirely in the padding)")
        self._pools: dict[int, MaxPool2D | AvgPool2D] = {}  # a 2-D pooling per sequence length seen

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 2:
            raise sample_shape_error(type(self).__name__, "steps, channels", input_shape)
        if input_shape[0] is not None:  # (a variable length is checked at each call)
            self._check_length(input_shape)
        super().build(input_shape)

    def _check_length(self, input_shape: tuple[Any, ...]) -> None:
        length = input_shape[0]
        padding = self.padding if isinstance(self.padding, str) else (self.padding, self.padding)
        _, pads = pad_amounts(padding, (1, length), (1, self.pool_size), (1, self.strides), (1, 1))
        if output_size(length, self.pool_size, self.strides, 1, pads) < 1:
            raise ShapeError(f"{type(self).__name__} window of {self.pool_size} steps is longer than its (padded) "
                             f"input of {length + sum(pads)} steps (input shape (batch, "
                             f"{', '.join(map(str, input_shape))}))")

    def _pool(self, length: int, input_shape: tuple[int, ...]) -> MaxPool2D | AvgPool2D:
        """The ``1 x pool_size`` image pooling for sequences of ``length`` steps (made on the first call of each
        length; it has no weights)."""
        pool = self._pools.get(length)
        if pool is None or pool.dtype != self.dtype:
            self._check_length(input_shape)
            pad2d = self.padding if isinstance(self.padding, str) else (0, self.padding)
            pool = self._pools[length] = self.pool2d((1, self.pool_size), (1, self.strides), pad2d,
                                                     name=f"{self.name}/2d")
            pool.set_dtype(self.dtype)
        return pool

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        pool = ctx.pool = self._pool(x.shape[1], x.shape[1:])
        return pool.forward_call(ctx, x[:, None])[:, 0]

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return ctx.pool.backward_call(ctx, grad_out[:, None])[:, 0]

    def get_config(self) -> dict[str, Any]:
        return {"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}


class MaxPool1D(_Pool1D):
    """Maximum over each window; backward routes each gradient to the window's first arg-max."""

    pool2d = MaxPool2D


class AvgPool1D(_Pool1D):
    """Mean over each window (padded steps excluded from the count)."""

    pool2d = AvgPool2D


MaxPooling1D = MaxPool1D
AveragePooling1D = AvgPool1D
