"""Float64 ONNX graphs that onnxruntime runs: the ops it has no double kernel for, rewritten from ops it has.

A float64 model exports as double tensors (initializers, inputs, outputs and every constant in the model's
dtype). onnxruntime's CPU provider has no float64 kernel for ``Conv``, ``ConvTranspose``, ``AveragePool``,
``GlobalAveragePool``, ``GlobalMaxPool``, ``Resize``, ``Elu``, ``Selu``, ``Celu``, ``Softplus``, ``Softsign``,
``HardSigmoid``, ``HardSwish``, ``LSTM``, ``GRU`` and ``RNN``; and an ONNX attribute is a float32 number, so
``LeakyRelu``'s ``alpha``, ``Shrink``'s ``lambd`` or ``BatchNormalization``'s ``epsilon`` would round the
model's constants. ``lower`` rewrites each such node of a finished double graph into ops that run in double,
with the exact numbers the converters gave (``OnnxBuilder.origins``): the activations from ``Exp``, ``Min``,
``Relu`` ...; ``BatchNormalization`` as ``x * scale + offset`` (computed as the layer does);
global pools as ``ReduceMean``/``ReduceMax``; ``Conv`` as its windows (``Pad``, one strided ``Slice`` per kernel
offset, ``Concat``) contracted with the kernel by one ``Einsum`` (groups included: depthwise and separable
convolutions); ``ConvTranspose`` as that convolution of the input with zeros between its steps;
``AveragePool`` as the sum of its windows times one over each window's count; nearest ``Resize`` by whole
factors as a ``Gather`` per axis; the recurrent ops unrolled over the steps (``onnx_double_recurrent``).
The sizes come from ONNX's shape inference. A node it cannot rewrite (``Resize`` to computed sizes, as
``Resizing`` exports) is one error naming the layer. Float32 graphs are never touched.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from ..core.errors import InvalidValueError
from .onnx_double_recurrent import unroll

# Ops onnxruntime's CPU provider runs in float32 only (as of onnxruntime 1.32).
NO_DOUBLE_KERNEL = frozenset({
    "AveragePool", "Celu", "Conv", "ConvTranspose", "Elu", "Erf", "GlobalAveragePool", "GlobalLpPool",
    "GlobalMaxPool", "GRU", "HardSigmoid", "HardSwish", "InstanceNormalization", "LpPool", "LRN", "LSTM",
    "Resize", "RNN", "Selu", "Softplus", "Softsign", "ThresholdedRelu"})


class Lowering:
    """The rewritten node list of one graph; what each rewrite calls (``op``, ``scalar``, ``const``...)."""

    def __init__(self, onnx: Any, proto: Any, origins: dict[str, tuple[Any, dict[str, Any]]]) -> None:
        self.helper, self.numpy_helper = onnx.helper, onnx.numpy_helper
        graph = proto.graph
        inferred = onnx.shape_inference.infer_shapes(proto).graph
        self.shapes: dict[str, list[int | None]] = {}
        for info in (*inferred.input, *inferred.value_info, *inferred.output):
            dims = info.type.tensor_type.shape.dim
            self.shapes[info.name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]
        self.arrays = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
        self.shapes.update({name: list(a.shape) for name, a in self.arrays.items()})
        self.names = {*self.arrays, *(i.name for i in graph.input), *(o for n in graph.node for o in n.output)}
        self.origins = origins
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._scalars: dict[float, str] = {}
        self._ints: dict[tuple[Any, ...], str] = {}
        self.node: Any = None  # the node being rewritten

    # ------------------------------------------------------------------ building blocks
    def fresh(self, hint: str) -> str:
        name, i = hint, 1
        while name in self.names:
            name, i = f"{hint}_{i}", i + 1
        self.names.add(name)
        return name

    def op(self, op_type: str, inputs: list[str], out: str | None = None, **attributes: Any) -> str:
        """A node ``op_type`` (its output ``out``, else a new name); returns the output's name."""
        out = out or self.fresh(f"{self.node.name}/{op_type}")
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], name=self.fresh(f"{out}/node"),
                                                **attributes))
        return out

    def const(self, array: np.ndarray, hint: str) -> str:
        name = self.fresh(f"{self.node.name}/{hint}")
        self.initializers.append(self.numpy_helper.from_array(np.array(array, order="C"), name))  # (0-d kept)
        self.arrays[name] = array
        return name

    def ints(self, values: Any, hint: str) -> str:
        """An int64 constant (one initializer per value: the unrolled ops ask for the same ones often)."""
        array = np.array(values, np.int64)
        key = (array.shape, tuple(array.reshape(-1).tolist()))
        if key not in self._ints:
            self._ints[key] = self.const(array, hint)
        return self._ints[key]

    def scalar(self, value: float) -> str:
        """A float64 0-d constant (one initializer per value)."""
        if value not in self._scalars:
            name = self.fresh(f"double/{value!r}")
            self.initializers.append(self.numpy_helper.from_array(np.array(value, np.float64), name))
            self._scalars[value] = name
        return self._scalars[value]

    def attr(self, name: str, default: Any = None) -> Any:
        """The node's attribute ``name`` as the converter gave it (a float unrounded), or ``default``."""
        given = self.origins.get(self.node.name, (None, {}))[1]
        if name in given:
            return given[name]
        for a in self.node.attribute:
            if a.name == name:
                return self.helper.get_attribute_value(a)
        return default

    def shape(self, name: str) -> list[int | None]:
        if name not in self.shapes:
            self.refuse("its input's shape is not known")
        return self.shapes[name]

    def array(self, name: str) -> np.ndarray:
        if name not in self.arrays:
            self.refuse(f"its input {name!r} is not a constant")
        return np.asarray(self.arrays[name], np.float64)

    def refuse(self, why: str) -> NoReturn:
        layer = self.origins.get(self.node.name, (None, {}))[0]
        where = f"layer '{layer.name}' ({type(layer).__name__})" if layer is not None else f"node {self.node.name!r}"
        op = self.node.op_type
        problem = (f"onnxruntime runs ONNX's {op} in float32 only" if op in NO_DOUBLE_KERNEL
                   else f"ONNX's {op} takes its numbers as float32 attributes")
        raise InvalidValueError(
            f"cannot export {where} of a float64 model to ONNX: {problem}, and nnscratch cannot rewrite this {op} "
            f"in float64 ops ({why}); export a float32 copy of the model (the same layers on float32 Input tensors, "
            "then new.set_weights(model.get_weights()))")


