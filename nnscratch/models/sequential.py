"""``Sequential``: a model that applies its layers one after another."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError
from ..layers.activations import Activation, ReLU
from ..layers.conv import Conv2D
from ..layers.pooling import MaxPool2D
from .model import Model
from ..core.layer import Module, from_config, to_config


class Sequential(Model):
    """``Sequential([Dense(64, activation="relu"), Dense(10), Softmax()], seed=0)``.

    Forward runs ``layers[0]`` .. ``layers[-1]``; backward runs them in reverse. Parameters are named
    ``layers.<index>.<name>`` in ``state_dict``. A ReLU right before a ``MaxPool2D`` is applied by the pool,
    on its smaller output (``MaxPool2D.forward_after_relu``): the same numbers, fewer passes.
    """

    def __init__(self, layers: Iterable[Module] = (), seed: Any = None, dtype: Any = "float32") -> None:
        if isinstance(layers, Module) or not isinstance(layers, Iterable) or isinstance(layers, (str, bytes, dict)):
            raise InvalidTypeError(f"Sequential takes a list of layers, got {type(layers).__name__}; "
                                   f"e.g. Sequential([Dense(64, activation='relu'), Dense(1)])")
        layers = [from_config(layer) if isinstance(layer, dict) else layer for layer in layers]
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise InvalidValueError(f"Sequential layer {i} must be a Module, got {type(layer).__name__}")
        self.layers = layers
        super().__init__(seed=seed, dtype=dtype)
        self._link_relu_max_pool()

    def add(self, layer: Module) -> Sequential:
        """Append a layer (before the model is built)."""
        if self.built:
            raise InvalidValueError("cannot add a layer to a model that is already built")
        if not isinstance(layer, Module):
            raise InvalidValueError(f"Sequential.add expects a Module, got {type(layer).__name__}")
        self.layers.append(layer.set_dtype(self.dtype).set_rng(self.rng))
        self._link_relu_max_pool()
        return self

    def _link_relu_max_pool(self) -> None:
        """Note each ReLU (a layer or fused in a ``Conv2D``) followed by a ``MaxPool2D``: ``forward`` lets the
        pool apply it on its smaller output (``MaxPool2D.forward_after_relu``)."""
        self._relu_in_pool = {i for i, (before, after) in enumerate(zip(self.layers, self.layers[1:]))
                              if isinstance(after, MaxPool2D)
                              and (type(before) is ReLU or (isinstance(before, Conv2D) and before._relu))}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not self.built:
            self.input_shape = tuple(x.shape[1:])
        linked = self._relu_in_pool
        for i, layer in enumerate(self.layers):
            if i in linked:
                x = layer.forward_before_relu(x, training)
            elif i - 1 in linked:
                x = layer.forward_after_relu(x, training)
            else:
                x = layer.forward(x, training)
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        for layer in reversed(self.layers):
            if grad_out is None:  # an earlier layer was told not to compute its input gradient
                return None
            grad_out = layer.backward(grad_out)
        return grad_out

    def output_activation(self) -> Activation | None:
        last = self.layers[-1] if self.layers else None
        if isinstance(last, Activation):
            return last
        act = getattr(last, "activation", None)
        return act if isinstance(act, Activation) else None

    def get_config(self) -> dict[str, Any]:
        return {"layers": [to_config(layer) for layer in self.layers], "dtype": self.dtype.name}

