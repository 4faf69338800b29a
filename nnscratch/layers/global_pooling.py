"""Global pooling over every step or pixel: ``GlobalMaxPool1D``, ``GlobalMaxPool2D``, ``GlobalAvgPool1D``.

(``GlobalAvgPool2D`` lives in ``pooling.py``.) Keras's names ``GlobalMaxPooling1D``, ``GlobalMaxPooling2D``
and ``GlobalAveragePooling1D`` are aliases. ``keepdims=True`` keeps the pooled axes with size 1.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..core.call import Call
from ..core.layer import Layer
from .checks import channels_last, sample_shape_error


class _GlobalPool(Layer):
    """``(N, *spatial, C) -> (N, C)`` (or ``(N, 1, ..., 1, C)`` with ``keepdims``)."""

    abstract = True
    per_sample = True
    layout: ClassVar[str]

    def __init__(self, keepdims: bool = False, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) != len(self.layout.split(", ")):
            raise sample_shape_error(type(self).__name__, self.layout, input_shape)
        super().build(input_shape)

    def _flat(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """``x`` as ``(N, steps or pixels, C)`` (a free view); its per-sample shape is kept on ``ctx``."""
        self._ensure_built(x)
        ctx.shape = x.shape[1:]  # (the steps or pixels may vary from call to call: Input(shape=(None, C)))
        return x.reshape(len(x), -1, x.shape[-1])

    def _shaped(self, y: np.ndarray) -> np.ndarray:
        """``(N, C)`` results, with the pooled axes kept as size 1 when ``keepdims``."""
        return y.reshape(len(y), *[1] * (len(self.input_shape) - 1), y.shape[-1]) if self.keepdims else y

    def get_config(self) -> dict[str, Any]:
        return {"keepdims": self.keepdims}


class _GlobalMax(_GlobalPool):
    """Maximum over the steps (pixels); backward routes each gradient to the first arg-max."""

    abstract = True

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        flat = self._flat(ctx, x)
        index = ctx.index = flat.argmax(axis=1)[:, None, :]  # (N, 1, C)
        return self._shaped(np.take_along_axis(flat, index, axis=1)[:, 0])

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        n, c = len(grad_out), ctx.shape[-1]
        dx = np.zeros((n, int(np.prod(ctx.shape[:-1])), c), grad_out.dtype)
        np.put_along_axis(dx, ctx.index, grad_out.reshape(n, 1, c), axis=1)
        return dx.reshape(n, *ctx.shape)


class GlobalMaxPool1D(_GlobalMax):
    """Maximum over the steps: ``(N, L, C) -> (N, C)``."""

    layout = "steps, channels"


class GlobalMaxPool2D(_GlobalMax):
    """Maximum over height and width: ``(N, H, W, C) -> (N, C)``."""

    layout = "height, width, channels"


class GlobalAvgPool1D(_GlobalPool):
    """Mean over the steps: ``(N, L, C) -> (N, C)``."""

    layout = "steps, channels"

    supports_masking = True  # the mean of the real steps (a sample of padding alone gives 0); no mask after it

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        flat = self._flat(ctx, x)
        if ctx.mask is None:
            ctx.weights = None
            return self._shaped(flat.mean(axis=1))
        kept = np.asarray(ctx.mask, x.dtype)  # (N, L)
        ctx.weights = weights = kept / np.maximum(kept.sum(axis=1, keepdims=True), 1)  # (N, L): 1/count or 0
        return self._shaped(np.einsum("nl,nlc->nc", weights, flat))

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        n, (length, c) = len(grad_out), ctx.shape
        g = grad_out.reshape(n, 1, c)
        if ctx.weights is not None:
            return g * ctx.weights[:, :, None]
        dx = np.empty((n, length, c), grad_out.dtype)
        dx[...] = (g * grad_out.dtype.type(1 / length))
        return dx

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        return None


GlobalMaxPooling1D = GlobalMaxPool1D
GlobalMaxPooling2D = GlobalMaxPool2D
GlobalAveragePooling1D = GlobalAvgPool1D