# ---------------------------------------------------------------- element-wise ops
def _expm1_negative(low: Lowering, x: str, alpha: float, divide: bool) -> str:
    """``alpha * (exp(min(x, 0)) - 1)`` (elu), or with ``min(x, 0) / alpha`` (``divide``: celu); 0 for x >= 0."""
    below = low.op("Min", [x, low.scalar(0.0)])
    if divide:
        below = low.op("Div", [below, low.scalar(alpha)])
    return low.op("Mul", [low.op("Sub", [low.op("Exp", [below]), low.scalar(1.0)]), low.scalar(alpha)])


def _elu(low: Lowering, node: Any) -> None:
    x = node.input[0]
    low.op("Add", [low.op("Relu", [x]), _expm1_negative(low, x, float(low.attr("alpha", 1.0)), False)], node.output[0])


def _selu(low: Lowering, node: Any) -> None:
    x = node.input[0]
    alpha, gamma = float(low.attr("alpha", 1.6732632)), float(low.attr("gamma", 1.0507010))
    elu = low.op("Add", [low.op("Relu", [x]), _expm1_negative(low, x, alpha, False)])
    low.op("Mul", [elu, low.scalar(gamma)], node.output[0])


def _celu(low: Lowering, node: Any) -> None:
    x = node.input[0]
    low.op("Add", [low.op("Relu", [x]), _expm1_negative(low, x, float(low.attr("alpha", 1.0)), True)], node.output[0])


def _softplus(low: Lowering, node: Any) -> None:
    """``max(x, 0) + log(1 + exp(-|x|))`` (no overflow)."""
    x = node.input[0]
    tail = low.op("Log", [low.op("Add", [low.op("Exp", [low.op("Neg", [low.op("Abs", [x])])]), low.scalar(1.0)])])
    low.op("Add", [low.op("Relu", [x]), tail], node.output[0])


def _softsign(low: Lowering, node: Any) -> None:
    x = node.input[0]
    low.op("Div", [x, low.op("Add", [low.op("Abs", [x]), low.scalar(1.0)])], node.output[0])


def _hard_sigmoid_of(low: Lowering, x: str, alpha: float, beta: float, out: str | None = None) -> str:
    linear = low.op("Add", [low.op("Mul", [x, low.scalar(alpha)]), low.scalar(beta)])
    return low.op("Clip", [linear, low.scalar(0.0), low.scalar(1.0)], out)


