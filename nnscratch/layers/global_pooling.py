"""Global pooling over every step or pixel: ``GlobalMaxPool1D``, ``GlobalMaxPool2D``, ``GlobalAvgPool1D``,
``GlobalAvgPool2D``.

Keras's names ``GlobalMaxPooling1D``, ``GlobalMaxPooling2D``, ``GlobalAveragePooling1D`` (and, in
``nnscratch.keras.layers``, ``GlobalAveragePooling2D``) are aliases. ``keepdims=True`` keeps the pooled axes
with size 1.
``data_format="channels_first"`` (Keras's) pools ``(N, C, *spatial)`` over the axes after the channels;
the computation runs on a ``(N, steps or pixels, C)`` view either way.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from .checks import sample_shape_error

DATA_FORMATS = ("channels_last", "channels_first")


class _GlobalPool(Layer):
    """``(N, *spatial, C) -> (N, C)`` (or ``(N, 1, ..., 1, C)`` with ``keepdims``); channels first,
    ``(N, C, *spatial) -> (N, C)`` (or ``(N, C, 1, ..., 1)``)."""

    abstract = True
    per_sample = True
    layout: ClassVar[str]  # the per-sample axes, channels last

    def __init__(self, keepdims: bool = False, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if data_format is not None and data_format not in DATA_FORMATS:
            raise InvalidValueError(f"{type(self).__name__} data_format must be 'channels_last' or 'channels_first'"
                                    f", got {data_format!r}")
        self.data_format = data_format or "channels_last"
        self.keepdims = bool(keepdims)

    @property
    def channels_first(self) -> bool:
        return self.data_format == "channels_first"

    def build(self, input_shape: tuple[int, ...]) -> None:
        axes = self.layout.split(", ")
        if len(input_shape) != len(axes):
            layout = ", ".join([axes[-1], *axes[:-1]]) if self.channels_first else self.layout
            raise sample_shape_error(type(self).__name__, layout, input_shape)
        super().build(input_shape)

    def _flat(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """``x`` as ``(N, steps or pixels, C)`` (a free view); its per-sample shape is kept on ``ctx``."""
        self._ensure_built(x)
        ctx.shape = x.shape[1:]  # (the steps or pixels may vary from call to call: Input(shape=(None, C)))
        c, steps = self._channels(ctx), self._steps(ctx)  # (sizes, not -1: an empty batch reshapes too)
        if self.channels_first:
            return x.reshape(len(x), c, steps).transpose(0, 2, 1)
        return x.reshape(len(x), steps, c)

    def _unflat(self, ctx: Call, dx: np.ndarray) -> np.ndarray:
        """The input gradient ``(N, steps or pixels, C)`` in the input's shape (channels first: a copy)."""
        if self.channels_first:
            return np.ascontiguousarray(dx.transpose(0, 2, 1)).reshape(len(dx), *ctx.shape)
        return dx.reshape(len(dx), *ctx.shape)

    def _channels(self, ctx: Call) -> int:
        return int(ctx.shape[0] if self.channels_first else ctx.shape[-1])

    def _steps(self, ctx: Call) -> int:
        """The steps or pixels of one sample."""
        return math.prod(ctx.shape[1:] if self.channels_first else ctx.shape[:-1])

    def _shaped(self, y: np.ndarray) -> np.ndarray:
        """``(N, C)`` results, with the pooled axes kept as size 1 when ``keepdims``."""
        if not self.keepdims:
            return y
        ones = [1] * (len(self.input_shape) - 1)
        return y.reshape(len(y), y.shape[-1], *ones) if self.channels_first else y.reshape(len(y), *ones, y.shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {"keepdims": self.keepdims, "data_format": self.data_format}


class _GlobalMax(_GlobalPool):
    """Maximum over the steps (pixels); backward routes each gradient to the first arg-max."""

    abstract = True

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        flat = self._flat(ctx, x)
        index = ctx.index = flat.argmax(axis=1)[:, None, :]  # (N, 1, C)
        return self._shaped(np.take_along_axis(flat, index, axis=1)[:, 0])

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        n, c = len(grad_out), self._channels(ctx)
        dx = np.zeros((n, self._steps(ctx), c), grad_out.dtype)
        np.put_along_axis(dx, ctx.index, grad_out.reshape(n, 1, c), axis=1)
        return self._unflat(ctx, dx)


class GlobalMaxPool1D(_GlobalMax):
    """Maximum over the steps: ``(N, L, C) -> (N, C)`` (channels first: ``(N, C, L) -> (N, C)``)."""

    layout = "steps, channels"


class GlobalMaxPool2D(_GlobalMax):
    """Maximum over height and width: ``(N, H, W, C) -> (N, C)`` (channels first: ``(N, C, H, W) -> (N, C)``)."""

    layout = "height, width, channels"


class _GlobalMean(_GlobalPool):
    """Mean over the steps (pixels); with a Keras mask ``(N, steps)``, over the real steps."""

    abstract = True

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        flat = self._flat(ctx, x)
        if ctx.mask is None:
            ctx.weights = None
            return self._shaped(flat.mean(axis=1))
        kept = np.asarray(ctx.mask, x.dtype)  # (N, L): the steps axis, 1 or 2 (channels first) as Keras's
        if kept.shape != flat.shape[:2]:
            raise ShapeError(f"{type(self).__name__} '{self.name}' got a mask of shape {kept.shape} for inputs "
                             f"{x.shape} ({self.data_format}): expected (samples, steps) = {flat.shape[:2]}")
        ctx.weights = weights = kept / np.maximum(kept.sum(axis=1, keepdims=True), 1)  # (N, L): 1/count or 0
        return self._shaped(np.einsum("nl,nlc->nc", weights, flat))

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        n, c, length = len(grad_out), self._channels(ctx), self._steps(ctx)
        g = grad_out.reshape(n, 1, c)
        if ctx.weights is not None:
            return self._unflat(ctx, g * ctx.weights[:, :, None])
        dx = np.empty((n, length, c), grad_out.dtype)
        dx[...] = (g * grad_out.dtype.type(1 / length))
        return self._unflat(ctx, dx)

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        return None



class GlobalAvgPool1D(_GlobalMean):
    """Mean over the steps: ``(N, L, C) -> (N, C)`` (channels first: ``(N, C, L) -> (N, C)``)."""

    layout = "steps, channels"
    supports_masking = True  # the mean of the real steps (a sample of padding alone gives 0); no mask after it


class GlobalAvgPool2D(_GlobalMean):
    """Mean over height and width: ``(N, H, W, C) -> (N, C)`` (channels first: ``(N, C, H, W) -> (N, C)``)."""

    layout = "height, width, channels"
    gains_from_threads = True


GlobalMaxPooling1D = GlobalMaxPool1D
GlobalMaxPooling2D = GlobalMaxPool2D
GlobalAveragePooling1D = GlobalAvgPool1D
