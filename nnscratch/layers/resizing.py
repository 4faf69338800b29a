"""``Resizing``: channels-last images ``(N, H, W, C)`` resampled to ``(N, height, width, C)`` (Keras's layer).

Pixel centres are aligned (the "half-pixel" convention of ``tf.image.resize`` and ONNX ``Resize``): output
pixel ``i`` reads the input at ``(i + 0.5) * H / height - 0.5``, bilinear between the two nearest rows (the
edge row beyond the border) or the nearest one. No antialiasing, as in Keras by default. With
``crop_to_aspect_ratio`` the largest centred window of the target's aspect ratio is resized, so nothing is
stretched. The map is fixed and linear: ``backward`` is its exact adjoint (``warp.adjoint_taps``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError
from ..core.layer import Layer
from ..core.validation import positive_int
from .checks import channels_last, sample_shape_error
from .warp import adjoint_taps, sample_taps


class Resizing(Layer):
    """Resize images to ``(height, width)`` with ``"bilinear"`` or ``"nearest"`` interpolation."""

    per_sample = True
    checks_dtype = False  # no parameters: any float dtype passes through

    def __init__(self, height: int, width: int, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "Resizing")
        self.height, self.width = positive_int(height, "Resizing height"), positive_int(width, "Resizing width")
        if interpolation not in ("bilinear", "nearest"):
            raise InvalidValueError(f"Resizing interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
        self.interpolation, self.crop_to_aspect_ratio = interpolation, bool(crop_to_aspect_ratio)

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) != 3:
            raise sample_shape_error("Resizing", "height, width, channels", input_shape)
        super().build(input_shape)

    def window(self, h: int, w: int) -> tuple[int, int, int, int]:
        """``(top, left, rows, columns)`` of the input that is resized (all of it unless cropping)."""
        if not self.crop_to_aspect_ratio:
            return 0, 0, h, w
        rows = max(min(h, int(w * self.height / self.width)), 1)
        cols = max(min(w, int(h * self.width / self.height)), 1)
        return (h - rows) // 2, (w - cols) // 2, rows, cols

    def _taps(self, h: int, w: int, dtype: np.dtype) -> Any:
        """The taps of one image (every image of the batch has the same)."""
        top, left, rows, cols = self.window(h, w)
        # pixel centres aligned, clamped to the window's edge pixels (tf.image.resize of the cropped window)
        i = np.clip((np.arange(self.height) + 0.5) * (rows / self.height) - 0.5, 0, rows - 1) + top
        j = np.clip((np.arange(self.width) + 0.5) * (cols / self.width) - 0.5, 0, cols - 1) + left
        ys = np.broadcast_to(i[None, :, None], (1, self.height, self.width)).astype(dtype)
        xs = np.broadcast_to(j[None, None, :], (1, self.height, self.width)).astype(dtype)
        return sample_taps(ys, xs, h, w, "nearest", self.interpolation)[0]

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        n, h, w, c = x.shape
        ctx.ws.use(x)
        ctx.taps = taps = ctx.ws.memo("taps", lambda: self._taps(h, w, x.dtype))  # kept while the shape holds
        pixels = x.reshape(n, h * w, c)
        out = np.zeros((n, self.height * self.width, c), x.dtype)
        for index, weight in taps:  # each image reads the same pixels
            out += np.take(pixels, index, axis=1) * weight.astype(x.dtype, copy=False)[:, None]
        return out.reshape(n, self.height, self.width, c)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        assert self.input_shape is not None  # built by forward
        n, (h, w, _) = len(grad_out), self.input_shape
        first = (np.arange(n) * (h * w))[:, None]  # the taps of every image of the batch, for the one scatter
        taps = [((first + index).reshape(-1), np.tile(weight, n)) for index, weight in ctx.taps]
        return adjoint_taps(grad_out, taps, (n, *self.input_shape))

    def get_config(self) -> dict[str, Any]:
        return {"height": self.height, "width": self.width, "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio}
