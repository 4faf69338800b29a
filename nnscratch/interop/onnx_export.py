"""ONNX export of graph models: ``model.export("m.onnx", format="onnx")`` (the ``[onnx]`` extra).

The model's graph nodes are walked in order and each node's layer is turned into ONNX ops by the
converter registered for its class (``nnscratch.interop.onnx_converters``; a layer without one is refused
by name). A model used as a layer is inlined; a parameter becomes one initializer however many nodes
share it. The exported graph computes ``model.predict``: inference mode (dropout and augmentation
are identities, ``BatchNorm`` uses its running statistics). Inputs and outputs keep nnscratch's
layout (channels-last images) with a dynamic batch dimension ``"batch"``; the file is checked with
``onnx.checker`` and written atomically. A float64 model exports in double throughout (inputs, outputs,
weights and constants); the ops onnxruntime runs in float32 only (``Conv``, ``AveragePool``, ``LSTM``, ``Elu``...)
and those whose float attributes would round the model's numbers are then rewritten in ops it runs in double
(``nnscratch.interop.onnx_double``); a float32 model's graph is never rewritten.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..core.errors import InvalidValueError, NotBuiltError, ShapeError
from ..core.graph import Graph
from ..core.tensor import SymbolicTensor
from ..io.atomic import atomic_write
from ..io.extras import require
from . import (  # noqa: F401  (register their converters)
    onnx_activation_converters,
    onnx_conv1d_variant_converters,
    onnx_dot_attention_converters,
    onnx_double,
    onnx_image_converters,
    onnx_operation_converters,
    onnx_preprocessing_converters,
    onnx_recurrent_converters,
    onnx_rnn_cell_converters,
    onnx_sequence_converters,
    onnx_sequence_shape_converters,
    onnx_small_layer_converters,
    onnx_volume_converters,
    onnx_volume_shape_converters,
)
from .onnx_converters import CONVERTERS, Value, converter_for

OPSET = 17
IR_VERSION = 8  # the IR version of opset 17: readable by onnxruntime >= 1.13
FORMATS = ("onnx",)

# nnscratch's NHWC axis -> its position in NCHW, and the permutations between the two.
_CHANNELS_FIRST_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}
_TO_CHANNELS_FIRST = [0, 3, 1, 2]
_TO_NATIVE = [0, 2, 3, 1]


def export_model(model: Any, path: str | os.PathLike, format: str = "onnx") -> Path:
    """Write ``model`` to ``path`` in ``format`` (only ``"onnx"``); returns the path."""
    if format not in FORMATS:
        raise InvalidValueError(f"unknown export format {format!r}; expected one of {', '.join(map(repr, FORMATS))}")
    return export_onnx(model, path)


def export_onnx(model: Any, path: str | os.PathLike) -> Path:
    """Write the graph model ``model`` as an ONNX file at ``path`` (atomically); returns the path."""
    onnx = require("onnx", "onnx", "ONNX export")
    graph = getattr(model, "graph", None)
    if not isinstance(graph, Graph):
        raise NotBuiltError(f"cannot export {type(model).__name__} '{getattr(model, 'name', '?')}' to ONNX: it has no "
                            f"graph yet (build it with model.build(input_shape) or call it on data first)")
    ex = OnnxBuilder(onnx, graph.inputs[0].dtype)
    inputs = [ex.graph_input(name, t) for name, t in zip(model.input_names, graph.inputs)]
    ex.graph_outputs(model.output_names, ex.inline(graph, inputs))
    proto = ex.model_proto(model.name)
    if ex.dtype != np.float32:
        proto = onnx_double.lower(onnx, proto, ex.origins)
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()

    def write(f: IO[bytes]) -> None:
        f.write(data)

    return atomic_write(path, write)


def fixed_shape(t: SymbolicTensor) -> tuple[int, ...]:
    """``t``'s per-sample shape; ``ShapeError`` for an axis of variable size (the converters need every size)."""
    if None in t.sample_shape:
        where = t.name or (t.node.layer.name if t.node is not None else "a tensor")
        raise ShapeError(f"ONNX export needs fixed shapes, but {where} has shape (batch, "
                         f"{', '.join(map(str, t.sample_shape))}) with an axis of variable size (None); rebuild the "
                         "model with Input(shape=...) of fixed sizes and copy the weights over "
                         "(new.set_weights(model.get_weights())) to export it")
    return tuple(d for d in t.sample_shape if d is not None)


