"""``CenterCrop`` and ``RandomCrop`` (Keras's layers): images cropped to ``(height, width)``.

Images are ``(N, H, W, C)`` (``data_format="channels_last"``, the default) or ``(N, C, H, W)``
(``"channels_first"``). An image at least as large as the target, in both axes, is cropped: ``CenterCrop`` takes
the centred window (top ``(H - height) // 2``, left ``(W - width) // 2``), ``RandomCrop`` in training a window at a
random offset, drawn per sample from ``self.rng`` and gathered for the whole batch at once. Otherwise (and for
``RandomCrop`` at inference, whatever the size) the image goes through Keras's ``smart_resize``: the largest
centred window of the target's aspect ratio is resized bilinearly (aligned pixel centres, no antialiasing, edges
clamped to the window) to ``(height, width)``. A resize is two small matrices, ``R @ image @ C.T`` per channel.

Every path is linear in the image: ``backward`` is its exact adjoint (the crop's gradient scattered back into a
zero image; ``R.T @ g @ C`` for a resize).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from ..core.validation import positive_int
from .augment import uniform_ints

DATA_FORMATS = ("channels_last", "channels_first")


def aspect_window(h: int, w: int, height: int, width: int) -> tuple[int, int, int, int]:
    """``(top, left, rows, columns)``: the largest centred window of an ``h x w`` image with the aspect ratio of
    ``height x width`` (Keras's ``smart_resize``, integer arithmetic and all)."""
    rows = max(min(h, int(w * height / width)), 1)
    cols = max(min(w, int(h * width / height)), 1)
    return (h - rows) // 2, (w - cols) // 2, rows, cols


def bilinear_matrix(size: int, start: int, length: int, total: int, dtype: Any) -> np.ndarray:
    """``(size, total)``: bilinear resampling of ``length`` positions from ``start`` of an axis of ``total`` to
    ``size`` positions (output ``i`` reads ``(i + 0.5) * length / size - 0.5``, clamped to the window)."""
    src = (np.arange(size) + 0.5) * (length / size) - 0.5
    low = np.floor(src)
    frac = src - low
    matrix = np.zeros((size, total))
    rows = np.arange(size)
    for offset, weight in ((low, 1 - frac), (low + 1, frac)):
        np.add.at(matrix, (rows, start + np.clip(offset, 0, length - 1).astype(np.intp)), weight)
    return matrix.astype(dtype)


def resize_matrices(h: int, w: int, height: int, width: int, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """``R (height, h)`` and ``C (width, w)``: Keras's ``smart_resize`` of an ``h x w`` image is ``R @ image @ C.T``."""
    top, left, rows, cols = aspect_window(h, w, height, width)
    return bilinear_matrix(height, top, rows, h, dtype), bilinear_matrix(width, left, cols, w, dtype)


class _Crop(Layer):
    """Shared by both crops: the target size, the layout, the rank check and the resize path."""

    abstract = True
    checks_dtype = False  # no parameters: any float dtype passes through

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        self.height = positive_int(height, f"{name} height")
        self.width = positive_int(width, f"{name} width")
        if data_format is not None and data_format not in DATA_FORMATS:
            raise InvalidValueError(f"{name} data_format must be 'channels_last' or 'channels_first', "
                                    f"got {data_format!r}")
        self.data_format = data_format or "channels_last"

    @property
    def channels_first(self) -> bool:
        return self.data_format == "channels_first"

    def _layout(self) -> str:
        return "channels, height, width" if self.channels_first else "height, width, channels"

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) != 3:
            raise ShapeError(f"{type(self).__name__} expects images of shape (batch, {self._layout()}), "
                             f"got (batch{''.join(f', {d}' for d in input_shape)})")
        super().build(input_shape)

    def _ensure_built(self, x: np.ndarray) -> None:
        if getattr(x, "ndim", None) != 4:
            shape = getattr(x, "shape", None)
            raise ShapeError(f"{type(self).__name__} expects images of shape (batch, {self._layout()}), got "
                             f"{'a ' + type(x).__name__ if shape is None else f'shape {shape}'}")
        super()._ensure_built(x)

    def _size(self, x: np.ndarray) -> tuple[int, int]:
        """The image's ``(H, W)``."""
        return (x.shape[2], x.shape[3]) if self.channels_first else (x.shape[1], x.shape[2])

    def _resize(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """Keras's ``smart_resize`` of the batch to ``(height, width)``."""
        h, w = self._size(x)
        ctx.ws.use(x)
        ctx.matrices = r, c = ctx.ws.memo("resize", lambda: resize_matrices(h, w, self.height, self.width, x.dtype))
        return self._sandwich(x, r, c)

    def _sandwich(self, x: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """``left @ image @ right.T`` for every image and channel of ``x`` (in the layer's layout)."""
        images = x if self.channels_first else x.transpose(0, 3, 1, 2)
        y = np.matmul(np.matmul(left, images), right.T)
        return y if self.channels_first else np.ascontiguousarray(y.transpose(0, 2, 3, 1))

    def _crop(self, x: np.ndarray, top: int, left: int) -> np.ndarray:
        """The window of the target size at ``(top, left)`` of every image."""
        rows, cols = slice(top, top + self.height), slice(left, left + self.width)
        return x[:, :, rows, cols] if self.channels_first else x[:, rows, cols]

    def _backward(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        """The adjoint of the crop (``ctx.window``) or of the resize (``ctx.matrices``) of the call in ``ctx``."""
        if ctx.window is None:
            r, c = ctx.matrices
            return self._sandwich(grad_out, r.T, c.T)
        dx = np.zeros(ctx.shape, grad_out.dtype)
        rows, cols = slice(ctx.window[0], ctx.window[0] + self.height), slice(ctx.window[1], ctx.window[1] + self.width)
        if self.channels_first:
            dx[:, :, rows, cols] = grad_out
        else:
            dx[:, rows, cols] = grad_out
        return dx

    def get_config(self) -> dict[str, Any]:
        return {"height": self.height, "width": self.width, "data_format": self.data_format}


class CenterCrop(_Crop):
    """``(N, H, W, C) -> (N, height, width, C)``: the centred window; an image smaller than the target in either
    axis is resized instead (Keras's ``smart_resize``: the largest centred window of the target's aspect ratio,
    resized bilinearly). Training and inference compute the same."""

    per_sample = True

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        h, w = self._size(x)
        ctx.shape = x.shape
        if h < self.height or w < self.width:
            ctx.window = None
            return self._resize(ctx, x)
        ctx.window = ((h - self.height) // 2, (w - self.width) // 2)
        return self._crop(x, *ctx.window)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return self._backward(ctx, grad_out)


class RandomCrop(_Crop):
    """``(N, H, W, C) -> (N, height, width, C)``: in training, each image's own random window of the target size
    (offsets uniform in ``[0, H - height] x [0, W - width]``); at inference, and in training for an image smaller
    than the target, Keras's ``smart_resize`` (the largest centred window of the target's aspect ratio, resized).

    Keras 3 crops the whole batch at one random offset, and (a known Keras bug, keras-team/keras#21868) returns
    its input unchanged at inference; nnscratch draws one offset per sample and resizes at inference as Keras
    documents. ``seed``: a generator of the layer's own (``Layer.use_seed``).
    """

    def __init__(self, height: int, width: int, seed: Any = None, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(height, width, data_format, **kwargs)
        self.use_seed(seed)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        h, w = self._size(x)
        ctx.shape, ctx.window, ctx.index = x.shape, None, None
        if not ctx.training or h < self.height or w < self.width:
            return self._resize(ctx, x)
        if (h, w) == (self.height, self.width):
            ctx.window = (0, 0)  # the one window there is
            return x
        n = len(x)
        top = uniform_ints(self.rng, 0, h - self.height, n)
        left = uniform_ints(self.rng, 0, w - self.width, n)
        rows = top[:, None] + np.arange(self.height)  # (N, height): each sample's rows
        cols = left[:, None] + np.arange(self.width)
        if self.channels_first:  # flat position of every output value, (N*C*height*width,)
            planes = np.arange(n * x.shape[1]).reshape(n, -1)[:, :, None, None] * (h * w)
            ctx.index = (planes + rows[:, None, :, None] * w + cols[:, None, None, :]).reshape(-1)
            return np.take(x.reshape(-1), ctx.index).reshape(n, x.shape[1], self.height, self.width)
        # flat pixel of every output pixel, (N*height*width,): one np.take of whole pixels (C values each)
        ctx.index = ((np.arange(n)[:, None, None] * h + rows[:, :, None]) * w + cols[:, None, :]).reshape(-1)
        return np.take(x.reshape(-1, x.shape[3]), ctx.index, axis=0).reshape(n, self.height, self.width, x.shape[3])

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        if ctx.index is None:
            return self._backward(ctx, grad_out)
        # every input value is read at most once: the adjoint is a plain scatter
        if self.channels_first:
            dx = np.zeros(int(np.prod(ctx.shape)), grad_out.dtype)
            dx[ctx.index] = grad_out.reshape(-1)
        else:
            dx = np.zeros((int(np.prod(ctx.shape[:3])), ctx.shape[3]), grad_out.dtype)
            dx[ctx.index] = grad_out.reshape(-1, ctx.shape[3])
        return dx.reshape(ctx.shape)
