"""Per-layer ONNX converters: one function per layer class, kept in a registry keyed by class.

A converter is ``fn(ex, layer, inputs) -> Value | list[Value]``: ``ex`` is the exporter's builder
(``nnscratch.interop.onnx_export.OnnxBuilder``), ``inputs`` one ``Value`` per input of the node. It adds ONNX
nodes with ``ex.node(op, [names], **attributes)``, weights with ``ex.weight(param, hint, transform)``
(a layer called at several places gets one initializer) and constants with ``ex.constant(array, hint)``.

Images are channels-last (NHWC) in nnscratch and channels-first (NCHW) in ONNX's Conv and pooling
ops. A ``Value`` says which of the two layouts its 4-D tensor is in; ``ex.native(v)`` and
``ex.channels_first(v)`` give its name in the layout a converter needs (inserting one ``Transpose``,
reused by every other reader), so a chain conv-relu-pool-conv stays channels-first until a layer such
as ``Flatten`` needs the channels-last order back. Element-wise converters keep their input's layout.

Your own layer: ``register_onnx_converter(MyLayer, fn)``. Look-up is by exact class, so a subclass that
changes the computation is refused rather than exported as its parent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError, NotBuiltError
from ..layers.activations import ELU, GELU, Identity, LeakyReLU, Sigmoid, Tanh
from ..layers.augment import RandomFlip, RandomShift
from ..layers.batchnorm import BatchNorm
from ..layers.conv import Conv2D
from ..layers.conv_transpose import Conv2DTranspose
from ..layers.cropping import Cropping2D, ZeroPadding2D
from ..layers.dense import Dense
from ..layers.dropout import Dropout, SpatialDropout1D, SpatialDropout2D
from ..layers.gaussian_noise import GaussianNoise
from ..layers.global_pooling import GlobalAvgPool2D, GlobalMaxPool2D
from ..layers.merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from ..layers.normalization import Normalization
from ..layers.pooling import AvgPool2D, MaxPool2D
from ..layers.prelu import PReLU
from ..layers.random_affine import RandomRotation, RandomTranslation, RandomZoom
from ..layers.random_color import RandomBrightness, RandomContrast
from ..layers.rescaling import Rescaling
from ..layers.reshape import Flatten, Permute, RepeatVector, Reshape
from ..layers.upsampling import UpSampling2D


@dataclass(frozen=True)
class Value:
    """A tensor of the ONNX graph: its ``name``, one sample's ``shape`` in nnscratch's (channels-last)
    order, and whether the tensor itself is held channels-first (4-D tensors only)."""

    name: str
    shape: tuple[int, ...]
    channels_first: bool = False

    def renamed(self, name: str) -> Value:
        """The same shape and layout under another name (the output of an element-wise op)."""
        return replace(self, name=name)


Converter = Callable[[Any, Any, list[Value]], Any]
CONVERTERS: dict[type, Converter] = {}


def register_onnx_converter(layer_class: type, fn: Converter) -> None:
    """Export layers of exactly ``layer_class`` with ``fn(ex, layer, inputs) -> Value | list[Value]``."""
    if not isinstance(layer_class, type) or not callable(fn):
        raise InvalidTypeError(f"register_onnx_converter takes a layer class and a function, "
                               f"got {layer_class!r}, {fn!r}")
    CONVERTERS[layer_class] = fn


def converter_for(layer: Any) -> Converter | None:
    """The converter registered for ``type(layer)``, or None."""
    return CONVERTERS.get(type(layer))


def _register(*classes: type) -> Callable[[Converter], Converter]:
    def decorate(fn: Converter) -> Converter:
        for cls in classes:
            register_onnx_converter(cls, fn)
        return fn
    return decorate


# ---------------------------------------------------------------- activations and pass-through layers
@_register(Identity, Dropout, SpatialDropout1D, SpatialDropout2D, GaussianNoise, RandomFlip, RandomShift,
           RandomRotation, RandomZoom, RandomTranslation, RandomContrast, RandomBrightness)
def _identity(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """The identity at inference: no node (dropout and augmentation act only in training)."""
    return inputs[0]


def unary(op: str, **attributes: Callable[[Any], Any]) -> Converter:
    """A converter to the element-wise ``op``; each attribute's value is read from the layer."""
    def convert(ex: Any, layer: Any, inputs: list[Value]) -> Value:
        v = inputs[0]
        attrs = {key: read(layer) for key, read in attributes.items()}
        return v.renamed(ex.node(op, [v.name], hint=layer.name, **attrs))
    return convert


register_onnx_converter(Sigmoid, unary("Sigmoid"))
register_onnx_converter(Tanh, unary("Tanh"))
register_onnx_converter(LeakyReLU, unary("LeakyRelu", alpha=lambda layer: float(layer.alpha)))
register_onnx_converter(ELU, unary("Elu", alpha=lambda layer: float(layer.alpha)))


