"""Pooling of channels-last volumes ``(N, D, H, W, C)``: ``MaxPool3D``, ``AvgPool3D`` and the global
``GlobalMaxPool3D``, ``GlobalAvgPool3D``.

Keras's names ``MaxPooling3D``, ``AveragePooling3D``, ``GlobalMaxPooling3D`` and ``GlobalAveragePooling3D`` are
aliases. The window layers visit the ``KD*KH*KW`` window offsets with one vectorized operation each on a strided
view of the (padded) input, as ``MaxPool2D`` and ``AvgPool2D`` do; there is no loop over samples or voxels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.layer import Layer
from .checks import channels_last, valid_or_same
from .global_pooling import _GlobalMax, _GlobalMean
from .im2col3d import (
    Pads3,
    Triple,
    offsets,
    padded_shape,
    padded_volume,
    triple,
    unpadded,
    volume_axes,
    volume_geometry,
    volume_output,
    volume_windows,
)

ONES = (1, 1, 1)


@dataclass(frozen=True)
class Pool3DPlan:
    """Where a call's windows lie for inputs of one size: input and output ``(D, H, W)`` and the pads."""

    input_size: Triple
    output_size: Triple
    pads: Pads3


class _Pool3D(Layer):
    """Shared set-up: ``(N, D, H, W, C) -> (N, OD, OH, OW, C)`` with windows ``pool_size`` moved by ``strides``
    (default: ``pool_size``). ``padding`` is ``"valid"`` or ``"same"`` (TensorFlow's rule, the extra pad cell at
    the end of each axis); padded cells never win a max and are not counted in an average."""

    abstract = True
    per_sample = True
    gains_from_threads = True

    def __init__(self, pool_size: int | tuple[int, int, int] | list[int] = 2,
                 strides: int | tuple[int, int, int] | list[int] | None = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        channels_last(data_format, name)
        self.pool_size = triple(pool_size, f"{name} pool_size")
        self.strides = self.pool_size if strides is None else triple(strides, f"{name} strides")
        self.padding = valid_or_same(padding, name)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        name = type(self).__name__
        _, _, _, c = volume_axes(name, input_shape)
        out = volume_output(name, input_shape, self.pool_size, self.strides, ONES, self.padding)
        super().build(input_shape)
        self.output_shape = (*out, c)
        # Windows that share input cells need their gradients added; disjoint ones can be written.
        self._overlap = any(s < k for s, k in zip(self.strides, self.pool_size))
        fixed = None not in input_shape[:3]
        self.pads = volume_geometry(name, input_shape, self.pool_size, self.strides, ONES, self.padding)[0] \
            if fixed else None  # (None: they follow the input's size)

    def _windows(self, ctx: Call, x: np.ndarray, fill: float) -> np.ndarray:
        """Forward: ``x`` (padded with ``fill`` in a reused buffer if needed) as windows
        ``(N, OD, OH, OW, KD, KH, KW, C)``; sets ``ctx.plan``."""
        self._ensure_built(x)
        ctx.ws.use(x)
        pads, out = volume_geometry(type(self).__name__, x.shape[1:], self.pool_size, self.strides, ONES,
                                    self.padding)
        plan = ctx.plan = Pool3DPlan(x.shape[1:4], out, pads)
        xp = padded_volume(ctx.ws, x, pads, "xp", fill)
        return volume_windows(xp, self.pool_size, self.strides, ONES, plan.output_size)

    def _grad_windows(self, ctx: Call, n: int, c: int) -> tuple[np.ndarray, np.ndarray]:
        """Backward: a zeroed padded input gradient and its writeable windows view."""
        plan = ctx.plan
        dxp = ctx.ws.get("dxp", padded_shape(n, plan.input_size, plan.pads, c))
        dxp.fill(0)
        return dxp, volume_windows(dxp, self.pool_size, self.strides, ONES, plan.output_size, writeable=True)

    def get_config(self) -> dict[str, Any]:
        return {"pool_size": list(self.pool_size), "strides": list(self.strides), "padding": self.padding}


class MaxPool3D(_Pool3D):
    """Maximum over each ``(KD, KH, KW)`` window. Backward routes each output gradient to the window's arg-max,
    the first (in row-major window order) when several inputs tie."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        win = self._windows(ctx, x, -np.inf)
        ws = ctx.ws
        cells = offsets(self.pool_size)
        y = win[:, :, :, :, 0, 0, 0].copy()
        idx_type = np.min_scalar_type(len(cells) - 1)
        argmax = ctx.argmax = ws.get("argmax", y.shape, dtype=idx_type)
        argmax.fill(0)
        better = ws.get("mask", y.shape, dtype=np.bool_)
        previous = ws.get("previous", y.shape)
        for index, (i, j, k) in enumerate(cells[1:], start=1):
            np.copyto(previous, y)
            np.maximum(y, win[:, :, :, :, i, j, k], out=y)
            np.greater(y, previous, out=better)  # strictly greater: ties keep the earlier offset
            argmax[better] = index
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        dxp, dwin = self._grad_windows(ctx, len(grad_out), grad_out.shape[4])
        chosen = ctx.ws.get("chosen", grad_out.shape, dtype=np.bool_)
        part = ctx.ws.get("part", grad_out.shape)
        for index, (i, j, k) in enumerate(offsets(self.pool_size)):
            np.equal(ctx.argmax, index, out=chosen)
            view = dwin[:, :, :, :, i, j, k]
            np.multiply(grad_out, chosen, out=part)
            if self._overlap:
                np.add(view, part, out=view)
            else:
                np.copyto(view, part)
        return unpadded(dxp, ctx.plan.pads, ctx.plan.input_size)


class AvgPool3D(_Pool3D):
    """Mean over each ``(KD, KH, KW)`` window; padded cells are not counted."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        win = self._windows(ctx, x, 0.0)
        y = win[:, :, :, :, 0, 0, 0].copy()
        for i, j, k in offsets(self.pool_size)[1:]:
            np.add(y, win[:, :, :, :, i, j, k], out=y)
        y *= self._scale(ctx)
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        dxp, dwin = self._grad_windows(ctx, len(grad_out), grad_out.shape[4])
        share = grad_out * self._scale(ctx)
        for i, j, k in offsets(self.pool_size):
            view = dwin[:, :, :, :, i, j, k]
            if self._overlap:
                np.add(view, share, out=view)
            else:
                np.copyto(view, share)
        return unpadded(dxp, ctx.plan.pads, ctx.plan.input_size)

    def _scale(self, ctx: Call) -> Any:
        """``1 / (real cells of the window)``: a number, or ``(OD, OH, OW, 1)`` where windows reach the padding."""
        plan = ctx.plan
        if not any(p for side in plan.pads for p in side):
            return self.dtype.type(1 / (self.pool_size[0] * self.pool_size[1] * self.pool_size[2]))

        def make() -> np.ndarray:
            real = np.zeros(padded_shape(1, plan.input_size, plan.pads, 1))
            unpadded(real, plan.pads, plan.input_size)[...] = 1
            counts = volume_windows(real, self.pool_size, self.strides, ONES, plan.output_size).sum(axis=(4, 5, 6))
            return (1 / counts[0]).astype(self.dtype)
        return ctx.ws.memo("scale", make)


class GlobalMaxPool3D(_GlobalMax):
    """Maximum over depth, height and width: ``(N, D, H, W, C) -> (N, C)`` (channels first:
    ``(N, C, D, H, W) -> (N, C)``); ``keepdims=True`` gives ``(N, 1, 1, 1, C)``."""

    layout = "depth, height, width, channels"
    gains_from_threads = True


class GlobalAvgPool3D(_GlobalMean):
    """Mean over depth, height and width: ``(N, D, H, W, C) -> (N, C)`` (channels first:
    ``(N, C, D, H, W) -> (N, C)``); ``keepdims=True`` gives ``(N, 1, 1, 1, C)``."""

    layout = "depth, height, width, channels"
    gains_from_threads = True


MaxPooling3D = MaxPool3D
AveragePooling3D = AvgPool3D
GlobalMaxPooling3D = GlobalMaxPool3D
GlobalAveragePooling3D = GlobalAvgPool3D