def _hard_sigmoid(low: Lowering, node: Any) -> None:
    _hard_sigmoid_of(low, node.input[0], float(low.attr("alpha", 0.2)), float(low.attr("beta", 0.5)), node.output[0])


def _hard_swish(low: Lowering, node: Any) -> None:
    x = node.input[0]
    low.op("Mul", [x, _hard_sigmoid_of(low, x, 1 / 6, 0.5)], node.output[0])


def _leaky_relu(low: Lowering, node: Any) -> None:
    x = node.input[0]
    slope = low.op("Mul", [low.op("Min", [x, low.scalar(0.0)]), low.scalar(float(low.attr("alpha", 0.01)))])
    low.op("Add", [low.op("Relu", [x]), slope], node.output[0])


def _shrink(low: Lowering, node: Any) -> None:
    """``x - bias`` above ``lambd``, ``x + bias`` below ``-lambd``, 0 between."""
    x, bias, lambd = node.input[0], float(low.attr("bias", 0.0)), float(low.attr("lambd", 0.5))
    below = low.op("Where", [low.op("Less", [x, low.scalar(-lambd)]), low.op("Add", [x, low.scalar(bias)]),
                             low.scalar(0.0)])
    low.op("Where", [low.op("Greater", [x, low.scalar(lambd)]), low.op("Sub", [x, low.scalar(bias)]), below],
           node.output[0])


# ---------------------------------------------------------------- normalization and pooling
def _channel_axis(values: np.ndarray, rank: int) -> np.ndarray:
    """A ``(C,)`` vector shaped to broadcast over axis 1 of a rank-``rank`` tensor."""
    return values.reshape(-1, *[1] * (rank - 2))


def _batch_norm(low: Lowering, node: Any) -> None:
    """Inference mode, as ``BatchNorm`` computes it: ``x * scale + (beta - mean * scale)``,
    ``scale = gamma * (1 / sqrt(var + eps))``."""
    x, gamma, beta, mean, var = node.input[:5]
    rank = len(low.shape(x))
    eps = float(low.attr("epsilon", 1e-5))
    scale = low.array(gamma) * (1 / np.sqrt(low.array(var) + eps))
    offset = low.array(beta) - low.array(mean) * scale
    scaled = low.op("Mul", [x, low.const(_channel_axis(scale, rank), "scale")])
    low.op("Add", [scaled, low.const(_channel_axis(offset, rank), "offset")], node.output[0])


def _global(reduce: str) -> Callable[[Lowering, Any], None]:
    def lower(low: Lowering, node: Any) -> None:
        rank = len(low.shape(node.input[0]))
        low.op(reduce, [node.input[0]], node.output[0], axes=list(range(2, rank)), keepdims=1)
    return lower


def windows(low: Lowering, x: str, spatial: list[int], kernel: list[int], strides: list[int], dilations: list[int],
            pads: list[int], out: list[int]) -> list[str]:
    """One ``(N, C, *out)`` tensor per kernel offset (row-major): the input cells that offset reads, from ``x``
    ``(N, C, *spatial)`` padded with zeros by ONNX's ``pads`` (all begins, then all ends)."""
    d = len(spatial)
    if any(pads):
        x = low.op("Pad", [x, low.ints([0, 0, *pads[:d], 0, 0, *pads[d:]], "pads")])
    axes = low.ints(list(range(2, 2 + d)), "axes")
    steps = low.ints(strides, "steps")
    found = []
    for offset in itertools.product(*(range(k) for k in kernel)):
        starts = [o * dl for o, dl in zip(offset, dilations)]
        ends = [s + (n - 1) * st + 1 for s, n, st in zip(starts, out, strides)]
        found.append(low.op("Slice", [x, low.ints(starts, "starts"), low.ints(ends, "ends"), axes, steps]))
    return found


def _spatial_of(low: Lowering, node: Any) -> tuple[list[int], list[int]]:
    """The input's and the output's spatial sizes (the axes after batch and channels)."""
    sizes = []
    for name in (node.input[0], node.output[0]):
        dims = [d for d in low.shape(name)[2:] if d is not None]
        if len(dims) != len(low.shape(name)) - 2:
            low.refuse("its spatial sizes are not fixed")
        sizes.append(dims)
    return sizes[0], sizes[1]


