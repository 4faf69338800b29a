"""``Operation``: one ``nnscratch.ops`` function applied in a graph (Keras 3's operations on symbolic tensors).

``x + inputs``, ``x * 0.5``, ``x[:, 0]`` or ``keras.ops.mean(x, axis=1)`` on symbolic tensors (``keras.Input`` and
the outputs of layers called on it) each add a node to the graph: an ``Operation`` layer that applies that op to
the node's input tensors with the call's constant arguments. It is written with ``call`` (the tape differentiates
it, as a ``Lambda``) and has no weights; unlike a ``Lambda`` it is saved: its config names the op and keeps the
arguments as JSON values (``operation_args``), and a model file may name only the public ops (``catalog``).

As in Keras, the layer is named after its op (``add``, ``add_1``, ``mean``, ``getitem``...), and an op drops the
mask of a masked input (with the warning of any layer without ``supports_masking``). nnscratch's graphs carry
the batch axis first, so an op must keep it there (``ops.mean(x, axis=1)``, not ``ops.mean(x)`` or ``axis=0``:
one ``ShapeError`` when the node is made), and one float dtype: integer and boolean results (``argmax``,
``x > 0``) come out as floats, as integer ``Input``s are carried.

``symbolic_call(name, args, kwargs)`` makes such a node. ``nnscratch.ops``'s functions call it when given a
symbolic tensor (``symbolic_dispatch``), and ``SymbolicTensor``'s operators through ``SymbolicTensor.operation_hook``,
which this module installs (the core does not import autodiff).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import limits, shapes
from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError, ModelFileError, ShapeError
from ..core.layer import Layer
from ..core.naming import unique_name
from ..core.tensor import SymbolicTensor
from .convert import cast
from .operation_args import Slot, decode_call, encode_call, fill, slots

# Public ops that never make a node: they read no tensor (creation), or give no tensor of the graph.
NOT_NODES = frozenset({"arange", "eye", "full", "ones", "zeros", "shape", "convert_to_numpy"})
_functions: dict[str, Callable[..., Any]] = {}


def functions() -> dict[str, Callable[..., Any]]:
    """The ops an ``Operation`` may apply, by name: ``nnscratch.ops``'s functions (``catalog``) but ``NOT_NODES``."""
    if not _functions:
        from . import catalog  # (on first use: ``import nnscratch`` does not load every op module)

        _functions.update((name, getattr(catalog, name)) for name in catalog.__all__ if name not in NOT_NODES)
    return _functions


