"""``InputLayer``: the layer a graph model lists for each of its inputs (Keras's ``model.layers[0]``).

``keras.Input(shape=...)`` is a symbolic tensor; a graph model lists one ``InputLayer`` per input first in
``model.layers``, as Keras's functional models do, so a Keras program that reads ``model.layers[2]`` or
``[layer.output for layer in model.layers]`` finds what it would in Keras. An ``InputLayer`` computes nothing
and has no weights: its ``input`` and ``output`` are the input tensor. ``InputLayer(shape=(784,))`` as the
first item of a ``Sequential`` gives the model its input shape, as ``Input(shape=(784,))`` does (a
``Sequential`` does not list it, as in Keras).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError
from ..core.layer import Layer
from ..core.tensor import Input, SymbolicTensor


class InputLayer(Layer):
    """The input of a graph: ``InputLayer(shape=(28, 28, 1))`` or Keras's ``batch_shape=(None, 28, 28, 1)``;
    ``input_tensor=`` wraps an existing ``Input`` tensor. Per-sample shape ``shape``; identity, no weights."""

    def __init__(self, shape: Any = None, batch_size: int | None = None, dtype: Any = None,
                 batch_shape: Any = None, input_tensor: SymbolicTensor | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if kwargs.pop("sparse", False) or kwargs.pop("ragged", False):
            raise InvalidValueError("InputLayer: sparse and ragged inputs are not supported (NumPy arrays are dense)")
        kwargs.pop("optional", None)  # (an optional input is still given: nnscratch feeds every input)
        if input_tensor is None:
            if shape is None and batch_shape is None:
                raise InvalidValueError("InputLayer needs shape= (one sample's shape) or batch_shape=")
            input_tensor = Input(shape=shape, dtype="float32" if dtype is None else dtype, name=name,
                                 **({} if batch_shape is None else {"batch_shape": batch_shape}))
        elif not isinstance(input_tensor, SymbolicTensor):
            raise InvalidValueError(f"InputLayer input_tensor must be a keras.Input tensor, got "
                                    f"{type(input_tensor).__name__}")
        super().__init__(name=name or input_tensor.name, **kwargs)
        self.tensor = input_tensor
        self.dtype = np.dtype(input_tensor.dtype)
        self.input_shape = input_tensor.sample_shape
        self.batch_size = batch_size

    @classmethod
    def of(cls, tensor: SymbolicTensor) -> InputLayer:
        """The one ``InputLayer`` of the input ``tensor`` (made at the first request, then the same object)."""
        layer = tensor.__dict__.get("_input_layer")
        if layer is None:
            layer = tensor.__dict__["_input_layer"] = cls(input_tensor=tensor)
        return layer

    @property
    def output(self) -> SymbolicTensor:  # the tensor itself, not the latest node's output
        return self.tensor

    @property
    def input(self) -> SymbolicTensor:
        return self.tensor

    @property
    def batch_shape(self) -> tuple[int | None, ...]:
        return self.tensor.shape

    def forward_call(self, ctx: Call, x: Any) -> Any:
        return x

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        return grad_out

    def get_config(self) -> dict[str, Any]:
        return {"batch_shape": list(self.tensor.shape), "dtype": self.dtype.name}