class OnnxBuilder:
    """Collects the nodes, initializers, inputs and outputs of one ONNX graph; what converters call."""

    def __init__(self, onnx: Any, dtype: Any) -> None:
        self.onnx, self.helper = onnx, onnx.helper
        self.dtype = np.dtype(dtype)
        self.elem_type = onnx.helper.np_dtype_to_tensor_dtype(self.dtype)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self._names: set[str] = set()
        self._weights: dict[tuple[int, Any], tuple[Any, str]] = {}  # keeps the parameter alive: ids stay unique
        self._scalars: dict[float, str] = {}
        self._layouts: dict[tuple[str, tuple[int, ...]], str] = {}
        self._converting: list[Any] = []  # the layers whose converters are running, innermost last
        # Each node's layer and attributes as given (floats unrounded), by node name: for the float64 rewrite.
        self.origins: dict[str, tuple[Any, dict[str, Any]]] = {}

    # ------------------------------------------------------------------ names and nodes
    def fresh(self, hint: str) -> str:
        """A tensor name not used yet, made from ``hint``."""
        base = re.sub(r"[^A-Za-z0-9_./:+-]", "_", hint) or "t"
        name, i = base, 1
        while name in self._names:
            name, i = f"{base}_{i}", i + 1
        self._names.add(name)
        return name

    def node(self, op: str, inputs: list[str], hint: str = "", **attributes: Any) -> str:
        """Add an ONNX node ``op`` reading ``inputs`` (tensor names); returns its output's name."""
        return self.node_outputs(op, inputs, 1, hint, **attributes)[0]

    def node_outputs(self, op: str, inputs: list[str], count: int, hint: str = "", **attributes: Any) -> list[str]:
        """An ONNX node ``op`` with ``count`` outputs (an ``LSTM``'s sequence and final states); their names."""
        first = self.fresh(f"{hint}/{op}" if hint else op)
        outs = [first] + [self.fresh(f"{first}/{k}") for k in range(1, count)]
        self.nodes.append(self.helper.make_node(op, inputs, outs, name=first, **attributes))
        self.origins[first] = (self._converting[-1] if self._converting else None, attributes)
        return outs

    # ------------------------------------------------------------------ initializers
    def weight(self, param: Any, hint: str, transform: Callable[[np.ndarray], np.ndarray] | None = None) -> str:
        """An initializer holding ``transform(param.data)`` (a ``Parameter`` or an array), in the model's
        dtype; asked again for the same parameter and transform, the same initializer."""
        key = (id(param), getattr(transform, "__code__", transform))
        known = self._weights.get(key)
        if known is not None:
            return known[1]
        data = np.asarray(getattr(param, "data", param))
        name = self.constant((transform(data) if transform is not None else data).astype(self.dtype), hint)
        self._weights[key] = (param, name)
        return name

    def constant(self, array: np.ndarray, hint: str) -> str:
        """An initializer holding ``array`` as it is (its own dtype)."""
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def scalar(self, value: float, hint: str) -> str:
        """A 0-d constant of the model's dtype (one initializer per value)."""
        value = float(self.dtype.type(value))
        if value not in self._scalars:
            self._scalars[value] = self.constant(np.array(value, self.dtype), hint)
        return self._scalars[value]

    def channel_vector(self, v: Value, vector: np.ndarray, hint: str) -> str:
        """A constant of the model's dtype that broadcasts ``vector`` ``(C,)`` over the channel axis of ``v``."""
        vector = np.asarray(vector).astype(self.dtype)
        return self.constant(vector.reshape(-1, 1, 1) if v.channels_first else vector, hint)

    # ------------------------------------------------------------------ layouts
    def native(self, v: Value) -> str:
        """The name of ``v`` in nnscratch's (channels-last) layout."""
        return self.transposed(v.name, _TO_NATIVE) if v.channels_first else v.name

    def channels_first(self, v: Value) -> str:
        """The name of the image tensor ``v`` in ONNX's NCHW layout."""
        if len(v.shape) != 3:
            raise ShapeError(f"ONNX export: expected an image tensor (batch, height, width, channels), got (batch, "
                             f"{', '.join(map(str, v.shape))})")
        return v.name if v.channels_first else self.transposed(v.name, _TO_CHANNELS_FIRST)

    def transposed(self, name: str, perm: list[int]) -> str:
        """``Transpose(name, perm)``: one node per tensor and permutation, however many layers read it."""
        key = (name, tuple(perm))
        if key not in self._layouts:
            self._layouts[key] = self.node("Transpose", [name], hint=name, perm=perm)
        return self._layouts[key]

    def transposed_from(self, name: str, perm: list[int], hint: str) -> str:
        """A new ``Transpose(name, perm)``, noted so that transposing it back (the inverse permutation) reads
        ``name`` itself: a layer that works in another layout hands its result back without a round trip."""
        out = self.node("Transpose", [name], hint=hint, perm=perm)
        self._layouts[(out, tuple(int(i) for i in np.argsort(perm)))] = name
        return out

    @staticmethod
    def axis(v: Value, axis: int) -> int:
        """nnscratch's ``axis`` (batch axis 0, negative from the end) of ``v`` as an axis of the ONNX tensor."""
        rank = len(v.shape) + 1
        if not -rank <= axis < rank:
            raise ShapeError(f"ONNX export: axis {axis} is out of range for a tensor of rank {rank}")
        axis %= rank
        return _CHANNELS_FIRST_AXIS[axis] if v.channels_first else axis

    # ------------------------------------------------------------------ layers and graphs
    def convert(self, layer: Any, inputs: list[Value]) -> Value | list[Value]:
        """``layer`` applied to ``inputs``, by its registered converter; a graph model is inlined."""
        fn = converter_for(layer)
        if fn is not None:
            self._converting.append(layer)
            try:
                return fn(self, layer, inputs)
            finally:
                self._converting.pop()
        graph = getattr(layer, "graph", None)
        if isinstance(graph, Graph):
            return self.inline(graph, inputs)
        cls = type(layer).__name__
        known = ", ".join(sorted({c.__name__ for c in CONVERTERS}))
        raise InvalidValueError(
            f"cannot export layer '{layer.name}' ({cls}) to ONNX: no converter is registered for {cls}. Register one "
            f"with nnscratch.interop.onnx_converters.register_onnx_converter({cls}, fn). Layers that export: {known}")

    def inline(self, graph: Graph, inputs: list[Value]) -> list[Value]:
        """The nodes of ``graph`` applied to ``inputs`` (one per graph input); returns one value per output."""
        if graph.has_masks:
            raise InvalidValueError("ONNX export of a model with masks (Embedding(mask_zero=True), Masking) is not "
                                    "supported: the exported graph would read the padding steps; build the same model "
                                    "without masks and copy the weights over to export it")
        if len(inputs) != len(graph.inputs):
            raise InvalidValueError(f"ONNX export: a graph of {len(graph.inputs)} inputs was given {len(inputs)}")
        values = {id(t): v for t, v in zip(graph.inputs, inputs)}
        for node in graph.nodes:
            result = self.convert(node.layer, [values[id(t)] for t in node.inputs])
            outs = result if isinstance(result, list) else [result]
            if len(outs) != len(node.outputs):
                raise InvalidValueError(f"ONNX converter of layer '{node.layer.name}' ({type(node.layer).__name__}) "
                                        f"returned {len(outs)} outputs, the layer has {len(node.outputs)}")
            for t, v in zip(node.outputs, outs):
                values[id(t)] = replace(v, shape=fixed_shape(t))
        return [values[id(t)] for t in graph.outputs]

    # ------------------------------------------------------------------ the model
    def _info(self, name: str, sample_shape: tuple[int, ...]) -> Any:
        return self.helper.make_tensor_value_info(name, self.elem_type, ["batch", *sample_shape])

    def graph_input(self, name: str, t: SymbolicTensor) -> Value:
        """A graph input of one sample's shape ``t.sample_shape``, batch dimension dynamic."""
        shape = fixed_shape(t)
        name = self.fresh(name)
        self.inputs.append(self._info(name, shape))
        return Value(name, shape)

    def graph_outputs(self, names: list[str], values: list[Value]) -> None:
        """The graph outputs, channels-last, each named after its layer (an ``Identity`` gives the name)."""
        for name, v in zip(names, values):
            out = self.fresh(name)
            self.nodes.append(self.helper.make_node("Identity", [self.native(v)], [out], name=f"{out}/output"))
            self.outputs.append(self._info(out, v.shape))

    def model_proto(self, name: str) -> Any:
        graph = self.helper.make_graph(self.nodes, name, self.inputs, self.outputs, initializer=self.initializers)
        proto = self.helper.make_model(graph, producer_name="nnscratch",
                                       opset_imports=[self.helper.make_opsetid("", OPSET)])
        proto.ir_version = IR_VERSION
        return proto
