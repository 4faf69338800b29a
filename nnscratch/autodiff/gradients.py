"""Asking for gradients: the ``record()`` tape (``watch`` / ``gradient``) and ``vjp`` for code written with ops.

    with record() as tape:                  # or simply Tensor(a, requires_grad=True) and loss.backward()
        w = tape.watch(w_array)
        loss = ops.mean(ops.square(x @ w - y))
    dw = tape.gradient(loss, w)

    out, backward = vjp(fn, x, [w, b])      # fn(x, [w, b]) written with ops, on arrays
    dx, (dw, db) = backward(grad_out)       # grads shaped like the arguments; None where there is none
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError
from .tape import Tensor, _owned, _seed_grad, backprop, enable_grad

_UNCONNECTED = ("none", "zero")


class Tape:
    """Handed out by ``record()``: ``watch`` arrays, then ask for ``gradient``s of results computed from them."""

    def __init__(self) -> None:
        self.watched: list[Tensor] = []

    def watch(self, x: Any) -> Tensor:
        """A leaf Tensor (requires grad) holding ``x``'s value; compute with it, then ask for its gradient.

        A Tensor that already requires grad is returned as it is.
        """
        t = x if isinstance(x, Tensor) and x.requires_grad else Tensor(x, requires_grad=True)
        self.watched.append(t)
        return t

    def gradient(self, target: Tensor, sources: Any, output_gradient: Any = None,
                 unconnected: str = "none") -> Any:
        """d(target)/d(sources): one array per source (a list for a list/tuple, one array for one Tensor).

        ``output_gradient`` (shape of ``target``) weights the target's entries; by default ones, i.e. the
        gradient of ``sum(target)``. A source ``target`` does not depend on gets None, or zeros when
        ``unconnected="zero"``. The tape can be asked again (the graph is kept until it is dropped).
        """
        if unconnected not in _UNCONNECTED:
            raise InvalidValueError(f"unconnected must be 'none' or 'zero', got {unconnected!r}")
        single = isinstance(sources, Tensor)
        srcs = [sources] if single else list(sources)
        for s in srcs:
            if not isinstance(s, Tensor):
                raise InvalidTypeError(f"gradient sources must be Tensors (from tape.watch), got {type(s).__name__}")
        if not isinstance(target, Tensor) or not target.requires_grad:
            grads: list[Any] = [None] * len(srcs)
        else:
            g = np.ones_like(target.data) if output_gradient is None else _seed_grad(target, output_gradient)
            grads = [None if r is None else _owned(r) for r in backprop([target], [g], srcs)]
        if unconnected == "zero":
            grads = [np.zeros_like(s.data) if r is None else r for s, r in zip(srcs, grads)]
        return grads[0] if single else grads


@contextmanager
def record() -> Iterator[Tape]:
    """A block in which ops on watched Tensors are recorded (even inside ``no_grad``); yields a ``Tape``."""
    with enable_grad():
        yield Tape()


GradientTape = record


# ---------------------------------------------------------------- vjp
def _map(tree: Any, fn: Callable[[Any], Any]) -> Any:
    """``fn`` applied to every leaf of nested tuples/lists/dicts, keeping the nesting."""
    kind = type(tree)
    if kind is tuple or kind is list:
        return kind([_map(t, fn) for t in tree])
    if kind is dict:
        return {k: _map(v, fn) for k, v in tree.items()}
    return fn(tree)


def _leaves(tree: Any) -> list[Any]:
    found: list[Any] = []
    _map(tree, found.append)
    return found


def _watched(leaf: Any) -> Any:
    """A floating-point array (or Tensor that requires grad) as a fresh leaf Tensor; anything else (a
    constant Tensor included) passes unchanged."""
    if isinstance(leaf, Tensor):
        return Tensor(leaf.data, requires_grad=True) if leaf.requires_grad else leaf
    if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
        return Tensor(leaf, requires_grad=True)
    return leaf


def vjp(fn: Callable[..., Any], *args: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """Run ``fn(*args)`` once and return ``(out, backward)``: the vector-Jacobian product of code written with ops.

    ``args`` may be arrays or nested tuples/lists/dicts of them (e.g. ``vjp(fn, x, [w, b])`` for inputs and
    parameters); every floating-point ndarray in them (and every Tensor that requires grad, as a new leaf)
    is watched and ``fn`` receives it as a Tensor; everything else (integer arrays, Python numbers, None,
    constant Tensors) is passed as it is: wrap an input in ``Tensor(x)`` to skip its gradient (a first layer).
    ``out`` is ``fn``'s result with Tensors turned into arrays (a single array, or the same nesting).
    ``backward(grad_out)`` takes dLoss/dout (same nesting as ``out``; None means ones) and returns a tuple
    with one entry per argument, nested like it: dLoss/d(that array), or None for leaves that are not
    watched or that ``out`` does not depend on. It may be called several times; returned grads may share
    memory with ``grad_out``.
    """
    sources: list[Tensor] = []

    def watch(leaf: Any) -> Any:
        t = _watched(leaf)
        if t is not leaf:
            sources.append(t)
        return t

    inputs = _map(args, watch)
    with enable_grad():
        result = fn(*inputs)
    outs = [result] if isinstance(result, Tensor) else _leaves(result)
    out = result.data if isinstance(result, Tensor) else _map(result, lambda o: o.data if isinstance(o, Tensor) else o)

    def backward(grad_out: Any = None) -> tuple:
        seeds = [None] * len(outs) if grad_out is None else ([grad_out] if len(outs) == 1 else _leaves(grad_out))
        if len(seeds) != len(outs):
            raise InvalidValueError(f"vjp backward got {len(seeds)} output gradients for {len(outs)} outputs; "
                                    "expected one per output, nested like the output")
        targets, grads = [], []
        for o, s in zip(outs, seeds):
            if isinstance(o, Tensor) and o.requires_grad:
                targets.append(o)
                grads.append(np.ones_like(o.data) if s is None else _seed_grad(o, s))
        found = backprop(targets, grads, sources) if targets else [None] * len(sources)
        by_id = {id(t): g for t, g in zip(sources, found) if g is not None}
        return _map(inputs, lambda t: _owned(by_id[id(t)]) if id(t) in by_id else None)

    return out, backward
