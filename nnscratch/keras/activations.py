"""``keras.activations``: functions on arrays (nnscratch's differentiable ops); also accepted as
``activation=`` arguments (``Dense(64, activation=keras.activations.relu)``)."""

from __future__ import annotations

from typing import Any

from .. import ops
from ..layers.activations import get as _layer
from ._names import module_getattr

relu, sigmoid, softmax, tanh, elu = ops.relu, ops.sigmoid, ops.softmax, ops.tanh, ops.elu
gelu, leaky_relu = ops.gelu, ops.leaky_relu

__all__ = ["elu", "gelu", "get", "leaky_relu", "linear", "relu", "sigmoid", "softmax", "tanh"]


def linear(x: Any) -> Any:
    """The identity."""
    return x


def get(identifier: Any) -> Any:
    """The activation layer for a name, function or layer (what ``activation=`` arguments accept)."""
    return _layer(identifier)


__getattr__ = module_getattr("keras.activations", globals(), dict.fromkeys(
    ["selu", "softplus", "softsign", "swish", "silu", "hard_sigmoid", "exponential", "mish", "relu6", "log_softmax"],
    "nnscratch has no activation layer of that name; use one of keras.activations.__all__"))
