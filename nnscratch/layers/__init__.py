"""Layers: each a ``Module`` with ``forward(x, training)`` and ``backward(grad_out)``."""

from .activations import ELU, GELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .augment import RandomFlip, RandomShift
from .batchnorm import BatchNorm
from .conv import Conv2D
from .dense import Dense
from .dropout import Dropout
from .normalization import Normalization
from .pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from .reshape import Flatten, Reshape

__all__ = [
    "AvgPool2D", "BatchNorm", "RandomFlip", "RandomShift", "Conv2D", "GlobalAvgPool2D", "MaxPool2D", "Normalization",
    "Activation", "Dense", "Dropout", "ELU", "Flatten", "GELU", "Identity", "LeakyReLU", "ReLU", "Reshape",
    "Sigmoid", "Softmax", "Tanh",
]
