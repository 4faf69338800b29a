"""Merge layers: combine several tensors of a graph into one (``Add()([x, y])``).

``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum`` and ``Minimum`` take inputs of one shape;
``Concatenate`` joins them along an axis. Backward returns one gradient per input.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..core.layer import Layer

# np.greater / np.less on arrays (NumPy's stubs type a ufunc's __call__ for scalars)
_Compare = Callable[[np.ndarray, np.ndarray], np.ndarray]


class _Merge(Layer):
    """Shared checks: a list of at least ``min_inputs`` arrays of one per-sample shape and dtype."""

    mask_refused = "Keras merges the masks of merged inputs, which nnscratch does not"

    per_sample = True
    checks_dtype = False
    min_inputs = 2
    same_shapes = True

    def _check(self, xs: Any) -> list[np.ndarray]:
        name = type(self).__name__
        if not isinstance(xs, (list, tuple)) or len(xs) < self.min_inputs:
            raise InvalidTypeError(f"{name} takes a list of at least {self.min_inputs} inputs, got "
                                   f"{type(xs).__name__}{f' of {len(xs)}' if isinstance(xs, (list, tuple)) else ''}")
        shapes: list[Any] = [getattr(x, "shape", None) for x in xs]
        if any(s is None for s in shapes):
            raise InvalidTypeError(f"{name} inputs must be arrays")
        if len({s[0] for s in shapes}) > 1:
            raise ShapeError(f"{name} inputs have different batch sizes: {shapes}")
        if self.same_shapes and len({s[1:] for s in shapes}) > 1:
            raise ShapeError(f"{name} needs inputs of one shape, got {', '.join(str(s[1:]) for s in shapes)}")
        if len({x.dtype for x in xs}) > 1:
            raise ShapeError(f"{name} inputs have different dtypes: {sorted({x.dtype.name for x in xs})}")
        if self.input_shape is None:
            self.build([tuple(s[1:]) for s in shapes])
        return list(xs)


def _sum(xs: list[np.ndarray]) -> np.ndarray:
    """The element-wise sum of two or more arrays of one shape, in one new array."""
    out = xs[0] + xs[1]
    for x in xs[2:]:
        out += x
    return out


class Add(_Merge):
    """The sum of the inputs."""

    def forward_call(self, ctx: Call, xs: list[np.ndarray]) -> np.ndarray:
        xs = self._check(xs)
        ctx.n = len(xs)
        out = _sum(xs)
        return out

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> list[np.ndarray]:
        return [grad_out] * ctx.n


class Subtract(_Merge):
    """``x - y`` for exactly two inputs."""

    def forward_call(self, ctx: Call, xs: list[np.ndarray]) -> np.ndarray:
        xs = self._check(xs)
        if len(xs) != 2:
            raise InvalidValueError(f"Subtract takes exactly 2 inputs, got {len(xs)}")
        return xs[0] - xs[1]

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> list[np.ndarray]:
        return [grad_out, -grad_out]


class Multiply(_Merge):
    """The element-wise product of the inputs."""

    def forward_call(self, ctx: Call, xs: list[np.ndarray]) -> np.ndarray:
        xs = ctx.xs = self._check(xs)
        return functools.reduce(np.multiply, xs)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> list[np.ndarray]:
        xs = ctx.xs
        return [functools.reduce(np.multiply, [x for j, x in enumerate(xs) if j != i], grad_out)
                for i in range(len(xs))]


class Average(_Merge):
    """The element-wise mean of the inputs."""

    def forward_call(self, ctx: Call, xs: list[np.ndarray]) -> np.ndarray:
        xs = self._check(xs)
        ctx.n = len(xs)
        out = _sum(xs)
        out *= out.dtype.type(1 / len(xs))
        return out

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> list[np.ndarray]:
        share = grad_out * grad_out.dtype.type(1 / ctx.n)
        return [share] * ctx.n


class Maximum(_Merge):
    """The element-wise maximum; the gradient goes to the first input holding it."""

    pick = staticmethod(cast(_Compare, np.greater))

    def forward_call(self, ctx: Call, xs: list[np.ndarray]) -> np.ndarray:
        xs = self._check(xs)
        out = xs[0].copy()
        winner = np.zeros(out.shape, np.int8 if len(xs) < 128 else np.int32)
        for i, x in enumerate(xs[1:], start=1):
            better = self.pick(x, out)
            out[better] = x[better]
            winner[better] = i
        ctx.winner, ctx.n = winner, len(xs)
        return out

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> list[np.ndarray]:
        return [grad_out * (ctx.winner == i) for i in range(ctx.n)]


class Minimum(Maximum):
    """The element-wise minimum; the gradient goes to the first input holding it."""

    pick = staticmethod(cast(_Compare, np.less))


class Concatenate(_Merge):
    """The inputs joined along ``axis`` (a per-sample axis; -1 = the last)."""

    same_shapes = False

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis == 0:
            raise InvalidValueError(f"Concatenate axis must be a non-zero integer (axis 0 is the batch), got {axis!r}")
        self.axis = int(axis)

    def forward_call(self, ctx: Call, xs: list[np.ndarray]) -> np.ndarray:
        xs = self._check(xs)
        ndim = xs[0].ndim
        axis = self.axis % ndim if -ndim <= self.axis < ndim else None
        if axis is None or axis == 0 or any(x.ndim != ndim for x in xs) or len(
                {x.shape[:axis] + x.shape[axis + 1:] for x in xs}) > 1:
            raise ShapeError(f"Concatenate(axis={self.axis}) cannot join inputs of shapes "
                             f"{', '.join(str(x.shape[1:]) for x in xs)}")
        ctx.sizes = np.cumsum([x.shape[axis] for x in xs])[:-1]
        ctx.axis = axis
        return np.concatenate(xs, axis=axis)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> list[np.ndarray]:
        return np.split(grad_out, ctx.sizes, axis=ctx.axis)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}
