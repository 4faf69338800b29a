"""``Workspace``: scratch arrays a layer call reuses from one step to the next.

A workspace belongs to one call site (a ``Call``), never to a layer: a layer used at two places in a
graph has two workspaces, so one call's buffers never overwrite another's outputs or gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import DTypeLike

T = TypeVar("T")


class Workspace:
    """Scratch arrays a layer reuses from call to call; all are dropped when the input shape or dtype changes."""

    def __init__(self) -> None:
        self._key: tuple = ()
        self._arrays: dict[str, np.ndarray] = {}
        self._memos: dict[str, Any] = {}

    def use(self, x: np.ndarray) -> None:
        """Key the workspace to ``x``'s shape and dtype (call at the start of every forward)."""
        key = (x.shape, x.dtype)
        if key != self._key:
            self._key, self._arrays, self._memos = key, {}, {}

    def get(self, name: str, shape: tuple[int, ...], fill: float | None = None, dtype: DTypeLike | None = None,
            order: Literal["C", "F"] = "C") -> np.ndarray:
        """The array ``name``, created on first request (filled with ``fill`` when given, else uninitialized)."""
        arr = self._arrays.get(name)
        if arr is None:
            dtype = self._key[1] if dtype is None else dtype
            arr = np.empty(shape, dtype, order) if fill is None else np.full(shape, fill, dtype, order)
            self._arrays[name] = arr
        return arr

    def memo(self, name: str, make: Callable[[], T]) -> T:
        """``name``, computed by ``make()`` on first request (index tables, taps: what depends on the shape)."""
        value = self._memos.get(name)
        if value is None:
            value = self._memos[name] = make()
        return value
