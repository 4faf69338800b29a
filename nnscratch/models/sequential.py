"""``Sequential``: a model that applies its layers one after another — a chain of nodes in the same graph
engine as any ``Model``, built when the input shape is known."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..core import shapes
from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..core.graph import Graph
from ..core.layer import Layer
from ..core.registry import from_config, to_config
from ..core.tensor import Input, SymbolicTensor
from .input_layer import InputLayer
from .model import Model


def sample_shape(input_shape: Any) -> tuple[int | None, ...]:
    """``input_shape`` (one sample's shape, without the batch axis; None: any size) as a tuple."""
    return shapes.parse(input_shape, "input_shape", InvalidValueError)


class Sequential(Model):
    """``Sequential([Dense(64, activation="relu"), Dense(10), Softmax()], seed=0)``.

    Forward runs ``layers[0]`` .. ``layers[-1]``; backward runs them in reverse. Parameters are named
    ``layers.<index>.<name>`` in ``state_dict``. An ``nn.Input(shape=...)`` as the first item (or
    ``build(input_shape)``) builds it at once; otherwise it is built by the first data it sees. ``seed``
    drives the weights' initialization as well as shuffling and dropout. ``dtype`` (``"float32"`` or
    ``"float64"``) is the model's; left out, the first ``Input``'s (its float dtype), else float32.
    """

    def __init__(self, layers: Iterable[Layer] = (), seed: Any = None, dtype: Any = None,
                 name: str | None = None, trainable: bool = True) -> None:
        if isinstance(layers, Layer) or not isinstance(layers, Iterable) or isinstance(layers, (str, bytes, dict)):
            raise InvalidTypeError(f"Sequential takes a list of layers, got {type(layers).__name__}; "
                                   f"e.g. Sequential([Dense(64, activation='relu'), Dense(1)])")
        items: list[Any] = [from_config(layer) if isinstance(layer, dict) else layer for layer in layers]
        if items and isinstance(items[0], InputLayer):  # Keras's Sequential([InputLayer(shape=...), ...])
            items[0] = items[0].output
        start = None
        if items and isinstance(items[0], SymbolicTensor):
            start, items = items.pop(0), items
        for i, layer in enumerate(items):
            if not isinstance(layer, Layer):
                raise InvalidValueError(f"Sequential layer {i} must be a layer, got {type(layer).__name__}")
        super().__init__(name=name, seed=seed)
        self.chain: list[Layer] = items
        self.layers = list(items)
        self.set_dtype(dtype if dtype is not None else "float32" if start is None else start.dtype)
        self.set_rng(self.rng)
        if start is None and items and getattr(items[0], "declared_input_shape", None) is not None:
            start = Input(shape=sample_shape(items[0].declared_input_shape), dtype=self.dtype)  # Keras's input_shape=
        if start is not None:
            self.build(shapes.SampleShape(start.sample_shape))
        if not trainable:
            self.trainable = False

    def add(self, layer: Layer) -> Sequential:
        """Append a layer (a built model is rebuilt around its layers, which keep their weights); an ``Input``
        or ``InputLayer`` first gives the model its input shape."""
        start = layer.output if isinstance(layer, InputLayer) else layer
        if isinstance(start, SymbolicTensor) and not self.chain:
            return self.build(shapes.SampleShape(start.sample_shape)) or self
        if not isinstance(layer, Layer):
            raise InvalidValueError(f"Sequential.add expects a layer, got {type(layer).__name__}")
        self.chain.append(layer.set_dtype(self.dtype).set_rng(self.rng))
        self.layers = list(self.chain)
        if self.graph is not None:
            self._build_chain(self.graph.inputs[0].sample_shape)
        elif len(self.chain) == 1 and getattr(layer, "declared_input_shape", None) is not None:
            self.build(shapes.SampleShape(sample_shape(layer.declared_input_shape)))
        return self

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self.chain:
            raise InvalidValueError("Sequential.pop: the model has no layers")
        layer = self.chain.pop()
        self.layers = list(self.chain)
        if self.graph is not None:
            shape = self.graph.inputs[0].sample_shape
            self.graph = None
            if self.chain:
                self._build_chain(shape)
        return layer

    def build(self, input_shape: Any) -> Sequential:  # type: ignore[override]  # returns self, for chaining
        """Create every parameter for samples of shape ``input_shape`` (one pass of the layers' shapes)."""
        shape = sample_shape(input_shape)
        if self.graph is not None:
            if shape != tuple(self.input_shape):
                raise ShapeError(f"input_shape {shape} does not match the shape the model was built for, "
                                 f"{tuple(self.input_shape)}")
            return self
        self._build_chain(shape)
        return self

    def _build_chain(self, shape: tuple[int | None, ...]) -> None:
        x = Input(shape=shape, dtype=self.dtype)
        y = x
        for layer in self.chain:
            y = layer(y)
        self._set_graph(Graph(x, y), several_inputs=False, several_outputs=False)

    def forward_call(self, ctx: Call, x: Any) -> Any:
        if self.graph is None:
            if not hasattr(x, "shape"):
                raise InvalidTypeError("Sequential expects a numpy array of shape (batch, ...), got "
                                       f"{type(x).__name__}")
            self.build(x.shape[1:])
        return super().forward_call(ctx, x)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.graph is None:
            self.build(input_shape)
        return super().compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"layers": [to_config(layer) for layer in self.chain], "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        return cls(**config)  # its config holds its constructor's arguments, not a graph record
