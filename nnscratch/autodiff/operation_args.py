"""The JSON form of an ``Operation``'s arguments: where its input tensors go, and the constants.

An ``Operation`` applies one op to its input tensors and constant arguments (``ops.mean(x, axis=1)``,
``x[:, 0]``, ``x * 0.5``). Its config holds the call's arguments as JSON values:

- numbers, booleans, None, strings and lists as themselves;
- ``{"__tensor__": i}``: the node's ``i``-th input tensor;
- ``{"__tuple__": [...]}``: a tuple (an index ``x[:, 0]`` is the tuple ``(slice(None), 0)``, not a list);
- ``{"__slice__": [start, stop, step]}`` and ``{"__ellipsis__": true}``, for indexing;
- ``{"__array__": nested list, "dtype": "float32", "shape": [...]}``: a NumPy array or scalar (booleans,
  integers or floats);
- a NumPy dtype or scalar type (``ops.cast(x, np.float64)``) is kept as its name.

At most ``MAX_VALUES`` numbers in all: a larger constant belongs in a layer's weights. ``encode`` gives that
form for a call's arguments (``Slot`` where the tensors go); ``decode`` reads it back and refuses anything
else, as a model file is untrusted input: one ``InvalidValueError`` that says what is wrong.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError

MAX_VALUES = 65_536  # numbers in one operation's constant arguments
MAX_DEPTH = 32  # nesting of lists and tuples
MAX_STRING = 1_000  # characters of a string argument (einsum subscripts, a dtype, a padding mode)
_KINDS = "biuf"  # booleans, integers, floats: the arrays an op takes


class Slot:
    """Where the node's ``index``-th input tensor goes in an op's arguments."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Slot) and other.index == self.index

    def __hash__(self) -> int:
        return hash(("Slot", self.index))

    def __repr__(self) -> str:
        return f"<tensor {self.index}>"


class _Budget:
    """The numbers an operation's arguments may still hold."""

    def __init__(self) -> None:
        self.left = MAX_VALUES

    def take(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise InvalidValueError(f"the constant arguments hold more than {MAX_VALUES:,} numbers: an array that "
                                    f"large belongs in a layer's weights (a layer of your own with add_weight)")


def encode_call(args: Any, kwargs: Any) -> tuple[list[Any], dict[str, Any]]:
    """The JSON form of positional ``args`` and keyword ``kwargs`` (``Slot`` where a tensor goes)."""
    budget = _Budget()
    return ([_encode(a, budget, 0) for a in args],
            {str(k): _encode(v, budget, 0) for k, v in kwargs.items()})


def decode_call(args: Any, kwargs: Any) -> tuple[list[Any], dict[str, Any]]:
    """``args`` (a list) and ``kwargs`` (a dict by argument name) read back from their JSON form."""
    if not isinstance(args, (list, tuple)):
        raise InvalidTypeError(f"an operation's args must be a list, got {type(args).__name__}")
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) and k.isidentifier() for k in kwargs):
        raise InvalidTypeError(f"an operation's kwargs must be a dict by argument name, got {kwargs!r:.100}")
    budget = _Budget()
    return [_decode(a, budget, 0) for a in args], {k: _decode(v, budget, 0) for k, v in kwargs.items()}


def slots(value: Any) -> list[int]:
    """The tensor indices in decoded arguments, in order of appearance."""
    if isinstance(value, Slot):
        return [value.index]
    if isinstance(value, (list, tuple)):
        return [i for item in value for i in slots(item)]
    if isinstance(value, dict):
        return [i for item in value.values() for i in slots(item)]
    return []


def fill(value: Any, tensors: Any) -> Any:
    """Decoded arguments with each ``Slot`` replaced by its tensor."""
    if isinstance(value, Slot):
        return tensors[value.index]
    if type(value) is list or type(value) is tuple:
        return type(value)(fill(item, tensors) for item in value)
    return value


