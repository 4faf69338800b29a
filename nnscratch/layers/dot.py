"""``Dot``: the batched dot product of two tensors along one axis of each (Keras's merge layer), and its
functional form ``dot(inputs, axes)``.

As Keras 3's ``batch_dot``: for ``x`` ``(N, *xs)`` and ``y`` ``(N, *ys)`` with axes ``(i, j)`` (``x.shape[i] ==
y.shape[j]``), the output is ``(N, *xs without axis i, *ys without axis j)``, the remaining axes of ``x`` first,
in order; two vectors ``(N, D)`` give ``(N, 1)``. An int ``axes`` names the same axis of both inputs; a negative
axis counts from the end of each input's own rank; axis 0 (the batch) cannot be summed over. With
``normalize=True`` each input is first L2-normalized along its axis (Keras's ``ops.normalize`` with its default
``epsilon`` 1e-7: ``x / max(||x||, 1e-7)``), so the output is the cosine similarity.

Computed as one batched ``matmul`` of ``(N, P, D)`` by ``(N, D, Q)``; backward is two more.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import DTypeError, InvalidTypeError, InvalidValueError, ShapeError
from ..core.layer import Layer
from .unit_norm import l2_normalize, l2_normalize_grad

EPSILON = 1e-7  # Keras's backend.epsilon(), what ops.normalize uses when Dot(normalize=True) calls it


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _shape(shape: Any) -> str:
    return "(batch" + "".join(f", {d}" for d in shape) + ")"


class Dot(Layer):
    """``Dot(axes, normalize=False)([x, y])``: ``sum_k x[n, ..., k, ...] * y[n, ..., k, ...]`` over ``axes`` (an
    int for both inputs, or one per input). ``(N, D)``, ``(N, D)`` -> ``(N, 1)``; ``(N, T1, D)``, ``(N, T2, D)``
    with ``axes=2`` -> ``(N, T1, T2)``."""

    mask_refused = "Keras's Dot takes masks, which nnscratch does not"

    per_sample = True
    checks_dtype = False

    def __init__(self, axes: int | list[int] | tuple[int, int], normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pair: list[Any] = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        if not (_is_int(axes) or (isinstance(axes, (list, tuple)) and len(pair) == 2)) or not all(map(_is_int, pair)):
            raise InvalidTypeError(f"Dot axes must be an int or a pair of ints (one axis of each input), got {axes!r}")
        if 0 in pair:
            raise InvalidValueError(f"Dot axes {axes!r} include axis 0, the batch axis; the dot product is taken "
                                    "along an axis of each sample (1 or more, or negative from the end)")
        if not isinstance(normalize, (bool, np.bool_)):
            raise InvalidTypeError(f"Dot normalize must be True or False, got {normalize!r}")
        self.axes: int | list[int] = [int(a) for a in pair] if isinstance(axes, (list, tuple)) else int(pair[0])
        self.normalize = bool(normalize)

    def resolved_axes(self, ndims: tuple[int, int]) -> tuple[int, int]:
        """The two axes, non-negative, for inputs of ``ndims`` axes each (batch included); ``ShapeError`` when one
        is out of range or the batch axis."""
        raw = self.axes if isinstance(self.axes, list) else [self.axes, self.axes]
        out = []
        for which, (axis, ndim) in enumerate(zip(raw, ndims)):
            full = axis + ndim if axis < 0 else axis
            if not 1 <= full < ndim:
                raise ShapeError(f"Dot axes {self.axes!r}: axis {axis} is not an axis of input {which}'s samples "
                                 f"(rank {ndim}, batch included: use 1..{ndim - 1} or -1..-{ndim - 1})")
            out.append(full)
        return out[0], out[1]

    def _check_sizes(self, shapes: list[Any], axes: tuple[int, int]) -> None:
        d1, d2 = shapes[0][axes[0] - 1], shapes[1][axes[1] - 1]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ShapeError(f"Dot axes {self.axes!r} pair axis {axes[0]} of {_shape(shapes[0])} ({d1}) with axis "
                             f"{axes[1]} of {_shape(shapes[1])} ({d2}): they must have one size")

    def build(self, input_shape: Any) -> None:
        """Check two per-sample shapes (``None`` for a variable axis) against ``axes``; no weights."""
        if (not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2
                or not all(isinstance(s, (list, tuple)) for s in input_shape)):
            raise ShapeError(f"Dot takes a list of 2 inputs, got input shape {input_shape!r}")
        shapes = [tuple(s) for s in input_shape]
        if any(len(s) < 1 for s in shapes):
            raise ShapeError(f"Dot needs inputs of rank 2 or more (batch, ...), got {', '.join(map(_shape, shapes))}")
        self._check_sizes(shapes, self.resolved_axes((len(shapes[0]) + 1, len(shapes[1]) + 1)))
        super().build(shapes)

    def _check(self, xs: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
        if not isinstance(xs, (list, tuple)) or len(xs) != 2:
            got = f"{type(xs).__name__}{f' of {len(xs)}' if isinstance(xs, (list, tuple)) else ''}"
            raise InvalidTypeError(f"Dot takes a list of exactly 2 inputs, got {got}")
        x, y = xs
        if not all(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in (x, y)):
            raise DTypeError(f"Dot inputs must be float arrays, got "
                             f"{', '.join(str(getattr(a, 'dtype', type(a).__name__)) for a in (x, y))}")
        if x.dtype != y.dtype:
            raise DTypeError(f"Dot inputs have different dtypes: {x.dtype}, {y.dtype}; cast one to the other's")
        if x.ndim < 2 or y.ndim < 2:
            raise ShapeError(f"Dot needs inputs of rank 2 or more (batch, ...), got shapes {x.shape}, {y.shape}")
        if len(x) != len(y):
            raise ShapeError(f"Dot inputs have different batch sizes: shapes {x.shape}, {y.shape}")
        axes = self.resolved_axes((x.ndim, y.ndim))
        self._check_sizes([x.shape[1:], y.shape[1:]], axes)
        if self.input_shape is None:
            self.build([x.shape[1:], y.shape[1:]])
        return x, y, axes

    def forward_call(self, ctx: Call, xs: list[np.ndarray]) -> np.ndarray:
        x, y, (i, j) = self._check(xs)
        ctx.axes = (i, j)
        if self.normalize:
            x, ctx.x_inv, ctx.x_free = l2_normalize(x, (i,), EPSILON)
            y, ctx.y_inv, ctx.y_free = l2_normalize(y, (j,), EPSILON)
            ctx.xn, ctx.yn = x, y
        n, d = len(x), x.shape[i]
        xm = np.moveaxis(x, i, -1)  # (N, *x_rest, D)
        ym = np.moveaxis(y, j, 1)  # (N, D, *y_rest)
        ctx.x_rest, ctx.y_rest = xm.shape[1:-1], ym.shape[2:]
        ctx.x3, ctx.y3 = xm.reshape(n, math.prod(ctx.x_rest), d), ym.reshape(n, d, math.prod(ctx.y_rest))
        out = np.matmul(ctx.x3, ctx.y3)  # (N, P, Q)
        shape = (n, *ctx.x_rest, *ctx.y_rest)
        return out.reshape(shape if len(shape) > 1 else (n, 1))

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> list[np.ndarray] | None:
        if not ctx.input_grad:
            return None
        (i, j), x3, y3 = ctx.axes, ctx.x3, ctx.y3
        n, d = x3.shape[0], x3.shape[2]
        g3 = grad_out.reshape(n, x3.shape[1], y3.shape[2])
        dx = np.moveaxis(np.matmul(g3, y3.transpose(0, 2, 1)).reshape(n, *ctx.x_rest, d), -1, i)
        dy = np.moveaxis(np.matmul(x3.transpose(0, 2, 1), g3).reshape(n, d, *ctx.y_rest), 1, j)
        if self.normalize:
            dx = l2_normalize_grad(dx, ctx.xn, ctx.x_inv, ctx.x_free, (i,))
            dy = l2_normalize_grad(dy, ctx.yn, ctx.y_inv, ctx.y_free, (j,))
        return [dx, dy]

    def get_config(self) -> dict[str, Any]:
        return {"axes": self.axes, "normalize": self.normalize}


def dot(inputs: list[Any], axes: int | list[int] | tuple[int, int] = -1, normalize: bool = False,
        **kwargs: Any) -> Any:
    """``Dot(axes, normalize)(inputs)``: Keras's functional form (``axes`` defaults to -1, as there)."""
    return Dot(axes, normalize=normalize, **kwargs)(inputs)