class Operation(Layer):
    """``Operation(op, args, kwargs)``: ``nnscratch.ops.<op>(*args, **kwargs)`` on the node's input tensors.

    ``args`` and ``kwargs`` are in their JSON form (``operation_args``): ``{"__tensor__": i}`` where the node's
    ``i``-th input goes, constants around it. Made by ``symbolic_call`` rather than by hand:
    ``keras.ops.mean(x, axis=1)`` is ``Operation("mean", [{"__tensor__": 0}], {"axis": 1})(x)``.
    """

    checks_dtype = False  # no weights: it takes the graph's float dtype, whichever

    def __init__(self, op: str, args: Any = (), kwargs: Any = None, **base: Any) -> None:
        fn = functions().get(op) if isinstance(op, str) else None
        if fn is None:
            raise InvalidValueError(f"unknown operation {op!r:.100}: an Operation applies one of nnscratch.ops's "
                                    f"functions ({', '.join(sorted(functions()))})")
        values, keywords = decode_call(args, {} if kwargs is None else kwargs)
        found = sorted(set(slots([values, keywords])))
        if not found or found != list(range(len(found))):
            raise InvalidValueError(f"operation {op}: its arguments must refer to input tensors 0, 1, ... each "
                                    f"(one at least), got tensors {found}")
        try:
            inspect.signature(fn).bind(*values, **keywords)
        except TypeError as exc:
            raise InvalidTypeError(f"operation {op}: {exc}") from None
        name = base.pop("name", None)
        super().__init__(name=name if name is not None else unique_name(op), **base)
        self.op, self.fn, self.n_inputs = op, fn, len(found)
        self.op_args, self.op_kwargs = values, keywords

    def call(self, inputs: Any) -> Any:
        tensors = inputs if self.n_inputs > 1 else (inputs,)
        out = self.fn(*fill(self.op_args, tensors), **{k: fill(v, tensors) for k, v in self.op_kwargs.items()})
        return [self._as_graph_dtype(o) for o in out] if isinstance(out, (list, tuple)) else self._as_graph_dtype(out)

    def _as_graph_dtype(self, out: Any) -> Any:
        """``out`` in the layer's float dtype (an integer or boolean result, a float64 constant's promotion)."""
        dtype = getattr(out, "dtype", None)
        if dtype is None:
            raise InvalidTypeError(f"{self.name}: ops.{self.op} gave a {type(out).__name__}, not an array")
        return out if dtype == self.dtype else cast(out, self.dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The shapes probed on zeros (``core.shapes``), once more for batches of 1 and 2 samples: the op must keep
        the batch axis first, the same size, and the rest of the output's shape whatever the batch size (those
        batches within the build's ``limits.activation_ceiling``)."""
        with np.errstate(all="ignore"):  # zeros through log, 1/x...: the probe reads the shapes only
            out = shapes.output_shape(self, input_shape)
            for batch in (1, 2):
                self._check_batch(input_shape, out, batch)
        return out

    def _check_batch(self, input_shape: Any, out: Any, batch: int) -> None:
        sized = shapes.sized(input_shape, shapes.PROBE_SIZES[0])
        for shape in (sized if isinstance(sized, list) else [sized]) + (out if isinstance(out, list) else [out]):
            limits.check_activation((batch, *shapes.sized(shape, shapes.PROBE_SIZES[1])),
                                    np.dtype(self.dtype).itemsize, f"a batch of {batch} through layer '{self.name}'")
        xs = ([np.zeros((batch, *s), self.dtype) for s in sized] if isinstance(sized, list)
              else np.zeros((batch, *sized), self.dtype))
        ys = self.forward_call(Call(training=False, input_grad=False), xs)
        for y, expected in zip(ys if isinstance(ys, list) else [ys], out if isinstance(out, list) else [out]):
            if y.ndim == 0 or y.shape[0] != batch or not shapes.fits(y.shape[1:], expected):
                raise ShapeError(
                    f"{self.name}: ops.{self.op} on symbolic tensors must keep the batch axis (axis 0, the samples) "
                    f"first and act on each sample alike; with these arguments a batch of {batch} sample(s) of shape "
                    f"{input_shape} gives shape {y.shape}. Reduce, index, reshape or transpose the other axes "
                    f"(axis=1, x[:, 0], reshape(x, (-1, ...)))")

    def get_config(self) -> dict[str, Any]:
        args, kwargs = encode_call(self.op_args, self.op_kwargs)
        return {"op": self.op, "args": args, "kwargs": kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Operation:
        """An Operation from its config; anything wrong in it (a model file is untrusted) is a ``ModelFileError``."""
        try:
            return cls(**config)
        except (InvalidValueError, TypeError) as exc:
            raise ModelFileError(f"bad configuration for an Operation layer: {exc}") from None

    def __repr__(self) -> str:
        return f"Operation({self.op!r}, name={self.name!r})"


def symbolic_call(name: str, args: Any, kwargs: Any = None) -> Any:
    """The symbolic output(s) of a new ``Operation`` node: the op ``name`` applied to ``args`` and ``kwargs``, whose
    ``SymbolicTensor``s (also in lists and tuples) become the node's inputs, each once, and the rest constants."""
    inputs: list[SymbolicTensor] = []
    positions: dict[int, int] = {}

    def templated(value: Any) -> Any:
        if type(value) is SymbolicTensor:
            if id(value) not in positions:
                positions[id(value)] = len(inputs)
                inputs.append(value)
            return Slot(positions[id(value)])
        if type(value) is list or type(value) is tuple:
            return type(value)(templated(v) for v in value)
        return value

    template = [templated(a) for a in args]
    keywords = {k: templated(v) for k, v in (kwargs or {}).items()}
    try:
        encoded, encoded_kwargs = encode_call(template, keywords)
    except InvalidValueError as exc:
        raise type(exc)(f"ops.{name} on symbolic tensors: {exc}") from None
    layer = Operation(name, encoded, encoded_kwargs)
    return layer(inputs if len(inputs) > 1 else inputs[0])


SymbolicTensor.operation_hook = symbolic_call
