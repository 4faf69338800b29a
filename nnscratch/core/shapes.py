"""Per-sample shapes, with axes of variable size (``None``): parsing them, checking arrays against them, and
a layer's output shape for them.

``Input(shape=(None, 16))`` takes sequences of any length. A layer whose weights and calls do not depend on
the size of that axis (``Embedding``, the recurrent layers, ``Conv1D``, ``Dense`` on the last axis, global
pooling, attention, ...) is built for the shape with ``None`` in it and then called on arrays of any size
there. One that needs the size (a ``Flatten`` before a ``Dense``, a ``Reshape``) gets one ``ShapeError``
when the model is put together. The output shape comes from calls on zeros for an empty batch, shape
``(0, ...)``, which allocate nothing the size of an activation: one call for a fixed shape; for a variable
one, calls with the ``None`` axes ``PROBE_SIZES[0]`` and ``PROBE_SIZES[1]`` long, and an output axis whose size
differs between them is ``None`` too.
"""

from __future__ import annotations

import math
import warnings
from contextvars import ContextVar
from typing import Any

import numpy as np

from . import limits
from .call import Call
from .errors import InvalidValueError, NNScratchError, ShapeError

# Two sizes a variable axis takes when a layer's output shape is probed: one twice the other, so an output
# size that depends on the input's (a convolution, strided pooling) differs between the two calls. Sizes no
# layer is likely to have by itself: a sub-layer built during the probe by a layer written with call()
# takes an axis of this size as variable too (``lazy_shape``).
PROBE_SIZES = (37, 74)
# A layer that cannot take them is probed once more with these: one whose values bound the axis (a learned
# position embedding of a few rows, keras-io's PositionalEmbedding) takes short sequences only.
SHORT_PROBE_SIZES = (1, 2)
_probing: ContextVar[int | None] = ContextVar("nnscratch_variable_probe", default=None)

Shape = tuple[int | None, ...]


class SampleShape(tuple):
    """A per-sample shape (no batch axis) whose axes may be ``None``. ``build`` takes a plain tuple that starts
    with ``None`` for Keras's batch shape and drops that axis; it keeps a ``SampleShape`` as it is, so a layer
    that builds its children for its own input shape passes it on unchanged (``Bidirectional``)."""


def is_variable(shape: Any) -> bool:
    """Whether ``shape`` (a tuple, or a list of them for several inputs) has an axis of variable size."""
    if isinstance(shape, list):
        return any(is_variable(s) for s in shape)
    return None in shape


def fits(actual: tuple[int, ...], expected: Shape) -> bool:
    """Whether an array's per-sample shape ``actual`` matches ``expected``, where ``None`` takes any size."""
    return len(actual) == len(expected) and all(e is None or a == e for a, e in zip(actual, expected))


def known_size(shape: Shape) -> int:
    """The number of values per sample, counting a variable axis as 1 (its size is unknown)."""
    return math.prod(1 if d is None else d for d in shape)


def parse(value: Any, what: str, error: type[Exception] = ShapeError) -> Shape:
    """``value`` (an int, or a tuple/list of positive ints and ``None``) as a per-sample shape tuple; ``error``
    otherwise."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value),)
    if not isinstance(value, (tuple, list)) or not all(
            d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0) for d in value):
        raise error(f"{what} must be a tuple of positive integers or None (one sample's shape, without the "
                    f"batch axis; None: any size), got {value!r}")
    return tuple(None if d is None else int(d) for d in value)


def output_shape(layer: Any, input_shape: Any) -> Any:
    """The per-sample output shape(s) of ``layer`` for per-sample input shape(s) ``input_shape``: calls on zeros
    (an empty batch). With variable axes, ``layer`` is built for ``input_shape`` itself first."""
    if not is_variable(input_shape):
        return _probe(layer, input_shape)
    try:
        if not layer.built:
            layer.build([SampleShape(s) for s in input_shape] if isinstance(input_shape, list)
                        else SampleShape(input_shape))
    except (TypeError, ShapeError, InvalidValueError) as exc:
        raise _variable_axis_error(layer, input_shape, exc) from None
    try:
        first, second = (_variable_probe(layer, input_shape, size) for size in PROBE_SIZES)
    except (TypeError, ShapeError, InvalidValueError) as exc:
        try:  # (no sub-layer is built for these sizes' axes: the first probe built them)
            first, second = (_probe(layer, sized(input_shape, size)) for size in SHORT_PROBE_SIZES)
        except Exception:  # noqa: BLE001  (a second try only: the first error says what is wrong)
            raise _variable_axis_error(layer, input_shape, exc) from None
    if isinstance(first, list):
        return [_merge(a, b) for a, b in zip(first, second)]
    return _merge(first, second)


def is_probing() -> bool:
    """Whether ``output_shape`` is probing a layer's variable axes (``lazy_shape``)."""
    return _probing.get() is not None


