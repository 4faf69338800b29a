"""Operator overloading on ``Tensor``: ``a + b``, ``a @ b``, ``-a``, ``a ** 2``, ``a // b``, ``a % b``, ``a[..., 0]``,
``a < b``, ``a.T``, ``a.sum(axis)``..., each the matching op (so ``2 * t`` and ``ndarray + t`` work too, with
broadcasting).

Importing ``nnscratch.autodiff`` installs them; they live here, not in ``tape.py``, because they call the
op modules, which themselves import ``Tensor``.
"""

from __future__ import annotations

from typing import Any

from . import convert, discrete, indexing, linalg, reductions, shapes
from . import elementwise as ew
from .tape import Tensor


def _reshape(self: Tensor, *shape: Any) -> Tensor:
    return shapes.reshape(self, shape[0] if len(shape) == 1 else shape)


def _transpose(self: Tensor, *axes: Any) -> Tensor:
    return shapes.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)


def install() -> None:
    """Attach the operators and array-like methods to ``Tensor`` (idempotent)."""
    t: Any = Tensor
    t.__add__ = lambda a, b: ew.add(a, b)
    t.__radd__ = lambda a, b: ew.add(b, a)
    t.__sub__ = lambda a, b: ew.subtract(a, b)
    t.__rsub__ = lambda a, b: ew.subtract(b, a)
    t.__mul__ = lambda a, b: ew.multiply(a, b)
    t.__rmul__ = lambda a, b: ew.multiply(b, a)
    t.__truediv__ = lambda a, b: ew.divide(a, b)
    t.__rtruediv__ = lambda a, b: ew.divide(b, a)
    t.__floordiv__ = lambda a, b: discrete.floor_divide(a, b)
    t.__rfloordiv__ = lambda a, b: discrete.floor_divide(b, a)
    t.__mod__ = lambda a, b: ew.mod(a, b)
    t.__rmod__ = lambda a, b: ew.mod(b, a)
    t.__pow__ = lambda a, b: ew.power(a, b)
    t.__rpow__ = lambda a, b: ew.power(b, a)
    t.__matmul__ = lambda a, b: linalg.matmul(a, b)
    t.__rmatmul__ = lambda a, b: linalg.matmul(b, a)
    t.__neg__ = ew.negative
    t.__pos__ = lambda a: a
    t.__abs__ = ew.absolute
    t.__getitem__ = indexing.getitem
    t.__lt__ = discrete.less
    t.__le__ = discrete.less_equal
    t.__gt__ = discrete.greater
    t.__ge__ = discrete.greater_equal
    t.__eq__ = discrete.equal
    t.__ne__ = discrete.not_equal
    t.__and__ = discrete.logical_and
    t.__or__ = discrete.logical_or
    t.__invert__ = discrete.logical_not
    t.T = property(shapes.transpose, doc="The Tensor with its axes reversed.")
    t.reshape = _reshape
    t.transpose = _transpose
    t.astype = convert.cast
    t.sum = reductions.sum
    t.mean = reductions.mean
    t.max = reductions.max
    t.min = reductions.min