@_register(GELU)
def _gelu(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """Tanh form, from basic ops: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    v, h = inputs[0], layer.name
    x = v.name
    cube = ex.node("Mul", [x, ex.node("Mul", [x, x], hint=h)], hint=h)
    inner = ex.node("Add", [x, ex.node("Mul", [cube, ex.scalar(0.044715, "gelu_a")], hint=h)], hint=h)
    t = ex.node("Tanh", [ex.node("Mul", [inner, ex.scalar(np.sqrt(2 / np.pi), "gelu_c")], hint=h)], hint=h)
    half_x = ex.node("Mul", [x, ex.scalar(0.5, "half")], hint=h)
    return v.renamed(ex.node("Mul", [half_x, ex.node("Add", [t, ex.scalar(1.0, "one")], hint=h)], hint=h))


# ---------------------------------------------------------------- layers with weights
@_register(Dense)
def _dense(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Gemm(x, W, b)``: the weight ``(in, units)`` is already ONNX's B; then the activation. On sequences
    ``(N, ..., in)``: ``MatMul`` (which maps the last axis) and ``Add``."""
    v = inputs[0]
    x, w = ex.native(v), ex.weight(layer.weight, f"{layer.name}.weight")
    b = ex.weight(layer.bias, f"{layer.name}.bias") if layer.bias is not None else None
    if len(v.shape) == 1:
        z = ex.node("Gemm", [x, w] + ([b] if b is not None else []), hint=layer.name)
    else:
        z = ex.node("MatMul", [x, w], hint=layer.name)
        z = ex.node("Add", [z, b], hint=layer.name) if b is not None else z
    return ex.convert(layer.activation, [Value(z, (*v.shape[:-1], layer.units))])


@_register(Conv2D)
def _conv2d(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Conv`` on channels-first data, weights ``(KH, KW, C, OC) -> (OC, C, KH, KW)``, TensorFlow's
    asymmetric "same" padding as explicit pads; then the activation (still channels-first)."""
    x = ex.channels_first(inputs[0])
    names = [x, ex.weight(layer.weight, f"{layer.name}.weight", lambda w: w.transpose(3, 2, 0, 1))]
    if layer.bias is not None:
        names.append(ex.weight(layer.bias, f"{layer.name}.bias"))
    y = ex.node("Conv", names, hint=layer.name, kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
                dilations=list(layer.dilation), pads=onnx_pads(layer.pads), group=1)
    return ex.convert(layer.activation, [Value(y, layer.output_shape, True)])


@_register(Conv2DTranspose)
def _conv2d_transpose(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``ConvTranspose``, weights ``(KH, KW, F, C) -> (C, F, KH, KW)``: the full scatter cropped by ``pads``
    to the layer's output, with ``output_padding`` for the cells past the scatter (zeros, as in the layer)."""
    x = ex.channels_first(inputs[0])
    names = [x, ex.weight(layer.weight, f"{layer.name}.weight", lambda w: w.transpose(3, 2, 0, 1))]
    if layer.bias is not None:
        names.append(ex.weight(layer.bias, f"{layer.name}.bias"))
    begin, end, extra = [], [], []
    for i, size in enumerate(inputs[0].shape[:2]):
        out, before, full = layer.geometry(i, size)
        extra.append(max(before + out - full, 0))
        begin.append(before)
        end.append(full + extra[-1] - before - out)
    y = ex.node("ConvTranspose", names, hint=layer.name, kernel_shape=list(layer.kernel_size),
                strides=list(layer.strides), dilations=list(layer.dilation_rate), pads=begin + end,
                output_padding=extra, group=1)
    return ex.convert(layer.activation, [Value(y, layer.output_shape, True)])


def onnx_pads(pads: tuple[tuple[int, int], tuple[int, int]]) -> list[int]:
    """nnscratch's ``((top, bottom), (left, right))`` as ONNX's ``[top, left, bottom, right]``."""
    (top, bottom), (left, right) = pads
    return [int(top), int(left), int(bottom), int(right)]


@_register(BatchNorm)
def _batchnorm(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """Inference mode (running statistics): ONNX ``BatchNormalization`` on ``(N, C)`` or channels-first
    images; other ranks as ``(x - mean) * (gamma / sqrt(var + eps)) + beta`` over the last axis."""
    v, h = inputs[0], layer.name
    if len(v.shape) in (1, 3):
        stats = [ex.weight(p, f"{h}.{key}") for key, p in
                 (("gamma", layer.gamma), ("beta", layer.beta), ("running_mean", layer.running_mean),
                  ("running_var", layer.running_var))]
        x = ex.native(v) if len(v.shape) == 1 else ex.channels_first(v)
        y = ex.node("BatchNormalization", [x, *stats], hint=h, epsilon=float(layer.eps))
        return Value(y, v.shape, len(v.shape) == 3)
    dtype = layer.gamma.data.dtype
    scale = layer.gamma.data / np.sqrt(layer.running_var.data + dtype.type(layer.eps))
    centred = ex.node("Sub", [v.name, ex.channel_vector(v, layer.running_mean.data, f"{h}.mean")], hint=h)
    scaled = ex.node("Mul", [centred, ex.channel_vector(v, scale, f"{h}.scale")], hint=h)
    return v.renamed(ex.node("Add", [scaled, ex.channel_vector(v, layer.beta.data, f"{h}.beta")], hint=h))


@_register(Normalization)
def _normalization(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``(x - mean) * (1 / std)`` per entry of the last (channel) axis, in whichever layout ``x`` is."""
    v, h = inputs[0], layer.name
    if layer.mean is None:
        raise NotBuiltError(f"cannot export Normalization layer '{h}': it has no statistics yet (call adapt(x) first)")
    centred = ex.node("Sub", [v.name, ex.channel_vector(v, layer.mean, f"{h}.mean")], hint=h)
    return v.renamed(ex.node("Mul", [centred, ex.channel_vector(v, 1 / layer.std, f"{h}.inv_std")], hint=h))


@_register(Rescaling)
def _rescaling(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``x * scale + offset``; a per-channel scale or offset broadcasts over the channel axis."""
    v, h = inputs[0], layer.name

    def constant(value: Any, what: str) -> str:
        return (ex.scalar(value, f"{h}.{what}") if isinstance(value, float)
                else ex.channel_vector(v, np.asarray(value), f"{h}.{what}"))

    scaled = ex.node("Mul", [v.name, constant(layer.scale, "scale")], hint=h)
    return v.renamed(ex.node("Add", [scaled, constant(layer.offset, "offset")], hint=h))


# ---------------------------------------------------------------- pooling and shapes
def _pool(op: str, **extra: int) -> Converter:
    def convert(ex: Any, layer: Any, inputs: list[Value]) -> Value:
        x = ex.channels_first(inputs[0])
        y = ex.node(op, [x], hint=layer.name, kernel_shape=list(layer.pool_size), strides=list(layer.strides),
                    pads=onnx_pads(layer.pads), **extra)
        return Value(y, layer.output_shape, True)
    return convert


register_onnx_converter(MaxPool2D, _pool("MaxPool"))  # padded cells never win (ONNX pads MaxPool with -inf)
register_onnx_converter(AvgPool2D, _pool("AveragePool", count_include_pad=0))  # padded cells not counted


def _global_pool(op: str, reduce: str) -> Converter:
    """``op`` on ONNX's NCHW layout; a layer with ``data_format="channels_first"`` holds ``(N, C, H, W)`` itself:
    ``reduce`` (``ReduceMean``/``ReduceMax``) over axes 2 and 3 of it."""
    def convert(ex: Any, layer: Any, inputs: list[Value]) -> Value:
        if getattr(layer, "data_format", "channels_last") == "channels_first":
            v, keep = inputs[0], bool(getattr(layer, "keepdims", False))
            y = ex.node(reduce, [ex.native(v)], hint=layer.name, axes=[2, 3], keepdims=int(keep))
            return Value(y, (v.shape[0], 1, 1) if keep else (v.shape[0],))
        pooled = ex.node(op, [ex.channels_first(inputs[0])], hint=layer.name)  # (N, C, 1, 1)
        if getattr(layer, "keepdims", False):
            return Value(pooled, (1, 1, inputs[0].shape[-1]), True)
        return Value(ex.node("Flatten", [pooled], hint=layer.name, axis=1), (inputs[0].shape[-1],))
    return convert


register_onnx_converter(GlobalAvgPool2D, _global_pool("GlobalAveragePool", "ReduceMean"))
register_onnx_converter(GlobalMaxPool2D, _global_pool("GlobalMaxPool", "ReduceMax"))


def _spatial(v: Value, values: tuple[int, int], fill: int) -> list[int]:
    """``(height, width)`` values as a list over the four axes of ``v`` in its layout, ``fill`` elsewhere."""
    return [fill, fill, *values] if v.channels_first else [fill, *values, fill]


@_register(ZeroPadding2D)
def _zero_padding(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v, ((top, bottom), (left, right)) = inputs[0], layer.padding
    pads = ex.constant(np.array(_spatial(v, (top, left), 0) + _spatial(v, (bottom, right), 0), np.int64),
                       f"{layer.name}.pads")
    h, w, c = v.shape
    return Value(ex.node("Pad", [v.name, pads], hint=layer.name), (h + top + bottom, w + left + right, c),
                 v.channels_first)


@_register(Cropping2D)
def _cropping(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v, ((top, bottom), (left, right)) = inputs[0], layer.cropping
    h, w, c = v.shape
    starts, ends = np.array([top, left], np.int64), np.array([h - bottom, w - right], np.int64)
    axes = np.array([2, 3] if v.channels_first else [1, 2], np.int64)
    names = [ex.constant(a, f"{layer.name}.{k}") for k, a in (("starts", starts), ("ends", ends), ("axes", axes))]
    return Value(ex.node("Slice", [v.name, *names], hint=layer.name), (h - top - bottom, w - left - right, c),
                 v.channels_first)


@_register(UpSampling2D)
def _upsampling(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """Nearest-neighbour ``Resize`` by whole factors: each pixel repeated ``size`` times (floor of x / size)."""
    v, (sh, sw) = inputs[0], layer.size
    scales = ex.constant(np.array(_spatial(v, (sh, sw), 1), np.float32), f"{layer.name}.scales")
    y = ex.node("Resize", [v.name, "", scales], hint=layer.name, mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    h, w, c = v.shape
    return Value(y, (h * sh, w * sw, c), v.channels_first)


@_register(Reshape, Flatten)
def _reshape(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """``Reshape`` of the channels-last tensor (so a flattened image keeps nnscratch's NHWC order); the
    0 in the target shape keeps the (dynamic) batch size."""
    v = inputs[0]
    known = int(np.prod([d for d in layer.target_shape if d != -1]))
    target = tuple(int(np.prod(v.shape)) // known if d == -1 else d for d in layer.target_shape)
    shape = ex.constant(np.array([0, *layer.target_shape], np.int64), f"{layer.name}.shape")
    return Value(ex.node("Reshape", [ex.native(v), shape], hint=layer.name), target)


@_register(Permute)
def _permute(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v = inputs[0]
    return Value(ex.node("Transpose", [ex.native(v)], hint=layer.name, perm=[0, *layer.dims]),
                 tuple(v.shape[d - 1] for d in layer.dims))


@_register(RepeatVector)
def _repeat_vector(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    v, h = inputs[0], layer.name
    column = ex.node("Unsqueeze", [v.name, ex.constant(np.array([1], np.int64), f"{h}.axis")], hint=h)
    repeats = ex.constant(np.array([1, layer.n, 1], np.int64), f"{h}.repeats")
    return Value(ex.node("Tile", [column, repeats], hint=h), (layer.n, *v.shape))


@_register(PReLU)
def _prelu(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    """ONNX ``PRelu`` in nnscratch's layout, the slopes broadcasting as the layer's ``alpha``."""
    v = inputs[0]
    slope = ex.weight(layer.alpha, f"{layer.name}.alpha")
    return Value(ex.node("PRelu", [ex.native(v), slope], hint=layer.name), v.shape)


# ---------------------------------------------------------------- merge layers
def _same_layout(ex: Any, inputs: list[Value]) -> tuple[list[str], Value]:
    """The inputs' names in one layout (channels-first only if all are) and a value of that layout."""
    if all(v.channels_first for v in inputs):
        return [v.name for v in inputs], inputs[0]
    return [ex.native(v) for v in inputs], replace(inputs[0], channels_first=False)


def _chain(op: str) -> Converter:
    """``((x0 op x1) op x2) ...``: the order nnscratch computes in."""
    def convert(ex: Any, layer: Any, inputs: list[Value]) -> Value:
        names, like = _same_layout(ex, inputs)
        out = names[0]
        for name in names[1:]:
            out = ex.node(op, [out, name], hint=layer.name)
        return like.renamed(out)
    return convert


def _variadic(op: str) -> Converter:
    def convert(ex: Any, layer: Any, inputs: list[Value]) -> Value:
        names, like = _same_layout(ex, inputs)
        return like.renamed(ex.node(op, names, hint=layer.name))
    return convert


register_onnx_converter(Add, _chain("Add"))
register_onnx_converter(Subtract, _chain("Sub"))
register_onnx_converter(Multiply, _chain("Mul"))
register_onnx_converter(Maximum, _variadic("Max"))
register_onnx_converter(Minimum, _variadic("Min"))


@_register(Average)
def _average(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    total = _chain("Add")(ex, layer, inputs)
    return total.renamed(ex.node("Mul", [total.name, ex.scalar(1 / len(inputs), f"{layer.name}.1/n")], hint=layer.name))


@_register(Concatenate)
def _concatenate(ex: Any, layer: Any, inputs: list[Value]) -> Value:
    names, like = _same_layout(ex, inputs)
    rank = len(like.shape) + 1
    axis = layer.axis % rank
    shape = list(like.shape)
    shape[axis - 1] = sum(v.shape[axis - 1] for v in inputs)
    return Value(ex.node("Concat", names, hint=layer.name, axis=ex.axis(like, axis)), tuple(shape), like.channels_first)
