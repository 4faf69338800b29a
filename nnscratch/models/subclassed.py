"""Models written by subclassing ``Model`` with ``__init__`` and ``call`` (Keras's subclassing API).

    class MLP(nn.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = nn.Dense(32, activation="relu")
            self.out = nn.Dense(10)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

Such a model is built on the first data it sees (or ``build(input_shape)``): its graph is one node, from
an ``Input`` of that shape through a ``CallNode`` that runs ``call`` on the tape (``Layer.call_engine``,
as for a custom layer written with ``call``), so ``compile``/``fit``/``evaluate``/``predict``, nesting in
other models and ``save_weights`` work as for any graph model. The layers it uses are its attributes
(or items of list/tuple attributes): ``layers``, ``weights`` and ``state_dict`` find them there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import NotBuiltError, ShapeError
from ..core.graph import Graph
from ..core.layer import Layer
from ..core.shapes import SampleShape
from ..core.tensor import Input


class CallNode(Layer):
    """The one node of a subclassed model's graph: runs ``model.call`` on the tape, differentiated by it."""

    abstract = True  # never named in a model file: the model itself is

    def __init__(self, model: Layer, input_shape: Any) -> None:
        super().__init__(name=model.name)
        self.model = model
        self.dtype = model.dtype
        self.input_shape = input_shape

    def children(self) -> Iterator[tuple[str, Layer]]:
        return iter(())  # the model's layers are the model's children (no cycle)

    def forward_call(self, ctx: Call, x: Any) -> Any:
        return self._engine().trace(self.model, ctx, x)

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        return self._engine().backward(self.model, ctx, grad_out)


def runs_call(model: Any) -> bool:
    """True for a ``Model`` subclass that defines ``call`` and was given no ``inputs``/``outputs``."""
    return bool(type(model).traced) and not getattr(model, "functional", False)


def sub_layers(model: Any) -> Iterator[tuple[str, Layer]]:
    """The model's attributes that are layers (or in list/tuple attributes), in assignment order."""
    for name, value in Layer.children(model):
        if not name.startswith(("_layers", "_call_node")):
            yield name, value


def children(model: Any) -> Iterator[tuple[str, Layer]]:
    yield from sub_layers(model)
    node = vars(model).get("_call_node")
    if node is not None:
        yield "_call_node", node  # not ``per_sample``: the model never splits a batch across threads


def shapes_of(x: Any) -> Any:
    """Per-sample shape(s) of an array, or of a list of arrays (several inputs)."""
    if isinstance(x, (list, tuple)):
        return [tuple(np.shape(a)[1:]) for a in x]
    if not hasattr(x, "shape"):
        raise NotBuiltError(f"a subclassed model is built from arrays of shape (batch, ...), got {type(x).__name__}")
    return tuple(x.shape[1:])


def _sample(shape: Any) -> tuple[int | None, ...]:
    """A per-sample shape from Keras's batch shape ``(None, ...)`` or a per-sample one (a ``SampleShape`` is
    taken as it is)."""
    if not isinstance(shape, SampleShape) and len(shape) > 0 and shape[0] is None:
        shape = shape[1:]
    return tuple(None if d is None else int(d) for d in shape)


def build(model: Any, input_shape: Any) -> None:
    """Trace ``call`` once on zeros of ``input_shape`` (per sample, or Keras's ``(None, ...)``; a list for
    several inputs): the sub-layers build themselves, and the model gets its one-node graph."""
    several = isinstance(input_shape, list)
    shapes = [_sample(s) for s in (input_shape if several else [input_shape])]
    if any(None in s for s in shapes):
        raise ShapeError(f"{type(model).__name__} (a subclassed model) takes inputs of fixed shape, got "
                         f"{', '.join(str(s) for s in shapes)} with an axis of variable size (None): its call builds "
                         f"its layers for the sizes it first sees; give every size, e.g. build((None, maxlen))")
    inputs = [Input(shape=s, dtype=model.dtype) for s in shapes]
    node = CallNode(model, shapes if several else shapes[0])
    outputs = node(inputs if several else inputs[0])
    model._call_node = node
    model._set_graph(Graph(inputs if several else inputs[0], outputs),
                     several_inputs=several, several_outputs=isinstance(outputs, list))
