"""Pooling layers for channels-last images: ``MaxPool2D`` and ``AvgPool2D`` (global pooling: ``global_pooling``).

``MaxPool2D`` and ``AvgPool2D`` visit the ``KH*KW`` window offsets with one vectorized operation each
(the same strided window view as ``im2col``); there is no loop over samples, pixels or channels. The
usual 2x2 / stride 2 max-pool gathers the window cells into contiguous planes instead (``gather``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError
from ..core.layer import Layer
from ..core.workspace import Workspace
from .im2col import Pair, check_padding, conv_geometry, gather, gather_index, pair, pixel_pieces, windows
from .image_sizes import PerSize, fixed_size, image_axes, window_output


@dataclass(frozen=True)
class PoolPlan:
    """Where a pooling call's windows lie for inputs of one size: input and output ``(H, W)``, the pads, whether
    ``MaxPool2D`` takes its 2x2 pairwise path, and ``AvgPool2D``'s scale (``1 / window cells``, or per output
    pixel ``(OH, OW, 1)`` where windows reach into the padding)."""

    input_hw: Pair
    output_hw: Pair
    pads: tuple[Pair, Pair]
    pairwise: bool = False
    scale: Any = None


class _Pool2D(Layer):
    """Shared set-up: ``(N, H, W, C) -> (N, OH, OW, C)`` with windows ``pool_size``, moved by ``strides``.

    ``padding`` is ``"valid"``, ``"same"`` (TensorFlow's rule, as in ``Conv2D``) or explicit ``p`` /
    ``(ph, pw)`` per side; padded cells never win a max and are not counted in an average.
    """

    per_sample = True
    gains_from_threads = True

    def __init__(self, pool_size: int | tuple[int, int] | list[int] = 2,
                 strides: int | tuple[int, int] | list[int] | None = None,
                 padding: str | int | tuple[int, int] | list[int] = "valid", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        self.pool_size = pair(pool_size, f"{name} pool_size")
        self.strides = self.pool_size if strides is None else pair(strides, f"{name} strides")
        self.padding = check_padding(padding)
        if not isinstance(self.padding, str) and any(p >= k for p, k in zip(self.padding, self.pool_size)):
            raise InvalidValueError(f"{name} padding {padding!r} must be smaller than pool_size {self.pool_size} "
                                    "(a window must not lie entirely in the padding)")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        name = type(self).__name__
        _, _, c = image_axes(name, input_shape)
        oh, ow = window_output(name, input_shape, self.pool_size, self.strides, (1, 1), self.padding)
        super().build(input_shape)
        self.output_shape = (oh, ow, c)
        # Windows that share input cells need their gradients added; disjoint ones can be written.
        self._overlap = any(s < k for s, k in zip(self.strides, self.pool_size))
        self.plans = PerSize(self._plan)
        size = fixed_size(input_shape)
        self.pads = self.plans(size).pads if size is not None else None  # (None: they follow the input's size)

    def _plan(self, hw: Pair) -> PoolPlan:
        """The geometry of a call on ``(N, H, W, C)`` images, ``hw = (H, W)``."""
        pads, out = conv_geometry(type(self).__name__, (*hw, self.input_shape[2]), self.pool_size, self.strides,
                                  (1, 1), self.padding)
        return PoolPlan(hw, out, pads)

    def _windows(self, ctx: Call, x: np.ndarray, fill: float) -> np.ndarray:
        """Forward: ``x`` (padded with ``fill`` in a reused buffer if needed) as windows ``(N, OH, OW, KH, KW, C)``;
        sets ``ctx.plan``."""
        self._ensure_built(x)
        ctx.ws.use(x)
        plan = ctx.plan = self.plans((x.shape[1], x.shape[2]))
        (top, bottom), (left, right) = plan.pads
        if top or bottom or left or right:
            n, h, w, c = x.shape
            xp = ctx.ws.get("xp", (n, h + top + bottom, w + left + right, c), fill=fill)
            xp[:, top:top + h, left:left + w] = x  # the border keeps ``fill``
            x = xp
        return windows(x, self.pool_size, self.strides, (1, 1), plan.output_hw)

    def _grad_windows(self, ctx: Call, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Backward: a zeroed padded input gradient and its writeable windows view."""
        plan = ctx.plan
        (top, bottom), (left, right) = plan.pads
        (h, w), c = plan.input_hw, self.input_shape[2]
        dxp = ctx.ws.get("dxp", (n, h + top + bottom, w + left + right, c))
        dxp.fill(0)
        return dxp, windows(dxp, self.pool_size, self.strides, (1, 1), plan.output_hw, writeable=True)

    @staticmethod
    def _unpad(ctx: Call, dxp: np.ndarray) -> np.ndarray:
        (top, _), (left, _) = ctx.plan.pads
        h, w = ctx.plan.input_hw
        return dxp[:, top:top + h, left:left + w]

    def _offsets(self) -> list[tuple[int, int]]:
        return [(i, j) for i in range(self.pool_size[0]) for j in range(self.pool_size[1])]

    def get_config(self) -> dict[str, Any]:
        return {
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
        }


class MaxPool2D(_Pool2D):
    """Maximum over each window. Backward routes each output gradient to the window's arg-max, the first
    (in row-major window order) when several inputs tie. ``strides`` defaults to ``pool_size``.

    The usual 2x2 windows moved by 2 over an even-sized input without padding take a faster path with the
    same results: one ``np.take`` gathers the four cells of every window into four contiguous planes,
    which are compared pairwise.

    ``forward_relu_call`` runs ``relu`` then this pool in one step (``nnscratch.layers.fusions``).
    """

    def _plan(self, hw: Pair) -> PoolPlan:
        plan = super()._plan(hw)
        return replace(plan, pairwise=self.pool_size == self.strides == (2, 2) and plan.pads == ((0, 0), (0, 0))
                       and hw[0] % 2 == 0 and hw[1] % 2 == 0)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        ctx.relu_applied = False
        plan = ctx.plan = self.plans((x.shape[1], x.shape[2]))
        return self._forward_pairwise(ctx, x) if plan.pairwise else self._forward_windows(ctx, x)

    def forward_relu_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """``forward(relu(x))`` in one step; the call's backward returns the gradient with respect to ``x``.

        The maximum of ReLU outputs is the ReLU of the maximum, so ``max(., 0)`` is applied to this smaller
        output; and where that is above 0 the arg-max is the same cell. Backward zeroes the gradient of
        windows whose maximum is 0, which is the ReLU's own mask at the arg-max cell. Outputs and
        gradients are the same, bit for bit, as the two layers run one after the other, with one pass
        over the larger array fewer each way.
        """
        y = self.forward_call(ctx, x)
        np.maximum(y, 0, out=y)
        ctx.positive = np.greater(y, 0, out=ctx.ws.get("positive", y.shape, dtype=np.bool_))
        ctx.relu_applied = True
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        if ctx.relu_applied:
            grad_out = np.multiply(grad_out, ctx.positive, out=ctx.ws.get("masked", grad_out.shape))
        return self._backward_pairwise(ctx, grad_out) if ctx.plan.pairwise else self._backward_windows(ctx, grad_out)

    def _forward_windows(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        win = self._windows(ctx, x, -np.inf)
        ws = ctx.ws
        offsets = self._offsets()
        y = win[:, :, :, 0, 0, :].copy()
        idx_type = np.min_scalar_type(len(offsets) - 1)
        argmax = ctx.argmax = ws.get("argmax", y.shape, dtype=idx_type)
        argmax.fill(0)
        better = ws.get("mask", y.shape, dtype=np.bool_)
        scratch = ws.get("scratch", y.shape, dtype=idx_type)
        previous = ws.get("previous", y.shape)
        for k, (i, j) in enumerate(offsets[1:], start=1):
            np.copyto(previous, y)
            np.maximum(y, win[:, :, :, i, j, :], out=y)  # the only (slow, strided) read of this offset
            np.not_equal(y, previous, out=better)  # strictly greater: ties keep the earlier offset
            # Offsets only grow, so "argmax = k where better" is a max (much faster than a masked copy).
            np.maximum(argmax, np.multiply(better, idx_type.type(k), out=scratch), out=argmax)
        return y

    def _backward_windows(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        dxp, dwin = self._grad_windows(ctx, len(grad_out))
        chosen = ctx.ws.get("mask", grad_out.shape, dtype=np.bool_)
        part = ctx.ws.get("part", grad_out.shape) if self._overlap else None
        for k, (i, j) in enumerate(self._offsets()):
            np.equal(ctx.argmax, k, out=chosen)
            view = dwin[:, :, :, i, j, :]
            if self._overlap:
                np.add(view, np.multiply(grad_out, chosen, out=part), out=view)
            else:
                np.multiply(grad_out, chosen, out=view)
        return self._unpad(ctx, dxp)

    def _forward_pairwise(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        """2x2 / stride 2: the cells ``a b / c d`` of every window as planes ``(N*OH*OW, C)``, compared pairwise
        (strict ``>``: ties keep the earlier cell)."""
        ws = ctx.ws
        ws.use(x)
        n, (oh, ow), ch = len(x), ctx.plan.output_hw, x.shape[3]
        index = ctx.index = self._cell_index(ws, x)
        cells = gather(x, index, ws.get("cells", (4, n * oh * ow, ch)))
        a, b, c, d = cells
        ctx.b_wins = np.greater(b, a, out=ws.get("b wins", a.shape, dtype=np.bool_))
        ctx.d_wins = np.greater(d, c, out=ws.get("d wins", a.shape, dtype=np.bool_))
        top, bottom = np.maximum(a, b, out=a), np.maximum(c, d, out=c)
        ctx.bottom_wins = np.greater(bottom, top, out=ws.get("bottom wins", a.shape, dtype=np.bool_))
        y = ws.get("y", (n, oh, ow, ch)) if ctx.training else np.empty((n, oh, ow, ch), x.dtype)
        np.maximum(top, bottom, out=y.reshape(a.shape))
        return y

    def _backward_pairwise(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        """Route each gradient to its window's arg-max cell, then scatter the cells back with one ``np.take``."""
        (h, w), ch = ctx.plan.input_hw, grad_out.shape[3]
        g = grad_out.reshape(-1, ch)
        ws = ctx.ws
        cells = ws.get("dcells", (4, len(g), ch))
        da, db, dc, dd = cells
        np.multiply(g, ctx.bottom_wins, out=dc)  # bottom row's share: g or 0
        np.subtract(g, dc, out=da)  # top row's share: the rest
        np.multiply(da, ctx.b_wins, out=db)
        np.subtract(da, db, out=da)
        np.multiply(dc, ctx.d_wins, out=dd)
        np.subtract(dc, dd, out=dc)
        inverse = ws.memo("inverse index", lambda: np.argsort(ctx.index))
        return gather(cells, inverse, ws.get("dx", (len(grad_out), h, w, ch)))

    def _cell_index(self, ws: Workspace, x: np.ndarray) -> np.ndarray:
        """``gather`` indices of the cells a, b, c, d (``a b / c d``) of every window of ``x``, plane by plane."""
        def make() -> np.ndarray:
            n, h, w, c = x.shape
            numbers = np.arange(n * h * w).reshape(n, h, w, 1)
            cells = windows(numbers, (2, 2), (2, 2), (1, 1), (h // 2, w // 2))  # (N, OH, OW, 2, 2, 1)
            return gather_index(np.moveaxis(cells[..., 0], (3, 4), (0, 1)), pixel_pieces(c, x.itemsize) or 1)
        return ws.memo("cell index", make)


class AvgPool2D(_Pool2D):
    """Mean over each window (padded cells excluded from the count). ``strides`` defaults to ``pool_size``."""

    def _plan(self, hw: Pair) -> PoolPlan:
        plan = super()._plan(hw)
        (top, bottom), (left, right) = plan.pads
        (h, w), dtype = hw, self.dtype
        if top or bottom or left or right:  # 1 / (number of real cells) per output pixel, (OH, OW, 1)
            real = np.zeros((1, h + top + bottom, w + left + right, 1))
            real[:, top:top + h, left:left + w] = 1
            counts = windows(real, self.pool_size, self.strides, (1, 1), plan.output_hw).sum(axis=(3, 4))
            return replace(plan, scale=(1 / counts[0]).astype(dtype))
        return replace(plan, scale=dtype.type(1 / (self.pool_size[0] * self.pool_size[1])))

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        win = self._windows(ctx, x, 0.0)
        y = win[:, :, :, 0, 0, :].copy()
        for i, j in self._offsets()[1:]:
            np.add(y, win[:, :, :, i, j, :], out=y)
        y *= ctx.plan.scale
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        dxp, dwin = self._grad_windows(ctx, len(grad_out))
        share = grad_out * ctx.plan.scale
        for i, j in self._offsets():
            view = dwin[:, :, :, i, j, :]
            if self._overlap:
                np.add(view, share, out=view)
            else:
                np.copyto(view, share)
        return self._unpad(ctx, dxp)