def _average_pool(low: Lowering, node: Any) -> None:
    """The sum of the windows times ``1 / count``: the window's size, or its cells inside the input when
    ``count_include_pad=0``."""
    if low.attr("ceil_mode", 0) or low.attr("auto_pad", "NOTSET") not in ("NOTSET", b"NOTSET"):
        low.refuse("ceil_mode or auto_pad")
    spatial, out = _spatial_of(low, node)
    kernel = list(low.attr("kernel_shape"))
    d = len(kernel)
    strides = list(low.attr("strides", [1] * d))
    pads = list(low.attr("pads", [0] * 2 * d))
    parts = windows(low, node.input[0], spatial, kernel, strides, [1] * d, pads, out)
    total = low.op("Sum", parts) if len(parts) > 1 else parts[0]
    if low.attr("count_include_pad", 0):
        count = np.full(out, float(math.prod(kernel)))
    else:
        per_axis = []
        for n, k, s, before, o in zip(spatial, kernel, strides, pads[:d], out):
            starts = np.arange(o) * s - before
            per_axis.append(np.minimum(starts + k, n) - np.maximum(starts, 0))
        count = per_axis[0].astype(np.float64)
        for c in per_axis[1:]:
            count = np.multiply.outer(count, c)
    low.op("Mul", [total, low.const(1 / count, "inverse_count")], node.output[0])


