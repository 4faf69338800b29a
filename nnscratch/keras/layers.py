"""``keras.layers``: nnscratch's layers under Keras 3's names (the same classes, not copies).

Keras's spellings that differ (``MaxPooling2D``, ``BatchNormalization``...) are aliases of nnscratch's
classes; a layer nnscratch adds later under Keras's name is found in ``nnscratch.layers`` too.
"""

from __future__ import annotations

from typing import Any

from .. import layers as _native
from ..core.layer import Layer
from ..core.tensor import Input, SymbolicTensor
from ..layers import (
    ELU,
    GELU,
    Activation,
    Add,
    Average,
    BatchNorm,
    CategoryEncoding,
    CenterCrop,
    Concatenate,
    Conv2D,
    Dense,
    Discretization,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Maximum,
    Minimum,
    Multiply,
    Normalization,
    RandomCrop,
    RandomFlip,
    ReLU,
    Reshape,
    Softmax,
    Subtract,
)
from ..layers.dot import dot
from ..layers.global_pooling import GlobalAvgPool2D
from ..layers.pooling import AvgPool2D, MaxPool2D
from ..layers.rnn import RNN
from ..layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from ..layers.stacked_cells import StackedRNNCells
from ..models.input_layer import InputLayer
from ._names import module_getattr

MaxPooling2D = MaxPool2D
AveragePooling2D = AvgPool2D
GlobalAveragePooling2D = GlobalAvgPool2D
BatchNormalization = BatchNorm

__all__ = [
    "Activation", "Add", "AveragePooling2D", "Average", "BatchNormalization", "Concatenate", "Conv2D", "Dense",
    "Dropout", "ELU", "Flatten", "GELU", "GlobalAveragePooling2D", "Identity", "Input", "InputLayer", "Layer",
    "LeakyReLU", "MaxPooling2D", "Maximum", "Minimum", "Multiply", "Normalization", "RandomFlip", "ReLU",
    "Reshape", "Softmax", "Subtract", "SymbolicTensor", "CategoryEncoding", "CenterCrop", "Discretization",
    "RandomCrop", "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells",
]

_TEXT = "text preprocessing is outside nnscratch (numbers only); encode text to integer arrays with your own code"
REFUSED = {
    **dict.fromkeys(["TextVectorization", "StringLookup", "IntegerLookup", "Hashing", "HashedCrossing"], _TEXT),
    "TFSMLayer": "it loads TensorFlow SavedModels; nnscratch runs NumPy only",
}


def _merge(cls: type[Layer]) -> Any:
    def merge(inputs: list[Any], **kwargs: Any) -> Any:
        return cls(**kwargs)(inputs)

    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"``{cls.__name__}(**kwargs)(inputs)`` (Keras's functional form)."
    return merge


add, average, concatenate, maximum, minimum, multiply, subtract = (
    _merge(c) for c in (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract))
__all__ += ["add", "average", "concatenate", "maximum", "minimum", "multiply", "subtract", "dot"]


def _native_layer(name: str) -> Any:
    """A layer nnscratch provides under Keras's own name (e.g. one added after this module was written)."""
    value = getattr(_native, name, None) or Layer.registry.get(name)
    ok = isinstance(value, type) and issubclass(value, Layer) and value.__module__.startswith("nnscratch.layers")
    return value if ok else None


__getattr__ = module_getattr("keras.layers", globals(), REFUSED, _native_layer)
