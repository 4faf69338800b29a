"""Limits while a model file is turned back into a model: a budget of weight values, a ceiling on activations.

Building an architecture allocates its weights; a hostile record (a ``Dense`` of 10**12 units) would
allocate gigabytes before anything could be compared with the file. ``load_model`` builds inside
``weight_budget(n)``, ``n`` being the number of weight values the file actually holds (``model_from_json``,
whose text holds no weights, within its ``max_weights``): each initializer
claims its array's size first (``claim``), and the first claim past the budget ends the build with one
clear error, nothing allocated.

Building also calls each layer on zeros to learn its output shape (``core.shapes``), for an empty batch, which
allocates nothing. Within ``activation_ceiling(nbytes)`` (``load_model``: ``io.model_file.MAX_TENSOR_BYTES``)
one sample's input and output of each layer must stay within ``nbytes``; a layer that cannot take an empty
batch is called on one sample, its input checked before it is allocated.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import ModelFileError

_budget: ContextVar[list | None] = ContextVar("nnscratch_weight_budget", default=None)  # [left, total, why]
_ceiling: ContextVar[tuple[int, str] | None] = ContextVar("nnscratch_activation_ceiling", default=None)


@contextmanager
def weight_budget(elements: int, allowed: str = "the file holds") -> Iterator[None]:
    """Within, weights may be created for at most ``elements`` values in all (``allowed`` says why, in errors)."""
    token = _budget.set([int(elements), int(elements), allowed])
    try:
        yield
    finally:
        _budget.reset(token)


def claim(shape: tuple[int, ...]) -> None:
    """Count a new weight array of ``shape`` against the budget (no limit outside ``weight_budget``)."""
    budget = _budget.get()
    if budget is None:
        return
    n = math.prod(shape)
    if n > budget[0]:
        raise ModelFileError(f"the architecture asks for more weights than {budget[2]} ({budget[1]:,} values): "
                             f"a weight of shape {shape} ({n:,} values) is past the budget")
    budget[0] -= n


@contextmanager
def activation_ceiling(nbytes: int, named: str) -> Iterator[None]:
    """Within, each array of a layer's shape probe may hold at most ``nbytes`` (``named``: the setting, in errors)."""
    token = _ceiling.set((int(nbytes), named))
    try:
        yield
    finally:
        _ceiling.reset(token)


def check_activation(shape: tuple[int, ...], itemsize: int, what: str) -> None:
    """Refuse an activation of ``shape`` (``itemsize`` bytes a value) past the ceiling (none outside one)."""
    ceiling = _ceiling.get()
    if ceiling is None:
        return
    nbytes = math.prod(shape) * itemsize
    if nbytes > ceiling[0]:
        raise ModelFileError(f"the architecture makes {what} of shape {shape} ({nbytes:,} bytes for one sample), "
                             f"more than the limit of {ceiling[0]:,} bytes ({ceiling[1]})")
