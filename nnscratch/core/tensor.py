"""Symbolic tensors and nodes: how calling layers on ``Input`` tensors records a graph.

``x = Input(shape=(28, 28, 1))`` is a ``SymbolicTensor``: a per-sample shape and a dtype, no data.
Calling a layer on symbolic tensors builds the layer for those shapes and records a ``Node`` (the
layer, its input tensors, its output tensors); the outputs are new symbolic tensors. ``Model(inputs,
outputs)`` then walks the nodes back from the outputs (``nnscratch.core.graph``). A layer called at two
places has two nodes: one set of weights, two calls.

Operators and ``nnscratch.ops`` functions on symbolic tensors (``x + inputs``, ``x[:, 0]``, ``ops.mean(x,
axis=1)``) record nodes too, of an ``Operation`` layer applying that op: ``nnscratch.autodiff.operation`` makes
them, through ``SymbolicTensor.operation_hook`` (the core does not import autodiff).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from . import masking, shapes
from .errors import InvalidTypeError, InvalidValueError, NotBuiltError


def _operation(name: str, *args: Any) -> Any:
    hook = SymbolicTensor.operation_hook
    if hook is None:
        raise NotImplementedError("operators on symbolic tensors need nnscratch's autodiff engine: import nnscratch")
    return hook(name, args)


def _operator(name: str, reflected: bool = False) -> Callable[[SymbolicTensor, Any], Any]:
    """The method ``x <op> other`` (``other <op> x`` when ``reflected``): a node applying the public op ``name``."""
    if reflected:
        return lambda self, other: _operation(name, other, self)
    return lambda self, other: _operation(name, self, other)


class SymbolicTensor:
    """A placeholder for the arrays that will flow through a graph: ``shape`` is ``(None, *sample_shape)``.

    Operators make nodes, as on Keras's KerasTensor: ``+ - * / // % ** @`` (and reflected), unary ``-``,
    ``abs()``, ``x[...]``, ``< <= > >=``, ``& | ^ ~``; ``==`` and ``!=`` keep Python's identity meaning (graphs
    look tensors up by it). NumPy broadcasting applies, as in ``keras.ops``.
    """

    # ``operation_hook(name, args)``: the output(s) of a new node applying the public op ``name`` (a function of
    # ``nnscratch.ops``) to ``args``. Installed by ``nnscratch.autodiff.operation``, which the core does not import.
    operation_hook: ClassVar[Callable[[str, tuple], Any] | None] = None
    __array_ufunc__ = None  # ``array + x`` hands over to ``x.__radd__`` rather than converting ``x``

    def __init__(self, sample_shape: tuple[int | None, ...], dtype: Any, node: Node | None = None, index: int = 0,
                 name: str | None = None) -> None:
        self.sample_shape = tuple(None if d is None else int(d) for d in sample_shape)  # None: any size
        self.masked = False  # whether it carries a mask (nnscratch.core.masking)
        self.dtype = np.dtype(dtype)
        self.node = node  # the node that produces it; None for an Input
        self.index = index  # which output of that node
        self.name = name

    @property
    def shape(self) -> tuple[int | None, ...]:
        return (None, *self.sample_shape)

    @property
    def ndim(self) -> int:
        return 1 + len(self.sample_shape)

    def __repr__(self) -> str:
        where = f", from {self.node.layer.name}" if self.node is not None else f", input '{self.name}'"
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype.name}{where}>"

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise InvalidTypeError("a symbolic tensor (from nn.Input) has no values: build a Model from it and call "
                               "model.predict(x) on arrays")

    def __iter__(self) -> Any:
        raise InvalidTypeError("a symbolic tensor cannot be iterated (its batch size is not known): index it, "
                               "x[:, i], or split it with ops.split")

    __add__, __radd__ = _operator("add"), _operator("add", reflected=True)
    __sub__, __rsub__ = _operator("subtract"), _operator("subtract", reflected=True)
    __mul__, __rmul__ = _operator("multiply"), _operator("multiply", reflected=True)
    __truediv__, __rtruediv__ = _operator("divide"), _operator("divide", reflected=True)
    __floordiv__, __rfloordiv__ = _operator("floor_divide"), _operator("floor_divide", reflected=True)
    __mod__, __rmod__ = _operator("mod"), _operator("mod", reflected=True)
    __pow__, __rpow__ = _operator("power"), _operator("power", reflected=True)
    __matmul__, __rmatmul__ = _operator("matmul"), _operator("matmul", reflected=True)
    __and__, __rand__ = _operator("logical_and"), _operator("logical_and", reflected=True)
    __or__, __ror__ = _operator("logical_or"), _operator("logical_or", reflected=True)
    __xor__, __rxor__ = _operator("logical_xor"), _operator("logical_xor", reflected=True)
    __lt__, __le__ = _operator("less"), _operator("less_equal")
    __gt__, __ge__ = _operator("greater"), _operator("greater_equal")
    __getitem__ = _operator("getitem")

    def __neg__(self) -> Any:
        return _operation("negative", self)

    def __pos__(self) -> SymbolicTensor:
        return self

    def __abs__(self) -> Any:
        return _operation("absolute", self)

    def __invert__(self) -> Any:
        return _operation("logical_not", self)


class Node:
    """One call of ``layer`` in a graph: ``inputs`` -> ``outputs`` (symbolic tensors)."""

    def __init__(self, layer: Any, inputs: list[SymbolicTensor], outputs: list[SymbolicTensor],
                 several_inputs: bool, several_outputs: bool, training: bool | None = None) -> None:
        self.layer = layer
        self.training = training  # None: the model call's mode; True/False: this node always runs so
        self.inputs = inputs
        self.outputs = outputs
        self.several_inputs = several_inputs
        self.several_outputs = several_outputs

    def __repr__(self) -> str:
        return f"<Node {self.layer.name}: {len(self.inputs)} in, {len(self.outputs)} out>"


_input_count = 0
# The nodes each layer was called at, for Keras's ``layer.output`` (weak: a layer keeps no graph alive).
_nodes: weakref.WeakKeyDictionary[Any, list[Node]] = weakref.WeakKeyDictionary()


def latest_node(layer: Any, what: str = "output") -> Node:
    """The node of ``layer``'s latest call on symbolic tensors (``what`` names the attribute asked for)."""
    nodes = _nodes.get(layer)
    if not nodes:
        raise NotBuiltError(f"{layer.name} has no {what} yet: it has not been called on symbolic tensors "
                            f"(keras.Input) nor added to a built model")
    return nodes[-1]


