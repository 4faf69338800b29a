"""Data augmentation as layers: ``RandomFlip`` and ``RandomShift`` for channels-last images ``(N, H, W, C)``.

Like Keras' preprocessing layers they act only in training (``forward(x, training=True)``) and are the
identity at inference, so a saved model can keep them. Each draws from ``self.rng`` (the model's shared
generator, see ``Layer.set_rng``, or its own with ``seed=``), one draw per sample, and transforms the whole
batch with one vectorized operation (a boolean mask with ``np.where``, or fancy indexing with per-sample
index arrays): there is no Python loop over samples or pixels.

Both are linear maps of their input, and ``backward`` applies the exact adjoint of the map that the last
training ``forward`` drew, so they pass gradient checks and can sit anywhere in a network (not only first).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..core.layer import Layer
from .im2col import pair
from .warp import adjoint_taps

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
FILL_MODES = ("reflect", "constant", "nearest")


def uniform_ints(rng: np.random.Generator | np.random.RandomState, low: int, high: int, n: int) -> np.ndarray:
    """``n`` integers uniform in ``[low, high]`` (inclusive); works with a Generator and a RandomState."""
    return low + np.minimum((rng.random(n) * (high - low + 1)).astype(np.int64), high - low)


class Augmentation(Layer):
    """Base of the augmentation layers: 4-D float input ``(N, H, W, C)``; any float dtype is accepted (no
    parameters); ``seed``: a generator of the layer's own (``Layer.use_seed``)."""

    abstract = True
    checks_dtype = False

    def __init__(self, seed: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.use_seed(seed)

    def _ensure_built(self, x: np.ndarray) -> None:
        ndim = getattr(x, "ndim", None)
        if ndim != 4:
            shape = getattr(x, "shape", None)
            raise ShapeError(f"{type(self).__name__} expects images of shape (batch, height, width, channels), "
                             f"got {'a ' + type(x).__name__ if shape is None else f'shape {shape}'}")
        super()._ensure_built(x)


class RandomFlip(Augmentation):
    """Mirror each image with probability 1/2 during training; identity at inference.

    ``mode``: ``"horizontal"`` (left-right, the width axis), ``"vertical"`` (up-down, the height axis) or
    ``"horizontal_and_vertical"`` (each axis decided independently).
    """

    def __init__(self, mode: str = "horizontal", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(mode, str):
            raise InvalidTypeError(f"RandomFlip mode must be one of {', '.join(map(repr, FLIP_MODES))}, got {mode!r}")
        if mode not in FLIP_MODES:
            raise InvalidValueError(f"RandomFlip mode must be one of {', '.join(map(repr, FLIP_MODES))}, got {mode!r}")
        self.mode = mode

    @staticmethod
    def _apply(x: np.ndarray, masks: list[tuple[int, np.ndarray]]) -> np.ndarray:
        for axis, mask in masks:
            chosen = np.flatnonzero(mask)
            out = x.copy()  # then only the chosen samples are rewritten (faster than np.where over all)
            out[chosen] = x[chosen, :, ::-1] if axis == 2 else x[chosen, ::-1]
            x = out
        return x

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        ctx.masks = []  # (axis, which samples were flipped)
        if not ctx.training:
            return x
        axes = {"horizontal": (2,), "vertical": (1,), "horizontal_and_vertical": (1, 2)}[self.mode]
        ctx.masks = [(axis, self.rng.random(len(x)) < 0.5) for axis in axes]
        return self._apply(x, ctx.masks)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        # A flip is its own inverse and its own transpose: flip the same samples back, axes in reverse order.
        return self._apply(grad_out, ctx.masks[::-1]) if ctx.masks else grad_out

    def get_config(self) -> dict[str, Any]:
        return {"mode": self.mode}


class RandomShift(Augmentation):
    """Translate each image by a random whole number of pixels during training; identity at inference.

    Each sample gets its own offsets ``dy, dx``, uniform in ``[-max_shift, max_shift]`` (``max_shift`` is
    an int or ``(max_dy, max_dx)``; 0 disables that axis): ``out[n, i, j] = x[n, i - dy, j - dx]``. The
    pixels that come in from outside are filled by ``fill_mode``: ``"reflect"`` (mirror without repeating
    the edge, like ``np.pad(mode="reflect")``; the default), ``"constant"`` (zeros) or ``"nearest"`` (the
    edge pixel repeated). This is the same as padding by ``max_shift`` and taking a random crop of the
    original size. The content moves by at most ``max_shift`` pixels along each axis.

    ``backward`` is the exact adjoint: each output gradient is added to the input pixel it was read from
    (several, for reflected or repeated pixels; none, for zero fill).
    """

    def __init__(self, max_shift: int | tuple[int, int] | list[int] = 4, fill_mode: str = "reflect",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_shift = pair(max_shift, "RandomShift max_shift", minimum=0)
        if not isinstance(fill_mode, str) or fill_mode not in FILL_MODES:
            raise InvalidValueError(f"RandomShift fill_mode must be one of {', '.join(map(repr, FILL_MODES))}, "
                                    f"got {fill_mode!r}")
        self.fill_mode = fill_mode

    def build(self, input_shape: tuple[int, ...]) -> None:
        h, w = input_shape[0], input_shape[1]
        if self.fill_mode == "reflect" and (self.max_shift[0] >= h or self.max_shift[1] >= w):
            raise ShapeError(f"RandomShift max_shift {self.max_shift} with fill_mode 'reflect' needs images larger "
                             f"than the shift (height > {self.max_shift[0]}, width > {self.max_shift[1]}), "
                             f"got (batch, {', '.join(map(str, input_shape))})")
        super().build(input_shape)

    def _source(self, size: int, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-sample source index ``(N, size)`` for output positions ``0..size-1`` and a validity mask."""
        src = np.arange(size)[None, :] - shift[:, None]
        if self.fill_mode == "reflect":
            src = np.abs(src)  # one reflection suffices: |shift| < size (checked in build)
            return np.where(src > size - 1, 2 * (size - 1) - src, src), None
        valid = (src >= 0) & (src < size)
        src = np.clip(src, 0, size - 1)
        return src, (valid if self.fill_mode == "constant" else None)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        ctx.index = None
        if not ctx.training or self.max_shift == (0, 0):
            return x
        n, h, w, _ = x.shape
        dy = uniform_ints(self.rng, -self.max_shift[0], self.max_shift[0], n)
        dx = uniform_ints(self.rng, -self.max_shift[1], self.max_shift[1], n)
        rows, row_ok = self._source(h, dy)
        cols, col_ok = self._source(w, dx)
        # flat number of the source pixel of every output pixel, (N*H*W,)
        pixel = ((np.arange(n)[:, None, None] * h + rows[:, :, None]) * w + cols[:, None, :]).reshape(-1)
        valid = None if row_ok is None or col_ok is None else (row_ok[:, :, None] & col_ok[:, None, :])[..., None]
        ctx.index = (pixel, valid)
        # one np.take of whole pixels (C values each): several times faster than fancy indexing by (n, i, j)
        out = np.take(x.reshape(-1, x.shape[3]), pixel, axis=0, mode="clip").reshape(x.shape)
        return out if valid is None else out * valid

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        if ctx.index is None:
            return grad_out
        pixel, valid = ctx.index
        # each output gradient goes back to the input pixel it was read from (zero-filled pixels: nowhere)
        weight = np.ones(pixel.size, grad_out.dtype) if valid is None else valid.reshape(-1).astype(grad_out.dtype)
        return adjoint_taps(grad_out, [(pixel, weight)], grad_out.shape)

    def get_config(self) -> dict[str, Any]:
        return {"max_shift": list(self.max_shift), "fill_mode": self.fill_mode}
