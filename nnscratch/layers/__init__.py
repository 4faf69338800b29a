"""Layers: each a ``Layer`` with ``forward_call(ctx, x)`` and ``backward_call(ctx, grad_out)``."""

from .activations import ELU, GELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .augment import RandomFlip, RandomShift
from .batchnorm import BatchNorm
from .conv import Conv2D
from .dense import Dense
from .dropout import Dropout
from .fusions import ReLUMaxPool2D
from .lambda_layer import Lambda
from .merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from .normalization import Normalization
from .pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from .reshape import Flatten, Reshape

__all__ = [
    "AvgPool2D", "BatchNorm", "RandomFlip", "RandomShift", "Conv2D", "GlobalAvgPool2D", "MaxPool2D", "Normalization",
    "Activation", "Dense", "Dropout", "ELU", "Flatten", "GELU", "Identity", "LeakyReLU", "ReLU", "Reshape",
    "Sigmoid", "Softmax", "Tanh", "Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract",
    "ReLUMaxPool2D", "Lambda",
]
