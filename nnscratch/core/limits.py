"""A budget of weight elements while a model file is turned back into a model.

Building an architecture allocates its weights; a hostile record (a ``Dense`` of 10**12 units) would
allocate gigabytes before anything could be compared with the file. ``load_model`` builds inside
``weight_budget(n)``, ``n`` being the number of weight values the file actually holds (``model_from_json``,
whose text holds no weights, within its ``max_weights``): each initializer
claims its array's size first (``claim``), and the first claim past the budget ends the build with one
clear error, nothing allocated.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import ModelFileError

_budget: ContextVar[list | None] = ContextVar("nnscratch_weight_budget", default=None)  # [left, total, why]


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
