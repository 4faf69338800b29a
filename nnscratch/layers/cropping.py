"""``Cropping2D`` and ``ZeroPadding2D``: remove or add rows and columns at the borders of channels-last images."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import ShapeError
from ..core.layer import Layer
from .checks import channels_last, sample_shape_error, side_pairs


class Cropping2D(Layer):
    """``(N, H, W, C) -> (N, H - top - bottom, W - left - right, C)``.

    ``cropping``: ``n`` (every side), ``(h, w)`` (``h`` rows top and bottom, ``w`` columns left and right) or
    ``((top, bottom), (left, right))``. Backward puts the gradient back in place, zeros at the border. The height
    and width may vary from call to call (``Input(shape=(None, None, C))``): an input too small to crop is a
    ``ShapeError`` when the model is put together (a fixed axis) or at the call (a variable one).
    """

    per_sample = True
    checks_dtype = False

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "Cropping2D")
        self.cropping = side_pairs(cropping, "Cropping2D cropping")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 3:
            raise sample_shape_error("Cropping2D", "height, width, channels", input_shape)
        h, w, c = input_shape
        out = self._cropped((h, w), input_shape)
        super().build(input_shape)
        self.output_shape = (*out, c)

    def _cropped(self, hw: tuple[int | None, int | None],
                 input_shape: tuple[int | None, ...]) -> tuple[int | None, int | None]:
        """The ``(height, width)`` left of ``hw`` (``None`` where it varies); ``ShapeError`` when cropping removes
        every row or column of inputs of per-sample ``input_shape``."""
        (top, bottom), (left, right) = self.cropping
        out = (None if hw[0] is None else hw[0] - top - bottom, None if hw[1] is None else hw[1] - left - right)
        if any(size is not None and size < 1 for size in out):
            raise ShapeError(f"Cropping2D cropping {self.cropping} removes every row or column of inputs of shape "
                             f"(batch, {', '.join(map(str, input_shape))}); expected less than the height and width")
        return out

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        (top, _), (left, _) = self.cropping
        h, w = ctx.input_hw = x.shape[1], x.shape[2]
        oh, ow = self._cropped((h, w), x.shape[1:])
        assert oh is not None and ow is not None  # (sizes of an array)
        return x[:, top:top + oh, left:left + ow]

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        (top, _), (left, _) = self.cropping
        n, oh, ow, c = grad_out.shape
        dx = np.zeros((n, *ctx.input_hw, c), grad_out.dtype)
        dx[:, top:top + oh, left:left + ow] = grad_out
        return dx

    def get_config(self) -> dict[str, Any]:
        return {"cropping": [list(p) for p in self.cropping]}


class ZeroPadding2D(Layer):
    """``(N, H, W, C) -> (N, H + top + bottom, W + left + right, C)``, the new border zero.

    ``padding``: ``n`` (every side), ``(h, w)`` (``h`` rows top and bottom, ``w`` columns left and right) or
    ``((top, bottom), (left, right))``. Backward crops the gradient.
    """

    per_sample = True
    checks_dtype = False

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "ZeroPadding2D")
        self.padding = side_pairs(padding, "ZeroPadding2D padding")

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) != 3:
            raise sample_shape_error("ZeroPadding2D", "height, width, channels", input_shape)
        super().build(input_shape)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        (top, bottom), (left, right) = self.padding
        n, h, w, c = x.shape
        y = np.zeros((n, h + top + bottom, w + left + right, c), x.dtype)
        y[:, top:top + h, left:left + w] = x
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        (top, _), (left, _) = self.padding
        h, w, _ = self.input_shape
        return grad_out[:, top:top + h, left:left + w]

    def get_config(self) -> dict[str, Any]:
        return {"padding": [list(p) for p in self.padding]}
