"""Layers: each a ``Module`` with ``forward(x, training)`` and ``backward(grad_out)``."""

from .activations import ELU, GELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .dense import Dense
from .dropout import Dropout
from .reshape import Flatten, Reshape

__all__ = [
    "Activation", "Dense", "Dropout", "ELU", "Flatten", "GELU", "Identity", "LeakyReLU", "ReLU", "Reshape",
    "Sigmoid", "Softmax", "Tanh",
]