def accepts_batch_shape(build: Any) -> Any:
    """``build`` taking Keras's batch-shaped ``(None, ...)`` as well as the per-sample shape (a ``SampleShape``
    starting with ``None`` is per-sample: its first axis has a variable size)."""
    def wrapper(self: Any, input_shape: Any, *args: Any, **kwargs: Any) -> Any:
        if (isinstance(input_shape, (tuple, list)) and len(input_shape) > 0 and input_shape[0] is None
                and not isinstance(input_shape, shapes.SampleShape)):
            input_shape = tuple(input_shape[1:])
        return build(self, input_shape, *args, **kwargs)

    wrapper.__doc__, wrapper.__name__, wrapper.__wrapped__ = build.__doc__, build.__name__, build  # type: ignore[attr-defined]
    return wrapper

def Input(shape: Any = None, dtype: Any = "float32", name: str | None = None,
          batch_size: int | None = None, **kwargs: Any) -> SymbolicTensor:  # noqa: N802 - Keras's name
    """A graph input for samples of shape ``shape`` (without the batch axis): ``Input(shape=(784,))``; ``None``
    for an axis of variable size, e.g. ``Input(shape=(None,))`` for token sequences of any length."""
    global _input_count
    if "batch_shape" in kwargs and shape is None:
        shape = tuple(kwargs.pop("batch_shape"))[1:]
    if kwargs:
        raise InvalidValueError(f"Input got unexpected arguments {sorted(kwargs)}")
    shape = shapes.parse(shape, "Input shape")
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":  # Keras's integer inputs (indices for an Embedding) and boolean ones (an attention
        dtype = np.dtype(np.float32)  # mask) are carried as float32: exact, integers below 2**24
    if dtype not in (np.float32, np.float64):
        raise InvalidValueError(f"Input dtype must be float32 or float64 (or an integer or boolean type, carried as "
                                f"float32), got {dtype}")
    _input_count += 1
    return SymbolicTensor(tuple(shape), dtype, None, 0,
                          name or ("input" if _input_count == 1 else f"input_{_input_count - 1}"))


def connect(layer: Any, x: Any, training: bool | None = None) -> Any:
    """``layer(x)`` on symbolic tensors: build ``layer`` for their shapes, record a node, return its outputs.
    ``training`` True/False pins the node's mode (Keras's ``layer(x, training=False)``); None follows the model."""
    several_inputs = isinstance(x, (list, tuple))
    inputs = list(x) if several_inputs else [x]
    for i, t in enumerate(inputs):
        if not isinstance(t, SymbolicTensor):
            raise InvalidTypeError(f"{layer.name}: input {i} is a {type(t).__name__}; a layer called on symbolic "
                                   f"tensors needs all of its inputs symbolic (from nn.Input or another layer)")
    dtypes = {t.dtype for t in inputs}
    if len(dtypes) == 1 and layer.dtype != inputs[0].dtype and not layer.built:
        layer.set_dtype(inputs[0].dtype)
    shapes: Any = [t.sample_shape for t in inputs] if several_inputs else inputs[0].sample_shape
    out_shapes = layer.compute_output_shape(shapes)
    several_outputs = isinstance(out_shapes, list)
    outputs = [SymbolicTensor(s, layer.dtype) for s in (out_shapes if several_outputs else [out_shapes])]
    masked = masking.output_masked(layer, shapes, [t.masked for t in inputs] if several_inputs else inputs[0].masked)
    for t, flag in zip(outputs, masked if isinstance(masked, list) else [masked] * len(outputs)):
        t.masked = flag
    node = Node(layer, inputs, outputs, several_inputs, several_outputs, None if training is None else bool(training))
    for i, t in enumerate(outputs):
        t.node, t.index = node, i
    _nodes.setdefault(layer, []).append(node)
    return outputs if several_outputs else outputs[0]
