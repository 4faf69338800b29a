"""``UpSampling1D``, ``ZeroPadding1D`` and ``Cropping1D``: change the length of channels-last sequences.

A sequence is ``(N, L, C)``. Each layer reads ``L`` from its input at every call and keeps what its backward
needs on the call's record, so a model built from ``Input(shape=(None, C))`` takes any length (Keras 3's
semantics: ``ops.repeat(x, size, axis=1)``, zero steps added, steps removed at the two ends).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from .checks import channels_last, sample_shape_error, single


def _ends(value: Any, name: str, ends: str) -> tuple[int, int]:
    """``(first, last)`` integers >= 0 from ``n`` (both ends) or a pair; ``ends`` names the pair in errors."""
    def ok(v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 0

    if ok(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(ok(v) for v in value):
        return int(value[0]), int(value[1])
    raise InvalidValueError(f"{name} must be an integer >= 0 or a pair {ends} of them, got {value!r}")


def _check_rank(layer: str, input_shape: tuple[int | None, ...]) -> None:
    if len(input_shape) != 2:
        raise sample_shape_error(layer, "steps, channels", input_shape)


class UpSampling1D(Layer):
    """Repeat every step ``size`` times: ``(N, L, C) -> (N, L*size, C)``.

    Forward is one broadcast copy; backward sums the gradients of each step's ``size`` copies.
    """

    per_sample = True
    gains_from_threads = True
    checks_dtype = False  # no parameters: any dtype passes through

    def __init__(self, size: int | tuple[int] | list[int] = 2, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "UpSampling1D")
        self.size = single(size, "UpSampling1D size")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _check_rank("UpSampling1D", input_shape)
        super().build(input_shape)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        n, length, c = x.shape
        ctx.length = length
        y = np.empty((n, length, self.size, c), x.dtype)
        y[...] = x[:, :, None, :]
        return y.reshape(n, length * self.size, c)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        n, _, c = grad_out.shape
        return grad_out.reshape(n, ctx.length, self.size, c).sum(axis=2)

    def get_config(self) -> dict[str, Any]:
        return {"size": self.size}


class ZeroPadding1D(Layer):
    """Add zero steps: ``(N, L, C) -> (N, before + L + after, C)``.

    ``padding``: ``n`` (both ends) or ``(before, after)``. Backward slices the gradient of the input's steps.
    """

    per_sample = True
    checks_dtype = False

    def __init__(self, padding: int | tuple[int, int] | list[int] = 1, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "ZeroPadding1D")
        self.padding = _ends(padding, "ZeroPadding1D padding", "(before, after)")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _check_rank("ZeroPadding1D", input_shape)
        super().build(input_shape)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        (before, after), (n, length, c) = self.padding, x.shape
        ctx.length = length
        y = np.zeros((n, before + length + after, c), x.dtype)
        y[:, before:before + length] = x
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        before = self.padding[0]
        return grad_out[:, before:before + ctx.length]

    def get_config(self) -> dict[str, Any]:
        return {"padding": list(self.padding)}


class Cropping1D(Layer):
    """Remove steps at the ends: ``(N, L, C) -> (N, L - start - end, C)``; at least one step must remain.

    ``cropping``: ``n`` (both ends) or ``(start, end)``. Backward puts the gradient back in place, zeros for
    the removed steps.
    """

    per_sample = True
    checks_dtype = False

    def __init__(self, cropping: int | tuple[int, int] | list[int] = (1, 1), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "Cropping1D")
        self.cropping = _ends(cropping, "Cropping1D cropping", "(start, end)")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _check_rank("Cropping1D", input_shape)
        if input_shape[0] is not None:  # (a variable length is checked at each call)
            self._check_length(tuple(input_shape))
        super().build(input_shape)

    def _check_length(self, sample_shape: tuple[int | None, ...]) -> None:
        start, end = self.cropping
        length = sample_shape[0]
        if length is not None and start + end >= length:
            raise ShapeError(f"{self.name} (Cropping1D) cropping {self.cropping} removes every step of inputs of "
                             f"shape (batch, {', '.join(map(str, sample_shape))}); expected fewer than "
                             f"{length} steps cropped in all")

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        self._check_length(x.shape[1:])
        start, end = self.cropping
        length = ctx.length = x.shape[1]
        return x[:, start:length - end]

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        start, end = self.cropping
        n, _, c = grad_out.shape
        dx = np.zeros((n, ctx.length, c), grad_out.dtype)
        dx[:, start:ctx.length - end] = grad_out
        return dx

    def get_config(self) -> dict[str, Any]:
        return {"cropping": list(self.cropping)}
