"""Image layers whose height and width may vary from call to call (``Input(shape=(None, None, C))``).

A window layer (convolution, pooling, cropping) derives its pads, output size and fast-path choices from its
input's height and width. Built for a fixed size, it computes them once and keeps them public (``pads``,
``output_shape``). Built with ``None`` there, it computes them at call time, once per size (``PerSize``), and
its ``output_shape`` has ``None`` on the axes whose size follows the input's: a fully convolutional network
takes images of any size, one size per batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from ..core.errors import ShapeError
from .im2col import Padding, Pair, conv_geometry, output_size, pad_amounts

T = TypeVar("T")

# Sizes a layer keeps plans for; the oldest is dropped beyond (a plan is a few numbers, but inputs of ever new
# sizes must not grow it without bound).
MAX_SIZES = 32


class PerSize(Generic[T]):
    """``make(hw)`` for inputs of height and width ``hw``, computed on the first call with that size and kept
    (the last ``MAX_SIZES`` sizes)."""

    def __init__(self, make: Callable[[Pair], T]) -> None:
        self._make = make
        self._plans: dict[Pair, T] = {}

    def __call__(self, hw: Pair) -> T:
        plan = self._plans.get(hw)
        if plan is None:
            plan = self._make(hw)
            if len(self._plans) >= MAX_SIZES:
                self._plans.pop(next(iter(self._plans)), None)
            self._plans[hw] = plan
        return plan


def image_axes(layer: str, input_shape: tuple[int | None, ...]) -> tuple[int | None, int | None, int]:
    """``(H, W, C)`` of a per-sample image shape whose height and width may be ``None``; ``ShapeError`` for
    another rank or a variable number of channels."""
    if len(input_shape) != 3:
        raise ShapeError(f"{layer} expects images of shape (batch, height, width, channels), "
                         f"got (batch, {', '.join(map(str, input_shape))})")
    h, w, c = input_shape
    if c is None:
        raise ShapeError(f"{layer} needs a fixed number of channels (the last axis), got (batch, {h}, {w}, None)")
    return h, w, c


def fixed_size(input_shape: tuple[int | None, ...]) -> Pair | None:
    """``(H, W)`` of a per-sample image shape, or ``None`` when either may vary."""
    h, w = input_shape[0], input_shape[1]
    return None if h is None or w is None else (h, w)


def window_output(layer: str, input_shape: tuple[int | None, ...], kernel: Pair, stride: Pair, dilation: Pair,
                  padding: Padding) -> tuple[int | None, int | None]:
    """``(OH, OW)`` of a window layer for per-sample ``(H, W, C)``, ``None`` along a variable axis;
    ``ShapeError`` where a fixed axis is shorter than the window."""
    h, w, c = image_axes(layer, input_shape)
    if h is not None and w is not None:
        return conv_geometry(layer, (h, w, c), kernel, stride, dilation, padding)[1]
    out: list[int | None] = []
    for axis, (size, what) in enumerate(((h, "rows"), (w, "columns"))):
        if size is None:
            out.append(None)
            continue
        pads = pad_amounts(padding, (size, size), kernel, stride, dilation)[axis]
        n = output_size(size, kernel[axis], stride[axis], dilation[axis], pads)
        if n < 1:
            span = dilation[axis] * (kernel[axis] - 1) + 1
            raise ShapeError(f"{layer} window spans {span} {what}, more than its (padded) input's {size + sum(pads)} "
                             f"(input shape (batch, {h}, {w}, {c}))")
        out.append(n)
    return out[0], out[1]