def _convolve(low: Lowering, x: str, spatial: list[int], w: np.ndarray, bias: np.ndarray | None, strides: list[int],
              dilations: list[int], pads: list[int], group: int, out: list[int], result: str) -> None:
    """ONNX's ``Conv`` of ``x`` ``(N, C, *spatial)`` with ``w`` ``(F, C / group, *kernel)``: the windows
    ``(N, K, group, C / group, *out)`` contracted with the kernel ``(group, F / group, C / group, K)``."""
    f, c_in, *kernel = w.shape
    k = math.prod(kernel)
    parts = windows(low, x, spatial, kernel, strides, dilations, pads, out)
    cols = low.op("Concat", parts, axis=1) if len(parts) > 1 else parts[0]
    cols = low.op("Reshape", [cols, low.ints([0, k, group, c_in, *out], "windows")])
    kernel_matrix = w.reshape(group, f // group, c_in, k)
    axes = "hwv"[:len(out)]
    y = low.op("Einsum", [cols, low.const(kernel_matrix, "kernel")], equation=f"nkgc{axes},gock->ngo{axes}")
    y = low.op("Reshape", [y, low.ints([0, f, *out], "shape")], None if bias is not None else result)
    if bias is not None:
        low.op("Add", [y, low.const(_channel_axis(bias, 2 + len(out)), "bias")], result)


def _conv_arguments(low: Lowering, node: Any) -> tuple[np.ndarray, np.ndarray | None, list[int], list[int]]:
    if low.attr("auto_pad", "NOTSET") not in ("NOTSET", b"NOTSET"):
        low.refuse("auto_pad")
    w = low.array(node.input[1])
    bias = low.array(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    d = w.ndim - 2
    return w, bias, list(low.attr("strides", [1] * d)), list(low.attr("dilations", [1] * d))


def _conv(low: Lowering, node: Any) -> None:
    w, bias, strides, dilations = _conv_arguments(low, node)
    spatial, out = _spatial_of(low, node)
    pads = list(low.attr("pads", [0] * 2 * len(spatial)))
    _convolve(low, node.input[0], spatial, w, bias, strides, dilations, pads, int(low.attr("group", 1)), out,
              node.output[0])


def _conv_transpose(low: Lowering, node: Any) -> None:
    """The input with ``stride - 1`` zeros between its cells, padded by ``dilation * (kernel - 1)`` (less the
    ``pads``, plus ``output_padding`` at the end), convolved with the flipped kernel ``(F, C, *kernel)``."""
    w, bias, strides, dilations = _conv_arguments(low, node)
    if int(low.attr("group", 1)) != 1 or low.attr("output_shape") is not None:
        low.refuse("group or output_shape")
    spatial, out = _spatial_of(low, node)
    d = len(spatial)
    pads = list(low.attr("pads", [0] * 2 * d))
    extra = list(low.attr("output_padding", [0] * d))
    x = node.input[0]
    if any(s > 1 for s in strides):  # (N, C, n1, 1, n2, 1) -> padded to (N, C, n1, s1, n2, s2) -> (N, C, n1 s1, n2 s2)
        x = low.op("Reshape", [x, low.ints([0, 0, *itertools.chain(*((n, 1) for n in spatial))], "cells")])
        x = low.op("Pad", [x, low.ints([0] * (2 + 2 * d) + [0, 0, *itertools.chain(*((0, s - 1) for s in strides))],
                                       "zeros")])
        x = low.op("Reshape", [x, low.ints([0, 0, *(n * s for n, s in zip(spatial, strides))], "spread")])
    spread = [(n - 1) * s + 1 for n, s in zip(spatial, strides)]
    reach = [dl * (k - 1) for dl, k in zip(dilations, w.shape[2:])]
    before = [r - p for r, p in zip(reach, pads[:d])]
    after = [r - p + e - (n * s - m) for r, p, e, n, s, m in zip(reach, pads[d:], extra, spatial, strides, spread)]
    flipped = np.flip(w.transpose(1, 0, *range(2, 2 + d)), axis=tuple(range(2, 2 + d)))
    starts = [max(-b, 0) for b in before]
    if any(starts) or any(a < 0 for a in after):  # pads larger than the kernel's reach: crop instead
        ends = [n * s + min(a, 0) for n, s, a in zip(spatial, strides, after)]
        x = low.op("Slice", [x, low.ints(starts, "crop_starts"), low.ints(ends, "crop_ends"),
                             low.ints(list(range(2, 2 + d)), "crop_axes")])
    size = [n * s - st + min(a, 0) for n, s, st, a in zip(spatial, strides, starts, after)]
    pad = [max(b, 0) for b in before] + [max(a, 0) for a in after]
    _convolve(low, x, size, np.ascontiguousarray(flipped), bias, [1] * d, dilations, pad, 1, out, node.output[0])


def _resize(low: Lowering, node: Any) -> None:
    """Nearest ``Resize`` by whole factors (``asymmetric``, ``floor``: output cell ``i`` reads ``i // factor``)
    as a ``Gather`` per resized axis."""
    names = list(node.input) + [""] * (4 - len(node.input))
    nearest = (low.attr("mode", "nearest") in ("nearest", b"nearest")
               and low.attr("coordinate_transformation_mode") in ("asymmetric", b"asymmetric")
               and low.attr("nearest_mode", "round_prefer_floor") in ("floor", b"floor"))
    if not nearest or not names[2] or names[3] or names[2] not in low.arrays:
        low.refuse("only nearest resizing by constant whole factors is rewritten")
    scales = low.array(names[2])
    if np.any(scales != np.round(scales)) or np.any(scales < 1):
        low.refuse("only nearest resizing by constant whole factors is rewritten")
    shape = low.shape(names[0])
    y = names[0]
    resized = [axis for axis, s in enumerate(scales) if s != 1]
    for axis in resized:
        size = shape[axis]
        if size is None:
            low.refuse("a resized axis has no fixed size")
        index = np.arange(size * int(scales[axis])) // int(scales[axis])
        y = low.op("Gather", [y, low.ints(index, "index")], node.output[0] if axis == resized[-1] else None,
                   axis=axis)
    if not resized:
        low.op("Identity", [y], node.output[0])


REWRITES: dict[str, Callable[[Lowering, Any], Any]] = {
    "Elu": _elu, "Selu": _selu, "Celu": _celu, "Softplus": _softplus, "Softsign": _softsign,
    "HardSigmoid": _hard_sigmoid, "HardSwish": _hard_swish, "LeakyRelu": _leaky_relu, "Shrink": _shrink,
    "BatchNormalization": _batch_norm, "GlobalAveragePool": _global("ReduceMean"), "AveragePool": _average_pool,
    "GlobalMaxPool": _global("ReduceMax"), "Conv": _conv, "ConvTranspose": _conv_transpose, "Resize": _resize,
    "LSTM": unroll, "GRU": unroll, "RNN": unroll,
}


def lower(onnx: Any, proto: Any, origins: dict[str, tuple[Any, dict[str, Any]]]) -> Any:
    """``proto`` (a double graph) with every node in ``REWRITES`` rewritten in ops onnxruntime runs in float64;
    a node of ``NO_DOUBLE_KERNEL`` left is one error naming its layer."""
    low = Lowering(onnx, proto, origins)
    for node in proto.graph.node:
        low.node = node
        rewrite = REWRITES.get(node.op_type)
        if rewrite is not None:
            rewrite(low, node)
        elif node.op_type in NO_DOUBLE_KERNEL:
            low.refuse("no float64 form of it is known")
        else:
            low.nodes.append(node)
    read = {name for node in low.nodes for name in node.input}
    kept = [t for t in [*proto.graph.initializer, *low.initializers] if t.name in read]  # (the rewritten ones' go)
    del proto.graph.node[:], proto.graph.initializer[:]
    proto.graph.node.extend(low.nodes)
    proto.graph.initializer.extend(kept)
    return proto