def lazy_shape(shape: Any) -> Any:
    """The shape a sub-layer that a layer written with call() builds from its first input (per-sample ``shape``,
    or a list of them) is built for: that shape, but while ``output_shape`` probes the enclosing layer's variable
    axes, with ``None`` on the axes of the probe's size (they come from a variable axis: the layer passes its
    sequence, or positions as long, to an Embedding, a Dense, a Sequential...)."""
    size = _probing.get()
    if size is None:
        return shape
    if isinstance(shape, list):
        return [lazy_shape(s) for s in shape]
    return SampleShape(None if d == size else d for d in shape)


def _probe(layer: Any, input_shape: Any) -> Any:
    """The output shape(s) of one call on zeros for an empty batch, ``(0, *input_shape)``: no array the size of
    an activation is allocated, however large the shapes. A layer that cannot take an empty batch (a NumPy error,
    not one of nnscratch's own, which says what is wrong with the shapes) is called on one sample instead.
    Within the build's ``limits.activation_ceiling``, one sample's input is checked before the call and its
    output after (so before that one-sample call's output feeds another layer)."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a mean over no samples: the shapes are what we read
            return call_on_zeros(layer, input_shape, 0)
    except EmptyBatchError:
        pass
    except NNScratchError:
        raise
    except Exception:  # noqa: BLE001, S110  (the call on one sample below raises whatever is really wrong)
        pass
    return call_on_zeros(layer, input_shape, 1)


class EmptyBatchError(ShapeError):
    """A layer's output for an empty batch did not keep that batch axis (``call_on_zeros``)."""


def call_on_zeros(layer: Any, input_shape: Any, batch: int) -> Any:
    """The per-sample output shape(s) of ``layer`` called on zeros ``(batch, *input_shape)`` (one array per
    shape of a list), within the build's ``limits.activation_ceiling`` (checked for one sample)."""
    itemsize = np.dtype(layer.dtype).itemsize

    def zeros(shape: Any) -> Any:
        if isinstance(shape, list):
            return [zeros(s) for s in shape]
        limits.check_activation((1, *shape), itemsize, f"an input of layer '{layer.name}'")
        return np.zeros((batch, *shape), layer.dtype)
    out = layer.forward_call(Call(training=False, input_grad=False), zeros(input_shape))
    outs = out if isinstance(out, (list, tuple)) else [out]
    for o in outs:
        limits.check_activation((1, *o.shape[1:]), o.dtype.itemsize, f"an output of layer '{layer.name}'")
        if batch == 0 and (o.ndim == 0 or o.shape[0] != 0):  # (one sample's output may lack the axis, as before)
            raise EmptyBatchError(f"{layer.name} gave an output of shape {o.shape} for an empty batch")
    return [o.shape[1:] for o in outs] if isinstance(out, (list, tuple)) else out.shape[1:]


def _variable_axis_error(layer: Any, input_shape: Any, exc: Exception) -> ShapeError:
    shown = ", ".join(_show(s) for s in input_shape) if isinstance(input_shape, list) else _show(input_shape)
    why = ("it needs the size of every axis" if isinstance(exc, TypeError)  # (arithmetic on None)
           else str(exc).rstrip("."))
    return ShapeError(f"{layer.name} ({type(layer).__name__}) cannot take inputs of shape {shown}, with an axis of "
                      f"variable size (None): {why}. Give the Input a fixed size there (for sequences: pad them "
                      f"to one length, shape=(maxlen, ...))")


def _variable_probe(layer: Any, input_shape: Any, size: int) -> Any:
    token = _probing.set(size)
    try:
        return _probe(layer, sized(input_shape, size))
    finally:
        _probing.reset(token)


def sized(shape: Any, size: int) -> Any:
    """``shape`` with every ``None`` axis ``size`` long."""
    if isinstance(shape, list):
        return [sized(s, size) for s in shape]
    return tuple(size if d is None else d for d in shape)


def _merge(a: tuple[int, ...], b: tuple[int, ...]) -> Shape:
    return tuple(x if x == y else None for x, y in zip(a, b))


def _show(shape: Shape) -> str:
    return "(batch, " + ", ".join(map(str, shape)) + ")"