# ---------------------------------------------------------------- encoding (a call's arguments)
def _encode(value: Any, budget: _Budget, depth: int) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return _string(value) if isinstance(value, str) else value
    if isinstance(value, Slot):
        return {"__tensor__": value.index}
    if isinstance(value, (np.ndarray, np.generic)):  # (before float: np.float64 is one, and keeps its dtype here)
        array = np.asarray(value)
        _dtype(array.dtype.name)
        budget.take(array.size)
        return {"__array__": array.tolist(), "dtype": array.dtype.name, "shape": list(array.shape)}
    if isinstance(value, int):
        budget.take(1)
        return int(value)
    if isinstance(value, float):
        budget.take(1)
        return float(value)
    if isinstance(value, (list, tuple)):
        if depth >= MAX_DEPTH:
            raise InvalidValueError(f"the arguments are nested more than {MAX_DEPTH} deep")
        items = [_encode(v, budget, depth + 1) for v in value]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, slice):
        return {"__slice__": [_index(v, "a slice's bounds") for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, np.dtype) or (isinstance(value, type) and (issubclass(value, np.generic)
                                                                    or value in (bool, int, float))):
        return _dtype(np.dtype(value).name).name
    raise InvalidTypeError(f"a {type(value).__name__} cannot be kept in a model's graph: an operation's constant "
                           f"arguments are numbers, booleans, None, strings, lists or tuples of them, slices, "
                           f"Ellipsis and NumPy arrays (of booleans, integers or floats)")


def _index(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    raise InvalidTypeError(f"{what} must be integers or None, got {value!r:.100}")


def _string(value: str) -> str:
    if len(value) > MAX_STRING:
        raise InvalidValueError(f"a string argument is longer than {MAX_STRING} characters")
    return value


def _dtype(name: Any) -> np.dtype:
    try:
        dtype = np.dtype(name) if isinstance(name, str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in _KINDS:
        raise InvalidValueError(f"an operation's constant arrays hold booleans, integers or floats, got dtype "
                                f"{name!r:.100}")
    return dtype


# ---------------------------------------------------------------- decoding (a config, maybe from a file)
_TAGS = ("__tensor__", "__tuple__", "__slice__", "__ellipsis__", "__array__")


def _decode(value: Any, budget: _Budget, depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (int, float)):
        budget.take(1)
        return value
    if depth >= MAX_DEPTH:
        raise InvalidValueError(f"the arguments are nested more than {MAX_DEPTH} deep")
    if isinstance(value, list):
        return [_decode(v, budget, depth + 1) for v in value]
    if not isinstance(value, dict):
        raise InvalidTypeError(f"an operation's arguments are JSON values (numbers, booleans, null, strings, lists "
                               f"and the tagged objects {', '.join(_TAGS)}), got a {type(value).__name__}")
    tag = next((t for t in _TAGS if t in value), None)
    keys = {tag, "dtype", "shape"} if tag == "__array__" else {tag}
    if tag is None or set(value) != keys:
        raise InvalidValueError(f"unknown argument entry {value!r:.100}: an object in an operation's arguments is "
                                f"one of {', '.join(_TAGS)}")
    item = value[tag]
    if tag == "__tensor__":
        if not isinstance(item, int) or isinstance(item, bool) or item < 0:
            raise InvalidValueError(f"a tensor reference must be a non-negative integer, got {item!r:.100}")
        return Slot(item)
    if tag == "__tuple__":
        if not isinstance(item, list):
            raise InvalidTypeError(f"a tuple's items must be a list, got {item!r:.100}")
        return tuple(_decode(v, budget, depth + 1) for v in item)
    if tag == "__slice__":
        if not isinstance(item, list) or len(item) != 3:
            raise InvalidValueError(f"a slice must be [start, stop, step], got {item!r:.100}")
        return slice(*(_index(v, "a slice's bounds") for v in item))
    if tag == "__ellipsis__":
        if item is not True:
            raise InvalidValueError(f"Ellipsis is written {{\"__ellipsis__\": true}}, got {item!r:.100}")
        return Ellipsis
    return _array(item, value["dtype"], value["shape"], budget)


def _array(values: Any, dtype_name: Any, shape: Any, budget: _Budget) -> Any:
    dtype = _dtype(dtype_name)
    if not isinstance(shape, list) or len(shape) > MAX_DEPTH or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise InvalidValueError(f"an array's shape must be a list of non-negative integers, got {shape!r:.100}")
    budget.take(math.prod(shape))
    if not _numbers(values, shape):
        raise InvalidValueError(f"an array's values must be numbers in nested lists of its shape {shape}")
    try:
        array = np.asarray(values, dtype=dtype).reshape(shape)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidValueError(f"an array of dtype {dtype.name} cannot hold its values: {exc}") from None
    return array[()] if array.ndim == 0 else array


def _numbers(values: Any, shape: list[int]) -> bool:
    """Whether ``values`` is a number (shape ``[]``) or nested lists of them of exactly ``shape``."""
    if not shape:
        return isinstance(values, (bool, int, float))
    return (isinstance(values, list) and len(values) == shape[0]
            and all(_numbers(v, shape[1:]) for v in values))
