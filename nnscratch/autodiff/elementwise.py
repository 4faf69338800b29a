"""Element-wise arithmetic and math with NumPy broadcasting: ``add`` ... ``power``, ``exp``, ``log``, trig.

Each op computes with NumPy on plain arrays; on Tensors it also records a backward rule. Rules return
``g * f'(x)`` at the output's (broadcast) shape: the tape sums it back to each input's shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .tape import Tensor, node, value

_LN2, _LN10 = float(np.log(2.0)), float(np.log(10.0))


def _unary(name: str, fn: Callable[[Any], Any], deriv: Callable[[Any, Any, Any], Any],
           doc: str) -> Callable[[Any], Any]:
    """An op ``name(x)``: ``fn`` forward; ``deriv(g, x, y)`` is dLoss/dx given dLoss/dy = g."""

    def op(x: Any) -> Any:
        if not isinstance(x, Tensor):
            return fn(x)
        xd = x.data
        y = fn(xd)
        return node(y, (x,), lambda g, needs: (deriv(g, xd, y),))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _binary(name: str, fn: Callable[[Any, Any], Any], rule: Callable[..., tuple],
            doc: str) -> Callable[[Any, Any], Any]:
    """An op ``name(x, y)``: ``fn`` forward; ``rule(g, needs, x, y, out)`` returns (dLoss/dx, dLoss/dy)."""

    def op(x: Any, y: Any) -> Any:
        if not isinstance(x, Tensor) and not isinstance(y, Tensor):
            return fn(x, y)
        xd, yd = value(x), value(y)
        out = fn(xd, yd)
        return node(out, (x, y), lambda g, needs: rule(g, needs, xd, yd, out))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


# ---------------------------------------------------------------- arithmetic
add = _binary("add", np.add, lambda g, n, x, y, o: (g, g), "x + y (broadcasting).")
subtract = _binary("subtract", np.subtract, lambda g, n, x, y, o: (g, -g if n[1] else None), "x - y.")
multiply = _binary("multiply", np.multiply,
                   lambda g, n, x, y, o: (g * y if n[0] else None, g * x if n[1] else None), "x * y.")
divide = _binary("divide", np.true_divide,
                 lambda g, n, x, y, o: (g / y if n[0] else None, -g * o / y if n[1] else None),
                 "x / y (true division).")
true_divide = divide
mod = _binary("mod", np.mod,
              lambda g, n, x, y, o: (g if n[0] else None, -g * np.floor_divide(x, y) if n[1] else None),
              "x - floor(x / y) * y (``x % y``: the remainder has the sign of y, as in Python and NumPy).")


def _power_rule(g: Any, n: tuple, x: Any, y: Any, out: Any) -> tuple:
    gx = gy = None
    if n[0]:
        zero = np.equal(y, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = g * y * np.power(x, y - 1)
        if np.any(zero):  # d(x ** 0)/dx = 0, also at x = 0
            gx = np.where(zero, 0, gx)
    if n[1]:
        gy = g * out * np.log(np.where(x > 0, x, 1))  # 0 where x <= 0 (PyTorch's convention at x = 0)
    return gx, gy


power = _binary("power", np.power, _power_rule, "x ** y element-wise.")


def _select_rule(pick_x: Callable[[Any, Any], Any]) -> Callable[..., tuple]:
    """Rule of maximum/minimum: the gradient goes to the selected input; ties split it in half (as PyTorch)."""

    def rule(g: Any, n: tuple, x: Any, y: Any, out: Any) -> tuple:
        wx = np.asarray(pick_x(x, y), dtype=g.dtype)
        ties = np.equal(x, y)
        if np.any(ties):
            wx = np.where(ties, wx.dtype.type(0.5), wx)
        return (g * wx if n[0] else None, g * (1 - wx) if n[1] else None)

    return rule


maximum = _binary("maximum", np.maximum, _select_rule(np.greater), "Element-wise larger of x and y.")
minimum = _binary("minimum", np.minimum, _select_rule(np.less), "Element-wise smaller of x and y.")
arctan2 = _binary("arctan2", np.arctan2,
                  lambda g, n, y, x, o: (g * x / (x * x + y * y) if n[0] else None,
                                         -g * y / (x * x + y * y) if n[1] else None),
                  "Angle of the point (x2, x1): arctan2(x1, x2), quadrant-aware.")


def clip(x: Any, x_min: Any, x_max: Any) -> Any:
    """``x`` limited to ``[x_min, x_max]``; the gradient passes where ``x_min <= x <= x_max`` (bounds are constants)."""
    lo, hi = value(x_min), value(x_max)
    if not isinstance(x, Tensor):
        return np.clip(x, lo, hi)
    xd = x.data
    return node(np.clip(xd, lo, hi), (x,), lambda g, n: (g * ((xd >= lo) & (xd <= hi)),))


def where(condition: Any, x1: Any, x2: Any) -> Any:
    """``x1`` where ``condition`` holds, else ``x2`` (all broadcast); ``condition`` gets no gradient."""
    cond = np.asarray(value(condition), dtype=bool)
    if not isinstance(x1, Tensor) and not isinstance(x2, Tensor):
        return np.where(cond, x1, x2)
    a, b = value(x1), value(x2)
    return node(np.where(cond, a, b), (x1, x2),
                  lambda g, n: (np.where(cond, g, 0) if n[0] else None, np.where(cond, 0, g) if n[1] else None))


# ---------------------------------------------------------------- unary math
negative = _unary("negative", np.negative, lambda g, x, y: -g, "-x.")
absolute = _unary("abs", np.abs, lambda g, x, y: g * np.sign(x), "|x|; gradient sign(x) (0 at 0).")
abs = absolute
square = _unary("square", np.square, lambda g, x, y: g * (2 * x), "x ** 2.")
sqrt = _unary("sqrt", np.sqrt, lambda g, x, y: g / (2 * y), "Square root (gradient inf at 0).")
reciprocal = _unary("reciprocal", np.reciprocal, lambda g, x, y: -g * y * y, "1 / x.")
exp = _unary("exp", np.exp, lambda g, x, y: g * y, "e ** x.")
expm1 = _unary("expm1", np.expm1, lambda g, x, y: g * (y + 1), "e ** x - 1, accurate for small x.")
log = _unary("log", np.log, lambda g, x, y: g / x, "Natural logarithm.")
log1p = _unary("log1p", np.log1p, lambda g, x, y: g / (1 + x), "log(1 + x), accurate for small x.")
log2 = _unary("log2", np.log2, lambda g, x, y: g / (x * _LN2), "Base-2 logarithm.")
log10 = _unary("log10", np.log10, lambda g, x, y: g / (x * _LN10), "Base-10 logarithm.")
sin = _unary("sin", np.sin, lambda g, x, y: g * np.cos(x), "Sine.")
cos = _unary("cos", np.cos, lambda g, x, y: -g * np.sin(x), "Cosine.")
tan = _unary("tan", np.tan, lambda g, x, y: g * (1 + y * y), "Tangent.")
arcsin = _unary("arcsin", np.arcsin, lambda g, x, y: g / np.sqrt(1 - x * x), "Inverse sine.")
arccos = _unary("arccos", np.arccos, lambda g, x, y: -g / np.sqrt(1 - x * x), "Inverse cosine.")
arctan = _unary("arctan", np.arctan, lambda g, x, y: g / (1 + x * x), "Inverse tangent.")
sinh = _unary("sinh", np.sinh, lambda g, x, y: g * np.cosh(x), "Hyperbolic sine.")
cosh = _unary("cosh", np.cosh, lambda g, x, y: g * np.sinh(x), "Hyperbolic cosine.")
tanh = _unary("tanh", np.tanh, lambda g, x, y: g * (1 - y * y), "Hyperbolic tangent.")
arcsinh = _unary("arcsinh", np.arcsinh, lambda g, x, y: g / np.sqrt(x * x + 1), "Inverse hyperbolic sine.")
arccosh = _unary("arccosh", np.arccosh, lambda g, x, y: g / np.sqrt(x * x - 1), "Inverse hyperbolic cosine.")
arctanh = _unary("arctanh", np.arctanh, lambda g, x, y: g / (1 - x * x), "Inverse hyperbolic tangent.")
