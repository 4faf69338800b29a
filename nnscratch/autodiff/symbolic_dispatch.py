"""``nnscratch.ops``'s functions on symbolic tensors: called with a ``SymbolicTensor`` among its arguments, a public
op returns the output(s) of a new ``Operation`` node (``operation.symbolic_call``) instead of computing.

The test runs at every call of an op, in the hot loops of layers written with ``call`` too, so it is as cheap as
can be: ``nnscratch.ops`` exports, for each op, a function generated with the op's own signature, whose first
line compares ``type(argument) is SymbolicTensor`` for each argument (and looks into the list of
``concatenate``/``stack`` and ``einsum``'s operands) and which then calls the op with the arguments unchanged:
no ``*args`` packing, no loop, about 0.1 µs per call. A symbolic tensor deeper in another argument is not
looked for (NumPy then refuses it: "a symbolic tensor has no values").

Keras's special cases: ``ops.shape(x)`` is the static shape ``(None, ...)``; ``ops.convert_to_tensor(x)`` is
``x`` itself (a cast when given another dtype); ``convert_to_numpy`` and the creation functions never make nodes.
The generated function keeps the op's name, docstring and signature (``__wrapped__`` is the op itself).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from ..core.tensor import SymbolicTensor
from .operation import NOT_NODES, symbolic_call

# Arguments that hold a list of tensors (besides ``*operands``), looked into.
_SEQUENCES = {("concatenate", "xs"), ("stack", "xs")}


def dispatching(functions: Iterable[tuple[str, Callable[..., Any]]]) -> dict[str, Callable[..., Any]]:
    """``{name: fn}`` with each op that may make a node replaced by its dispatching function."""
    return {name: fn if name in NOT_NODES and name != "shape" else _dispatching(name, fn) for name, fn in functions}


def _any_symbolic(items: Any) -> bool:
    return (type(items) is list or type(items) is tuple) and any(type(t) is SymbolicTensor for t in items)


def _node(name: str, required: tuple, optional: dict[str, Any], defaults: dict[str, Any]) -> Any:
    """The node of op ``name``; the optional arguments left at their defaults stay out of its config."""
    return symbolic_call(name, required, {k: v for k, v in optional.items() if v is not defaults[k]})


def _convert_to_tensor(x: SymbolicTensor, dtype: Any = None) -> Any:
    return x if dtype is None else symbolic_call("cast", (x, dtype))


_SPECIAL: dict[str, Callable[..., Any]] = {
    "shape": lambda x: x.shape,  # Keras's ops.shape of a KerasTensor: (None, ...)
    "convert_to_tensor": _convert_to_tensor,
}


def _dispatching(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` behind one test of its arguments (generated source, see the module's docstring)."""
    namespace: dict[str, Any] = {"_S": SymbolicTensor, "_fn": fn, "_any": _any_symbolic, "_node": _node,
                                 "_name": name, "_special": _SPECIAL.get(name)}
    params, call, tests, required, optional, defaults = [], [], [], [], [], {}
    for i, p in enumerate(inspect.signature(fn).parameters.values()):
        if p.kind is p.VAR_POSITIONAL:
            params.append(f"*{p.name}")
            call.append(f"*{p.name}")
            required.append(f"*{p.name}")
            tests.append(f"_any({p.name})")
            continue
        if p.kind is not p.POSITIONAL_OR_KEYWORD:
            raise TypeError(f"ops.{name}: cannot dispatch a {p.kind.description} parameter ({p.name})")
        call.append(p.name)
        tests.append(f"type({p.name}) is _S")
        if (name, p.name) in _SEQUENCES:
            tests.append(f"_any({p.name})")
        if p.default is p.empty:
            params.append(p.name)
            required.append(p.name)
        else:
            namespace[f"_d{i}"] = defaults[p.name] = p.default
            params.append(f"{p.name}=_d{i}")
            optional.append(f"{p.name!r}: {p.name}")
    namespace["_defaults"] = defaults
    symbolic = (f"_special({', '.join(call)})" if name in _SPECIAL else
                f"_node(_name, ({''.join(r + ', ' for r in required)}), {{{', '.join(optional)}}}, _defaults)")
    source = (f"def {name}({', '.join(params)}):\n"
              f"    if {' or '.join(tests)}:\n"
              f"        return {symbolic}\n"
              f"    return _fn({', '.join(call)})\n")
    exec(compile(source, f"<nnscratch.ops.{name}>", "exec"), namespace)
    return functools.update_wrapper(namespace[name], fn)
