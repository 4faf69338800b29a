"""``keras.activations``: functions on arrays (and on ``Tensor``s, differentiably; on symbolic tensors they add the
activation layer to the graph); also accepted as ``activation=`` arguments (``Dense(64, activation=
keras.activations.swish)``). Keras 3's names, formulas and defaults.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..autodiff.tape import Tensor, node
from ..core.call import Call
from ..core.tensor import SymbolicTensor
from ..layers import piecewise_activations as _piecewise
from ..layers import smooth_activations as _smooth
from ..layers.activations import Activation
from ..layers.activations import ReLU as _ReLU
from ..layers.activations import get as _layer
from ._names import module_getattr

sigmoid, softmax, tanh, elu = ops.sigmoid, ops.softmax, ops.tanh, ops.elu
gelu, leaky_relu = ops.gelu, ops.leaky_relu

__all__ = [
    "celu", "elu", "exponential", "gelu", "get", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid",
    "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "squareplus", "swish", "tanh",
    "tanh_shrink",
]


def _apply(layer: Activation, x: Any) -> Any:
    """The activation layer ``layer`` applied to ``x``: an array (an integer one computed in float32), a
    ``Tensor`` (recorded on the tape, with the layer's backward as the rule) or a symbolic tensor (a graph node)."""
    if isinstance(x, SymbolicTensor):
        return layer(x)
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if data.dtype.kind != "f":
        data = data.astype(np.float32)
    ctx = Call()
    y = layer.forward_call(ctx, data)
    if not isinstance(x, Tensor):
        return y
    return node(y, (x,), lambda g, needs: (layer.backward_call(ctx, g),))


def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> Any:
    """max(x, 0); with Keras's arguments, ``min(x, max_value)`` above ``threshold`` and ``negative_slope * (x -
    threshold)`` below it (``keras.layers.ReLU``)."""
    if negative_slope == 0 and max_value is None and threshold == 0:
        return ops.relu(x)
    return _apply(_ReLU(max_value=max_value, negative_slope=negative_slope, threshold=threshold), x)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """x - logsumexp(x) over ``axis``, exact for extreme inputs (``nnscratch.ops.log_softmax``)."""
    if not isinstance(x, (Tensor, SymbolicTensor)):
        x = np.asarray(x)
        x = x if x.dtype.kind == "f" else x.astype(np.float32)
    return ops.log_softmax(x, axis=axis)


def relu6(x: Any) -> Any:
    """min(max(x, 0), 6)."""
    return _apply(_ReLU(max_value=6.0), x)


def selu(x: Any) -> Any:
    """scale * elu(x, alpha) with Keras's constants (alpha 1.67326, scale 1.05070)."""
    return _apply(_smooth.SELU(), x)


def silu(x: Any) -> Any:
    """x * sigmoid(x) (also ``swish``)."""
    return _apply(_smooth.Swish(), x)


swish = silu


def softplus(x: Any) -> Any:
    """log(1 + exp(x)), exact for large |x|."""
    return _apply(_smooth.Softplus(), x)


def softsign(x: Any) -> Any:
    """x / (1 + |x|)."""
    return _apply(_smooth.Softsign(), x)


def mish(x: Any) -> Any:
    """x * tanh(softplus(x))."""
    return _apply(_smooth.Mish(), x)


def exponential(x: Any) -> Any:
    """exp(x)."""
    return _apply(_smooth.Exponential(), x)


def log_sigmoid(x: Any) -> Any:
    """log(sigmoid(x)) = -softplus(-x)."""
    return _apply(_smooth.LogSigmoid(), x)


def celu(x: Any, alpha: float = 1.0) -> Any:
    """max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)."""
    return _apply(_smooth.CELU(alpha), x)


def squareplus(x: Any, b: float = 4) -> Any:
    """(x + sqrt(x^2 + b)) / 2."""
    return _apply(_smooth.Squareplus(b), x)


def tanh_shrink(x: Any) -> Any:
    """x - tanh(x)."""
    return _apply(_smooth.TanhShrink(), x)


def hard_sigmoid(x: Any) -> Any:
    """relu6(x + 3) / 6 (Keras 3's)."""
    return _apply(_piecewise.HardSigmoid(), x)


def hard_silu(x: Any) -> Any:
    """x * relu6(x + 3) / 6 (also ``hard_swish``)."""
    return _apply(_piecewise.HardSwish(), x)


hard_swish = hard_silu


def hard_tanh(x: Any) -> Any:
    """clip(x, -1, 1)."""
    return _apply(_piecewise.HardTanh(), x)


def sparse_plus(x: Any) -> Any:
    """0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1."""
    return _apply(_piecewise.SparsePlus(), x)


def soft_shrink(x: Any, threshold: float = 0.5) -> Any:
    """x - threshold above ``threshold``, x + threshold below ``-threshold``, 0 between."""
    return _apply(_piecewise.SoftShrink(threshold), x)


def hard_shrink(x: Any, threshold: float = 0.5) -> Any:
    """x where |x| > threshold, else 0."""
    return _apply(_piecewise.HardShrink(threshold), x)


def linear(x: Any) -> Any:
    """The identity."""
    return x


def get(identifier: Any) -> Any:
    """The activation layer for a name, function or layer (what ``activation=`` arguments accept)."""
    return _layer(identifier)


_MISSING = "nnscratch has no activation of that name; use one of keras.activations.__all__"
__getattr__ = module_getattr("keras.activations", globals(), dict.fromkeys(
    ["glu", "sparsemax", "sparse_sigmoid", "threshold", "serialize", "deserialize"], _MISSING))
