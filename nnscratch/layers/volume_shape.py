"""``UpSampling3D``, ``ZeroPadding3D`` and ``Cropping3D``: change the depth, height and width of channels-last
volumes ``(N, D, H, W, C)`` (the 3-D U-Net's companions of ``Conv3D``).

Each layer reads ``D``, ``H`` and ``W`` from its input at every call and keeps what its backward needs on the
call's record, so a model built from ``Input(shape=(None, H, W, C))`` (or any of the three axes variable) takes
volumes of any size there. Keras 3's semantics: ``UpSampling3D`` repeats every voxel (nearest neighbour, no
``interpolation`` argument), ``ZeroPadding3D`` adds zero slices, ``Cropping3D`` removes slices at the borders.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from .checks import channels_last, sample_shape_error
from .im2col3d import LAYOUT, Pads3, Triple, triple

AXES = ("depth", "height", "width")


def side_triples(value: Any, name: str) -> Pads3:
    """``((front, back), (top, bottom), (left, right))`` integers >= 0 from ``n`` (every side), ``(d, h, w)``
    (the same amount at both ends of each axis) or the three pairs themselves."""
    def ok(v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 0

    def pair(v: Any) -> bool:
        return isinstance(v, (tuple, list)) and len(v) == 2 and all(ok(u) for u in v)

    if ok(value):
        return (int(value), int(value)), (int(value), int(value)), (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 3:
        if all(ok(v) for v in value):
            d, h, w = (int(v) for v in value)
            return (d, d), (h, h), (w, w)
        if all(pair(v) for v in value):
            pairs = [(int(v[0]), int(v[1])) for v in value]
            return pairs[0], pairs[1], pairs[2]
    raise InvalidValueError(f"{name} must be an integer >= 0, three of them (depth, height, width), or "
                            f"((front, back), (top, bottom), (left, right)), got {value!r}")


def _check_rank(layer: str, input_shape: tuple[int | None, ...]) -> None:
    if len(input_shape) != 4:
        raise sample_shape_error(layer, LAYOUT, input_shape)


def _volume(x: np.ndarray) -> Triple:
    """``(D, H, W)`` of the batch of volumes ``x``."""
    return int(x.shape[1]), int(x.shape[2]), int(x.shape[3])


class UpSampling3D(Layer):
    """Nearest-neighbour upsampling: ``(N, D, H, W, C) -> (N, D*sd, H*sh, W*sw, C)`` for ``size = (sd, sh, sw)``.

    ``size``: one int (every axis) or three. Forward is one broadcast copy; backward sums each ``sd x sh x sw``
    block of the output gradient.
    """

    per_sample = True
    gains_from_threads = True
    checks_dtype = False  # no parameters: any dtype passes through

    def __init__(self, size: int | tuple[int, int, int] | list[int] = (2, 2, 2), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "UpSampling3D")
        self.size = triple(size, "UpSampling3D size")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _check_rank("UpSampling3D", input_shape)
        super().build(input_shape)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        (d, h, w), (sd, sh, sw) = _volume(x), self.size
        n, c = x.shape[0], x.shape[4]
        ctx.input_dhw = (d, h, w)
        y = np.empty((n, d, sd, h, sh, w, sw, c), x.dtype)
        y[...] = x[:, :, None, :, None, :, None, :]
        return y.reshape(n, d * sd, h * sh, w * sw, c)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        (d, h, w), (sd, sh, sw) = ctx.input_dhw, self.size
        n, c = grad_out.shape[0], grad_out.shape[4]
        return grad_out.reshape(n, d, sd, h, sh, w, sw, c).sum(axis=(2, 4, 6))

    def get_config(self) -> dict[str, Any]:
        return {"size": list(self.size)}


class ZeroPadding3D(Layer):
    """``(N, D, H, W, C) -> (N, D + front + back, H + top + bottom, W + left + right, C)``, the new border zero.

    ``padding``: ``n`` (every side), ``(d, h, w)`` (both ends of each axis) or
    ``((front, back), (top, bottom), (left, right))``. Backward slices the gradient of the input's voxels.
    """

    per_sample = True
    checks_dtype = False

    def __init__(self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "ZeroPadding3D")
        self.padding = side_triples(padding, "ZeroPadding3D padding")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _check_rank("ZeroPadding3D", input_shape)
        super().build(input_shape)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        d, h, w = ctx.input_dhw = _volume(x)
        (front, back), (top, bottom), (left, right) = self.padding
        y = np.zeros((x.shape[0], front + d + back, top + h + bottom, left + w + right, x.shape[4]), x.dtype)
        y[:, front:front + d, top:top + h, left:left + w] = x
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        (d, h, w), ((front, _), (top, _), (left, _)) = ctx.input_dhw, self.padding
        return grad_out[:, front:front + d, top:top + h, left:left + w]

    def get_config(self) -> dict[str, Any]:
        return {"padding": [list(p) for p in self.padding]}


class Cropping3D(Layer):
    """``(N, D, H, W, C) -> (N, D - front - back, H - top - bottom, W - left - right, C)``.

    ``cropping``: ``n`` (every side), ``(d, h, w)`` (both ends of each axis) or
    ``((front, back), (top, bottom), (left, right))``. Backward puts the gradient back in place, zeros at the
    border. Cropping that removes a whole axis is a ``ShapeError`` when the model is put together (a fixed axis)
    or at the call (a variable one).
    """

    per_sample = True
    checks_dtype = False

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "Cropping3D")
        self.cropping = side_triples(cropping, "Cropping3D cropping")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _check_rank("Cropping3D", input_shape)
        self._cropped(tuple(input_shape))  # (variable axes are checked at each call)
        super().build(input_shape)

    def _cropped(self, sample_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """The ``(D, H, W)`` left of per-sample ``sample_shape`` (``None`` where it varies); ``ShapeError`` when
        the cropping removes every slice along an axis."""
        out = tuple(None if size is None else size - a - b for size, (a, b) in zip(sample_shape[:3], self.cropping))
        for axis, (size, left) in enumerate(zip(sample_shape, out)):
            if left is not None and left < 1:
                a, b = self.cropping[axis]
                raise ShapeError(f"{self.name} (Cropping3D) cropping {self.cropping} removes the whole {AXES[axis]} "
                                 f"of inputs of shape (batch, {', '.join(map(str, sample_shape))}): {a} + {b} "
                                 f"cropped of {size}; expected fewer than {size}")
        return out

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        self._cropped(x.shape[1:])
        d, h, w = ctx.input_dhw = _volume(x)
        (front, back), (top, bottom), (left, right) = self.cropping
        return x[:, front:d - back, top:h - bottom, left:w - right]

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        (d, h, w), ((front, back), (top, bottom), (left, right)) = ctx.input_dhw, self.cropping
        dx = np.zeros((grad_out.shape[0], d, h, w, grad_out.shape[4]), grad_out.dtype)
        dx[:, front:d - back, top:h - bottom, left:w - right] = grad_out
        return dx

    def get_config(self) -> dict[str, Any]:
        return {"cropping": [list(p) for p in self.cropping]}
