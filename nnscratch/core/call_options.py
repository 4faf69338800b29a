"""Options given to one call of a layer on arrays: Keras's ``attention(q, v, return_attention_scores=True)``.

Such an option holds for that call only: it is kept in a context variable for the call's duration (so a layer
called from two threads at once, each with its own option, sees its own), and the layer's attribute of that
name, its setting for every other call (and in a graph, where a node keeps one setting), does not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_given: ContextVar[dict[int, dict[str, Any]] | None] = ContextVar("nnscratch_call_options", default=None)


@contextmanager
def call_options(layer: Any, options: dict[str, Any]) -> Iterator[None]:
    """Within the block, ``option(layer, name)`` is ``options[name]`` for the names given (this thread only)."""
    current = _given.get() or {}
    token = _given.set({**current, id(layer): {**current.get(id(layer), {}), **options}})
    try:
        yield
    finally:
        _given.reset(token)


def option(layer: Any, name: str) -> Any:
    """``layer``'s option ``name`` for the call running now: the value its caller gave, else the attribute."""
    given = (_given.get() or {}).get(id(layer))
    if given is not None and name in given:
        return given[name]
    return getattr(layer, name)
