"""``Lambda``: a layer made of a function written with ``nnscratch.ops`` (differentiated by the tape)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.layer import Layer


class Lambda(Layer):
    """``Lambda(lambda x: ops.square(x) + 1)``: ``call`` is the function; no weights.

    A Lambda is not saved in model files: its function would have to be unpickled, which nnscratch never
    does. For a model you want to save, write the function as a layer class and ``register_layer`` it.
    """

    abstract = True  # never built from a model file

    def __init__(self, function: Callable[[Any], Any], output_shape: Any = None, arguments: dict | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise InvalidTypeError(f"Lambda takes a function, got {type(function).__name__}")
        self.function = function
        self.arguments = dict(arguments or {})

    def call(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)

    def get_config(self) -> dict[str, Any]:
        raise InvalidValueError(f"Lambda layer '{self.name}' cannot be saved (its function would have to be "
                                f"unpickled); write it as a layer class and register it with nn.register_layer")

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.function, '__name__', 'function')})"
